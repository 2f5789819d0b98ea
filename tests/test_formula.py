"""Formulas and categorical data (semiparam.index.formula).

References: live statsmodels formula API (``smf.logit``, statsmodels >= 0.14, patsy) on
``statsmodels.datasets.fair`` (bundled, no download).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

pytest.importorskip("formulaic")

from semiparam.index import (  # noqa: E402
    IsotonicIndexClassifier,
    LogitIndexClassifier,
    SieveIndexClassifier,
)
from semiparam.index.formula import FormulaDesign  # noqa: E402

FORMULA = "had_affair ~ rate_marriage + age + C(occ) + np.log(yrs_married)"


@pytest.fixture(scope="module")
def fair():
    d = sm.datasets.fair.load_pandas().data.copy()
    d["had_affair"] = (d["affairs"] > 0).astype(int)
    d["occ"] = d["occupation"].astype(int).map({1: "student", 2: "farm", 3: "clerical",
                                                4: "teacher", 5: "manager", 6: "prof"})
    return d


def test_logit_formula_equals_statsmodels(fair):
    ours = LogitIndexClassifier.from_formula(FORMULA, fair)
    ref = smf.logit(FORMULA, fair).fit(disp=0)
    assert ours.fit_intercept is True  # the formula's intercept is logit's own
    assert ours.intercept_ == pytest.approx(ref.params["Intercept"], abs=1e-6)
    slopes = ref.params.drop("Intercept")
    raw = pd.Series(ours.coef_raw_, index=ours.feature_names_in_)
    assert set(raw.index) == set(slopes.index)  # same names, C(occ)[T.level]
    np.testing.assert_allclose(raw[slopes.index], slopes, atol=1e-6)
    me = ours.marginal_effects()
    mf = ref.get_margeff()
    np.testing.assert_allclose(me["effect"][slopes.index], mf.margeff, atol=1e-6)
    assert "intercept is fitted as the logit's own" in ours.summary().as_text()


def test_single_index_drops_the_intercept_and_keeps_names(fair):
    est = SieveIndexClassifier.from_formula(FORMULA, fair)
    names = list(est.feature_names_in_)
    assert "Intercept" not in names
    assert names[:2] == ["rate_marriage", "age"] and "np.log(yrs_married)" in names
    levels = sorted(n for n in names if n.startswith("C(occ)"))
    assert len(levels) == 5  # six occupations, one reference level
    assert list(est.result_.params.index) == names
    assert "intercept column was dropped" in est.summary().as_text()
    assert isinstance(est.formula_, FormulaDesign) and est.formula_.intercept == "dropped"
    # a formula without intercept still gets reference coding (no column of ones hidden
    # in a full set of dummies)
    no1 = SieveIndexClassifier.from_formula(FORMULA + " - 1", fair)
    assert list(no1.feature_names_in_) == names
    np.testing.assert_allclose(no1.coef_, est.coef_)


def test_transform_new_data_and_predict(fair):
    est = LogitIndexClassifier.from_formula(FORMULA, fair)
    new = fair.sample(25, random_state=0)
    Xn = est.formula_.transform(new)
    assert list(Xn.columns) == list(est.feature_names_in_)
    ref = smf.logit(FORMULA, fair).fit(disp=0)
    np.testing.assert_allclose(est.predict_proba(Xn)[:, 1], ref.predict(new), atol=1e-8)


def test_missing_rows_and_weights_are_aligned(fair):
    d = fair.copy()
    d.loc[d.index[:40], "age"] = np.nan
    w = pd.Series(np.where(np.arange(len(d)) % 2 == 0, 1.0, 2.0), index=d.index)
    a = LogitIndexClassifier.from_formula(FORMULA, d, sample_weight=w)
    keep = d["age"].notna()
    b = LogitIndexClassifier.from_formula(FORMULA, d[keep], sample_weight=w[keep].to_numpy())
    assert a.result_.nobs == keep.sum()
    np.testing.assert_allclose(a.coef_raw_, b.coef_raw_)


def test_string_outcome_and_expression_outcome(fair):
    d = fair.assign(label=np.where(fair["affairs"] > 0, "yes", "no"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = IsotonicIndexClassifier.from_formula("label ~ rate_marriage + age + religious", d)
        b = IsotonicIndexClassifier.from_formula(
            "I(affairs > 0) ~ rate_marriage + age + religious", d)
    assert list(a.classes_) == ["no", "yes"]
    np.testing.assert_allclose(a.coef_, b.coef_)


def test_bad_formulas(fair):
    with pytest.raises(ValueError, match="y ~ x1"):
        LogitIndexClassifier.from_formula("rate_marriage + age", fair)
    with pytest.raises(ValueError, match="no regressors"):
        SieveIndexClassifier.from_formula("had_affair ~ 1", fair)
    with pytest.raises(ValueError, match="single"):
        SieveIndexClassifier.from_formula("C(occ) ~ age + rate_marriage", fair)
    with pytest.raises(ValueError, match="sample_weight"):
        LogitIndexClassifier.from_formula(FORMULA, fair, sample_weight=np.ones(3))
