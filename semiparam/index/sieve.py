"""Single-index binary choice with a monotone spline-sieve link, by joint maximum likelihood.

Model: ``P(z = 1 | x) = sigmoid(a + sum_k c_k I_k(x'beta))`` with I-splines ``I_k`` and
``c_k >= 0`` (:mod:`semiparam.links.sieve`), the number of basis functions growing like
``n^(1/5)``.  The direction ``beta`` and the link coefficients ``(a, c)`` maximise the
likelihood jointly.

Algorithm
---------
1. Standardise the columns of ``X`` (weighted mean and standard deviation); the direction
   is estimated in these units and mapped back at the end.
2. Warm start: a logit of ``z`` on the standardised design with a constant (statsmodels
   ``Logit``; ``GLM`` with frequency weights for weighted rows); its slopes give the initial
   direction ``beta0`` and its linear index the initial link, reproduced exactly by the
   spline (B-splines reproduce straight lines).
3. Outer iteration: knots at (weighted) quantiles of the current index ``X beta0``; the
   direction is parametrised on the affine chart ``beta = beta0 + Q u`` (``Q``
   an orthonormal basis of the complement of the unit vector ``beta0``), which fixes the
   scale that the link would otherwise absorb.  The joint likelihood in ``(u, a, c)`` is
   maximised by Fisher scoring (Gauss-Newton with the expected information) with the
   bounds ``c >= 0`` enforced exactly in each step and a backtracking line search
   (:func:`semiparam.links.sieve.bounded_newton`).  Then the chart is re-centred at the
   new direction, the knots are recomputed from the new index (so they follow it), the
   link is carried over to the new knots (refitted at the current index, starting from
   its values at the new knots' Greville abscissae), and the joint fit is repeated.  The
   outer loop stops once the direction no longer moves, or once a knot update no longer
   increases the likelihood (the better fit is kept, so the loop cannot cycle).
4. Inference: the expected information of the joint parameters ``(u, a, c_free)`` is
   inverted (coefficients at their bound ``c_k = 0`` are held fixed, i.e. inference is
   conditional on the active set), the direction block is taken (this profiles out the
   link coefficients) and mapped through the chart ``Q``, the column scaling and the
   normalisation Jacobian.  For sieve MLE this plug-in is the usual estimate of the
   semiparametric efficient variance of the direction (Shen 1997; Chen 2007).

Each Fisher-scoring step evaluates the sparse B-spline basis at the current index
(``degree + 1`` nonzeros a row), so the cost is O(n (d^2 + degree^2)) per step.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy import special

from .._validation import InstanceOf, Interval, NoneOK
from ..exceptions import ConvergenceWarning, FlatLikelihoodWarning, warn
from ..stats import standardize
from ..links.sieve import (
    RIDGE,
    MonotoneSplineBasis,
    SieveLink,
    LinkObjective,
    bounded_newton,
    link_bounds,
)
from ._base import (
    MIN_ROWS_PER_COEF_MONOTONE,
    BaseIndexClassifier,
    normalization_jacobian,
    normalize_direction,
)
from .bootstrap import bootstrap
from .newton import fit_logit
from .results import IndexResult, cov_type_constraint
from .separation import check_separation, warn_separation

__all__ = ["SieveIndexClassifier"]

#: pseudo-observations of the prediction link (SieveLink.with_prior)
_PRIOR_WEIGHT = 1.0

#: rows used by the logit warm start (a random subsample when n is larger)
WARM_START_ROWS = 50_000
#: cap on the outer (knot update) iterations
MAX_OUTER = 25
#: largest direction move per Fisher-scoring step (chart units, about radians)
MAX_STEP = 0.5


class SieveIndexClassifier(BaseIndexClassifier):
    """Monotone single-index classifier with a spline-sieve link (joint sieve MLE).

    ``P(y = classes_[1] | x) = g(x'beta)`` with ``g(v) = sigmoid(a + sum_k c_k I_k(v))``,
    I-splines ``I_k`` on knots at quantiles of the index and ``c_k >= 0``: the link is
    nondecreasing, so the sign of ``beta`` is identified; its scale is not, and ``coef_``
    is normalised.  Direction and link are estimated jointly by maximum likelihood
    (Fisher scoring on a chart of the unit sphere, knots following the index); see the
    module docstring for the algorithm.

    Parameters
    ----------
    n_basis : int or None, default=None
        Number of I-spline functions of the link (at least ``degree``).  None: grows like
        ``n^(1/5)`` (:func:`semiparam.links.sieve.default_n_basis`).
    degree : int, default=3
        Polynomial degree of the spline link.
    normalize : {"unit", "first"}, default="unit"
        Report ``coef_`` with unit norm, or with the first coefficient equal to 1 (the
        link on ``X @ coef_`` is then decreasing if the first coefficient was negative).
    max_iter : int, default=100
        Maximum total number of Fisher-scoring steps (over all knot updates).
    tol : float, default=1e-10
        Convergence tolerance on the predicted decrease of the mean negative
        log-likelihood; the outer loop stops when the direction moves less than
        ``sqrt(tol)`` (radians) after a knot update.
    random_state : int, Generator or None, default=None
        Draws the rows of the logit warm start when there are more than 50,000 rows
        (the joint fit always uses every row; only the starting point depends on it),
        and the bootstrap resamples.
    cov_type : {"efficient", "bootstrap"} or None, default="efficient"
        ``"efficient"``: the profiled expected information of the joint sieve likelihood
        (module docstring).  ``"bootstrap"``: the covariance of ``n_bootstrap`` refits on
        resampled rows (:mod:`semiparam.index.bootstrap`; the basis size held at
        ``n_basis_``, each refit started from the full-sample direction), the choice
        where the analytic standard errors are flagged (``InferenceWarning``).
        None: no covariance.
    n_bootstrap : int, default=200
        Bootstrap replicates (``cov_type="bootstrap"``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Normalised direction.
    link_ : SieveLink
        The fitted link on the index ``X @ coef_``.
    n_basis_ : int
        Number of I-spline functions used.
    loglik_ : float
        Maximised (weighted) log-likelihood.
    n_iter_ : int
        Fisher-scoring steps taken.
    n_outer_ : int
        Knot updates (outer iterations).
    converged_ : bool
        Whether both loops met their criteria.
    separated_ : bool
        Whether a linear index (with a threshold) separates the classes, completely or
        quasi-completely (:func:`semiparam.index.separation.check_separation`).
    separation_kind_ : {"complete", "quasi-complete", "numerical"} or None
    result_ : IndexResult
        Coefficients, covariance (profiled expected information) and summary.
    classes_ : ndarray of shape (2,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    See Also
    --------
    semiparam.links.SieveLink : the link estimator on a known index.

    Examples
    --------
    >>> import numpy as np
    >>> from semiparam.index import SieveIndexClassifier
    >>> from semiparam.simulate import make_single_index, angle
    >>> X, y = make_single_index(2000, [1.0, -1.0, 0.5], link="cloglog", random_state=0)
    >>> est = SieveIndexClassifier().fit(X, y)
    >>> angle(est.coef_, [1.0, -1.0, 0.5]) < 5
    True
    """

    min_rows_per_coef = MIN_ROWS_PER_COEF_MONOTONE

    _parameter_constraints = {
        **BaseIndexClassifier._parameter_constraints,
        "n_basis": [Interval(numbers.Integral, 1, None, closed="left"), NoneOK()],
        "degree": [Interval(numbers.Integral, 1, 5, closed="both")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": [Interval(numbers.Integral, 0, None, closed="left"), NoneOK(),
                         InstanceOf(np.random.Generator)],
        "cov_type": cov_type_constraint("efficient", "bootstrap"),
        "n_bootstrap": [Interval(numbers.Integral, 2, None, closed="left")],
    }

    def __init__(self, *, n_basis=None, degree=3, normalize="unit", max_iter=100, tol=1e-10,
                 random_state=None, cov_type="efficient", n_bootstrap=200):
        self.n_basis = n_basis
        self.degree = degree
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap

    # -- fitting ---------------------------------------------------------------
    def _fit(self, X, z, w, direction=None):
        n, d = X.shape
        sw = float(w.sum())
        Xs, mean, sd = standardize(X, w, check_input=False)
        n_basis = SieveLink(n_basis=self.n_basis, degree=self.degree).resolve_n_basis(
            int(np.count_nonzero(w)))

        intercept, slopes = _logit_start(Xs, z, w, self.random_state)
        if direction is not None:  # a bootstrap refit: the full-sample direction, logit's scale
            u = np.asarray(direction, dtype=float) * sd
            slopes = u * (np.linalg.norm(slopes) / max(float(np.linalg.norm(u)), 1e-300))
        size = float(np.linalg.norm(slopes))
        if not np.isfinite(size) or size < 1e-12:
            slopes, size, intercept = np.eye(d)[0], 1e-3, float(special.logit(
                np.clip(w @ z / sw, 1e-6, 1 - 1e-6)))
        beta0 = slopes / size
        if size > 25.0:  # (quasi-)separation: start from a less extreme link
            intercept, size = intercept * 25.0 / size, 25.0
        start = (lambda x, a=intercept, b=size: a + b * x)

        n_iter, n_outer, best = 0, 0, None
        outer_tol = max(np.sqrt(self.tol), 1e-8)
        while True:
            n_outer += 1
            v0 = Xs @ beta0
            basis = MonotoneSplineBasis.from_index(v0, n_basis, self.degree, sample_weight=w)
            a0, c0 = basis.ispline_coef(start(basis.greville))
            lo, hi = link_bounds(basis.n_basis)
            if best is not None:
                # carry the link over to the new knots: refit it at the current index
                # (concave in (a, c): a few Newton steps from the quasi-interpolant)
                link_obj = LinkObjective(basis.design(v0, False), z, w, 1.0,
                                          basis.transform(1.0))
                ac, _ = bounded_newton(lambda th, dv: link_obj.newton(th) if dv else
                                       link_obj(th, False), np.r_[a0, c0], lo, hi,
                                       max_iter=50, tol=self.tol)
                a0, c0 = ac[0], ac[1:]
            Q = _complement(beta0)
            objective = _JointObjective(v0, Xs @ Q, basis, z, w)
            lower, upper = np.r_[np.full(d - 1, -np.inf), lo], np.r_[np.full(d - 1, np.inf), hi]
            theta, info = bounded_newton(
                objective, np.r_[np.zeros(d - 1), a0, c0], lower, upper,
                max_iter=max(self.max_iter - n_iter, 1), tol=self.tol,
                max_step=MAX_STEP, capped=slice(0, d - 1))
            n_iter += info["n_iter"]
            moved = float(np.linalg.norm(theta[:d - 1]))
            fit = {"theta": theta, "info": info, "objective": objective, "basis": basis,
                   "Q": Q, "beta": beta0 + Q @ theta[:d - 1], "moved": moved}
            if best is not None and info["f"] >= best["info"]["f"] - self.tol:
                # the knot update no longer improves the (penalised) likelihood: keep the
                # better of the two fits (the outer loop is monotone, so it cannot cycle)
                if info["f"] < best["info"]["f"]:
                    best = fit
                converged, reason = bool(best["info"]["converged"]), best["info"]["message"]
                break
            best = fit
            if info["converged"] and moved < outer_tol:
                converged, reason = True, ""
                break
            if n_iter >= self.max_iter or n_outer >= MAX_OUTER or not info["converged"]:
                converged = False
                reason = (info["message"] if not info["converged"] else
                          f"the direction still moved by {moved:.2g} rad after a knot update")
                break
            norm = float(np.linalg.norm(fit["beta"]))
            s_old = basis.spline_coef(theta[d - 1], theta[d:])
            start = (lambda x, b=basis, s=s_old, k=norm: b.design(k * x, False).value(s))
            beta0 = fit["beta"] / norm

        if not converged:
            warn(f"SieveIndexClassifier did not converge within max_iter={self.max_iter} "
                 f"Fisher-scoring steps ({reason}); the estimates are the last iterate.",
                 ConvergenceWarning)
        theta, objective, basis, Q = best["theta"], best["objective"], best["basis"], best["Q"]
        beta = best["beta"]

        a, c = float(theta[d - 1]), np.maximum(theta[d:], 0.0)
        self._direction = beta / sd
        self.coef_, scale = normalize_direction(self._direction, self.normalize)
        shift = float(mean @ self._direction)  # v = X @ direction - shift
        self.loglik_ = objective.loglik(theta)
        self.n_iter_ = int(n_iter)
        self.n_outer_ = int(n_outer)
        self.converged_ = converged
        self.separation_kind_ = check_separation(X, z, w)
        self.separated_ = self.separation_kind_ is not None
        if self.separated_:
            warn_separation(
                "SieveIndexClassifier", self.separation_kind_,
                "the sieve likelihood has no maximum (the link steepens towards a step); "
                "the estimates are where the bounded link stopped and their standard "
                "errors are not reliable.")
        self.n_basis_ = int(basis.n_basis)
        link = SieveLink.from_basis(basis, a, c, loglik=self.loglik_, n_iter=n_iter,
                                     converged=converged)
        # prediction: one pseudo-observation, weighted by the local data mass (thin tails
        # are pulled toward the mean instead of extrapolated to certainty)
        self.link_ = link.affine(scale, -shift).with_prior(X @ self.coef_, z, w, _PRIOR_WEIGHT)
        if direction is not None:  # a bootstrap refit needs the coefficients only
            return
        info = {"Link": "monotone I-spline", "Basis size": self.n_basis_,
                "Degree": int(self.degree), "Iterations": self.n_iter_}
        cov, cov_type = None, "none"
        if self.cov_type == "efficient":
            cov, cov_type = self._covariance(objective, theta, Q, sd, sw), "efficient"
            info["Information"] = "profiled sieve likelihood"
        elif self.cov_type == "bootstrap":
            cov, boot_info = self._bootstrap(X, z, w)
            info.update(boot_info)
            cov_type = "bootstrap" if cov is not None else "none"
        self.result_ = IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(), nobs=int(n),
            model="SieveIndexClassifier", normalize=self.normalize, llf=self.loglik_,
            converged=converged, cov_type=cov_type, info=info,
        )

    def _bootstrap(self, X, z, w):
        """Refits on resampled rows, the basis size held, from the full-sample direction."""
        params = {**self.get_params(), "n_basis": self.n_basis_, "cov_type": None,
                  "random_state": 0}

        def refit(idx):
            if np.ptp(z[idx]) == 0:
                return None
            est = type(self)(**params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est._fit(X[idx], z[idx], w[idx], direction=self._direction)
            c = est.coef_
            return c if c @ self.coef_ >= 0 else -c

        boot = bootstrap(refit, X.shape[0], scheme="rows", n_replicates=self.n_bootstrap,
                         random_state=self.random_state, dim=X.shape[1])
        return (None if boot.n_ok < 2 else boot.cov), boot.info()

    def _covariance(self, objective, theta, Q, sd, sw):
        """Covariance of ``coef_`` from the joint expected information (see module doc)."""
        d = Q.shape[0]
        _, _, H = objective(theta, True, ridge=False, newton=False)
        lo, hi = link_bounds(theta.size - d)
        link = theta[d - 1:]
        # coefficients held at a bound (c_k = 0 mostly; the separation box rarely) are
        # fixed: inference is conditional on the active set
        tiny = 1e-8 * (1.0 + np.abs(link).sum())
        free = np.r_[np.ones(d - 1, dtype=bool), (link > lo + tiny) & (link < hi - tiny)]
        info = H[np.ix_(free, free)] * sw
        k = d - 1
        # profile out the link: Schur complement of the link block (pseudo-inverse: link
        # coefficients in a saturated region, where p(1 - p) ~ 0, carry no information)
        I_uu, I_ul, I_ll = info[:k, :k], info[:k, k:], info[k:, k:]
        prof = I_uu - I_ul @ np.linalg.pinv(I_ll, rcond=1e-10, hermitian=True) @ I_ul.T
        prof = 0.5 * (prof + prof.T)
        ev = np.linalg.eigvalsh(prof)
        if ev[0] <= 1e-10 * max(ev[-1], 1e-300):
            warn("The profiled information of the direction is (nearly) singular: the "
                 "direction is poorly identified (flat link or too little variation in the "
                 "index); standard errors use a pseudo-inverse.", FlatLikelihoodWarning)
            cov_u = np.linalg.pinv(prof, rcond=1e-10, hermitian=True)
        else:
            cov_u = np.linalg.inv(prof)
        cov_beta = Q @ cov_u @ Q.T / np.outer(sd, sd)
        J = normalization_jacobian(self._direction, self.normalize)
        return J @ cov_beta @ J.T


class _JointObjective:
    """Mean negative log-likelihood of ``theta = (u, a, c)`` on the chart ``beta0 + Q u``.

    ``__call__(theta, derivatives)`` returns ``f`` or ``(f, grad, H)`` as
    :func:`~semiparam.links.sieve.bounded_newton` expects: ``H`` is the observed
    information where it is positive definite (Newton), else the expected information
    (Fisher scoring).
    """

    def __init__(self, v0, XQ, basis, z, w):
        self.v0 = v0
        self.XQ = XQ
        self.basis = basis
        self.z = z
        self.w = w
        self.sw = float(w.sum())
        self.k = XQ.shape[1]
        self.T = basis.transform(1.0)
        self._cache = None

    def _eta(self, theta, derivatives):
        k = self.k
        cached = self._cache
        if cached is not None and np.array_equal(cached[0], theta):
            _, v, dsg, s, eta = cached  # the line search's accepted trial point
        else:
            v = self.v0 + self.XQ @ theta[:k]
            dsg = self.basis.design(v, False)
            s = self.basis.spline_coef(theta[k], theta[k + 1:])
            eta = dsg.value(s)
            self._cache = (theta.copy(), v, dsg, s, eta)
        if derivatives:
            self.basis.add_derivatives(dsg, np.clip(v, self.basis.lower, self.basis.upper))
        return v, dsg, s, eta

    def loglik(self, theta) -> float:
        """Weighted log-likelihood (no ridge)."""
        eta = self._eta(theta, False)[3]
        return float(np.dot(self.w, self.z * eta - np.logaddexp(0.0, eta)))

    def __call__(self, theta, derivatives=True, ridge=True, newton=True):
        k, XQ, T = self.k, self.XQ, self.T
        v, dsg, s, eta = self._eta(theta, derivatives)
        f = float(-np.dot(self.w, self.z * eta - np.logaddexp(0.0, eta)) / self.sw)
        c = theta[k + 1:]
        lam = RIDGE if ridge else 0.0
        f += 0.5 * lam * float(c @ c)
        if not derivatives:
            return f
        p = special.expit(eta)
        r = self.w * (self.z - p) / self.sw
        slope = dsg.slope(s)
        ga, gc = self.basis.chain(-dsg.rmatvec(r))
        grad = np.r_[-(XQ.T @ (r * slope)), ga, gc]
        grad[k + 1:] += lam * c
        W = self.w * p * (1.0 - p) / self.sw
        H_ll = T.T @ dsg.gram(W) @ T
        H_ll[1:, 1:] += lam * np.eye(T.shape[0] - 1)
        # d eta / d u = slope * XQ; expected information W (d eta)(d eta)'; the observed
        # one adds -r d2 eta (eta is nonlinear in u).  Newton (observed) where it is
        # positive definite, near the optimum: quadratic convergence; Fisher otherwise.
        variants = ("observed", "expected") if newton else ("expected",)
        for kind in variants:
            if kind == "observed":
                curv = self.basis.curvature(v, s)
                H_uu = XQ.T @ (XQ * (W * slope * slope - r * curv)[:, None])
                H_lu = T.T @ (dsg.cross(XQ * (W * slope)[:, None])
                              - dsg.slope_cross(XQ * r[:, None]))
            else:
                H_uu = XQ.T @ (XQ * (W * slope * slope)[:, None])
                H_lu = T.T @ dsg.cross(XQ * (W * slope)[:, None])
            H = np.block([[H_uu, H_lu.T], [H_lu, H_ll]])
            if kind == "expected":
                break
            try:
                np.linalg.cholesky(H)
                break
            except np.linalg.LinAlgError:
                continue
        return f, grad, H


def _complement(b) -> np.ndarray:
    """Orthonormal basis (d, d-1) of the orthogonal complement of the unit vector ``b``."""
    q, _ = np.linalg.qr(b[:, None], mode="complete")
    return q[:, 1:]


def _logit_start(Xs, z, w, random_state):
    """``(intercept, slopes)`` of the package's logit start on at most ``WARM_START_ROWS``
    rows (:func:`semiparam.index.newton.fit_logit`: the MLE, or the ridge fit
    ``|b|^2 / 2`` on the standardised columns when the classes are separated)."""
    n = Xs.shape[0]
    if n > WARM_START_ROWS:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(n, WARM_START_ROWS, replace=False))
        Xs, z, w = Xs[rows], z[rows], w[rows]
    fit = fit_logit(Xs, z, w, fit_intercept=True, separation="silent", covariance=False,
                    warn_convergence=False)
    return fit.intercept, fit.coef
