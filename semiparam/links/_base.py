"""The interface every 1-D link estimator shares.

A link estimates ``g(v) = P(z = 1 | index = v)`` on a scalar index.  Estimated links
(kernel, isotonic, sieve) and fixed parametric families all offer
``fit(v, z, sample_weight=None)`` (returns self), ``__call__(v)``, ``derivative(v)`` and
``plot(ax=None)`` (matplotlib imported only there).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BaseLink", "one_se_choice", "prediction_loss"]


class BaseLink:
    """Base class of 1-D links. Subclasses implement ``fit``, ``__call__``, ``derivative``."""

    def plot(self, ax=None, *, grid=None, label=None, **kwargs):
        """Plot the link over ``grid`` (default: the fitted index range)."""
        import matplotlib.pyplot as plt  # plotting only here

        if ax is None:
            _, ax = plt.subplots()
        if grid is None:
            lo, hi = getattr(self, "index_range_", (-4.0, 4.0))
            pad = 0.05 * (hi - lo if hi > lo else 1.0)
            grid = np.linspace(lo - pad, hi + pad, 400)
        ax.plot(grid, self(grid), label=label or type(self).__name__, **kwargs)
        ax.set_xlabel("index")
        ax.set_ylabel("P(z = 1 | index)")
        return ax


def one_se_choice(losses):
    """Index of the first candidate within one standard error of the best.

    ``losses`` (k, n): per-row held-out losses of ``k`` candidates ordered from the
    smoothest.  The standard error is that of the summed paired difference to the best
    candidate, ``sqrt(n var(d_i))`` (Breiman et al.'s one-standard-error rule): a
    rougher candidate is taken only where it predicts better beyond the noise.
    """
    total = losses.sum(axis=1)
    best = int(np.argmin(total))
    n = losses.shape[1]
    for k in range(best + 1):
        d = losses[k] - losses[best]
        if total[k] - total[best] <= np.sqrt(n * d.var()):
            return k
    return best


def prediction_loss(z, g, binary):
    """Per-row loss of predictions ``g`` of ``z``: the log loss when ``z`` is binary
    (``g`` clipped to ``[1e-12, 1 - 1e-12]``), the squared error otherwise."""
    if binary:
        g = np.clip(g, 1e-12, 1.0 - 1e-12)
        return -(z * np.log(g) + (1.0 - z) * np.log1p(-g))
    return (z - g) ** 2
