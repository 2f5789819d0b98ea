"""Logistic regression on a single index, without an intercept by default (DPO's engine).

The model is ``P(z = 1 | x) = sigmoid(x'b + b0)`` with ``b0 = 0`` unless
``fit_intercept=True``.  For preference data the design is a difference
``D = phi(x, a1) - phi(x, a0)`` and the index has no intercept, so maximum likelihood
here *is* DPO for a feature-based policy; with ``fit_intercept=True`` it is the classical
logit whose slopes are compared with the semiparametric directions.

Algorithm
---------
Both this estimator and :class:`~semiparam.index.ranking.PairwiseRankingClassifier`
minimise a problem of the same form,

    F(b) = sum_k c_k softplus(-a_k'b) + (alpha / 2) sum_{j penalised} b_j^2,

over "signed rows" ``a_k`` with weights ``c_k >= 0`` (here ``a_k = (2 z_k - 1) x_k``,
``c_k = w_k``; for the ranking loss ``a_k = x_i - x_j`` for a positive/negative pair).
:func:`_newton_softplus` solves it by damped Newton (Cholesky solve, Armijo
backtracking): quadratic convergence, so the unpenalised fit equals statsmodels'
``Logit`` to the last digits it prints.  One iteration costs one Gram matrix
``A' diag(h) A`` (``O(n d^2)``, BLAS ``syrk``) and two products with ``A``.

Separation
----------
The maximum-likelihood estimate exists if and only if the rows overlap: there is no
``u != 0`` with ``a_k'u >= 0`` for every row (Albert & Anderson 1984).  By Gordan's
theorem of the alternative, overlap holds if and only if some strictly positive
``lambda`` solves ``A' lambda = 0``.  Every Newton iterate offers such a candidate for
free: with ``p_k = sigmoid(a_k'b)`` and the Newton step ``s``,

    lambda_k = c_k (1 - p_k) (1 - p_k a_k's)

satisfies ``A' lambda = 0`` exactly (it is the residual of the Newton equation), so if
every factor ``1 - p_k a_k's`` is positive (we ask ``> 1/2``, a margin for rounding)
the MLE exists -- a proof, not a heuristic.  At the MLE the step is ~0 and the
certificate holds; under separation it can never hold.  Conversely, separation is
declared when the current iterate separates every row (``a_k'b > 0``: complete
separation, exact), or when the Newton *step* does so up to a relative tolerance
(``a_k's >= -1e-6 |a_k| |s|`` for all rows, ``> 0`` for some: the iterates run off to
infinity along ``s`` -- quasi-complete separation, or data overlapping only within that
tolerance, whose MLE would be astronomically large).  If Newton exhausts ``max_iter``
with neither certificate, the data count as (numerically) separated when some fitted
probability is 1 to machine precision (margin above 36); otherwise a
:class:`~semiparam.exceptions.ConvergenceWarning` is issued.  Both checks cost ``O(n)``
per iteration on quantities Newton computes anyway; no linear program is solved (the
LP of Konis 2007 is exact but took 1 to 5 minutes at ``n = 1e5, d = 180`` here).  On
about 900 random small designs (continuous, discrete and mixed columns, with and
without intercept, near the separation boundary) the decision agreed with Konis' LP
every time; the tests keep a sample of that comparison.

A solver may use a *sub-sampled* Hessian ``sum_{k in S} mu_k a_k a_k'`` (the ranking
estimator does); then ``lambda_k = c_k (1 - p_k) - mu_k a_k's`` (``mu_k = 0`` off
``S``) is the exact certificate, checked the same way.

What happens then (``separation=``): ``"warn"`` (default) issues a
:class:`~semiparam.exceptions.SeparationWarning` and refits with the ridge penalty
``||b||^2 / (2 C)`` (intercept unpenalised; ``C = 1`` by default, scikit-learn's
convention, in which the loss is a *sum* over rows), which always has a unique finite
solution; ``"silent"`` does the same without the warning (``separated_`` still says
so); ``"raise"`` raises ``ValueError``.  As ``C`` grows the ridge direction tends to the
maximum-margin separating direction (Rosset, Zhu & Hastie 2004), so ``C`` trades the
direction between shrinkage and the separating limit; the scale of a policy is chosen
later by a divergence budget.  With ``penalty="l2"`` the problem always has a solution
and separation is not checked (``separated_ = None``).

References
----------
Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood
estimates in logistic regression models. *Biometrika* 71(1), 1-10.
Konis, K. (2007). *Linear programming algorithms for detecting separated data in
binary logistic regression models*. DPhil thesis, University of Oxford.
Rosset, S., Zhu, J. and Hastie, T. (2004). Boosting as a regularized path to a maximum
margin classifier. *JMLR* 5, 941-973.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import linalg, special

from .._validation import Interval, NoneOK, Options
from ..exceptions import ConvergenceWarning, warn
from ..links.families import LogisticLink
from ._base import BaseIndexClassifier, normalization_jacobian, normalize_direction
from .results import IndexResult
from .separation import separation_message, warn_separation

__all__ = ["LogitIndexClassifier", "ScaledLogisticLink"]

#: relative tolerance on step margins below which a row counts as "not against"
#: the step when quasi-complete separation is declared
_SEP_RTOL = 1e-6


class ScaledLogisticLink(LogisticLink):
    """The logistic link on the normalised index: ``g(v) = sigmoid(scale * v + intercept)``.

    Parameters
    ----------
    scale : float
        Multiplier of the normalised index (the norm, or first coefficient, of the
        raw coefficients).
    intercept : float, default=0.0
        Added after scaling.
    """

    name = "scaled_logistic"

    def __init__(self, scale: float, intercept: float = 0.0):
        self.scale = float(scale)
        self.intercept = float(intercept)

    def cdf(self, u):
        """``sigmoid(scale * u + intercept)``."""
        return special.expit(self.scale * np.asarray(u, dtype=float) + self.intercept)

    def pdf(self, u):
        """Derivative with respect to the normalised index ``u``."""
        p = self.cdf(u)
        return self.scale * p * (1.0 - p)


# ---------------------------------------------------------------------------------
# The shared solver: sum_k c_k softplus(-a_k'b) + alpha/2 |b_pen|^2
# ---------------------------------------------------------------------------------
class _DenseRows:
    """Signed rows held as a dense matrix ``A`` (n, d)."""

    def __init__(self, A: np.ndarray):
        self.A = A
        self._norms = None

    def matvec(self, b):
        return self.A @ b

    def rmatvec(self, r):
        return self.A.T @ r

    def gram(self, h):
        self.hessian_terms = (None, h)
        As = self.A * np.sqrt(h)[:, None]
        return As.T @ As  # numpy dispatches a.T @ a to syrk

    def row_norms(self):
        if self._norms is None:
            self._norms = np.sqrt(np.einsum("ij,ij->i", self.A, self.A))
        return self._norms


@dataclass
class _NewtonOutcome:
    beta: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    separated: bool
    overlap_certified: bool
    how: str
    gram: np.ndarray | None = None  # A' diag(c p q) A at the last iterate (no penalty)


def _softplus_neg(m):
    """``softplus(-m) = log(1 + exp(-m)) = -log sigmoid(m)``, stable for any ``m``."""
    return -special.log_expit(m)


def _newton_softplus(op, c, alpha, pen, beta0, *, max_iter, tol, detect):
    """Damped Newton for ``F(b) = sum_k c_k softplus(-a_k'b) + alpha/2 sum pen_j b_j^2``.

    Performs no input validation (the unchecked core used by fits and bootstraps).

    Parameters
    ----------
    op : object
        ``matvec(b) -> A b``, ``rmatvec(r) -> A'r``, ``gram(h) -> A' diag(h) A``,
        ``row_norms() -> |a_k|`` (an upper bound is fine), and, after ``gram(h)``,
        ``hessian_terms = (idx, mu)``: the matrix returned was
        ``sum_{k in idx} mu_k a_k a_k'`` (``idx=None``: all rows, ``mu = h``).  An
        operator may thus return a sub-sampled Hessian; Newton then converges
        linearly (fast) instead of quadratically, to the same minimiser (the gradient
        is exact), and the overlap certificate stays exact because it is built from
        the same terms.
    c : ndarray (m,)
        Nonnegative row weights.
    alpha : float
        Ridge strength (0: none).
    pen : ndarray (d,)
        1.0 for penalised coefficients, 0.0 for free ones (an intercept).
    beta0 : ndarray (d,)
        Start.
    max_iter, tol : int, float
        Iteration cap; convergence when ``max|step| <= tol * (1 + max|b|)``.
    detect : bool
        Look for the overlap certificate and for separation (module docstring);
        stops as soon as separation is found.

    Returns
    -------
    _NewtonOutcome
    """
    beta = np.array(beta0, dtype=float)
    d = beta.shape[0]
    H0 = None
    pos = slice(None) if np.all(c > 0) else c > 0
    apen = alpha * pen
    m = op.matvec(beta)
    F = float(c @ _softplus_neg(m) + 0.5 * apen @ beta**2)
    converged = separated = certified = False
    how = ""
    it = 0
    cache = {}
    for it in range(1, max_iter + 1):
        q = special.expit(np.negative(m))  # 1 - p, accurate when p is near 1
        cq = c * q
        g = -op.rmatvec(cq) + apen * beta
        h = cq * q
        np.subtract(cq, h, out=h)  # c p q
        H0 = op.gram(h)
        H = H0.copy()
        H[np.diag_indices(d)] += apen
        step = _solve_psd(H, -g)
        dm = op.matvec(step)
        if detect and not certified:
            certified = _overlap_certified(op, pos, c, q, dm)
            if not certified:
                how = _separated(op, pos, m, dm, step, cache)
                if how:
                    separated = True
                    break
        if np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(beta))):
            beta, m = beta + step, m + dm
            F = float(c @ _softplus_neg(m) + 0.5 * apen @ beta**2)
            converged = True
            break
        # Armijo backtracking; a change within rounding of F counts as no increase
        slope = float(g @ step)
        slack = 1e-12 * (1.0 + abs(F))
        t = 1.0
        while True:
            b_new = beta + t * step
            m_new = m + t * dm
            F_new = float(c @ _softplus_neg(m_new) + 0.5 * apen @ b_new**2)
            if F_new <= F + 1e-4 * t * slope + slack:
                beta, m, F = b_new, m_new, F_new
                break
            t *= 0.5
            if t < 1e-10:  # no descent along the Newton direction: stalled
                break
        if t < 1e-10:
            break
    if detect and not certified and not separated and not converged:
        # Newton ran out of iterations without proof of overlap: numerical separation
        # when some rows are predicted with probability 1 to machine precision.
        if np.max(m[pos]) > 36.0:
            separated, how = True, "numerical"
    return _NewtonOutcome(beta, F, it, converged, separated, certified, how,
                          H0 if converged else None)


def _overlap_certified(op, pos, c, q, dm):
    """Gordan certificate of overlap at this iterate (module docstring).

    With ``(idx, mu) = op.hessian_terms`` the Hessian used was ``sum_k mu_k a_k a_k'``
    over the rows ``idx``, so ``lambda = c q - mu * (A step)`` solves ``A' lambda = 0``;
    it is positive when ``mu_k (a_k's) < c_k q_k / 2`` on those rows.
    """
    if not q[pos].min() > 0:
        return False
    idx, mu = op.hessian_terms
    if idx is None:
        return bool(np.all(mu[pos] * dm[pos] < 0.5 * c[pos] * q[pos]))
    return bool(np.all(mu * dm[idx] < 0.5 * c[idx] * q[idx]))


def _separated(op, pos, m, dm, step, cache):
    """"complete" if the iterate separates every row, "quasi-complete" if the Newton
    step does up to a relative tolerance, else ""."""
    if m[pos].min() > 0:
        return "complete"
    snorm = float(np.linalg.norm(step))
    dmp = dm[pos]
    if "norms" not in cache:
        cache["norms"] = op.row_norms()[pos]
        cache["max"] = float(cache["norms"].max())
    norms = cache["norms"]
    # necessary condition first (cheap): no row far against the step
    if snorm == 0 or dmp.min() < -_SEP_RTOL * snorm * cache["max"]:
        return ""
    rel = dmp / np.maximum(norms * snorm, 1e-300)
    if rel.min() >= -_SEP_RTOL and rel.max() > 1e-3:
        return "complete" if rel.min() > _SEP_RTOL else "quasi-complete"
    return ""


def _solve_psd(H, rhs):
    """Solve ``H x = rhs`` for a symmetric positive (semi)definite ``H``."""
    try:
        return linalg.cho_solve(linalg.cho_factor(H, check_finite=False), rhs,
                                check_finite=False)
    except linalg.LinAlgError:
        return linalg.lstsq(H, rhs, cond=1e-12, check_finite=False)[0]


def _sandwich(op, c, beta, alpha, pen, H0=None):
    """``(H0 + alpha P)^-1 H0 (H0 + alpha P)^-1`` with ``H0 = A' diag(c p q) A``.

    ``H0`` may be passed in (the information at the last Newton iterate, which differs
    from the one at ``beta`` by a step below the tolerance).
    """
    if H0 is None:
        m = op.matvec(beta)
        H0 = op.gram(c * special.expit(m) * special.expit(-m))
    Hp = H0.copy()
    Hp[np.diag_indices_from(Hp)] += alpha * pen
    Hinv = linalg.pinvh(Hp)
    if alpha == 0.0:
        return Hinv
    return Hinv @ H0 @ Hinv


def ridge_consequence(C):
    """What the logit and ranking estimators do under separation (``separation="warn"``)."""
    return (f"the unpenalised estimate does not exist (its norm diverges). Refitting with "
            f"the ridge penalty |coef|^2 / (2 C), C = {C:g}; set penalty='l2' and C to "
            "choose the strength yourself.")


#: what they say before raising (``separation="raise"``)
RAISE_CONSEQUENCE = ("the unpenalised estimate does not exist (its norm diverges). Use "
                     "penalty='l2' or separation='warn' to fit a ridge-penalised model.")


class LogitIndexClassifier(BaseIndexClassifier):
    """Logistic regression of ``z`` on ``X``, without an intercept by default.

    .. warning::

       **No intercept by default** (``fit_intercept=False``): the model is
       ``sigmoid(x'b)``, the right one for preference data (difference designs) but not
       the classical logit.  Its slopes differ from statsmodels' ``Logit`` with a
       constant (``sm.add_constant(X)``) and from scikit-learn's
       ``LogisticRegression``, which fit one by default (on
       ``statsmodels.datasets.fair``, ``age`` gets +0.027 here against statsmodels'
       -0.072).  Pass ``fit_intercept=True`` to compare with them; the summary says
       which model was fitted.

    The parametric benchmark of the single-index family and the engine of DPO:
    ``P(z = 1 | x) = sigmoid(x'b + b0)``, ``b0 = 0`` unless ``fit_intercept=True``.
    Fitted by Newton's method; unpenalised it equals statsmodels' ``Logit`` and
    scikit-learn's ``LogisticRegression(C=np.inf)`` (same intercept choice).

    Parameters
    ----------
    fit_intercept : bool, default=False
        Estimate ``b0``.  Off for preference data (difference designs have no
        intercept); on for the classical logit.
    penalty : {None, "l2"}, default=None
        ``"l2"`` adds ``||b||^2 / (2 C)`` to the *summed* negative log-likelihood
        (scikit-learn's convention; the intercept is not penalised).
    C : float > 0, default=1.0
        Inverse ridge strength.  Used when ``penalty="l2"`` and, with
        ``penalty=None``, as the fallback when the data are separated.
    separation : {"warn", "silent", "raise"}, default="warn"
        What to do when the classes are (quasi-)separated and the MLE does not exist
        (``penalty=None`` only): refit with the ridge penalty of strength ``1/C``
        with a :class:`~semiparam.exceptions.SeparationWarning` (``"warn"``) or
        without (``"silent"``), or raise ``ValueError`` (``"raise"``).  Detection:
        see the module docstring.
    normalize : {"unit", "first"}, default="unit"
        Normalisation of ``coef_``: unit Euclidean norm or first coefficient = 1.
    max_iter : int, default=100
        Newton iterations.
    tol : float, default=1e-8
        Convergence when the largest Newton step is below ``tol * (1 + max|b|)``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Normalised slopes.
    coef_raw_ : ndarray of shape (n_features,)
        The fitted (unnormalised) slopes: DPO's scale.
    intercept_ : float
        Fitted intercept (0.0 without ``fit_intercept``).
    scale_ : float
        ``coef_raw_ = scale_ * coef_``.
    link_ : ScaledLogisticLink
        ``g(v) = sigmoid(scale_ * v + intercept_)`` on the normalised index.
    cov_raw_ : ndarray of shape (n_features, n_features) or (n_features + 1, n_features + 1)
        Wald covariance of ``(coef_raw_, intercept_)`` (intercept last, when fitted):
        the inverse Fisher information ``(X' W X)^-1``, sample weights acting as
        frequency weights; for a penalised fit the sandwich
        ``(I + P/C)^-1 I (I + P/C)^-1``.
    separated_ : bool or None
        True when separation was detected (the estimate is then the ridge fit),
        False when the MLE was certified to exist, None when not checked
        (``penalty="l2"``).
    separation_kind_ : {"complete", "quasi-complete", "numerical"} or None
        How separation was established (module docstring of
        :mod:`semiparam.index.logit`); None when not separated.
    alpha_ : float
        Ridge strength actually used (``0.0`` for the plain MLE).
    loglik_ : float
        Log-likelihood at the estimate (without the penalty).
    n_iter_ : int
        Newton iterations of the final fit.
    converged_ : bool
        Whether the final Newton run met its tolerance.
    result_ : IndexResult
        Normalised coefficients with the covariance ``J cov J'`` (``J`` the Jacobian of
        the normalisation), ``summary()``.
    classes_, n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    semiparam.index.PairwiseRankingClassifier : the link-free counterpart (RSPO).

    Examples
    --------
    >>> from semiparam.simulate import make_single_index
    >>> X, z = make_single_index(500, [1.0, -1.0, 0.5], link="logistic", random_state=0)
    >>> est = LogitIndexClassifier().fit(X, z)
    >>> est.coef_.round(2)
    array([ 0.69, -0.67,  0.28])
    """

    _parameter_constraints: dict = {
        **BaseIndexClassifier._parameter_constraints,
        "fit_intercept": [Options({True, False})],
        "penalty": [NoneOK(), Options({"l2"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "separation": [Options({"warn", "silent", "raise"})],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, fit_intercept=False, penalty=None, C=1.0, separation="warn",
                 normalize="unit", max_iter=100, tol=1e-8):
        self.fit_intercept = fit_intercept
        self.penalty = penalty
        self.C = C
        self.separation = separation
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol

    def _fit(self, X, z, w):
        keep = w > 0
        Xk, zk, wk = X[keep], z[keep], w[keep]
        s = 2.0 * zk - 1.0
        d = X.shape[1]
        if self.fit_intercept:
            A = np.empty((Xk.shape[0], d + 1))
            A[:, :d] = Xk * s[:, None]
            A[:, d] = s
            pen = np.r_[np.ones(d), 0.0]
        else:
            A = Xk * s[:, None]
            pen = np.ones(d)
        op = _DenseRows(A)
        start = np.zeros(A.shape[1])
        if self.fit_intercept:
            pbar = float(np.average(zk, weights=wk))
            start[d] = np.log(pbar / (1.0 - pbar))
        alpha = 1.0 / self.C if self.penalty == "l2" else 0.0
        out = _newton_softplus(op, wk, alpha, pen, start, max_iter=self.max_iter,
                               tol=self.tol, detect=alpha == 0.0)
        self.separated_ = None if alpha > 0 else bool(out.separated)
        self.separation_kind_ = out.how if out.separated else None
        if out.separated:
            name = type(self).__name__
            if self.separation == "raise":
                raise ValueError(separation_message(name, out.how, RAISE_CONSEQUENCE))
            if self.separation == "warn":
                warn_separation(name, out.how, ridge_consequence(self.C))
            alpha = 1.0 / self.C
            out = _newton_softplus(op, wk, alpha, pen, start, max_iter=self.max_iter,
                                   tol=self.tol, detect=False)
        if not out.converged:
            warn(f"{type(self).__name__}: Newton did not converge in {self.max_iter} "
                 "iterations; increase max_iter.", ConvergenceWarning)
        self.alpha_ = float(alpha)
        self.n_iter_ = int(out.n_iter)
        self.converged_ = bool(out.converged)
        beta = out.beta
        self.coef_raw_ = beta[:d].copy()
        self.intercept_ = float(beta[d]) if self.fit_intercept else 0.0
        self.coef_, self.scale_ = normalize_direction(self.coef_raw_, self.normalize)
        self._direction = self.coef_raw_
        self.link_ = ScaledLogisticLink(self.scale_, self.intercept_)
        self.link_.fit(X @ self.coef_)
        self.loglik_ = float(-(wk @ _softplus_neg(op.matvec(beta))))
        self.cov_raw_ = _sandwich(op, wk, beta, alpha, pen, out.gram)
        J = normalization_jacobian(self.coef_raw_, self.normalize)
        cov = J @ self.cov_raw_[:d, :d] @ J.T
        info = {"Scale": self.scale_}
        info["Intercept"] = self.intercept_ if self.fit_intercept else "none (fit_intercept=False)"
        if self.separated_ is not None:
            info["Separated"] = "yes (ridge fit)" if self.separated_ else "no"
        if alpha > 0:
            info["Ridge C"] = float(self.C)
        self.result_ = IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(), nobs=int(keep.sum()),
            model=type(self).__name__, normalize=self.normalize, llf=self.loglik_,
            converged=self.converged_,
            cov_type="fisher" if alpha == 0 else "fisher (ridge sandwich)", info=info,
            link_estimated=False,
            notes=() if self.fit_intercept else (
                "NO INTERCEPT: fit_intercept=False fits sigmoid(x'b) without a constant, "
                "unlike statsmodels Logit(y, add_constant(X)) and scikit-learn's "
                "LogisticRegression; pass fit_intercept=True to compare with them.",),
        )
