"""The shared bootstrap (semiparam.index.bootstrap) and the uniform cov_type option."""

import numpy as np
import pytest

from semiparam.index import (
    IchimuraClassifier,
    IsotonicIndexClassifier,
    KleinSpadyClassifier,
    PairwiseRankingClassifier,
)
from semiparam.index.bootstrap import bootstrap
from semiparam.index.results import COV_TYPES, cov_type_constraint
from semiparam.policy import PSPO


def test_bootstrap_of_a_mean_matches_the_textbook_standard_error():
    # the bootstrap variance of a sample mean is sum (x - xbar)^2 / n^2 (Efron &
    # Tibshirani 1993, eq. 6.9 with the plug-in); B = 4000 replicates put the Monte
    # Carlo error of the sd near 1.1%
    x = np.random.default_rng(0).exponential(size=200)
    target = np.sqrt(np.mean((x - x.mean()) ** 2) / x.size)
    for scheme, stat in (("multinomial", lambda wb: [wb @ x / wb.sum()]),
                         ("rows", lambda idx: [x[idx].mean()])):
        res = bootstrap(stat, x.size, scheme=scheme, n_replicates=4000, random_state=1)
        assert res.replicates.shape == (4000, 1) and res.n_failed == 0
        assert np.sqrt(res.cov[0, 0]) == pytest.approx(target, rel=0.05)


def test_bootstrap_is_seeded_counts_failures_and_runs_in_parallel():
    x = np.random.default_rng(2).standard_normal(50)

    def stat(wb):
        if wb[0] == 0:  # row 0 not drawn: a "failed" refit (about e^-1 of replicates)
            return None
        return [wb @ x / wb.sum(), np.sqrt(wb @ x**2 / wb.sum())]

    a = bootstrap(stat, 50, n_replicates=200, random_state=7)
    b = bootstrap(stat, 50, n_replicates=200, random_state=7)
    np.testing.assert_array_equal(a.replicates, b.replicates)
    assert a.n_ok + a.n_failed == 200 and 40 < a.n_failed < 110
    assert a.info() == {"Bootstrap reps": a.n_ok, "Failed reps": a.n_failed}
    par = bootstrap(stat, 50, n_replicates=200, random_state=7, n_jobs=2)
    np.testing.assert_allclose(par.replicates, a.replicates)
    none = bootstrap(lambda wb: None, 50, n_replicates=3, dim=2)
    assert none.replicates.shape == (0, 2) and np.all(np.isnan(none.cov))


def test_bootstrap_rejects_bad_options():
    with pytest.raises(ValueError, match="scheme must be one of"):
        bootstrap(lambda r: [0.0], 5, scheme="wild")
    with pytest.raises(ValueError, match="n_replicates"):
        bootstrap(lambda r: [0.0], 5, n_replicates=-1)
    with pytest.raises(ValueError, match="weights must have shape"):
        bootstrap(lambda r: [0.0], 5, weights=np.ones(4))


def test_refit_errors_outside_the_skip_list_propagate():
    def boom(wb):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        bootstrap(boom, 5, n_replicates=2)


@pytest.mark.parametrize("est", [KleinSpadyClassifier, IchimuraClassifier,
                                 IsotonicIndexClassifier, PairwiseRankingClassifier, PSPO])
def test_unknown_cov_type_gives_the_same_error_everywhere(est):
    X = np.random.default_rng(0).standard_normal((60, 2))
    z = (X[:, 0] + np.random.default_rng(1).standard_normal(60) > 0).astype(int)
    with pytest.raises(ValueError, match=r"The 'cov_type' parameter of \w+ must be a str "
                                         r"among \{.*'bootstrap'.*\} or None\. Got 'hc0'"):
        # parameters are validated before the data (PSPO's fit takes a PreferenceTable)
        est(cov_type="hc0").fit(*((None,) if est is PSPO else (X, z)))
    assert est().get_params()["cov_type"] in (None, *COV_TYPES)


def test_cov_type_constraint_knows_only_documented_names():
    assert cov_type_constraint("sandwich")[0].values == {"sandwich"}
    with pytest.raises(ValueError, match="unknown cov_type"):
        cov_type_constraint("hc3")
