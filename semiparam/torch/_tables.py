"""Knot tables evaluated on the device: piecewise-linear and cubic-Hermite interpolants.

A link refreshed on the CPU is handed to the device as a sorted table of knots
``x_0 < ... < x_{K-1}`` with values (and, for Hermite, slopes).  A query ``t`` finds its
cell by :func:`torch.searchsorted` (``O(log K)``) and evaluates the interpolant there;
autograd differentiates the interpolant exactly (its slope inside a cell).  Beyond the
end knots the table is flat (value of the end knot, derivative 0).

Cubic Hermite on a cell ``[x_k, x_{k+1}]`` of width ``D`` with ``s = (t - x_k) / D``:

    p(t) = h00(s) y_k + h10(s) D m_k + h01(s) y_{k+1} + h11(s) D m_{k+1},

``h00 = 2s^3 - 3s^2 + 1``, ``h10 = s^3 - 2s^2 + s``, ``h01 = -2s^3 + 3s^2``,
``h11 = s^3 - s^2``: it matches value and slope at both knots, so it is C^1 and its error
is ``O(D^4 max|y''''|)``.
"""

from __future__ import annotations

import torch

__all__ = ["linear_table", "hermite_table"]


def _cell(t, x):
    """Left knot index of each query's cell, clamped to ``0 .. K-2``; and the clamped ``t``."""
    tc = torch.clamp(t, x[0], x[-1])
    k = torch.searchsorted(x, tc.detach().contiguous(), right=True) - 1
    return tc, torch.clamp(k, 0, x.shape[0] - 2)


def linear_table(t, x, y):
    """Piecewise-linear interpolant of ``(x, y)`` at ``t``, flat beyond the ends.

    ``x`` (K,) strictly increasing, ``y`` (K,); same device and dtype as ``t``.
    Equals :func:`numpy.interp`.
    """
    if x.shape[0] == 1:
        return 0.0 * t + y[0]
    tc, k = _cell(t, x)
    x0, x1 = x[k], x[k + 1]
    return y[k] + (tc - x0) / (x1 - x0) * (y[k + 1] - y[k])


def hermite_table(t, x, y, m):
    """Cubic Hermite interpolant of values ``y`` and slopes ``m`` at knots ``x``.

    ``y``, ``m`` of shape (K,) or (K, c); flat beyond the end knots.
    """
    tc, k = _cell(t, x)
    x0 = x[k]
    d = x[k + 1] - x0
    s = (tc - x0) / d
    if y.dim() > 1:
        s, d = s.unsqueeze(-1), d.unsqueeze(-1)
    s2 = s * s
    s3 = s2 * s
    h00 = 2 * s3 - 3 * s2 + 1
    h10 = s3 - 2 * s2 + s
    h01 = -2 * s3 + 3 * s2
    h11 = s3 - s2
    return h00 * y[k] + h10 * d * m[k] + h01 * y[k + 1] + h11 * d * m[k + 1]
