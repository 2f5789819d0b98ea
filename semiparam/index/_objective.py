"""Leave-one-out kernel objectives of single-index models, with analytic gradients.

Klein & Spady (1993) and Ichimura (1993) both minimise an average loss of the data
against a *leave-one-out* Nadaraya–Watson estimate of the link at the index
``v = X @ gamma``:

    F(gamma) = sum_i c_i loss(z_i, g_i) / sum_i c_i,
    g_i = A_i / B_i,  A_i = sum_{j != i} K((v_i - v_j)/h) w_j z_j,
                      B_i = sum_{j != i} K((v_i - v_j)/h) w_j,

with row weights ``w`` and objective weights ``c = w * (not trimmed)``.  The loss is
pluggable: :class:`BernoulliLoss` (the Klein–Spady quasi-likelihood, probabilities
clipped to ``[clip, 1 - clip]``) or :class:`SquaredLoss` (Ichimura's semiparametric
least squares).  ``F`` depends on ``(gamma, h)`` only through ``gamma / h``: the
optimiser works with ``h = 1`` and an unconstrained ``gamma`` (joint cross-validation of
direction and bandwidth, as R's ``np`` does) or, for a bandwidth fixed relative to the
index's standard deviation, through :class:`RelativeBandwidthObjective`.

Gradient.  With ``r_i = c_i dloss/dg (z_i, g_i)``, ``q_i = r_i / B_i`` and the sums
``S1[k; u] = sum_{j != k} K'((v_k - v_j)/h) u_j`` (``K'`` odd), the derivative of
``sum_i r_i``-weighted changes of the ``g_i`` with respect to every ``v_k`` is

    h dF/dv_k ∝ q_k (S1[k; a] - g_k S1[k; b]) + a_k S1[k; q] - b_k S1[k; q g],

(``a = w z``, ``b = w``): the first term moves the query point ``v_k``, the second moves
``v_k`` as a memory point of every other row.  Value and gradient come from
:func:`semiparam._kernels.loo_loss`, which sorts ``v`` once (warm-started from the
previous evaluation's order) and runs both kernel passes and the loss in sorted order
(O(n log n) for the compact kernels).

A row whose leave-one-out denominator vanishes (no neighbour inside a compact kernel's
window, or every neighbour with zero weight) gets the leave-one-out sample mean of ``z``
(the infinite-bandwidth limit) and no gradient.  The Gaussian's sums never vanish by
underflow: a row far from every neighbour has them relative to its nearest neighbour's
kernel weight (:mod:`semiparam._kernels.far`), so its ``g_i`` follows the formula.

Per-observation scores (statsmodels' ``score_obs``) and the information matrix used by
:mod:`semiparam.index._inference` come from :meth:`LOOObjective.inference_terms`:
``psi_i = s(z_i, g_i) g'(v_i) (x_i - E[x | v_i])`` with ``s = (z - g)/(g (1 - g))``
(Bernoulli) or ``z - g`` (squared), ``E[x | v]`` the leave-one-out kernel regression of
the columns of ``X`` on the index; the (expected) Hessian is
``sum_i c_i kappa(g_i) g'(v_i)^2 (x_i - E[x | v_i])(x_i - E[x | v_i])'`` with
``kappa = 1/(g (1 - g))`` or 1.  Subtracting ``E[x | v]`` is what makes the score
insensitive to first-order errors in the estimated link (Klein & Spady 1993, sec. 4).

References
----------
Klein, R. W. and Spady, R. H. (1993). An efficient semiparametric estimator for binary
response models. *Econometrica* 61(2), 387-421.
Ichimura, H. (1993). Semiparametric least squares (SLS) and weighted SLS estimation of
single-index models. *Journal of Econometrics* 58, 71-120.
Hayfield, T. and Racine, J. S. (2008). Nonparametric econometrics: the np package.
*Journal of Statistical Software* 27(5).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._kernels import kernel_sums, loo_loss, static_columns
from ..stats import weighted_sd

__all__ = [
    "BernoulliLoss",
    "SquaredLoss",
    "LOOObjective",
    "RelativeBandwidthObjective",
    "FlooredBandwidthObjective",
]


# --------------------------------------------------------------------------- losses
class BernoulliLoss:
    """Negative Bernoulli log-likelihood of a probability clipped to ``[clip, 1 - clip]``.

    This is exactly the term of R np's Klein–Spady objective (``clip = sqrt(eps)``).
    The clip is flat outside ``[clip, 1 - clip]``, so clipped rows carry no gradient.
    The objective's value and gradient run in the fused kernel
    (:func:`semiparam._kernels.loo_loss`, loss ``name``); these NumPy methods serve the
    null objective and inference.
    """

    name = "bernoulli"

    def __init__(self, clip: float):
        self.clip = float(clip)

    def _clip(self, g):
        return np.clip(g, self.clip, 1.0 - self.clip)

    def value(self, z, g):
        gc = self._clip(g)
        return -(z * np.log(gc) + (1.0 - z) * np.log(1.0 - gc))

    def score_weight(self, z, g):
        """``(z - g) / (g (1 - g))`` at the clipped ``g`` (the efficient score's factor)."""
        gc = self._clip(g)
        return (z - gc) / (gc * (1.0 - gc))

    def curvature(self, g):
        """Expected second derivative of the loss in ``g``: ``1 / (g (1 - g))``."""
        gc = self._clip(g)
        return 1.0 / (gc * (1.0 - gc))


class SquaredLoss:
    """Squared error ``(z - g)^2`` (Ichimura's semiparametric least squares)."""

    name = "squared"

    def value(self, z, g):
        return (z - g) ** 2

    def score_weight(self, z, g):
        return z - g

    def curvature(self, g):
        return np.ones_like(g)


# --------------------------------------------------------------------------- objective
class LOOObjective:
    """Leave-one-out kernel objective ``F(gamma)`` on a fixed design (bandwidth 1).

    Parameters
    ----------
    X : ndarray (n, d)
        Design (the caller centres and scales it; ``F`` is invariant to centring).
    z : ndarray (n,)
        Outcome (0/1 for the Bernoulli loss, any real for the squared loss).
    w : ndarray (n,)
        Nonnegative row weights (they weight both the link estimate and the loss).
    kernel : str
        A name in the kernel registry of :mod:`semiparam._kernels`.
    loss : BernoulliLoss or SquaredLoss
    mask : ndarray of bool (n,), optional
        Rows kept in the objective (trimming); all rows still enter the link estimates.

    Notes
    -----
    The object is stateful only in a harmless way: it remembers the last sort order of
    the index (handed back to the kernels, which then re-sort in almost linear time) and
    counts evaluations in ``n_evals``.
    """

    def __init__(self, X, z, w, *, kernel, loss, mask=None):
        self.X = np.ascontiguousarray(X, dtype=float)
        self.z = np.asarray(z, dtype=float)
        self.w = np.asarray(w, dtype=float)
        self.kernel = kernel
        self.loss = loss
        self.c = self.w if mask is None else self.w * np.asarray(mask, dtype=float)
        self.csum = float(self.c.sum())
        if not self.csum > 0:
            raise ValueError("Every row was trimmed or has zero weight; nothing to fit.")
        self.a = self.w * self.z
        self.U = np.ascontiguousarray(np.column_stack([self.a, self.w]))
        self.Z = static_columns(self.z, self.w, self.c)
        self.fallback = self.Z[:, 4].copy()
        self._clip = float(getattr(loss, "clip", 0.0))
        self._order = None
        self.n_evals = 0

    # -- kernel sums ---------------------------------------------------------------
    def _sums(self, v, U, h, derivative):
        """Sums of ``U``, each row relative to its nearest neighbour's Gaussian weight where
        it would underflow (so only ratios of sums of one call are meaningful)."""
        S0, S1, order, _ = kernel_sums(
            v, U, h, self.kernel, derivative=derivative, order=self._order, relative=True
        )
        self._order = order
        return S0, S1

    def _link(self, v, h, derivative):
        S0, S1 = self._sums(v, self.U, h, derivative)
        A, B = S0[:, 0], S0[:, 1]
        ok = self._has_neighbours(B)
        return self._ratio(A, B, ok), A, B, ok, S1

    def _has_neighbours(self, B):
        return B > (0.0 if getattr(self.kernel, "name", self.kernel) == "gaussian" else 1e-300)

    def _ratio(self, A, B, ok):
        if ok.all():  # the common case: every row has a neighbour
            return A / B
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ok, A / np.where(ok, B, 1.0), self.fallback)

    def link_loo(self, v, h=1.0):
        """Leave-one-out link values ``g_i`` at the index ``v`` and the rows they rest on."""
        g, _, _, ok, _ = self._link(np.asarray(v, dtype=float), h, False)
        return g, ok

    # -- objective in terms of the index v -----------------------------------------
    def _fused(self, v, h, gradient):
        F, gv, self._order = loo_loss(
            v, self.Z, h, self.kernel, loss=self.loss.name, clip=self._clip,
            order=self._order, gradient=gradient,
        )
        return F, gv

    def value_v(self, v, h=1.0):
        """``F`` at the index ``v`` with bandwidth ``h``."""
        self.n_evals += 1
        return self._fused(v, h, False)[0]

    def value_grad_v(self, v, h=1.0):
        """``(F, dF/dv)`` at the index ``v`` with bandwidth ``h`` (two fused sorted passes,
        :func:`semiparam._kernels.loo_loss`)."""
        self.n_evals += 1
        return self._fused(v, h, True)

    # -- objective in terms of gamma (h = 1) ---------------------------------------
    def value(self, gamma):
        """``F(gamma)`` with the index ``X @ gamma`` and bandwidth 1."""
        return self.value_v(self.X @ gamma)

    def value_and_grad(self, gamma):
        """``(F(gamma), dF/dgamma)`` with bandwidth 1."""
        F, gv = self.value_grad_v(self.X @ gamma)
        return F, self.X.T @ gv

    def null_value(self):
        """``F`` of the infinite-bandwidth limit (the link a constant): the flat benchmark."""
        return float(self.c @ self.loss.value(self.z, self.fallback)) / self.csum

    # -- inference -------------------------------------------------------------------
    def nuisances(self, v):
        """The leave-one-out link, its derivative and the centred design at the index ``v``.

        Bandwidth 1 (pass ``X @ b / h`` for bandwidth ``h``).  Two kernel passes: the
        link's sums with their derivative, then the sums of ``X w`` without one (half
        the work of a joint pass with ``d`` derivative columns), carried to the link
        sums' per-row relative scale (``logscale`` of the kernels) so their ratios are
        exact for far rows too.

        Returns
        -------
        g : ndarray (n,)
            ``g_{-i}(v_i)`` (unclipped; the leave-one-out mean where a row has no
            neighbour).
        dlink : ndarray (n,)
            ``g'_{-i}(v_i)``, the derivative of the ratio in ``v`` (0 without neighbours).
        R : ndarray (n, d)
            ``x_i - E_{-i}[x | v_i]`` (0 without neighbours).
        ok : ndarray of bool (n,)
            Rows with neighbours.
        """
        v = np.asarray(v, dtype=float)
        S0, S1, order, scale = kernel_sums(
            v, self.U, 1.0, self.kernel, derivative=True, order=self._order, relative=True)
        Sx, _, self._order, scale_x = kernel_sums(
            v, self.X * self.w[:, None], 1.0, self.kernel, order=order, relative=True)
        if np.any(scale != scale_x):
            Sx = Sx * np.exp(scale - scale_x)[:, None]
        A, B = S0[:, 0], S0[:, 1]
        ok = self._has_neighbours(B)
        g = self._ratio(A, B, ok)
        Bs = np.where(ok, B, 1.0)
        dg = np.where(ok, (S1[:, 0] - g * S1[:, 1]) / Bs, 0.0)
        Ex = Sx / Bs[:, None]
        R = np.where(ok[:, None], self.X - Ex, 0.0)
        return g, dg, R, ok

    def inference_terms(self, gamma):
        """Scores and Hessian at ``gamma`` (bandwidth 1), for the covariance estimators.

        Returns
        -------
        hessian : ndarray (d, d)
            ``sum_i c_i kappa_i g'_i^2 R_i R_i'`` with ``R_i = x_i - E[x | v_i]``.
        score_obs : ndarray (n, d)
            Per-row scores ``s(z_i, g_i) g'_i R_i`` (unweighted; zero where a row has no
            neighbour or is trimmed).
        dlink : ndarray (n,)
            ``g'(v_i)``, the derivative of the leave-one-out link estimate.
        """
        g, dg, R, ok = self.nuisances(self.X @ gamma)
        use = ok & (self.c > 0)
        s = np.where(use, self.loss.score_weight(self.z, g), 0.0)
        score_obs = (s * dg)[:, None] * R
        hw = np.where(use, self.c * self.loss.curvature(g) * dg * dg, 0.0)
        hessian = (R * hw[:, None]).T @ R
        return hessian, score_obs, dg


class RelativeBandwidthObjective:
    """``theta -> F(X theta / (k sd_w(X theta)))``: the bandwidth fixed at ``k`` index sds.

    Scale-invariant in ``theta`` (the gradient is orthogonal to ``theta``), so a
    quasi-Newton method only moves the direction.
    """

    def __init__(self, objective: LOOObjective, k: float):
        self.obj = objective
        self.k = float(k)

    def gamma(self, theta):
        """The bandwidth-1 parameter ``theta / (k sd(X theta))`` with the same objective."""
        v0 = self.obj.X @ theta
        sd = weighted_sd(v0, self.obj.w, check_input=False)
        return np.asarray(theta, dtype=float) / (self.k * sd)

    def value(self, theta):
        return self.obj.value(self.gamma(theta))

    def value_and_grad(self, theta):
        X, w = self.obj.X, self.obj.w
        v0 = X @ theta
        sw = w.sum()
        m = (w @ v0) / sw
        sd = np.sqrt(max((w @ (v0 - m) ** 2) / sw, 0.0))  # inline: the gradient needs m, sw
        s = self.k * sd
        if not s > 0:
            return np.inf, np.zeros_like(theta)
        F, gv = self.obj.value_grad_v(v0 / s)
        ds = self.k * w * (v0 - m) / (sw * sd)
        gv0 = gv / s - (gv @ v0) / (s * s) * ds
        return F, X.T @ gv0


class FlooredBandwidthObjective:
    """``(theta, rho) -> F(X theta / (k sd_w(X theta)))`` with ``k = floor (1 + e^rho)``.

    Joint cross-validation of direction and bandwidth with the bandwidth (in index
    standard deviations) kept above ``floor``: ``theta`` carries the direction only (the
    value is invariant to its scale, the gradient orthogonal to it) and ``rho`` the
    bandwidth's excess over the floor.  With ``v0 = X theta``, ``v = v0 / (k sd(v0))``:
    ``dF/drho = -(dF/dv . v) sigma(rho)`` (``dk/drho = k sigma(rho)``).
    """

    def __init__(self, objective: LOOObjective, floor: float):
        self.obj = objective
        self.floor = float(floor)

    def k(self, rho):
        return self.floor * np.exp(np.logaddexp(0.0, rho))

    def gamma(self, x):
        """The bandwidth-1 parameter with the same objective value."""
        theta = np.asarray(x[:-1], dtype=float)
        sd = weighted_sd(self.obj.X @ theta, self.obj.w, check_input=False)
        return theta / (self.k(x[-1]) * sd)

    def encode(self, gamma, margin=1e-3):
        """The point ``(theta, rho)`` of a bandwidth-1 ``gamma`` (at the floor if below it)."""
        gamma = np.asarray(gamma, dtype=float)
        sdv = weighted_sd(self.obj.X @ gamma, self.obj.w, check_input=False)
        h_rel = 1.0 / sdv if sdv > 0 else np.inf
        excess = max(h_rel / self.floor - 1.0, margin) if np.isfinite(h_rel) else 1e6
        return np.append(gamma * sdv if sdv > 0 else gamma, np.log(excess))

    def value(self, x):
        return self.obj.value(self.gamma(x))

    def value_and_grad(self, x):
        X, w = self.obj.X, self.obj.w
        theta, rho = x[:-1], float(x[-1])
        v0 = X @ theta
        sw = w.sum()
        m = (w @ v0) / sw
        sd = np.sqrt(max((w @ (v0 - m) ** 2) / sw, 0.0))  # inline: the gradient needs m, sw
        k = float(self.k(rho))
        s = k * sd
        if not (s > 0 and np.isfinite(s)):
            return np.inf, np.zeros_like(x)
        v = v0 / s
        F, gv = self.obj.value_grad_v(v)
        ds = k * w * (v0 - m) / (sw * sd)
        gv0 = gv / s - (gv @ v0) / (s * s) * ds
        drho = -(gv @ v) * float(special.expit(rho))
        return F, np.append(X.T @ gv0, drho)

