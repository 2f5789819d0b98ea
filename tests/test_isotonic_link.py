"""IsotonicLink and pava: agreement with scikit-learn, monotonicity, derivatives, errors.

The oracle is scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` (scikit-learn
>= 1.6, run live): same data, same weights, same ties.
"""

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression, isotonic_regression

from semiparam.links import IsotonicLink
from semiparam.links.isotonic import isotonic_fit, default_bandwidth, pava


def _data(n=400, seed=0, ties=True, weights=True):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=n)
    if ties:
        v = np.round(v, 1)  # many exact ties
    z = (rng.uniform(size=n) < 1 / (1 + np.exp(-2 * v))).astype(float)
    w = rng.uniform(0.2, 2.0, size=n) if weights else None
    return v, z, w


# -- agreement with scikit-learn ------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("increasing", [True, False])
def test_equals_sklearn(seed, ties, increasing):
    v, z, w = _data(seed=seed, ties=ties)
    if not increasing:
        z = 1 - z
    w[:7] = 0.0  # zero weights are dropped, as scikit-learn does
    ours = IsotonicLink(clip=0.0, increasing=increasing).fit(v, z, sample_weight=w)
    ref = IsotonicRegression(out_of_bounds="clip", increasing=increasing).fit(v, z, sample_weight=w)
    np.testing.assert_allclose(ours.thresholds_v_, ref.X_thresholds_)
    np.testing.assert_allclose(ours.thresholds_g_, ref.y_thresholds_, atol=1e-12)
    grid = np.linspace(-5, 5, 2001)
    np.testing.assert_allclose(ours(grid), ref.predict(grid), atol=1e-12)
    np.testing.assert_allclose(ours(v), ref.predict(v), atol=1e-12)


@pytest.mark.parametrize("clip", [1e-4, 0.05])
def test_clip_is_applied_after_interpolation(clip):
    v, z, _ = _data(seed=3)
    ours = IsotonicLink(clip=clip).fit(v, z)
    ref = IsotonicRegression(out_of_bounds="clip").fit(v, z)
    grid = np.linspace(-5, 5, 1001)
    np.testing.assert_allclose(ours(grid), np.clip(ref.predict(grid), clip, 1 - clip), atol=1e-12)
    assert ours(grid).min() >= clip and ours(grid).max() <= 1 - clip


def test_fractional_responses_and_shapes():
    rng = np.random.default_rng(4)
    v = rng.normal(size=200)
    z = np.clip(0.5 + 0.3 * v + 0.1 * rng.normal(size=200), 0, 1)  # values in [0, 1]
    ours = IsotonicLink(clip=0.0).fit(v, z)
    ref = IsotonicRegression(out_of_bounds="clip").fit(v, z)
    grid = np.linspace(-3, 3, 12).reshape(3, 4)
    out = ours(grid)
    assert out.shape == (3, 4) and ours.derivative(grid).shape == (3, 4)
    np.testing.assert_allclose(out.ravel(), ref.predict(grid.ravel()), atol=1e-12)


def test_private_fit_matches_sklearn_function():
    v, z, w = _data(seed=5, ties=False)
    pooled, fu, fitted = isotonic_fit(v, z, w)
    order = np.argsort(v)
    np.testing.assert_allclose(fitted[order], isotonic_regression(z[order], sample_weight=w[order]),
                               atol=1e-12)
    assert np.all(np.diff(pooled.xu) > 0) and np.all(np.diff(fu) >= 0)


# -- monotonicity, interpolation and derivatives --------------------------------------
@pytest.mark.parametrize("interpolation", ["linear", "smooth"])
@pytest.mark.parametrize("increasing", [True, False])
def test_monotone(interpolation, increasing):
    v, z, w = _data(seed=6)
    if not increasing:
        z = 1 - z
    link = IsotonicLink(interpolation=interpolation, increasing=increasing).fit(v, z, w)
    grid = np.linspace(-6, 6, 3001)
    diffs = np.diff(link(grid))
    assert np.all(diffs >= -1e-15) if increasing else np.all(diffs <= 1e-15)
    der = link.derivative(grid)
    assert np.all(der >= 0) if increasing else np.all(der <= 0)
    # flat beyond the ends
    assert link(np.array([-1e6]))[0] == link(np.array([grid[0]]))[0] or interpolation == "smooth"


def test_linear_derivative_is_slope_between_knots():
    v, z, _ = _data(seed=7, ties=False)
    link = IsotonicLink(clip=1e-6).fit(v, z)
    tv = link.thresholds_v_
    mids = 0.5 * (tv[:-1] + tv[1:])  # away from the knots the interpolant is linear
    eps = 1e-4 * np.min(np.diff(tv))
    fd = (link(mids + eps) - link(mids - eps)) / (2 * eps)
    np.testing.assert_allclose(link.derivative(mids), fd, rtol=1e-6, atol=1e-8)
    assert link.derivative(np.array([tv[0] - 1.0, tv[-1] + 1.0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("bandwidth", [None, 0.05, 0.5])
def test_smooth_derivative_matches_finite_differences(bandwidth):
    v, z, w = _data(seed=8)
    link = IsotonicLink(interpolation="smooth", bandwidth=bandwidth, clip=1e-8).fit(v, z, w)
    grid = np.linspace(-3, 3, 301)
    eps = 1e-6
    fd = (link(grid + eps) - link(grid - eps)) / (2 * eps)
    np.testing.assert_allclose(link.derivative(grid), fd, rtol=1e-5, atol=1e-7)
    if bandwidth is not None:
        assert link.bandwidth_ == bandwidth


def test_smooth_tends_to_the_step_function():
    v, z, _ = _data(seed=9, ties=False)
    step = IsotonicLink(clip=0.0).fit(v, z)
    tiny = IsotonicLink(interpolation="smooth", bandwidth=1e-9, clip=0.0).fit(v, z)
    # inside a flat block (between its first and last knot) the value is the block level
    tv, tg = step.thresholds_v_, step.thresholds_g_
    inside = [0.5 * (tv[k] + tv[k + 1]) for k in range(len(tv) - 1) if tg[k] == tg[k + 1]]
    np.testing.assert_allclose(tiny(np.array(inside)), step(np.array(inside)), atol=1e-12)


def test_default_bandwidth_rate_and_invariance():
    rng = np.random.default_rng(10)
    v = rng.normal(size=7000)
    h = default_bandwidth(v)
    assert h == pytest.approx(0.5 * v.std() * 7000 ** (-1 / 7), rel=0.05)
    assert default_bandwidth(3 * v + 1) == pytest.approx(3 * h)
    w = rng.uniform(0.5, 1.5, size=7000)
    assert default_bandwidth(v, w) == pytest.approx(default_bandwidth(v, 10 * w))


def test_constant_and_tiny_inputs():
    link = IsotonicLink(clip=0.0).fit([1.0, 1.0, 1.0], [0, 1, 1])
    assert link.n_blocks_ == 1
    np.testing.assert_allclose(link([-5.0, 1.0, 9.0]), 2 / 3)
    np.testing.assert_allclose(link.derivative([0.0, 1.0]), 0.0)
    one = IsotonicLink(interpolation="smooth").fit([0.0], [1.0])
    assert one(0.3) == pytest.approx(1 - 1e-4)


def test_plot_runs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v, z, _ = _data(seed=11)
    ax = IsotonicLink().fit(v, z).plot()
    assert ax.get_lines()
    plt.close("all")


# -- the public pava function ---------------------------------------------------------
def test_pava_matches_sklearn():
    rng = np.random.default_rng(12)
    y = rng.normal(size=300).cumsum() * 0.1 + rng.normal(size=300)
    w = rng.uniform(0.1, 3, size=300)
    np.testing.assert_allclose(pava(y, sample_weight=w), isotonic_regression(y, sample_weight=w))
    np.testing.assert_allclose(pava(y, increasing=False), isotonic_regression(y, increasing=False))
    np.testing.assert_allclose(pava([1.0, 3.0, 2.0, 4.0]), [1.0, 2.5, 2.5, 4.0])


def test_pava_zero_weights_do_not_influence():
    y = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
    w = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    fit = pava(y, sample_weight=w)
    np.testing.assert_allclose(fit[1:], isotonic_regression(y[1:]))
    assert fit[0] == fit[1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y": [1.0, np.nan]}, "NaN or infinity"),
        ({"y": [[1.0, 2.0], [3.0, 4.0]]}, "one-dimensional"),
        ({"y": []}, "empty"),
        ({"y": [1.0, 2.0], "sample_weight": [1.0, -1.0]}, "negative"),
        ({"y": [1.0, 2.0], "sample_weight": [1.0]}, "shape"),
        ({"y": [1.0, 2.0], "increasing": "yes"}, "bool"),
    ],
)
def test_pava_bad_inputs(kwargs, match):
    y = kwargs.pop("y")
    with pytest.raises(ValueError, match=match):
        pava(y, **kwargs)


# -- bad inputs for the link ----------------------------------------------------------
@pytest.mark.parametrize(
    "v, z, w, match",
    [
        ([0.0, np.nan, 1.0], [0, 1, 1], None, "v contains NaN"),
        ([0.0, np.inf, 1.0], [0, 1, 1], None, "v contains NaN or infinity"),
        ([0.0, 1.0, 2.0], [0, np.nan, 1], None, "z contains NaN"),
        ([0.0, 1.0, 2.0], [0, 1], None, "different lengths"),
        ([0.0, 1.0, 2.0], [0, 2, 1], None, r"\[0, 1\]"),
        ([0.0, 1.0, 2.0], [0, -1, 1], None, r"\[0, 1\]"),
        ([[0.0, 1.0], [1.0, 2.0]], [0, 1], None, "one-dimensional"),
        ([], [], None, "empty"),
        ([0.0, 1.0, 2.0], [0, 1, 1], [1.0, -1.0, 1.0], "negative"),
        ([0.0, 1.0, 2.0], [0, 1, 1], [0.0, 0.0, 0.0], "zero for every row"),
    ],
)
def test_link_bad_inputs(v, z, w, match):
    with pytest.raises(ValueError, match=match):
        IsotonicLink().fit(v, z, sample_weight=w)


@pytest.mark.parametrize(
    "params, name",
    [({"clip": 0.5}, "clip"), ({"clip": -0.1}, "clip"), ({"interpolation": "cubic"},
     "interpolation"), ({"bandwidth": 0.0}, "bandwidth"), ({"increasing": "auto"}, "increasing")],
)
def test_link_bad_parameters(params, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of IsotonicLink must be"):
        IsotonicLink(**params).fit([0.0, 1.0], [0, 1])


def test_link_unfitted_and_nan_queries():
    with pytest.raises(AttributeError, match="not fitted"):
        IsotonicLink()(np.zeros(2))
    link = IsotonicLink().fit([0.0, 1.0], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        link(np.array([0.0, np.nan]))


def test_prior_weight_shrinks_blocks_like_pseudo_counts():
    """prior_weight = a: each block of scikit-learn's isotonic fit gets a pseudo-rows of
    outcome zbar, then the levels are pooled again (here they stay monotone)."""
    rng = np.random.default_rng(4)
    v = rng.normal(size=200)
    z = (rng.uniform(size=200) < 1 / (1 + np.exp(-3 * v))).astype(float)
    w = rng.uniform(0.5, 2.0, size=200)
    ref = IsotonicRegression().fit(v, z, sample_weight=w)
    fit = ref.predict(np.sort(v))
    ws = w[np.argsort(v)]
    zbar = (w @ z) / w.sum()
    a = 2.0 * w.mean()
    levels, out = np.unique(fit), np.empty_like(fit)
    for lev in levels:
        blk = fit == lev
        out[blk] = (ws[blk].sum() * lev + a * zbar) / (ws[blk].sum() + a)
    assert np.all(np.diff(out) >= 0)
    link = IsotonicLink(clip=0.0, prior_weight=2.0).fit(v, z, sample_weight=w)
    np.testing.assert_allclose(link(np.sort(v)), out, atol=1e-12)
    # the end blocks are pure in this sample; the shrunk link stays inside (0, 1)
    assert 0.0 < link(np.array([-10.0]))[0] and link(np.array([10.0]))[0] < 1.0


def test_one_se_choice_prefers_the_smoothest_within_noise():
    from semiparam.links import one_se_choice

    rng = np.random.default_rng(0)
    base = rng.exponential(size=(1, 400))
    noise = 0.05 * rng.standard_normal((3, 400))
    # candidate 2 is best by a hair (within noise), candidate 0 is clearly worse
    losses = base + noise + np.array([[0.3], [0.001], [0.0]])
    assert one_se_choice(losses) == 1
    losses[1] += 0.2  # now only the best remains within one standard error
    assert one_se_choice(losses) == 2
    assert one_se_choice(losses[:1]) == 0


def test_smoothing_bandwidth_chosen_among_candidates():
    """A steep link at large n picks a narrower smoothing than the widest candidate; a
    gentle one keeps the widest; a single candidate or "linear" takes the first."""
    from semiparam.links import IsotonicLink

    rng = np.random.default_rng(1)
    v = rng.standard_normal(5000)
    cands = [0.8, 0.4, 0.2, 0.1, 0.05]
    steep = (rng.random(5000) < 1 / (1 + np.exp(-12 * v))).astype(float)
    gentle = (rng.random(5000) < 1 / (1 + np.exp(-0.5 * v))).astype(float)
    fit = IsotonicLink(interpolation="smooth", prior_weight=1.0, bandwidth=cands).fit(v, steep)
    assert fit.bandwidth_ in cands[1:]
    assert IsotonicLink(interpolation="smooth", bandwidth=cands).fit(v, gentle).bandwidth_ == 0.8
    assert IsotonicLink(interpolation="smooth", bandwidth=[0.3]).fit(v, steep).bandwidth_ == 0.3
    assert IsotonicLink(bandwidth=cands).fit(v, steep).bandwidth_ == 0.8  # linear
    with pytest.raises(ValueError, match="sequence of positive floats"):
        IsotonicLink(bandwidth=[0.3, 0.0]).fit(v, steep)
