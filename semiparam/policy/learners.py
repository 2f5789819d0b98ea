"""Policy learners on preference tables: DPO, PSPO, OSPO, RSPO.

Each learner is a thin adapter: it forms the difference design
``D = phi(x, a1) - phi(x, a0)`` of the table (:mod:`semiparam.policy.features`),
reparametrises it on an orthonormal basis ``B`` of its row space (the identified
directions: with one-hot features adding the same vector to every action's block
changes no difference, so ``D`` itself is rank deficient), fits a single-index direction
``gamma`` on ``D B`` (no intercept), and maps it back, ``theta = B gamma`` (unit norm,
because ``B`` is orthonormal).  The fitted :class:`~semiparam.policy.SoftmaxPolicy`
``policy_`` has that direction and ``beta = 1``; its scale is chosen afterwards by a
divergence budget (``policy_.at_budget(kappa, X)``).

The reference does not enter the index: for ``pi_theta ∝ pi_ref exp(theta' phi)`` the
margin ``log pi/pi_ref (a1) - log pi/pi_ref (a0) = theta' D`` whatever ``pi_ref`` is, so
no offset is needed; the table's reference is handed on to the policy.

==========  ==================================================================  =============================
learner     direction                                                           engine
==========  ==================================================================  =============================
``DPO``     logistic maximum likelihood (Bradley-Terry)                         :class:`~semiparam.index.LogitIndexClassifier`
``RSPO``    logistic pairwise ranking loss on the swap-augmented table          :class:`~semiparam.index.PairwiseRankingClassifier`
``OSPO``    root of the efficient (orthogonal) score, leave-one-out kernel      :class:`~semiparam.index.KernelScoreIndexClassifier`
            link                                                                (from the DPO direction)
``PSPO``    root of the efficient score with the isotonic (PAVA) link          :class:`~semiparam.index.IsotonicIndexClassifier`
==========  ==================================================================  =============================

Separation.  When a linear index orders every pair correctly (the paper's default scale,
``n = 1000``), the logistic and ranking losses have no minimiser and any monotone link
fits the labels perfectly (a step at zero), so no link is identified either.  DPO and RSPO
then warn (:class:`~semiparam.exceptions.SeparationWarning`) and fit with the ridge
penalty ``|coef|^2 / (2 C)`` (``C = 1``: scikit-learn's convention on the summed loss);
OSPO and PSPO warn and stop at that ridge-regularised DPO start (``n_iter_ = 0``,
``separated_ = True``).  Pass ``penalty="l2"`` to choose the ridge yourself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._threads import single_blas_thread
from .._validation import Callable, InstanceOf, Interval, NoneOK, Options, validate_params
from ..index.predictions import floor_probability, log_odds
from ..index.results import cov_type_constraint
from ..links.kernel import KERNEL_NAMES
from ..index.separation import warn_separation
from .features import FeatureMap, OneHotFeatures, identified_basis, resolve_features
from .softmax import SoftmaxPolicy
from .table import PreferenceTable

__all__ = ["DPO", "PSPO", "OSPO", "RSPO"]


class _PerContextReference:
    """Stands in for a reference given per training row: it cannot be extrapolated."""

    def __call__(self, X):
        raise ValueError(
            "The table's reference log-probabilities were given per pair, so the policy has "
            "no reference for new contexts: pass ref_logprobs= (shape (n, k)) for them."
        )


class _BaseLearner(BaseEstimator, ABC):
    """Shared ``fit(table)``: design, identified basis, direction, policy."""

    _parameter_constraints: dict = {
        "features": [NoneOK(), InstanceOf(FeatureMap), Callable()],
    }

    def fit(self, table):
        """Fit the policy direction on a preference table.

        Parameters
        ----------
        table : PreferenceTable

        Returns
        -------
        self

        Notes
        -----
        Row weights are relative: they are scaled to mean one over the pairs with
        positive weight before fitting, so multiplying all of them by a constant (even
        1e-200 or 1e200) changes nothing; the ridge penalties act on a loss summed over
        pairs as if every weight were one on average.  The fit runs with one BLAS thread
        (:mod:`semiparam._threads`).
        """
        with single_blas_thread():
            return self._fit_table(table)

    def _fit_table(self, table):
        validate_params(self)
        name = type(self).__name__
        if not isinstance(table, PreferenceTable):
            raise ValueError(
                f"{name}.fit expects a PreferenceTable; got {type(table).__name__}. Build "
                "one with PreferenceTable(...) or PreferenceTable.from_pandas(...)."
            )
        z = table.label
        w = table.weights
        positive = w > 0
        w = w / w.max()  # relative weights: scale-free, and no overflow in the mean below
        w = np.where(positive, w / np.mean(w[positive]), 0.0)
        if np.unique(z[positive]).size < 2:
            raise ValueError(
                "Every pair has the same label: a single-index fit needs both outcomes. For "
                "(chosen, rejected) data use table.randomize_order(random_state) first."
            )
        fm = resolve_features(self.features, table)
        ctx, a0, a1 = table.contexts, table.action0, table.action1
        B = identified_basis(None, gram=fm.difference_gram(ctx, a0, a1, w))
        if B.shape[1] == 0:
            raise ValueError(
                "The difference design is zero: phi(x, a1) = phi(x, a0) for every pair, so "
                "no direction can be learned (check the feature map)."
            )
        n_used, r = int(np.count_nonzero(positive)), B.shape[1]
        minority = int(min(np.sum(positive & (z == 1)), np.sum(positive & (z == 0))))
        if n_used < max(r + 2, self._min_pairs) or minority < 2:
            raise ValueError(
                f"The table is too small for {name}: {n_used} pairs with positive weight "
                f"({minority} in the rarer label) for {r} identified directions of the "
                f"feature map; {name} needs at least {max(r + 2, self._min_pairs)} pairs and "
                "two of each label. Collect more pairs or use fewer features "
                "(e.g. OneHotFeatures(intercept=False), or fewer context columns)."
            )
        X = fm.difference_times(ctx, a0, a1, B)  # D @ B, without D where the map allows
        gamma = np.asarray(self._fit_direction(X, z, w), dtype=float)
        gamma = gamma / np.linalg.norm(gamma)
        self.features_ = fm
        self.basis_ = B
        self.coef_ = B @ gamma
        if isinstance(fm, OneHotFeatures):
            labelled = table.actions != tuple(range(table.n_actions))
            self.feature_names_ = fm.feature_names(table.context_names,
                                                   table.actions if labelled else None)
        else:
            self.feature_names_ = fm.feature_names(table.context_names)
        self.context_names_ = tuple(table.context_names)
        self.actions_ = tuple(table.actions)
        self.n_pairs_ = len(table)
        ref = table.ref_logprobs
        reference = _PerContextReference() if (ref is not None and ref.ndim == 2) else ref
        self.policy_ = SoftmaxPolicy(
            self.coef_, features=fm, reference=reference, actions=table.actions,
            context_names=table.context_names if table.contexts_named else None,
        )
        self.result_ = self._result()
        return self

    #: fewest pairs a learner accepts (besides one more than the identified directions)
    _min_pairs = 10

    def _result(self):
        """The direction in the feature map's coordinates, with its covariance if any.

        The estimator's covariance ``V`` of ``gamma`` (reduced coordinates) maps exactly
        to ``B V B'`` for ``theta = B gamma``.
        """
        from ..index import IndexResult

        est_result = getattr(getattr(self, "estimator_", None), "result_", None)
        cov, cov_type, llf = None, "none", None
        if est_result is not None and getattr(self, "separated_", False) is not True:
            V = getattr(est_result, "cov", None)
            if V is not None:
                V = np.asarray(V, dtype=float)
                cov = self.basis_ @ V @ self.basis_.T
                cov_type = str(getattr(est_result, "cov_type", "none"))
            llf = getattr(est_result, "llf", None)
        info = {"Actions": len(self.actions_), "Identified dims": self.basis_.shape[1]}
        if getattr(self, "separated_", None) is not None:
            info["Separated"] = bool(self.separated_)
        return IndexResult(
            params=self.coef_, cov=cov, names=tuple(self.feature_names_), nobs=self.n_pairs_,
            model=type(self).__name__, llf=llf, converged=bool(getattr(self, "converged_", True)),
            cov_type=cov_type, info=info, link_estimated=not isinstance(self, DPO),
        )

    def summary(self, alpha: float = 0.05):
        """The fitted direction named by feature (action and context column).

        Coefficients are ``coef_`` (unit norm, in the feature map's coordinates), with
        standard errors where the engine gives a covariance (DPO; PSPO and OSPO with
        ``cov_type``), mapped from the identified coordinates.

        Returns
        -------
        statsmodels ``Summary``
            Text via ``print`` or ``as_text()``, HTML via ``as_html()``.
        """
        check_is_fitted(self, "coef_")
        return self.result_.summary(alpha=alpha)

    @abstractmethod
    def _fit_direction(self, X, z, w):
        """Fit on the reduced design; set the diagnostics; return the direction."""

    def index(self, table) -> np.ndarray:
        """The fitted index ``t = coef_' (phi(x, a1) - phi(x, a0))`` of each pair."""
        check_is_fitted(self, "coef_")
        if not isinstance(table, PreferenceTable):
            raise ValueError(f"Expected a PreferenceTable; got {type(table).__name__}.")
        if table.n_actions != len(self.actions_) or table.contexts.shape[1] != len(self.context_names_):
            raise ValueError(
                f"The table has {table.n_actions} actions and {table.contexts.shape[1]} "
                f"context columns; the learner was fitted with {len(self.actions_)} and "
                f"{len(self.context_names_)}."
            )
        if (table.contexts_named and self.policy_.context_names is not None
                and tuple(table.context_names) != self.policy_.context_names):
            raise ValueError(
                f"The table's context columns {list(table.context_names)} are not those seen "
                f"at fit, {list(self.policy_.context_names)} (same names, same order)."
            )
        return self.features_.difference(table.contexts, table.action0, table.action1) @ self.coef_

    def _proba1(self, table):
        check_is_fitted(self, "coef_")
        return floor_probability(self.link_(self.index(table)))

    def decision_function(self, table) -> np.ndarray:
        """Log-odds of ``P(a1 preferred)`` (:mod:`semiparam.index.predictions`); the index
        itself is :meth:`index`."""
        return log_odds(self._proba1(table))

    def predict_proba(self, table) -> np.ndarray:
        """``[P(a0 preferred), P(a1 preferred)]`` under the fitted link, shape (n, 2), inside
        ``[PROBA_FLOOR, 1 - PROBA_FLOOR]``."""
        check_is_fitted(self, "coef_")
        p = self._proba1(table)
        return np.column_stack([1.0 - p, p])


class DPO(_BaseLearner):
    """Direct preference optimisation: logistic (Bradley-Terry) link, maximum likelihood.

    The logistic regression of the label on the difference design without an intercept
    (:class:`~semiparam.index.LogitIndexClassifier`).  Correct when the link is logistic
    (of any scale); biased when it is not.

    Parameters
    ----------
    features : None, FeatureMap or callable, default=None
        The feature map ``phi`` (default: one-hot actions times ``[1, x]``).
    penalty : {None, "l2"}, default=None
        ``"l2"``: ridge ``|coef|^2 / (2 C)`` on the summed log-likelihood.
    C : float, default=1.0
        Inverse ridge strength (also the fallback under separation).
    separation : {"warn", "silent", "raise"}, default="warn"
        Separated pairs (no MLE): ridge refit with or without a warning, or an error.
    max_iter : int, default=100
        Newton iterations.

    Attributes
    ----------
    coef_ : ndarray (p,)
        Unit-norm direction in the feature map's coordinates.
    scale_ : float
        Norm of the maximum-likelihood coefficients (DPO's own scale).
    policy_ : SoftmaxPolicy
    estimator_ : LogitIndexClassifier
        The fitted index estimator (on the reduced design ``D @ basis_``).
    link_ : link object
        Fitted logistic link on the normalised index.
    separated_ : bool or None
    converged_ : bool
    n_iter_ : int
    basis_ : ndarray (p, r)
        Orthonormal basis of the identified directions.
    features_ : FeatureMap
    feature_names_ : list of str
        ``"<action>:<context column>"`` for one-hot features (the table's action labels
        and context names).
    context_names_ : tuple of str
    actions_ : tuple
        The table's action labels in index order.
    result_ : IndexResult
        ``coef_`` named by ``feature_names_``, with its covariance ``B V B'`` mapped from
        the engine's covariance ``V`` in the identified coordinates (None where the
        engine has none); ``summary()`` prints it.
    n_pairs_ : int
    """

    _parameter_constraints: dict = {
        **_BaseLearner._parameter_constraints,
        "penalty": [NoneOK(), Options({"l2"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "separation": [Options({"warn", "silent", "raise"})],
        "max_iter": [Interval(Integral, 1, None)],
    }

    def __init__(self, *, features=None, penalty=None, C=1.0, separation="warn", max_iter=100):
        self.features = features
        self.penalty = penalty
        self.C = C
        self.separation = separation
        self.max_iter = max_iter

    def _fit_direction(self, X, z, w):
        from ..index import LogitIndexClassifier

        est = LogitIndexClassifier(penalty=self.penalty, C=self.C, separation=self.separation,
                                   max_iter=self.max_iter)
        est.fit(X, z, sample_weight=w)
        self.estimator_ = est
        self.scale_ = float(est.scale_)
        self.link_ = est.link_
        self.separated_ = est.separated_
        self.converged_ = bool(est.converged_)
        self.n_iter_ = int(est.n_iter_)
        return est.coef_


class RSPO(_BaseLearner):
    """Ranking-based preference optimisation: link-free pairwise ranking surrogate.

    Minimises ``mean_{(i, j)} softplus(-(m_i + m_j))`` over pairs of pairs, ``m`` the
    signed margin: the bipartite logistic ranking loss of the swap-augmented table
    ``[D; -D]``, ``[z; 1 - z]``
    (:class:`~semiparam.index.PairwiseRankingClassifier`).  A monotone link makes the
    true index maximise the AUC whatever the link is.

    Parameters
    ----------
    features : None, FeatureMap or callable, default=None
    n_pairs : int, "auto" or "all", default="auto"
        Pairs of pairs in the loss: all of them while there are at most
        ``min(50 n, 10^7)``, else that many drawn once (an incomplete U-statistic).
    penalty : {None, "l2"}, default=None
    C : float, default=1.0
        Inverse ridge strength (also the fallback under separation).
    separation : {"warn", "silent", "raise"}, default="warn"
    random_state : int, Generator or None, default=0
        Seeds the sample of pairs.

    Attributes
    ----------
    coef_, policy_, basis_, features_, feature_names_, context_names_, actions_, result_, n_pairs_
        As for :class:`DPO`.
    estimator_ : PairwiseRankingClassifier
    link_ : link object
        Isotonic link fitted on the augmented table at the fitted index.
    separated_ : bool or None
    converged_ : bool
    n_iter_ : int
    """

    _parameter_constraints: dict = {
        **_BaseLearner._parameter_constraints,
        "n_pairs": [Interval(Integral, 1, None), Options({"auto", "all"})],
        "penalty": [NoneOK(), Options({"l2"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "separation": [Options({"warn", "silent", "raise"})],
        "random_state": [NoneOK(), InstanceOf(Integral, np.random.Generator)],
    }

    def __init__(self, *, features=None, n_pairs="auto", penalty=None, C=1.0,
                 separation="warn", random_state=0):
        self.features = features
        self.n_pairs = n_pairs
        self.penalty = penalty
        self.C = C
        self.separation = separation
        self.random_state = random_state

    def _fit_direction(self, X, z, w):
        from ..index import PairwiseRankingClassifier

        est = PairwiseRankingClassifier(n_pairs=self.n_pairs, penalty=self.penalty, C=self.C,
                                        separation=self.separation,
                                        random_state=self.random_state)
        est.fit(np.vstack([X, -X]), np.r_[z, 1 - z], sample_weight=np.r_[w, w])
        self.estimator_ = est
        self.link_ = est.link_
        self.separated_ = est.separated_
        self.converged_ = bool(est.converged_)
        self.n_iter_ = int(est.n_iter_)
        return est.coef_


def _logit_start(X, z, w, C, name):
    """DPO fit used as start (OSPO) or separation check (PSPO); warns when separated."""
    from ..index import LogitIndexClassifier

    start = LogitIndexClassifier(C=C, separation="silent").fit(X, z, sample_weight=w)
    if start.separated_:
        warn_separation(
            name, start.separation_kind_,
            "neither the direction's scale nor the link is identified (any monotone link "
            "fits the labels with a step at 0). Stopping at the ridge-regularised DPO start "
            f"(C = {C:g}); the ranking of actions it gives is DPO's.", units="pairs")
    return start


class OSPO(_BaseLearner):
    """Orthogonalized semiparametric preference optimisation (Klein-Spady type).

    The direction solves the efficient (orthogonal) score equation of the single-index
    model with the link estimated by leave-one-out kernel regression; first-order error
    in the link estimate does not move it
    (:class:`~semiparam.index.KernelScoreIndexClassifier`: Fisher scoring from the DPO
    direction, the nuisances re-estimated in a few pilot iterations and then held fixed;
    unit-free, so the policy does not depend on the units of the contexts).

    Parameters
    ----------
    features : None, FeatureMap or callable, default=None
    kernel : {"gaussian", "epanechnikov", "biweight", "triweight"}, default="gaussian"
    bandwidth : float, default=1.0
        ``c`` in ``h = c * min(sd(t), IQR(t)/1.349) * n^(-1/5)``.
    clip : float, default=1e-3
        Link estimates are clipped to ``[clip, 1 - clip]``.
    C : float, default=1.0
        Ridge of the DPO start when the pairs are separable.
    max_iter : int, default=50
        Scoring iterations (0: stop at the DPO start).
    tol : float, default=0.01
        Convergence when the Newton decrement per direction of a scoring step is below
        ``tol`` (the remaining step is then about 0.1 standard error per direction).
    cov_type : {None, "sandwich", "bootstrap"}, default=None
        Covariance of the direction in ``estimator_.result_`` (reduced coordinates),
        mapped to ``result_``.

    Attributes
    ----------
    coef_, policy_, basis_, features_, feature_names_, context_names_, actions_, result_, n_pairs_
        As for :class:`DPO`.
    start_estimator_ : LogitIndexClassifier
        The DPO start.
    estimator_ : KernelScoreIndexClassifier or LogitIndexClassifier
        The fitted index estimator on ``D @ basis_`` (the ridge DPO start when the pairs
        are separable).
    link_ : link object
        The estimator's prediction link on the fitted index.
    bandwidth_ : float
        Bandwidth of the score's kernel link (units of the fitted index).
    step_norms_ : tuple of float
        Size (radians, whitened coordinates) of each scoring step.
    decrements_ : tuple of float
        Newton decrement per direction of each step (squared step in standard errors).
    n_iter_, converged_, separated_
    """

    _parameter_constraints: dict = {
        **_BaseLearner._parameter_constraints,
        "kernel": [Options(set(KERNEL_NAMES))],
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
        "clip": [Interval(Real, 0, 0.5, closed="neither")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 0, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "cov_type": [NoneOK(), Options({"sandwich", "bootstrap"})],
    }

    def __init__(self, *, features=None, kernel="gaussian", bandwidth=1.0, clip=1e-3, C=1.0,
                 max_iter=50, tol=0.01, cov_type=None):
        self.features = features
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.clip = clip
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    def _fit_direction(self, X, z, w):
        from ..index import KernelScoreIndexClassifier
        from ..links import KernelLink
        from ..stats import robust_spread

        start = _logit_start(X, z, w, self.C, type(self).__name__)
        self.start_estimator_ = start
        self.separated_ = bool(start.separated_)
        if self.separated_:
            est = start
            self.n_iter_, self.converged_ = 0, True
            self.step_norms_, self.decrements_ = (), ()
            t = X @ est.coef_
            self.bandwidth_ = float(self.bandwidth * robust_spread(t, w)
                                   * np.count_nonzero(w > 0) ** -0.2)
            self.link_ = KernelLink(kernel=self.kernel, bandwidth=self.bandwidth_,
                                    prior_weight=1.0, monotone=True).fit(t, z, sample_weight=w)
        else:
            est = KernelScoreIndexClassifier(
                kernel=self.kernel, bandwidth_factor=self.bandwidth, clip=self.clip,
                start=start.coef_, max_iter=self.max_iter, tol=self.tol,
                cov_type=self.cov_type)
            est.fit(X, z, sample_weight=w)
            self.n_iter_, self.converged_ = int(est.n_iter_), bool(est.converged_)
            self.step_norms_, self.decrements_ = est.step_norms_, est.decrements_
            self.bandwidth_ = est.bandwidth_
            self.link_ = est.link_
        self.estimator_ = est
        return est.coef_


class PSPO(_BaseLearner):
    """Profiled semiparametric preference optimisation (Cosslett type).

    The link is profiled out by isotonic regression (PAVA) of the label on the index --
    the nonparametric maximum-likelihood monotone link -- and the direction solves the
    efficient score equation with that link, smoothed for its derivative
    (:class:`~semiparam.index.IsotonicIndexClassifier`, ``method="efficient"``: Fisher
    scoring from a logit start, pilot then frozen weights).  Monotonicity makes it the
    most robust of the semiparametric learners when parts of the design are weakly
    identified (``docs/policy.md``).

    Parameters
    ----------
    features : None, FeatureMap or callable, default=None
    method : {"efficient", "simple"}, default="efficient"
        Weights of the score equation (see ``IsotonicIndexClassifier``).
    bandwidth_factor : float, default=0.5
        Bandwidth factor of the smoothed link derivative.
    clip : float, default=1e-4
        The isotonic link is clipped to ``[clip, 1 - clip]``.
    C : float, default=1.0
        Ridge of the DPO fit that checks for separation (and is returned under it).
    max_iter : int, default=30
    tol : float, default=0.05
        Newton decrement per direction at which the scoring stops.
    cov_type : {None, "sandwich", "bootstrap"}, default=None
        Covariance of the direction in ``estimator_.result_`` (reduced coordinates).

    Attributes
    ----------
    coef_, policy_, basis_, features_, feature_names_, context_names_, actions_, result_, n_pairs_
        As for :class:`DPO`.
    estimator_ : IsotonicIndexClassifier or LogitIndexClassifier
        The fitted index estimator on ``D @ basis_`` (the ridge DPO fit when the pairs
        are separable).
    link_ : IsotonicLink
        The isotonic link at the fitted index (scikit-learn's ``IsotonicRegression``
        there, clipped).
    n_iter_, converged_, separated_
    """

    _parameter_constraints: dict = {
        **_BaseLearner._parameter_constraints,
        "method": [Options({"efficient", "simple"})],
        "bandwidth_factor": [Interval(Real, 0, None, closed="neither")],
        "clip": [Interval(Real, 0, 0.5, closed="neither")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "cov_type": cov_type_constraint("sandwich", "bootstrap"),
    }

    def __init__(self, *, features=None, method="efficient", bandwidth_factor=0.5, clip=1e-4,
                 C=1.0, max_iter=30, tol=0.05, cov_type=None):
        self.features = features
        self.method = method
        self.bandwidth_factor = bandwidth_factor
        self.clip = clip
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    def _fit_direction(self, X, z, w):
        from ..index import IsotonicIndexClassifier
        from ..links.isotonic import IsotonicLink

        check = _logit_start(X, z, w, self.C, type(self).__name__)
        self.separated_ = bool(check.separated_)
        if self.separated_:
            est = check
            self.n_iter_, self.converged_ = 0, True
            t = X @ est.coef_
            self.link_ = IsotonicLink(clip=self.clip).fit(t, z, sample_weight=w)
        else:
            est = IsotonicIndexClassifier(method=self.method,
                                          bandwidth_factor=self.bandwidth_factor,
                                          clip=self.clip, max_iter=self.max_iter,
                                          tol=self.tol, cov_type=self.cov_type)
            est.fit(X, z, sample_weight=w)
            self.n_iter_, self.converged_ = int(est.n_iter_), bool(est.converged_)
            self.link_ = est.link_
        self.estimator_ = est
        return est.coef_
