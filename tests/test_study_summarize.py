"""Performance measures and their Monte Carlo SEs.

1. Each measure against the formula of Morris, White and Crowther (2019, Table 6) written
   out independently here on a small fixed sample.
2. Each MCSE against direct Monte Carlo: the spread, over 2000 small studies of 60
   replications, of the measure's estimate should match the average MCSE (to within the
   Monte Carlo error of that comparison, about 2-3%; we allow 10%).
"""

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from semiparam.simulate import performance, report, summarize

matplotlib.use("Agg")


def test_formulas_on_a_fixed_sample():
    rng = np.random.default_rng(5)
    n, theta = 25, 1.0
    t = theta + 0.1 + 0.5 * rng.standard_normal(n)
    s = 0.5 * np.exp(0.2 * rng.standard_normal(n))
    b = t + 0.3 * rng.standard_normal(n)
    p = performance(t, s, theta, level=0.9, null=0.0, base=b)
    tbar, S = t.mean(), t.std(ddof=1)
    z = stats.norm.ppf(0.95)
    exp = {
        "bias": (tbar - theta, S / math.sqrt(n)),
        "empse": (S, S / math.sqrt(2 * (n - 1))),
        "mse": (np.mean((t - theta) ** 2),
                math.sqrt(np.sum(((t - theta) ** 2 - np.mean((t - theta) ** 2)) ** 2)
                          / (n * (n - 1)))),
        "modelse": (math.sqrt(np.mean(s ** 2)),
                    math.sqrt(np.var(s ** 2, ddof=1) / (4 * n * np.mean(s ** 2)))),
        "cover": (np.mean(np.abs(t - theta) <= z * s), None),
        "becover": (np.mean(np.abs(t - tbar) <= z * s), None),
        "power": (np.mean(np.abs(t) > z * s), None),
    }
    mod = math.sqrt(np.mean(s ** 2))
    exp["relerror"] = (100 * (mod / S - 1),
                       100 * (mod / S) * math.sqrt(np.var(s ** 2, ddof=1) / (4 * n * mod ** 4)
                                                   + 1 / (2 * (n - 1))))
    rho = np.corrcoef(t, b)[0, 1]
    r = (b.std(ddof=1) / S) ** 2
    exp["relprec"] = (100 * (r - 1), 200 * r * math.sqrt((1 - rho ** 2) / (n - 1)))
    for k, (v, e) in exp.items():
        assert p[k][0] == pytest.approx(v, rel=1e-12), k
        if e is None:  # proportions: sqrt(c (1 - c) / n)
            e = math.sqrt(v * (1 - v) / n)
        assert p[k][1] == pytest.approx(e, rel=1e-12), k
        assert p[k][2] == n


def _spread_vs_mcse(draw, meas, n_studies=2000, n=60, theta=0.0, seed=2019):
    rng = np.random.default_rng(seed)
    vals = {m: [] for m in meas}
    ses = {m: [] for m in meas}
    for _ in range(n_studies):
        t, s, base = draw(rng, n)
        p = performance(t, s, theta, base=base)
        for m in meas:
            vals[m].append(p[m][0])
            ses[m].append(p[m][1])
    return {m: (np.mean(ses[m]), np.std(vals[m], ddof=1)) for m in meas}


def _normal(rng, n):
    t = 0.2 + 0.4 * rng.standard_normal(n)
    s = 0.38 * rng.chisquare(30, n) / 30  # noisy model SEs: the var(s^2) terms matter
    return t, s, 0.7 * t + 0.2 * rng.standard_normal(n)


def _heavy(rng, n):
    t = 0.2 + 0.4 * rng.standard_t(8, n)
    return t, 0.45 * rng.chisquare(30, n) / 30, None


def test_mcse_matches_direct_monte_carlo():
    meas = ["bias", "empse", "mse", "modelse", "relerror", "cover", "becover", "power",
            "relprec"]
    for m, (mean_se, spread) in _spread_vs_mcse(_normal, meas).items():
        assert mean_se == pytest.approx(spread, rel=0.10), (m, mean_se, spread)


def test_distribution_free_mcse_under_heavy_tails():
    """bias, MSE, model SE and coverage MCSEs use no normality; empse's does (Morris et al.
    say so): under t(8) estimates (kurtosis 4.5) it is too small by about sqrt(1 + 1.5/2)."""
    res = _spread_vs_mcse(_heavy, ["bias", "mse", "modelse", "cover", "empse"])
    for m in ["bias", "mse", "modelse", "cover"]:
        mean_se, spread = res[m]
        assert mean_se == pytest.approx(spread, rel=0.10), (m, mean_se, spread)
    mean_se, spread = res["empse"]
    assert spread / mean_se == pytest.approx(math.sqrt(1 + 1.5 / 2), rel=0.12)


def _results():
    rng = np.random.default_rng(1)
    rows = []
    for n in (50, 200):
        for rep in range(40):
            e = rng.standard_normal()
            for meth, scale in (("a", 1.0), ("b", 1.5)):
                est = 1.0 + scale * e / math.sqrt(n) + 0.2 * rng.standard_normal() / math.sqrt(n)
                rows.append({"n": n, "rep": rep, "method": meth, "est": est,
                             "se": scale / math.sqrt(n), "angle": abs(e) * scale,
                             "reward@0.1": 1 - abs(e) * scale / 10,
                             "reward@0.2": 1.5 - abs(e) * scale / 10})
    df = pd.DataFrame(rows)
    df.attrs["factors"] = ["n"]
    return df


def test_summarize_tidy_output_and_baseline():
    df = _results()
    out = summarize(df, "est", "se", true=1.0, angle="angle", means=["reward@0.1"],
                    baseline="a")
    assert list(out.columns) == ["n", "method", "parameter", "measure", "value", "mcse",
                                 "n_sim"]
    one = out[(out.n == 50) & (out.method == "b") & (out.parameter == "est")]
    direct = performance(df[(df.n == 50) & (df.method == "b")]["est"],
                         df[(df.n == 50) & (df.method == "b")]["se"], 1.0,
                         base=df[(df.n == 50) & (df.method == "a")]["est"].to_numpy())
    for k, (v, e, _) in direct.items():
        row = one[one.measure == k].iloc[0]
        assert row["value"] == v and (row["mcse"] == e or (np.isnan(e) and np.isnan(row.mcse)))
    # b has 1.5x the noise of a: precision about 100 (1/2.25 - 1) = -56% relative to a
    rp = out[(out.method == "b") & (out.measure == "relprec")]["value"]
    assert (rp < -40).all() and (rp > -70).all()
    assert not ((out.method == "a") & (out.measure == "relprec")).any()
    gain = out[(out.method == "b") & (out.measure == "gain")]
    assert (gain["value"] < 0).all()
    angle = out[(out.parameter == "angle") & (out.measure == "angle_mean")]
    assert len(angle) == 4
    # missing estimates are dropped and counted
    df2 = df.copy()
    df2.loc[0, "est"] = np.nan
    o2 = summarize(df2, "est", "se", true=1.0)
    assert o2[(o2.n == 50) & (o2.method == "a") & (o2.measure == "bias")]["n_sim"].iloc[0] == 39


def test_summarize_bad_input():
    df = _results()
    with pytest.raises(ValueError, match="not in the results"):
        summarize(df, "nope")
    with pytest.raises(ValueError, match="Nothing to summarise"):
        summarize(df)
    with pytest.raises(ValueError, match="baseline"):
        summarize(df, "est", baseline="zz")
    with pytest.raises(ValueError, match="se names"):
        summarize(df, ["est"], ["se", "se"])
    with pytest.raises(ValueError, match="level"):
        summarize(df, "est", level=1.5)
    with pytest.raises(TypeError):
        summarize(df.to_numpy(), "est")


def test_report_formats():
    s = summarize(_results(), "est", "se", true=1.0)
    md = report(s, measures=["bias", "cover"])
    assert md.splitlines()[0] == "| n | method | parameter | bias | cover |"
    assert len(md.splitlines()) == 2 + 4
    assert "<table" in report(s, fmt="html")
    assert report(s, fmt="csv").startswith("n,method,parameter")
    with pytest.raises(ValueError, match="fmt"):
        report(s, fmt="xlsx")


def test_plots_draw():
    from semiparam.simulate import coverage_plot, frontier_plot, nested_loop_plot, zip_plot

    df = _results()
    s = summarize(df, "est", "se", true=1.0, means=["reward@0.1", "reward@0.2"])
    fig = nested_loop_plot(s, "bias", parameter="est", reference=0.0)
    assert len(fig.axes[0].lines) >= 3  # two methods, one factor, the reference
    fig = coverage_plot(s, parameter="est")
    assert fig.axes[0].get_ylabel().startswith("coverage")
    fig = zip_plot(df, "est", "se", 1.0, cell={"n": 50})
    assert len(fig.axes) == 2
    fig = frontier_plot(s, panel="n")
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="no measure"):
        nested_loop_plot(s, "nope")
