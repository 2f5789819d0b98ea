"""Immutable results of a fitted single-index model, with statsmodels-style summaries.

An estimator builds an :class:`IndexResult` once it has a direction and (optionally)
a covariance of the *normalised* coefficients.  The result only reports: it never
refits.  It reads like a statsmodels result: ``params``, ``bse``, ``tvalues`` and
``pvalues`` are pandas Series named by feature, ``cov_params()`` and ``conf_int()`` are
DataFrames, and ``summary(alpha)`` returns a :class:`statsmodels.iolib.summary.Summary`
(``as_text()``, ``as_html()``, ``as_latex()``), built from statsmodels' table machinery.

Covariance types
----------------
``cov_type`` names the same thing the same way in every estimator (:data:`COV_TYPES`; an
estimator offers the subset that applies to it, and ``None`` computes no covariance):

=============  ===========================================================================
``efficient``  the inverse of the estimated semiparametric efficient information
``sandwich``   ``H^- S H^-``: the inverse Hessian of the objective around the outer
               product of the per-row scores
``bootstrap``  the covariance of full refits on resampled rows
               (:mod:`semiparam.index.bootstrap`)
``fisher``     the inverse Fisher information of a parametric likelihood (logit)
=============  ===========================================================================

Likelihood statistics
---------------------
``llf`` is the maximised log-likelihood (leave-one-out for Klein–Spady, profile for the
isotonic fit, plain for logit and the sieve).  ``llnull`` is the log-likelihood of the
constant model ``P(z = 1) = zbar`` (weighted), ``prsquared = 1 - llf / llnull``
(McFadden).  ``aic = -2 llf + 2 df_model`` and ``bic = -2 llf + log(n) df_model`` only
where ``df_model``, the number of free parameters, is defined: logit (slopes plus
intercept) and the sieve (the ``d - 1`` free directions plus the link's spline
coefficients and intercept); for kernel and isotonic links it is not (the link has no
finite dimension and a leave-one-out likelihood needs no penalty), and they are NaN.

:func:`record_fit` is what the estimators' ``fit`` runs: it calls ``_fit``, keeps the
training data (for marginal effects and link plots) and stores the warnings raised
during the fit, with ``llnull``, on ``result_``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import NoneOK, Options

__all__ = ["IndexResult", "record_fit", "recorded_warnings", "COV_TYPES", "cov_type_constraint"]

#: every ``cov_type`` name an estimator may offer (module docstring), besides None
COV_TYPES = ("efficient", "sandwich", "bootstrap", "fisher")


def cov_type_constraint(*names) -> list:
    """The ``_parameter_constraints`` entry of an estimator offering ``names`` (and None).

    One constraint for every estimator, so that an unknown name gives the same error
    everywhere (``validate_params``: "The 'cov_type' parameter of ... must be ...").
    """
    unknown = set(names) - set(COV_TYPES)
    if unknown:
        raise ValueError(f"unknown cov_type names {sorted(unknown)}; known: {list(COV_TYPES)}")
    return [Options(set(names)), NoneOK()]


class _SummaryStr:
    """``__str__``/``_repr_html_`` from ``summary()`` (linearmodels' mixin idea)."""

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()


@dataclass(frozen=True, eq=False)
class IndexResult(_SummaryStr):
    """Fitted single-index model: normalised coefficients and their inference.

    Attributes
    ----------
    params : Series (d,)
        Normalised coefficients (unit norm, or first coefficient = 1), named by feature.
    cov : ndarray (d, d) or None
        Estimated covariance of ``params`` (singular: the normalisation removes one
        dimension).  None when no covariance was computed.  ``cov_params()`` is the
        same as a DataFrame.
    names : tuple of str
        Feature names.
    nobs : int
        Number of rows used.
    llf : float or None
        Maximised (leave-one-out / profile) log-likelihood, where it applies.
    llnull : float or None
        Log-likelihood of the constant-probability model (binary outcomes).
    df_model : float or None
        Number of free parameters, where defined (module docstring); AIC/BIC use it.
    objective : float or None
        Minimised objective per row (e.g. leave-one-out MSE for Ichimura).
    model : str
        Estimator name shown in the summary header.
    cov_type : str
        How ``cov`` was estimated ("efficient", "sandwich", "bootstrap", ...).
    info : mapping
        Further lines for the header (bandwidth, kernel, basis size, ...).
    link_estimated : bool
        False for a parametric link (logit): the footnote then says the link is fixed.
    notes : tuple of str
        Cautions printed under the coefficient table (why the standard errors may not be
        trusted, no intercept, formula handling, ...).
    fit_warnings : tuple of str
        Warnings raised during the fit, as ``"Category: message"``.
    """

    params: np.ndarray
    cov: np.ndarray | None
    names: tuple
    nobs: int
    model: str
    normalize: str = "unit"
    llf: float | None = None
    objective: float | None = None
    converged: bool = True
    cov_type: str = "none"
    info: Mapping = field(default_factory=dict)
    link_estimated: bool = True
    llnull: float | None = None
    df_model: float | None = None
    notes: tuple = ()
    fit_warnings: tuple = ()

    def __post_init__(self):
        names = tuple(str(n) for n in self.names)
        p = np.array(self.params, dtype=float)
        p.setflags(write=False)
        object.__setattr__(self, "_params", p)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "params", pd.Series(p, index=list(names), copy=False))
        if self.cov is not None:
            c = np.array(self.cov, dtype=float)
            c = 0.5 * (c + c.T)
            c.setflags(write=False)
            object.__setattr__(self, "cov", c)
        object.__setattr__(self, "info", dict(self.info))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "fit_warnings", tuple(self.fit_warnings))

    def _series(self, values, name=None):
        return pd.Series(np.asarray(values, dtype=float), index=list(self.names), name=name)

    # -- coefficients and their inference ---------------------------------------------
    @property
    def std_errors(self) -> np.ndarray:
        """Standard errors as an array (NaN without a covariance; 0 for the first
        coefficient under ``normalize="first"``, fixed by the normalisation, shown as
        '(fixed)').  ``bse`` is the same as a Series."""
        if self.cov is None:
            return np.full(self._params.shape, np.nan)
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    @property
    def bse(self) -> pd.Series:
        """Standard errors, a Series named by feature (statsmodels' name)."""
        return self._series(self.std_errors, "bse")

    def _t(self) -> np.ndarray:
        se = self.std_errors
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(se > 0, self._params / se, np.nan)

    @property
    def tvalues(self) -> pd.Series:
        """Wald statistics ``params / bse`` (NaN where the standard error is 0 or NaN)."""
        return self._series(self._t(), "tvalues")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided normal p-values of ``tvalues``."""
        return self._series(2 * stats.norm.sf(np.abs(self._t())), "pvalues")

    def cov_params(self) -> pd.DataFrame:
        """Covariance of ``params`` as a DataFrame (NaN without a covariance)."""
        c = self.cov if self.cov is not None else np.full((len(self.names),) * 2, np.nan)
        return pd.DataFrame(np.array(c), index=list(self.names), columns=list(self.names))

    def _ci(self, alpha):
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        q = stats.norm.ppf(1 - alpha / 2)
        se = self.std_errors
        return np.column_stack([self._params - q * se, self._params + q * se])

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals, a DataFrame indexed by feature with columns lower, upper."""
        return pd.DataFrame(self._ci(alpha), index=list(self.names), columns=["lower", "upper"])

    # -- likelihood statistics --------------------------------------------------------
    @property
    def prsquared(self) -> float:
        """McFadden's pseudo-R-squared ``1 - llf / llnull`` (NaN where undefined)."""
        if self.llf is None or self.llnull is None or self.llnull == 0:
            return float("nan")
        return float(1.0 - self.llf / self.llnull)

    @property
    def aic(self) -> float:
        """``-2 llf + 2 df_model`` (NaN where ``df_model`` is undefined)."""
        if self.llf is None or self.df_model is None:
            return float("nan")
        return float(-2.0 * self.llf + 2.0 * self.df_model)

    @property
    def bic(self) -> float:
        """``-2 llf + log(nobs) df_model`` (NaN where ``df_model`` is undefined)."""
        if self.llf is None or self.df_model is None:
            return float("nan")
        return float(-2.0 * self.llf + np.log(self.nobs) * self.df_model)

    # -- summary ----------------------------------------------------------------------
    def summary(self, alpha: float = 0.05):
        """A statsmodels ``Summary`` (text via ``as_text()``, HTML via ``as_html()``)."""
        from statsmodels.iolib.summary import Summary
        from statsmodels.iolib.table import SimpleTable

        left = [
            ("Model:", self.model),
            ("No. Observations:", str(self.nobs)),
            ("Normalisation:", "unit norm" if self.normalize == "unit" else "first coef = 1"),
            ("Covariance:", self.cov_type),
            ("Converged:", str(bool(self.converged))),
        ]
        right = []
        if self.llf is not None:
            right.append(("Log-Likelihood:", f"{self.llf:#.6g}"))
        if self.llnull is not None:
            right.append(("LL-Null:", f"{self.llnull:#.6g}"))
            if self.llf is not None:
                right.append(("Pseudo R-squ.:", f"{self.prsquared:.4f}"))
        if self.df_model is not None and self.llf is not None:
            right.append(("AIC:", f"{self.aic:#.6g}"))
            right.append(("BIC:", f"{self.bic:#.6g}"))
        if self.objective is not None:
            right.append(("Objective:", f"{self.objective:#.6g}"))
        for k, v in self.info.items():
            right.append((f"{k}:", f"{v:#.4g}" if isinstance(v, float) else str(v)))
        rows = max(len(left), len(right))
        left += [("", "")] * (rows - len(left))
        right += [("", "")] * (rows - len(right))
        header = SimpleTable(
            [[a, b, c, d] for (a, b), (c, d) in zip(left, right)],
            title=f"{self.model} Results",
        )
        ci = self._ci(alpha)
        se = self.std_errors
        t = self._t()
        pv = 2 * stats.norm.sf(np.abs(t))
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        body = []
        for j, name in enumerate(self.names):
            fixed = self.cov is not None and self.normalize == "first" and j == 0
            if self.cov is None or fixed:
                extra = ["(fixed)" if fixed else "", "", "", "", ""]
            else:
                extra = [f"{se[j]:.4g}", f"{t[j]:.3f}", f"{pv[j]:.3f}",
                         f"{ci[j, 0]:.4g}", f"{ci[j, 1]:.4g}"]
            body.append([f"{self._params[j]:.4g}"] + extra)
        params = SimpleTable(
            body, headers=["coef", "std err", "z", "P>|z|", lo, hi], stubs=list(self.names)
        )
        smry = Summary()
        smry.tables = [header, params]
        if self.link_estimated:
            note = ["The link is estimated nonparametrically; coefficients are identified up "
                    "to scale and reported normalised."]
        else:
            note = ["The link is a fixed parametric family; coefficients are reported "
                    "normalised (the raw scale is kept on the estimator)."]
        note.extend(self.notes)
        if not self.converged:
            note.append("The optimiser did not converge: treat the estimates with caution.")
        note.extend(self.notes)
        if self.fit_warnings:
            note.append("Warnings raised during the fit:")
            note.extend(f"  - {w}" for w in self.fit_warnings)
        smry.add_extra_txt(note)
        return smry


# --------------------------------------------------------------------------- fit hook
def _null_loglik(z, w):
    """Weighted log-likelihood of the constant model (binary ``z``)."""
    sw = float(w.sum())
    p = float(w @ z) / sw
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return float(sw * (p * np.log(p) + (1.0 - p) * np.log1p(-p)))


def _df_model(est):
    """Free parameters where the count is defined (module docstring), else None."""
    from ..links.families import ParametricLink
    from ..links.sieve import SieveLink

    link = getattr(est, "link_", None)
    d = est.coef_.size
    if isinstance(link, ParametricLink) and hasattr(est, "coef_raw_"):
        return float(d + int(bool(getattr(est, "fit_intercept", False))))
    if isinstance(link, SieveLink):
        return float(d - 1 + link.n_basis_ + 1)
    return None


def _modules_by_file():
    """Loaded modules by source file: a re-issued warning keeps its module name (which
    ``filterwarnings`` patterns match) and its once-per-location registry."""
    import sys

    out = {}
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if f:
            out.setdefault(f, mod)
    return out


@contextlib.contextmanager
def recorded_warnings():
    """Record every warning raised inside the block (re-issued by :func:`record_fit`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def record_fit(est, X, target, w, caught=()):
    """Keep the training data and the fit's warnings on ``est.result_``.

    ``caught``: the warnings recorded around ``est._fit`` (:func:`recorded_warnings`).
    They are re-issued unchanged (category, message, origin, module, once-per-location
    registry), so the caller's filters apply as before; the summary lists them.  Sets
    ``bandwidth_sd_`` (the bandwidth in standard deviations of the fitted index, the
    unit of the ``bandwidth=`` parameter of the kernel estimators) where the estimator
    takes a ``bandwidth`` parameter and reports ``bandwidth_`` in index units.
    """
    if caught:
        modules = _modules_by_file()
        for m in caught:
            mod = modules.get(m.filename)
            registry = None if mod is None else mod.__dict__.setdefault("__warningregistry__", {})
            warnings.warn_explicit(m.message, m.category, m.filename, m.lineno,
                                   module=None if mod is None else mod.__name__,
                                   registry=registry, source=m.source)
    est._train_data = (X, np.asarray(target, dtype=float), w)
    if "bandwidth" in est.get_params() and hasattr(est, "bandwidth_") \
            and not hasattr(est, "bandwidth_factor"):
        from ..stats import weighted_sd

        sd = weighted_sd(X @ est.coef_, w)
        est.bandwidth_sd_ = float(est.bandwidth_ / sd) if sd > 0 else float("nan")
    res = getattr(est, "result_", None)
    if not isinstance(res, IndexResult):
        return
    changes = {}
    ours = [m for m in caught if issubclass(m.category, UserWarning)]
    if ours:
        changes["fit_warnings"] = res.fit_warnings + tuple(
            f"{m.category.__name__}: {m.message}" for m in ours)
    if hasattr(est, "classes_") and res.llnull is None:
        changes["llnull"] = _null_loglik(np.asarray(target, dtype=float)[w > 0], w[w > 0])
    if res.df_model is None:
        df = _df_model(est)
        if df is not None:
            changes["df_model"] = df
    if getattr(est, "bandwidth_sd_", None) is not None and "Bandwidth" in res.info:
        info = {}
        for k, v in res.info.items():
            if k == "Bandwidth":
                info["Bandwidth (index)"] = float(est.bandwidth_)
                info["Bandwidth (sd)"] = float(est.bandwidth_sd_)
            else:
                info[k] = v
        changes["info"] = info
        changes["notes"] = tuple(changes.get("notes", res.notes)) + (
            "Bandwidth (index) is bandwidth_, in units of the normalised index; Bandwidth "
            "(sd) is bandwidth_sd_, in standard deviations of the index, the unit of the "
            "bandwidth= parameter: bandwidth=est.bandwidth_sd_ refits at this bandwidth.",)
    if changes:
        est.result_ = dataclasses.replace(res, **changes)
