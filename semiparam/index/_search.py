"""Global search for the leave-one-out kernel index estimators (private).

:func:`fit_index_core` is the unchecked core shared by
:class:`~semiparam.index.KleinSpadyClassifier` and the Ichimura estimators: it takes
validated arrays and a loss, and returns the best point it found with everything the
estimators need to report and to do inference (:class:`CoreFit`).

The objective (:mod:`semiparam.index._objective`) depends on ``(beta, h)`` only through
``gamma = beta / h``; with ``bandwidth="cv"`` the search moves ``gamma`` freely
(bandwidth 1), which is joint leave-one-out cross-validation of direction and
bandwidth, as R's ``np`` does.  A bandwidth fixed in index standard deviations makes the
objective a scale-invariant function of the direction alone
(:class:`~semiparam.index._objective.RelativeBandwidthObjective`).  The design is
centred and scaled column by column first.

The default: a sound estimate, not the deepest point
----------------------------------------------------
With ``floor > 0`` (the estimators' ``min_bandwidth="auto"``) the bandwidth stays above
``bandwidth_floor(n)`` (:class:`~semiparam.index._objective.FlooredBandwidthObjective`:
``h = floor (1 + e^rho)``), no random restarts are made (``n_restarts="auto"``), one
local search runs from each pilot's best profile point, and :func:`crossfit_choice`
picks among those optima the one whose refitted direction and link best predict held-out
folds.  Below the floor, and among the deeper optima a multistart finds, the
leave-one-out criterion rewards directions that split a small sample into cells.  The
strategy below (steps 2-6) is the search of ``min_bandwidth=0``, R np's unconstrained
cross-validation, and of explicit ``n_restarts > 0``.

Strategy (the objective is multimodal)
--------------------------------------
On small samples, above all with discrete regressors, the leave-one-out objective has
many local optima, most of them narrow and at small bandwidths (``docs/kleinspady.md``).
No single local method
finds the best of them, so the search spends a fixed, deterministic budget of short
L-BFGS runs (scipy, analytic gradient; the kernels re-use the previous sort order of
the index between evaluations):

1. *Pilot directions*: logit, probit and least-squares slopes for a binary outcome
   (least squares is proportional to the true direction for elliptical regressors;
   Li & Duan 1989); least squares and sliced inverse regression for a real one.
2. *Bandwidth profile* (``"cv"``): along each pilot the objective is scanned on a
   geometric grid of bandwidths from 1 to 0.02 index standard deviations -- a
   continuation from a large bandwidth down -- and the three best grid points get local
   searches (only the best one when there are no restarts, ``m = 0``: on large samples
   the three runs ended at the same optimum).
3. *Screened multistart*: ``3 m`` directions spread around the first pilot
   (``u * U(0, 2) + 1.5 mean|u| N(0, 1)`` coordinatewise) with log-uniform bandwidths
   in ``[0.02, 0.5]`` index standard deviations are scored by one evaluation each; the
   ``m`` best get 20 L-BFGS iterations.
4. *Moves from a pool* of the three best distinct optima: for each discrete column (at
   most 10 levels) its coefficient is increased by ``3 |gamma|`` (clusters by level are
   optima "at infinity" that small steps never reach), then ``m // 2`` basin-hopping
   steps (Wales & Doye 1997): the direction jittered by 20% of its (outlier-capped)
   norm and the bandwidth shrunk by a factor in ``[1, 2.5]``, 30 L-BFGS iterations.
5. The best point is polished to ``tol``; a stop of L-BFGS on a failed line search (a
   kink: clipped probabilities, the Epanechnikov kernel's jump in ``K'``) is verified
   by probing coordinate steps, and counts as converged only if none descends.
6. *Optional* (``n_simplex_starts = s > 0``), after the polish: ``s`` Nelder–Mead runs
   of R np's kind (``(beta_2..beta_d, h)`` of the raw design with ``beta_1 = 1``, R
   optim's initial simplex and tolerance, up to 2 500 evaluations each) from np's start
   distribution (the first pilot at the normal-reference bandwidth, then ``b_j U(0, 2)``
   plus small noise at ``U(0.5, 1.5) n^(-1/5)`` index sds).  On small rugged designs
   this local method reaches deeper optima than L-BFGS per start (its coarse simplex
   rolls over the narrow dips at tiny bandwidths), at ten times the evaluations.  The
   best end point is polished and replaces the result only where it ends lower, so this
   step never makes a fit worse.

All random numbers come from ``numpy.random.default_rng(0)`` (the optional simplex
starts from ``default_rng(1)``): the search is deterministic and independent of
``random_state`` (which seeds the bootstrap only).
``m`` (``n_restarts``) is ``"auto"`` by default: ``min(16, 2400 // n)`` (none from
n = 2400 on, where objectives are smooth and evaluations dear).

Two warm starts keep large problems cheap; both end with a polish of the requested
objective on all rows, so they change where the search looks, never what is optimised:
above 40 000 rows the search runs on a fixed subsample of 20 000 rows (its bandwidth
rescaled by the ``n^(-1/5)`` rate), and with ``kernel="gaussian"`` above 1 500 rows it
runs with the triweight kernel at the matching canonical bandwidth
(``h_tri = delta_tri / delta_phi h = 2.978 h``, Marron & Nolan 1988), whose sums cost ``O(n log n)``.  With up to
20 columns and a joint bandwidth the polish from a warm start is BFGS whose initial
inverse Hessian is the warm problem's own, by central differences of its gradient
(``2 d`` cheap evaluations) carried to this problem's coordinates: near-Newton steps
from the first iteration, half the evaluations of a cold L-BFGS polish.

How it compares with a Nelder–Mead multistart that mimics np's is measured in
``docs/kleinspady.md`` (``benchmarks/search_vs_np.py``).

References
----------
Li, K.-C. and Duan, N. (1989). Regression analysis under link violation. *Annals of
Statistics* 17(3), 1009-1052.
Li, K.-C. (1991). Sliced inverse regression for dimension reduction. *JASA* 86, 316-327.
Wales, D. J. and Doye, J. P. K. (1997). Global optimization by basin-hopping.
*J. Phys. Chem. A* 101, 5111-5116.
Marron, J. S. and Nolan, D. (1988). Canonical kernels for density estimation.
*Statist. Probab. Lett.* 7, 195-199.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .._kernels import bandwidth_ratio, kernel_sums_at
from ..stats import rule_of_thumb_bandwidth, standardize, weighted_quantile, weighted_sd
from ._objective import (
    BernoulliLoss,
    FlooredBandwidthObjective,
    LOOObjective,
    RelativeBandwidthObjective,
)
from ._pilots import pilot_directions

__all__ = ["CoreFit", "fit_index_core", "auto_restarts", "bandwidth_floor", "crossfit_choice"]

#: relative bandwidth grid of the profile scan (standard deviations of the index)
_PROFILE_GRID = np.geomspace(1.0, 0.02, 12)
#: local searches started from the profile scan
_N_LOCAL = 3
#: screening local searches (before the final polish): iteration cap and tolerance
_SCREEN_ITER = 40
_SCREEN_TOL = 1e-7
#: screened multistart: candidates per start, spread, bandwidth range, iterations
_MS_SCREEN = 3
_MS_SPREAD = 1.5
_MS_HREL = (0.02, 0.5)
_MS_ITER = 20
#: basin hopping: jitter of the direction, bandwidth shrink range, short-run iterations
_HOP_JITTER = 0.2
_HOP_SHRINK = 2.5
_HOP_ITER = 30
_SEED = 0
#: separation moves: a discrete column's coefficient is increased by this many |gamma|
_SEPARATE = 3.0
_MAX_LEVELS = 10
#: size of the pool of local optima the moves start from
_POOL = 3
#: multi-resolution: above _SUB_MIN rows, search on a fixed subsample of _SUB_SIZE rows
_SUB_MIN = 40_000
_SUB_SIZE = 20_000
#: Gaussian kernel above this many rows: search with the triweight surrogate first
_SURROGATE_MIN = 1_500
#: Nelder–Mead runs of ``n_simplex_starts``: evaluation cap and R optim's relative tolerance
_NM_MAXFEV = 2500
_NM_RELTOL = 1.5e-8
#: warm starts carry a finite-difference Hessian to the polish up to this many columns
_HESS_MAX_D = 20
#: cross-fitted choice among optima (sound mode): up to this many rows, folds, iterations
_CROSSFIT_MAX = 5_000
_CROSSFIT_FOLDS = 5
_CROSSFIT_ITER = 40
#: canonical-bandwidth ratio triweight / Gaussian (Marron & Nolan 1988)
_TRI_PER_GAUSS = bandwidth_ratio("triweight", "gaussian")


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
    weight_scale: float = 1.0  # the weights were divided by this (mean over rows that count)


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


def _polish(fg, fval, x0, max_iter, tol, hess_inv=None):
    """Final polish; a stop at a kink is verified by probing (``_probe``).

    With ``hess_inv`` (an inverse Hessian estimate at ``x0``) BFGS starts from it and
    takes near-Newton steps from the first iteration; whatever it does not finish,
    L-BFGS does.  Returns ``(result, n_iter, converged)``: converged when the
    quasi-Newton method meets its criteria, or when L-BFGS stops on a failed line search
    and no probe finds descent.  A probe that descends restarts L-BFGS there, as often
    as the iteration budget ``max_iter`` allows (each restart counts at least one
    iteration): only running out of it, or an abnormal stop other than a failed line
    search, counts as not converged.  (A fixed cap of three restarts declared the
    cloglog fit of issue 8, n = 2000, unconverged although two more restarts end where
    no probe descends.)
    """
    n_iter = 0
    if hess_inv is not None:
        res = minimize(fg, x0, jac=True, method="BFGS",
                       options={"hess_inv0": hess_inv, "gtol": tol, "maxiter": int(max_iter)})
        n_iter += int(res.nit)
        if res.success:
            return res, n_iter, True
        x0 = res.x if np.isfinite(res.fun) else x0
    res = _lbfgs(fg, x0, max_iter, tol, tol)
    n_iter += int(res.nit)
    while True:
        if res.success:
            return res, n_iter, True
        if res.status != 2 or not np.isfinite(res.fun):
            return res, n_iter, False
        better = _probe(fval, res.x, res.fun, tol)
        if better is None:
            return res, n_iter, True
        if n_iter >= max_iter:
            return res, n_iter, False
        res = _lbfgs(fg, better, max(max_iter - n_iter, 1), tol, tol)
        n_iter += max(int(res.nit), 1)


def _inverse_hessian(fg, x, rel_step=1e-4):
    """Inverse of the central-difference Hessian of ``fg``'s gradient at ``x``, or None.

    ``2 d`` gradient evaluations; None unless the symmetrised Hessian is positive
    definite and well enough conditioned (1e-10) to steer a Newton step.
    """
    d = x.size
    step = rel_step * max(float(np.linalg.norm(x)), 1e-12)
    H = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = step
        H[:, j] = (fg(x + e)[1] - fg(x - e)[1]) / (2 * step)
    H = 0.5 * (H + H.T)
    vals, vecs = np.linalg.eigh(H)
    if not (np.all(np.isfinite(vals)) and vals[0] > 1e-10 * vals[-1] > 0):
        return None
    Hinv = (vecs / vals) @ vecs.T
    return 0.5 * (Hinv + Hinv.T)


def auto_restarts(n: int) -> int:
    """Random starts for ``n_restarts="auto"``: ``min(16, 2400 // n)``."""
    return int(min(16, 2400 // max(int(n), 1)))


def _subsample(w, m):
    """A deterministic subsample of ``m`` rows with positive weight (fixed permutation)."""
    pos = np.flatnonzero(w > 0)
    perm = np.random.default_rng(_SEED).permutation(pos.size)
    return np.sort(pos[perm[:m]])


def bandwidth_floor(n: float, kernel: str, factor: float = 0.5) -> float:
    """Smallest cross-validated bandwidth (index standard deviations) of the default search.

    ``factor * 1.06 n^(-1/6)`` (``factor`` 0.5) carried to ``kernel`` by canonical bandwidths (as
    :func:`~semiparam.stats.rule_of_thumb_bandwidth`): Klein and Spady's theory
    asks the bandwidth to shrink no faster than ``n^(-1/6)``; the constant is the
    normal-reference one.  Measured in ``docs/soundness.md``.
    """
    return rule_of_thumb_bandwidth(1.0, n, kernel, rate=1 / 6, factor=factor)


def fit_index_core(X, z, w, *, kernel, loss, bandwidth, trim, max_iter, tol, n_restarts,
                   binary=True, start=None, pilots=None, n_simplex_starts=0, floor=0.0):
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
        Random starts ``m`` of the multistart (``m // 2`` basin-hopping moves follow).
    binary : bool
        Pilot directions for a binary (logit/probit/OLS) or continuous (OLS/SIR) outcome.
    start : ndarray, optional
        Unnormalised direction in original coordinates (bandwidth 1 along it when
        ``bandwidth="cv"``): skip the global search and only polish from here (the
        bootstrap, and the warm starts of large problems).
    pilots : list of ndarray, optional
        :func:`pilot_directions` of these very ``X, z, w`` when the caller has them.
    n_simplex_starts : int
        Nelder–Mead runs in R np's parametrisation added to the search (step 6).
    floor : float
        With ``bandwidth="cv"``: the smallest bandwidth (index standard deviations) the
        search may choose (:class:`FlooredBandwidthObjective`); 0 for none (R np).

    Returns
    -------
    CoreFit
    """
    # weights enter as a weighted mean: scaled to mean 1 over the rows that count, so the
    # search (and its tolerances) cannot see their overall scale; sums are scaled back
    weight_scale = float(w[w > 0].mean())
    w = w / weight_scale
    kw = dict(loss=loss, trim=trim, max_iter=max_iter, tol=tol, n_restarts=n_restarts,
              binary=binary, n_simplex_starts=n_simplex_starts)
    floor = float(floor) if bandwidth == "cv" else 0.0
    npos = int(np.count_nonzero(w > 0))
    Xs, mean, sd = standardize(X, w, check_input=False)
    if pilots is None:
        pilots = pilot_directions(Xs, z, w, binary=binary)
    pre = None
    if start is None and npos > _SUB_MIN:
        sub = _subsample(w, _SUB_SIZE)
        sub_floor = floor * (npos / _SUB_SIZE) ** (1 / 6)
        pre = fit_index_core(X[sub], z[sub], w[sub], kernel=kernel, bandwidth=bandwidth,
                             floor=sub_floor, **kw)
        scale = (npos / _SUB_SIZE) ** 0.2 if bandwidth == "cv" else 1.0
    elif start is None and kernel == "gaussian" and npos > _SURROGATE_MIN:
        if bandwidth == "silverman":
            bw = rule_of_thumb_bandwidth(1.0, npos, "gaussian") * _TRI_PER_GAUSS
        else:
            bw = bandwidth if isinstance(bandwidth, str) else bandwidth * _TRI_PER_GAUSS
        pre = fit_index_core(X, z, w, kernel="triweight", bandwidth=bw, pilots=pilots,
                             floor=floor * _TRI_PER_GAUSS, **kw)
        scale = _TRI_PER_GAUSS if bandwidth == "cv" else 1.0
    hess_inv = None
    if pre is not None:
        start = pre.direction * scale
        if bandwidth == "cv" and X.shape[1] <= _HESS_MAX_D:
            # the warm start's curvature, carried to this problem's coordinates
            # x = D x_pre (D = scale * sd / sd_pre): H^-1 = D H_pre^-1 D
            evals = pre.objective.n_evals
            Hinv = _inverse_hessian(pre.objective.value_and_grad, pre.gamma_std)
            pre.n_evals += pre.objective.n_evals - evals
            if Hinv is not None:
                D = scale * sd / pre.sd
                hess_inv = Hinv * np.outer(D, D)

    separated = bool(binary and _separates(Xs @ pilots[0], z, w))
    mask = None
    if trim is not None and trim > 0:
        v0 = Xs @ pilots[0]
        lo, hi = weighted_quantile(v0, [trim, 1.0 - trim], w, method="inverted_cdf",
                                   check_input=False)
        mask = (v0 >= lo) & (v0 <= hi)
    obj = LOOObjective(Xs, z, w, kernel=kernel, loss=loss, mask=mask)
    fobj = None
    if bandwidth == "cv":
        k = None
        if floor > 0 and hess_inv is None:
            fobj = FlooredBandwidthObjective(obj, floor)
            fg, fval, to_gamma = fobj.value_and_grad, fobj.value, fobj.gamma
        else:  # gamma itself (np's search, or the polish of a warm start)
            fg, fval, to_gamma = obj.value_and_grad, obj.value, np.asarray
    else:
        k = (rule_of_thumb_bandwidth(1.0, npos, kernel) if bandwidth == "silverman"
             else float(bandwidth))
        robj = RelativeBandwidthObjective(obj, k)
        fg, fval, to_gamma = robj.value_and_grad, robj.value, robj.gamma

    search = _Search(fg, fval, max_iter, fobj, obj.value)
    if start is not None:  # only the polish, straight from the start
        x0 = np.asarray(start, dtype=float) * sd
        x0 = x0 / np.linalg.norm(x0) if k is not None else search.encode(x0)
    else:
        x0 = search.run(Xs, w, pilots, k, n_restarts, npos).x
        if fobj is not None and npos <= _CROSSFIT_MAX:
            # 5'. among distinct optima, the one whose direction predicts held-out folds
            cands = [r.x for r in search.pilot_locals] + [r.x for r in search.pool]
            x0 = crossfit_choice(cands, fobj, Xs, z, w, kernel, loss, floor, search)
    best, it, converged = _polish(fg, fval, x0, max_iter, tol, hess_inv=hess_inv)
    search.n_iter += it
    if floor > 0 and fobj is None and 1.0 / weighted_sd(Xs @ best.x, w) < floor:
        # the warm start's polish went below the floor: polish again, floored
        fobj = FlooredBandwidthObjective(obj, floor)
        fg, fval, to_gamma = fobj.value_and_grad, fobj.value, fobj.gamma
        best, it, converged = _polish(fg, fval, fobj.encode(best.x), max_iter, tol)
        search.n_iter += it
    if start is None and k is None and n_simplex_starts > 0:
        # 6. np's own local search; kept only where it ends lower, so it never hurts
        alt = search.simplex_search(Xs, w, pilots[0], sd, npos, n_simplex_starts)
        if alt.fun < best.fun:
            polished, it, conv = _polish(fg, fval, alt.x, max_iter, tol)
            search.n_iter += it
            if polished.fun < best.fun:
                best, converged = polished, conv
    gamma = to_gamma(best.x)
    if _cov(Xs @ gamma, z, w) < 0:  # the objective is even in gamma: fix the sign
        gamma = -gamma
    sdv = weighted_sd(Xs @ gamma, w)
    # the reported value is the objective at the returned point, evaluated afresh
    # (L-BFGS-B can hand back the value of its last line-search trial)
    fun = float(obj.value(gamma))
    return CoreFit(
        direction=gamma / sd, gamma_std=gamma, mean=mean, sd=sd, fun=fun,
        null_fun=obj.null_value(), loss_sum=fun * obj.csum * weight_scale,
        n_iter=search.n_iter + (pre.n_iter if pre is not None else 0),
        n_evals=obj.n_evals + (pre.n_evals if pre is not None else 0),
        converged=converged, objective=obj, mask=mask, separated=separated,
        h_rel=1.0 / sdv if sdv > 0 else np.inf, weight_scale=weight_scale,
    )


class _Search:
    """The global search of the module docstring (steps 2-4) on one objective."""

    def __init__(self, fg, fval, max_iter, floored=None, fval_gamma=None):
        self.fg, self.fval, self.max_iter = fg, fval, max_iter
        self.fval_gamma = fval if fval_gamma is None else fval_gamma  # np's simplex
        self.floored = floored  # a FlooredBandwidthObjective, or None (gamma coordinates)
        self.n_iter = 0
        self.rng = np.random.default_rng(_SEED)

    def _gamma(self, x):
        return x if self.floored is None else self.floored.gamma(x)

    def encode(self, gamma):
        """Search coordinates of a bandwidth-1 ``gamma``."""
        return gamma if self.floored is None else self.floored.encode(gamma)

    def local(self, x0, iters, ftol=_SCREEN_TOL, gtol=_SCREEN_TOL):
        res = _lbfgs(self.fg, x0, min(self.max_iter, iters), ftol, gtol)
        self.n_iter += int(res.nit)
        return res

    def _bandwidth_scaled(self, Xs, w, u, h_rel):
        if self.floored is not None:
            h_rel = max(h_rel, self.floored.floor)
        return self.encode(u / (h_rel * max(weighted_sd(Xs @ u, w), 1e-300)))

    def simplex(self, x, sd, maxfev=_NM_MAXFEV):
        """R np's local search from ``x``: Nelder–Mead over ``(beta_2..beta_d, h)`` of the
        *raw* design with ``beta_1 = 1`` (``x`` is standardised; ``sd`` the column sds),
        R optim's initial simplex (every coordinate stepped by 10% of the largest) and
        relative tolerance.  Returns the end point, standardised."""
        g = x / sd
        j = 0 if g[0] != 0 else int(np.argmax(np.abs(g)))
        g = g if g[j] > 0 else -g  # the objective is even in the index
        beta, h = g / g[j], 1.0 / g[j]

        def f(p):
            if not p[-1] > 0:
                return np.inf
            return self.fval_gamma(np.insert(p[:-1], j, 1.0) / p[-1] * sd)

        p0 = np.append(np.delete(beta, j), h)
        step = 0.1 * np.max(np.abs(p0))
        f0 = f(p0)
        res = minimize(f, p0, method="Nelder-Mead", options={
            "initial_simplex": np.vstack([p0, p0 + step * np.eye(p0.size)]),
            "maxfev": int(maxfev), "xatol": 1e-10, "fatol": _NM_RELTOL * (abs(f0) + _NM_RELTOL)})
        p = res.x if np.isfinite(res.fun) and p0.size else p0
        return np.insert(p[:-1], j, 1.0) / p[-1] * sd

    def _simplex_starts(self, Xs, w, u0, sd, npos, count):
        """np's start distribution (its own stream): the pilot at the normal-reference
        bandwidth, then ``beta_j = b_j U(0, 2) + N(0, (0.2 sd(X b))^2)`` (standardised
        coordinates) at ``h = U(0.5, 1.5) n^(-1/5)`` index sds."""
        rng = np.random.default_rng(_SEED + 1)
        sdv = weighted_sd(Xs @ u0, w)
        d = u0.size
        out = [self._bandwidth_scaled(Xs, w, u0, 1.059 * npos ** -0.2)]
        while len(out) < count:
            u = u0 * rng.uniform(0.0, 2.0, d) + 0.2 * sdv * rng.standard_normal(d)
            out.append(self._bandwidth_scaled(Xs, w, u, rng.uniform(0.5, 1.5) * npos ** -0.2))
        return out[:count]

    def run(self, Xs, w, pilots, k, n_restarts, npos):
        fval, rng, d = self.fval, self.rng, Xs.shape[1]
        # 2. bandwidth profile along the pilots
        scored, by_pilot = [], []
        profile = _PROFILE_GRID
        if self.floored is not None:
            f = self.floored.floor
            profile = np.r_[_PROFILE_GRID[_PROFILE_GRID > 1.05 * f], 1.05 * f]
        for u in pilots:
            grid = profile if k is None else (None,)
            mine = []
            for hr in grid:
                x = u if hr is None else self._bandwidth_scaled(Xs, w, u, hr)
                mine.append((fval(x), x))
            scored += mine
            by_pilot.append(min(mine, key=lambda t: t[0]))
        scored.sort(key=lambda t: t[0])
        if n_restarts == "auto":
            m = 0 if self.floored is not None else auto_restarts(npos)
        else:
            m = int(n_restarts)
        pool = []
        self.pilot_locals = []
        if self.floored is not None:
            # sound mode: a local search from each pilot's best profile point, the
            # candidates of the cross-fitted choice
            for _, x in by_pilot:
                res = self.local(x, _SCREEN_ITER)
                self.pilot_locals.append(res)
                _pool_insert(pool, res)
        else:
            for _, x in scored[:_N_LOCAL if m > 0 else 1]:
                _pool_insert(pool, self.local(x, _SCREEN_ITER))
        # 3. screened multistart around the first pilot
        u0 = pilots[0]
        cands = []
        for _ in range(_MS_SCREEN * m):
            u = u0 * rng.uniform(0.0, 2.0, d) + _MS_SPREAD * np.abs(u0).mean() * rng.standard_normal(d)
            h_rel = np.exp(rng.uniform(*np.log(_MS_HREL)))
            x = u if k is not None else self._bandwidth_scaled(Xs, w, u, h_rel)
            cands.append((fval(x), x))
        cands.sort(key=lambda t: t[0])
        for _, x in cands[:m]:
            res = self.local(x, _MS_ITER, 1e-8, 1e-6)
            if len(pool) < _POOL or res.fun < pool[-1].fun:
                _pool_insert(pool, self.local(res.x, _SCREEN_ITER))
        # 4. separation moves and basin hopping from the pool
        moves = [("separate", j) for j in (_discrete_columns(Xs, w) if m > 0 else [])]
        moves += [("jitter", i) for i in range(m // 2)]
        self.pool = pool
        for kind, i in moves:
            src = pool[0] if kind == "separate" else pool[i % len(pool)]
            # moves act on the bandwidth-1 gamma; the floored search re-encodes them
            x = src.x if self.floored is None else self.floored.gamma(src.x)
            if kind == "separate":
                p = x.copy()
                p[i] += _SEPARATE * np.linalg.norm(x) * (1.0 if x[i] >= 0 else -1.0)
            else:
                p = x + _HOP_JITTER * _jitter_scale(x) * rng.standard_normal(d) / np.sqrt(d)
                if k is None:
                    p = p * np.exp(rng.uniform(0.0, np.log(_HOP_SHRINK)))
            p = self.encode(p) if k is None else p
            res = self.local(p, _HOP_ITER, 1e-8, 1e-6)
            if len(pool) < _POOL or res.fun < pool[-1].fun:
                _pool_insert(pool, self.local(res.x, _SCREEN_ITER))
        return pool[0]

    def simplex_search(self, Xs, w, u0, sd, npos, count):
        """Step 6: ``count`` Nelder–Mead runs of np's kind; the best end point, after a
        short L-BFGS run."""
        best = None
        for x in self._simplex_starts(Xs, w, u0, sd, npos, count):
            res = self.local(self.encode(self.simplex(self._gamma(x), sd)), _SCREEN_ITER)
            if best is None or res.fun < best.fun:
                best = res
        return best

def crossfit_choice(cands, fobj, Xs, z, w, kernel, loss, floor, search):
    """The candidate optimum (floored coordinates) with the smallest cross-fitted loss.

    Each candidate's direction and bandwidth are refitted on ``K - 1`` folds by a short
    floored L-BFGS run started from it; the held-out fold is then scored with the
    Nadaraya–Watson link of the training rows at the refitted index: the link and the
    direction never see the rows they score.  The leave-one-out objective alone cannot
    tell a sound optimum from one that fits the sample's cells; this score can.
    Candidates with (nearly) equal directions are scored once.
    """
    uniq, units = [], []
    for x in cands:
        g = fobj.gamma(x)
        u = g / np.linalg.norm(g)
        if all(abs(u @ o) < 0.99985 for o in units):
            uniq.append(x)
            units.append(u)
    if len(uniq) == 1:
        return uniq[0]
    n = z.size
    fold = np.random.default_rng(_SEED + 2).permutation(n) % _CROSSFIT_FOLDS
    scores = np.zeros(len(uniq))
    for f in range(_CROSSFIT_FOLDS):
        tr, te = fold != f, fold == f
        if not (np.any(w[te] > 0) and np.any(w[tr] > 0)):
            continue
        sub = LOOObjective(Xs[tr], z[tr], w[tr], kernel=kernel, loss=loss)
        sobj = FlooredBandwidthObjective(sub, floor)
        U = np.ascontiguousarray(np.column_stack([w[tr] * z[tr], w[tr]]))
        zbar = float(w[tr] @ z[tr]) / float(w[tr].sum())
        for c, x in enumerate(uniq):
            res = _lbfgs(sobj.value_and_grad, sobj.encode(fobj.gamma(x)), _CROSSFIT_ITER,
                         _SCREEN_TOL, _SCREEN_TOL)
            search.n_iter += int(res.nit)
            gam = sobj.gamma(res.x)
            S0, _ = kernel_sums_at(Xs[te] @ gam, Xs[tr] @ gam, U, 1.0, kernel)
            ok = S0[:, 1] > 0
            g = np.where(ok, S0[:, 0] / np.where(ok, S0[:, 1], 1.0), zbar)
            scores[c] += float(w[te] @ loss.value(z[te], g))
    return uniq[int(np.argmin(scores))]


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


def _pool_insert(pool, res):
    """Insert a local optimum into the pool (sorted, at most ``_POOL``, distinct values)."""
    if not np.isfinite(res.fun):
        return
    for r in pool:
        if abs(r.fun - res.fun) <= 1e-9 * max(1.0, abs(res.fun)):
            return
    pool.append(res)
    pool.sort(key=lambda r: r.fun)
    del pool[_POOL:]


def _jitter_scale(x):
    """``|x|`` with every coordinate capped at 3 times the median magnitude.

    A coefficient driven to a large value (a separated discrete column) would otherwise
    make the jitter swamp all the others.
    """
    a = np.abs(x)
    cap = 3.0 * np.median(a) + 1e-12 * a.max()
    return float(np.linalg.norm(np.minimum(a, cap)))


def _discrete_columns(Xs, w, max_levels=_MAX_LEVELS):
    """Columns with at most ``max_levels`` distinct values among rows with weight."""
    rows = Xs[w > 0]
    return [j for j in range(Xs.shape[1]) if np.unique(rows[:, j]).size <= max_levels]


def _cov(v, z, w):
    sw = w.sum()
    return float(w @ ((v - (w @ v) / sw) * (z - (w @ z) / sw)))


def _separates(v, z, w):
    pos, neg = v[(z == 1) & (w > 0)], v[(z == 0) & (w > 0)]
    if pos.size == 0 or neg.size == 0:
        return False
    return bool(pos.min() >= neg.max() or pos.max() <= neg.min())
