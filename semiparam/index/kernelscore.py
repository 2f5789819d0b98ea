"""Root of the efficient score with a leave-one-out kernel link (Klein-Spady type).

Model: ``P(z = 1 | x) = g(x'beta)`` with ``g`` unknown, ``beta`` on the unit sphere.  The
direction solves the efficient score equation

    U(beta) = sum_i w_i c_i (x_i - E[x | t_i]) (z_i - g(t_i)) = 0,
    c_i = g'(t_i) / (g(t_i) (1 - g(t_i))),  t = X beta,

with ``g``, ``g'`` and ``E[x | t]`` leave-one-out Nadaraya-Watson estimates at the index
(the Klein-Spady objective's machinery, :meth:`~semiparam.index._objective.LOOObjective.nuisances`)
and bandwidth ``h = bandwidth_factor * min(sd(t), IQR(t)/1.349) * n^(-1/5)``.  This is the
first-order condition of Klein & Spady's (1993) likelihood with the kernel weights held
fixed: the score is orthogonal to the link, so first-order error in the estimated link
does not move the root, and the neighbours' positions do not enter the estimating
equation (maximising the leave-one-out likelihood itself differentiates through them;
with ~180 coefficients that freedom overfits, ``docs/policy.md``).  It is solved by the
Fisher scoring of :func:`semiparam.index.efficient_score.solve_efficient_score` (pilot,
then frozen nuisances) from a logit pilot direction, or from ``start``.

Units.  The design is centred and *whitened* internally, ``Xs = (X - mean) W`` with
``W = Sigma^(-1/2)`` the inverse square root of the weighted covariance, and the direction
mapped back, ``beta = W b``.  The score equation is equivariant to every invertible linear
map of the columns and, on whitened columns, so is every step of the iteration (Newton
steps, normalisation and the step cap commute with rotations, and the nuisances depend on
the index only): the fitted direction does not depend on the units of the columns, nor on
any reparametrisation ``X A`` (OSPO's reduced design changes that way with the units of
the contexts).  Weights are scaled to mean one (relative weights).

Inference.  ``cov_type="sandwich"``: ``H^+ S H^+`` in the tangent space with
``S = sum_i (w_i c_i r_i)^2 R_i R_i'``, ``R_i = x_i - E[x | t_i]`` and leave-one-out
residuals ``r_i = z_i - g_{-i}(t_i)``, mapped to ``coef_`` by the delta method.
``"bootstrap"``: ``n_bootstrap`` multinomial reweightings of the rows
(:class:`~semiparam.index._inference.BootstrapCovariance`), each solved from the
full-sample estimate.  ``None``: no covariance.

References
----------
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from threadpoolctl import threadpool_limits

from .._validation import InstanceOf, Interval, NoneOK, Options
from ..exceptions import ConvergenceWarning, FlatLikelihoodWarning, warn
from ..links.kernel import KERNEL_NAMES, KernelLink
from ._base import BaseIndexClassifier, normalize_direction
from ._inference import BootstrapCovariance, projected_pinv, to_normalised
from .efficient_score import LeaveOneOutKernelProvider, solve_efficient_score
from .kleinspady import LINK_BANDWIDTHS
from .newton import logit_pilot
from .results import IndexResult
from .separation import check_separation, warn_separation

__all__ = ["KernelScoreIndexClassifier"]


def _whitening(X, w):
    """``(mean, W, W^-1)`` with ``W = Sigma^(-1/2)`` of the weighted covariance (weights
    summing to ``n``); the design is full rank (``check_design``)."""
    mean = (w @ X) / w.sum()
    Xc = X - mean
    S = (Xc * w[:, None]).T @ Xc / w.sum()
    lam, V = np.linalg.eigh(0.5 * (S + S.T))
    lam = np.maximum(lam, 1e-300)
    return mean, (V / np.sqrt(lam)) @ V.T, (V * np.sqrt(lam)) @ V.T


class KernelScoreIndexClassifier(BaseIndexClassifier):
    """Single-index binary classifier: the root of the efficient score, kernel link.

    Fits ``P(y = classes_[1] | x) = g(x'beta)`` with ``g`` unknown (module docstring:
    estimating equation, units, inference).  The OSPO policy learner is this estimator
    on a preference table's difference design.

    Parameters
    ----------
    normalize : {"unit", "first"}, default="unit"
        Report ``coef_`` with unit norm, or with the first coefficient equal to 1.
    kernel : {"gaussian", "epanechnikov", "biweight", "triweight"}, default="gaussian"
        Kernel of the leave-one-out link and of ``E[x | t]``.
    bandwidth_factor : float > 0, default=1.0
        ``c`` in ``h = c * min(sd(t), IQR(t)/1.349) * n^(-1/5)``.
    clip : float in (0, 0.5), default=1e-3
        Link estimates are clipped to ``[clip, 1 - clip]`` in the weights and residuals.
    start : None or array-like (n_features,), default=None
        Starting direction (in the columns' units).  None: the slopes of a logit with
        intercept (:func:`semiparam.index.newton.logit_pilot`).
    max_iter : int >= 0, default=50
        Fisher-scoring iterations (0: stop at the start).
    tol : float > 0, default=0.01
        Stop when the Newton decrement per direction (the squared remaining step in
        standard errors) is below ``tol`` at a frozen iterate.
    cov_type : {"sandwich", "bootstrap", None}, default="sandwich"
    n_bootstrap : int >= 0, default=200
        Replicates of ``cov_type="bootstrap"`` (0: none).
    random_state : None, int or numpy Generator, default=None
        Seeds the bootstrap only.

    Attributes
    ----------
    coef_ : ndarray (n_features,)
        Normalised direction (oriented so that the index correlates positively with
        ``y`` under ``"unit"``).
    link_ : KernelLink
        Monotone kernel link on ``X @ coef_`` with one pseudo-observation (prediction), at
        ``bandwidth_`` or a narrower multiple chosen as Klein–Spady's is.
    bandwidth_ : float
        Bandwidth of the score's link in units of ``X @ coef_``.
    loglik_loo_ : float
        Leave-one-out log-likelihood at the fit (clipped link, weighted sum).
    start_ : ndarray (n_features,)
        The normalised starting direction.
    n_iter_, converged_, decrement_
        Iterations, whether the decrement criterion was met, the final decrement.
    step_norms_, decrements_ : tuple of float
        Size (radians, whitened coordinates) and decrement of each iteration's step.
    separated_, separation_kind_
        From :func:`semiparam.index.separation.check_separation`.
    result_ : IndexResult
    classes_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from semiparam.simulate import make_single_index
    >>> X, y = make_single_index(2000, [1.0, -1.0, 0.5], link="cloglog", random_state=0)
    >>> KernelScoreIndexClassifier().fit(X, y).coef_.round(1)
    array([ 0.7, -0.7,  0.3])
    """

    _parameter_constraints = {
        **BaseIndexClassifier._parameter_constraints,
        "kernel": [Options(set(KERNEL_NAMES))],
        "bandwidth_factor": [Interval(Real, 0.0, None, closed="neither")],
        "clip": [Interval(Real, 0.0, 0.5, closed="neither")],
        "start": [NoneOK(), InstanceOf(np.ndarray, list, tuple)],
        "max_iter": [Interval(Integral, 0, None)],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "cov_type": [Options({"sandwich", "bootstrap", None})],
        "n_bootstrap": [Interval(Integral, 0, None)],
        "random_state": [NoneOK(), InstanceOf(Integral, np.random.Generator)],
    }

    def __init__(self, *, normalize="unit", kernel="gaussian", bandwidth_factor=1.0,
                 clip=1e-3, start=None, max_iter=50, tol=0.01, cov_type="sandwich",
                 n_bootstrap=200, random_state=None):
        self.normalize = normalize
        self.kernel = kernel
        self.bandwidth_factor = bandwidth_factor
        self.clip = clip
        self.start = start
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    # -- the unchecked core --------------------------------------------------------------
    def _provider(self, Xs, z, w):
        return LeaveOneOutKernelProvider(Xs, z, w, kernel=self.kernel,
                                         bandwidth_factor=self.bandwidth_factor, clip=self.clip)

    def _solve(self, Xs, z, w, b0):
        # small dense algebra in a loop: one BLAS thread (no thrashing on a busy machine)
        with threadpool_limits(limits=1, user_api="blas"):
            return solve_efficient_score(self._provider(Xs, z, w), b0,
                                         max_iter=self.max_iter, tol=self.tol)

    def _start(self, X, Xs, z, w, Winv):
        """``(start, separation kind)``: the start in whitened coordinates (``W^-1 start``
        or the logit slopes on ``Xs``) and the separation verdict of
        :func:`~semiparam.index.separation.check_separation` (read from the logit's
        Newton, the same certificate on the same design ``[Xs, 1]``, where it ran)."""
        if self.start is not None:
            s = np.asarray(self.start, dtype=float).ravel()
            if s.shape != (X.shape[1],) or not np.all(np.isfinite(s)) or not np.any(s != 0):
                raise ValueError(
                    f"start must be a finite, nonzero vector of length n_features = "
                    f"{X.shape[1]}; got shape {np.shape(self.start)}.")
            return Winv @ s, check_separation(X, z, w)
        b, separated = logit_pilot(Xs, z, w)
        b = np.asarray(b, dtype=float)
        if not (np.all(np.isfinite(b)) and np.any(b != 0)):
            b = np.ones(X.shape[1])
        return b, separated

    # -- fit ---------------------------------------------------------------------------
    def _fit(self, X, z, w):
        keep = w > 0
        if not np.all(keep):
            X, z, w = X[keep], z[keep], w[keep]
        w_user, w = w, w / w.mean()
        mean, W, Winv = _whitening(X, w)
        Xs = (X - mean) @ W
        b0, self.separation_kind_ = self._start(X, Xs, z, w, Winv)
        b0 = b0 / np.linalg.norm(b0)
        self.start_ = normalize_direction(W @ b0, "unit")[0]
        sol = self._solve(Xs, z, w, b0)
        if sol.status == "flat":
            warn("KernelScoreIndexClassifier: the kernel link of y on the index is constant "
                 "(or the step matrix vanishes): the data carry no information about the "
                 "direction. coef_ is the iterate where this happened and converged_ is False.",
                 FlatLikelihoodWarning)
        elif not sol.converged and self.max_iter > 0:
            warn(f"KernelScoreIndexClassifier: Fisher scoring on the efficient score did not "
                 f"converge in max_iter={self.max_iter} iterations (smallest decrement per "
                 f"direction {sol.decrement:.3g} > tol={self.tol}); returning that iterate.",
                 ConvergenceWarning)
        b = sol.b
        provider = self._provider(Xs, z, w)
        t = Xs @ b
        if np.cov(t, z, aweights=w)[0, 1] < 0:  # a kernel link is not monotone: orient
            b, t = -b, -t
        h = sol.nuisances.h if sol.nuisances is not None else provider.bandwidth(t)
        self._direction = W @ b
        self.coef_, scale = normalize_direction(self._direction, self.normalize)
        self.n_iter_ = int(sol.n_iter)
        self.converged_ = bool(sol.converged) or self.max_iter == 0
        self.decrement_ = float(sol.decrement)
        self.step_norms_, self.decrements_ = sol.step_norms, sol.decrements
        self.bandwidth_ = float(h / abs(scale))
        g, _ = provider.objective.link_loo(t / h) if h > 0 else (np.full(z.shape, z @ w / w.sum()), None)
        g = np.clip(g, self.clip, 1.0 - self.clip)
        self.loglik_loo_ = float(w_user @ (z * np.log(g) + (1.0 - z) * np.log1p(-g)))
        self.separated_ = self.separation_kind_ is not None
        if self.separated_:
            warn_separation(
                "KernelScoreIndexClassifier", self.separation_kind_,
                "the direction is not identified by the score equation and no standard "
                "errors are reported.")
        index = X @ self.coef_
        # the prediction link of Klein–Spady: the fitted bandwidth or a narrower multiple
        self.link_ = KernelLink(kernel=self.kernel, prior_weight=1.0, monotone=bool(scale > 0),
                                bandwidth=[m * self.bandwidth_ for m in LINK_BANDWIDTHS],
                                ).fit(index, z, sample_weight=w)
        cov, cov_type, info = self._covariance(Xs, z, w, W, sol, b)
        info = {"Kernel": self.kernel, "Bandwidth": self.bandwidth_,
                "Iterations": self.n_iter_, **info}
        self.result_ = IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(), nobs=int(X.shape[0]),
            model="KernelScoreIndexClassifier", normalize=self.normalize,
            llf=self.loglik_loo_, converged=self.converged_, cov_type=cov_type, info=info,
        )

    # -- inference ---------------------------------------------------------------------
    def _covariance(self, Xs, z, w, W, sol, b):
        if self.cov_type is None or sol.status == "flat" or self.separated_:
            return None, "none", {}
        if self.cov_type == "sandwich":
            provider = self._provider(Xs, z, w)
            nu, Hp = sol.nuisances, sol.pinv
            if nu is None:  # max_iter = 0: the nuisances at the start
                nu = provider.pilot(b)
                if nu is None or not nu.informative:
                    return None, "none", {}
                Hp = projected_pinv(nu.gram(nu.q), b)
            r = provider.residual(b, nu)
            V = Hp @ nu.gram((nu.wc * r) ** 2) @ Hp
            return to_normalised(V, W, self._direction, self.normalize), "sandwich", {}
        if self.n_bootstrap == 0:
            return None, "none", {}

        def refit(wb):
            pos = wb > 0
            if np.unique(z[pos]).shape[0] < 2:
                raise ValueError("a resample with one class")
            return W @ self._solve(Xs[pos], z[pos], wb[pos] / wb[pos].mean(), b).b

        boot = BootstrapCovariance(refit, w, self.coef_, self.normalize, self.n_bootstrap,
                                   self.random_state).run()
        info = {"Bootstrap reps": int(boot.replicates.shape[0])}
        if boot.n_failed:
            info["Failed reps"] = int(boot.n_failed)
        if boot.replicates.shape[0] < 2:
            return None, "none", info
        return boot.cov(), "bootstrap", info
