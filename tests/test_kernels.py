"""Tests of ``semiparam._kernels`` against its plain-NumPy twins (``_kernels._reference``).

The accuracy contract checked here (stated in ``semiparam._kernels``): for every target
``i`` and column ``c``

    |S0_ic - twin| <= TOL * (sum_j |K_ij| a_j + tiny)
    |S1_ic - twin| <= TOL * (sum_j (|K_ij| + |K'_ij|) a_j + tiny),   a_j = max_c |U_jc|,

with ``TOL = 1e-9`` (the kernels promise 1e-10; measured errors are ~1e-15..1e-12, see
``docs/kernels.md``).  The file also runs under ``NUMBA_DISABLE_JIT=1`` (CI does so once),
so everything that is not marked as needing the JIT uses n <= 300.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from scipy import integrate

import semiparam._kernels as K
from semiparam._kernels import KERNELS, kernel_sums, kernel_sums_at
from semiparam._kernels._reference import (
    kernel_sums_at_reference,
    kernel_sums_reference,
    kernel_value,
    reference_scales,
)

NOJIT = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")
needs_jit = pytest.mark.skipif(NOJIT, reason="too slow without the JIT")

TOL = 1e-9
TINY = 1e-290
NAMES = ["epanechnikov", "biweight", "triweight", "gaussian"]
# (kernel, method): the Gaussian is checked with both of its methods
VARIANTS = [("epanechnikov", "auto"), ("biweight", "auto"), ("triweight", "auto"),
            ("gaussian", "exact"), ("gaussian", "fast")]
VARIANT_IDS = [f"{k}-{m}" for k, m in VARIANTS]


def _as2d(a):
    return a[:, None] if a.ndim == 1 else a


def assert_contract(S0, S1, R0, R1, E0, E1, tol=TOL):
    """Check the accuracy contract, row by row, for all columns."""
    S0, R0 = _as2d(S0), _as2d(R0)
    err0 = np.abs(S0 - R0) / (E0[:, None] + TINY)
    assert err0.max(initial=0.0) <= tol, f"S0 relative error {err0.max():.3g}"
    if R1 is not None:
        S1, R1 = _as2d(S1), _as2d(R1)
        err1 = np.abs(S1 - R1) / (E1[:, None] + TINY)
        assert err1.max(initial=0.0) <= tol, f"S1 relative error {err1.max():.3g}"


def check_loo(v, U, h, kernel, method, derivative=True, tol=TOL):
    S0, S1, order = kernel_sums(v, U, h, kernel, derivative=derivative, method=method)
    assert np.array_equal(np.sort(order), np.arange(len(v)))
    assert np.all(np.diff(np.asarray(v)[order]) >= 0)
    R0, R1 = kernel_sums_reference(v, U, h, kernel, derivative=derivative)
    E0, E1 = reference_scales(v, v, U, h, kernel, loo=True)
    assert S0.shape == R0.shape
    if derivative:
        assert S1.shape == R1.shape
    else:
        assert S1 is None
    assert_contract(S0, S1, R0, R1, E0, E1, tol)
    return S0, S1


# --------------------------------------------------------------------------- data sets
def _datasets():
    rng = np.random.default_rng(20240601)
    n = 240
    sets = {
        "normal": (rng.normal(size=n), 0.3),
        "ties": (np.round(rng.normal(size=n), 1), 0.25),
        "duplicated": (np.repeat(rng.normal(size=n // 4), 4), 0.3),
        "offset_1e6": (rng.normal(size=n) + 1e6, 0.3),
        "many_bandwidths": (rng.uniform(0.0, 1000.0, size=n), 0.7),
        "cauchy": (rng.standard_cauchy(n), 0.5),
        "all_equal": (np.full(40, 2.5), 0.1),
        "lattice_at_h": (np.arange(60) * 0.5, 0.5),  # neighbours exactly on |u| = 1
        "edge_cluster": (np.concatenate([[0.0], np.full(30, 0.999), 0.999 + rng.uniform(0, 0.2, 40)]), 1.0),
        "isolated": (np.concatenate([rng.normal(size=150) * 0.3, [4.0, 9.0, 30.0, -12.0]]), 0.2),
        "clusters": (np.concatenate([rng.normal(size=100) * 0.05, rng.normal(size=100) * 0.05 + 1e3]), 0.1),
    }
    out = {}
    for name, (v, h) in sets.items():
        m = len(v)
        U = np.column_stack([rng.uniform(0.5, 1.5, m), rng.normal(size=m), rng.integers(0, 2, m)])
        out[name] = (v, U, h)
    return out


DATA = _datasets()


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("name", sorted(DATA))
def test_loo_matches_twin(name, kernel, method):
    v, U, h = DATA[name]
    check_loo(v, U, h, kernel, method, derivative=True)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_no_derivative_and_1d(kernel, method):
    v, U, h = DATA["normal"]
    S0, S1, _ = kernel_sums(v, U[:, 1], h, kernel, method=method)
    assert S0.shape == (len(v),) and S1 is None
    R0, _ = kernel_sums_reference(v, U[:, 1], h, kernel)
    E0, _ = reference_scales(v, v, U[:, 1], h, kernel, loo=True)
    assert_contract(S0, None, R0, None, E0, None)
    S0b, S1b, _ = kernel_sums(v, U[:, 1], h, kernel, derivative=True, method=method)
    assert S1b.shape == (len(v),)
    np.testing.assert_allclose(S0b, S0, rtol=0, atol=1e-12 * np.abs(E0).max())


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_weights_with_zeros(kernel, method):
    rng = np.random.default_rng(3)
    v = rng.normal(size=200)
    U = rng.uniform(size=(200, 2))
    U[rng.uniform(size=200) < 0.7] = 0.0  # most rows carry no weight
    U[5] = [1e6, -3.0]  # and one carries a lot
    check_loo(v, U, 0.2, kernel, method)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_scaled_columns(kernel, method):
    rng = np.random.default_rng(4)
    v = rng.normal(size=200)
    U = rng.uniform(size=(200, 2)) * np.array([1e-8, 1e8])
    check_loo(v, U, 0.4, kernel, method)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_n(n, kernel, method):
    v = np.array([0.0, 0.5, 0.5])[:n]
    U = np.arange(1.0, 2 * n + 1).reshape(n, 2)
    S0, S1, order = kernel_sums(v, U, 1.0, kernel, derivative=True, method=method)
    assert S0.shape == (n, 2) and S1.shape == (n, 2) and order.shape == (n,)
    if n == 1:
        assert np.all(S0 == 0.0) and np.all(S1 == 0.0)
    R0, R1 = kernel_sums_reference(v, U, 1.0, kernel, derivative=True)
    E0, E1 = reference_scales(v, v, U, 1.0, kernel, loo=True)
    assert_contract(S0, S1, R0, R1, E0, E1)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_isolated_point_is_exact_zero_or_tiny(kernel, method):
    """A point alone in its window: the leave-one-out sum is 0 (compact) or ~1e-20."""
    v = np.array([0.0, 0.01, 0.02, 0.03, 9.5])
    U = np.ones((5, 2))
    S0, S1, _ = kernel_sums(v, U, 1.0, kernel, derivative=True, method=method)
    R0, R1 = kernel_sums_reference(v, U, 1.0, kernel, derivative=True)
    if kernel == "gaussian":
        assert 0.0 < R0[-1, 0] < 1e-18
        np.testing.assert_allclose(S0[-1], R0[-1], rtol=1e-12)
        np.testing.assert_allclose(S1[-1], R1[-1], rtol=1e-12)
    else:
        assert np.all(S0[-1] == 0.0) and np.all(S1[-1] == 0.0)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_kernel_sums_at(kernel, method):
    rng = np.random.default_rng(5)
    v = rng.normal(size=250)
    U = np.column_stack([rng.uniform(size=250), rng.normal(size=250)])
    q = np.concatenate([rng.normal(size=120) * 1.5, v[:10], [-40.0, 3.7, 1e-9]])
    h = 0.3
    S0, S1 = kernel_sums_at(q, v, U, h, kernel, derivative=True, method=method)
    R0, R1 = kernel_sums_at_reference(q, v, U, h, kernel, derivative=True)
    E0, E1 = reference_scales(q, v, U, h, kernel, loo=False)
    assert_contract(S0, S1, R0, R1, E0, E1)
    S0b, S1b = kernel_sums_at(q, v, U[:, 0], h, kernel, method=method)
    assert S0b.shape == (len(q),) and S1b is None
    np.testing.assert_allclose(S0b, S0[:, 0], rtol=0, atol=1e-12 * E0.max())


@pytest.mark.parametrize("kernel", NAMES)
def test_kernel_sums_at_empty(kernel):
    S0, S1 = kernel_sums_at(np.array([0.0, 1.0]), np.array([]), np.zeros((0, 2)), 1.0, kernel, derivative=True)
    assert np.all(S0 == 0) and np.all(S1 == 0) and S0.shape == (2, 2)
    S0, S1 = kernel_sums_at(np.array([]), np.array([0.0]), np.ones((1, 2)), 1.0, kernel)
    assert S0.shape == (0, 2) and S1 is None


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_order_reuse(kernel, method):
    rng = np.random.default_rng(6)
    v = np.round(rng.normal(size=200), 2)  # with ties
    U = rng.uniform(size=(200, 3))
    a0, a1, order = kernel_sums(v, U, 0.3, kernel, derivative=True, method=method)
    b0, b1, order2 = kernel_sums(v, U, 0.3, kernel, derivative=True, order=order, method=method)
    assert np.array_equal(order, order2)
    assert np.array_equal(a0, b0) and np.array_equal(a1, b1)
    # a stale order (from a perturbed index) is a valid warm start
    w = v + 0.05 * rng.normal(size=200)
    c0, c1, order3 = kernel_sums(w, U, 0.3, kernel, derivative=True, order=order, method=method)
    assert np.all(np.diff(w[order3]) >= 0)
    R0, R1 = kernel_sums_reference(w, U, 0.3, kernel, derivative=True)
    E0, E1 = reference_scales(w, w, U, 0.3, kernel, loo=True)
    assert_contract(c0, c1, R0, R1, E0, E1)
    # the caller's order array is not modified
    assert np.array_equal(order, order2)
    # a reversed order (many inversions: the insertion pass gives up) still works
    d0, _, order4 = kernel_sums(w, U, 0.3, kernel, order=order3[::-1].copy(), method=method)
    assert np.all(np.diff(w[order4]) >= 0)
    assert_contract(d0, None, R0, None, E0, None)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_parallel_path_is_identical(kernel, method, monkeypatch):
    rng = np.random.default_rng(7)
    v = rng.normal(size=300)
    U = rng.uniform(size=(300, 2))
    a0, a1, _ = kernel_sums(v, U, 0.2, kernel, derivative=True, method=method)
    monkeypatch.setattr(K, "_PARALLEL_MIN_SECONDS", 0.0)
    monkeypatch.setattr(K, "_nchunks", lambda seconds: 8)
    b0, b1, _ = kernel_sums(v, U, 0.2, kernel, derivative=True, method=method)
    assert np.array_equal(a0, b0) and np.array_equal(a1, b1)


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
def test_workspace_reuse_leaves_results_alone(kernel, method, monkeypatch):
    """Scratch arrays are reused between calls; returned arrays never are."""
    import semiparam._kernels._common as C

    monkeypatch.setattr(C, "_WORKSPACE_MIN_BYTES", 0)
    monkeypatch.setattr(C, "_workspace", C._Workspace())
    rng = np.random.default_rng(11)
    v, w = rng.normal(size=(2, 150))
    U, V = rng.uniform(size=(2, 150, 2))
    a0, a1, ao = kernel_sums(v, U, 0.3, kernel, derivative=True, method=method)
    keep = (a0.copy(), a1.copy(), ao.copy())
    b0, b1, _ = kernel_sums(w, V, 0.3, kernel, derivative=True, method=method)
    c0, c1 = kernel_sums_at(w, v, U, 0.3, kernel, derivative=True, method=method)
    assert np.array_equal(a0, keep[0]) and np.array_equal(a1, keep[1]) and np.array_equal(ao, keep[2])
    d0, d1, _ = kernel_sums(v, U, 0.3, kernel, derivative=True, method=method)
    assert np.array_equal(d0, a0) and np.array_equal(d1, a1)
    assert C._workspace.arrays  # the scratch was indeed kept


def test_check_input_false():
    rng = np.random.default_rng(12)
    v = rng.normal(size=100)
    U = rng.uniform(size=(100, 2))
    a, b, o = kernel_sums(v, U, 0.3, "biweight", derivative=True)
    c, d, o2 = kernel_sums(v, U, 0.3, "biweight", derivative=True, order=o, check_input=False)
    assert np.array_equal(a, c) and np.array_equal(b, d) and np.array_equal(o, o2)


def test_auto_method():
    rng = np.random.default_rng(8)
    v = rng.normal(size=K.GAUSSIAN_AUTO_EXACT_MAX)
    U = rng.uniform(size=(len(v), 2))
    a, _, _ = kernel_sums(v, U, 0.3, "gaussian")
    b, _, _ = kernel_sums(v, U, 0.3, "gaussian", method="exact")
    assert np.array_equal(a, b)


# --------------------------------------------------------------------------- registry
def test_registry_names_and_constants():
    assert sorted(KERNELS) == sorted(NAMES)
    for name, spec in KERNELS.items():
        assert spec.name == name
        assert spec.k0 == pytest.approx(float(spec(0.0)), rel=1e-15)
        lim = spec.support if math.isfinite(spec.support) else np.inf
        mass = integrate.quad(lambda u: float(spec(u)), -lim, lim)[0]
        rough = integrate.quad(lambda u: float(spec(u)) ** 2, -lim, lim)[0]
        var = integrate.quad(lambda u: u * u * float(spec(u)), -lim, lim)[0]
        assert mass == pytest.approx(1.0, abs=1e-10)
        assert spec.roughness == pytest.approx(rough, rel=1e-9)
        assert spec.variance == pytest.approx(var, rel=1e-9)
        assert spec.canonical_bandwidth > 0
        u = np.linspace(-0.95, 0.95, 9)
        fd = (spec(u + 1e-6) - spec(u - 1e-6)) / 2e-6
        np.testing.assert_allclose(spec.derivative(u), fd, rtol=1e-6, atol=1e-8)
        k, kd = kernel_value(name, u * 2.0, 2.0)
        np.testing.assert_allclose(k, spec(u), rtol=1e-14)
        np.testing.assert_allclose(kd, spec.derivative(u), rtol=1e-14, atol=1e-15)


def test_kernel_object_accepted():
    v = np.linspace(0, 1, 20)
    a, _, _ = kernel_sums(v, np.ones(20), 0.3, KERNELS["biweight"])
    b, _, _ = kernel_sums(v, np.ones(20), 0.3, "biweight")
    assert np.array_equal(a, b)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(kernel="cosine"), "kernel must be one of"),
        (dict(h=0.0), "h must be a positive"),
        (dict(h=np.nan), "h must be a positive"),
        (dict(h="wide"), "h must be a positive"),
        (dict(v=np.array([0.0, np.nan, 1.0])), "v contains NaN"),
        (dict(U=np.array([1.0, np.inf, 1.0])), "U contains NaN"),
        (dict(U=np.ones((2, 2))), "U must have shape"),
        (dict(v=np.zeros((3, 1))), "v must be one-dimensional"),
        (dict(method="fft"), "method must be one of"),
        (dict(order=np.array([0, 0, 1])), "order must be a permutation"),
        (dict(order=np.array([0, 1, 3])), "order must be a permutation"),
        (dict(order=np.array([0, 1])), "order must be a permutation"),
        (dict(order=np.array([0.0, 1.0, 2.0])), "order must be a permutation"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(v=np.array([0.0, 0.5, 1.0]), U=np.ones(3), h=1.0, kernel="gaussian")
    args.update(kwargs)
    v, U, h, kernel = args.pop("v"), args.pop("U"), args.pop("h"), args.pop("kernel")
    with pytest.raises(ValueError, match=match):
        kernel_sums(v, U, h, kernel, **args)
    if "order" not in args:
        with pytest.raises(ValueError, match=match.replace("v contains", "contains").replace("v must", "must")):
            kernel_sums_at(v, v, U, h, kernel, **args)


# --------------------------------------------------------------------------- larger n (JIT only)
@needs_jit
@pytest.mark.parametrize(
    "dist", ["normal", "student3_offset", "cauchy", "ties", "bimodal_zero_weights"]
)
def test_gaussian_fast_vs_exact_large_n(dist):
    """n = 20000 (where "auto" picks the fast method): fast vs the exact twin on 400 rows."""
    rng = np.random.default_rng(9)
    n = 20000
    v = {
        "normal": lambda: rng.normal(size=n),
        "student3_offset": lambda: rng.standard_t(3, size=n) + 1e6,
        "cauchy": lambda: rng.standard_cauchy(n),
        "ties": lambda: np.round(rng.normal(size=n), 2),
        "bimodal_zero_weights": lambda: np.concatenate([rng.normal(size=n // 2) - 4, rng.normal(size=n // 2) + 4]),
    }[dist]()
    U = np.column_stack([rng.uniform(size=n), rng.normal(size=n), rng.integers(0, 2, n)])
    if dist == "bimodal_zero_weights":
        U[rng.uniform(size=n) < 0.5] = 0.0
    h = 0.2 * np.std(v) if dist != "cauchy" else 0.3
    assert n > K.GAUSSIAN_AUTO_EXACT_MAX
    S0, S1, _ = kernel_sums(v, U, h, "gaussian", derivative=True)
    order = np.argsort(v)
    rows = np.unique(np.concatenate([rng.choice(n, 300, replace=False), order[:50], order[-50:]]))
    R0, R1 = kernel_sums_reference(v, U, h, "gaussian", derivative=True, rows=rows)
    E0, E1 = reference_scales(v, v, U, h, "gaussian", loo=True, rows=rows)
    assert_contract(S0[rows], S1[rows], R0, R1, E0, E1, tol=1e-11)


@needs_jit
@pytest.mark.parametrize("kernel", ["epanechnikov", "biweight", "triweight"])
def test_compact_large_n(kernel):
    rng = np.random.default_rng(10)
    n = 50000
    v = np.concatenate([rng.normal(size=n - 1000) + 1e6, rng.uniform(1e6 - 50, 1e6 + 50, 1000)])
    U = np.column_stack([rng.uniform(size=n), rng.integers(0, 2, n) * 1.0])
    S0, S1, order = kernel_sums(v, U, 0.05, kernel, derivative=True)
    rows = np.unique(np.concatenate([rng.choice(n, 300, replace=False), order[:30], order[-30:]]))
    R0, R1 = kernel_sums_reference(v, U, 0.05, kernel, derivative=True, rows=rows)
    E0, E1 = reference_scales(v, v, U, 0.05, kernel, loo=True, rows=rows)
    assert_contract(S0[rows], S1[rows], R0, R1, E0, E1, tol=1e-11)


# --------------------------------------------------------------------------- fused loss
def _loss_data(n, seed):
    """A steep link with a few rows against it in the tails: ``q`` spans ~10 decades."""
    rng = np.random.default_rng(seed)
    v = np.concatenate([rng.normal(size=n - 3) * 2.0, [7.5, -40.0, 12.0]])  # -40: isolated
    z = (v + 0.3 * rng.standard_normal(n) > 0).astype(float)
    z[np.argsort(v)[[3, -4]]] = 1.0 - z[np.argsort(v)[[3, -4]]]  # against the link, in the tails
    w = rng.uniform(0.5, 2.0, n)
    w[::17] = 0.0
    c = w * (np.arange(n) % 7 != 0)
    return v, z, w, c


@pytest.mark.parametrize("kernel,method", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("loss", ["bernoulli", "squared"])
def test_loo_loss_matches_twin(kernel, method, loss):
    from semiparam._kernels._reference import loo_loss_reference

    v, z, w, c = _loss_data(150 if NOJIT else 400, seed=5)
    h, clip = 0.35, 1e-12
    Z = K.static_columns(z, w, c)
    F, gv, order = K.loo_loss(v, Z, h, kernel, loss=loss, clip=clip, method=method)
    Fr, gr = loo_loss_reference(v, z, w, c, h, kernel, loss=loss, clip=clip)
    assert F == pytest.approx(Fr, rel=1e-10)
    # the gradient's accuracy is absolute (module docstring of semiparam._kernels.loo)
    np.testing.assert_allclose(gv, gr, rtol=1e-7, atol=1e-10 * np.abs(gr).max())
    if order is None:  # the dense Gaussian path sorts nothing
        assert kernel == "gaussian" and method == "exact"
        order = np.arange(v.size)
    if method != "exact" or kernel != "gaussian":
        assert np.all(np.diff(v[order]) >= 0)
    # the value alone, and a warm start from an order, give the same numbers
    F2, none, _ = K.loo_loss(v, Z, h, kernel, loss=loss, clip=clip, order=order[::-1],
                             gradient=False, method=method)
    assert none is None and F2 == pytest.approx(F, rel=1e-13)


def test_loo_loss_bad_loss_name():
    v, z, w, c = _loss_data(20, seed=0)
    with pytest.raises(ValueError, match="loss must be one of"):
        K.loo_loss(v, K.static_columns(z, w, c), 0.5, "epanechnikov", loss="hinge")


# --------------------------------------------------------------------------- far rows
def _far_data(n, seed):
    """Clusters far apart in bandwidths: rows 40-2000 h from every neighbour, neighbours at
    nearly equal distances (so the relative sums mix several terms), zero weights next to
    far rows, ties."""
    rng = np.random.default_rng(seed)
    body = rng.normal(size=n - 9)
    # far rows (h = 0.05): 45 (neighbours at 40 and 40.01 h), -60, -300 and 899.9995
    far = np.array([45.0, 47.0, 47.0005, -60.0, 200.0, 200.0, -300.0, 899.9995, 900.0])
    v = np.concatenate([body, far])
    w = rng.uniform(0.5, 2.0, n)
    w[n - 1] = 0.0  # 900.0 has weight 0: its neighbour 899.9995 is far from the rest
    z = (rng.uniform(size=n) < 0.5).astype(float)
    return v, z, w


@pytest.mark.parametrize("method", ["exact", "fast"])
def test_relative_sums_of_far_rows(method):
    """``relative=True``: far rows are the textbook sums times exp(logscale) (the reference
    formed in log space), the other rows the ordinary sums (logscale 0)."""
    v, z, w = _far_data(120, seed=3)
    h = 0.05
    U = np.column_stack([w * z, w, -w])
    S0, S1, _, logs = kernel_sums(v, U, h, "gaussian", derivative=True, method=method,
                                  relative=True)
    b = v.size - 9
    farrows = [b, b + 3, b + 6, b + 7]
    assert np.all(np.delete(logs, farrows) == 0.0) and np.all(logs[farrows] > 0.5 * 30.0**2)
    R0, R1 = kernel_sums_reference(v, U, h, "gaussian", derivative=True, shift=logs)
    E0, E1 = reference_scales(v, v, U, h, "gaussian", loo=True, shift=logs)
    assert_contract(S0, S1, R0, R1, E0, E1)
    assert np.all(S0[logs > 0, 1] > 0.0)  # never empty: the nearest neighbour's weight is kept
    # without ``relative`` the same call gives the plain sums (underflowing to 0 far out)
    P0, _, _ = kernel_sums(v, U, h, "gaussian", derivative=True, method=method)
    np.testing.assert_array_equal(P0[logs == 0], S0[logs == 0])
    assert np.all(P0[logs > 0.5 * 39.0**2] == 0.0)
    # and at query points
    q = np.array([0.1, 500.0, -1000.0, 47.001])
    Q0, Q1, qlogs = kernel_sums_at(q, v, U, h, "gaussian", derivative=True, method=method,
                                   relative=True)
    assert qlogs[0] == 0.0 and qlogs[3] == 0.0 and np.all(qlogs[1:3] > 0.0)
    R0, R1 = kernel_sums_at_reference(q, v, U, h, "gaussian", derivative=True, shift=qlogs)
    E0, E1 = reference_scales(q, v, U, h, "gaussian", loo=False, shift=qlogs)
    assert_contract(Q0, Q1, R0, R1, E0, E1)


def test_loo_loss_issue_example_far_row():
    """Issue 8's example: the row at 5 is 41.7 bandwidths from its nearest neighbour.  Its
    link is that neighbour's label (the formula's limit), not the leave-one-out mean:
    0.5143979... (computed with each row's kernel weights scaled by its largest, below),
    where the old empty-denominator rule gave 0.5644."""
    z = np.array([0, 1, 0, 1, 1.0])
    v = np.array([0, 0.1, 0.2, 0.3, 5.0])
    h = 0.12
    # by hand: rows 0-3 from their scaled Gaussian weights, row 4 -> z of row 3 = 1
    u = (v[:, None] - v[None, :]) / h
    L = -0.5 * u**2
    np.fill_diagonal(L, -np.inf)
    Kr = np.exp(L - L.max(axis=1, keepdims=True))
    g = Kr @ z / Kr.sum(axis=1)
    exact = float(np.mean((z - g) ** 2))
    assert exact == pytest.approx(0.5143979193459709, rel=1e-12)
    for method in ("exact", "fast"):
        F, _, _ = K.loo_loss(v, K.static_columns(z, np.ones(5), np.ones(5)), h, "gaussian",
                             loss="squared", clip=0.0, gradient=False, method=method)
        assert F == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("method", ["exact", "fast"])
@pytest.mark.parametrize("loss", ["bernoulli", "squared"])
def test_loo_loss_far_rows_match_twin_and_are_continuous(method, loss):
    """Far rows: value and gradient agree with the log-space twin, and the objective is
    continuous where a row crosses the distance at which the plain sums underflow (the
    old rule jumped there); the gradient matches central differences."""
    from semiparam._kernels._reference import loo_loss_reference

    v, z, w = _far_data(150, seed=7)
    c = w.copy()
    Z = K.static_columns(z, w, c)
    clip = 1e-10
    for h in (0.05, 0.2, 1.5):
        F, gv, _ = K.loo_loss(v, Z, h, "gaussian", loss=loss, clip=clip, method=method)
        Fr, gr = loo_loss_reference(v, z, w, c, h, "gaussian", loss=loss, clip=clip)
        assert F == pytest.approx(Fr, rel=1e-10)
        np.testing.assert_allclose(gv, gr, rtol=1e-7, atol=1e-9 * np.abs(gr).max())
    # continuity: move the isolated row at -60 outward through 37-40 bandwidths
    h = 1.0 / 0.6  # body ~N(0,1): -60 sits ~36 h from the body's edge
    xs = -60.0 + np.linspace(-10.0, 0.0, 101)
    vals = []
    for x in xs:
        vv = v.copy()
        vv[-6] = x
        vals.append(K.loo_loss(vv, Z, h, "gaussian", loss=loss, clip=clip, gradient=False,
                               method=method)[0])
    steps = np.abs(np.diff(vals))
    assert steps.max() < 1e-6, f"objective jumps by {steps.max():.3g}"
    # gradient of the far rows against central differences
    F, gv, _ = K.loo_loss(v, Z, 0.05, "gaussian", loss=loss, clip=clip, method=method)
    for k in (v.size - 9, v.size - 8, v.size - 6, v.size - 2, v.size - 1):
        e = np.zeros(v.size)
        e[k] = 1e-6
        fp = K.loo_loss(v + e, Z, 0.05, "gaussian", loss=loss, clip=clip, gradient=False,
                        method=method)[0]
        fm = K.loo_loss(v - e, Z, 0.05, "gaussian", loss=loss, clip=clip, gradient=False,
                        method=method)[0]
        assert gv[k] == pytest.approx((fp - fm) / 2e-6, rel=1e-4, abs=1e-7)
