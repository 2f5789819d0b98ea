"""Plots of simulation studies (matplotlib, imported on call).

* :func:`nested_loop_plot` (Rücker and Schwarzer 2014): every cell of the design on one
  axis, ordered lexicographically by the factors (first factor slowest); one step line per
  method for a performance measure; below it, one staircase per factor showing its level.
* :func:`coverage_plot`: coverage per cell and method with ``+- z * MCSE`` bars and the
  nominal level.
* :func:`zip_plot` (Morris, White and Crowther 2019, figure 4): per method, the intervals
  ``est +- z se`` of one cell ranked by ``|est - theta| / se`` (the fractional centile on the
  vertical axis), coloured by whether they cover ``theta``, with the coverage and its MCSE.
* :func:`frontier_plot`: mean reward against the divergence budget per method (policy
  studies), one panel per level of a factor, with ``+- z * MCSE`` bars.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["nested_loop_plot", "coverage_plot", "zip_plot", "frontier_plot"]


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover
        raise ImportError("Plots need matplotlib: pip install semiparam[plot].") from err
    return plt


def _select(summary, measure, parameter):
    s = summary[summary["measure"] == measure]
    if s.empty:
        raise ValueError(f"The summary has no measure {measure!r}; it has "
                         f"{sorted(set(summary['measure']))}.")
    params = list(dict.fromkeys(s["parameter"]))
    if parameter is None:
        if len(params) > 1:
            raise ValueError(f"Pick a parameter: the summary has {params}.")
        parameter = params[0]
    s = s[s["parameter"] == parameter]
    if s.empty:
        raise ValueError(f"No parameter {parameter!r}; the summary has {params}.")
    return s, parameter


def _cells(s, factors):
    """Unique cells sorted lexicographically by ``factors`` (first slowest)."""
    cells = s[factors].drop_duplicates()
    cells = cells.sort_values(factors, kind="mergesort").reset_index(drop=True)
    return cells


def nested_loop_plot(summary, measure="bias", *, parameter=None, factors=None, methods=None,
                     reference=None, ax=None):
    """Nested-loop plot of one measure over the whole design.

    Parameters
    ----------
    summary : DataFrame from :func:`semiparam.simulate.summarize`
    measure : str
    parameter : str, default=None (the only one)
    factors : list of str, default=None (``summary.attrs["factors"]``, in that nesting order)
    methods : list of str, default=None (all)
    reference : float, default=None
        A horizontal reference line (0 for bias, the nominal level for coverage).
    ax : matplotlib Axes, default=None
    """
    plt = _plt()
    s, parameter = _select(summary, measure, parameter)
    factors = list(factors or summary.attrs.get("factors", []))
    if not factors:
        raise ValueError("Name the design factors (factors=...).")
    cells = _cells(s, factors)
    K = len(cells)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.25 * K + 3), 4.5))
    methods = methods or list(dict.fromkeys(s["method"]))
    x = np.arange(K + 1)
    lo, hi = np.inf, -np.inf
    for m in methods:
        sm = s[s["method"] == m]
        y = cells.merge(sm, on=factors, how="left")["value"].to_numpy(dtype=float)
        ax.step(x, np.append(y, y[-1:]), where="post", label=m, lw=1.5)
        if np.isfinite(y).any():
            lo, hi = min(lo, np.nanmin(y)), max(hi, np.nanmax(y))
    if reference is not None:
        ax.axhline(reference, color="0.3", lw=0.8, ls="--")
        lo, hi = min(lo, reference), max(hi, reference)
    if not np.isfinite(lo):
        lo, hi = 0.0, 1.0
    span = (hi - lo) or 1.0
    # one staircase per factor under the data, each in its own band
    band = 0.12 * span
    top = lo - 0.15 * span
    for j, f in enumerate(factors):
        levels = list(dict.fromkeys(cells[f]))
        code = cells[f].map({v: i for i, v in enumerate(levels)}).to_numpy(dtype=float)
        base = top - (j + 1) * band * 1.3
        yv = base + (code / max(len(levels) - 1, 1)) * band
        ax.step(x, np.append(yv, yv[-1:]), where="post", color="0.35", lw=1)
        ax.text(K + 0.2, base + band / 2,
                f"{f}: {', '.join(map(str, levels))}", va="center", fontsize=7)
    ax.set_xlim(0, K)
    ax.set_xticks([])
    ax.set_xlabel(f"{K} cells, ordered by {' > '.join(factors)}")
    ax.set_ylabel(f"{measure} ({parameter})")
    ax.legend(fontsize=8, loc="best", frameon=False)
    ax.figure.tight_layout()
    return ax.figure


def coverage_plot(summary, *, parameter=None, factors=None, methods=None, level=None,
                  measure="cover", ax=None):
    """Coverage per cell and method with ``+- z * MCSE`` bars and the nominal level."""
    plt = _plt()
    s, parameter = _select(summary, measure, parameter)
    factors = list(factors or summary.attrs.get("factors", []))
    level = level or summary.attrs.get("level", 0.95)
    z = stats.norm.ppf(0.975)
    cells = _cells(s, factors) if factors else None
    K = len(cells) if cells is not None else 1
    methods = methods or list(dict.fromkeys(s["method"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.35 * K + 2), 4))
    width = 0.8 / len(methods)
    for i, m in enumerate(methods):
        sm = s[s["method"] == m]
        d = cells.merge(sm, on=factors, how="left") if cells is not None else sm
        xs = np.arange(K) - 0.4 + width * (i + 0.5)
        ax.errorbar(xs, d["value"], yerr=z * d["mcse"], fmt="o", ms=3, capsize=2, label=m)
    ax.axhline(level, color="0.3", lw=0.8, ls="--")
    if cells is not None:
        labels = [", ".join(f"{v}" for v in row) for row in cells.itertuples(index=False)]
        ax.set_xticks(np.arange(K), labels, rotation=90, fontsize=6)
        ax.set_xlabel(", ".join(factors))
    ax.set_ylabel(f"coverage of {parameter} (+- {z:.2f} MCSE)")
    ax.legend(fontsize=8, frameon=False)
    ax.figure.tight_layout()
    return ax.figure


def zip_plot(results, estimate, se, true, *, method="method", methods=None, cell=None,
             level=0.95, axes=None):
    """Zip plot of the Wald intervals of one cell, one panel per method.

    Parameters
    ----------
    results : DataFrame (Study.results())
    estimate, se : str
        Columns of the estimate and its standard error.
    true : float or str
        The estimand, or a column holding it (constant within the cell).
    cell : dict, default=None
        Factor values selecting the cell (default: all rows, i.e. a one-cell study).
    """
    plt = _plt()
    r = results
    for k, v in (cell or {}).items():
        r = r[r[k] == v]
    if r.empty:
        raise ValueError(f"No rows for the cell {cell!r}.")
    if isinstance(true, str):
        vals = r[true].dropna().unique()
        if len(vals) != 1:
            raise ValueError(f"The true value column {true!r} must be constant in the cell; "
                             "select one cell with cell={...}.")
        true = float(vals[0])
    methods = methods or list(dict.fromkeys(r[method]))
    z = stats.norm.ppf(0.5 + level / 2)
    if axes is None:
        fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 4),
                                 sharey=True, squeeze=False)
        axes = axes[0]
    for ax, m in zip(axes, methods):
        g = r[r[method] == m]
        t = g[estimate].to_numpy(dtype=float)
        s = g[se].to_numpy(dtype=float)
        ok = np.isfinite(t) & np.isfinite(s) & (s > 0)
        t, s = t[ok], s[ok]
        n = t.size
        if n == 0:
            ax.set_title(f"{m}: no intervals")
            continue
        zz = np.abs(t - true) / s
        order = np.argsort(zz, kind="mergesort")
        rank = 100.0 * (np.arange(1, n + 1) - 0.5) / n
        covers = zz[order] <= z
        lo, hi = (t - z * s)[order], (t + z * s)[order]
        ax.hlines(rank[covers], lo[covers], hi[covers], color="tab:blue", lw=0.8)
        ax.hlines(rank[~covers], lo[~covers], hi[~covers], color="tab:red", lw=0.8)
        ax.axvline(true, color="0.2", lw=0.8)
        c = covers.mean()
        mc = np.sqrt(c * (1 - c) / n)
        ax.axhline(100 * level, color="0.4", ls="--", lw=0.8)
        ax.axhspan(100 * (c - 1.96 * mc), 100 * (c + 1.96 * mc), color="y", alpha=0.3)
        ax.set_title(f"{m}: coverage {c:.3f} ({mc:.3f})", fontsize=9)
        ax.set_xlabel(f"{int(100 * level)}% interval for {estimate}")
    axes[0].set_ylabel("fractional centile of |z|")
    axes[0].figure.tight_layout()
    return axes[0].figure


def frontier_plot(summary, *, prefix="reward@", panel=None, methods=None, measure="mean",
                  axes=None):
    """Reward against budget: the summary rows of parameters ``prefix + budget``.

    Parameters
    ----------
    summary : DataFrame from :func:`summarize` with ``means=[prefix + str(kappa), ...]``
    panel : str, default=None
        A factor with one panel per level (e.g. ``"shift"``); None: one panel.
    """
    plt = _plt()
    s = summary[(summary["measure"] == measure)
                & summary["parameter"].astype(str).str.startswith(prefix)]
    if s.empty:
        raise ValueError(f"The summary has no {measure!r} rows of parameters {prefix!r}*.")
    s = s.assign(budget=s["parameter"].str[len(prefix):].astype(float))
    levels = list(dict.fromkeys(s[panel])) if panel else [None]
    methods = methods or list(dict.fromkeys(s["method"]))
    if axes is None:
        fig, axes = plt.subplots(1, len(levels), figsize=(3.6 * len(levels), 3.6),
                                 sharey=False, squeeze=False)
        axes = axes[0]
    for ax, lev in zip(axes, levels):
        g = s if lev is None else s[s[panel] == lev]
        for m in methods:
            gm = g[g["method"] == m].sort_values("budget")
            ax.errorbar(gm["budget"], gm["value"], yerr=1.96 * gm["mcse"], marker="o", ms=3,
                        capsize=2, label=m, lw=1)
        ax.set_xlabel("divergence budget")
        ax.set_title(f"{panel} = {lev}" if panel else "", fontsize=9)
    for ax in axes:
        if measure == "gain":
            ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    axes[0].set_ylabel(("gain over baseline" if measure == "gain" else "mean reward")
                       + " (+- 1.96 MCSE)")
    axes[0].legend(fontsize=8, frameon=False)
    axes[0].figure.tight_layout()
    return axes[0].figure
