"""Performance measures of a simulation study with their Monte Carlo standard errors.

For an estimand ``theta``, ``n_sim`` non-missing estimates ``t_i`` with model standard errors
``s_i``, ``tbar`` their mean, ``S^2 = sum (t_i - tbar)^2 / (n_sim - 1)``, Morris, White and
Crowther (2019, *Statistics in Medicine* 38:2074-2102, Table 6) give:

==================  =================================================  =====================================================
measure             estimate                                           Monte Carlo SE
==================  =================================================  =====================================================
``mean``            ``tbar``                                           ``S / sqrt(n)``
``bias``            ``tbar - theta``                                   ``S / sqrt(n)``
``rel_bias``        ``(tbar - theta) / theta``                         ``S / (sqrt(n) |theta|)``
``empse``           ``S``                                              ``S / sqrt(2 (n - 1))``
``mse``             ``mean (t_i - theta)^2``                           ``sqrt( sum ((t_i-theta)^2 - mse)^2 / (n (n-1)) )``
``modelse``         ``sqrt(mean s_i^2)``                               ``sqrt( var(s_i^2) / (4 n modelse^2) )``
``relerror``        ``100 (modelse / empse - 1)``                      ``100 (modelse/empse) sqrt( var(s^2)/(4 n modelse^4) + 1/(2(n-1)) )``
``cover``           ``mean 1{|t_i - theta| <= z s_i}``                 ``sqrt(cover (1 - cover) / n)``
``becover``         ``mean 1{|t_i - tbar| <= z s_i}`` (bias-eliminated) ``sqrt(becover (1 - becover) / n)``
``power``           ``mean 1{|t_i - theta_0| > z s_i}``                ``sqrt(power (1 - power) / n)``
``relprec``         ``100 ((S_base / S)^2 - 1)``, paired replications  ``200 (S_base/S)^2 sqrt((1 - rho^2) / (n - 1))``
==================  =================================================  =====================================================

with ``z`` the ``(1 + level)/2`` normal quantile and ``rho`` the correlation of the method's
and the baseline's estimates over the replications where both exist (``relprec`` is the
percentage gain in precision over the baseline; the relative efficiency is ``1 + relprec/100``).
``var`` is the sample variance (``n - 1``); these are the formulas of R's rsimsum.  Means of
other outputs (``mean(x)``: angles, rewards, fit times, convergence rates) get ``sd / sqrt(n)``;
``gain(x)`` is the mean paired difference to the baseline method with the SE of the paired
differences.  For angles to the true direction (a distance, so bias and coverage do not
apply) ``angle_mean`` (SE ``sd/sqrt(n)``), ``angle_median`` (SE ``sqrt(pi/2) sd / sqrt(n)``, the
normal-theory value, flagged as approximate in the docs), and ``angle_q90`` (no MCSE) are
reported.  Replications with a missing estimate (a failed method) are dropped per measure
and counted in ``n_sim``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["summarize", "performance", "report", "MEASURES"]

MEASURES = ("mean", "bias", "rel_bias", "empse", "mse", "modelse", "relerror", "cover",
            "becover", "power", "relprec")


def _as_list(x):
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def performance(est, se=None, true=None, *, level=0.95, null=0.0, base=None) -> dict:
    """The measures of one (cell, method, parameter): ``{measure: (value, mcse, n)}``.

    Parameters
    ----------
    est : array (n,)
        Estimates (NaN = missing).
    se : array (n,) or None
        Model standard errors.
    true : float or None
        Estimand; measures that need it are left out when None.
    level : float
        Confidence level of the Wald intervals ``est +- z se``.
    null : float
        Null value for ``power``.
    base : array (n,) or None
        The baseline method's estimates in the same replications (for ``relprec``).
    """
    est = np.asarray(est, dtype=float)
    ok = np.isfinite(est)
    if se is not None:
        se = np.asarray(se, dtype=float)
        ok_se = ok & np.isfinite(se)
    out: dict = {}
    t = est[ok]
    n = t.size
    nan = float("nan")
    if n == 0:
        return out
    tbar = float(t.mean())
    S = float(t.std(ddof=1)) if n > 1 else nan
    out["mean"] = (tbar, S / math.sqrt(n), n)
    if true is not None:
        true = float(true)
        out["bias"] = (tbar - true, S / math.sqrt(n), n)
        if true != 0:
            out["rel_bias"] = ((tbar - true) / true, S / (math.sqrt(n) * abs(true)), n)
        sq = (t - true) ** 2
        mse = float(sq.mean())
        out["mse"] = (mse, math.sqrt(((sq - mse) ** 2).sum() / (n * (n - 1))) if n > 1 else nan,
                      n)
    out["empse"] = (S, S / math.sqrt(2 * (n - 1)) if n > 1 else nan, n)
    if se is not None and ok_se.any():
        s = se[ok_se]
        ts = est[ok_se]
        m = s.size
        s2 = s ** 2
        v = float(s2.var(ddof=1)) if m > 1 else nan
        modelse = math.sqrt(float(s2.mean()))
        out["modelse"] = (modelse, math.sqrt(v / (4 * m * modelse ** 2)) if modelse > 0 else nan,
                          m)
        if n > 1 and S > 0:
            r = modelse / S
            out["relerror"] = (100 * (r - 1), 100 * r * math.sqrt(
                v / (4 * m * modelse ** 4) + 1 / (2 * (n - 1))) if modelse > 0 else nan, m)
        z = stats.norm.ppf(0.5 + level / 2)
        if true is not None:
            c = float(np.mean(np.abs(ts - true) <= z * s))
            out["cover"] = (c, math.sqrt(c * (1 - c) / m), m)
        c = float(np.mean(np.abs(ts - ts.mean()) <= z * s))
        out["becover"] = (c, math.sqrt(c * (1 - c) / m), m)
        p = float(np.mean(np.abs(ts - null) > z * s))
        out["power"] = (p, math.sqrt(p * (1 - p) / m), m)
    if base is not None:
        base = np.asarray(base, dtype=float)
        both = ok & np.isfinite(base)
        k = int(both.sum())
        if k > 2:
            a, b = est[both], base[both]
            sa, sb = a.std(ddof=1), b.std(ddof=1)
            if sa > 0 and sb > 0:
                rho = float(np.corrcoef(a, b)[0, 1])
                ratio = (sb / sa) ** 2
                out["relprec"] = (100 * (ratio - 1),
                                  200 * ratio * math.sqrt(max(0.0, 1 - rho ** 2) / (k - 1)), k)
    return out


def _true_value(true, col, frame):
    """The estimand for estimate column ``col``: scalar, column name, or dict of those."""
    if isinstance(true, dict):
        true = true.get(col)
    if true is None:
        return None
    if isinstance(true, str):
        if true not in frame.columns:
            raise ValueError(f"true={true!r} is not a column of the results.")
        vals = frame[true].dropna().unique()
        if len(vals) > 1:
            raise ValueError(f"The true value column {true!r} varies within a cell.")
        return float(vals[0]) if len(vals) else None
    return float(true)


def summarize(results, estimate=None, se=None, true=None, *, angle=None, means=(),
              by=None, method="method", baseline=None, level=0.95, null=0.0, measures=None):
    """Tidy performance measures per cell and method, each with its Monte Carlo SE.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per (cell, replication, method), as :meth:`Study.results` returns.
    estimate : str or list of str, default=None
        Columns holding estimates (one parameter each).
    se : str or list of str, default=None
        Their model standard errors (same length as ``estimate``).
    true : float, str, or dict, default=None
        The estimand: a number, a column of the results (constant within a cell), or a dict
        ``{estimate column: number or column}``.
    angle : str, default=None
        A column of angles to the true direction (degrees).
    means : sequence of str
        Further outputs summarised by their mean (and, with ``baseline``, the paired gain).
    by : list of str, default=None
        The factors defining cells (default: ``results.attrs["factors"]``).
    method : str, default="method"
    baseline : str, default=None
        Method against which ``relprec`` and ``gain(x)`` are computed.
    level : float, default=0.95
    null : float, default=0
    measures : sequence of str, default=None
        Keep only these measures (of :data:`MEASURES` and the angle/mean ones).

    Returns
    -------
    pandas.DataFrame
        Columns: the factors, ``method``, ``parameter``, ``measure``, ``value``, ``mcse``,
        ``n_sim`` (replications used).
    """
    import pandas as pd

    if not isinstance(results, pd.DataFrame):
        raise TypeError("results must be a DataFrame (Study.results()).")
    by = list(results.attrs.get("factors", [])) if by is None else _as_list(by)
    est_cols, se_cols = _as_list(estimate), _as_list(se)
    if se_cols and len(se_cols) != len(est_cols):
        raise ValueError(f"se names {len(se_cols)} columns for {len(est_cols)} estimates.")
    means = _as_list(means)
    needed = [*by, method, *est_cols, *se_cols, *means] + ([angle] if angle else [])
    if "rep" in results.columns and baseline is not None:
        needed.append("rep")
    missing = [c for c in needed if c not in results.columns]
    if missing:
        raise ValueError(f"Columns {missing} are not in the results; it has "
                         f"{list(results.columns)}.")
    if not est_cols and not means and not angle:
        raise ValueError("Nothing to summarise: give estimate, angle or means.")
    if baseline is not None and baseline not in set(results[method]):
        raise ValueError(f"baseline {baseline!r} is not a method of the results.")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}.")
    rows = []
    groups = results.groupby(by, sort=False, dropna=False) if by else [((), results)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        cell = dict(zip(by, key))
        base_rows = g[g[method] == baseline] if baseline is not None else None
        for m, gm in g.groupby(method, sort=False):
            def paired(col):
                if base_rows is None or m == baseline:
                    return None
                b = base_rows.set_index("rep")[col]
                return gm["rep"].map(b).to_numpy(dtype=float)

            for j, col in enumerate(est_cols):
                perf = performance(
                    gm[col].to_numpy(dtype=float),
                    gm[se_cols[j]].to_numpy(dtype=float) if se_cols else None,
                    _true_value(true, col, gm), level=level, null=null, base=paired(col))
                rows += [{**cell, method: m, "parameter": col, "measure": k, "value": v,
                          "mcse": e, "n_sim": nn} for k, (v, e, nn) in perf.items()]
            if angle:
                a = gm[angle].to_numpy(dtype=float)
                a = a[np.isfinite(a)]
                if a.size:
                    sd = a.std(ddof=1) if a.size > 1 else float("nan")
                    se_mean = sd / math.sqrt(a.size)
                    for k, v, e in (("angle_mean", a.mean(), se_mean),
                                    ("angle_median", np.median(a),
                                     math.sqrt(math.pi / 2) * se_mean),
                                    ("angle_q90", np.quantile(a, 0.9), float("nan"))):
                        rows.append({**cell, method: m, "parameter": angle, "measure": k,
                                     "value": float(v), "mcse": float(e), "n_sim": a.size})
            for col in means:
                x = gm[col].to_numpy(dtype=float)
                ok = np.isfinite(x)
                if ok.any():
                    k = int(ok.sum())
                    sd = x[ok].std(ddof=1) if k > 1 else float("nan")
                    rows.append({**cell, method: m, "parameter": col, "measure": "mean",
                                 "value": float(x[ok].mean()), "mcse": sd / math.sqrt(k),
                                 "n_sim": k})
                b = paired(col)
                if b is not None:
                    d = x - b
                    d = d[np.isfinite(d)]
                    if d.size > 1:
                        rows.append({**cell, method: m, "parameter": col, "measure": "gain",
                                     "value": float(d.mean()),
                                     "mcse": float(d.std(ddof=1) / math.sqrt(d.size)),
                                     "n_sim": d.size})
    out = pd.DataFrame(rows, columns=[*by, method, "parameter", "measure", "value", "mcse",
                                      "n_sim"])
    if measures is not None:
        out = out[out["measure"].isin(list(measures))].reset_index(drop=True)
    out.attrs["factors"] = by
    out.attrs["level"] = level
    return out


def report(summary, *, fmt="markdown", digits=3, measures=None) -> str:
    """Render a tidy summary as a table: one row per cell, method and parameter, one column
    per measure, each entry ``value (mcse)``.

    Parameters
    ----------
    summary : DataFrame from :func:`summarize`
    fmt : {"markdown", "html", "csv"}
    digits : int
    measures : sequence of str, default=None (all, in the order met)
    """
    if fmt not in ("markdown", "html", "csv"):
        raise ValueError(f"fmt must be 'markdown', 'html' or 'csv'; got {fmt!r}.")
    by = list(summary.attrs.get("factors", []))
    s = summary if measures is None else summary[summary["measure"].isin(measures)]
    order = list(dict.fromkeys(s["measure"])) if measures is None else list(measures)

    def cell(v, e):
        if not np.isfinite(v):
            return ""
        return f"{v:.{digits}g}" + (f" ({e:.{digits - 1 if digits > 1 else 1}g})"
                                     if np.isfinite(e) else "")

    idx = [*by, "method", "parameter"]
    s = s.assign(entry=[cell(v, e) for v, e in zip(s["value"], s["mcse"])])
    wide = s.pivot_table(index=idx, columns="measure", values="entry", aggfunc="first",
                         sort=False)
    wide = wide[[m for m in order if m in wide.columns]].reset_index().fillna("")
    if fmt == "csv":
        return wide.to_csv(index=False)
    if fmt == "html":
        return wide.to_html(index=False, escape=True)
    cols = list(wide.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |"
              for row in wide.itertuples(index=False, name=None)]
    return "\n".join(lines) + "\n"

