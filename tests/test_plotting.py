"""Link plots (semiparam.index.plotting) and the policy frontier plot, Agg backend."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from semiparam.index import (  # noqa: E402
    IchimuraRegressor,
    IsotonicIndexClassifier,
    KleinSpadyClassifier,
    LogitIndexClassifier,
    PairwiseRankingClassifier,
    SieveIndexClassifier,
)
from semiparam.index.plotting import compare_links, link_band  # noqa: E402
from semiparam.links import get_link  # noqa: E402
from semiparam.simulate import make_single_index  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return make_single_index(600, [1.0, -1.0], link="cloglog", scale=1.5, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, z = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {cls.__name__: cls().fit(X, z) for cls in (
            KleinSpadyClassifier, IsotonicIndexClassifier, SieveIndexClassifier,
            LogitIndexClassifier, PairwiseRankingClassifier)}


@pytest.mark.parametrize("name", ["KleinSpadyClassifier", "IsotonicIndexClassifier",
                                  "SieveIndexClassifier", "LogitIndexClassifier",
                                  "PairwiseRankingClassifier"])
def test_plot_link_draws_curve_band_and_rug(fitted, name):
    est = fitted[name]
    fig, ax = plt.subplots()
    out = est.plot_link(ax, n_bootstrap=30)
    assert out is ax
    curve, rug = ax.lines[0], ax.lines[1]
    x, y = curve.get_data()
    np.testing.assert_allclose(y, est.link_(x))
    assert len(rug.get_xdata()) == 600  # one tick per training row
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    lo, hi = link_band(est, x, n_bootstrap=30)
    assert np.all(lo <= hi + 1e-12) and np.all((lo >= -1e-12) & (hi <= 1 + 1e-12))
    # the band holds the curve on most of the grid (it is the link's own uncertainty)
    assert np.mean((lo - 1e-9 <= y) & (y <= hi + 1e-9)) > 0.8
    plt.close(fig)


def test_plot_link_options(fitted):
    est = fitted["SieveIndexClassifier"]
    ax = est.plot_link(ci=False, rug=False, label="sieve", color="red")
    assert len(ax.lines) == 1 and not ax.collections
    assert ax.lines[0].get_label() == "sieve"
    with pytest.raises(ValueError, match="alpha"):
        est.plot_link(alpha=0.0)
    plt.close("all")


def test_band_narrows_with_n():
    widths = []
    for n in (400, 3200):
        X, z = make_single_index(n, [1.0, -1.0], link="logistic", scale=2.0, random_state=1)
        est = SieveIndexClassifier().fit(X, z)
        lo, hi = link_band(est, np.linspace(-0.5, 0.5, 11), n_bootstrap=40)
        widths.append(np.mean(hi - lo))
    assert widths[1] < 0.6 * widths[0]  # about 1/sqrt(8) ~ 0.35 in theory


def test_regressor_link_plot():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2))
    y = np.tanh(X @ [1.0, 0.5]) + 0.1 * rng.standard_normal(300)
    ax = IchimuraRegressor().fit(X, y).plot_link(n_bootstrap=20)
    assert ax.get_ylabel() == "E[y | index]"
    plt.close("all")


def test_compare_links(fitted):
    F = get_link("cloglog")
    ests = {k: fitted[k] for k in ("KleinSpadyClassifier", "SieveIndexClassifier")}
    ax = compare_links(ests, truth=lambda t: F(1.5 * np.sqrt(2) * t))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["true link", "KleinSpadyClassifier", "SieveIndexClassifier"]
    ax = compare_links(list(ests.values()), names=["a", "b"], ci=True, n_bootstrap=10)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(ValueError, match="names"):
        compare_links(list(ests.values()), names=["a"])
    with pytest.raises(ValueError, match="at least one"):
        compare_links([])
    plt.close("all")


def test_frontier_plot_marks_the_budget():
    from semiparam.policy import DPO, frontier
    from semiparam.simulate import make_preference_data

    pb = make_preference_data(n_pairs=600, n_features=3, n_actions=3, n_test=200,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = DPO(features=pb.features).fit(pb.table)
    fr = frontier(est.policy_, pb.test_contexts, pb.reward, kappas=np.linspace(0, 0.3, 5))
    ax = fr.plot(budget=0.2, label="DPO")
    assert ax.lines[0].get_label() == "DPO"
    assert any(np.allclose(line.get_xdata(), 0.2) for line in ax.lines[1:])
    plt.close("all")


def test_import_does_not_load_matplotlib():
    code = ("import sys, semiparam, semiparam.index, semiparam.index.plotting, "
            "semiparam.index.margins; print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
