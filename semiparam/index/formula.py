"""Formulas for the index estimators: ``Est.from_formula("y ~ x1 + C(g) + np.log(x2)", data)``.

The right-hand side is expanded by `formulaic <https://matthewwardrop.github.io/formulaic/>`_
(the ``formula`` extra: ``pip install semiparam[formula]``): ``C(g)`` and string or
categorical columns become treatment-coded dummies named like statsmodels' (``C(g)[T.b]``),
functions such as ``np.log(x2)``, ``I(x ** 2)`` and interactions ``x1:x2`` work, and rows
with missing values are dropped (with their ``sample_weight``).

The intercept.  A single-index model ``P(y = 1 | x) = g(x'beta)`` has no intercept: the
unknown link absorbs any location, so a constant column is not identified.  The design
is therefore always expanded *with* an intercept, so that every categorical gets
reference (treatment) coding -- without one, formulaic would give the first categorical
a full set of dummies, which sums to the constant column -- and the ``Intercept`` column
is then dropped.  The summary notes it.  ``LogitIndexClassifier`` is the exception: its
intercept is a parameter (``fit_intercept``), which the formula's intercept switches on
unless ``fit_intercept`` is passed explicitly; ``"y ~ x - 1"`` then fits it without.

The left-hand side is taken from ``data`` as is when it names a column (labels of any
kind: 0/1, booleans, strings), otherwise evaluated by formulaic (``I(affairs > 0)``),
which must give a single column.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

__all__ = ["from_formula", "FormulaDesign"]

_INTERCEPT = "Intercept"


def _formulaic():
    try:
        import formulaic
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "from_formula needs formulaic; install it with `pip install semiparam[formula]` "
            "(or `pip install formulaic`)."
        ) from err
    return formulaic


@dataclasses.dataclass(frozen=True)
class FormulaDesign:
    """What ``from_formula`` kept: the formula and the fitted design specification.

    Attributes
    ----------
    formula : str
        The formula as given.
    y_name : str
        Left-hand side.
    columns : tuple of str
        The design columns the estimator was fitted on (after dropping the intercept).
    intercept : str
        How the formula's intercept was handled: ``"dropped"`` (absorbed by the link),
        ``"fit_intercept"`` (logit's own intercept) or ``"none"``.
    """

    formula: str
    y_name: str
    columns: tuple
    intercept: str
    spec: object = dataclasses.field(repr=False, compare=False, default=None)

    def transform(self, data) -> pd.DataFrame:
        """The design of new ``data`` (same columns and encoding as in the fit), ready
        for ``predict``, ``predict_proba`` or ``marginal_effects``."""
        mm = self.spec.get_model_matrix(data)
        return pd.DataFrame(np.asarray(mm, dtype=float), columns=list(mm.columns),
                            index=mm.index)[list(self.columns)]


def _parse(formula):
    fml = _formulaic()
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"formula must be a string 'y ~ x1 + x2'; got {formula!r}.")
    f = fml.Formula(formula)
    if not hasattr(f, "lhs") or len(f.lhs) == 0:
        raise ValueError(f"formula {formula!r} has no left-hand side (the outcome).")
    has_intercept = any(str(t) == "1" for t in f.rhs)
    forced = fml.Formula(f"{f.lhs} ~ 1 + {f.rhs}") if not has_intercept else f
    return forced, str(f.lhs), has_intercept


def _outcome(lhs, data, mm):
    if lhs in getattr(data, "columns", ()):
        return pd.Series(data[lhs]).loc[mm.rhs.index]
    y = mm.lhs
    if y.shape[1] != 1:
        raise ValueError(
            f"the left-hand side {lhs!r} expands to {y.shape[1]} columns "
            f"({list(y.columns)}); give a single 0/1, boolean or two-label column, e.g. "
            f"I(x > 0).")
    return pd.Series(np.asarray(y).ravel(), index=y.index, name=lhs)


def from_formula(cls, formula, data, *, sample_weight=None, **params):
    """Fit ``cls(**params)`` on the design and outcome described by ``formula``.

    Parameters
    ----------
    cls : index estimator class
    formula : str
        ``"y ~ x1 + C(group) + np.log(x2)"`` (formulaic syntax, module docstring).
    data : DataFrame or mapping of columns
    sample_weight : array-like or Series, optional
        Row weights aligned with ``data`` (rows dropped for missing values are
        dropped here too).
    **params
        Estimator parameters.

    Returns
    -------
    estimator
        Fitted, with ``formula_`` (:class:`FormulaDesign`; ``formula_.transform(new)``
        builds the design of new data) and named coefficients.
    """
    fml = _formulaic()
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    forced, lhs, has_intercept = _parse(formula)
    mm = fml.model_matrix(forced, data, ensure_full_rank=True)
    rhs = mm.rhs
    X = pd.DataFrame(np.asarray(rhs, dtype=float), columns=list(rhs.columns), index=rhs.index)
    y = _outcome(lhs, data, mm)
    takes_intercept = "fit_intercept" in cls().get_params()
    if takes_intercept and "fit_intercept" not in params:
        params["fit_intercept"] = has_intercept
    if takes_intercept:
        how = "fit_intercept" if params["fit_intercept"] else "none"
    else:
        how = "dropped" if has_intercept else "none"
    X = X.drop(columns=[_INTERCEPT])
    if X.shape[1] == 0:
        raise ValueError(f"formula {formula!r} has no regressors besides the intercept.")
    if sample_weight is not None:
        sw = sample_weight
        if isinstance(sw, pd.Series):
            sw = sw.loc[X.index].to_numpy(dtype=float)
        else:
            sw = np.asarray(sw, dtype=float)
            if sw.shape != (len(data),):
                raise ValueError(f"sample_weight must have length {len(data)}; got {sw.shape}.")
            sw = sw[data.index.get_indexer(X.index)]
        sample_weight = sw
    est = cls(**params).fit(X, y.to_numpy(), sample_weight=sample_weight)
    est.formula_ = FormulaDesign(formula=formula, y_name=lhs, columns=tuple(X.columns),
                                 intercept=how, spec=rhs.model_spec)
    note = {
        "dropped": "Formula: the intercept column was dropped (a single-index model's link "
                   "absorbs location; categoricals are treatment-coded against their first "
                   "level).",
        "fit_intercept": "Formula: the intercept is fitted as the logit's own intercept "
                         "(fit_intercept=True).",
        "none": "Formula: no intercept; categoricals are still treatment-coded.",
    }[how]
    res = getattr(est, "result_", None)
    if res is not None and hasattr(res, "notes"):
        est.result_ = dataclasses.replace(res, notes=tuple(res.notes) + (note,))
    return est
