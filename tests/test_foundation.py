"""Validation helpers, the results object, the simulator and import hygiene."""

import subprocess
import sys

import numpy as np
import pytest
import statsmodels.api as sm

from semiparam._validation import (
    Interval,
    Options,
    check_binary_target,
    check_design,
    check_sample_weight,
)
from semiparam.index._base import normalization_jacobian, normalize_direction
from semiparam.index.results import IndexResult
from semiparam.simulate import angle, make_single_index


def test_import_is_light():
    code = (
        "import sys, semiparam; import semiparam.index, semiparam.links;"
        "bad = [m for m in ('torch', 'matplotlib', 'numba') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_constraints():
    assert Interval(float, 0, None, closed="neither").is_satisfied_by(0.5)
    assert not Interval(float, 0, None, closed="neither").is_satisfied_by(0.0)
    assert not Interval(float, 0, 1).is_satisfied_by(float("nan"))
    assert not Interval(int, 0, 1).is_satisfied_by(True)
    assert Options({"a", None}).is_satisfied_by(None)
    assert not Options({"a"}).is_satisfied_by([1])


def test_binary_target_errors():
    classes, z = check_binary_target(np.array(["no", "yes", "yes"]))
    assert list(classes) == ["no", "yes"] and list(z) == [0, 1, 1]
    with pytest.raises(ValueError, match="only one class"):
        check_binary_target(np.ones(5))
    with pytest.raises(ValueError, match="must be binary"):
        check_binary_target(np.array([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="NaN"):
        check_binary_target(np.array([0.0, 1.0, np.nan]))


def test_sample_weight_errors():
    np.testing.assert_array_equal(check_sample_weight(None, 3), np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        check_sample_weight([1, -1, 1], 3)
    with pytest.raises(ValueError, match="shape"):
        check_sample_weight([1, 1], 3)
    with pytest.raises(ValueError, match="NaN"):
        check_sample_weight([1, np.nan, 1], 3)
    with pytest.raises(ValueError, match="zero for every row"):
        check_sample_weight([0, 0, 0], 3)


def test_design_errors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    check_design(X)
    with pytest.raises(ValueError, match="n_features = 1"):
        check_design(X[:, :1])
    with pytest.raises(ValueError, match="n_samples = 5"):
        check_design(X[:5])
    Xc = X.copy()
    Xc[:, 1] = 3.0
    with pytest.raises(ValueError, match=r"\['b'\] are constant"):
        check_design(Xc, feature_names=["a", "b", "c"])
    Xl = X.copy()
    Xl[:, 2] = 2 * X[:, 0] - X[:, 1]
    with pytest.raises(ValueError, match="collinear"):
        check_design(Xl)


def test_normalisation_and_jacobian():
    g = np.array([2.0, -1.0, 0.5])
    c, s = normalize_direction(g, "unit")
    assert np.isclose(np.linalg.norm(c), 1) and s > 0
    c1, s1 = normalize_direction(g, "first")
    assert c1[0] == 1 and s1 == 2
    for how in ("unit", "first"):
        J = normalization_jacobian(g, how)
        eps = 1e-7
        fd = np.column_stack(
            [(normalize_direction(g + eps * e, how)[0] - normalize_direction(g - eps * e, how)[0]) / (2 * eps)
             for e in np.eye(3)]
        )
        np.testing.assert_allclose(J, fd, atol=1e-7)
    with pytest.raises(FloatingPointError):
        normalize_direction(np.array([0.0, 1.0]), "first")


def test_results_object_matches_statsmodels_wald():
    """IndexResult's Wald quantities equal statsmodels' for the same params and cov."""
    rng = np.random.default_rng(1)
    X = sm.add_constant(rng.standard_normal((300, 2)))
    y = (X @ [0.2, 1.0, -1.0] + rng.logistic(size=300) > 0).astype(float)
    fit = sm.Logit(y, X).fit(disp=0)
    res = IndexResult(params=fit.params, cov=fit.cov_params(), names=("c", "a", "b"), nobs=300,
                      model="Logit", llf=fit.llf, cov_type="efficient", info={"bandwidth": 0.5})
    np.testing.assert_allclose(res.std_errors, fit.bse)
    np.testing.assert_allclose(res.pvalues, fit.pvalues)
    np.testing.assert_allclose(res.conf_int(0.1), fit.conf_int(0.1))
    text = res.summary().as_text()
    assert "Logit Results" in text and "bandwidth" in text and "[0.025" in text
    assert "<table" in res._repr_html_() and str(res) == text
    with pytest.raises(ValueError):
        res.params.iloc[0] = 1.0  # immutable
    with pytest.raises(Exception):
        res.nobs = 3
    with pytest.raises(ValueError, match="alpha"):
        res.conf_int(1.5)


def test_results_without_covariance_and_fixed_coefficient():
    res = IndexResult(params=[1.0, 0.5], cov=np.diag([0.0, 0.01]), names=("a", "b"), nobs=10,
                      model="M", normalize="first", converged=False)
    assert res.std_errors[0] == 0 and np.isnan(res.tvalues.iloc[0])
    text = res.summary().as_text()
    assert "(fixed)" in text and "did not converge" in text
    res2 = IndexResult(params=[1.0, 0.5], cov=None, names=("a", "b"), nobs=10, model="M")
    assert np.all(np.isnan(res2.std_errors))
    assert "coef" in res2.summary().as_text()


def test_simulator_and_angle():
    X, z = make_single_index(20000, [1.0, -1.0], link="probit", random_state=0)
    assert set(np.unique(z)) == {0, 1}
    # E[z] under a symmetric link at a symmetric design is 1/2
    assert abs(z.mean() - 0.5) < 0.02
    Xm, _ = make_single_index(100, [1.0, 1.0, 1.0], design="mixed", random_state=0)
    assert set(np.unique(Xm[:, 1])) == {0.0, 1.0}
    assert angle([1, 0], [0, 1]) == pytest.approx(90)
    assert angle([1, 1], [2, 2]) == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="design"):
        make_single_index(10, [1, 1], design="weird")
