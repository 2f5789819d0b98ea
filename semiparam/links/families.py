"""Parametric link families: ground truth for simulations and fixed links.

Each family is a distribution function ``F`` on the real line (the link) with its
density ``f`` (the link's derivative).  They share :class:`~semiparam.links._base.BaseLink`'s
interface; ``fit`` estimates nothing (the link is fixed) and only records the index
range for plotting.  Registry :data:`LINKS` maps one canonical name to each class:

============================  ==========================================================
``"logistic"``                ``1 / (1 + exp(-u))``
``"probit"``                  standard normal cdf
``"cloglog"``                 ``1 - exp(-exp(u))`` (complementary log-log, asymmetric)
``"cauchit"``                 standard Cauchy cdf (heavy tails)
``"shifted_logistic"``        ``0.5 sigmoid((u - s)/tau) + 0.5 sigmoid((u + s)/tau)``
                              (flat shoulder at 1/2 around 0 when s > 0; s=1.5, tau=0.25)
``"skew_logistic"``           ``sigmoid(u) ** alpha`` (type-I generalised logistic,
                              asymmetric; alpha = 0.25)
============================  ==========================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy import special, stats

from ._base import BaseLink

__all__ = [
    "ParametricLink",
    "LogisticLink",
    "ProbitLink",
    "CloglogLink",
    "CauchitLink",
    "ShiftedLogisticLink",
    "SkewLogisticLink",
    "LINKS",
    "get_link",
]


class ParametricLink(BaseLink, ABC):
    """A fixed link ``F`` with density ``f``."""

    name = "parametric"

    @abstractmethod
    def cdf(self, u):
        """The link ``F(u)``."""

    @abstractmethod
    def pdf(self, u):
        """Its derivative ``f(u)``."""

    def fit(self, v, z=None, sample_weight=None):
        """Nothing to estimate; records the index range (for ``plot``)."""
        v = np.asarray(v, dtype=float)
        if v.size and np.all(np.isfinite(v)):
            self.index_range_ = (float(v.min()), float(v.max()))
        return self

    def __call__(self, u):
        return self.cdf(u)

    def derivative(self, u):
        return self.pdf(u)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


class LogisticLink(ParametricLink):
    name = "logistic"

    def cdf(self, u):
        return special.expit(np.asarray(u, dtype=float))

    def pdf(self, u):
        p = special.expit(np.asarray(u, dtype=float))
        return p * (1.0 - p)


class ProbitLink(ParametricLink):
    name = "probit"

    def cdf(self, u):
        return special.ndtr(np.asarray(u, dtype=float))

    def pdf(self, u):
        return stats.norm.pdf(np.asarray(u, dtype=float))


class CloglogLink(ParametricLink):
    name = "cloglog"

    def cdf(self, u):
        with np.errstate(over="ignore"):
            return -np.expm1(-np.exp(np.asarray(u, dtype=float)))

    def pdf(self, u):
        u = np.asarray(u, dtype=float)
        with np.errstate(over="ignore"):
            e = np.exp(u)
            return np.where(np.isfinite(e), e * np.exp(-e), 0.0)


class CauchitLink(ParametricLink):
    name = "cauchit"

    def cdf(self, u):
        return 0.5 + np.arctan(np.asarray(u, dtype=float)) / np.pi

    def pdf(self, u):
        u = np.asarray(u, dtype=float)
        return 1.0 / (np.pi * (1.0 + u * u))


class ShiftedLogisticLink(ParametricLink):
    """Equal mixture of two logistic cdfs centred at -s and +s with scale tau."""

    name = "shifted_logistic"

    def __init__(self, s: float = 1.5, tau: float = 0.25):
        if not (np.isfinite(s) and s >= 0):
            raise ValueError(f"s must be a finite number >= 0; got {s!r}.")
        if not (np.isfinite(tau) and tau > 0):
            raise ValueError(f"tau must be a finite number > 0; got {tau!r}.")
        self.s = float(s)
        self.tau = float(tau)

    def cdf(self, u):
        u = np.asarray(u, dtype=float)
        return 0.5 * special.expit((u - self.s) / self.tau) + 0.5 * special.expit(
            (u + self.s) / self.tau
        )

    def pdf(self, u):
        u = np.asarray(u, dtype=float)
        a = special.expit((u - self.s) / self.tau)
        b = special.expit((u + self.s) / self.tau)
        return 0.5 * (a * (1 - a) + b * (1 - b)) / self.tau


class SkewLogisticLink(ParametricLink):
    """``sigmoid(u) ** alpha``: asymmetric (left-skewed for alpha < 1)."""

    name = "skew_logistic"

    def __init__(self, alpha: float = 0.25):
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be a finite number > 0; got {alpha!r}.")
        self.alpha = float(alpha)

    def cdf(self, u):
        u = np.asarray(u, dtype=float)
        return np.exp(self.alpha * special.log_expit(u))

    def pdf(self, u):
        u = np.asarray(u, dtype=float)
        return self.alpha * self.cdf(u) * special.expit(-u)


LINKS = {
    cls.name: cls
    for cls in (
        LogisticLink,
        ProbitLink,
        CloglogLink,
        CauchitLink,
        ShiftedLogisticLink,
        SkewLogisticLink,
    )
}


def get_link(link, **params) -> ParametricLink:
    """Resolve a link family by canonical name (or pass an instance through)."""
    if isinstance(link, BaseLink):
        if params:
            raise ValueError("Parameters can only be given with a link name, not an instance.")
        return link
    if not isinstance(link, str) or link not in LINKS:
        raise ValueError(
            f"Unknown link {link!r}; choose one of {sorted(LINKS)} or pass a link object."
        )
    return LINKS[link](**params)
