"""Weighted summary statistics shared by every layer: moments, quantiles, a robust spread,
column standardisation and the default (rule-of-thumb) bandwidth.

Weights are frequency weights: a row of integer weight ``m`` counts as ``m`` repeated rows,
and a row of weight 0 is absent.  With ``W = sum_i w_i``:

* effective sample size (Kish) ``n_eff = W^2 / sum_i w_i^2``: the number of rows for
  equal weights, unchanged when all weights are rescaled.
* mean ``m = sum_i w_i x_i / W``; variance (population form) ``s^2 = sum_i w_i (x_i - m)^2 / W``
  (clipped at 0 against rounding); standard deviation ``s``.
* quantiles, two definitions:

  - ``"hazen"`` (default): for unit weights the Hazen definition, linear interpolation
    between order statistics at plotting positions ``(i - 1/2) / n``; a row of weight ``m``
    occupies the plotting positions of ``m`` repeated rows (a flat piece), so integer
    weights give exactly the quantiles of the repeated sample and fractional weights
    interpolate between these cases.
  - ``"inverted_cdf"``: the smallest ``x_(k)`` whose cumulative weight reaches ``q W``
    (NumPy's ``inverted_cdf``; a step function of ``q``).
  - ``"averaged_inverted_cdf"``: the same, except that where the cumulative weight equals
    ``q W`` exactly the two neighbouring values are averaged (NumPy's definition; at
    ``q = 1/2`` with unit weights the usual median).

* robust spread ``min(s, IQR / 1.349)`` with the weighted inverted-cdf quartiles (the
  normal IQR is ``1.349 sigma``, so both terms estimate ``sigma`` under normality and the
  minimum guards against heavy tails and against a bimodal index); ``s`` when the IQR is 0.
* standardisation ``X_s = (X - m) / s`` column by column; a column constant among the
  weighted rows falls back to its unweighted sd, and to 1 when that is 0 too.
* default bandwidth (Silverman's normal reference rule carried to any kernel):
  ``h = factor * 1.06 * spread * n^(-rate) * delta_K / delta_phi`` with ``rate = 1/5`` by
  default and ``delta_K = (R(K) / mu_2(K)^2)^(1/5)`` the canonical bandwidth of the kernel
  (Marron & Nolan 1988), e.g. ``delta_K / delta_phi = 2.214`` for the Epanechnikov kernel
  on ``[-1, 1]``, so that every kernel smooths about as much as the Gaussian.

Every function validates its inputs unless ``check_input=False`` (the unchecked path for
inner loops that pass validated arrays).

References
----------
Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages. *Amer. Statist.*
50, 361-365.
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*, sec. 3.4.
Marron, J. S. and Nolan, D. (1988). Canonical kernels for density estimation. *Statist.
Probab. Lett.* 7, 195-199.
"""

from __future__ import annotations

import numpy as np

from ._kernels import bandwidth_ratio

__all__ = ["effective_sample_size", "weighted_mean", "weighted_var", "weighted_sd", "weighted_quantile", "robust_spread",
           "standardize", "rule_of_thumb_bandwidth", "QUANTILE_METHODS"]

#: the quantile definitions of :func:`weighted_quantile`
QUANTILE_METHODS = ("hazen", "inverted_cdf", "averaged_inverted_cdf")

#: the normal-reference constant of Silverman's rule
_SILVERMAN = 1.06
#: IQR of the standard normal
_NORMAL_IQR = 1.349


def _values(x, name, ndim):
    x = np.asarray(x, dtype=float)
    if x.ndim not in ndim:
        raise ValueError(f"{name} must be {' or '.join(f'{k}-d' for k in ndim)}; "
                         f"got shape {x.shape}.")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def _weights(w, n):
    if w is None:
        return np.ones(n)
    w = np.asarray(w, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},); got {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and nonnegative.")
    if not w.sum() > 0:
        raise ValueError("weights must have a positive sum.")
    return w


def _prepare(x, w, check_input, ndim=(1, 2)):
    if check_input:
        x = _values(x, "x", ndim)
        return x, _weights(w, x.shape[0])
    return x, (np.ones(x.shape[0]) if w is None else w)


def effective_sample_size(w, *, check_input=True) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (module docstring).

    Parameters
    ----------
    w : array-like of shape (n,)
        Nonnegative weights with a positive sum.
    check_input : bool, default=True

    Returns
    -------
    float
    """
    if check_input:
        w = np.asarray(w, dtype=float)
        if w.ndim != 1:
            raise ValueError(f"weights must be 1-d; got shape {w.shape}.")
        w = _weights(w, w.shape[0])
    s = w / w.max()  # scale-free: weights of any magnitude neither underflow nor overflow
    return float(s.sum() ** 2 / (s @ s))


def weighted_mean(x, w=None, *, check_input=True):
    """``sum_i w_i x_i / sum_i w_i`` (per column for a 2-d ``x``).

    Parameters
    ----------
    x : array-like of shape (n,) or (n, d)
    w : array-like of shape (n,), default=None
        Nonnegative weights with a positive sum (``None``: unit weights).
    check_input : bool, default=True
        ``False`` skips validation (inner loops on validated arrays).

    Returns
    -------
    float or ndarray of shape (d,)
    """
    x, w = _prepare(x, w, check_input)
    m = (w @ x) / w.sum()
    return float(m) if np.ndim(m) == 0 else m


def weighted_var(x, w=None, *, check_input=True):
    """Weighted variance, population form ``sum_i w_i (x_i - m)^2 / sum_i w_i`` (>= 0).

    Parameters as :func:`weighted_mean`.
    """
    x, w = _prepare(x, w, check_input)
    sw = w.sum()
    m = (w @ x) / sw
    v = np.maximum((w @ (x - m) ** 2) / sw, 0.0)
    return float(v) if np.ndim(v) == 0 else v


def weighted_sd(x, w=None, *, check_input=True):
    """Weighted standard deviation, the square root of :func:`weighted_var`.

    Parameters as :func:`weighted_mean`.
    """
    return np.sqrt(weighted_var(x, w, check_input=check_input))


def weighted_quantile(v, q, sample_weight=None, *, method="hazen", check_input=True):
    """Weighted quantiles, consistent with repeating rows (module docstring).

    Parameters
    ----------
    v : array-like of shape (n,)
        Values.
    q : float or array-like
        Probabilities in [0, 1].
    sample_weight : array-like of shape (n,), default=None
        Nonnegative weights; rows with zero weight are ignored.
    method : {"hazen", "inverted_cdf", "averaged_inverted_cdf"}, default="hazen"
        ``"hazen"`` interpolates (frequency-consistent Hazen positions); ``"inverted_cdf"``
        returns the smallest value whose cumulative weight reaches ``q``;
        ``"averaged_inverted_cdf"`` averages the two values at an exact tie.
    check_input : bool, default=True

    Returns
    -------
    float or ndarray
        The quantiles, same shape as ``q``.
    """
    if method not in QUANTILE_METHODS:
        raise ValueError(f"method must be one of {list(QUANTILE_METHODS)}; got {method!r}.")
    if check_input:
        v = _values(v, "v", (1,))
        qa = np.asarray(q, dtype=float)
        if not np.all((qa >= 0) & (qa <= 1)):
            raise ValueError("q must lie in [0, 1].")
        if sample_weight is not None:
            sample_weight = _weights(sample_weight, v.shape[0])
    else:
        v = np.asarray(v, dtype=float)
    if sample_weight is None:
        return np.quantile(v, q, method=method)
    w = np.asarray(sample_weight, dtype=float)
    keep = w > 0
    v, w = v[keep], w[keep]
    if method == "hazen" and np.all(w == 1.0):
        return np.quantile(v, q, method="hazen")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cw = np.cumsum(w)
    total = cw[-1]
    if method != "hazen":
        target = np.asarray(q, dtype=float) * total
        k = np.minimum(np.searchsorted(cw, target), v.size - 1)
        out = v[k]
        if method == "averaged_inverted_cdf":
            tie = np.isclose(cw[k], target) & (k + 1 < v.size)
            out = np.where(tie, 0.5 * (out + v[np.minimum(k + 1, v.size - 1)]), out)
        return float(out) if np.ndim(out) == 0 else out
    half = 0.5 * np.minimum(w, 1.0)
    # a row of weight m occupies the plotting positions of m repeated rows: a flat piece
    xs = np.column_stack([cw - w + half, cw - half]).ravel() / total
    ys = np.repeat(v, 2)
    return np.interp(q, xs, ys)


def robust_spread(v, w=None, *, check_input=True) -> float:
    """``min(weighted sd, IQR / 1.349)`` with weighted inverted-cdf quartiles.

    Rows with zero weight are ignored; the sd alone when the IQR is 0 (so 0 only for a
    constant ``v``).

    Parameters
    ----------
    v : array-like of shape (n,)
    w : array-like of shape (n,), default=None
    check_input : bool, default=True

    Returns
    -------
    float
    """
    if check_input:
        v = _values(v, "v", (1,))
        w = _weights(w, v.shape[0])
    elif w is None:
        w = np.ones(v.shape[0])
    sd = float(weighted_sd(v, w, check_input=False))
    q1, q3 = weighted_quantile(v, [0.25, 0.75], w, method="inverted_cdf", check_input=False)
    iqr = float(q3 - q1) / _NORMAL_IQR
    return min(sd, iqr) if iqr > 0 else sd


def standardize(X, w=None, *, check_input=True):
    """Columns in weighted standard units: ``((X - mean) / sd, mean, sd)``.

    A column constant among the rows of positive weight falls back to its unweighted sd
    (and to 1 when that is 0 too), so the map is always invertible.

    Parameters
    ----------
    X : array-like of shape (n, d)
    w : array-like of shape (n,), default=None
    check_input : bool, default=True

    Returns
    -------
    Xs : ndarray of shape (n, d)
    mean, sd : ndarray of shape (d,)
    """
    X, w = _prepare(X, w, check_input, ndim=(2,))
    sw = w.sum()
    mean = (w @ X) / sw
    sd = np.sqrt(np.maximum((w @ (X - mean) ** 2) / sw, 0.0))
    bad = ~(sd > 1e-12 * np.maximum(np.abs(X).max(axis=0), 1e-300))
    if np.any(bad):
        sd = np.where(bad, X.std(axis=0), sd)
        sd = np.where(sd > 0, sd, 1.0)
    return (X - mean) / sd, mean, sd


def rule_of_thumb_bandwidth(sd, n, kernel="gaussian", *, rate=0.2, factor=1.0) -> float:
    """``factor * 1.06 sd n^(-rate)`` carried over to ``kernel`` (module docstring).

    Parameters
    ----------
    sd : float
        Spread of the index (standard deviation or :func:`robust_spread`).
    n : float
        Sample size (or effective sample size).
    kernel : str, default="gaussian"
        A kernel of the registry :data:`semiparam._kernels.KERNELS`.
    rate : float, default=0.2
        ``1/5`` is Silverman's; Klein and Spady's theory asks ``1/6`` for the search floor.
    factor : float, default=1.0

    Returns
    -------
    float
    """
    return float(factor * _SILVERMAN * float(sd) * float(n) ** (-rate)
                 * bandwidth_ratio(kernel, "gaussian"))
