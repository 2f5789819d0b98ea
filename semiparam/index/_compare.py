"""Line fitted single-index models up side by side.

:func:`compare` takes fitted estimators of :mod:`semiparam.index` (anything with a
``result_`` :class:`~semiparam.index.results.IndexResult`), bare ``IndexResult`` objects,
and statsmodels binary-choice results (``Logit``/``Probit`` fits with a constant) and
returns a :class:`Comparison`: one column per model with the normalised coefficients,
their standard errors in parentheses, and the log-likelihood or objective, bandwidth or
basis size, number of observations and convergence below.  Tables are built with
statsmodels' ``SimpleTable``/``Summary`` machinery, as the estimators' own summaries.

All columns use one normalisation (unit norm, or first coefficient = 1): models reported
another way are renormalised, with standard errors carried through the normalisation
Jacobian (delta method); statsmodels fits lose their constant and have their slopes
normalised the same way.  Rows are matched by coefficient name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._base import normalization_jacobian, normalize_direction
from .results import IndexResult

__all__ = ["compare", "Comparison"]

#: footer rows: (label, key, format)
_STATS = (
    ("Log-likelihood", "llf", "{:.2f}"),
    ("Objective", "objective", "{:.5g}"),
    ("Bandwidth", "bandwidth", "{:.4g}"),
    ("Basis size", "n_basis", "{:d}"),
    ("Observations", "nobs", "{:d}"),
    ("Converged", "converged", "{}"),
)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Fitted models side by side (returned by :func:`compare`).

    Attributes
    ----------
    names : tuple of str
        Column (model) names.
    params : DataFrame
        Normalised coefficients, one column per model (NaN where a model lacks a
        coefficient).
    std_errors : DataFrame
        Their standard errors (NaN where none were computed; 0 for a coefficient fixed
        by the normalisation).
    stats : DataFrame
        Log-likelihood, objective, bandwidth, basis size, observations and convergence
        (rows), one column per model (None where it does not apply).
    normalize : str
        ``"unit"`` or ``"first"``.
    notes : tuple of str
        Lines printed below the table.
    """

    names: tuple
    params: pd.DataFrame
    std_errors: pd.DataFrame
    stats: pd.DataFrame
    normalize: str
    notes: tuple = field(default_factory=tuple)

    def summary(self):
        """A statsmodels ``Summary`` holding the table (``as_text``/``as_html``/``as_latex``)."""
        from statsmodels.iolib.summary import Summary
        from statsmodels.iolib.table import SimpleTable

        rows, stubs = [], []
        for coef in self.params.index:
            rows.append([_fmt_coef(self.params.at[coef, m]) for m in self.names])
            rows.append([_fmt_se(self.params.at[coef, m], self.std_errors.at[coef, m])
                         for m in self.names])
            stubs += [str(coef), ""]
        for label, key, fmt in _STATS:
            values = [self.stats.at[key, m] for m in self.names]
            if all(v is None for v in values):
                continue
            rows.append(["" if v is None else _fmt_stat(v, fmt) for v in values])
            stubs.append(label)
        norm = "unit norm" if self.normalize == "unit" else "first coefficient = 1"
        table = SimpleTable(rows, headers=list(self.names), stubs=stubs,
                            title=f"Model comparison (coefficients normalised: {norm})")
        smry = Summary()
        smry.tables = [table]
        smry.add_extra_txt(list(self.notes))
        return smry

    def as_text(self) -> str:
        """Plain-text table."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """HTML table."""
        return self.summary().as_html()

    def as_latex(self) -> str:
        """LaTeX table."""
        return self.summary().as_latex()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def compare(models, names=None, *, normalize=None) -> Comparison:
    """Line fitted single-index models up side by side.

    Parameters
    ----------
    models : sequence
        Fitted estimators of :mod:`semiparam.index` (with ``result_``), bare
        :class:`~semiparam.index.results.IndexResult` objects, or statsmodels
        binary-choice results (e.g. ``sm.Logit(y, sm.add_constant(X)).fit()``; the
        constant is dropped and the slopes normalised like the other columns).
    names : sequence of str, optional
        Column names; default: the model's class name (made unique with a suffix).
    normalize : {"unit", "first"} or None, default=None
        Normalisation of every column; None: the one the semiparametric models share
        (``"unit"`` if they differ or there are none).

    Returns
    -------
    Comparison
        With ``as_text()``, ``as_html()``, ``as_latex()``, ``summary()`` and the
        underlying ``params``/``std_errors``/``stats`` DataFrames.

    Raises
    ------
    ValueError
        Empty ``models``, ``names`` of the wrong length or with duplicates, an unknown
        ``normalize``, or an estimator that is not fitted.
    TypeError
        An object that is neither a fitted index estimator, an ``IndexResult`` nor a
        statsmodels result.

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> from semiparam.index import SieveIndexClassifier, compare
    >>> from semiparam.simulate import make_single_index
    >>> X, y = make_single_index(1000, [1.0, -0.5], link="cloglog", random_state=0)
    >>> logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    >>> table = compare([logit, SieveIndexClassifier().fit(X, y)])
    >>> "SieveIndexClassifier" in table.as_text()
    True
    """
    if isinstance(models, (IndexResult,)) or not hasattr(models, "__iter__"):
        models = [models]
    models = list(models)
    if not models:
        raise ValueError("compare needs at least one fitted model.")
    if names is not None:
        names = [str(nm) for nm in names]
        if len(names) != len(models):
            raise ValueError(f"names has {len(names)} entries for {len(models)} models.")
        if len(set(names)) != len(names):
            raise ValueError(f"names must be unique; got {names}.")
    if normalize not in (None, "unit", "first"):
        raise ValueError(f"normalize must be 'unit', 'first' or None; got {normalize!r}.")

    entries = [_entry(m, i) for i, m in enumerate(models)]
    if normalize is None:
        own = {e["normalize"] for e in entries if e["normalize"] is not None}
        normalize = own.pop() if len(own) == 1 else "unit"
    if names is None:
        names = _unique([e["name"] for e in entries])

    coef_names: list = []
    for e in entries:
        coef_names += [c for c in e["names"] if c not in coef_names]
    params = pd.DataFrame(np.nan, index=coef_names, columns=names, dtype=float)
    ses = params.copy()
    stats = pd.DataFrame(None, index=[key for _, key, _ in _STATS], columns=names, dtype=object)
    for nm, e in zip(names, entries):
        coef, se = _renormalise(e["params"], e["cov"], normalize)
        params.loc[list(e["names"]), nm] = coef
        ses.loc[list(e["names"]), nm] = se
        for _, key, _ in _STATS:
            stats.at[key, nm] = e[key]

    notes = ["Standard errors in parentheses; '(fixed)': set by the normalisation."]
    if any(e["parametric"] for e in entries):
        notes.append("Parametric (statsmodels) columns: constant dropped, slopes normalised "
                     "the same way (delta-method standard errors).")
    return Comparison(names=tuple(names), params=params, std_errors=ses, stats=stats,
                      normalize=normalize, notes=tuple(notes))


# -- extraction ------------------------------------------------------------------------
def _entry(model, i) -> dict:
    """Coefficients, covariance and statistics of one model, in a common form."""
    if isinstance(model, IndexResult):
        return _from_result(model, model.model, None, None)
    if hasattr(model, "get_params") and hasattr(model, "fit"):
        result = getattr(model, "result_", None)
        if result is None:
            raise ValueError(
                f"Model {i} ({type(model).__name__}) is not fitted (it has no result_): "
                "call fit first.")
        if not isinstance(result, IndexResult):
            raise TypeError(f"Model {i}: result_ is a {type(result).__name__}, not an IndexResult.")
        return _from_result(result, type(model).__name__, getattr(model, "bandwidth_", None),
                            getattr(model, "n_basis_", None))
    if hasattr(model, "params") and hasattr(model, "model") and hasattr(model, "cov_params"):
        return _from_statsmodels(model, i)
    raise TypeError(
        f"Model {i} is a {type(model).__name__}: compare takes fitted semiparam.index "
        "estimators, IndexResult objects or statsmodels results.")


def _from_result(result, name, bandwidth, n_basis) -> dict:
    return {
        "name": str(name),
        "names": tuple(str(nm) for nm in result.names),
        "params": np.asarray(result.params, dtype=float),
        "cov": None if result.cov is None else np.asarray(result.cov, dtype=float),
        "normalize": result.normalize,
        "llf": _float(result.llf),
        "objective": _float(result.objective),
        "bandwidth": _float(bandwidth),
        "n_basis": None if n_basis is None else int(n_basis),
        "nobs": int(result.nobs),
        "converged": bool(result.converged),
        "parametric": False,
    }


def _from_statsmodels(res, i) -> dict:
    mdl = res.model
    params = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.cov_params(), dtype=float)
    xnames = list(getattr(mdl, "exog_names", None) or [f"x{j}" for j in range(params.size)])
    const = getattr(getattr(mdl, "data", None), "const_idx", None)
    if const is None and getattr(mdl, "k_constant", 0):
        const = next((j for j, nm in enumerate(xnames) if nm in ("const", "Intercept")), None)
    keep = [j for j in range(params.size) if j != const]
    if len(keep) < 1:
        raise ValueError(f"Model {i} has no slope coefficients to compare.")
    orig = getattr(getattr(mdl, "data", None), "orig_exog", None)
    if isinstance(orig, pd.DataFrame):
        names = [str(xnames[j]) for j in keep]
    else:  # numpy design: statsmodels' x1, x2, ... -> semiparam's positional x0, x1, ...
        names = [f"x{j}" for j in range(len(keep))]
    retvals = getattr(res, "mle_retvals", None) or {}
    nobs = getattr(res, "nobs", None)
    return {
        "name": type(mdl).__name__,
        "names": tuple(names),
        "params": params[keep],
        "cov": cov[np.ix_(keep, keep)],
        "normalize": None,
        "llf": _float(getattr(res, "llf", None)),
        "objective": None,
        "bandwidth": None,
        "n_basis": None,
        "nobs": None if nobs is None else int(nobs),
        "converged": bool(retvals.get("converged", True)),
        "parametric": True,
    }


def _renormalise(params, cov, how):
    """Coefficients and standard errors under normalisation ``how`` (delta method)."""
    try:
        coef, _ = normalize_direction(params, how)
    except FloatingPointError:
        return np.full(params.shape, np.nan), np.full(params.shape, np.nan)
    if cov is None:
        return coef, np.full(params.shape, np.nan)
    J = normalization_jacobian(params, how)
    c = J @ cov @ J.T
    se = np.sqrt(np.clip(np.diag(c), 0.0, None))
    if how == "first":
        se[0] = 0.0
    return coef, se


def _float(x):
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _unique(names):
    out, seen = [], {}
    for nm in names:
        seen[nm] = seen.get(nm, 0) + 1
        out.append(nm if seen[nm] == 1 else f"{nm} ({seen[nm]})")
    return out


def _fmt_coef(x) -> str:
    return "" if not np.isfinite(x) else f"{x:.4f}"


def _fmt_se(coef, se) -> str:
    if not np.isfinite(coef):
        return ""
    if not np.isfinite(se):
        return "(n/a)"
    if se == 0.0:
        return "(fixed)"
    return f"({se:.4f})"


def _fmt_stat(v, fmt) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    return fmt.format(v)
