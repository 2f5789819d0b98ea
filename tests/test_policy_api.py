"""The policy API for notebook users: action labels, names kept and checked, summaries
named by feature, and clear errors for inputs that used to fail deep inside numpy."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from semiparam.exceptions import DataWarning
from semiparam.policy import DPO, OSPO, PSPO, RSPO, PreferenceTable, SoftmaxPolicy
from semiparam.simulate import make_preference_data

LEARNERS = [DPO, OSPO, PSPO, RSPO]


@pytest.fixture(scope="module")
def problem():
    """k = 4 actions, d = 3 context features, not separable (as in test_policy_learners)."""
    return make_preference_data(1500, n_features=3, n_actions=4, shift=1.0, n_test=300,
                                random_state=3)


@pytest.fixture(scope="module")
def frame(problem):
    """The same pairs as a DataFrame with named contexts and string action labels."""
    t = problem.table
    names = np.array(["apple", "banana", "cherry", "date"])
    df = pd.DataFrame(t.contexts, columns=["age", "income", "tenure"])
    df["shown"], df["other"], df["won"] = names[t.action0], names[t.action1], t.label
    return df


def _table(df, **kw):
    return PreferenceTable.from_pandas(df, context_cols=["age", "income", "tenure"],
                                       action0="shown", action1="other", label="won", **kw)


# -- action labels ------------------------------------------------------------------------
def test_string_labels_are_mapped_and_kept(problem, frame):
    table = _table(frame)
    assert table.actions == ("apple", "banana", "cherry", "date")  # sorted labels
    np.testing.assert_array_equal(table.action0, problem.table.action0)
    np.testing.assert_array_equal(table.action1, problem.table.action1)
    # the fit is the integer-coded fit: labels are only names
    a = DPO().fit(table)
    b = DPO().fit(problem.table)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-12)
    assert a.actions_ == table.actions and a.policy_.actions == table.actions
    assert a.feature_names_[:2] == ["apple:1", "apple:age"]
    assert b.feature_names_[:2] == ["a0:1", "a0:x0"]


def test_declared_label_order_is_the_index_order(frame):
    order = ["date", "cherry", "banana", "apple"]
    table = _table(frame, actions=order)
    assert table.actions == tuple(order)
    np.testing.assert_array_equal(np.asarray(order)[table.action0], frame["shown"].to_numpy())


def test_categorical_and_one_based_codes():
    a0 = pd.Categorical(["lo", "mid", "hi", "lo", "hi"])
    t = PreferenceTable(contexts=None, action0=a0, action1=["mid", "hi", "lo", "hi", "mid"],
                        label=[1, 0, 1, 1, 0])
    assert t.actions == ("hi", "lo", "mid")
    t1 = PreferenceTable(contexts=None, action0=[1, 2, 3, 4], action1=[2, 3, 4, 1],
                         label=[1, 0, 1, 0], actions=[1, 2, 3, 4])
    assert t1.n_actions == 4 and t1.actions == (1, 2, 3, 4)
    np.testing.assert_array_equal(t1.action0, [0, 1, 2, 3])


def test_unseen_declared_actions_warn():
    # 1-based codes without actions=: n_actions is inferred as 5 and action 0 never occurs
    with pytest.warns(DataWarning, match=r"never occur.*\[0\].*1-based"):
        t = PreferenceTable(contexts=None, action0=[1, 2, 3, 4], action1=[2, 3, 4, 1],
                            label=[1, 0, 1, 0])
    assert t.n_actions == 5
    with pytest.warns(DataWarning, match="2 of the 4 actions never occur"):
        PreferenceTable(contexts=None, action0=["a", "b"], action1=["b", "a"], label=[1, 0],
                        actions=["a", "b", "c", "d"])


@pytest.mark.parametrize("kw, match", [
    (dict(action0=["a", "z"], action1=["b", "a"], actions=["a", "b"]), "not among the actions"),
    (dict(action0=["a", "b"], action1=["b", "a"], actions=["a", "a"]), "distinct"),
    (dict(action0=["a", None], action1=["b", "a"]), "missing"),
    (dict(action0=["a", "b"], action1=["b", "a"], actions=["a", "b"], n_actions=3),
     "n_actions = 3"),
    (dict(action0=[0.5, 1.0], action1=[1.0, 0.0]), "non-integer"),
])
def test_bad_labels(kw, match):
    with pytest.raises(ValueError, match=match):
        PreferenceTable(contexts=None, label=[1, 0], **kw)


# -- names kept by table operations ---------------------------------------------------------
def test_subset_and_randomize_order_keep_names_and_labels(frame):
    table = _table(frame)
    for derived in (table.subset(np.arange(200)), table.subset(table.label == 1),
                    table.randomize_order(random_state=0)):
        assert derived.context_names == ("age", "income", "tenure")
        assert derived.actions == table.actions
        assert derived.contexts_named
    r = table.randomize_order(random_state=0)
    flipped = r.action0 != table.action0
    assert 0.4 < flipped.mean() < 0.6
    np.testing.assert_array_equal(r.label[flipped], 1 - table.label[flipped])


# -- summaries ------------------------------------------------------------------------------
@pytest.mark.parametrize("learner", LEARNERS, ids=lambda c: c.__name__)
def test_summary_names_features_by_action_and_context(learner, frame):
    fit = learner().fit(_table(frame))
    text = str(fit.summary())
    for name in ("apple:age", "date:tenure", "cherry:1", learner.__name__):
        assert name in text
    assert "x0" not in text  # no reduced coordinates
    np.testing.assert_allclose(fit.result_.params, fit.coef_)
    assert fit.result_.names == tuple(fit.feature_names_)


def test_dpo_standard_errors_map_from_the_engine(problem):
    """cov(theta) = B V B': the engine's reduced-coordinate covariance, mapped exactly."""
    fit = DPO().fit(problem.table)
    B, V = fit.basis_, fit.estimator_.result_.cov
    np.testing.assert_allclose(fit.result_.cov, B @ V @ B.T, atol=1e-15)
    se = fit.result_.std_errors
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    # the unit-norm constraint: the covariance is singular along coef_ itself
    assert abs(fit.coef_ @ fit.result_.cov @ fit.coef_) < 1e-10 * np.trace(fit.result_.cov)


# -- SoftmaxPolicy column checks ------------------------------------------------------------
def test_policy_checks_context_columns(frame):
    fit = DPO().fit(_table(frame))
    pol = fit.policy_
    X = frame[["age", "income", "tenure"]].head(5)
    P = pol.predict_proba(X)
    np.testing.assert_allclose(P, pol.predict_proba(X.to_numpy()))  # arrays: by position
    with pytest.raises(ValueError, match="another order"):
        pol.predict_proba(X[["tenure", "age", "income"]])
    with pytest.raises(ValueError, match=r"missing \['tenure'\], unexpected \['other'\]"):
        pol.predict_proba(X.rename(columns={"tenure": "other"}))
    with pytest.raises(ValueError, match="another order"):
        pol.tilt(0.5).sample(X[["income", "age", "tenure"]])
    # a tilt, a budget and pickling keep the names
    pol2 = pickle.loads(pickle.dumps(pol.at_budget(0.2, X)))
    assert pol2.context_names == ("age", "income", "tenure")
    assert pol2.actions == ("apple", "banana", "cherry", "date")


def test_policy_shape_errors(problem):
    pol = DPO().fit(problem.table).policy_
    X = problem.test_contexts
    assert pol.n_context_features == 3
    with pytest.raises(ValueError, match="2 column.*expects 3"):
        pol.predict_proba(X[:, :2])
    with pytest.raises(ValueError, match=r"1-D.*reshape\(1, -1\)"):
        pol.predict_proba(X[0])
    with pytest.raises(ValueError, match="at least one context"):
        pol.at_budget(0.2, X[:0])
    assert pol.predict_proba(X[:0]).shape == (0, 4)


def test_policy_without_names_infers_the_width():
    from semiparam.policy import OneHotFeatures

    pol = SoftmaxPolicy(np.ones(3 * 5), features=OneHotFeatures(3))
    assert pol.n_context_features == 4 and pol.context_names is None
    with pytest.raises(ValueError, match="5 column.*expects 4"):
        pol.predict_proba(np.zeros((2, 5)))


# -- fitted state and small tables ------------------------------------------------------------
@pytest.mark.parametrize("learner", LEARNERS, ids=lambda c: c.__name__)
def test_not_fitted_errors(learner, problem):
    est = learner()
    for call in (lambda: est.predict_proba(problem.table),
                 lambda: est.decision_function(problem.table), est.summary):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize("learner", LEARNERS, ids=lambda c: c.__name__)
def test_too_small_tables_name_the_learner(learner, problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        small = problem.table.subset(np.arange(12))
    with pytest.raises(ValueError, match=f"too small for {learner.__name__}: 12 pairs.*needs at least 14"):
        learner().fit(small)


def test_decision_function_rejects_another_table_shape(problem):
    fit = DPO().fit(problem.table)
    other = make_preference_data(200, n_features=2, n_actions=4, random_state=0).table
    with pytest.raises(ValueError, match="2 context columns.*fitted with 4 and\n?.*3"):
        fit.decision_function(other)


def test_evaluation_and_decision_function_check_names(frame):
    from semiparam.policy import policy_value

    fit = DPO().fit(_table(frame))
    X = frame[["age", "income", "tenure"]].head(20)
    reward = np.zeros((20, 4))
    assert policy_value(fit.policy_, X, reward) == 0.0
    with pytest.raises(ValueError, match="another order"):
        policy_value(fit.policy_, X[["income", "age", "tenure"]], reward)
    renamed = frame.rename(columns={"age": "years"})
    other = PreferenceTable.from_pandas(renamed, context_cols=["years", "income", "tenure"],
                                        action0="shown", action1="other", label="won")
    with pytest.raises(ValueError, match="not those seen at fit"):
        fit.decision_function(other)
