"""Preference tables: a context, two actions and which one was preferred.

A row ``i`` of a :class:`PreferenceTable` holds a context ``x_i`` (a feature vector,
possibly empty), two actions ``a0_i, a1_i`` in ``{0, ..., k - 1}``, the label
``z_i = 1`` when ``a1_i`` was preferred, an optional weight, and optionally the
reference log-probabilities ``log pi_ref(. | x_i)``.  Actions may carry feature vectors of
their own (``action_features``, shape ``(k, q)``: e.g. embeddings of the responses).

Everything is validated once, here, with errors that name the problem; pairs with
``a0 == a1`` are dropped with a :class:`~semiparam.exceptions.DataWarning` (they carry no
information about a direction: their difference design row is zero).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import logsumexp

from ..exceptions import DataWarning, warn
from .features import as_contexts

__all__ = ["PreferenceTable"]


def _as_actions(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {a.shape}.")
    if a.dtype.kind == "b" or a.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold integer action indices in 0, ..., n_actions - 1 (or pass "
            f"actions= to map other labels); got dtype {a.dtype}."
        )
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold integer action indices; got non-integer values.")
    return a.astype(np.int64)


def _is_index_like(a) -> bool:
    """Integer (or integral float) codes: taken as action indices unless labels are given."""
    a = np.asarray(a)
    return a.dtype.kind in "iu" or (a.dtype.kind == "f" and bool(np.all(np.isfinite(a))))


def _encode_actions(action0, action1, actions):
    """Map action labels to indices ``0, ..., k - 1``.

    Returns ``(a0, a1, labels)``; ``labels`` is None when the actions are already indices
    (integer codes and no ``actions=``).  With ``actions=`` (the declared action set, in
    index order) every value must be one of them; without it, non-integer labels
    (strings, categories, any hashable) are the sorted distinct values seen.
    """
    v0, v1 = np.asarray(action0), np.asarray(action1)
    for name, v in (("action0", v0), ("action1", v1)):
        if v.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional; got shape {v.shape}.")
    if actions is None:
        if _is_index_like(v0) and _is_index_like(v1):
            return _as_actions(v0, "action0"), _as_actions(v1, "action1"), None
        seen = np.concatenate([v0.astype(object), v1.astype(object)])
        if any(x is None or (isinstance(x, float) and np.isnan(x)) for x in seen):
            raise ValueError("action0/action1 contain missing values (None or NaN).")
        try:
            labels = sorted(set(seen.tolist()))
        except TypeError:
            raise ValueError(
                "The action labels cannot be sorted (mixed types); pass actions= with the "
                "labels in the order of the action indices."
            ) from None
    else:
        labels = list(actions)
        if len(labels) != len(set(labels)):
            raise ValueError(f"actions must be distinct labels; got {labels!r}.")
    code = {lab: i for i, lab in enumerate(labels)}
    out = []
    for name, v in (("action0", v0), ("action1", v1)):
        vals = v.tolist()
        unknown = sorted({repr(x) for x in vals if x not in code})
        if unknown:
            raise ValueError(
                f"{name} has values that are not among the actions {labels!r}: "
                f"{', '.join(unknown[:5])}."
            )
        out.append(np.fromiter((code[x] for x in vals), dtype=np.int64, count=len(vals)))
    return out[0], out[1], tuple(labels)


def _as_label(z) -> np.ndarray:
    z = np.asarray(z)
    if z.ndim != 1:
        raise ValueError(f"label must be one-dimensional; got shape {z.shape}.")
    if z.dtype.kind == "b":
        return z.astype(np.int64)
    if z.dtype.kind not in "iuf":
        raise ValueError(f"label must be binary (0/1 or bool); got dtype {z.dtype}.")
    if z.dtype.kind == "f" and not np.all(np.isfinite(z)):
        raise ValueError("label contains NaN or infinity.")
    bad = np.unique(z[(z != 0) & (z != 1)])
    if bad.size:
        raise ValueError(
            "label must be binary: 1 when action1 was preferred, 0 when action0 was; got "
            f"other values {bad[:5].tolist()}."
        )
    return z.astype(np.int64)


def _as_contexts(contexts, n: int | None):
    """``(X, names, named)``: the matrix, its column names, whether they were given."""
    names = None
    if contexts is None:
        if n is None:
            raise ValueError("contexts is None and the number of rows is unknown.")
        return np.zeros((n, 0)), (), False
    if hasattr(contexts, "columns"):  # pandas DataFrame
        names = tuple(str(c) for c in contexts.columns)
    X = as_contexts(contexts)
    if names is None:
        return X, tuple(f"x{j}" for j in range(X.shape[1])), False
    return X, names, True


def check_ref_logprobs(ref_logprobs, n: int, k: int, what: str = "ref_logprobs"):
    """Validate reference log-probabilities: shape (k,) or (n, k), each row a distribution.

    ``-inf`` entries (actions the reference never takes) are allowed; NaN, ``+inf`` and
    rows whose probabilities do not sum to one (within 1e-6) are errors.
    """
    if ref_logprobs is None:
        return None
    r = np.asarray(ref_logprobs, dtype=float)
    if r.ndim not in (1, 2) or r.shape[-1] != k or (r.ndim == 2 and r.shape[0] != n):
        raise ValueError(
            f"{what} must have shape ({k},) or ({n}, {k}) (log pi_ref(a | x) for every "
            f"action); got {r.shape}."
        )
    if np.any(np.isnan(r)) or np.any(r == np.inf):
        raise ValueError(f"{what} contains NaN or +inf; it must hold log-probabilities.")
    total = logsumexp(np.atleast_2d(r), axis=1)
    worst = float(np.max(np.abs(np.expm1(total))))
    if not np.all(np.isfinite(total)) or worst > 1e-6:
        raise ValueError(
            f"{what} is not a distribution: exp({what}) must sum to 1 over actions in every "
            f"row (largest deviation {worst:.3g}). Pass log-probabilities, not logits or "
            "probabilities."
        )
    return r


class PreferenceTable:
    """Pairwise preferences over a finite action set, with contexts.

    Parameters
    ----------
    contexts : array-like or DataFrame of shape (n, d), or None
        Context features ``x`` of each pair (``None``: no context, ``d = 0``).
    action0, action1 : array-like of shape (n,)
        The two actions compared: indices in ``0, ..., n_actions - 1``, or labels of any
        kind (strings, categories), which are mapped to indices (see ``actions``).
    label : array-like of {0, 1} or bool, shape (n,)
        ``1`` when ``action1`` was preferred, ``0`` when ``action0`` was.
    n_actions : int, default=None
        Number of actions ``k``; inferred from ``action_features``, ``ref_logprobs`` or the
        largest action seen when None.
    weights : array-like of shape (n,), default=None
        Nonnegative row weights.
    ref_logprobs : array-like of shape (k,) or (n, k), default=None
        Reference log-probabilities ``log pi_ref(a | x)``; None is the uniform reference.
    action_features : array-like of shape (k, q), default=None
        Feature vectors of the actions (e.g. embeddings), used by the default feature map.
    actions : sequence, default=None
        The declared action set, its labels in index order: ``action0``/``action1`` hold
        these labels and are mapped to their positions (``actions=[1, 2, 3, 4]`` for
        1-based codes).  None: integer codes are the indices themselves; other labels are
        sorted and numbered.

    Attributes
    ----------
    contexts : ndarray (n, d)
    action0, action1, label : ndarray (n,) of int
    weights : ndarray (n,)
    ref_logprobs : ndarray (k,), (n, k) or None
    n_actions : int
    context_names : tuple of str
        Column names of a DataFrame of contexts, else ``x0, x1, ...``.
    contexts_named : bool
        Whether the names came with the contexts (a DataFrame): policies fitted on the
        table then check the columns of the contexts they are given.
    actions : tuple
        The label of each action index (``(0, 1, ..., k - 1)`` for integer codes).
    n_dropped : int
        Pairs with ``action0 == action1`` that were dropped.

    Notes
    -----
    Pairs with ``action0 == action1`` are dropped with a
    :class:`~semiparam.exceptions.DataWarning` that says how many.  A declared action
    that occurs in no pair (e.g. ``n_actions`` inferred as ``max + 1`` from 1-based codes,
    which creates an action 0) raises a :class:`~semiparam.exceptions.DataWarning` too:
    with one-hot features its scores are not identified by the data, yet the policy
    still gives it probability.
    """

    def __init__(self, *, contexts, action0, action1, label, n_actions=None,
                 weights=None, ref_logprobs=None, action_features=None, actions=None):
        a0, a1, labels = _encode_actions(action0, action1, actions)
        if labels is not None:
            if n_actions is not None and n_actions != len(labels):
                raise ValueError(
                    f"n_actions = {n_actions!r} but there are {len(labels)} action labels "
                    f"{list(labels)!r}; pass one or the other."
                )
            n_actions = len(labels)
        z = _as_label(label)
        n = a0.shape[0]
        X, names, named = _as_contexts(contexts, n)
        lengths = {"contexts": X.shape[0], "action0": n, "action1": a1.shape[0],
                   "label": z.shape[0]}
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=float)
            if w.ndim != 1:
                raise ValueError(f"weights must be one-dimensional; got shape {w.shape}.")
            lengths["weights"] = w.shape[0]
        if len(set(lengths.values())) != 1:
            raise ValueError(f"Mismatched lengths: {lengths}; every input needs one entry per pair.")
        if n == 0:
            raise ValueError("The preference table is empty.")
        V = None
        if action_features is not None:
            V = np.asarray(action_features, dtype=float)
            if V.ndim == 1:
                V = V[:, None]
            if V.ndim != 2:
                raise ValueError(f"action_features must have shape (n_actions, q); got {V.shape}.")
            if not np.all(np.isfinite(V)):
                raise ValueError("action_features contain NaN or infinity.")
        k = n_actions
        if k is None:
            if V is not None:
                k = V.shape[0]
            elif ref_logprobs is not None and np.ndim(ref_logprobs) >= 1:
                k = np.shape(ref_logprobs)[-1]
            else:
                k = int(max(a0.max(), a1.max())) + 1
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ValueError(f"n_actions must be an integer; got {n_actions!r}.")
        k = int(k)
        if k < 2:
            raise ValueError(
                f"n_actions = {k}: a preference needs at least two actions to choose between."
            )
        if V is not None and V.shape[0] != k:
            raise ValueError(f"action_features has {V.shape[0]} rows, expected n_actions = {k}.")
        for name, a in (("action0", a0), ("action1", a1)):
            bad = (a < 0) | (a >= k)
            if bad.any():
                raise ValueError(
                    f"{name} has {int(bad.sum())} value(s) out of range 0..{k - 1} "
                    f"(e.g. {int(a[bad][0])})."
                )
        if w is not None:
            if not np.all(np.isfinite(w)):
                raise ValueError("weights contain NaN or infinity.")
            if np.any(w < 0):
                raise ValueError("weights must be nonnegative.")
        ref = check_ref_logprobs(ref_logprobs, n, k)
        if ref is not None:
            r2 = np.broadcast_to(ref, (n, k)) if ref.ndim == 1 else ref
            rows = np.arange(n)
            if np.any(np.isneginf(r2[rows, a0])) or np.any(np.isneginf(r2[rows, a1])):
                raise ValueError(
                    "Some compared actions have reference probability zero; the reference "
                    "must put mass on every action that appears in a pair."
                )
        keep = a0 != a1
        self.n_dropped = int(n - keep.sum())
        if self.n_dropped:
            if self.n_dropped == n:
                raise ValueError("Every pair has action0 == action1: no pair carries information.")
            warn(
                f"Dropped {self.n_dropped} of {n} pairs with action0 == action1 (a tie of an "
                "action with itself carries no information about the direction).",
                DataWarning
            )
        self.contexts = X[keep]
        self.action0 = a0[keep]
        self.action1 = a1[keep]
        self.label = z[keep]
        self.weights = np.ones(int(keep.sum())) if w is None else w[keep]
        if not np.any(self.weights > 0):
            raise ValueError("weights are zero for every pair.")
        self.ref_logprobs = ref if (ref is None or ref.ndim == 1) else ref[keep]
        self.action_features = V
        self.n_actions = k
        self.context_names = names
        self.contexts_named = named
        self.actions = tuple(range(k)) if labels is None else labels
        unseen = np.setdiff1d(np.arange(k), np.concatenate([self.action0, self.action1]))
        if unseen.size:
            shown = [self.actions[i] for i in unseen[:10]]
            hint = (" (n_actions was inferred as the largest code + 1: for 1-based codes "
                    "pass actions=[1, ..., k])" if n_actions is None and labels is None
                    and 0 in unseen else "")
            warn(
                f"{unseen.size} of the {k} actions never occur in a pair: {shown}{hint}. "
                "With one-hot features their scores are not identified by the data, yet a "
                "policy gives them probability.", DataWarning,
            )

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_pandas(cls, df, *, context_cols, action0, action1, label, n_actions=None,
                    weight=None, ref_cols=None, action_features=None, actions=None):
        """Build a table from a DataFrame by column names.

        Parameters
        ----------
        df : pandas.DataFrame
        context_cols : list of str
            Context feature columns (may be empty).
        action0, action1, label : str
            Column names of the two actions and of the label.
        n_actions : int, default=None
        weight : str, default=None
            Column of row weights.
        ref_cols : list of str, default=None
            ``k`` columns holding ``log pi_ref(a | x)`` for ``a = 0, ..., k - 1``.
        action_features : array-like of shape (k, q), default=None
        actions : sequence, default=None
            The declared action labels in index order (see :class:`PreferenceTable`);
            string or categorical action columns are mapped to indices either way.

        Returns
        -------
        PreferenceTable
        """
        cols = list(context_cols)
        needed = cols + [action0, action1, label] + ([weight] if weight else []) + list(ref_cols or [])
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise ValueError(f"Columns {missing} are not in the DataFrame.")
        return cls(
            contexts=df[cols] if cols else None,
            action0=df[action0].to_numpy(),
            action1=df[action1].to_numpy(),
            label=df[label].to_numpy(),
            n_actions=n_actions,
            weights=None if weight is None else df[weight].to_numpy(),
            ref_logprobs=None if not ref_cols else df[list(ref_cols)].to_numpy(dtype=float),
            action_features=action_features,
            actions=actions,
        )

    # -- views ----------------------------------------------------------------------
    def __len__(self) -> int:
        return self.action0.shape[0]

    @property
    def n_pairs(self) -> int:
        """Number of pairs (after dropping ties)."""
        return len(self)

    def reference_logprobs(self) -> np.ndarray:
        """``log pi_ref(a | x_i)`` for every pair and action, shape (n, k)."""
        n, k = len(self), self.n_actions
        if self.ref_logprobs is None:
            return np.full((n, k), -np.log(k))
        return np.array(np.broadcast_to(self.ref_logprobs, (n, k)))

    def subset(self, rows) -> "PreferenceTable":
        """A new table with the given rows (indices or boolean mask).

        The context names and action labels are kept.
        """
        rows = np.arange(len(self))[rows]
        ref = self.ref_logprobs
        if ref is not None and ref.ndim == 2:
            ref = ref[rows]
        out = PreferenceTable(
            contexts=self.contexts[rows], action0=self.action0[rows],
            action1=self.action1[rows], label=self.label[rows], n_actions=self.n_actions,
            weights=self.weights[rows], ref_logprobs=ref, action_features=self.action_features,
        )
        out.context_names = self.context_names
        out.actions = self.actions
        out.contexts_named = self.contexts_named
        return out

    def randomize_order(self, random_state=None) -> "PreferenceTable":
        """Swap ``action0``/``action1`` (and flip the label) in a random half of the rows.

        Data given as (chosen, rejected) pairs have a constant label; a single-index
        estimator needs both classes.  The swap leaves the preference model unchanged
        when ``P(a1 preferred) = Psi(t)`` with ``Psi(-t) = 1 - Psi(t)``.
        """
        rng = np.random.default_rng(random_state)
        flip = rng.random(len(self)) < 0.5
        with warnings.catch_warnings():  # unseen actions were reported for self already
            warnings.simplefilter("ignore", DataWarning)
            out = self.subset(slice(None))
        out.action0 = np.where(flip, self.action1, self.action0)
        out.action1 = np.where(flip, self.action0, self.action1)
        out.label = np.where(flip, 1 - self.label, self.label)
        return out

    def __repr__(self) -> str:
        return (
            f"PreferenceTable(n_pairs={len(self)}, n_actions={self.n_actions}, "
            f"n_context_features={self.contexts.shape[1]}, "
            f"reference={'uniform' if self.ref_logprobs is None else 'given'})"
        )
