"""Feature maps ``phi(x, a)`` and the difference design of a preference table.

A feature-based policy scores action ``a`` in context ``x`` by ``theta' phi(x, a)``.  The
preference index of a pair is then linear in ``theta``:
``t = theta' (phi(x, a1) - phi(x, a0)) = theta' D``, so the difference design ``D``
(:func:`difference_design`) is the one place where a preference table meets the
single-index estimators of :mod:`semiparam.index`.

Maps
----
:class:`OneHotFeatures`
    The default: ``phi(x, a) = e_a (x) [1, x]`` (one block of coefficients per action;
    ``intercept=False`` drops the per-action constant).
:class:`KroneckerFeatures`
    Actions with feature vectors ``v_a`` (embeddings): ``phi(x, a) = v_a (x) [1, x]``.
:class:`CallableFeatures`
    A user function ``phi(X, actions) -> (n, p)``.

:func:`identified_basis` returns an orthonormal basis of the directions the data can
identify: with one-hot features, adding the same vector to every action's block leaves
every difference (and the policy) unchanged, so ``D`` is rank deficient.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = [
    "FeatureMap",
    "KroneckerFeatures",
    "OneHotFeatures",
    "CallableFeatures",
    "resolve_features",
    "difference_design",
    "identified_basis",
]


def as_contexts(X) -> np.ndarray:
    if X is None:
        raise ValueError("contexts are required (use an array with zero columns for none).")
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"contexts must be a 2-D feature matrix; got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("contexts contain NaN or infinity.")
    return X


class FeatureMap(ABC):
    """A joint feature map ``phi(x, a)`` of a context and one of ``n_actions`` actions."""

    n_actions: int | None = None

    @abstractmethod
    def transform(self, X, actions) -> np.ndarray:
        """Features ``phi(x_i, a_i)`` of each row, shape (n, p)."""

    @abstractmethod
    def n_features(self, n_context_features: int) -> int:
        """Length ``p`` of ``phi`` for contexts with the given number of columns."""

    def difference(self, X, action0, action1) -> np.ndarray:
        """Rows of ``phi(x, a1) - phi(x, a0)``, shape (n, p)."""
        return self.transform(X, action1) - self.transform(X, action0)

    def difference_gram(self, X, action0, action1, sample_weight) -> np.ndarray:
        """``D' W D / sum(w)`` of the difference design ``D`` (shape (p, p)); a map with
        structure computes it without forming ``D``."""
        return weighted_gram(self.difference(X, action0, action1), sample_weight)

    def difference_times(self, X, action0, action1, B) -> np.ndarray:
        """``D @ B`` for the difference design ``D`` and a (p, r) matrix ``B``."""
        return self.difference(X, action0, action1) @ B

    def scores(self, X, coef) -> np.ndarray:
        """``theta' phi(x, a)`` for every context and action, shape (n, k)."""
        X = as_contexts(X)
        coef = self._check_coef(coef, X.shape[1])
        n = X.shape[0]
        return np.column_stack(
            [self.transform(X, np.full(n, a)) @ coef for a in range(self.n_actions)]
        )

    def feature_names(self, context_names) -> list:
        """Names of the ``p`` features."""
        return [f"phi{j}" for j in range(self.n_features(len(context_names)))]

    def _check_coef(self, coef, d) -> np.ndarray:
        coef = np.asarray(coef, dtype=float).ravel()
        p = self.n_features(d)
        if coef.shape[0] != p:
            raise ValueError(
                f"coef has {coef.shape[0]} entries but the feature map has {p} features for "
                f"contexts with {d} columns."
            )
        return coef


class KroneckerFeatures(FeatureMap):
    """``phi(x, a) = v_a (x) [1, x]``: action vectors interacted with contexts.

    Parameters
    ----------
    action_vectors : array-like of shape (k, q)
        Feature vector ``v_a`` of each action.
    intercept : bool, default=True
        Prepend a constant to the context features (so ``theta`` can shift each action's
        score independently of ``x``).
    context_map : callable, default=None
        A fixed map ``psi(X) -> (n, m)`` of the contexts: ``phi(x, a) = v_a (x) [1, psi(x)]``
        (e.g. random or pretrained features).  None is the identity.

    Notes
    -----
    Coefficients are laid out as a ``(q, m)`` matrix ``Theta`` flattened row by row
    (``m = d + intercept``), so that ``theta' phi(x, a) = v_a' Theta [1, x]``.
    """

    def __init__(self, action_vectors, *, intercept: bool = True, context_map=None):
        V = np.asarray(action_vectors, dtype=float)
        if V.ndim == 1:
            V = V[:, None]
        if V.ndim != 2 or V.shape[0] < 2:
            raise ValueError(
                f"action_vectors must have shape (n_actions >= 2, q); got {V.shape}."
            )
        if not np.all(np.isfinite(V)):
            raise ValueError("action_vectors contain NaN or infinity.")
        if context_map is not None and not callable(context_map):
            raise ValueError(f"context_map must be callable; got {context_map!r}.")
        self.action_vectors = V
        self.n_actions = V.shape[0]
        self.intercept = bool(intercept)
        self.context_map = context_map

    def _mapped(self, X) -> np.ndarray:
        X = as_contexts(X)
        if self.context_map is None:
            return X
        Z = np.asarray(self.context_map(X), dtype=float)
        if Z.ndim != 2 or Z.shape[0] != X.shape[0] or not np.all(np.isfinite(Z)):
            raise ValueError(
                f"context_map must return a finite array of shape ({X.shape[0]}, m); got "
                f"{Z.shape}."
            )
        return Z

    def _context_block(self, X) -> np.ndarray:
        X = self._mapped(X)
        if self.intercept:
            X = np.column_stack([np.ones(X.shape[0]), X])
        if X.shape[1] == 0:
            raise ValueError(
                "The feature map has no context features and no intercept: every action "
                "gets the same zero score. Use intercept=True."
            )
        return X

    def n_features(self, n_context_features: int) -> int:
        if self.context_map is not None:
            n_context_features = self._mapped(np.zeros((1, n_context_features))).shape[1]
        return self.action_vectors.shape[1] * (n_context_features + int(self.intercept))

    def _actions(self, actions, n) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (n,):
            raise ValueError(f"actions must have shape ({n},); got {a.shape}.")
        if np.any((a < 0) | (a >= self.n_actions)):
            raise ValueError(f"actions must lie in 0..{self.n_actions - 1}.")
        return a.astype(np.int64)

    def transform(self, X, actions) -> np.ndarray:
        Z = self._context_block(X)
        a = self._actions(actions, Z.shape[0])
        V = self.action_vectors[a]
        return (V[:, :, None] * Z[:, None, :]).reshape(Z.shape[0], -1)

    def difference(self, X, action0, action1) -> np.ndarray:
        Z = self._context_block(X)
        n = Z.shape[0]
        dV = self.action_vectors[self._actions(action1, n)] - self.action_vectors[
            self._actions(action0, n)
        ]
        return (dV[:, :, None] * Z[:, None, :]).reshape(n, -1)

    # -- D' W D and D B by action pair: D_i = (v_a1 - v_a0) (x) z_i, so the rows of one
    # pair of actions share their left factor (O(n m^2 + K q^2 m^2) and O(n m r + K q m r)
    # for K pairs present, instead of O(n q^2 m^2) and O(n q m r))
    def _pair_groups(self, action0, action1, n):
        """Rows grouped by action pair, or None when the groups are too many to pay."""
        a0, a1 = self._actions(action0, n), self._actions(action1, n)
        key = a0 * self.n_actions + a1
        order = np.argsort(key, kind="stable")
        keys, starts = np.unique(key[order], return_index=True)
        if keys.shape[0] > max(16, n // 8):
            return None
        bounds = np.r_[starts, n]
        V = self.action_vectors
        return [(V[k % self.n_actions] - V[k // self.n_actions], order[bounds[g]:bounds[g + 1]])
                for g, k in enumerate(keys)]

    def difference_gram(self, X, action0, action1, sample_weight) -> np.ndarray:
        Z = self._context_block(X)
        groups = self._pair_groups(action0, action1, Z.shape[0])
        if groups is None:
            return super().difference_gram(X, action0, action1, sample_weight)
        w = np.asarray(sample_weight, dtype=float)
        # sum_g kron(dv_g dv_g', Z_g' W_g Z_g) as one product over the groups:
        # [a, b, c, d] = sum_g dv_g[a] dv_g[b] G_g[c, d], then rows (a, c), columns (b, d)
        dv = np.array([d for d, _ in groups])
        Gz = np.array([weighted_gram(Z[rows], w[rows], 1.0) for _, rows in groups])
        m, q = dv.shape[1], Z.shape[1]
        outer = (dv[:, :, None] * dv[:, None, :]).reshape(len(groups), m * m)
        G = (outer.T @ Gz.reshape(len(groups), q * q)).reshape(m, m, q, q)
        G = G.transpose(0, 2, 1, 3).reshape(m * q, m * q)
        return G / max(w.sum(), 1e-300)

    def difference_times(self, X, action0, action1, B) -> np.ndarray:
        Z = self._context_block(X)
        groups = self._pair_groups(action0, action1, Z.shape[0])
        if groups is None:
            return super().difference_times(X, action0, action1, B)
        B3 = np.asarray(B, dtype=float).reshape(self.action_vectors.shape[1], Z.shape[1], -1)
        out = np.empty((Z.shape[0], B3.shape[2]))
        for dv, rows in groups:
            out[rows] = Z[rows] @ np.tensordot(dv, B3, axes=(0, 0))
        return out

    def scores(self, X, coef) -> np.ndarray:
        X = as_contexts(X)
        Z = self._context_block(X)
        Theta = self._check_coef(coef, X.shape[1]).reshape(self.action_vectors.shape[1],
                                                            Z.shape[1])
        return Z @ Theta.T @ self.action_vectors.T

    def _context_names(self, context_names) -> list:
        names = [str(c) for c in context_names]
        if self.context_map is not None:
            m = self.n_features(len(names)) // self.action_vectors.shape[1] - int(self.intercept)
            names = [f"psi{j}" for j in range(m)]
        return (["1"] if self.intercept else []) + names

    def feature_names(self, context_names) -> list:
        ctx = self._context_names(context_names)
        return [f"v{j}:{c}" for j in range(self.action_vectors.shape[1]) for c in ctx]

    def __repr__(self) -> str:
        return (
            f"KroneckerFeatures(action_vectors=<{self.action_vectors.shape[0]}x"
            f"{self.action_vectors.shape[1]}>, intercept={self.intercept}, "
            f"context_map={self.context_map!r})"
        )


class OneHotFeatures(KroneckerFeatures):
    """The default map ``phi(x, a) = e_a (x) [1, x]``: one coefficient block per action.

    Parameters
    ----------
    n_actions : int, default=None
        Number of actions; taken from the table when None.
    intercept : bool, default=True
        Include a per-action constant.
    context_map : callable, default=None
        A fixed map ``psi(X)`` of the contexts (see :class:`KroneckerFeatures`).
    """

    def __init__(self, n_actions: int | None = None, *, intercept: bool = True,
                 context_map=None):
        self.intercept = bool(intercept)
        self.context_map = context_map
        self.n_actions = None
        if n_actions is not None:
            if isinstance(n_actions, bool) or not isinstance(n_actions, (int, np.integer)) \
                    or n_actions < 2:
                raise ValueError(f"n_actions must be an integer >= 2; got {n_actions!r}.")
            super().__init__(np.eye(int(n_actions)), intercept=intercept,
                             context_map=context_map)

    def _bound(self, n_actions: int) -> "OneHotFeatures":
        if self.n_actions is None:
            return OneHotFeatures(n_actions, intercept=self.intercept,
                                  context_map=self.context_map)
        if self.n_actions != n_actions:
            raise ValueError(
                f"The feature map has n_actions = {self.n_actions} but the table has {n_actions}."
            )
        return self

    def _require_bound(self):
        if self.n_actions is None:
            raise ValueError(
                "OneHotFeatures needs n_actions before it can be used (learners take it "
                "from the table)."
            )

    def _context_block(self, X):
        self._require_bound()
        return super()._context_block(X)

    def n_features(self, n_context_features: int) -> int:
        self._require_bound()
        return super().n_features(n_context_features)

    def feature_names(self, context_names, action_names=None) -> list:
        """``"<action>:<context column>"`` (``"a0:1"``, ... ; ``"1"`` the intercept).

        ``action_names`` (labels in index order) replace ``a0, a1, ...``.
        """
        self._require_bound()
        ctx = self._context_names(context_names)
        acts = ([f"a{a}" for a in range(self.n_actions)] if action_names is None
                else [str(a) for a in action_names])
        return [f"{a}:{c}" for a in acts for c in ctx]

    def __repr__(self) -> str:
        cm = "" if self.context_map is None else f", context_map={self.context_map!r}"
        return f"OneHotFeatures(n_actions={self.n_actions}, intercept={self.intercept}{cm})"


class CallableFeatures(FeatureMap):
    """A user-supplied feature map ``phi(X, actions) -> (n, p)``.

    Parameters
    ----------
    func : callable
        ``func(X, actions)`` with ``X`` of shape (n, d) and integer ``actions`` of shape
        (n,), returning a finite array of shape (n, p).
    n_actions : int
        Number of actions.
    """

    def __init__(self, func, n_actions: int):
        if not callable(func):
            raise ValueError(f"func must be callable; got {func!r}.")
        if isinstance(n_actions, bool) or not isinstance(n_actions, (int, np.integer)) \
                or n_actions < 2:
            raise ValueError(f"n_actions must be an integer >= 2; got {n_actions!r}.")
        self.func = func
        self.n_actions = int(n_actions)
        self._p = {}

    def transform(self, X, actions) -> np.ndarray:
        X = as_contexts(X)
        a = np.asarray(actions).astype(np.int64)
        F = np.asarray(self.func(X, a), dtype=float)
        if F.ndim == 1:
            F = F[:, None]
        if F.ndim != 2 or F.shape[0] != X.shape[0]:
            raise ValueError(
                f"The feature function returned shape {F.shape}; expected ({X.shape[0]}, p)."
            )
        if not np.all(np.isfinite(F)):
            raise ValueError("The feature function returned NaN or infinity.")
        self._p[X.shape[1]] = F.shape[1]
        return F

    def n_features(self, n_context_features: int) -> int:
        if n_context_features not in self._p:
            self.transform(np.zeros((1, n_context_features)), np.zeros(1, dtype=np.int64))
        return self._p[n_context_features]

    def __repr__(self) -> str:
        return f"CallableFeatures(func={getattr(self.func, '__name__', self.func)!r}, n_actions={self.n_actions})"


def resolve_features(features, table) -> FeatureMap:
    """The feature map to use on ``table``.

    Parameters
    ----------
    features : None, FeatureMap or callable
        None: :class:`KroneckerFeatures` on the table's ``action_features`` when it has
        them, else :class:`OneHotFeatures` with an intercept.  A callable is wrapped in
        :class:`CallableFeatures`.
    table : PreferenceTable

    Returns
    -------
    FeatureMap
    """
    k = table.n_actions
    if features is None:
        if table.action_features is not None:
            return KroneckerFeatures(table.action_features, intercept=True)
        return OneHotFeatures(k, intercept=True)
    if isinstance(features, OneHotFeatures):
        return features._bound(k)
    if isinstance(features, FeatureMap):
        if features.n_actions != k:
            raise ValueError(
                f"The feature map has n_actions = {features.n_actions} but the table has {k}."
            )
        return features
    if callable(features):
        return CallableFeatures(features, k)
    raise ValueError(
        f"features must be None, a FeatureMap or a callable phi(X, actions); got {features!r}."
    )


def difference_design(table, features=None) -> np.ndarray:
    """The difference design ``D = phi(x, a1) - phi(x, a0)`` of a preference table.

    Parameters
    ----------
    table : PreferenceTable
    features : None, FeatureMap or callable
        See :func:`resolve_features`.

    Returns
    -------
    ndarray of shape (n_pairs, p)
    """
    fm = resolve_features(features, table)
    return fm.difference(table.contexts, table.action0, table.action1)


def weighted_gram(D, sample_weight=None, total=None) -> np.ndarray:
    """``D' W D / total`` (``total`` the sum of the weights by default), by one BLAS syrk."""
    D = np.asarray(D, dtype=float)
    w = np.ones(D.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    Ds = D * np.sqrt(w)[:, None]
    return Ds.T @ Ds / (max(w.sum(), 1e-300) if total is None else total)


def identified_basis(D, sample_weight=None, rtol: float = 1e-10, *, gram=None) -> np.ndarray:
    """Orthonormal basis of the row space of ``D`` (the identified directions).

    Parameters
    ----------
    D : ndarray of shape (n, p) or None
        None when ``gram`` is given.
    sample_weight : ndarray of shape (n,), default=None
    rtol : float
        Eigenvalues of ``D' W D`` below ``rtol`` times the largest are treated as zero.
    gram : ndarray of shape (p, p), optional
        ``D' W D / sum(w)`` if already known (:meth:`FeatureMap.difference_gram`).

    Returns
    -------
    ndarray of shape (p, r)
        Columns ordered by decreasing eigenvalue, each with its largest entry positive
        (a deterministic sign).  ``r = 0`` when ``D`` is zero.
    """
    G = weighted_gram(D, sample_weight) if gram is None else np.asarray(gram, dtype=float)
    vals, vecs = np.linalg.eigh(G)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    if vals.size == 0 or vals[0] <= 0:
        return np.zeros((G.shape[0], 0))
    keep = vals > rtol * vals[0]
    B = vecs[:, keep]
    idx = np.argmax(np.abs(B), axis=0)
    B = B * np.sign(B[idx, np.arange(B.shape[1])])
    return B
