"""Monotone spline sieve link: I-splines with nonnegative coefficients through a logistic map.

The link is

    g(v) = sigmoid(eta(v)),    eta(v) = a + sum_{k=1}^{K} c_k I_k(v),    c_k >= 0,

where ``I_1, ..., I_K`` are I-splines (integrated, normalised B-splines; Ramsay 1988) of
polynomial degree ``degree`` on knots at quantiles of the index.  Every ``I_k`` rises from
0 to 1, so ``eta`` (and ``g``) is nondecreasing by construction, and the intercept ``a`` is
free.  The number of basis functions ``K`` grows like ``n^(1/5)`` (the rate that balances
bias and variance for a twice-differentiable link).

Construction (one home, :class:`MonotoneSplineBasis` in :mod:`semiparam.links._spline`,
re-exported here).  With ``B_0, ..., B_K`` the clamped B-splines of degree ``degree`` on
the knots (scipy's :class:`~scipy.interpolate.BSpline`), ``I_k = sum_{m >= k} B_m`` for
``k = 1..K``, so that ``eta = sum_m s_m B_m`` with spline coefficients
``s = a + cumsum([0, c])``: a B-spline whose coefficients are nondecreasing.  Every
evaluation is therefore a sparse B-spline design matrix (``degree + 1`` nonzeros per row)
and a matrix-vector product; the derivative uses the degree ``degree - 1`` B-splines (the
M-splines), also sparse.

Extrapolation.  Between the boundary knots (the smallest and largest index seen in ``fit``)
``eta`` is the spline.  Beyond them it is continued either linearly with the boundary slope
(``extrapolation="linear"``, the default: the logit of the link keeps its slope, which is
nonnegative, so the link stays monotone and keeps approaching 0 or 1 like a logistic tail)
or flat (``extrapolation="constant"``: the link is frozen at its boundary values, as an
isotonic fit would be).

Estimation.  (Weighted) maximum likelihood for binary (or fractional) ``z`` under the
bounds ``c_k >= 0``: the log-likelihood is concave in ``(a, c)``, and by default Newton
steps that solve each bound-constrained quadratic model exactly
(:func:`bounded_newton`) converge in a handful of iterations; scipy's L-BFGS-B with the
analytic gradient is available as ``solver="lbfgsb"``.  A vanishing ridge
(``1e-6 / 2 * |c|^2`` on the mean log-likelihood scale) and the box ``|a| <= 30``,
``c_k <= 60`` (logits beyond +-30 are probabilities within 1e-13 of 0 or 1) keep the
maximiser finite when the classes are (partly) separated by ``v``, e.g. a stretch of the
index with only zeros; both are inactive otherwise.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy import linalg, optimize, special
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._kernels import kernel_sums_at
from .._validation import Interval, NoneOK, Options, check_sample_weight, validate_params
from ..exceptions import ConvergenceWarning, warn
from ._base import BaseLink
from ..stats import rule_of_thumb_bandwidth, weighted_sd
from ._spline import MonotoneSplineBasis, SplineDesign, default_n_basis

__all__ = [
    "SieveLink",
    "MonotoneSplineBasis",
    "bounded_newton",
    "link_bounds",
    "SplineDesign",
    "default_n_basis",
]

#: fewest rows per basis function a user-chosen n_basis may leave
MIN_ROWS_PER_BASIS = 10

#: ridge on the mean log-likelihood scale; keeps the MLE finite under separation
RIDGE = 1e-6
#: bound on |a| and on each c_k / 2 (sigmoid(-30) ~ 1e-13: numerically 0)
ETA_MAX = 30.0


def link_bounds(n_basis: int):
    """Box ``(lower, upper)`` for ``(a, c_1..c_K)``: ``|a| <= 30``, ``0 <= c_k <= 60``."""
    lower = np.r_[-ETA_MAX, np.zeros(n_basis)]
    upper = np.r_[ETA_MAX, np.full(n_basis, 2 * ETA_MAX)]
    return lower, upper


class SieveLink(BaseLink, BaseEstimator):
    """Monotone spline-sieve estimate of ``P(z = 1 | index = v)``.

    ``g(v) = sigmoid(a + sum_k c_k I_k(v))`` with I-splines ``I_k`` on knots at quantiles
    of ``v`` and ``c_k >= 0``: nondecreasing by construction (nonincreasing with
    ``increasing=False``).  Fitted by weighted maximum likelihood under the bounds
    (bound-constrained Newton, or L-BFGS-B with the analytic gradient).  See the module
    docstring for the construction and :class:`MonotoneSplineBasis` for the basis, which
    the single-index estimator reuses.

    Parameters
    ----------
    n_basis : int or None, default=None
        Number of I-spline functions (nonnegative coefficients), at least ``degree``;
        ``n_basis - degree`` interior knots.  None: :func:`default_n_basis` (grows like
        ``n^(1/5)``).
    degree : int, default=3
        Polynomial degree of the spline (3: cubic, twice continuously differentiable).
    increasing : bool, default=True
        Direction of monotonicity.
    extrapolation : {"linear", "constant"}, default="linear"
        Beyond the fitted index range the logit of the link continues linearly with its
        boundary slope, or stays constant.
    clip : float, default=1e-8
        ``__call__`` returns probabilities in ``[clip, 1 - clip]`` (the derivative is 0
        where clipping binds).
    solver : {"newton", "lbfgsb"}, default="newton"
        ``"newton"``: Newton steps with the bounds enforced exactly in each step
        (:func:`bounded_newton`; the log-likelihood is concave in the coefficients, so
        this converges in a few iterations).  ``"lbfgsb"``: scipy's L-BFGS-B with bounds
        and the analytic gradient (more iterations, no Hessian).  Both maximise the same
        likelihood.
    max_iter : int, default=200
        Maximum number of iterations of the solver.
    tol : float, default=1e-10
        Convergence tolerance: on the predicted decrease of the mean negative
        log-likelihood (``"newton"``), or L-BFGS-B's ``ftol`` and ``gtol``.

    Attributes
    ----------
    basis_ : MonotoneSplineBasis
        The fitted basis (knots, degree, extrapolation).
    knots_ : ndarray
        Full clamped knot vector.
    n_basis_ : int
        Number of I-spline functions actually used (coinciding quantiles are merged).
    intercept_ : float
        ``a``: the logit of the link at the lower boundary knot (upper, if decreasing).
    coef_ : ndarray of shape (``n_basis_``,)
        Nonnegative I-spline coefficients ``c``.
    loglik_ : float
        Weighted log-likelihood at the fit.
    n_iter_ : int
        Solver iterations.
    converged_ : bool
        Whether the solver met its convergence criterion.
    index_range_ : tuple of float
        Range of the index seen in ``fit`` (the boundary knots).

    Examples
    --------
    >>> import numpy as np
    >>> from semiparam.links import SieveLink
    >>> rng = np.random.default_rng(0)
    >>> v = rng.standard_normal(2000)
    >>> z = (rng.uniform(size=2000) < 1 / (1 + np.exp(-2 * v))).astype(int)
    >>> link = SieveLink().fit(v, z)
    >>> bool(np.all(np.diff(link(np.linspace(-3, 3, 50))) >= 0))
    True
    """

    _parameter_constraints = {
        "n_basis": [Interval(numbers.Integral, 1, None, closed="left"), NoneOK()],
        "degree": [Interval(numbers.Integral, 1, 5, closed="both")],
        "increasing": [Options({True, False})],
        "extrapolation": [Options({"linear", "constant"})],
        "clip": [Interval(numbers.Real, 0, 0.5, closed="left")],
        "solver": [Options({"newton", "lbfgsb"})],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, *, n_basis=None, degree=3, increasing=True, extrapolation="linear",
                 clip=1e-8, solver="newton", max_iter=200, tol=1e-10):
        self.n_basis = n_basis
        self.degree = degree
        self.increasing = increasing
        self.extrapolation = extrapolation
        self.clip = clip
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    # -- fitting ---------------------------------------------------------------
    def fit(self, v, z, sample_weight=None):
        """Fit the link by maximum likelihood.

        Parameters
        ----------
        v : array-like of shape (n,)
            Index values (finite, not all equal).
        z : array-like of shape (n,)
            Outcomes in [0, 1] (binary, or fractional frequencies).
        sample_weight : array-like of shape (n,), default=None
            Nonnegative row weights.

        Returns
        -------
        self : SieveLink
        """
        validate_params(self)
        v, z, w = _check_link_data(v, z, sample_weight)
        n_basis = self.resolve_n_basis(np.count_nonzero(w))
        sign = 1.0 if self.increasing else -1.0
        basis = MonotoneSplineBasis.from_index(
            v, n_basis, self.degree, sample_weight=w, extrapolation=self.extrapolation)
        design = basis.design(v)
        sw = float(w.sum())
        zbar = float(np.clip(np.dot(w, z) / sw, 1e-6, 1 - 1e-6))
        theta0 = np.r_[special.logit(zbar), np.full(basis.n_basis, 1e-3)]
        fun = LinkObjective(design, z, w, sign, basis.transform(sign))
        lower, upper = link_bounds(basis.n_basis)
        if self.solver == "newton":
            theta, info = bounded_newton(
                lambda th, d: fun.newton(th) if d else fun(th, False),
                theta0, lower, upper, max_iter=self.max_iter, tol=self.tol)
            converged, n_iter, message = info["converged"], info["n_iter"], info["message"]
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = optimize.minimize(
                    fun, theta0, jac=True, method="L-BFGS-B",
                    bounds=list(zip(lower, upper)),
                    options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": self.tol,
                             "maxcor": 20})
            theta, n_iter, message = res.x, int(res.nit), res.message
            # L-BFGS-B may stop "ABNORMAL" when no line search can improve at the optimum
            converged = bool(res.success) or bool(
                np.max(np.abs(_projected_grad(res.x, res.jac, lower, upper))) < 1e-7)
        if not converged:
            warn(
                f"SieveLink: the {self.solver} solver did not converge ({message}); the "
                "link is the last iterate.", ConvergenceWarning)
        res_x = theta
        self._set_state(basis, float(res_x[0]), np.maximum(res_x[1:], 0.0))
        self.loglik_ = float(-fun.nll(res_x) * sw)
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        return self

    def resolve_n_basis(self, n: int) -> int:
        """The number of basis functions for ``n`` rows (the default, or ``n_basis`` checked)."""
        if self.n_basis is None:
            return default_n_basis(n, self.degree)
        if self.n_basis > max(self.degree, n // MIN_ROWS_PER_BASIS):
            raise ValueError(
                f"n_basis={self.n_basis} is too large for {n} rows: at most "
                f"{max(self.degree, n // MIN_ROWS_PER_BASIS)} (at least {MIN_ROWS_PER_BASIS} "
                "rows per basis function; the default grows like n^(1/5)).")
        if self.n_basis < self.degree:
            raise ValueError(
                f"n_basis must be >= degree (got n_basis={self.n_basis} < "
                f"degree={self.degree}): a monotone spline of degree {self.degree} without "
                f"interior knots already has {self.degree} basis functions.")
        return int(self.n_basis)

    def _set_state(self, basis, intercept, coef):
        self.basis_ = basis
        self.knots_ = basis.knots
        self.n_basis_ = basis.n_basis
        self.intercept_ = float(intercept)
        self.coef_ = np.asarray(coef, dtype=float)
        self.index_range_ = (basis.lower, basis.upper)

    @classmethod
    def from_basis(cls, basis, intercept, coef, *, increasing=True, clip=1e-8,
                    loglik=None, n_iter=0, converged=True):
        """A fitted link from a basis and coefficients (used by the index estimator)."""
        link = cls(n_basis=basis.n_basis, degree=basis.degree, increasing=bool(increasing),
                   extrapolation=basis.extrapolation, clip=clip)
        link._set_state(basis, intercept, coef)
        link.loglik_ = loglik
        link.n_iter_ = int(n_iter)
        link.converged_ = bool(converged)
        return link

    def _spline_coef(self):
        sign = 1.0 if self.increasing else -1.0
        return self.basis_.spline_coef(self.intercept_, self.coef_, sign)

    def affine(self, alpha: float, gamma: float = 0.0) -> "SieveLink":
        """The link of the transformed index: ``h(u) = g(alpha * u + gamma)``.

        ``alpha < 0`` reverses the direction of monotonicity.  Used to express a link
        fitted on one index scale on another (e.g. normalised coefficients).

        Parameters
        ----------
        alpha : float
            Nonzero scale.
        gamma : float, default=0
            Shift.

        Returns
        -------
        SieveLink
            A new fitted link.
        """
        check_is_fitted(self, "basis_")
        basis, rev = self.basis_.affine(float(alpha), float(gamma))
        s = self._spline_coef()
        increasing = self.increasing != rev
        if rev:
            s = s[::-1]
        a, c = basis.ispline_coef(s, 1.0 if increasing else -1.0)
        return type(self).from_basis(
            basis, a, np.maximum(c, 0.0), increasing=increasing, clip=self.clip,
            loglik=getattr(self, "loglik_", None), n_iter=getattr(self, "n_iter_", 0),
            converged=getattr(self, "converged_", True))

    # -- evaluation ------------------------------------------------------------
    def logit(self, v) -> np.ndarray:
        """``eta(v)``, the link on the logit scale (not clipped)."""
        check_is_fitted(self, "basis_")
        v = np.asarray(v, dtype=float)
        return self.basis_.design(v.ravel()).value(self._spline_coef()).reshape(v.shape)

    def with_prior(self, v, z, sample_weight=None, prior_weight=1.0):
        """A copy whose values carry ``prior_weight`` pseudo-observations at ``zbar``.

        ``g_a(u) = (m(u) g(u) + a zbar) / (m(u) + a)`` with ``m(u)`` the number of fitted
        points near ``u`` in observation units: the Epanechnikov kernel mass of ``v`` at
        Silverman's bandwidth, divided by ``K(0) wbar``.  Where the data are dense the
        link is unchanged; in thin tails it is pulled toward the mean instead of
        extrapolating a steep fit to certainty (the Laplace-type correction that
        :class:`~semiparam.links.KernelLink` and :class:`~semiparam.links.IsotonicLink`
        make with ``prior_weight``).
        """
        import copy

        check_is_fitted(self, "basis_")
        v = np.asarray(v, dtype=float).ravel()
        z = np.asarray(z, dtype=float).ravel()
        w = np.ones_like(v) if sample_weight is None else np.asarray(sample_weight, float)
        unit = 0.75 * float(w.mean())  # K(0) times an average row's weight
        keep = w > 0
        v, z, w = v[keep], z[keep], w[keep]
        order = np.argsort(v, kind="stable")
        sd = float(weighted_sd(v, w, check_input=False))
        out = copy.copy(self)
        out.prior_weight_ = float(prior_weight)
        out._prior = {
            "v": np.ascontiguousarray(v[order]), "w": np.ascontiguousarray(w[order]),
            "h": rule_of_thumb_bandwidth(sd if sd > 0 else 1.0, v.size, "epanechnikov"),
            "unit": unit, "a": float(prior_weight),
            "zbar": float(w @ z) / float(w.sum()),
        }
        return out

    def without_prior(self):
        """A copy without the pseudo-observation of :meth:`with_prior` (the fitted sieve)."""
        import copy

        out = copy.copy(self)
        out._prior = None
        out.prior_weight_ = None
        return out

    def _mass(self, q, derivative):
        pr = self._prior
        S0, S1 = kernel_sums_at(q, pr["v"], pr["w"], pr["h"], "epanechnikov",
                                         derivative=derivative)
        m = S0 / pr["unit"]
        dm = None if S1 is None else S1 / (pr["h"] * pr["unit"])
        return m, dm

    def __call__(self, v) -> np.ndarray:
        """Link values ``g(v)`` in ``[clip, 1 - clip]``."""
        p = special.expit(self.logit(v))
        if getattr(self, "_prior", None) is not None:
            shape = np.shape(p)
            m, _ = self._mass(np.asarray(v, dtype=float).ravel(), False)
            a, zbar = self._prior["a"], self._prior["zbar"]
            p = ((m * p.ravel() + a * zbar) / (m + a)).reshape(shape)
        return np.clip(p, self.clip, 1.0 - self.clip)

    def derivative(self, v) -> np.ndarray:
        """Analytic derivative ``g'(v) = g (1 - g) eta'(v)`` (0 where clipping binds)."""
        check_is_fitted(self, "basis_")
        v = np.asarray(v, dtype=float)
        dsg = self.basis_.design(v.ravel())
        s = self._spline_coef()
        p = special.expit(dsg.value(s))
        out = p * (1.0 - p) * dsg.slope(s)
        if getattr(self, "_prior", None) is not None:
            # product rule on (m g + a zbar) / (m + a)
            m, dm = self._mass(v.ravel(), True)
            a, zbar = self._prior["a"], self._prior["zbar"]
            out = (dm * p + m * out) / (m + a) - (m * p + a * zbar) * dm / (m + a) ** 2
            p = (m * p + a * zbar) / (m + a)
        out[(p < self.clip) | (p > 1.0 - self.clip)] = 0.0
        return out.reshape(v.shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


class LinkObjective:
    """Mean negative log-likelihood (plus ridge) of ``theta = (a, c)`` at a fixed index."""

    def __init__(self, design, z, w, sign, T):
        self.design = design
        self.z = z
        self.w = w
        self.sw = float(w.sum())
        self.sign = sign
        self.T = T

    def nll(self, theta):
        """Mean negative log-likelihood (no ridge)."""
        s = MonotoneSplineBasis.spline_coef(theta[0], theta[1:], self.sign)
        eta = self.design.value(s)
        return float(-np.dot(self.w, self.z * eta - np.logaddexp(0.0, eta)) / self.sw)

    def __call__(self, theta, derivatives=True):
        """``f`` or ``(f, grad)`` (L-BFGS-B) at ``theta``."""
        s = MonotoneSplineBasis.spline_coef(theta[0], theta[1:], self.sign)
        eta = self.design.value(s)
        f = float(-np.dot(self.w, self.z * eta - np.logaddexp(0.0, eta)) / self.sw)
        c = theta[1:]
        f += 0.5 * RIDGE * float(c @ c)
        if not derivatives:
            return f
        r = self.w * (self.z - special.expit(eta)) / self.sw
        ga, gc = MonotoneSplineBasis.chain(-self.design.rmatvec(r), self.sign)
        return f, np.r_[ga, gc + RIDGE * c]

    def newton(self, theta):
        """``(f, grad, hessian)`` for :func:`bounded_newton` (the Hessian is exact here:
        the logit is linear in ``theta``)."""
        f, g = self(theta)
        s = MonotoneSplineBasis.spline_coef(theta[0], theta[1:], self.sign)
        p = special.expit(self.design.value(s))
        H = self.design.gram(self.w * p * (1.0 - p) / self.sw)
        H = self.T.T @ H @ self.T
        H[1:, 1:] += RIDGE * np.eye(theta.size - 1)
        return f, g, H


def bounded_newton(evaluate, theta0, lower, upper=None, *, max_iter=100, tol=1e-10,
                   max_step=None, capped=None):
    """Minimise a smooth function subject to ``lower <= theta <= upper`` by Newton steps.

    Each step solves the box-constrained quadratic model ``min g's + s'Hs/2`` subject to
    ``lower <= theta + s <= upper`` exactly (bounded-variable least squares on the
    Cholesky factor of ``H``, scipy's ``lsq_linear(method="bvls")``, after a cheap
    active-set guess), then backtracks (Armijo) along ``s``.  With a Fisher-information
    ``H`` this is Fisher scoring with bounds.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(theta, derivatives)``: ``f`` if not ``derivatives`` else
        ``(f, grad, H)``.
    theta0 : ndarray
        Feasible start.
    lower, upper : ndarray
        Bounds (``-inf``/``inf`` for free entries; ``upper=None``: none).
    max_iter : int
        Maximum number of steps.
    tol : float
        Stop when the predicted decrease ``-g's`` falls below ``tol``, or when three
        steps in a row decrease ``f`` by less than ``tol * max(1, |f|)``.
    max_step : float or None
        Cap on the Euclidean norm of ``s[capped]`` (the step is shrunk to respect it).
    capped : slice or index array or None
        Entries the cap applies to.

    Returns
    -------
    theta : ndarray
    info : dict
        ``f``, ``grad``, ``hess`` at ``theta``, ``n_iter``, ``converged``, ``message``.
    """
    theta = np.asarray(theta0, dtype=float).copy()
    lower = np.asarray(lower, dtype=float)
    upper = np.full(theta.shape, np.inf) if upper is None else np.asarray(upper, dtype=float)
    theta = np.clip(theta, lower, upper)
    f, g, H = evaluate(theta, True)
    converged, message, it, stalled = False, "maximum number of iterations reached", 0, 0
    t_last = 1.0
    while it < max_iter:
        it += 1
        step = _qp_step(g, H, lower - theta, upper - theta)
        if max_step is not None:
            norm = float(np.linalg.norm(step[capped]))
            if norm > max_step:
                step *= max_step / norm
        dec = float(-g @ step)
        if not np.isfinite(dec):
            message = "non-finite step"
            break
        if dec <= tol:
            converged, message = True, "predicted decrease below tol"
            it -= 1
            break
        t = min(1.0, 4.0 * t_last)  # start near the last accepted step length
        for _ in range(30):
            trial = np.clip(theta + t * step, lower, upper)
            f_new = evaluate(trial, False)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * t * dec:
                break
            t *= 0.5
        else:
            # no decrease along the step: at the optimum up to rounding, or stuck
            converged = dec <= max(1e3 * tol, 1e-12 * (1.0 + abs(f)))
            message = "line search found no decrease"
            break
        theta, t_last = trial, t
        gain = f - f_new
        f, g, H = evaluate(theta, True)
        # a flat stretch (e.g. a saturated link under separation): the model promises
        # more than the objective delivers; stop once it stops moving
        stalled = stalled + 1 if gain <= tol * max(1.0, abs(f)) else 0
        if stalled >= 3:
            converged, message = True, "objective no longer decreases"
            break
    return theta, {"f": f, "grad": g, "hess": H, "n_iter": it, "converged": converged,
                   "message": message}


def _qp_step(g, H, lower, upper):
    """``argmin_s g's + s'Hs/2`` subject to ``lower <= s <= upper`` (``H`` symmetric PSD).

    ``lower <= 0 <= upper``; an entry with ``lower = 0`` (``upper = 0``) sits at its
    bound.  The Newton step with the blocked entries (at a bound, the gradient pointing
    outwards) held at zero is tried first: if it is feasible and the held entries'
    multipliers have the right sign, it solves the problem (KKT).  Otherwise the problem
    is solved by bounded-variable least squares on the Cholesky factor.
    """
    m = g.size
    Hs = 0.5 * (H + H.T)
    scale = max(float(np.max(np.abs(np.diag(Hs)))), 1e-300)
    for damp in (1e-12, 1e-9, 1e-6, 1e-3):
        try:
            Hd = Hs + damp * scale * np.eye(m)
            L = np.linalg.cholesky(Hd)
            break
        except np.linalg.LinAlgError:
            continue
    else:
        return np.clip(-g / scale, lower, upper)
    at_lo = (lower >= 0) & (g > 0)
    at_hi = (upper <= 0) & (g < 0)
    free = ~(at_lo | at_hi)
    step = np.zeros(m)
    if np.all(free):
        step = -linalg.cho_solve((L, True), g)
    elif np.any(free):
        Lf = np.linalg.cholesky(Hd[np.ix_(free, free)])
        step[free] = -linalg.cho_solve((Lf, True), g[free])
    mult = g + Hd @ step  # multipliers of the held entries
    if (np.all(step >= lower - 1e-12) and np.all(step <= upper + 1e-12)
            and np.all(mult[at_lo] >= 0) and np.all(mult[at_hi] <= 0)):
        return np.clip(step, lower, upper)
    R = L.T
    rhs = -linalg.solve_triangular(R, g, trans="T")
    lb, ub = np.minimum(lower, 0.0), np.maximum(upper, 0.0)
    res = optimize.lsq_linear(R, rhs, bounds=(lb, ub), method="bvls")
    return np.clip(res.x, lb, ub)


def _projected_grad(theta, grad, lower, upper):
    """Gradient with the entries blocked by their bounds zeroed."""
    g = np.asarray(grad, dtype=float).copy()
    g[((theta <= lower) & (g > 0)) | ((theta >= upper) & (g < 0))] = 0.0
    return g


def _check_link_data(v, z, sample_weight):
    """Validate a 1-D index, outcomes in [0, 1] and weights."""
    v = np.asarray(v, dtype=float)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"v must be a 1-D array of index values; got shape {v.shape}.")
    if v.size < 2:
        raise ValueError(f"A link needs at least 2 index values; got {v.size}.")
    if not np.all(np.isfinite(v)):
        raise ValueError("v contains NaN or infinity.")
    z = np.asarray(z, dtype=float)
    if z.ndim == 2 and z.shape[1] == 1:
        z = z[:, 0]
    if z.shape != v.shape:
        raise ValueError(f"z has shape {z.shape}; expected {v.shape} to match v.")
    if not np.all(np.isfinite(z)):
        raise ValueError("z contains NaN or infinity.")
    if np.any((z < 0) | (z > 1)):
        raise ValueError("z must lie in [0, 1] (binary outcomes or frequencies).")
    w = check_sample_weight(sample_weight, v.size)
    vp = v[w > 0]
    if vp.max() <= vp.min():
        raise ValueError("v is constant (over the rows with positive weight); a link "
                         "cannot be estimated from a single index value.")
    return v, z, w
