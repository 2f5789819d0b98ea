"""Feature-based policies tilted from a reference, and the choice of scale by a budget.

A :class:`SoftmaxPolicy` holds a direction ``theta`` over a feature map ``phi``, a scale
``beta`` and an f-divergence.  Its action probabilities are the maximiser of
``E_pi[theta' phi] - beta D_f(pi || pi_ref)``:

    pi(a | x) = pi_ref(a | x) (f')^{-1}((theta' phi(x, a) - lambda(x)) / beta),

which for KL is the softmax ``pi_ref(a | x) exp(theta' phi(x, a) / beta) / Z(x)``.  The
fitted direction of a preference learner is identified only up to scale, so the scale is
chosen afterwards: :meth:`SoftmaxPolicy.at_budget` finds the ``beta`` whose average
divergence to the reference over a set of contexts equals a budget ``kappa``.  The
average divergence decreases monotonically in ``beta`` (from its greedy limit at
``beta -> 0`` to zero as ``beta -> inf``), so this is a 1-D root search (Brent's method on
``log beta`` inside an expanding bracket).

``beta = 0`` is the greedy limit (the reference restricted to the best-scoring actions)
and ``beta = inf`` the reference itself.
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import brentq

from ..exceptions import BudgetWarning, warn
from .divergences import get_divergence
from .features import CallableFeatures, FeatureMap, KroneckerFeatures, as_contexts
from .table import check_ref_logprobs

__all__ = ["SoftmaxPolicy", "BudgetWarning"]


class SoftmaxPolicy:
    """``pi(a | x) ∝ pi_ref(a | x) exp(theta' phi(x, a) / beta)`` and its f-divergence analogues.

    Parameters
    ----------
    coef : array-like of shape (p,)
        The direction ``theta``.
    features : FeatureMap or callable
        The feature map ``phi`` (a callable ``phi(X, actions)`` needs ``n_actions``).
    beta : float, default=1.0
        Scale (temperature): ``0`` is the greedy limit, ``inf`` the reference.
    divergence : str or FDivergence, default="kl"
        The f-divergence whose regularised optimum defines the policy (see
        :mod:`semiparam.policy.divergences`).
    reference : None, array-like of shape (k,) or callable, default=None
        ``log pi_ref(a | x)``: None is uniform; a vector is the same for every context;
        a callable maps contexts ``X`` to an (n, k) array of log-probabilities.
        Methods also accept ``ref_logprobs=`` for the contexts at hand, which overrides it.
    n_actions : int, default=None
        Needed only when ``features`` is a plain callable.
    context_names : sequence of str, default=None
        Names of the context columns the direction was fitted on.  Given (the learners
        pass them when the table's contexts came as a DataFrame), a DataFrame of
        contexts must have exactly these columns in this order.
    actions : sequence, default=None
        Labels of the actions in index order (the table's ``actions``); None is
        ``0, ..., k - 1``.  Probabilities and samples are in index order; map a sampled
        index ``a`` to its label with ``policy.actions[a]``.

    Attributes
    ----------
    coef : ndarray (p,)
    beta : float
    divergence : FDivergence
    features : FeatureMap
    n_actions : int
    context_names : tuple of str or None
    n_context_features : int or None
        Number of context columns the policy expects (from ``context_names``, or from
        ``coef`` and a one-hot/Kronecker feature map); None when it cannot be told.
    actions : tuple
    """

    def __init__(self, coef, *, features, beta: float = 1.0, divergence="kl",
                 reference=None, n_actions=None, context_names=None, actions=None):
        if not isinstance(features, FeatureMap):
            if not callable(features):
                raise ValueError(f"features must be a FeatureMap or a callable; got {features!r}.")
            if n_actions is None:
                raise ValueError("n_actions is required with a callable feature map.")
            features = CallableFeatures(features, n_actions)
        if features.n_actions is None:
            raise ValueError("The feature map has no n_actions (pass a bound FeatureMap).")
        self.features = features
        self.n_actions = int(features.n_actions)
        coef = np.asarray(coef, dtype=float).ravel()
        if not np.all(np.isfinite(coef)):
            raise ValueError("coef contains NaN or infinity.")
        self.coef = coef
        beta = float(beta)
        if np.isnan(beta) or beta < 0:
            raise ValueError(f"beta must be >= 0 (0: greedy, inf: the reference); got {beta!r}.")
        self.beta = beta
        self.divergence = get_divergence(divergence)
        if reference is not None and not callable(reference):
            reference = check_ref_logprobs(reference, 1, self.n_actions, "reference")
            if reference.ndim != 1:
                raise ValueError(
                    "A fixed reference must have shape (n_actions,); pass a callable or "
                    "ref_logprobs= for per-context references."
                )
        self.reference = reference
        self.context_names = None if context_names is None else tuple(map(str, context_names))
        self.n_context_features = self._expected_columns()
        self.actions = tuple(range(self.n_actions)) if actions is None else tuple(actions)
        if len(self.actions) != self.n_actions:
            raise ValueError(
                f"actions has {len(self.actions)} labels for {self.n_actions} actions."
            )

    def _expected_columns(self):
        if self.context_names is not None:
            return len(self.context_names)
        if isinstance(self.features, KroneckerFeatures) and self.features.context_map is None:
            # p is linear in d: solve for it (a context_map may accept any width)
            p = self.coef.shape[0]
            p0, p1 = self.features.n_features(0), self.features.n_features(1)
            if p1 > p0 and (p - p0) % (p1 - p0) == 0 and p >= p0:
                return (p - p0) // (p1 - p0)
        return None

    def validate_contexts(self, X) -> np.ndarray:
        """Contexts as a float array, checked against what the direction was fitted on.

        A DataFrame must have the fitted ``context_names`` in order (when the policy has
        them); a 1-D vector, NaN/inf or a wrong number of columns is an error that says
        what was expected.

        Returns
        -------
        ndarray of shape (n, d)
        """
        if hasattr(X, "columns"):
            cols = tuple(str(c) for c in X.columns)
            if self.context_names is not None and cols != self.context_names:
                if set(cols) == set(self.context_names):
                    raise ValueError(
                        f"The context columns are in another order than at fit: got {list(cols)}, "
                        f"expected {list(self.context_names)}. Select them in that order "
                        "(X[policy.context_names])."
                    )
                missing = [c for c in self.context_names if c not in cols]
                extra = [c for c in cols if c not in self.context_names]
                raise ValueError(
                    f"The context columns do not match those seen at fit: missing {missing}, "
                    f"unexpected {extra}."
                )
        elif X is not None and np.ndim(X) == 1:
            shape = np.shape(X)
            raise ValueError(
                f"contexts must be a 2-D array of shape (n_contexts, n_features); got a 1-D "
                f"array of shape {shape}. Use X.reshape(1, -1) for a single context"
                + (" or X.reshape(-1, 1) for one feature." if self.n_context_features != 1
                   else ".")
            )
        X = as_contexts(X)
        d = self.n_context_features
        if d is not None and X.shape[1] != d:
            raise ValueError(
                f"contexts have {X.shape[1]} column(s) but the policy expects {d}"
                + (f" ({', '.join(self.context_names)})." if self.context_names else ".")
            )
        return X

    # -- pieces ---------------------------------------------------------------------
    def scores(self, X) -> np.ndarray:
        """``theta' phi(x, a)``, shape (n, k)."""
        return self.features.scores(self.validate_contexts(X), self.coef)

    def reference_logprobs(self, X, ref_logprobs=None) -> np.ndarray:
        """``log pi_ref(a | x)`` for the contexts ``X``, shape (n, k)."""
        n, k = self.validate_contexts(X).shape[0], self.n_actions
        if ref_logprobs is None:
            ref = self.reference
            if ref is None:
                return np.full((n, k), -np.log(k))
            if callable(ref):
                ref_logprobs = ref(X)
            else:
                return np.broadcast_to(ref, (n, k)).copy()
        r = check_ref_logprobs(ref_logprobs, n, k)
        return np.broadcast_to(r, (n, k)).copy()

    def _proba(self, X, ref_logprobs, beta, div):
        q = np.exp(self.reference_logprobs(X, ref_logprobs))
        if np.isinf(beta):
            return q
        return div.optimal_policy(self.scores(X), q, beta)

    # -- public API -----------------------------------------------------------------
    def predict_proba(self, X, ref_logprobs=None) -> np.ndarray:
        """Action probabilities ``pi(a | x)``, shape (n_contexts, n_actions).

        Parameters
        ----------
        X : array-like of shape (n, d)
            Contexts.
        ref_logprobs : array-like of shape (k,) or (n, k), default=None
            Reference for these contexts (overrides the policy's ``reference``).

        Returns
        -------
        ndarray of shape (n, k)
        """
        return self._proba(X, ref_logprobs, self.beta, self.divergence)

    def log_proba(self, X, ref_logprobs=None) -> np.ndarray:
        """``log pi(a | x)``, shape (n, k); ``-inf`` where the policy puts no mass."""
        if self.divergence.name == "kl" and 0 < self.beta < np.inf:
            logits = self.reference_logprobs(X, ref_logprobs) + self.scores(X) / self.beta
            m = logits.max(axis=1, keepdims=True)
            return logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, ref_logprobs))

    def sample(self, X, random_state=None, ref_logprobs=None) -> np.ndarray:
        """Draw one action per context from the policy.

        Returns
        -------
        ndarray of int, shape (n,)
        """
        P = self.predict_proba(X, ref_logprobs)
        if not np.all(np.isfinite(P)):
            raise FloatingPointError("The action probabilities are not finite; cannot sample.")
        rng = np.random.default_rng(random_state)
        cum = np.cumsum(P, axis=1)
        u = rng.random(P.shape[0]) * cum[:, -1]
        a = (cum <= u[:, None]).sum(axis=1)  # first action whose cumulative mass exceeds u
        a = np.minimum(a, self.n_actions - 1)
        # never an action without mass (u at a boundary, or rounding in the last column)
        zero = P[np.arange(P.shape[0]), a] <= 0
        if zero.any():
            a[zero] = np.argmax(P[zero], axis=1)
        return a

    def tilt(self, beta: float, divergence=None) -> "SoftmaxPolicy":
        """The member of the family with scale ``beta`` (and optionally another divergence).

        For KL, ``pi_beta ∝ pi_ref^(1 - 1/beta) pi_theta^(1/beta)`` with ``pi_theta`` the
        policy at ``beta = 1``.
        """
        return SoftmaxPolicy(
            self.coef, features=self.features, beta=beta,
            divergence=self.divergence if divergence is None else divergence,
            reference=self.reference, context_names=self.context_names, actions=self.actions,
        )

    def mean_divergence(self, X, divergence=None, ref_logprobs=None) -> float:
        """Average over contexts ``X`` of ``D_f(pi(. | x) || pi_ref(. | x))``.

        ``divergence`` (default: the policy's own) is the f-divergence measured.
        """
        div = self.divergence if divergence is None else get_divergence(divergence)
        q = np.exp(self.reference_logprobs(X, ref_logprobs))
        return float(np.mean(div.divergence(self.predict_proba(X, ref_logprobs), q)))

    def at_budget(self, kappa: float, X, divergence="kl", ref_logprobs=None) -> "SoftmaxPolicy":
        """The tilt whose average divergence to the reference over ``X`` equals ``kappa``.

        Parameters
        ----------
        kappa : float
            Budget, ``kappa >= 0``.
        X : array-like of shape (n, d)
            Contexts over which the divergence is averaged.
        divergence : str or FDivergence, default="kl"
            Defines both the family of tilts and the divergence measured.
        ref_logprobs : array-like of shape (k,) or (n, k), default=None

        Returns
        -------
        SoftmaxPolicy
            With ``beta`` solved to relative precision 1e-12 (Brent's method on
            ``log beta``).  If ``kappa`` is at least the greedy limit's divergence, a
            :class:`BudgetWarning` says so and the greedy policy (``beta = 0``) comes back;
            if the direction is flat (the same score for every action in every context)
            every tilt is the reference: a warning, and ``beta = inf``.
        """
        kappa = float(kappa)
        if not np.isfinite(kappa) or kappa < 0:
            raise ValueError(f"kappa must be a finite number >= 0; got {kappa!r}.")
        div = get_divergence(divergence)
        X = self.validate_contexts(X)
        if X.shape[0] == 0:
            raise ValueError(
                "at_budget needs at least one context: the budget is an average divergence "
                "over the contexts X, and X has no rows."
            )
        q = np.exp(self.reference_logprobs(X, ref_logprobs))
        S = self.scores(X)
        masked = np.where(q > 0, S, np.nan)
        spread = np.nanmax(masked, axis=1) - np.nanmin(masked, axis=1)
        width = float(np.mean(spread))
        if kappa == 0:
            return self.tilt(np.inf, div)
        if not np.isfinite(width) or width <= 1e-12 * max(1.0, float(np.abs(S).max())):
            warn(
                "The direction is flat (every action gets the same score in every context): "
                "every tilt equals the reference, whose divergence is 0 < kappa. Returning "
                "the reference.", BudgetWarning
            )
            return self.tilt(np.inf, div)

        def gap(log_beta):
            P = div.optimal_policy(S, q, float(np.exp(log_beta)))
            return float(np.mean(div.divergence(P, q))) - kappa

        top = float(np.mean(div.divergence(div.optimal_policy(S, q, 0.0), q)))
        if kappa >= top * (1.0 - 1e-9):
            warn(
                f"The budget kappa = {kappa:.4g} is beyond reach: the greedy limit of this "
                f"direction has average {div.name} divergence {top:.4g}. Returning the "
                "greedy policy (beta = 0).", BudgetWarning
            )
            return self.tilt(0.0, div)
        lo = hi = np.log(width)
        while gap(hi) > 0:  # divergence too large: raise beta
            lo, hi = hi, hi + np.log(10.0)
        # smallest scale tried: 1e-290 of the score spread, never below 1e-300 (divergences
        # unbounded as beta -> 0, such as reverse KL, reach a few hundred nats there)
        floor = max(np.log(width) - 290 * np.log(10.0), np.log(1e-300))
        while True:  # divergence too small: lower beta
            g = gap(lo)
            if not np.isfinite(g):  # the tilt underflowed: back off to the last finite one
                lo = hi
                break
            if g >= 0:
                break
            if lo <= floor:
                break
            hi, lo = lo, max(lo - np.log(10.0), floor)
        g = gap(lo)
        if g < 0 or not np.isfinite(g):  # numerically greedy yet still short of kappa
            if np.isfinite(top):
                warn(
                    f"The budget kappa = {kappa:.4g} is numerically at the greedy limit "
                    f"({top:.4g}); returning the greedy policy.", BudgetWarning
                )
                return self.tilt(0.0, div)
            beta = float(np.exp(lo))
            reached = kappa + (g if np.isfinite(g) else gap(hi))
            warn(
                f"The budget kappa = {kappa:.4g} is beyond numerical reach: the {div.name} "
                f"divergence grows without bound as beta -> 0, but at the smallest usable "
                f"scale beta = {beta:.3g} it is {reached:.4g}. Returning that policy (its "
                "divergence is below the budget).", BudgetWarning,
            )
            return self.tilt(beta, div)
        if gap(lo) == 0:
            return self.tilt(float(np.exp(lo)), div)
        log_beta = brentq(gap, lo, hi, xtol=1e-13, rtol=1e-13, maxiter=500)
        return self.tilt(float(np.exp(log_beta)), div)

    def __repr__(self) -> str:
        return (
            f"SoftmaxPolicy(p={self.coef.shape[0]}, n_actions={self.n_actions}, "
            f"beta={self.beta:.6g}, divergence={self.divergence!r}, features={self.features!r})"
        )
