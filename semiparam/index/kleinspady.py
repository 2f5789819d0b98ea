"""Klein–Spady semiparametric maximum likelihood for binary choice.

The model is ``P(z = 1 | x) = g(x'beta)`` with an unknown link ``g``.  Klein & Spady
(1993) maximise the quasi-log-likelihood

    sum_i w_i [z_i log g_{-i}(v_i) + (1 - z_i) log(1 - g_{-i}(v_i))],   v = X beta,

with ``g_{-i}`` the leave-one-out Nadaraya–Watson estimate of ``E[z | v]`` (probabilities
clipped to ``[clip, 1 - clip]``).  The objective is computed, with its analytic gradient,
by :class:`~semiparam.index._objective.LOOObjective` on the ``O(n log n)`` kernel sums of
:mod:`semiparam._kernels`.  The search below is shared with the Ichimura estimators
(:mod:`semiparam.index.ichimura`), which swap the loss for squared error.

Parametrisation and search
--------------------------
The objective depends on ``(beta, h)`` only through ``gamma = beta / h``.  With
``bandwidth="cv"`` the optimiser moves an unconstrained ``gamma`` (bandwidth 1): joint
likelihood cross-validation of direction and bandwidth, as R's ``np`` does.  A fixed
bandwidth (in standard deviations of the index) or Silverman's rule makes the objective
a scale-invariant function of the direction alone.

The objective is multimodal (``docs/kleinspady.md``).  The search, shared with the
Ichimura estimators and documented in :mod:`semiparam.index._search`, is deterministic: pilot directions (logit, probit, least
squares), a bandwidth profile along each (continuation from a large bandwidth down), a
screened multistart of short L-BFGS runs with the analytic gradient, separation moves
for discrete regressors, basin hopping from a pool of the best optima, and a final
quasi-Newton polish whose convergence is verified even at kinks of the objective
(``converged_``; :class:`~semiparam.exceptions.ConvergenceWarning` otherwise).  Large
samples search on a subsample first; the Gaussian kernel searches with its triweight
surrogate first.  Either way the final polish is of the requested objective on all rows.

Inference
---------
``cov_type="efficient"`` estimates Klein & Spady's efficient covariance
``[sum_i w_i g'_i^2 / (g_i (1 - g_i)) R_i R_i']^-`` with ``R_i = x_i - E[x | v_i]``
(:mod:`semiparam.index._inference`), with ``g``, ``g'`` and ``E[x | v]`` from
leave-one-out kernel estimates at **1.4 times the fitted bandwidth**.  The
cross-validated bandwidth is tuned to estimate ``g``; its derivative needs more
smoothing (optimal rate ``n^(-1/7)`` against ``n^(-1/5)``), and at the fitted bandwidth
the variance of ``g'`` inflates ``E[g'^2]`` and hence the information.  The factor was
chosen by Monte Carlo coverage of the 95% intervals (``benchmarks/coverage_index.py``,
``docs/soundness.md``).  ``"sandwich"`` uses the same terms with the outer product of
the per-row scores as the meat.  ``"bootstrap"`` (:mod:`semiparam.index.bootstrap`,
multinomial frequency weights) reruns the whole (deterministic) search on resampled
rows, so it also measures how far the search jumps between nearby optima, which a local
polish from the full-sample estimate would not.

References
----------
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
Hayfield, T. and Racine, J. S. (2008). Nonparametric econometrics: the np package.
*Journal of Statistical Software* 27(5).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._threads import single_blas_thread
from .._validation import InstanceOf, Interval, NoneOK, Options
from ..exceptions import (
    BandwidthWarning,
    ConvergenceWarning,
    FlatLikelihoodWarning,
    warn,
)
from ..links.kernel import KERNEL_NAMES, KernelLink
from ._base import BaseIndexClassifier, normalize_direction
from ._inference import COVARIANCE, BootstrapCovariance, to_normalised
from ._objective import BernoulliLoss
from ._search import _flatness, bandwidth_floor, fit_index_core
from .results import IndexResult, cov_type_constraint
from .separation import check_separation, warn_separation

__all__ = ["KleinSpadyClassifier"]

#: the covariance is estimated at this multiple of the fitted bandwidth (module docstring)
_INFERENCE_BANDWIDTH_FACTOR = 1.4
#: pseudo-observations of the prediction link (KernelLink's prior_weight)
_PRIOR_WEIGHT = 1.0
#: candidate bandwidths of the prediction link, in multiples of the fitted one, chosen by
#: the link's leave-one-out log loss (``KernelLink`` with a sequence of bandwidths): the
#: floor keeps the search's bandwidth from collapsing, but a steep link at large n is
#: predicted better with less smoothing (docs/soundness.md, section 3)
LINK_BANDWIDTHS = (1.0, 0.7, 0.5, 0.35, 0.25)
#: bandwidth (in index standard deviations) below which it is reported as collapsed
_H_COLLAPSE = 1e-3
#: ... and above which the link is essentially flat
_H_FLAT = 5.0


# --------------------------------------------------------------------------- shared estimator logic
class _LOOIndexMixin:
    """Fit logic shared by Klein–Spady and Ichimura (binary and continuous outcomes)."""

    _binary_outcome = True

    def _loss(self):  # pragma: no cover - overridden
        raise TypeError("subclasses define the loss")

    def _fit_core(self, X, z, w, *, start=None):
        """Unchecked fit on validated arrays (``fit`` calls it once, the bootstrap B times)."""
        # L-BFGS-B's tiny BLAS calls are much slower with a threaded BLAS on a busy machine
        with single_blas_thread():
            return self._fit_core_unlimited(X, z, w, start=start)

    def _fit_core_unlimited(self, X, z, w, *, start=None):
        return fit_index_core(
            X, z, w, kernel=self.kernel, loss=self._loss(), bandwidth=self.bandwidth,
            trim=getattr(self, "trim", None), max_iter=self.max_iter, tol=self.tol,
            n_restarts=self.n_restarts, binary=self._binary_outcome, start=start,
            n_simplex_starts=self.n_simplex_starts, floor=self._floor(w),
        )

    def _floor(self, w):
        """The search's bandwidth floor in index standard deviations (``min_bandwidth``)."""
        mb = self.min_bandwidth
        if mb == "auto":
            return bandwidth_floor(np.count_nonzero(w > 0), self.kernel)
        return float(mb)

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
        # prediction: a monotone link with one pseudo-observation at the mean (binary),
        # at the fitted bandwidth or a narrower one that predicts the left-out rows better
        h_link = (tuple(m * self.bandwidth_ for m in LINK_BANDWIDTHS)
                  if self._binary_outcome else self.bandwidth_)
        self.link_ = KernelLink(
            kernel=self.kernel, bandwidth=h_link,
            prior_weight=_PRIOR_WEIGHT if self._binary_outcome else 0.0,
            monotone=self._binary_outcome,
        ).fit(index, z if link_target is None else link_target, sample_weight=w)
        self.n_trimmed_ = 0 if core.mask is None else int(np.count_nonzero(~core.mask))
        self.separation_kind_ = check_separation(X, z, w) if self._binary_outcome else None
        self.separated_ = self.separation_kind_ is not None
        self._warn(core)
        return core

    def _warn(self, core):
        name = type(self).__name__
        if self.separated_:
            warn_separation(
                name, self.separation_kind_,
                "the leave-one-out objective improves as the bandwidth shrinks; the reported "
                "direction is the best one found and its standard errors are not reliable.")
        if core.h_rel < _H_COLLAPSE:
            warn(
                f"{name}: the bandwidth collapsed to {core.h_rel:.3g} standard deviations of "
                "the index (the leave-one-out link interpolates neighbours). The fit is "
                "reported as found; consider a fixed bandwidth.",
                BandwidthWarning,
            )
        gain, threshold = _flatness(core)
        if core.h_rel > _H_FLAT or gain < threshold:
            warn(
                f"{name}: the objective is flat: the kernel link improves on a constant by "
                f"{gain:.3g} log-likelihood units, less than the BIC-type threshold "
                f"(d/2) log n = {threshold:.3g} (objective {core.fun:.6g}, constant link "
                f"{core.null_fun:.6g}, bandwidth {core.h_rel:.3g} index standard "
                "deviations). The direction is poorly identified by these data.",
                FlatLikelihoodWarning,
            )
        if not core.converged:
            warn(
                f"{name}: the final quasi-Newton polish stopped before converging "
                f"(max_iter={self.max_iter}, tol={self.tol}); converged_ is False.",
                ConvergenceWarning,
            )

    def _covariance(self, X, z, w, core, cov_type):
        if cov_type is None:
            return None, {}
        if cov_type == "bootstrap":
            boot = BootstrapCovariance(
                lambda wb: self._fit_core(X, z, wb).direction,
                w, self.coef_, self.normalize, self.n_bootstrap, self.random_state,
            ).run()
            self.bootstrap_replicates_ = boot.replicates
            info = {"Bootstrap reps": int(boot.replicates.shape[0])}
            if boot.n_failed:
                info["Failed reps"] = int(boot.n_failed)
            return boot.cov(), info
        return self._analytic_covariance(core, cov_type), {}

    def _analytic_covariance(self, core, cov_type):
        """Efficient or sandwich covariance of ``coef_`` from a core fit."""
        obj = core.objective
        # the information is estimated with a wider bandwidth than the fit (module note)
        c = _INFERENCE_BANDWIDTH_FACTOR
        H, S, _ = obj.inference_terms(core.gamma_std / c)
        # frequency-weight semantics: the information scales with the user's weights
        V = COVARIANCE[cov_type](H, S, obj.c, core.gamma_std).cov() * c**2 / core.weight_scale
        return to_normalised(V, core.sd, core.direction, self.normalize)

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
    "n_simplex_starts": [Interval(Integral, 0, None)],
    "min_bandwidth": [Interval(Real, 0, None, closed="left"), Options({"auto"})],
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
        ``"gaussian"`` is R np's default (exact sums for small n, a fast Gauss transform
        above; the thresholds are :mod:`semiparam._kernels`' ``GAUSSIAN_AUTO_EXACT_MAX``
        and ``LOO_DENSE_MAX``).
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
        Random starts of a deterministic global search (``m // 2`` basin-hopping moves
        follow).  ``"auto"``: none with the default bandwidth floor (a local search from
        each pilot direction, chosen by a cross-fitted score: the deepest leave-one-out
        optimum of a multistart predicts worse out of sample, ``docs/soundness.md``);
        ``min(16, 2400 // n)`` with ``min_bandwidth=0`` (R np's search).
    n_simplex_starts : int, default=0
        Nelder–Mead runs of R np's own kind (its parametrisation, simplex, tolerance and
        start distribution) added to the search (``bandwidth="cv"`` only).  Each costs
        1 000-2 500 evaluations (0.2-0.5 s at n = 150); the best end point replaces the
        fit only where it is lower, so more starts never make a fit worse.  With 10 the
        fit matched or beat an np-style 10-start search on 24 of 29 small rugged data
        sets, against 23 of 29 without, at about seven times the CPU
        (``docs/kleinspady.md``, section 2).
    min_bandwidth : "auto" or float >= 0, default="auto"
        Smallest bandwidth of ``bandwidth="cv"``, in standard deviations of the index.
        ``"auto"``: ``0.5 * 1.06 n^(-1/6)`` carried to the kernel (Klein and Spady's
        theory needs the bandwidth to shrink no faster than ``n^(-1/6)``; at smaller
        cross-validated bandwidths the index splits small samples into cells,
        ``docs/soundness.md``).  0: R np's unconstrained joint cross-validation.
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
        The kernel link fitted on the normalised index ``X @ coef_`` (binary outcomes:
        the monotone prediction link with one pseudo-observation, at ``bandwidth_`` or the
        narrower multiple of it, down to a quarter, with the smallest leave-one-out log loss;
        ``link_.bandwidth_`` says which).
    bandwidth_ : float
        The bandwidth in units of the normalised index.
    loglik_loo_ : float
        Maximised leave-one-out log-likelihood, summed over rows (weighted; trimmed rows
        excluded).  R np reports ``fval = -loglik_loo_ / n``.
    n_iter_, n_evals_ : int
        Quasi-Newton iterations and objective evaluations of the whole search.
    converged_ : bool
    separated_ : bool
        Whether a linear index (with a threshold) separates the classes, completely or
        quasi-completely (:func:`semiparam.index.separation.check_separation`).
    separation_kind_ : {"complete", "quasi-complete", "numerical"} or None
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
        "cov_type": cov_type_constraint("efficient", "sandwich", "bootstrap"),
    }

    def __init__(self, *, kernel="epanechnikov", bandwidth="cv", trim=None, clip=1e-6,
                 normalize="unit", cov_type="efficient", n_bootstrap=200, n_restarts="auto",
                 n_simplex_starts=0, min_bandwidth="auto", max_iter=500, tol=1e-9,
                 random_state=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.min_bandwidth = min_bandwidth
        self.trim = trim
        self.clip = clip
        self.normalize = normalize
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap
        self.n_restarts = n_restarts
        self.n_simplex_starts = n_simplex_starts
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
