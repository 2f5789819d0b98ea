"""Immutable results of a fitted single-index model, with statsmodels-style summaries.

An estimator builds an :class:`IndexResult` once it has a direction and (optionally)
a covariance of the *normalised* coefficients.  The result only reports: it never
refits.  ``summary(alpha)`` returns a :class:`statsmodels.iolib.summary.Summary`
(``as_text()``, ``as_html()``, ``as_latex()``), built from statsmodels' table machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from scipy import stats

__all__ = ["IndexResult"]


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
    params : ndarray (d,)
        Normalised coefficients (unit norm, or first coefficient = 1).
    cov : ndarray (d, d) or None
        Estimated covariance of ``params`` (singular: the normalisation removes one
        dimension).  None when no covariance was computed.
    names : tuple of str
        Feature names.
    nobs : int
        Number of rows used.
    llf : float or None
        Maximised (leave-one-out / profile) log-likelihood, where it applies.
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
        Cautions printed under the coefficient table (e.g. why the standard errors may
        not be trusted).
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
    notes: tuple = ()

    def __post_init__(self):
        p = np.array(self.params, dtype=float)
        p.setflags(write=False)
        object.__setattr__(self, "params", p)
        if self.cov is not None:
            c = np.array(self.cov, dtype=float)
            c = 0.5 * (c + c.T)
            c.setflags(write=False)
            object.__setattr__(self, "cov", c)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "info", dict(self.info))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def std_errors(self) -> np.ndarray:
        """Standard errors (NaN without a covariance; 0 for the first coefficient under
        ``normalize="first"``, fixed by the normalisation, shown as '(fixed)')."""
        if self.cov is None:
            return np.full(self.params.shape, np.nan)
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    @property
    def tvalues(self) -> np.ndarray:
        se = self.std_errors
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(se > 0, self.params / se, np.nan)

    @property
    def pvalues(self) -> np.ndarray:
        return 2 * stats.norm.sf(np.abs(self.tvalues))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """Wald intervals, shape (d, 2)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        q = stats.norm.ppf(1 - alpha / 2)
        se = self.std_errors
        return np.column_stack([self.params - q * se, self.params + q * se])

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
        ci = self.conf_int(alpha)
        se = self.std_errors
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        body = []
        for j, name in enumerate(self.names):
            fixed = self.cov is not None and self.normalize == "first" and j == 0
            if self.cov is None or fixed:
                extra = ["(fixed)" if fixed else "", "", "", "", ""]
            else:
                extra = [f"{se[j]:.4g}", f"{self.tvalues[j]:.3f}", f"{self.pvalues[j]:.3f}",
                         f"{ci[j, 0]:.4g}", f"{ci[j, 1]:.4g}"]
            body.append([f"{self.params[j]:.4g}"] + extra)
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
        if not self.converged:
            note.append("The optimiser did not converge: treat the estimates with caution.")
        note.extend(self.notes)
        smry.add_extra_txt(note)
        return smry
