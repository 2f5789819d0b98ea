"""Tests of ``semiparam.index.compare``: every model and coefficient in the table, one
normalisation across columns (statsmodels slopes included, delta-method errors), and
clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.base import BaseEstimator, ClassifierMixin

from semiparam.index import IndexResult, SieveIndexClassifier, compare
from semiparam.index._base import normalization_jacobian, normalize_direction
from semiparam.simulate import make_single_index

TRUTH = np.array([1.0, -1.0, 0.5])


class _KernelLike(ClassifierMixin, BaseEstimator):
    """A stand-in for a fitted kernel estimator: result_ plus bandwidth_."""

    def __init__(self, result=None, bandwidth=0.3):
        self.result = result
        self.bandwidth = bandwidth

    def fit(self, X, y):
        self.result_ = self.result
        self.bandwidth_ = self.bandwidth
        self.coef_ = self.result.params
        return self


@pytest.fixture(scope="module")
def data():
    X, y = make_single_index(1200, TRUTH, link="cloglog", design="mixed", random_state=0)
    df = pd.DataFrame(X, columns=["age", "female", "distance"])
    sieve = SieveIndexClassifier().fit(df, y)
    logit = sm.Logit(y, sm.add_constant(df)).fit(disp=0)
    probit = sm.Probit(y, sm.add_constant(X)).fit(disp=0)  # numpy: positional names
    return X, y, df, sieve, logit, probit


def test_every_model_and_coefficient_is_in_the_table(data):
    X, y, df, sieve, logit, _ = data
    other = IndexResult(params=sieve.coef_, cov=None, names=("age", "female", "distance"),
                        nobs=1200, model="Other", objective=0.123)
    kernel = _KernelLike(result=other, bandwidth=0.25).fit(X, y)
    table = compare([logit, sieve, kernel], names=["logit", "sieve", "kernel"])
    text = table.as_text()
    for token in ["logit", "sieve", "kernel", "age", "female", "distance", "Log-likelihood",
                  "Objective", "Bandwidth", "Basis size", "Observations", "Converged",
                  f"{sieve.coef_[1]:.4f}", f"({sieve.result_.std_errors[2]:.4f})", "0.25",
                  "(n/a)", str(sieve.n_basis_)]:
        assert token in text, token
    html = table.as_html()
    assert "<table" in html and "kernel" in html and html == table._repr_html_()
    assert str(table) == text
    assert list(table.params.columns) == ["logit", "sieve", "kernel"]
    assert list(table.params.index) == ["age", "female", "distance"]
    np.testing.assert_allclose(table.params["sieve"], sieve.coef_)
    assert table.stats.at["bandwidth", "sieve"] is None
    assert table.stats.at["n_basis", "sieve"] == sieve.n_basis_


def test_statsmodels_slopes_are_normalised_with_delta_method_errors(data):
    X, y, df, sieve, logit, probit = data
    table = compare([probit, sieve])
    slopes = np.asarray(probit.params[1:])
    coef, _ = normalize_direction(slopes)
    J = normalization_jacobian(slopes)
    se = np.sqrt(np.diag(J @ np.asarray(probit.cov_params())[1:, 1:] @ J.T))
    # a numpy design: statsmodels' x1..x3 become semiparam's positional x0..x2
    col = table.params["Probit"]
    np.testing.assert_allclose(col[["x0", "x1", "x2"]], coef)
    np.testing.assert_allclose(table.std_errors["Probit"][["x0", "x1", "x2"]], se)
    assert "const" not in table.params.index
    # the sieve was fitted on a DataFrame: its rows keep their names (no overlap here)
    assert table.params["SieveIndexClassifier"][["x0", "x1", "x2"]].isna().all()
    assert np.isclose(np.linalg.norm(coef), 1.0)
    assert table.stats.at["llf", "Probit"] == pytest.approx(probit.llf)


def test_one_normalisation_across_columns(data):
    X, y, df, sieve, logit, _ = data
    first = SieveIndexClassifier(normalize="first").fit(df, y)
    table = compare([logit, sieve, first])  # normalisations differ: unit for all
    assert table.normalize == "unit"
    np.testing.assert_allclose(table.params.iloc[:, 2], sieve.coef_, rtol=1e-6)
    np.testing.assert_allclose(table.std_errors.iloc[:, 2], sieve.result_.std_errors,
                               rtol=1e-4)
    table = compare([logit, first])  # the shared normalisation is kept
    assert table.normalize == "first"
    assert table.params.iloc[0].tolist() == [1.0, 1.0]
    assert table.std_errors.iloc[0].tolist() == [0.0, 0.0]
    assert "(fixed)" in table.as_text() and "first coefficient = 1" in table.as_text()
    assert compare([logit, first], normalize="unit").normalize == "unit"


def test_duplicate_default_names_are_made_unique(data):
    _, _, _, sieve, _, _ = data
    table = compare([sieve, sieve.result_, sieve])
    assert table.names == ("SieveIndexClassifier", "SieveIndexClassifier (2)",
                           "SieveIndexClassifier (3)")


def test_compare_is_the_function_whatever_the_import_order():
    import semiparam.index as index
    import semiparam.index._compare as module

    assert index.compare is module.compare and callable(index.compare)


@pytest.mark.parametrize(
    "models, kwargs, error, match",
    [
        ([], {}, ValueError, "at least one"),
        (["sieve"], {"names": ["a", "b"]}, ValueError, "names has 2"),
        (["sieve", "sieve"], {"names": ["a", "a"]}, ValueError, "unique"),
        (["sieve"], {"normalize": "max"}, ValueError, "normalize"),
        (["unfitted"], {}, ValueError, "not fitted"),
        ([object()], {}, TypeError, "compare takes"),
    ],
)
def test_bad_inputs(data, models, kwargs, error, match):
    sieve = data[3]
    lookup = {"sieve": sieve, "unfitted": SieveIndexClassifier()}
    models = [lookup.get(m, m) if isinstance(m, str) else m for m in models]
    with pytest.raises(error, match=match):
        compare(models, **kwargs)
