"""Link states: a link fitted on the CPU to the whole training set, read on the device.

A neural policy's preference index is the margin
``t = (log pi(a1|x) - log pi_ref(a1|x)) - (log pi(a0|x) - log pi_ref(a0|x))``.  PSPO and
OSPO need the link ``g(t) = P(z = 1 | t)`` of the *current* index, estimated from all
training pairs, while the network trains on mini-batches.  A link state therefore lives
in two places:

- :meth:`refresh` takes the detached margins of every training pair (tensor or array),
  fits the link on the CPU with :mod:`semiparam.links` (``O(n log n)``: one sort, PAVA or
  kernel sums) and stores it as a knot table;
- :meth:`__call__` evaluates that table on the margins' device with
  :func:`torch.searchsorted` (``O(B log K)`` per batch of ``B`` margins), as a fixed function
  whose autograd derivative is the exact derivative of the interpolant.

:class:`IsotonicLinkState` (PSPO)
    :class:`~semiparam.links.IsotonicLink` of the labels on the margins.  ``"linear"``:
    the table is the fit's own knots (first and last index value of every block), so the
    state *is* scikit-learn's piecewise-linear interpolant; its derivative is zero on
    every flat block.  ``"smooth"`` (default): the Gaussian-smoothed isotonic estimate
    ``g_h(t) = g_1 + sum_j D_j Phi((t - t_j)/h)`` (monotone, smooth, derivative
    ``sum_j D_j phi((t - t_j)/h)/h``), tabulated with its exact slopes at knots
    spaced ``h/32`` apart and read by cubic Hermite interpolation (error at most
    ``(h/32)^4 max|g''''| / 384``, about ``1e-8`` of the jumps: far below the estimate's
    own error; a smaller ``knot_spacing`` tightens it).
    Either way, the state equals ``IsotonicLink`` at its knots.

:class:`KernelLinkState` (OSPO)
    Nadaraya-Watson sums ``M(t) = sum_j K((t - t_j)/h) w_j`` and
    ``N(t) = sum_j K((t - t_j)/h) w_j z_j`` over all training pairs, tabulated with their
    derivatives (``kernel_sums_at``, exact to 1e-10 relative) at knots spaced ``h/32``
    apart, read by cubic Hermite interpolation.  With the batch's row indices the link
    is leave-one-out: the pair's own term ``K((t - t_i^0)/h) w_i`` (``t_i^0`` its margin
    at the refresh) is subtracted from both sums, ``g_{-i}(t) = (N - k_i z_i)/(M - k_i)``,
    which at ``t = t_i^0`` is exactly the leave-one-out estimate.

    For the orthogonalized (efficient) score the refresh also computes, at the detached
    margins ``t_i``, ``c_i = g'_{-i}(t_i) / (g_{-i}(t_i)(1 - g_{-i}(t_i)))`` and the
    residual ``r_i = z_i - g_{-i}(t_i)``, and the *correction*

        a_j = sum_{i != j} K((t_i - t_j)/h) w_i c_i r_i / M_{-i}(t_i),

    one more leave-one-out kernel sum.  Then ``sum_j w_j (c_j r_j - a_j) dt_j`` equals the
    efficient score ``sum_i w_i c_i r_i (dt_i - E_hat[dt | t_i])`` with
    ``E_hat[dt | t_i] = sum_{j != i} K_ij w_j dt_j / M_{-i}(t_i)``: the derivative of the
    margin, centred on its kernel regression on the margin (Klein & Spady 1993;
    ``docs/torch.md``, OSPO).  :func:`~semiparam.torch.ospo_loss` adds ``a_j t_j`` to the pair's
    leave-one-out log-loss, so its gradient is that score (at the refresh; between
    refreshes the log-loss part follows the network and ``a`` is held).

Bandwidths are on the margin scale: ``h = factor * min(sd, IQR/1.349) * n_eff^(-rate)``,
with rate 1/5 (kernel link, as :mod:`semiparam.policy` OSPO) or 1/7 (smoothed isotonic,
as :class:`~semiparam.links.IsotonicLink`), computed by
:func:`semiparam.links.isotonic.default_bandwidth`.
"""

from __future__ import annotations

import contextlib
import math
import time
from numbers import Real

import numpy as np
import torch

from ..links import KERNELS, IsotonicLink, kernel_sums, kernel_sums_at
from ..links.isotonic import default_bandwidth
from ..stats import effective_sample_size, weighted_sd
from ._tables import hermite_table, linear_table

__all__ = ["IsotonicLinkState", "KernelLinkState", "as_numpy", "torch_threads_kept"]


@contextlib.contextmanager
def torch_threads_kept():
    """Restore torch's intra-op thread count on exit (a context manager and a decorator).

    numba's OpenMP threading layer shares libgomp with torch, and a parallel numba kernel
    leaves torch's thread count at numba's (measured: a tiny-Llama step 10x slower on a
    loaded 2-core machine after a link refresh).  Every link refresh runs inside this, so
    every trainer that refreshes a link keeps its torch setting.
    """
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def as_numpy(a, name) -> np.ndarray:
    """A 1-D float64 NumPy copy of a tensor or array (detached, on the CPU)."""
    if isinstance(a, torch.Tensor):
        a = a.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return arr


def _refresh_inputs(margins, labels, weight):
    t = as_numpy(margins, "margins")
    z = as_numpy(labels, "labels")
    if z.shape != t.shape:
        raise ValueError(f"labels has shape {z.shape}; margins has {t.shape}.")
    if t.shape[0] < 2:
        raise ValueError("A link needs at least two pairs.")
    if np.any((z < 0) | (z > 1)):
        raise ValueError("labels must lie in [0, 1] (1: action1 preferred).")
    if weight is None:
        w = np.ones_like(t)
    else:
        w = as_numpy(weight, "weight")
        if w.shape != t.shape:
            raise ValueError(f"weight has shape {w.shape}; margins has {t.shape}.")
        if np.any(w < 0) or not np.any(w > 0):
            raise ValueError("weight must be nonnegative and not all zero.")
    return t, z, w


def _bandwidth(t, w, bandwidth, factor, rate, spread="robust"):
    """A fixed bandwidth, or ``factor * spread * n_eff^(-rate)``."""
    if bandwidth is not None:
        return float(bandwidth)
    pos = w > 0
    n_eff = effective_sample_size(w, check_input=False)
    if spread == "sd":
        sd = float(weighted_sd(t, w, check_input=False))
        return factor * max(sd, 1e-3) * n_eff ** (-rate)
    # default_bandwidth is factor * spread * n_eff^(-1/7); rescale to the rate asked for
    return float(default_bandwidth(t[pos], w[pos], factor) * n_eff ** (1.0 / 7.0 - rate))


def _check_positive(name, value, none_ok=True):
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, Real) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}.")


def _check_max_knots(max_knots):
    if isinstance(max_knots, bool) or not isinstance(max_knots, int) or max_knots < 16:
        raise ValueError(f"max_knots must be an integer >= 16; got {max_knots!r}.")


def trimmed_knots(lo, hi, step, max_knots):
    """Evenly spaced knots from ``lo`` to ``hi``, about ``step`` apart (64 to max_knots)."""
    k = int(min(max_knots, max(64, np.ceil((hi - lo) / step) + 1)))
    return np.linspace(lo, hi, k)


class _TableState:
    """Shared parts: device copies of the knot table, diagnostics, the fitted check."""

    def _store(self, **arrays):
        self._host = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()}
        self._cache = {}

    def _tables(self, like):
        """The table as tensors on ``like``'s device and dtype (cached)."""
        if not hasattr(self, "_host"):
            raise RuntimeError(
                f"This {type(self).__name__} has no fitted link yet; call "
                "refresh(margins, labels) on the detached margins of the training set first."
            )
        key = (like.device, like.dtype)
        if key not in self._cache:
            self._cache[key] = {k: torch.as_tensor(v, dtype=like.dtype, device=like.device)
                                for k, v in self._host.items()}
        return self._cache[key]

    def diagnostics(self) -> dict:
        """Numbers to log: pairs, bandwidth, knots, link range, refresh count and time."""
        if not hasattr(self, "diagnostics_"):
            return {"n_refresh": 0}
        return dict(self.diagnostics_)

    @staticmethod
    def _as_query(t):
        if not isinstance(t, torch.Tensor):
            t = torch.as_tensor(np.asarray(t, dtype=np.float64))
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        return t


class IsotonicLinkState(_TableState):
    """Isotonic (PAVA) link of the labels on the margins, as a device knot table (PSPO).

    Parameters
    ----------
    interpolation : {"smooth", "linear"}, default="smooth"
        ``"smooth"``: the Gaussian-smoothed isotonic fit (module docstring), with a
        derivative everywhere; ``"linear"``: scikit-learn's piecewise-linear interpolant
        (derivative zero on flat blocks).
    clip : float in [0, 0.5), default=1e-4
        Probabilities are clamped to ``[clip, 1 - clip]`` (derivative zero where it binds).
    bandwidth : float or None, default=None
        Bandwidth of ``"smooth"`` in margin units; None: ``bandwidth_factor *
        min(sd, IQR/1.349) * n^(-1/7)`` at each refresh.
    bandwidth_factor : float, default=0.5
    knot_spacing : float, default=1/32
        ``"smooth"``: table knots ``knot_spacing * h`` apart (at most ``max_knots``).
    max_knots : int, default=65536

    Attributes
    ----------
    link_ : IsotonicLink
        The CPU fit of the last refresh (unclipped, ``clip=0``).
    diagnostics_ : dict
    """

    def __init__(self, *, interpolation="smooth", clip=1e-4, bandwidth=None,
                 bandwidth_factor=0.5, knot_spacing=1 / 32, max_knots=65536):
        if interpolation not in ("smooth", "linear"):
            raise ValueError(
                f"interpolation must be 'smooth' or 'linear'; got {interpolation!r}.")
        if isinstance(clip, bool) or not isinstance(clip, Real) or not 0 <= clip < 0.5:
            raise ValueError(f"clip must lie in [0, 0.5); got {clip!r}.")
        _check_positive("bandwidth", bandwidth)
        _check_positive("bandwidth_factor", bandwidth_factor, none_ok=False)
        _check_positive("knot_spacing", knot_spacing, none_ok=False)
        _check_max_knots(max_knots)
        self.knot_spacing = float(knot_spacing)
        self.max_knots = max_knots
        self.interpolation = interpolation
        self.clip = float(clip)
        self.bandwidth = bandwidth
        self.bandwidth_factor = bandwidth_factor

    @torch_threads_kept()
    def refresh(self, margins, labels, weight=None) -> "IsotonicLinkState":
        """Refit on the detached margins of all training pairs; returns ``self``."""
        start = time.perf_counter()
        t, z, w = _refresh_inputs(margins, labels, weight)
        h = _bandwidth(t, w, self.bandwidth, self.bandwidth_factor, 1.0 / 7.0)
        link = IsotonicLink(clip=0.0, interpolation=self.interpolation, bandwidth=h)
        link.fit(t, z, sample_weight=w)
        if self.interpolation == "linear":
            self._store(x=link.thresholds_v_, y=link.thresholds_g_)
        else:
            lo, hi = link.index_range_
            lo, hi = lo - 4.0 * h, hi + 4.0 * h
            x = trimmed_knots(lo, hi, self.knot_spacing * h, self.max_knots)
            self._store(x=x, y=link(x), m=link.derivative(x))
        self.link_ = link
        count = self.diagnostics_["n_refresh"] + 1 if hasattr(self, "diagnostics_") else 1
        self.diagnostics_ = {
            "n_refresh": count, "n_pairs": int(np.count_nonzero(w > 0)),
            "bandwidth": float(link.bandwidth_), "n_blocks": int(link.n_blocks_),
            "n_knots": int(self._host["x"].shape[0]),
            "index_range": tuple(float(v) for v in link.index_range_),
            "refresh_seconds": time.perf_counter() - start,
        }
        return self

    def __call__(self, t, index=None):
        """``g(t)`` on ``t``'s device, clamped to ``[clip, 1 - clip]``; differentiable in t.

        ``index`` is accepted (and ignored) so that every link state takes the same call.
        """
        t = self._as_query(t)
        tab = self._tables(t)
        if self.interpolation == "linear":
            raw = linear_table(t, tab["x"], tab["y"])
        else:
            raw = hermite_table(t, tab["x"], tab["y"], tab["m"])
        return torch.clamp(raw, self.clip, 1.0 - self.clip)

    def __repr__(self) -> str:
        return (f"IsotonicLinkState(interpolation={self.interpolation!r}, clip={self.clip}, "
                f"bandwidth={self.bandwidth!r})")


class KernelLinkState(_TableState):
    """Leave-one-out Nadaraya-Watson link and the orthogonal-score correction (OSPO).

    Parameters
    ----------
    kernel : {"gaussian", "epanechnikov", "biweight", "triweight"}, default="gaussian"
    bandwidth : float or None, default=None
        In margin units; None: ``bandwidth_factor * min(sd, IQR/1.349) * n^(-1/5)``.
    bandwidth_factor : float, default=1.0
    spread : {"robust", "sd"}, default="robust"
        Scale of the margins in the default bandwidth: ``min(sd, IQR/1.349)`` or the
        weighted standard deviation (the reference code's choice).
    clip : float in (0, 0.5), default=1e-3
        Probabilities are clamped to ``[clip, 1 - clip]``.
    knot_spacing : float, default=1/32
        Table knots are ``knot_spacing * h`` apart (at most ``max_knots`` of them).
    max_knots : int, default=65536

    Attributes
    ----------
    bandwidth_ : float
    correction_ : ndarray (n,)
        ``a_j`` of the module docstring (per training pair, from the last refresh).
    loo_link_ : ndarray (n,)
        ``g_{-i}(t_i)`` at the refresh.
    diagnostics_ : dict
    """

    def __init__(self, *, kernel="gaussian", bandwidth=None, bandwidth_factor=1.0,
                 spread="robust", clip=1e-3, knot_spacing=1 / 32, max_knots=65536):
        if spread not in ("robust", "sd"):
            raise ValueError(f"spread must be 'robust' or 'sd'; got {spread!r}.")
        self.spread = spread
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {sorted(KERNELS)}; got {kernel!r}.")
        _check_positive("bandwidth", bandwidth)
        _check_positive("bandwidth_factor", bandwidth_factor, none_ok=False)
        _check_positive("knot_spacing", knot_spacing, none_ok=False)
        if isinstance(clip, bool) or not isinstance(clip, Real) or not 0 < clip < 0.5:
            raise ValueError(f"clip must lie in (0, 0.5); got {clip!r}.")
        _check_max_knots(max_knots)
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.bandwidth_factor = bandwidth_factor
        self.clip = float(clip)
        self.knot_spacing = float(knot_spacing)
        self.max_knots = max_knots

    # -- refresh (CPU) ------------------------------------------------------------------
    @torch_threads_kept()
    def refresh(self, margins, labels, weight=None) -> "KernelLinkState":
        """Refit on the detached margins of all training pairs; returns ``self``."""
        start = time.perf_counter()
        t, z, w = _refresh_inputs(margins, labels, weight)
        h = _bandwidth(t, w, self.bandwidth, self.bandwidth_factor, 0.2, self.spread)
        spec = KERNELS[self.kernel]
        U = np.column_stack([w, w * z])
        reach = 6.0 if self.kernel == "gaussian" else 1.0
        lo, hi = float(t.min()) - reach * h, float(t.max()) + reach * h
        x = trimmed_knots(lo, hi, self.knot_spacing * h, self.max_knots)
        k = x.shape[0]
        S0, S1 = kernel_sums_at(x, t, U, h, self.kernel, derivative=True)
        # leave-one-out nuisances at the training margins
        L0, L1, order = kernel_sums(t, U, h, self.kernel, derivative=True)
        M, N = L0[:, 0], L0[:, 1]
        ok = M > 1e-10 * max(float(M.max()), 1e-300)
        Ms = np.where(ok, M, 1.0)
        raw = np.where(ok, N / Ms, 0.5)
        g = np.clip(raw, self.clip, 1.0 - self.clip)
        inside = ok & (raw == g)  # the clamped link is flat where the clip binds
        gp = np.where(inside, (L1[:, 1] * M - N * L1[:, 0]) / (Ms**2 * h), 0.0)
        c = gp / (g * (1.0 - g))
        b = np.where(ok, w * c * (z - g) / Ms, 0.0)
        # a_j = sum_{i != j} K_ij b_i.  Shifted by C w_i (then C M_j subtracted): the fast
        # Gaussian sums slow down ~50x on a column with many exact zeros (clipped rows)
        shift = float(np.abs(b).max()) or 1.0
        a, _, _ = kernel_sums(t, b + shift * w, h, self.kernel, order=order)
        a = a - shift * M
        self.bandwidth_ = h
        self.correction_ = a
        self.loo_link_ = g
        self._store(x=x, y=S0, m=S1 / h, t0=t, w=w, z=z, a=a)
        self._m_floor = 1e-10 * max(float(S0[:, 0].max()), 1e-300)
        self._fallback = float((w @ z) / w.sum())
        self._k0, self._power = float(spec.k0), int(getattr(spec, "power", 0))
        count = self.diagnostics_["n_refresh"] + 1 if hasattr(self, "diagnostics_") else 1
        self.diagnostics_ = {
            "n_refresh": count, "n_pairs": int(np.count_nonzero(w > 0)), "bandwidth": h,
            "n_knots": k, "index_range": (float(t.min()), float(t.max())),
            "loo_log_loss": float(-(w @ (z * np.log(g) + (1 - z) * np.log(1 - g))) / w.sum()),
            "correction_rms": float(np.sqrt(np.mean(a**2))),
            "refresh_seconds": time.perf_counter() - start,
        }
        return self

    # -- evaluation (device) ------------------------------------------------------------
    def _kernel(self, u):
        if self.kernel == "gaussian":
            return self._k0 * torch.exp(-0.5 * u * u)
        return self._k0 * torch.clamp(1.0 - u * u, min=0.0) ** self._power

    def sums(self, t, index=None):
        """``(M(t), N(t))`` (leave-one-out for the rows ``index`` when given)."""
        t = self._as_query(t)
        tab = self._tables(t)
        MN = hermite_table(t, tab["x"], tab["y"], tab["m"])
        M, N = MN[..., 0], MN[..., 1]
        if index is not None:
            index = self._check_index(index, t)
            own = self._kernel((t - tab["t0"][index]) / self.bandwidth_) * tab["w"][index]
            M = M - own
            N = N - own * tab["z"][index]
        return M, N

    def __call__(self, t, index=None):
        """``g(t)`` (``g_{-i}`` for pairs ``index``), clamped; differentiable in ``t``.

        Where no training margin lies within the kernel's reach the value is the overall
        label rate (derivative 0).
        """
        M, N = self.sums(t, index)
        ok = M > self._m_floor
        g = torch.where(ok, N / torch.where(ok, M, torch.ones_like(M)),
                        torch.full_like(M, self._fallback))
        return torch.clamp(g, self.clip, 1.0 - self.clip)

    def correction(self, index, like=None):
        """``a_j`` of the training pairs ``index`` (a tensor on ``like``'s device)."""
        like = torch.empty(0, dtype=torch.get_default_dtype()) if like is None else like
        tab = self._tables(like)
        return tab["a"][self._check_index(index, like)]

    def _check_index(self, index, t):
        n = self._host["t0"].shape[0]
        if not isinstance(index, torch.Tensor):
            index = torch.as_tensor(np.asarray(index))
        if index.dtype.is_floating_point or index.dtype == torch.bool:
            raise ValueError("index must hold integer row numbers of the training set.")
        index = index.to(t.device)
        if index.shape != t.shape:
            raise ValueError(f"index has shape {tuple(index.shape)}; margins {tuple(t.shape)}.")
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= n):
            raise ValueError(f"index must lie in 0 .. {n - 1} (rows of the last refresh).")
        return index

    def __repr__(self) -> str:
        return (f"KernelLinkState(kernel={self.kernel!r}, bandwidth={self.bandwidth!r}, "
                f"bandwidth_factor={self.bandwidth_factor}, clip={self.clip})")
