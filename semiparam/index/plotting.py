"""Plots of fitted single-index models (matplotlib is imported inside the functions).

:func:`plot_link` draws a fitted estimator's link ``g`` against its index ``X @ coef_``:

- the link itself (``link_``: the kernel, isotonic step or sieve estimate; the logistic
  curve for logit);
- a pointwise ``1 - alpha`` band of the link's own sampling error at the fitted index
  (the direction held fixed): for an estimated link, the percentile band of the link
  refitted (same kernel, bandwidth or basis) on ``n_bootstrap`` resamples of the rows;
  for logit, the delta-method band of the logistic curve ``sigmoid(s v + a)`` refitted
  on the index (the inverse Fisher information of ``(s, a)`` given ``v``).  Holding the
  direction fixed keeps the bands of all estimators comparable; an intercept's own
  standard error would mostly measure the distance of ``x = 0`` from the data;
- a rug of the training index (at most 2000 points, evenly subsampled), so that the
  reader sees where the link is supported by data.

:func:`compare_links` overlays several fitted links (each on its own unit-normalised
index), optionally with a true link.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .bootstrap import bootstrap

__all__ = ["plot_link", "compare_links", "link_band"]

_RUG_MAX = 2000


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def _training(est):
    from .margins import _training_data

    X, z, w = _training_data(est)
    keep = w > 0
    return X[keep] @ est.coef_, z[keep], w[keep]


def _grid(v, n=300):
    lo, hi = float(np.min(v)), float(np.max(v))
    pad = 0.03 * (hi - lo if hi > lo else 1.0)
    return np.linspace(lo - pad, hi + pad, n)


def _refitter(link):
    """Refit a link of the same kind and tuning (isotonic: the step fit itself)."""
    from ..links.isotonic import IsotonicLink
    from .margins import _link_refitter

    if isinstance(link, IsotonicLink):
        template = clone(link)
        return lambda v, z, w: clone(template).fit(v, z, w)
    return _link_refitter(link)


def link_band(est, grid, *, alpha=0.05, n_bootstrap=200, random_state=0):
    """Pointwise ``1 - alpha`` band of ``est.link_`` on ``grid`` (module docstring).

    Returns
    -------
    lower, upper : ndarray
    """
    check_is_fitted(est, "link_")
    grid = np.asarray(grid, dtype=float)
    from .margins import _is_parametric

    v, z, w = _training(est)
    if _is_parametric(est):
        # the logistic curve a + s v refitted at the fixed index is (s, a) = (scale_,
        # intercept_) (the full MLE solves these two score equations too); its
        # covariance is the inverse of the 2 x 2 (or 1 x 1) Fisher information
        intercept = bool(getattr(est, "fit_intercept", False))
        A = np.column_stack([v, np.ones_like(v)]) if intercept else v[:, None]
        p = special.expit(est.link_.scale * v + est.link_.intercept)
        cov = np.linalg.pinv((A * (w * p * (1 - p))[:, None]).T @ A)
        G = np.column_stack([grid, np.ones_like(grid)]) if intercept else grid[:, None]
        sd = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", G, cov, G), 0.0, None))
        eta = est.link_.scale * grid + est.link_.intercept
        q = stats.norm.ppf(1 - alpha / 2)
        return special.expit(eta - q * sd), special.expit(eta + q * sd)
    refit = _refitter(est.link_)
    boot = bootstrap(lambda wb: refit(v, z, wb)(grid), v.size, weights=w,
                     n_replicates=int(n_bootstrap), random_state=random_state, dim=grid.size)
    if boot.n_ok < 2:
        return np.full(grid.shape, np.nan), np.full(grid.shape, np.nan)
    curves = boot.replicates
    return (np.quantile(curves, alpha / 2, axis=0).reshape(grid.shape),
            np.quantile(curves, 1 - alpha / 2, axis=0).reshape(grid.shape))


def plot_link(est, ax=None, *, ci=True, rug=True, alpha=0.05, n_bootstrap=200, grid=None,
              label=None, band_label="auto", random_state=0, **kwargs):
    """Plot a fitted estimator's link with a pointwise band and a rug of its index.

    Parameters
    ----------
    est : fitted index estimator
    ax : matplotlib Axes, optional
        Drawn on a new figure's axes when None.
    ci : bool, default=True
        Draw the pointwise ``1 - alpha`` band (module docstring).
    rug : bool, default=True
        Draw a rug of the training index.
    alpha : float, default=0.05
    n_bootstrap : int, default=200
        Link refits for the band of an estimated link.
    grid : array-like, optional
        Index values to draw at (default: the training index range).
    label : str, optional
        Legend label (default: the estimator's class name).
    band_label : str or None, default="auto"
        Legend label of the band ("auto": "95% pointwise band"; None: no entry).
    random_state : int, default=0
    **kwargs
        Passed to ``ax.plot`` for the link curve.

    Returns
    -------
    matplotlib Axes
    """
    check_is_fitted(est, ("coef_", "link_"))
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    ax = _axes(ax)
    v, _, _ = _training(est)
    grid = _grid(v) if grid is None else np.asarray(grid, dtype=float)
    label = label or type(est).__name__
    (line,) = ax.plot(grid, np.asarray(est.link_(grid), dtype=float), label=label, **kwargs)
    if ci:
        lo, hi = link_band(est, grid, alpha=alpha, n_bootstrap=n_bootstrap,
                           random_state=random_state)
        if band_label == "auto":
            band_label = f"{1 - alpha:.0%} pointwise band"
        ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2, lw=0,
                        label=band_label)
    if rug:
        r = np.sort(v)
        if r.size > _RUG_MAX:
            r = r[np.linspace(0, r.size - 1, _RUG_MAX).astype(int)]
        ax.plot(r, np.zeros_like(r), "|", color=line.get_color(), alpha=0.3, ms=10,
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("index  x'coef")
    ax.set_ylabel("P(y = 1 | index)" if hasattr(est, "classes_") else "E[y | index]")
    return ax


def compare_links(estimators, ax=None, *, names=None, truth=None, grid=None, ci=False,
                  rug=False, **kwargs):
    """Overlay the fitted links of several estimators (optionally with the true link).

    Each link is drawn against its own estimator's index ``X @ coef_``: the curves are
    comparable when the (unit-normalised) directions nearly agree, as in simulations
    with centred regressors.  With regressors of large mean a small change of direction
    shifts the whole index, and so the curve, sideways.

    Parameters
    ----------
    estimators : sequence or dict of fitted index estimators
        A dict maps legend names to estimators.
    ax : matplotlib Axes, optional
    names : sequence of str, optional
        Legend names (default: the dict keys, or the class names).
    truth : callable, optional
        The true link on the same (unit-normalised) index, drawn in black.
    grid : array-like, optional
        Common index grid (default: the union of the training index ranges).
    ci, rug : bool, default=False
        Passed to :func:`plot_link` for every estimator.
    **kwargs
        Passed to :func:`plot_link`.

    Returns
    -------
    matplotlib Axes
    """
    if isinstance(estimators, dict):
        names = list(estimators) if names is None else list(names)
        ests = list(estimators.values())
    else:
        ests = list(estimators)
        names = [type(e).__name__ for e in ests] if names is None else list(names)
    if not ests:
        raise ValueError("compare_links needs at least one fitted estimator.")
    if len(names) != len(ests):
        raise ValueError(f"{len(names)} names for {len(ests)} estimators.")
    ax = _axes(ax)
    if grid is None:
        vs = np.concatenate([_training(e)[0] for e in ests])
        grid = _grid(vs)
    grid = np.asarray(grid, dtype=float)
    if truth is not None:
        ax.plot(grid, truth(grid), color="black", lw=2.5, label="true link")
    for name, est in zip(names, ests):
        plot_link(est, ax, ci=ci, rug=rug, grid=grid, label=name, band_label=None, **kwargs)
    ax.legend()
    return ax
