r"""The one logistic Newton engine of the package, and its one separation policy.

Problem
-------
Every logit fit and logit start of the package (the logit and ranking estimators, DPO
and RSPO, the pilot directions of the index search, the starts of the isotonic and
sieve estimators and of the policy learners, the separation check) minimises

    F(b) = sum_k c_k softplus(-a_k'b) + (alpha / 2) sum_j pen_j b_j^2

over "signed rows" ``a_k`` with weights ``c_k >= 0``: for a logit ``a_k = (2 z_k - 1) x_k``
(with ``[x_k, 1]`` when there is an intercept) and ``c_k = w_k``; for the pairwise
ranking loss ``a_k = x_i - x_j`` over positive/negative pairs.  ``pen_j`` is 1 for a
penalised coefficient and 0 for a free one (an intercept).

Standardised columns
--------------------
The engine works on ``theta_j = s_j b_j``, the columns divided by a scale ``s_j``
(:func:`column_scales`: the weighted root mean square of the column, the standard
deviation after centring when there is an intercept; the intercept is then
``b_0 = theta_0 - mu'b``).  Newton's iterates are the same in any linear
parametrisation, so in exact arithmetic nothing changes; what changes is that the
convergence test ``max_j |step_j| <= tol (1 + max_j |theta_j|)``, the Cholesky
factorisation and the separation tolerances no longer depend on the units of the
columns: multiplying a column by ``1e20`` multiplies its coefficient by ``1e-20`` and
leaves every other digit of the fit as it was (``tests/test_invariance.py``).  The ridge
penalty stays on ``b`` in the caller's units (scikit-learn's convention): in the engine's
coordinates it is ``alpha pen_j / s_j^2``.

Algorithm
---------
Damped Newton: at ``theta`` with margins ``m_k = a_k'theta``, ``q_k = 1 - sigmoid(m_k)``,
the gradient is ``-A'(c q) + alpha P theta`` and the Hessian ``A' diag(c p q) A + alpha P``
(one Gram matrix, ``O(n d^2)``, BLAS ``syrk`` into a reused buffer); the step solves
it by Cholesky (least squares if it is singular) and is halved until the Armijo condition
``F(theta + t s) <= F(theta) + 1e-4 t g's`` holds (a change within ``1e-12 (1 + |F|)``
counts as none).  Convergence: ``max|s| <= tol (1 + max|theta|)`` in standardised
units; the step that met the test is taken.  Before forming a Gram matrix the step is
first solved with the previous iteration's Cholesky factor; near the end it differs
from the exact Newton step by a relative ``O(|previous step|)``, so when it meets the
test it is taken instead and the last Gram matrix (one of about seven in a DPO fit) is
saved; a covariance then forms the information at the estimate.  An unpenalised fit on
many rows starts from the MLE on a fixed subsample (:func:`_subsample_start`), which
leaves about five iterations on all rows instead of seven.  Quadratic convergence makes the
unpenalised fit equal statsmodels' ``Logit`` to about 1e-10 (``tests/test_newton.py``).
Everything runs with one BLAS thread (:mod:`semiparam._threads`).

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
probability is 1 to machine precision (margin above 36).  Both checks cost ``O(n)`` per
iteration on quantities Newton computes anyway; no linear program is solved (the LP of
Konis 2007 is exact but took 1 to 5 minutes at ``n = 1e5, d = 180`` here).  On about
900 random small designs (continuous, discrete and mixed columns, with and without
intercept, near the separation boundary) the decision agreed with Konis' LP every time;
``tests/test_logit_index.py`` keeps a sample of that comparison.

A solver may use a *sub-sampled* Hessian ``sum_{k in S} mu_k a_k a_k'`` (the ranking
estimator does); then ``lambda_k = c_k (1 - p_k) - mu_k a_k's`` (``mu_k = 0`` off
``S``) is the exact certificate, checked the same way.

The separation policy
---------------------
One rule for every caller (:func:`solve_with_separation_policy`): an unpenalised fit
(``alpha = 0``) looks for separation; when it finds it, ``separation="raise"`` raises
``ValueError``, ``"warn"`` issues a :class:`~semiparam.exceptions.SeparationWarning`
(the words of :mod:`semiparam.index.separation`), ``"silent"`` says nothing, and the
latter two refit with the ridge penalty ``|b|^2 / (2 C)`` (intercept unpenalised; the
loss a *sum* over rows), which always has a unique finite minimiser; as ``C`` grows its
direction tends to the maximum-margin separating direction (Rosset, Zhu & Hastie 2004).
A fit that does not meet its tolerance issues a
:class:`~semiparam.exceptions.ConvergenceWarning`.  :func:`logit_pilot` is this policy,
silent, for a logit with intercept: the start of every estimator that needs one.

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

import numpy as np
from scipy import linalg, special

from .._threads import single_blas_thread
from ..exceptions import ConvergenceWarning, warn
from .separation import RAISE_CONSEQUENCE, ridge_consequence, separation_message, warn_separation

__all__ = [
    "DenseRows",
    "LogitFit",
    "NewtonResult",
    "column_scales",
    "fit_logit",
    "logit_pilot",
    "newton_softplus",
    "softplus_neg",
    "solve_with_separation_policy",
]

#: relative tolerance on step margins below which a row counts as "not against" the
#: step when quasi-complete separation is declared
SEP_RTOL = 1e-6
#: margin beyond which a fitted probability is 1 to machine precision
_CERTAIN_MARGIN = 36.0


def softplus_neg(m):
    """``softplus(-m) = log(1 + exp(-m)) = -log sigmoid(m)``, stable for any ``m``."""
    return -special.log_expit(m)


def column_scales(X, w, center=None):
    """Weighted root mean square of each column of ``X`` about ``center`` (0 if None).

    Equivariant (``column_scales(c X) = |c| column_scales(X)`` for any ``c`` in the
    package's magnitude range: the columns are divided by a power of two first, so the
    squares neither overflow nor underflow).  A column that is zero gets 1.
    """
    X = np.asarray(X, dtype=float)
    Xc = np.array(X, dtype=float) if center is None else X - center
    return _scale_columns(Xc, w, copy=False)[1]


def _max_abs(X):
    """Largest absolute value of each column (two passes, no temporary array)."""
    if X.shape[0] == 0:
        return np.zeros(X.shape[1])
    return np.maximum(X.max(axis=0), -X.min(axis=0))


def _scale_columns(A, w, copy=True):
    """``(A / s, s)`` with ``s`` the weighted root mean square of each column of ``A``
    (1 for a zero column); ``copy=False`` divides ``A`` in place.  Computed on the columns
    divided by a power of two (exact) so that the squares stay finite."""
    top = _max_abs(A)
    p2 = np.where(top > 0, 2.0 ** np.floor(np.log2(np.where(top > 0, top, 1.0))), 1.0)
    A = A / p2 if copy else np.divide(A, p2, out=A)
    ms = np.einsum("ij,ij->j", A, A) if np.all(w == w[0]) else w @ (A * A)
    rms = np.sqrt(ms / (A.shape[0] if np.all(w == w[0]) else w.sum()))
    rms = np.where(rms > 0, rms, 1.0)
    np.divide(A, rms, out=A)
    s = rms * p2
    return A, np.where(top > 0, s, 1.0)


class DenseRows:
    """Signed rows held as a dense matrix ``A`` (n, d): the operator of the engine.

    An operator offers ``matvec(b) -> A b``, ``rmatvec(r) -> A'r``,
    ``gram(h) -> A' diag(h) A`` (and then ``hessian_terms = (idx, mu)``: the matrix was
    ``sum_{k in idx} mu_k a_k a_k'``, ``idx=None`` meaning every row with ``mu = h``) and
    ``row_norms() -> |a_k|`` (an upper bound is fine).  The Gram matrix is formed in a
    buffer kept between iterations (no 8 n d byte allocation per Newton step).
    """

    def __init__(self, A: np.ndarray):
        self.A = A
        self.hessian_terms = (None, None)
        self._norms = None
        self._buf = None

    def matvec(self, b):
        return self.A @ b

    def rmatvec(self, r):
        return self.A.T @ r

    def gram(self, h):
        self.hessian_terms = (None, h)
        if self._buf is None:
            self._buf = np.empty_like(self.A)
        As = np.multiply(self.A, np.sqrt(h)[:, None], out=self._buf)
        return As.T @ As  # numpy dispatches a.T @ a to syrk

    def row_norms(self):
        if self._norms is None:
            self._norms = np.sqrt(np.einsum("ij,ij->i", self.A, self.A))
        return self._norms


@dataclass
class NewtonResult:
    """What :func:`newton_softplus` returns (coefficients in the caller's units).

    ``information`` is ``A' diag(c p q) A`` at the last Newton iterate, in the engine's
    standardised coordinates (``theta = scale * coef``; None unless it was formed there
    and the fit converged); the covariance in the caller's units is :meth:`covariance`.
    """

    coef: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    separated: bool
    overlap_certified: bool
    kind: str
    scale: np.ndarray
    penalty: np.ndarray  # alpha * pen / scale^2: the ridge in standardised coordinates
    information: np.ndarray | None = None
    alpha: float = 0.0
    checked: bool = False  # separation was looked for

    def covariance(self, op=None, c=None):
        """``(H + R)^-1 H (H + R)^-1`` (``H`` the information, ``R`` the ridge), mapped to
        the caller's units; the inverse information when there is no ridge.

        ``op`` and ``c`` are needed only when the information was not kept (the fit did
        not converge): it is then formed at the estimate.
        """
        H0 = self.information
        if H0 is None:
            m = op.matvec(self.coef * self.scale)
            H0 = op.gram(c * special.expit(m) * special.expit(-m))
        Hp = H0.copy()
        Hp[np.diag_indices_from(Hp)] += self.penalty
        Hinv = _inverse_psd(Hp)
        cov = Hinv if not np.any(self.penalty) else Hinv @ H0 @ Hinv
        return cov / np.outer(self.scale, self.scale)


def _inverse_psd(H):
    """Inverse of a symmetric positive semidefinite ``H``: Cholesky when it is well
    conditioned (cheap), the eigenvalue pseudo-inverse otherwise."""
    try:
        L, low = linalg.cho_factor(H, lower=True, check_finite=False)
        diag = np.abs(np.diag(L))
        if diag.min() > 1e-7 * diag.max():
            return linalg.cho_solve((L, low), np.eye(H.shape[0]), check_finite=False)
    except linalg.LinAlgError:
        pass
    return linalg.pinvh(H)


def newton_softplus(op, c, *, alpha=0.0, pen=None, start=None, scale=None, max_iter=100,
                    tol=1e-8, detect=False):
    """Damped Newton for ``F(b) = sum_k c_k softplus(-a_k'b) + alpha/2 sum pen_j b_j^2``.

    The unchecked core (no input validation) shared by every logistic fit.

    Parameters
    ----------
    op : DenseRows or an operator with the same methods
        The signed rows *with each column divided by* ``scale`` (the engine's
        standardised coordinates; module docstring).
    c : ndarray (n,)
        Nonnegative row weights.
    alpha : float
        Ridge strength on ``b`` in the caller's units (0: none).
    pen : ndarray (d,), optional
        1.0 for penalised coefficients, 0.0 for free ones (default: all penalised).
    start : ndarray (d,), optional
        Start in the caller's units (default 0).
    scale : ndarray (d,), optional
        The column scales ``op`` was built with (default 1).
    max_iter, tol : int, float
        Iteration cap; convergence when ``max|step| <= tol (1 + max|theta|)``.
    detect : bool
        Look for the overlap certificate and for separation (module docstring); stops as
        soon as separation is found.

    Returns
    -------
    NewtonResult
    """
    c = np.asarray(c, dtype=float)
    # the minimiser does not change when F is divided by k > 0 (weights and ridge alike):
    # weights of mean one keep the line search's rounding slack meaningful at any scale
    k = c.sum() / max(np.count_nonzero(c), 1)
    k = k if k > 0 and np.isfinite(k) else 1.0
    if k != 1.0:
        c = c / k
    given = next((v for v in (start, scale, pen) if v is not None), None)
    d = op.rmatvec(np.zeros(c.shape[0])).shape[0] if given is None else len(given)
    scale = np.ones(d) if scale is None else np.asarray(scale, dtype=float)
    pen = np.ones(d) if pen is None else np.asarray(pen, dtype=float)
    apen = (alpha / k) * pen / scale**2
    theta = np.zeros(d) if start is None else np.asarray(start, dtype=float) * scale
    with single_blas_thread():
        out = _newton(op, c, apen, theta, max_iter, tol, detect)
    theta, F, it, converged, separated, certified, how, H0 = out
    return NewtonResult(theta / scale, F * k, it, converged, separated, certified, how,
                        scale, apen * k, None if H0 is None else H0 * k, float(alpha),
                        bool(detect))


def _newton(op, c, apen, beta, max_iter, tol, detect):
    d = beta.shape[0]
    H0 = None
    pos = slice(None) if np.all(c > 0) else c > 0
    m = op.matvec(beta)
    F = float(c @ softplus_neg(m) + 0.5 * apen @ beta**2)
    converged = separated = certified = False
    how = ""
    it = 0
    cache = {}
    fac = None  # Cholesky factor of the previous iteration's Hessian
    for it in range(1, max_iter + 1):
        q = special.expit(np.negative(m))  # 1 - p, accurate when p is near 1
        cq = c * q
        g = -op.rmatvec(cq) + apen * beta
        if fac is not None and (certified or not detect):
            # near the end the previous Hessian gives the step to within a relative
            # O(|previous step|): when that step already meets the test, take it and
            # skip one Gram matrix (the information kept is the previous iterate's)
            step = linalg.cho_solve(fac, -g, check_finite=False)
            if np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(beta))):
                beta, m = beta + step, m + op.matvec(step)
                F = float(c @ softplus_neg(m) + 0.5 * apen @ beta**2)
                converged, H0 = True, None  # the information is formed if asked for
                break
        h = cq * q
        np.subtract(cq, h, out=h)  # c p q
        H0 = op.gram(h)
        H = H0.copy()
        H[np.diag_indices(d)] += apen
        step, fac = _solve_psd(H, -g)
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
            F = float(c @ softplus_neg(m) + 0.5 * apen @ beta**2)
            converged = True
            break
        # Armijo backtracking; a change within rounding of F counts as no increase
        slope = float(g @ step)
        slack = 1e-12 * (1.0 + abs(F))
        t = 1.0
        while True:
            b_new = beta + t * step
            m_new = m + t * dm
            F_new = float(c @ softplus_neg(m_new) + 0.5 * apen @ b_new**2)
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
        if np.max(m[pos]) > _CERTAIN_MARGIN:
            separated, how = True, "numerical"
    return beta, F, it, converged, separated, certified, how, (H0 if converged else None)


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
    if snorm == 0 or dmp.min() < -SEP_RTOL * snorm * cache["max"]:
        return ""
    rel = dmp / np.maximum(norms * snorm, 1e-300)
    if rel.min() >= -SEP_RTOL and rel.max() > 1e-3:
        return "complete" if rel.min() > SEP_RTOL else "quasi-complete"
    return ""


def _solve_psd(H, rhs):
    """Solve ``H x = rhs`` for a symmetric positive (semi)definite ``H``: ``(x, factor)``,
    the Cholesky factor None when ``H`` is singular (least squares then)."""
    try:
        fac = linalg.cho_factor(H, check_finite=False)
        return linalg.cho_solve(fac, rhs, check_finite=False), fac
    except linalg.LinAlgError:
        return linalg.lstsq(H, rhs, cond=1e-12, check_finite=False)[0], None


# ---------------------------------------------------------------------------------
# the separation policy
# ---------------------------------------------------------------------------------
def solve_with_separation_policy(solve, *, alpha, C, separation, name, units="classes",
                                 max_iter=None):
    """Run ``solve(alpha, detect)`` under the package's separation policy.

    ``solve`` returns a :class:`NewtonResult`.  An unpenalised run (``alpha == 0``) looks
    for separation; if it finds it: ``"raise"`` raises ``ValueError``, ``"warn"`` warns
    (:class:`~semiparam.exceptions.SeparationWarning`) and ``"silent"`` does not, and both
    refit with the ridge ``alpha = 1 / C``.  A final fit that did not converge issues a
    :class:`~semiparam.exceptions.ConvergenceWarning` naming ``max_iter`` (none when
    ``max_iter`` is None).

    Returns
    -------
    NewtonResult
        The final fit, with ``alpha`` the ridge used, ``checked`` whether separation was
        looked for, and ``separated`` / ``kind`` the verdict of the first run.
    """
    checked = alpha == 0.0
    out = solve(alpha, checked)
    kind = out.kind if out.separated else ""
    if kind:
        if separation == "raise":
            raise ValueError(separation_message(name, kind, RAISE_CONSEQUENCE, units))
        if separation == "warn":
            warn_separation(name, kind, ridge_consequence(C), units)
        out = solve(1.0 / C, False)
        out.separated, out.kind = True, kind
    out.checked = checked
    if not out.converged and max_iter is not None:
        warn(f"{name}: Newton did not converge in {max_iter} iterations; increase "
             "max_iter.", ConvergenceWarning)
    return out


# ---------------------------------------------------------------------------------
# the logit
# ---------------------------------------------------------------------------------
@dataclass
class LogitFit:
    """A weighted logit ``P(z = 1 | x) = sigmoid(x'coef + intercept)`` (:func:`fit_logit`).

    Attributes
    ----------
    coef : ndarray (d,)
    intercept : float
        0.0 without an intercept.
    cov : ndarray (d, d) or (d + 1, d + 1) or None
        Covariance of ``(coef, intercept)`` (intercept last when fitted): the inverse
        Fisher information ``(X'WX)^-1`` (weights as frequencies), or the ridge sandwich.
    separated : str or None
        None, or how the rows were separated (a key of
        :data:`~semiparam.index.separation.KINDS`); then the fit is the ridge fallback.
    checked : bool
        Whether separation was looked for (unpenalised fits).
    alpha : float
        Ridge strength used.
    loglik : float
        Log-likelihood at the estimate (without the penalty).
    n_iter : int
    converged : bool
    """

    coef: np.ndarray
    intercept: float
    cov: np.ndarray | None
    separated: str | None
    checked: bool
    alpha: float
    loglik: float
    n_iter: int
    converged: bool


def _subsample_start(op, c, pen, start, scale, max_iter):
    """Start of an unpenalised fit on many rows: the MLE on a fixed subsample.

    From ``n >= 4 m`` rows on (``m = max(10^4, 40 d)``), Newton first runs on ``m`` rows
    drawn once (seed 0, without replacement); its estimate is within ``O(m^-1/2)`` of
    the full one, from where Newton needs about five full iterations instead of seven
    (DPO at ``n = 1e5``, ``d = 189``).  Where the subsample is separated or its fit does not converge, ``start`` is
    returned unchanged (and the full fit decides about separation as always).
    """
    n, d = op.A.shape
    m = max(10_000, 40 * d)
    if n < 4 * m:
        return start
    rows = np.sort(np.random.default_rng(0).choice(n, m, replace=False))
    pilot = newton_softplus(DenseRows(op.A[rows]), c[rows] * (c.sum() / c[rows].sum()),
                            pen=pen, start=start, scale=scale, max_iter=max_iter, tol=1e-6,
                            detect=True)
    return pilot.coef if pilot.converged and not pilot.separated else start


def _logit_rows(X, z, w, fit_intercept):
    """The engine's problem for a logit: ``(op, c, pen, start, scale, mu)``.

    Rows with weight 0 are dropped; the signed rows ``(2 z - 1) [x, 1]`` are built once
    with the columns centred (``mu``, intercept only; else None) and divided by their
    scales; the start is 0 with the intercept at the log-odds of the mean label.
    """
    z = np.asarray(z, dtype=float)
    w = np.asarray(w, dtype=float)
    keep = w > 0
    if not np.all(keep):
        X, z, w = X[keep], z[keep], w[keep]
    n, d = X.shape
    s = 2.0 * z - 1.0
    mu = (w @ X) / w.sum() if fit_intercept else None
    A = np.empty((n, d + 1) if fit_intercept else (n, d))
    if fit_intercept:
        np.subtract(X, mu, out=A[:, :d])
        A[:, :d] *= s[:, None]
        scale = _scale_columns(A[:, :d], w, copy=False)[1]
        A[:, d] = s
        scale = np.r_[scale, 1.0]
        pen = np.r_[np.ones(d), 0.0]
        pbar = float(np.clip(np.average(z, weights=w), 1e-12, 1 - 1e-12))
        start = np.r_[np.zeros(d), np.log(pbar / (1.0 - pbar))]
    else:
        np.multiply(X, s[:, None], out=A)
        scale = _scale_columns(A, w, copy=False)[1]
        pen, start = np.ones(d), np.zeros(d)
    return DenseRows(A), w, pen, start, scale, mu


def fit_logit(X, z, w, *, fit_intercept=False, alpha=0.0, C=1.0, separation="silent",
              name="logit", units="classes", max_iter=100, tol=1e-8, covariance=True,
              warn_convergence=True):
    """Weighted logit by the engine, with the separation policy; no input validation.

    Parameters
    ----------
    X : ndarray (n, d)
    z : ndarray (n,)
        Labels in {0, 1}.
    w : ndarray (n,)
        Nonnegative weights (rows with weight 0 are dropped).
    fit_intercept : bool
        Estimate an intercept (unpenalised); the columns are then centred as well as
        scaled inside.
    alpha : float
        Ridge ``alpha |coef|^2 / 2`` on the summed loss (0: the MLE, with the separation
        policy).
    C, separation, name, units
        The fallback ridge ``1 / C`` and what to do on separation
        (:func:`solve_with_separation_policy`; ``name`` and ``units`` are the words).
    max_iter, tol : int, float
        Newton's cap and tolerance.
    covariance : bool
        Compute ``cov`` (else None).
    warn_convergence : bool
        Issue a ConvergenceWarning when Newton does not converge.

    Returns
    -------
    LogitFit
    """
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    op, w, pen, start, scale, mu = _logit_rows(X, z, w, fit_intercept)

    def solve(a, detect):
        b0 = _subsample_start(op, w, pen, start, scale, max_iter) if a == 0.0 else start
        return newton_softplus(op, w, alpha=a, pen=pen, start=b0, scale=scale,
                               max_iter=max_iter, tol=tol, detect=detect)

    out = solve_with_separation_policy(solve, alpha=alpha, C=C, separation=separation,
                                       name=name, units=units,
                                       max_iter=max_iter if warn_convergence else None)
    beta = out.coef
    loglik = float(-(w @ softplus_neg(op.matvec(beta * scale))))
    cov = None
    if covariance:
        with single_blas_thread():
            cov = out.covariance(op, w)
    coef, intercept = beta[:d].copy(), 0.0
    if fit_intercept:
        # theta_0 is the intercept of the centred design: b_0 = theta_0 - mu'b
        intercept = float(beta[d] - mu @ coef)
        if cov is not None:
            J = np.eye(d + 1)
            J[d, :d] = -mu
            cov = J @ cov @ J.T
    return LogitFit(coef, intercept, cov, out.kind or None, out.checked, out.alpha,
                    loglik, int(out.n_iter), bool(out.converged))


def logit_pilot(X, z, w, *, C=1.0, fit_intercept=True, max_iter=100):
    """Slopes of a weighted logit, the start of every estimator that needs one.

    The MLE when it exists; when the classes are separated, the ridge fit with
    ``|b|^2 / (2 C)`` (:func:`solve_with_separation_policy`, silent: the caller decides
    what to say).  No warnings.

    Returns
    -------
    slopes : ndarray (d,)
    separated : str or None
        None, or the kind of separation found (a key of
        :data:`~semiparam.index.separation.KINDS`).
    """
    fit = fit_logit(X, z, w, fit_intercept=fit_intercept, C=C, separation="silent",
                    max_iter=max_iter, covariance=False, warn_convergence=False)
    return fit.coef, fit.separated
