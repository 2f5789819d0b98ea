"""Parameter and array validation shared by every estimator.

Parameters are declared on the class (``_parameter_constraints``) and checked when
``fit`` starts by :func:`validate_params`; the error message follows scikit-learn's
format (``The 'kernel' parameter of KleinSpadyClassifier must be ... Got ... instead.``).
Arrays go through scikit-learn's public ``validate_data`` and then through the
single-index specific checks of :func:`check_index_data`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils.multiclass import type_of_target

__all__ = [
    "Interval",
    "Options",
    "Callable",
    "PositiveFloats",
    "validate_params",
    "check_sample_weight",
    "check_binary_target",
    "check_design",
]


@dataclass(frozen=True)
class Interval:
    """A real (or integer) interval constraint."""

    kind: type  # numbers.Real or numbers.Integral
    left: float | None
    right: float | None
    closed: str = "both"  # "left", "right", "both", "neither"

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if isinstance(value, numbers.Real) and not np.isfinite(value):
            return False
        lo_ok = self.left is None or (
            value >= self.left if self.closed in ("left", "both") else value > self.left
        )
        hi_ok = self.right is None or (
            value <= self.right if self.closed in ("right", "both") else value < self.right
        )
        return lo_ok and hi_ok

    def __str__(self) -> str:
        kind = "an int" if self.kind is numbers.Integral else "a float"
        lb = "[" if self.closed in ("left", "both") else "("
        rb = "]" if self.closed in ("right", "both") else ")"
        lo = "-inf" if self.left is None else self.left
        hi = "inf" if self.right is None else self.right
        return f"{kind} in the range {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """A set of allowed values (strings, None, booleans)."""

    values: frozenset

    def __init__(self, values):
        object.__setattr__(self, "values", frozenset(values))

    def is_satisfied_by(self, value) -> bool:
        try:
            return value in self.values
        except TypeError:
            return False

    def __str__(self) -> str:
        return "a str among " + "{" + ", ".join(repr(v) for v in sorted(self.values, key=str)) + "}"


class Callable:
    """Any callable."""

    def is_satisfied_by(self, value) -> bool:
        return callable(value)

    def __str__(self) -> str:
        return "a callable"


class NoneOK:
    """The value None."""

    def is_satisfied_by(self, value) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


class InstanceOf:
    def __init__(self, *types):
        self.types = types

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.types) and not isinstance(value, bool)

    def __str__(self) -> str:
        return "an instance of " + " or ".join(t.__name__ for t in self.types)


class PositiveFloats:
    """A non-empty sequence (list, tuple or 1-D array) of positive finite floats."""

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
            return False
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return False
        return arr.ndim == 1 and arr.size > 0 and bool(np.all(np.isfinite(arr) & (arr > 0)))

    def __str__(self) -> str:
        return "a non-empty sequence of positive floats"


def validate_params(estimator) -> None:
    """Check ``estimator``'s parameters against its ``_parameter_constraints``."""
    constraints = getattr(estimator, "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    name = type(estimator).__name__
    for key, allowed in constraints.items():
        value = params[key]
        if any(c.is_satisfied_by(value) for c in allowed):
            continue
        if len(allowed) == 1:
            expected = str(allowed[0])
        else:
            expected = ", ".join(str(c) for c in allowed[:-1]) + " or " + str(allowed[-1])
        raise ValueError(
            f"The {key!r} parameter of {name} must be {expected}. Got {value!r} instead."
        )


def check_sample_weight(sample_weight, n: int) -> np.ndarray:
    """Validate weights: finite, nonnegative, length n, not all zero. None -> ones."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"sample_weight has shape {w.shape}, expected ({n},) to match the number of rows of X."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(w < 0):
        raise ValueError("sample_weight contains negative values; weights must be nonnegative.")
    if not np.any(w > 0):
        raise ValueError("sample_weight is zero for every row.")
    return w


def check_binary_target(y):
    """Return (classes, z) with z in {0., 1.}; clear errors for anything else."""
    y = np.asarray(y)
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity.")
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"Unknown label type: {kind!r}. y must hold two classes (binary labels)."
        )
    classes = np.unique(y)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y has only one class ({classes[0]!r}); a binary choice model needs both classes."
        )
    if classes.shape[0] != 2:
        raise ValueError(
            "Only binary classification is supported. y must be binary (two classes); "
            f"got {classes.shape[0]} distinct values."
        )
    z = (y == classes[1]).astype(float)
    return classes, z


#: largest absolute value a column may have, and the smallest nonzero one (check_design)
MAGNITUDE_RANGE = (1e-150, 1e150)


def check_design(X: np.ndarray, *, min_columns: int = 2, min_rows: int = 10,
                 feature_names=None, estimator_name: str = "estimator") -> None:
    """Single-index specific checks on a validated float design.

    - at least ``min_rows`` rows and ``min_columns`` columns (with one column the
      direction of a single index is trivial);
    - no constant column (the link absorbs any location: an intercept is not identified);
    - no perfectly collinear columns (the direction would not be identified).
    """
    n, d = X.shape
    if n < min_rows:
        raise ValueError(
            f"{estimator_name} needs at least {min_rows} rows to estimate a link "
            f"nonparametrically; got n_samples = {n}."
        )
    if d < min_columns:
        raise ValueError(
            f"{estimator_name} needs at least {min_columns} columns (got n_features = {d}): "
            "with one column the "
            "direction of a single index is trivial (the sign is all there is to estimate); "
            "fit a 1-D link instead (semiparam.links)."
        )
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(d)]
    # columns rescaled by exact powers of two first: values of any magnitude (1e-300,
    # 1e300) neither underflow nor overflow in the moments below
    top = np.maximum(X.max(axis=0), -X.min(axis=0))  # max |x|: no temporary array
    extreme = np.flatnonzero((top > 0) & ((top < MAGNITUDE_RANGE[0]) | (top > MAGNITUDE_RANGE[1])))
    if extreme.size:
        j = int(extreme[0])
        raise ValueError(
            f"Column(s) {[names[k] for k in extreme]} have values of magnitude "
            f"{top[j]:.1e}: the estimators' objectives and Hessians (products of several "
            f"columns) leave double precision outside {MAGNITUDE_RANGE[0]:g}..."
            f"{MAGNITUDE_RANGE[1]:g}. Rescale these columns (e.g. to unit standard "
            "deviation); the fitted direction maps back by the same factors."
        )
    p2 = np.where(top > 0, 2.0 ** np.floor(np.log2(np.where(top > 0, top, 1.0))), 1.0)
    # one centred copy, scaled in place (exact: powers of two); its Gram matrix (one
    # BLAS syrk) gives the standard deviations and the correlation matrix
    Xc = X - X.mean(axis=0)
    Xc /= p2
    G = (Xc.T @ Xc) / n
    sd = np.sqrt(np.maximum(np.diag(G), 0.0))
    const = np.flatnonzero((top == 0) | (sd <= 1e-12 * (top / p2)))
    if const.size:
        raise ValueError(
            f"Column(s) {[names[j] for j in const]} are constant. A single-index model has no "
            "intercept (the link absorbs any location): drop constant columns."
        )
    # eigenvalues of the correlation matrix: O(n d^2) once, far cheaper than an SVD of X
    corr = G / np.outer(sd, sd)
    eig = np.linalg.eigvalsh(0.5 * (corr + corr.T))
    if eig[0] <= 1e-11 * eig[-1]:
        rank = int(np.sum(eig > 1e-11 * eig[-1]))
        raise ValueError(
            f"The columns of X are perfectly collinear (the centred design is rank {rank} < {d});"
            " the direction is not identified. Drop redundant columns."
        )
