"""Klein–Spady semiparametric maximum likelihood for binary choice.

The model is ``P(z = 1 | x) = g(x'beta)`` with an unknown link ``g``.  Klein & Spady
(1993) maximise the quasi-log-likelihood

    sum_i w_i [z_i log g_{-i}(v_i) + (1 - z_i) log(1 - g_{-i}(v_i))],   v = X beta,

with ``g_{-i}`` the leave-one-out Nadaraya–Watson estimate of ``E[z | v]`` (probabilities
clipped to ``[clip, 1 - clip]``).  The objective is computed, with its analytic gradient,
by :class:`~semiparam.index._objective.LOOObjective` on the ``O(n log n)`` kernel sums of
:mod:`semiparam._kernels`.  The search below is shared with the Ichimura estimators
(:mod:`semiparam.index.ichimura`), which swap the loss for squared error.

Parametrisation
---------------
The objective depends on ``(beta, h)`` only through ``gamma = beta / h``.  With
``bandwidth="cv"`` the optimiser moves an unconstrained ``gamma`` (bandwidth 1), which is
joint likelihood cross-validation of direction and bandwidth, as R's ``np`` does; a
fixed bandwidth ``k`` (in standard deviations of the index) or Silverman's rule makes the
objective a scale-invariant function of the direction alone.  The design is centred and
scaled column by column first (the objective is invariant to centring; scaling only
conditions the optimiser).

Search strategy (the objective is multimodal)
---------------------------------------------
1. *Pilot directions*, deterministic: logit and probit slopes (weighted, with an
   intercept) and the least-squares slopes of ``z`` on ``x`` (proportional to the true
   direction when ``x`` is elliptical; Li & Duan 1989).  Near-duplicates are dropped.
2. *Bandwidth profile* (``bandwidth="cv"``): along each pilot direction the objective is
   scanned on a geometric grid of bandwidths from 1 to 0.02 standard deviations of the
   index -- a continuation from a large bandwidth down -- and the best grid points
   start local searches.
3. *Local polish*: L-BFGS (scipy) with the analytic gradient; the kernels re-use the
   previous sort order of the index, so an evaluation costs little more than a merge.
4. *Deterministic basin hopping*: on rugged objectives (small samples, discrete
   regressors) better optima sit in narrow basins at smaller bandwidths, which no local
   method reaches from the pilots (on R's birthwt data the ten random starts of ``np``
   ended at ten different values).  From the incumbent, ``n_restarts`` perturbed points
   (direction jittered by 20% of its norm, bandwidth shrunk by a factor in ``[1, 2.5]``;
   a *fixed* pseudo-random sequence, seed 0, independent of ``random_state``) each get a
   short L-BFGS run; any improvement is polished and becomes the incumbent.  With
   ``n_restarts="auto"`` the number of restarts is ``min(40, 8000 / n)`` (none above
   n = 8000): small samples, where evaluations are cheap and the objective rugged, are
   searched hardest; large samples have smooth objectives.
5. The best point is polished to ``tol``; the estimator reports whether that final
   polish converged (``converged_``) and warns (:class:`~semiparam.exceptions.ConvergenceWarning`)
   if not.

References
----------
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
Hayfield, T. and Racine, J. S. (2008). Nonparametric econometrics: the np package.
*Journal of Statistical Software* 27(5).
Li, K.-C. and Duan, N. (1989). Regression analysis under link violation. *Annals of
Statistics* 17(3), 1009-1052.
Wales, D. J. and Doye, J. P. K. (1997). Global optimization by basin-hopping.
*J. Phys. Chem. A* 101, 5111-5116.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import special
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .._validation import InstanceOf, Interval, NoneOK, Options
from ..exceptions import (
    BandwidthWarning,
    ConvergenceWarning,
    FlatLikelihoodWarning,
    SeparationWarning,
)
from ..links.kernel import KERNEL_NAMES, KernelLink, rule_of_thumb_bandwidth
from ._base import BaseIndexClassifier, normalize_direction
from ._inference import COVARIANCE, BootstrapCovariance, to_normalised
from ._objective import BernoulliLoss, LOOObjective, RelativeBandwidthObjective, weighted_sd
from .results import IndexResult

__all__ = ["KleinSpadyClassifier", "CoreFit", "fit_index_core"]

#: relative bandwidth grid of the profile scan (standard deviations of the index)
_PROFILE_GRID = np.geomspace(1.0, 0.02, 12)
#: local searches started from the profile scan
_N_LOCAL = 3
#: screening local searches (before the final polish): iteration cap and tolerance
_SCREEN_ITER = 100
_SCREEN_TOL = 1e-7
#: basin hopping: jitter of the direction, bandwidth shrink range, short-run iterations
_HOP_JITTER = 0.2
_HOP_SHRINK = 2.5
_HOP_ITER = 30
_HOP_SEED = 0
#: multi-resolution: above _SUB_MIN rows, search on a fixed subsample of _SUB_SIZE rows
_SUB_MIN = 40_000
_SUB_SIZE = 20_000
#: Gaussian kernel above this many rows: search with the triweight surrogate first
_SURROGATE_MIN = 1_500
#: canonical-bandwidth ratio triweight / Gaussian (Marron & Nolan 1988)
_TRI_PER_GAUSS = ((350 / 429) / (1 / 9) ** 2) ** 0.2 / ((0.5 / np.pi**0.5) / 1.0) ** 0.2
#: bandwidth (in index standard deviations) below which it is reported as collapsed
_H_COLLAPSE = 1e-3
#: ... and above which the link is essentially flat
_H_FLAT = 5.0


# --------------------------------------------------------------------------- pilots
def _weighted_ols_slopes(Xs, y, w):
    A = np.column_stack([np.ones(Xs.shape[0]), Xs])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    return coef[1:]


def _glm_slopes(Xs, z, w, link: str, max_iter: int = 50):
    """Weighted logit/probit slopes (with intercept) by damped Newton with a tiny ridge."""
    n, d = Xs.shape
    A = np.column_stack([np.ones(n), Xs])
    ridge = 1e-8 * max(w.sum(), 1.0) * np.r_[0.0, np.ones(d)]
    b = np.zeros(d + 1)
    p0 = np.clip((w @ z) / w.sum(), 1e-6, 1 - 1e-6)
    b[0] = np.log(p0 / (1 - p0)) if link == "logit" else special.ndtri(p0)

    def negll(bb):
        eta = A @ bb
        if link == "logit":
            ll = z * eta - np.logaddexp(0.0, eta)
        else:
            ll = z * special.log_ndtr(eta) + (1 - z) * special.log_ndtr(-eta)
        return -(w @ ll) + 0.5 * ridge @ bb**2

    f = negll(b)
    for _ in range(max_iter):
        eta = A @ b
        if link == "logit":
            p = special.expit(eta)
            score = A.T @ (w * (z - p))
            W = w * p * (1 - p)
        else:
            # probit: score via the inverse Mills ratios, Fisher information weights
            lp, lq = special.log_ndtr(eta), special.log_ndtr(-eta)
            # inverse Mills ratios phi/Phi in logs (no 0/0 far in the tails)
            lphi = -0.5 * eta**2 - 0.5 * np.log(2 * np.pi)
            phi = np.exp(lphi)
            r1, r0 = np.exp(lphi - lp), np.exp(lphi - lq)
            score = A.T @ (w * (z * r1 - (1 - z) * r0))
            W = w * np.exp(2 * lphi - lp - lq)
        grad = score - ridge * b
        H = (A * W[:, None]).T @ A + np.diag(ridge + 1e-12)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-8:
            fn = negll(b + t * step)
            if fn <= f + 1e-12 * abs(f):
                break
            t *= 0.5
        b, f_old, f = b + t * step, f, fn
        if abs(f_old - f) <= 1e-12 * max(1.0, abs(f)):
            break
    return b[1:]


def pilot_directions(Xs, z, w, binary: bool = True):
    """Deterministic pilot directions (unit norm, standardised coordinates).

    Binary outcomes: logit, probit and least squares; continuous outcomes: least
    squares and sliced inverse regression (10 slices; Li 1991).  Directions within
    about one degree of an earlier one are dropped.
    """
    cands = []
    if binary:
        cands.append(_glm_slopes(Xs, z, w, "logit"))
        cands.append(_glm_slopes(Xs, z, w, "probit"))
    cands.append(_weighted_ols_slopes(Xs, z, w))
    if not binary:
        cands.append(_sir_direction(Xs, z, w))
    out = []
    for c in cands:
        nrm = np.linalg.norm(c)
        if not np.isfinite(nrm) or nrm == 0:
            continue
        u = c / nrm
        if all(abs(u @ o) < 0.99985 for o in out):
            out.append(u)
    if not out:
        out.append(np.ones(Xs.shape[1]) / np.sqrt(Xs.shape[1]))
    return out


def _sir_direction(Xs, y, w, n_slices: int = 10):
    order = np.argsort(y, kind="stable")
    slices = np.array_split(order, min(n_slices, max(2, y.size // 5)))
    sw = w.sum()
    M = np.zeros((Xs.shape[1], Xs.shape[1]))
    for s in slices:
        ws = w[s].sum()
        if ws <= 0:
            continue
        m = (w[s] @ Xs[s]) / ws
        M += (ws / sw) * np.outer(m, m)
    C = np.cov(Xs, rowvar=False, aweights=np.maximum(w, 1e-300))
    C = np.atleast_2d(C)
    try:
        L = np.linalg.cholesky(C + 1e-10 * np.eye(C.shape[0]))
        Li = np.linalg.inv(L)
        vals, vecs = np.linalg.eigh(Li @ M @ Li.T)
        return Li.T @ vecs[:, -1]
    except np.linalg.LinAlgError:
        return np.ones(Xs.shape[1])


# --------------------------------------------------------------------------- search
@dataclass
class CoreFit:
    """What :func:`fit_index_core` found (no validation, no warnings issued)."""

    direction: np.ndarray  # unnormalised, original coordinates; index X @ direction, bandwidth 1
    gamma_std: np.ndarray  # the same in standardised coordinates
    mean: np.ndarray
    sd: np.ndarray
    fun: float  # minimised objective (weighted mean loss)
    null_fun: float  # objective of a constant link
    loss_sum: float  # weighted summed loss (sum_i c_i loss_i)
    n_iter: int
    n_evals: int
    converged: bool
    objective: LOOObjective
    mask: np.ndarray | None
    separated: bool
    h_rel: float  # bandwidth in standard deviations of the index


def _lbfgs(fg, x0, max_iter, ftol, gtol):
    return minimize(
        fg, x0, jac=True, method="L-BFGS-B",
        options={"maxiter": int(max_iter), "ftol": ftol, "gtol": gtol, "maxcor": 20},
    )


def _probe(fval, x, f0, tol):
    """Look for descent around ``x``: coordinate steps and a rescaling of 0.1% of |x|.

    Returns an improved point or None.  Used where L-BFGS stops at a kink of the
    objective (clipped probabilities, the Epanechnikov kernel's jump in K'), where the
    gradient need not vanish at a minimum.
    """
    step = 1e-3 * max(float(np.linalg.norm(x)), 1e-12)
    best, bx = f0 - tol * max(1.0, abs(f0)), None
    probes = [x * (1 + 1e-3), x * (1 - 1e-3)]
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = step
        probes += [x + e, x - e]
    for p in probes:
        f = fval(p)
        if f < best:
            best, bx = f, p
    return bx


def _polish(fg, fval, x0, max_iter, tol, rounds=3):
    """Final L-BFGS polish; a stop at a kink is verified by probing (``_probe``).

    Returns ``(result, n_iter, converged)``: converged when L-BFGS meets its criteria, or
    when it stops on a failed line search and no probe finds descent.
    """
    n_iter = 0
    res = _lbfgs(fg, x0, max_iter, tol, tol)
    n_iter += int(res.nit)
    for _ in range(rounds):
        if res.success:
            return res, n_iter, True
        if res.status != 2 or not np.isfinite(res.fun):
            return res, n_iter, False
        better = _probe(fval, res.x, res.fun, tol)
        if better is None:
            return res, n_iter, True
        res = _lbfgs(fg, better, max_iter, tol, tol)
        n_iter += int(res.nit)
    return res, n_iter, bool(res.success)


def _standardise(X, w):
    sw = w.sum()
    mean = (w @ X) / sw
    sd = np.sqrt(np.maximum((w @ (X - mean) ** 2) / sw, 0.0))
    bad = ~(sd > 1e-12 * np.maximum(np.abs(X).max(axis=0), 1e-300))
    if np.any(bad):  # a column constant among the weighted rows: fall back to plain sd
        sd = np.where(bad, X.std(axis=0), sd)
        sd = np.where(sd > 0, sd, 1.0)
    return (X - mean) / sd, mean, sd


def auto_restarts(n: int) -> int:
    """Basin-hopping restarts for ``n_restarts="auto"``: ``min(12, 3000 // n)``."""
    return int(min(12, 3000 // max(int(n), 1)))


def _subsample(w, m):
    """A deterministic subsample of ``m`` rows with positive weight (fixed permutation)."""
    pos = np.flatnonzero(w > 0)
    perm = np.random.default_rng(_HOP_SEED).permutation(pos.size)
    return np.sort(pos[perm[:m]])


def fit_index_core(X, z, w, *, kernel, loss, bandwidth, trim, max_iter, tol, n_restarts,
                   binary=True, start=None):
    """Unchecked core of the leave-one-out kernel index estimators.

    Parameters
    ----------
    X, z, w : ndarrays
        Validated design, outcome and weights (no checks here).
    kernel : str
    loss : BernoulliLoss or SquaredLoss
    bandwidth : "cv", "silverman" or float
        Joint cross-validation, or a bandwidth fixed in standard deviations of the index.
    trim : float or None
        Fraction trimmed from each tail of the pilot index (rows stay in the link
        estimates, leave the objective).
    max_iter, tol : int, float
        Iteration cap and tolerance of the final quasi-Newton polish.
    n_restarts : int or "auto"
        Basin-hopping restarts (see the module docstring).
    binary : bool
        Pilot directions for a binary (logit/probit/OLS) or continuous (OLS/SIR) outcome.
    start : ndarray, optional
        Unnormalised direction in original coordinates (bandwidth 1 along it when
        ``bandwidth="cv"``): skip the global search and only polish from here (used by
        the bootstrap).

    Returns
    -------
    CoreFit

    Notes
    -----
    Two warm starts keep large problems cheap (both end with a polish of the requested
    objective on all rows, so they change where the search looks, never what is
    optimised):

    * more than ``_SUB_MIN`` rows: the whole search runs on a fixed subsample of
      ``_SUB_SIZE`` rows, and its answer (bandwidth rescaled by the ``n^(-1/5)`` rate)
      starts the polish on all rows;
    * ``kernel="gaussian"`` with more than ``_SURROGATE_MIN`` rows: the search runs with
      the triweight kernel at the matching canonical bandwidth (``h_tri = 2.978 h``),
      whose sums cost ``O(n log n)``, and the Gaussian objective is then polished.
    """
    kw = dict(loss=loss, trim=trim, max_iter=max_iter, tol=tol, n_restarts=n_restarts,
              binary=binary)
    npos = int(np.count_nonzero(w > 0))
    pre = None
    if start is None and npos > _SUB_MIN:
        sub = _subsample(w, _SUB_SIZE)
        pre = fit_index_core(X[sub], z[sub], w[sub], kernel=kernel, bandwidth=bandwidth, **kw)
        scale = (npos / _SUB_SIZE) ** 0.2 if bandwidth == "cv" else 1.0
        start = pre.direction * scale
    elif start is None and kernel == "gaussian" and npos > _SURROGATE_MIN:
        bw = bandwidth if isinstance(bandwidth, str) else bandwidth * _TRI_PER_GAUSS
        if bandwidth == "silverman":
            bw = rule_of_thumb_bandwidth(1.0, npos, "gaussian") * _TRI_PER_GAUSS
        pre = fit_index_core(X, z, w, kernel="triweight", bandwidth=bw, **kw)
        start = pre.direction * (_TRI_PER_GAUSS if bandwidth == "cv" else 1.0)
    Xs, mean, sd = _standardise(X, w)
    pilots = pilot_directions(Xs, z, w, binary=binary)
    separated = False
    if binary:
        separated = _separates(Xs @ pilots[0], z, w)
    mask = None
    if trim is not None and trim > 0:
        v0 = Xs @ pilots[0]
        lo, hi = _weighted_quantiles(v0, w, [trim, 1.0 - trim])
        mask = (v0 >= lo) & (v0 <= hi)
    obj = LOOObjective(Xs, z, w, kernel=kernel, loss=loss, mask=mask)

    if bandwidth == "cv":
        k = None
        fg, fval = obj.value_and_grad, obj.value

        def to_gamma(x):
            return x
    else:
        k = rule_of_thumb_bandwidth(1.0, npos, kernel) if bandwidth == "silverman" else float(bandwidth)
        robj = RelativeBandwidthObjective(obj, k)
        fg, fval, to_gamma = robj.value_and_grad, robj.value, robj.gamma

    n_iter = 0
    if start is not None:
        x0 = np.asarray(start, dtype=float) * sd
        if k is not None:
            x0 = x0 / np.linalg.norm(x0)
        cands = [x0]
    else:
        scored = []
        for u in pilots:
            if k is None:
                s = weighted_sd(Xs @ u, w)
                for hr in _PROFILE_GRID:
                    x = u / (hr * s)
                    scored.append((fval(x), x))
            else:
                scored.append((fval(u), u))
        scored.sort(key=lambda t: t[0])
        cands = [x for _, x in scored[:_N_LOCAL]]
    best = None
    for x0 in cands:
        res = _lbfgs(fg, x0, min(max_iter, _SCREEN_ITER), _SCREEN_TOL, _SCREEN_TOL)
        n_iter += int(res.nit)
        if best is None or res.fun < best.fun:
            best = res
    hops = auto_restarts(npos) if n_restarts == "auto" else int(n_restarts)
    if start is not None:
        hops = 0
    rng = np.random.default_rng(_HOP_SEED)
    d = Xs.shape[1]
    for _ in range(hops):
        x = best.x
        p = x + _HOP_JITTER * np.linalg.norm(x) * rng.standard_normal(d) / np.sqrt(d)
        shrink = np.exp(rng.uniform(0.0, np.log(_HOP_SHRINK)))
        if k is None:
            p = p * shrink
        res = _lbfgs(fg, p, _HOP_ITER, 1e-8, 1e-6)
        n_iter += int(res.nit)
        if res.fun < best.fun - 1e-12 * max(1.0, abs(best.fun)):
            res2 = _lbfgs(fg, res.x, min(max_iter, _SCREEN_ITER), _SCREEN_TOL, _SCREEN_TOL)
            n_iter += int(res2.nit)
            best = res2 if res2.fun <= res.fun else res
    final, it, converged = _polish(fg, fval, best.x, max_iter, tol)
    n_iter += it
    if final.fun <= best.fun:
        best = final
    gamma = to_gamma(best.x)
    fun = float(best.fun)
    v = Xs @ gamma
    if _cov(v, z, w) < 0:
        gamma = -gamma
    sdv = weighted_sd(Xs @ gamma, w)
    h_rel = 1.0 / sdv if sdv > 0 else np.inf
    return CoreFit(
        direction=gamma / sd, gamma_std=gamma, mean=mean, sd=sd, fun=fun,
        null_fun=obj.null_value(), loss_sum=fun * obj.csum,
        n_iter=n_iter + (pre.n_iter if pre is not None else 0),
        n_evals=obj.n_evals + (pre.n_evals if pre is not None else 0), converged=converged, objective=obj, mask=mask,
        separated=separated, h_rel=h_rel,
    )


def _flatness(core):
    """(gain, threshold): log-likelihood gain of the fitted link over a constant one.

    Bernoulli loss: ``n (F_0 - F)``; squared loss: the Gaussian profile likelihood
    ``(n / 2) log(F_0 / F)``.  Threshold ``(d / 2) log n`` (a BIC-type rule: the
    direction and the bandwidth are ``d`` free parameters).
    """
    n = core.objective.csum
    d = core.gamma_std.size
    if isinstance(core.objective.loss, BernoulliLoss):
        gain = n * (core.null_fun - core.fun)
    else:
        gain = 0.5 * n * np.log(core.null_fun / core.fun) if core.fun > 0 else np.inf
    return float(gain), 0.5 * d * float(np.log(max(n, 2.0)))


def _cov(v, z, w):
    sw = w.sum()
    return float(w @ ((v - (w @ v) / sw) * (z - (w @ z) / sw)))


def _separates(v, z, w):
    pos, neg = v[(z == 1) & (w > 0)], v[(z == 0) & (w > 0)]
    if pos.size == 0 or neg.size == 0:
        return False
    return bool(pos.min() >= neg.max() or pos.max() <= neg.min())


def _weighted_quantiles(v, w, qs):
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    cw = cw / cw[-1]
    return [float(v[order][min(np.searchsorted(cw, q), v.size - 1)]) for q in qs]


# --------------------------------------------------------------------------- shared estimator logic
class _LOOIndexMixin:
    """Fit logic shared by Klein–Spady and Ichimura (binary and continuous outcomes)."""

    _binary_outcome = True

    def _loss(self):  # pragma: no cover - overridden
        raise TypeError("subclasses define the loss")

    def _fit_core(self, X, z, w, *, start=None):
        """Unchecked fit on validated arrays (``fit`` calls it once, the bootstrap B times)."""
        # L-BFGS-B's tiny BLAS calls are much slower with a threaded BLAS on a busy machine
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_core_unlimited(X, z, w, start=start)

    def _fit_core_unlimited(self, X, z, w, *, start=None):
        return fit_index_core(
            X, z, w, kernel=self.kernel, loss=self._loss(), bandwidth=self.bandwidth,
            trim=getattr(self, "trim", None), max_iter=self.max_iter, tol=self.tol,
            n_restarts=self.n_restarts, binary=self._binary_outcome, start=start,
        )

    def _fit_common(self, X, z, w, link_target=None):
        core = self._fit_core(X, z, w)
        self._core = core
        self._nobs = int(np.count_nonzero(w > 0))
        self._direction = core.direction
        self.kernel_ = self.kernel
        self.n_iter_ = int(core.n_iter)
        self.n_evals_ = int(core.n_evals)
        self.converged_ = bool(core.converged)
        self.coef_, scale = normalize_direction(core.direction, self.normalize)
        self.bandwidth_ = float(1.0 / abs(scale))
        index = X @ self.coef_
        self.link_ = KernelLink(kernel=self.kernel, bandwidth=self.bandwidth_).fit(
            index, z if link_target is None else link_target, sample_weight=w
        )
        self.n_trimmed_ = 0 if core.mask is None else int(np.count_nonzero(~core.mask))
        self._warn(core)
        return core

    def _warn(self, core):
        name = type(self).__name__
        if core.separated:
            warnings.warn(
                f"{name}: the classes are perfectly separated by a linear index (the logit "
                "pilot separates them). The leave-one-out likelihood then improves as the "
                "bandwidth shrinks; the reported direction is the best one found and its "
                "standard errors are not reliable.",
                SeparationWarning, stacklevel=4,
            )
        if core.h_rel < _H_COLLAPSE:
            warnings.warn(
                f"{name}: the bandwidth collapsed to {core.h_rel:.3g} standard deviations of "
                "the index (the leave-one-out link interpolates neighbours). The fit is "
                "reported as found; consider a fixed bandwidth.",
                BandwidthWarning, stacklevel=4,
            )
        gain, threshold = _flatness(core)
        if core.h_rel > _H_FLAT or gain < threshold:
            warnings.warn(
                f"{name}: the objective is flat: the kernel link improves on a constant by "
                f"{gain:.3g} log-likelihood units, less than the BIC-type threshold "
                f"(d/2) log n = {threshold:.3g} (objective {core.fun:.6g}, constant link "
                f"{core.null_fun:.6g}, bandwidth {core.h_rel:.3g} index standard "
                "deviations). The direction is poorly identified by these data.",
                FlatLikelihoodWarning, stacklevel=4,
            )
        if not core.converged:
            warnings.warn(
                f"{name}: the final quasi-Newton polish stopped before converging "
                f"(max_iter={self.max_iter}, tol={self.tol}); converged_ is False.",
                ConvergenceWarning, stacklevel=4,
            )

    def _covariance(self, X, z, w, core, cov_type):
        if cov_type is None:
            return None, {}
        if cov_type == "bootstrap":
            boot = BootstrapCovariance(
                lambda wb: self._fit_core(X, z, wb, start=core.direction).direction,
                w, self.coef_, self.normalize, self.n_bootstrap, self.random_state,
            ).run()
            self.bootstrap_replicates_ = boot.replicates
            info = {"Bootstrap reps": int(boot.replicates.shape[0])}
            if boot.n_failed:
                info["Failed reps"] = int(boot.n_failed)
            return boot.cov(), info
        obj = core.objective
        H, S, _ = obj.inference_terms(core.gamma_std)
        est = COVARIANCE[cov_type](H, S, obj.c, core.gamma_std)
        return to_normalised(est.cov(), core.sd, core.direction, self.normalize), {}

    def _result(self, cov, extra, *, llf=None, objective=None, cov_type="none", model=""):
        info = {"Kernel": self.kernel, "Bandwidth": self.bandwidth_,
                "Bandwidth choice": str(self.bandwidth) if isinstance(self.bandwidth, str)
                else f"{self.bandwidth:g} sd"}
        if self.n_trimmed_:
            info["Trimmed rows"] = self.n_trimmed_
        info.update(extra)
        return IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(),
            nobs=self._nobs, model=model,
            normalize=self.normalize, llf=llf, objective=objective,
            converged=self.converged_, cov_type=cov_type if cov is not None else "none",
            info=info,
        )


_COMMON_CONSTRAINTS = {
    "kernel": [Options(set(KERNEL_NAMES))],
    "bandwidth": [Interval(Real, 0, None, closed="neither"), Options({"cv", "silverman"})],
    "normalize": [Options({"unit", "first"})],
    "n_bootstrap": [Interval(Integral, 2, None)],
    "n_restarts": [Interval(Integral, 0, None), Options({"auto"})],
    "max_iter": [Interval(Integral, 1, None)],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "random_state": [NoneOK(), Interval(Integral, 0, None), InstanceOf(np.random.Generator)],
}


class KleinSpadyClassifier(_LOOIndexMixin, BaseIndexClassifier):
    """Klein–Spady semiparametric maximum likelihood (leave-one-out kernel link).

    Parameters
    ----------
    kernel : {"epanechnikov", "biweight", "triweight", "gaussian"}, default="epanechnikov"
        Kernel of the link estimate.  The compact kernels run in ``O(n log n)`` exactly;
        ``"gaussian"`` is R np's default (exact below n = 600, a fast Gauss transform
        above).
    bandwidth : "cv", "silverman" or float, default="cv"
        ``"cv"``: chosen jointly with the direction by maximising the leave-one-out
        likelihood (R np's choice).  A float: fixed, in standard deviations of the
        index.  ``"silverman"``: ``1.06 n^(-1/5)`` standard deviations, rescaled to the
        kernel by canonical bandwidths.
    trim : float in [0, 0.5) or None, default=None
        Trimming: rows whose pilot (logit) index lies in the lower or upper ``trim``
        tail leave the objective (they still enter the link estimates of the others),
        in the spirit of Klein & Spady's density trimming.  None: no trimming.
    clip : float in (0, 0.5), default=1e-6
        Leave-one-out probabilities are clipped to ``[clip, 1 - clip]``.  R np uses
        ``sqrt(machine epsilon)`` (about 1.49e-8).
    normalize : {"unit", "first"}, default="unit"
        Report coefficients with unit norm, or with the first equal to 1 (R np).
    cov_type : {"efficient", "sandwich", "bootstrap"} or None, default="efficient"
        Covariance of the normalised coefficients (see :mod:`semiparam.index._inference`).
    n_bootstrap : int, default=200
        Bootstrap replicates (``cov_type="bootstrap"``).
    n_restarts : int or "auto", default="auto"
        Deterministic basin-hopping restarts of the global search (module docstring).
    max_iter : int, default=500
        Iteration cap of each quasi-Newton polish.
    tol : float, default=1e-9
        Tolerance (relative objective change and projected gradient) of the polish.
    random_state : None, int or numpy Generator, default=None
        Seeds the bootstrap only; the point estimate is deterministic.

    Attributes
    ----------
    coef_ : ndarray (n_features,)
        Normalised coefficients (the sign makes the index positively correlated with
        the outcome under ``"unit"``).
    link_ : KernelLink
        The kernel link fitted on the normalised index ``X @ coef_`` with ``bandwidth_``.
    bandwidth_ : float
        The bandwidth in units of the normalised index.
    loglik_loo_ : float
        Maximised leave-one-out log-likelihood, summed over rows (weighted; trimmed rows
        excluded).  R np reports ``fval = -loglik_loo_ / n``.
    n_iter_, n_evals_ : int
        Quasi-Newton iterations and objective evaluations of the whole search.
    converged_ : bool
    n_trimmed_ : int
    result_ : IndexResult
        Immutable result with ``params``, ``std_errors``, ``conf_int``, ``summary()``.
    classes_, n_features_in_, feature_names_in_

    Notes
    -----
    Integer sample weights are close to, but not the same as, repeating rows: the
    leave-one-out link leaves a row out together with all its weight, whereas a
    repeated row would be predicted by its own copies.

    References
    ----------
    Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for
    binary response models. *Econometrica* 61(2), 387-421.

    Examples
    --------
    >>> from semiparam.index import KleinSpadyClassifier
    >>> from semiparam.simulate import make_single_index
    >>> X, y = make_single_index(500, [1.0, -1.0], link="cloglog", random_state=0)
    >>> est = KleinSpadyClassifier().fit(X, y)
    >>> est.coef_.round(1)
    array([ 0.7, -0.7])
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "trim": [NoneOK(), Interval(Real, 0, 0.5, closed="left")],
        "clip": [Interval(Real, 0, 0.5, closed="neither")],
        "cov_type": [Options({"efficient", "sandwich", "bootstrap"}), NoneOK()],
    }

    def __init__(self, *, kernel="epanechnikov", bandwidth="cv", trim=None, clip=1e-6,
                 normalize="unit", cov_type="efficient", n_bootstrap=200, n_restarts="auto",
                 max_iter=500, tol=1e-9, random_state=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.trim = trim
        self.clip = clip
        self.normalize = normalize
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _loss(self):
        return BernoulliLoss(self.clip)

    def _fit(self, X, z, w):
        core = self._fit_common(X, z, w)
        self.loglik_loo_ = -float(core.loss_sum)
        cov, extra = self._covariance(X, z, w, core, self.cov_type)
        self.result_ = self._result(
            cov, extra, llf=self.loglik_loo_, cov_type=self.cov_type or "none",
            model="Klein-Spady",
        )
        return self
