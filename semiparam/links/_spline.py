"""The monotone spline basis of the sieve link: I-splines on quantile knots (scipy B-splines).

With ``B_0, ..., B_K`` the clamped B-splines of degree ``degree`` on the knots (scipy's
:class:`~scipy.interpolate.BSpline`), the I-splines are ``I_k = sum_{m >= k} B_m``
(``k = 1..K``; Ramsay 1988): each rises from 0 to 1, and ``a + sum_k c_k I_k`` is the
spline ``sum_m s_m B_m`` with coefficients ``s = a + cumsum([0, c])``, nondecreasing when
``c >= 0``.  Evaluations are sparse B-spline design matrices (``degree + 1`` nonzeros a
row, kept in banded row form); derivatives use the degree ``degree - 1`` B-splines (the
M-splines).  Beyond the boundary knots the spline continues linearly with its boundary
slope or stays constant.

This module is the one home of the basis: :class:`~semiparam.links.SieveLink` and
:class:`~semiparam.index.SieveIndexClassifier` both build on it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.interpolate import BSpline

from ..stats import weighted_quantile

__all__ = [
    "MonotoneSplineBasis",
    "SplineDesign",
    "default_n_basis",
]


def default_n_basis(n: int, degree: int = 3) -> int:
    """Default number of I-spline basis functions for ``n`` rows.

    ``degree + ceil(n ** (1/5))``: ``ceil(n^(1/5)) - 1`` interior knots, so the basis
    grows like ``n^(1/5)`` (7 functions at n = 500, 10 at n = 8000, 13 at n = 1e5 and
    19 at n = 1e6 for cubic splines).

    Parameters
    ----------
    n : int
        Number of rows.
    degree : int, default=3
        Polynomial degree of the spline.

    Returns
    -------
    int
    """
    n = max(int(n), 1)
    return int(degree + max(1, math.ceil(n ** 0.2 - 1e-9)))


def _clamped_knots(v, n_basis, degree, sample_weight=None) -> np.ndarray:
    """Full clamped knot vector: interior knots at (weighted) quantiles of ``v``."""
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    vv = v if w is None else v[w > 0]
    lo, hi = float(vv.min()), float(vv.max())
    n_int = n_basis - degree
    if n_int > 0:
        probs = np.arange(1, n_int + 1) / (n_int + 1)
        inner = weighted_quantile(v, probs, w)
        gap = 1e-8 * (hi - lo)
        inner = inner[(inner > lo + gap) & (inner < hi - gap)]
        if inner.size:
            keep = np.r_[True, np.diff(inner) > gap]
            inner = inner[keep]
    else:
        inner = np.empty(0)
    return np.r_[np.full(degree + 1, lo), inner, np.full(degree + 1, hi)]


class SplineDesign:
    """A :class:`MonotoneSplineBasis` evaluated at fixed points, in banded row form.

    Row ``i`` of the B-spline design has ``degree + 1`` consecutive nonzeros starting at
    column ``first[i]``; they are stored densely (``values``, shape (n, degree + 1)),
    which keeps products, gradients and Gram matrices at O(n * degree^2) without sparse
    matrix overhead.  Points beyond the boundary knots are clamped to them; with linear
    extrapolation their row is ``B(boundary) + offset * B'(boundary)``, ``offset`` being
    the distance beyond the boundary.  Derivatives use the degree ``degree - 1``
    B-splines ``N`` (banded the same way) and the difference map ``B' = N D``.

    Parameters
    ----------
    basis : MonotoneSplineBasis
        The basis evaluated.
    first : ndarray of int, shape (n,)
        First nonzero column of each row.
    values : ndarray of shape (n, degree + 1)
        Rows of ``d eta / d s`` (B-spline values, extrapolated rows included).
    offset : ndarray of shape (n,)
        Distance beyond the boundary knots (0 inside).
    nfirst, nvalues : ndarray or None
        Banded degree ``degree - 1`` B-splines at the clamped points (None: derivatives
        not evaluated).
    """

    def __init__(self, basis, first, values, offset, nfirst=None, nvalues=None):
        self.basis = basis
        self.first = first
        self.values = values
        self.offset = offset
        self.nfirst = nfirst
        self.nvalues = nvalues
        self.n_splines = basis.n_splines
        self.linear = basis.extrapolation == "linear"
        self._cols = first[:, None] + np.arange(values.shape[1])

    def value(self, s) -> np.ndarray:
        """``eta`` at the points for spline coefficients ``s``."""
        return np.einsum("ij,ij->i", self.values, np.asarray(s, dtype=float)[self._cols])

    def slope(self, s) -> np.ndarray:
        """``d eta / d v`` (the boundary slope beyond the knots, or 0 if constant)."""
        if self.nvalues is None:
            raise ValueError("This design was evaluated without derivatives.")
        s = np.asarray(s, dtype=float)
        dc = self.basis._dscale * np.diff(s)
        cols = self.nfirst[:, None] + np.arange(self.nvalues.shape[1])
        out = np.einsum("ij,ij->i", self.nvalues, dc[cols])
        if not self.linear:
            out[self.offset != 0] = 0.0
        return out

    def rmatvec(self, r) -> np.ndarray:
        """Gradient of ``sum_i r_i eta_i`` with respect to the spline coefficients."""
        q = self.values.shape[1]
        nb = self.n_splines - q + 1  # number of possible first columns
        out = np.zeros(self.n_splines)
        for j in range(q):
            out[j:j + nb] += np.bincount(self.first, self.values[:, j] * r, minlength=nb)
        return out

    def gram(self, weights) -> np.ndarray:
        """``sum_i weights_i x_i x_i'`` with ``x_i`` the rows of ``d eta / d s`` (dense)."""
        q = self.values.shape[1]
        nb = self.n_splines - q + 1
        out = np.zeros((self.n_splines, self.n_splines))
        idx = np.arange(nb)
        for j in range(q):
            wj = weights * self.values[:, j]
            for l in range(j, q):
                acc = np.bincount(self.first, wj * self.values[:, l], minlength=nb)
                out[idx + j, idx + l] += acc
                if l != j:
                    out[idx + l, idx + j] += acc
        return out

    def cross(self, Y) -> np.ndarray:
        """``X' Y`` with ``X`` the (n, n_splines) design ``d eta / d s``; ``Y`` is (n, p)."""
        return np.asarray(self.matrix().T @ np.asarray(Y, dtype=float))

    def slope_cross(self, Y) -> np.ndarray:
        """``X' Y`` with ``X`` the (n, n_splines) matrix ``d slope / d s`` (``Y``: (n, p))."""
        if self.nvalues is None:
            raise ValueError("This design was evaluated without derivatives.")
        Y = np.asarray(Y, dtype=float)
        if not self.linear:
            Y = np.where((self.offset != 0)[:, None], 0.0, Y)
        NY = np.asarray(self._nmatrix().T @ Y) * self.basis._dscale[:, None]
        out = np.zeros((self.n_splines, Y.shape[1]))
        out[1:] += NY
        out[:-1] -= NY
        return out

    def _nmatrix(self):
        n, q = self.nvalues.shape
        cols = self.nfirst[:, None] + np.arange(q)
        return sparse.csr_array((self.nvalues.ravel(), cols.ravel(), np.arange(0, n * q + 1, q)),
                                shape=(n, self.n_splines - 1))

    def matrix(self):
        """Sparse (CSR) ``d eta / d s``, shape (n, n_splines)."""
        n, q = self.values.shape
        return sparse.csr_array(
            (self.values.ravel(), self._cols.ravel(), np.arange(0, n * q + 1, q)),
            shape=(n, self.n_splines))

    def slope_matrix(self) -> np.ndarray:
        """Dense ``d slope / d s``, shape (n, n_splines) (for small n)."""
        if self.nvalues is None:
            raise ValueError("This design was evaluated without derivatives.")
        Nd = self._nmatrix().toarray() * self.basis._dscale
        out = np.zeros((Nd.shape[0], self.n_splines))
        out[:, 1:] += Nd
        out[:, :-1] -= Nd
        if not self.linear:
            out[self.offset != 0] = 0.0
        return out


class MonotoneSplineBasis:
    """I-spline basis of a monotone spline on fixed knots (the sieve's one home).

    Parameters
    ----------
    knots : array-like
        Full clamped knot vector: ``degree + 1`` copies of the lower boundary, the
        interior knots (strictly increasing), ``degree + 1`` copies of the upper one.
    degree : int, default=3
        Polynomial degree (>= 1).
    extrapolation : {"linear", "constant"}, default="linear"
        Continuation of the spline beyond the boundary knots.

    Notes
    -----
    There are ``n_splines = len(knots) - degree - 1`` B-splines and
    ``n_basis = n_splines - 1`` I-splines.  The monotone spline with intercept ``a`` and
    I-spline coefficients ``c >= 0`` (``sign = +1``; ``-1`` for a decreasing one) has the
    B-spline coefficients ``spline_coef(a, c, sign) = a + sign * cumsum([0, c])``.
    """

    def __init__(self, knots, degree: int = 3, extrapolation: str = "linear"):
        t = np.asarray(knots, dtype=float)
        k = int(degree)
        if k < 1:
            raise ValueError(f"degree must be >= 1; got {degree!r}.")
        if t.ndim != 1 or t.size < 2 * k + 2 or np.any(np.diff(t) < 0):
            raise ValueError(
                "knots must be a sorted 1-D array with at least 2 * degree + 2 entries.")
        if not t[0] < t[-1]:
            raise ValueError("The boundary knots must differ (the index must vary).")
        if extrapolation not in ("linear", "constant"):
            raise ValueError(
                f"extrapolation must be 'linear' or 'constant'; got {extrapolation!r}.")
        self.knots = t
        self.degree = k
        self.extrapolation = extrapolation
        self.n_splines = t.size - k - 1
        self.n_basis = self.n_splines - 1
        self.lower = float(t[k])
        self.upper = float(t[-k - 1])
        # derivative of the B-splines: B'_m = dscale_{m-1} N_{m-1} - dscale_m N_m
        self._dscale = k / (t[k + 1:self.n_splines + k] - t[1:self.n_splines])

    @classmethod
    def from_index(cls, v, n_basis, degree=3, *, sample_weight=None, extrapolation="linear"):
        """Basis with boundary knots at the extremes of ``v`` and interior knots at its
        (weighted) quantiles; coinciding quantiles (ties in ``v``) are merged, so the
        basis may have fewer than ``n_basis`` functions."""
        v = np.asarray(v, dtype=float)
        knots = _clamped_knots(v, int(n_basis), int(degree), sample_weight)
        return cls(knots, degree, extrapolation)

    # -- coefficients ----------------------------------------------------------
    @staticmethod
    def spline_coef(intercept, coef, sign=1.0) -> np.ndarray:
        """B-spline coefficients ``a + sign * cumsum([0, c])`` of the monotone spline."""
        coef = np.asarray(coef, dtype=float)
        return float(intercept) + sign * np.r_[0.0, np.cumsum(coef)]

    @staticmethod
    def ispline_coef(spline_coef, sign=1.0):
        """Inverse of :meth:`spline_coef`: ``(a, c)`` with ``c = sign * diff(s)``."""
        s = np.asarray(spline_coef, dtype=float)
        return float(s[0]), sign * np.diff(s)

    @staticmethod
    def chain(grad_spline, sign=1.0):
        """Map a gradient in spline coefficients to ``(d/da, d/dc)``."""
        g = np.asarray(grad_spline, dtype=float)
        tail = np.cumsum(g[::-1])[::-1]
        return float(tail[0]), sign * tail[1:]

    def transform(self, sign=1.0) -> np.ndarray:
        """Matrix ``T`` (n_splines x n_splines) with ``spline_coef = T @ [a, c]``."""
        m = self.n_splines
        T = np.tril(np.ones((m, m)), k=-1)[:, :-1] * sign
        return np.column_stack([np.ones(m), T])

    @property
    def greville(self) -> np.ndarray:
        """Greville abscissae (knot averages); the spline with coefficients ``f(greville)``
        approximates ``f`` and reproduces linear functions exactly."""
        t, k = self.knots, self.degree
        idx = np.arange(self.n_splines)[:, None] + np.arange(1, k + 1)
        return t[idx].mean(axis=1)

    # -- evaluation ------------------------------------------------------------
    def design(self, v, derivatives: bool = True) -> SplineDesign:
        """Evaluate the B-splines (and, if asked, their derivatives) at ``v``.

        Parameters
        ----------
        v : array-like of shape (n,)
            Index values (any real numbers; see ``extrapolation``).
        derivatives : bool, default=True
            Also evaluate what :meth:`SplineDesign.slope` needs.

        Returns
        -------
        SplineDesign
        """
        v = np.ascontiguousarray(v, dtype=float).ravel()
        vc = np.clip(v, self.lower, self.upper)
        offset = v - vc
        t, k, m = self.knots, self.degree, self.n_splines
        # extrapolate=True skips scipy's O(n) Python range check; vc is in range anyway
        first, values = _banded(BSpline.design_matrix(vc, t, k, extrapolate=True), k + 1)
        if self.extrapolation == "linear" and np.any(offset):
            # clamped B-splines at the boundaries: B = e_0 (e_last), B' = (-ds, ds) there
            values = values.copy()
            lo, hi = np.flatnonzero(offset < 0), np.flatnonzero(offset > 0)
            first[lo], first[hi] = 0, m - k - 1
            values[lo] = 0.0
            values[lo, 0] = 1.0 - offset[lo] * self._dscale[0]
            values[lo, 1] = offset[lo] * self._dscale[0]
            values[hi] = 0.0
            values[hi, -1] = 1.0 + offset[hi] * self._dscale[-1]
            values[hi, -2] = -offset[hi] * self._dscale[-1]
        dsg = SplineDesign(self, first, values, offset)
        if derivatives:
            self.add_derivatives(dsg, vc)
        return dsg

    def add_derivatives(self, dsg: SplineDesign, vc) -> SplineDesign:
        """Evaluate the derivative B-splines of ``dsg`` at the clamped points ``vc``
        (in place; returns ``dsg``)."""
        if dsg.nvalues is None:
            t, k = self.knots, self.degree
            dsg.nfirst, dsg.nvalues = _banded(
                BSpline.design_matrix(np.asarray(vc, dtype=float), t[1:-1], k - 1,
                                      extrapolate=True), k)
        return dsg

    def curvature(self, v, s) -> np.ndarray:
        """Second derivative ``eta''(v)`` of the spline with coefficients ``s`` (0 beyond
        the boundary knots, where the continuation is linear or constant)."""
        v = np.asarray(v, dtype=float)
        out = np.zeros_like(v)
        if self.degree < 2:
            return out
        inside = (v >= self.lower) & (v <= self.upper)
        spl = BSpline(self.knots, np.asarray(s, dtype=float), self.degree, extrapolate=False)
        out[inside] = spl.derivative(2)(v[inside])
        return np.nan_to_num(out)

    def ispline(self, v, derivative: bool = False) -> np.ndarray:
        """Dense I-spline values (or derivatives) at ``v``, shape (n, n_basis).

        Parameters
        ----------
        v : array-like of shape (n,)
            Index values.
        derivative : bool, default=False
            Return ``I_k'(v)`` (the M-splines) instead of ``I_k(v)``.

        Returns
        -------
        ndarray of shape (n, n_basis)
        """
        dsg = self.design(np.atleast_1d(np.asarray(v, dtype=float)))
        M = dsg.slope_matrix() if derivative else dsg.matrix().toarray()
        return np.cumsum(M[:, ::-1], axis=1)[:, ::-1][:, 1:]

    def affine(self, alpha: float, gamma: float):
        """The basis for ``u = (v - gamma) / alpha``: returns ``(basis, reversed)``.

        A spline ``S`` in this basis satisfies ``S(alpha * u + gamma) = S'(u)`` where
        ``S'`` has the same coefficients (``alpha > 0``) or the reversed ones
        (``alpha < 0``, then ``reversed`` is True) on the returned basis.
        """
        if not (np.isfinite(alpha) and alpha != 0 and np.isfinite(gamma)):
            raise ValueError("alpha must be finite and nonzero and gamma finite.")
        t = (self.knots - gamma) / alpha
        rev = alpha < 0
        if rev:
            t = t[::-1]
        return MonotoneSplineBasis(t, self.degree, self.extrapolation), rev


def _banded(csr, width):
    """``(first, values)`` of a scipy B-spline design matrix with ``width`` nonzeros per row."""
    n = csr.shape[0]
    if csr.nnz != n * width or not np.array_equal(csr.indptr, np.arange(0, n * width + 1, width)):
        csr = sparse.csr_array(csr)
        dense = csr.toarray()
        first = np.clip(np.argmax(dense != 0, axis=1), 0, csr.shape[1] - width)
        cols = first[:, None] + np.arange(width)
        return first, np.take_along_axis(dense, cols, axis=1)
    idx = csr.indices.reshape(n, width)
    return idx[:, 0].astype(np.intp), csr.data.reshape(n, width)
