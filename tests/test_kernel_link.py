"""KernelLink: Nadaraya–Watson link against a brute-force twin, derivative, fallbacks, errors."""

import numpy as np
import pytest

from _kleinspady_helpers import brute_kernel_sums_at, install_brute_kernels_if_missing
from semiparam.links import KernelLink
from semiparam.links.kernel import rule_of_thumb_bandwidth

install_brute_kernels_if_missing()

KERNELS = ["epanechnikov", "biweight", "triweight", "gaussian"]


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n)
    z = (rng.uniform(size=n) < 1 / (1 + np.exp(-2 * v))).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    return v, z, w


@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_brute_force(kernel):
    v, z, w = _data()
    link = KernelLink(kernel=kernel, bandwidth=0.4).fit(v, z, sample_weight=w)
    q = np.linspace(-2.5, 2.5, 41)
    S0, S1 = brute_kernel_sums_at(q, v, np.column_stack([w * z, w]), 0.4, kernel, derivative=True)
    g = S0[:, 0] / S0[:, 1]
    dg = (S1[:, 0] - g * S1[:, 1]) / (0.4 * S0[:, 1])
    np.testing.assert_allclose(link(q), g, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(link.derivative(q), dg, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("kernel", ["biweight", "gaussian"])
def test_derivative_matches_finite_differences(kernel):
    v, z, w = _data(seed=1)
    link = KernelLink(kernel=kernel, bandwidth=0.5).fit(v, z, sample_weight=w)
    q = np.linspace(-1.5, 1.5, 13)
    eps = 1e-6
    fd = (link(q + eps) - link(q - eps)) / (2 * eps)
    np.testing.assert_allclose(link.derivative(q), fd, rtol=1e-5, atol=1e-7)


def test_fallback_far_from_data_is_nearest_fitted_value():
    v = np.array([0.0, 0.1, 0.2, 5.0, 5.1])
    z = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    link = KernelLink(kernel="epanechnikov", bandwidth=0.3).fit(v, z)
    out = link(np.array([-10.0, 2.6, 20.0]))
    assert np.all(np.isfinite(out))
    # -10 is nearest to v=0, 20 to v=5.1: the in-sample fitted values there
    assert out[0] == pytest.approx(link(np.array([0.0]))[0])
    assert out[2] == pytest.approx(1.0)
    assert np.all(link.derivative(np.array([-10.0, 20.0])) == 0.0)
    assert link(np.array([[0.1, 5.0]])).shape == (1, 2)  # shape kept


def test_bandwidth_rules():
    v, z, _ = _data(n=500)
    sil = KernelLink(kernel="gaussian", bandwidth="silverman").fit(v, z)
    assert sil.bandwidth_ == pytest.approx(1.06 * v.std() * 500 ** -0.2)
    epa = rule_of_thumb_bandwidth(1.0, 500, "epanechnikov") / rule_of_thumb_bandwidth(1.0, 500, "gaussian")
    assert epa == pytest.approx(2.214, abs=1e-3)
    cv = KernelLink(kernel="epanechnikov", bandwidth="cv").fit(v, z)
    assert 0.01 * v.std() <= cv.bandwidth_ <= 2 * v.std()
    # the CV choice is no worse (leave-one-out MSE) than the rule of thumb
    from semiparam._kernels import kernel_sums

    def loo_mse(h):
        S0, _, _ = kernel_sums(v, np.column_stack([z, np.ones_like(z)]), h, "epanechnikov")
        g = np.where(S0[:, 1] > 0, S0[:, 0] / np.maximum(S0[:, 1], 1e-300), z.mean())
        return np.mean((z - g) ** 2)

    h_rot = rule_of_thumb_bandwidth(v.std(), 500, "epanechnikov")
    assert loo_mse(cv.bandwidth_) <= loo_mse(h_rot) + 1e-12


def test_zero_weight_points_are_ignored():
    v, z, w = _data(n=200)
    w[::3] = 0.0
    a = KernelLink(kernel="biweight", bandwidth=0.5).fit(v, z, sample_weight=w)
    b = KernelLink(kernel="biweight", bandwidth=0.5).fit(v[w > 0], z[w > 0], sample_weight=w[w > 0])
    q = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(a(q), b(q), rtol=1e-12)
    assert a.n_samples_fit_ == int(np.sum(w > 0))


def test_errors():
    v, z, _ = _data(n=50)
    with pytest.raises(ValueError, match="kernel"):
        KernelLink(kernel="box").fit(v, z)
    with pytest.raises(ValueError, match="bandwidth"):
        KernelLink(bandwidth=-1.0).fit(v, z)
    with pytest.raises(ValueError, match="bandwidth"):
        KernelLink(bandwidth="scott").fit(v, z)
    with pytest.raises(ValueError, match="different lengths"):
        KernelLink().fit(v, z[:-1])
    with pytest.raises(ValueError, match="NaN"):
        KernelLink().fit(np.r_[v[:-1], np.nan], z)
    with pytest.raises(ValueError, match="nonnegative"):
        KernelLink().fit(v, z, sample_weight=-np.ones_like(v))
    with pytest.raises(ValueError, match="zero for every point"):
        KernelLink().fit(v, z, sample_weight=np.zeros_like(v))
    with pytest.raises(AttributeError, match="not fitted"):
        KernelLink()(v)
    link = KernelLink(bandwidth=0.5).fit(v, z)
    with pytest.raises(ValueError, match="NaN"):
        link(np.array([np.nan]))


def test_plot_smoke():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    v, z, _ = _data(n=100)
    ax = KernelLink(bandwidth=0.5).fit(v, z).plot()
    assert ax.get_xlabel() == "index"


def test_gaussian_link_far_from_the_data_follows_the_formula():
    """Far beyond the underflow distance the Gaussian link tends to the nearest fitted
    point's outcome (the formula's limit, sums taken relative to the nearest point's
    kernel weight), continuously, instead of switching to a fallback."""
    v = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    z = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    link = KernelLink(kernel="gaussian", bandwidth=0.05).fit(v, z)
    q = np.array([-100.0, -1.9, -2.0, -2.1, 2.3, 2.4, 50.0])  # 38-42 h and beyond
    g = link(q)
    np.testing.assert_allclose(g[:4], 1.0, atol=1e-12)  # the point at 0 has z = 1
    np.testing.assert_allclose(g[4:], 0.0, atol=1e-12)  # the point at 0.4 has z = 0
    # between two points: the weighted mix of the formula, also beyond underflow
    link2 = KernelLink(kernel="gaussian", bandwidth=0.01).fit(np.array([0.0, 1.0]),
                                                                np.array([0.0, 1.0]))
    u0, u1 = 0.5001 / 0.01, 0.4999 / 0.01
    expect = 1.0 / (1.0 + np.exp(-0.5 * (u0**2 - u1**2)))
    assert link2(np.array([0.5001]))[0] == pytest.approx(expect, rel=1e-10)


@pytest.mark.parametrize("kernel", ["epanechnikov", "gaussian"])
def test_local_slope_is_the_local_linear_slope(kernel):
    """``local_slope`` equals a dense weighted least-squares line per query point, is
    exact for a linear mean, and falls back to ``derivative`` where no points lie."""
    rng = np.random.default_rng(3)
    v = 2.0 * rng.standard_normal(800) + 5.0
    w = rng.uniform(0.5, 2.0, 800)
    z = 0.3 * v + np.sin(v) + 0.1 * rng.standard_normal(800)
    link = KernelLink(kernel=kernel, bandwidth=0.4).fit(v, z, sample_weight=w)
    q = np.linspace(1.0, 9.0, 9)
    D = v[None, :] - q[:, None]
    u = D / 0.4
    K = np.where(np.abs(u) < 1, 0.75 * (1 - u**2), 0.0) if kernel == "epanechnikov" \
        else np.exp(-0.5 * u**2)
    K = K * w
    m0, m1, m2 = K.sum(1), (K * D).sum(1), (K * D * D).sum(1)
    t0, t1 = (K * z).sum(1), (K * D * z).sum(1)
    np.testing.assert_allclose(link.local_slope(q), (m0 * t1 - m1 * t0) / (m0 * m2 - m1**2),
                               rtol=1e-8, atol=1e-10)
    line = KernelLink(kernel=kernel, bandwidth=0.4).fit(v, 2.0 - 0.7 * v)
    np.testing.assert_allclose(line.local_slope(q), -0.7, rtol=1e-8)
    if kernel == "epanechnikov":
        far = np.array([-40.0, 60.0])
        np.testing.assert_array_equal(link.local_slope(far), link.derivative(far))


def test_candidate_bandwidths_chosen_by_dense_leave_one_out_log_loss():
    """A sequence of bandwidths: the widest whose link (pseudo-observation included) has a
    leave-one-out log loss within one standard error of the best, against a dense O(n^2)
    computation."""
    rng = np.random.default_rng(3)
    v = rng.standard_normal(300)
    z = (rng.random(300) < 1 / (1 + np.exp(-4 * v))).astype(float)
    w = rng.uniform(0.5, 2.0, 300)
    cands = (0.8, 0.4, 0.2, 0.1, 0.05)
    link = KernelLink(bandwidth=cands, prior_weight=1.0).fit(v, z, sample_weight=w)
    K = lambda u: np.where(np.abs(u) < 1, 0.75 * (1 - u * u), 0.0)  # noqa: E731
    zbar, wbar = (w @ z) / w.sum(), w.mean()
    rows = []
    for h in cands:
        M = K((v[:, None] - v[None, :]) / h) * w[None, :]
        np.fill_diagonal(M, 0.0)
        g = (M @ z + 0.75 * wbar * zbar) / (M.sum(1) + 0.75 * wbar)
        rows.append(-w * (z * np.log(g) + (1 - z) * np.log(1 - g)))
    rows = np.array(rows)
    total = rows.sum(1)
    best = int(np.argmin(total))
    se = [np.sqrt(300 * np.var(rows[k] - rows[best])) for k in range(len(cands))]
    within = [k for k in range(len(cands)) if total[k] - total[best] <= se[k]]
    assert link.bandwidth_ == cands[within[0]]
    # the rule matters here: the widest within one SE is not the best
    assert within[0] != best
    assert KernelLink(bandwidth=[0.3]).fit(v, z).bandwidth_ == 0.3
    for bad in ([0.3, -0.1], [], [np.nan]):
        with pytest.raises(ValueError, match="sequence of positive floats"):
            KernelLink(bandwidth=bad).fit(v, z)


def test_clip_bounds_the_link_but_not_its_derivative():
    rng = np.random.default_rng(5)
    v = rng.standard_normal(300)
    z = (v + 0.3 * rng.standard_normal(300) > 0).astype(float)
    plain = KernelLink(kernel="gaussian", bandwidth=0.2).fit(v, z)
    clipped = KernelLink(kernel="gaussian", bandwidth=0.2, clip=0.05).fit(v, z)
    grid = np.linspace(-3, 3, 41)
    np.testing.assert_allclose(clipped(grid), np.clip(plain(grid), 0.05, 0.95))
    assert clipped(grid).min() == 0.05 and clipped(grid).max() == 0.95
    np.testing.assert_array_equal(clipped.derivative(grid), plain.derivative(grid))
    with pytest.raises(ValueError, match="clip"):
        KernelLink(clip=0.5).fit(v, z)
