"""semiparam.torch losses and link states against direct NumPy computations (float64)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from semiparam.links import IsotonicLink  # noqa: E402
from semiparam.torch import (  # noqa: E402
    IsotonicLinkState,
    KernelLinkState,
    dpo_loss,
    ospo_loss,
    pspo_loss,
    rspo_loss,
)

TOL = 1e-10


def _data(n=300, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(n) * scale
    z = (rng.uniform(size=n) < 1 / (1 + np.exp(-1.5 * t))).astype(float)
    w = rng.uniform(0.5, 2.0, size=n)
    return t, z, w


def _softplus(x):
    return np.logaddexp(0.0, x)


def _reduce(loss, w, reduction):
    wl = loss if w is None else w * loss
    if reduction == "none":
        return wl
    if reduction == "sum":
        return wl.sum()
    return wl.sum() / (len(loss) if w is None else w.sum())


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_dpo_equals_numpy(reduction, weighted):
    t, z, w = _data()
    w = w if weighted else None
    expected = _reduce(-(z * -_softplus(-t) + (1 - z) * -_softplus(t)), w, reduction)
    got = dpo_loss(_t(t), _t(z), None if w is None else _t(w), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), expected, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_rspo_equals_numpy_double_loop(reduction, weighted):
    t, z, w = _data(n=60)
    w = w if weighted else np.ones_like(t)
    m = (2 * z - 1) * t
    row = np.array([sum(w[j] * _softplus(-(m[i] + m[j])) for j in range(len(t))) / w.sum()
                    for i in range(len(t))])
    expected = _reduce(row, w if weighted else None, reduction)
    got = rspo_loss(_t(t), _t(z), _t(w) if weighted else None, reduction=reduction)
    np.testing.assert_allclose(got.numpy(), expected, rtol=TOL, atol=TOL)


def test_rspo_mean_is_augmented_bipartite_ranking_loss():
    # the swap-augmented table [t; -t], [z; 1 - z]: positives vs negatives, all pairs
    t, z, _ = _data(n=40)
    s = np.r_[t, -t]
    y = np.r_[z, 1 - z]
    pos, neg = s[y == 1], s[y == 0]
    expected = np.mean(_softplus(-(pos[:, None] - neg[None, :])))
    np.testing.assert_allclose(rspo_loss(_t(t), _t(z)).item(), expected, rtol=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_isotonic_state_linear_equals_isotonic_link_everywhere(weighted):
    t, z, w = _data()
    w = w if weighted else None
    state = IsotonicLinkState(interpolation="linear", clip=1e-3).refresh(_t(t), z, w)
    ref = IsotonicLink(clip=1e-3).fit(t, z, sample_weight=w)
    np.testing.assert_array_equal(state.link_.thresholds_v_, ref.thresholds_v_)
    q = np.r_[ref.thresholds_v_, np.linspace(t.min() - 1, t.max() + 1, 501)]
    np.testing.assert_allclose(state(_t(q)).numpy(), ref(q), rtol=0, atol=TOL)
    # derivative: the slope of the interpolant (IsotonicLink.derivative), off the knots
    qq = _t(np.linspace(t.min() - 1, t.max() + 1, 499) + 1e-7, grad=True)
    state(qq).sum().backward()
    np.testing.assert_allclose(qq.grad.numpy(), ref.derivative(qq.detach().numpy()),
                               rtol=1e-9, atol=TOL)


def test_isotonic_state_smooth_equals_isotonic_link_at_knots_and_derivative():
    t, z, w = _data()
    state = IsotonicLinkState(clip=1e-4).refresh(t, z, w)
    h = state.link_.bandwidth_
    ref = IsotonicLink(clip=1e-4, interpolation="smooth", bandwidth=h).fit(t, z, sample_weight=w)
    knots = state._host["x"]
    np.testing.assert_allclose(state(_t(knots)).numpy(), ref(knots), rtol=0, atol=TOL)
    # between knots: Hermite error bound (h/32)^4 max|g''''| / 384, far below 1e-6
    q = _t(np.linspace(t.min(), t.max(), 777), grad=True)
    g = state(q)
    g.sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), ref(q.detach().numpy()), atol=1e-7)
    np.testing.assert_allclose(q.grad.numpy(), ref.derivative(q.detach().numpy()),
                               atol=1e-5 * np.abs(ref.derivative(q.detach().numpy())).max())


def _nw_loo(tq, t0, z, w, h, rows):
    """Leave-one-out Gaussian Nadaraya-Watson at queries tq for rows, by a dense loop."""
    K = np.exp(-0.5 * ((tq[:, None] - t0[None, :]) / h) ** 2) / np.sqrt(2 * np.pi)
    K[np.arange(len(rows)), rows] = 0.0
    return (K @ (w * z)) / (K @ w)


def test_kernel_state_loo_link_and_pspo_ospo_equal_numpy():
    t, z, w = _data(n=250)
    state = KernelLinkState(knot_spacing=1 / 400, clip=1e-3).refresh(t, z, w)
    h = state.bandwidth_
    rows = np.arange(len(t))
    rng = np.random.default_rng(3)
    tq = t + 0.05 * rng.standard_normal(len(t))  # queries near, not at, the refresh margins
    g = np.clip(_nw_loo(tq, t, z, w, h, rows), 1e-3, 1 - 1e-3)
    got = state(_t(tq), index=torch.as_tensor(rows))
    np.testing.assert_allclose(got.numpy(), g, rtol=TOL, atol=TOL)
    # at the refresh margins the state's own leave-one-out values agree
    np.testing.assert_allclose(state.loo_link_, np.clip(_nw_loo(t, t, z, w, h, rows), 1e-3,
                                                        1 - 1e-3), rtol=1e-10)
    nll = -(z * np.log(g) + (1 - z) * np.log(1 - g))
    idx = torch.as_tensor(rows)
    for reduction in ("mean", "sum", "none"):
        p = pspo_loss(_t(tq), _t(z), state, _t(w), index=idx, reduction=reduction)
        np.testing.assert_allclose(p.numpy(), _reduce(nll, w, reduction), rtol=TOL, atol=TOL)
        o = ospo_loss(_t(tq), _t(z), state, _t(w), index=idx, reduction=reduction)
        expected = _reduce(nll + state.correction_ * tq, w, reduction)
        np.testing.assert_allclose(o.numpy(), expected, rtol=TOL, atol=TOL)


def test_ospo_gradient_is_the_efficient_score():
    """At the refresh, d(sum_i w_i l_i)/d theta = -sum_i w_i c_i r_i (X_i - E_hat[X | t_i])."""
    rng = np.random.default_rng(1)
    n, p = 200, 4
    X = rng.standard_normal((n, p))
    theta = np.array([1.0, -0.5, 0.3, 0.0])
    t0 = X @ theta
    z = (rng.uniform(size=n) < 0.5 * (1 / (1 + np.exp(-(t0 - 1) * 3)) + 1 / (1 + np.exp(-(t0 + 1) * 3)))).astype(float)
    w = rng.uniform(0.5, 2.0, size=n)
    state = KernelLinkState(knot_spacing=1 / 400).refresh(t0, z, w)
    th = _t(theta, grad=True)
    loss = ospo_loss(_t(X) @ th, _t(z), state, _t(w), index=torch.arange(n), reduction="sum")
    loss.backward()
    # direct efficient score with dense leave-one-out kernel matrices
    h = state.bandwidth_
    K = np.exp(-0.5 * ((t0[:, None] - t0[None, :]) / h) ** 2) / np.sqrt(2 * np.pi)
    np.fill_diagonal(K, 0.0)
    Kd = -((t0[:, None] - t0[None, :]) / h) * K  # K'(u)
    M, N = K @ w, K @ (w * z)
    g = np.clip(N / M, 1e-3, 1 - 1e-3)
    gp = ((Kd @ (w * z)) * M - N * (Kd @ w)) / (M**2 * h)
    gp[g != N / M] = 0.0  # the clamped link is flat where the clip binds
    c = gp / (g * (1 - g))
    EX = (K * w[None, :]) @ X / M[:, None]
    score = ((w * c * (z - g))[:, None] * (X - EX)).sum(axis=0)
    np.testing.assert_allclose(th.grad.numpy(), -score, rtol=1e-8, atol=1e-8 * np.abs(score).max())


def test_gradcheck_all_losses():
    t, z, w = _data(n=40)
    iso = IsotonicLinkState().refresh(t, z, w)
    ker = KernelLinkState().refresh(t, z, w)
    idx = torch.arange(40)
    tq = _t(t + 0.013, grad=True)
    zt, wt = _t(z), _t(w)
    checks = {
        "dpo": lambda m: dpo_loss(m, zt, wt),
        "rspo": lambda m: rspo_loss(m, zt, wt),
        "pspo": lambda m: pspo_loss(m, zt, iso, wt),
        "pspo_kernel": lambda m: pspo_loss(m, zt, ker, wt, index=idx),
        "ospo": lambda m: ospo_loss(m, zt, ker, wt, index=idx),
        "ospo_none": lambda m: ospo_loss(m, zt, ker, index=idx, reduction="none"),
    }
    for name, fn in checks.items():
        assert torch.autograd.gradcheck(fn, (tq,), eps=1e-6, atol=1e-6), name


def test_float32_and_state_reuse_across_dtypes():
    t, z, _ = _data()
    state = KernelLinkState().refresh(t, z)
    g64 = state(_t(t), index=torch.arange(len(t)))
    g32 = state(torch.tensor(t, dtype=torch.float32), index=torch.arange(len(t)))
    assert g32.dtype == torch.float32
    np.testing.assert_allclose(g32.numpy(), g64.numpy(), atol=1e-5)
    assert state.diagnostics()["n_refresh"] == 1
    state.refresh(t * 2, z)
    d = state.diagnostics()
    assert d["n_refresh"] == 2 and d["bandwidth"] > 0 and d["n_knots"] >= 64


def test_bad_input_errors():
    t, z, _ = _data(n=20)
    tt, zt = _t(t), _t(z)
    with pytest.raises(ValueError, match="reduction"):
        dpo_loss(tt, zt, reduction="average")
    with pytest.raises(ValueError, match="NaN"):
        dpo_loss(_t(np.r_[t[:-1], np.nan]), zt)
    with pytest.raises(ValueError, match="shape"):
        dpo_loss(tt, zt[:-1])
    with pytest.raises(ValueError, match="shape"):
        dpo_loss(tt.reshape(4, 5), zt.reshape(4, 5))
    with pytest.raises(ValueError, match="0/1"):
        rspo_loss(tt, zt * 0.5 + 0.25)
    with pytest.raises(ValueError, match="nonnegative"):
        dpo_loss(tt, zt, -torch.ones(20, dtype=torch.float64))
    with pytest.raises(ValueError, match="floating"):
        dpo_loss(torch.arange(20), zt)
    ker = KernelLinkState()
    with pytest.raises(RuntimeError, match="refresh"):
        ker(tt)
    ker.refresh(t, z)
    with pytest.raises(ValueError, match="index"):
        ospo_loss(tt, zt, ker)
    with pytest.raises(ValueError, match="0 .. 19"):
        ospo_loss(tt, zt, ker, index=torch.arange(1, 21))
    with pytest.raises(ValueError, match="KernelLinkState"):
        ospo_loss(tt, zt, IsotonicLinkState().refresh(t, z), index=torch.arange(20))
    with pytest.raises(ValueError, match="kernel"):
        KernelLinkState(kernel="box")
    with pytest.raises(ValueError, match="interpolation"):
        IsotonicLinkState(interpolation="cubic")
    with pytest.raises(ValueError, match="NaN"):
        ker.refresh(np.r_[t[:-1], np.inf], z)
    with pytest.raises(ValueError, match="labels"):
        ker.refresh(t, z + 1)


@pytest.mark.parametrize("kernel", ["epanechnikov", "biweight", "triweight"])
def test_kernel_state_compact_kernels_leave_one_out(kernel):
    from semiparam.links import KERNELS

    t, z, w = _data(n=200, seed=4)
    state = KernelLinkState(kernel=kernel, knot_spacing=1 / 400).refresh(t, z, w)
    h = state.bandwidth_
    tq = t + 0.01
    K = KERNELS[kernel]((tq[:, None] - t[None, :]) / h)
    np.fill_diagonal(K, 0.0)
    M, N = K @ w, K @ (w * z)
    ok = M > 0
    # where the pair has neighbours, the state is the leave-one-out Nadaraya-Watson value
    got = state(_t(tq), index=torch.arange(200)).numpy()
    expected = np.clip(N[ok] / M[ok], 1e-3, 1 - 1e-3)
    # K' of the Epanechnikov (K'' of the biweight) jumps at the window's edge, so a table
    # cell that holds an edge t_j +- h is accurate to O(spacing^2) only: 1e-4 there
    # (measured 1.3e-5 at spacing h/400); the C^2 triweight is exact to rounding
    tol = 1e-9 if kernel == "triweight" else 1e-4
    np.testing.assert_allclose(got[ok], expected, rtol=tol, atol=tol)
    assert np.median(np.abs(got[ok] - expected)) < 1e-9
