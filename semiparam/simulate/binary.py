"""Binary-choice single-index data with a known link (ground truth for tests and demos)."""

from __future__ import annotations

import numpy as np

from ..links.families import get_link

__all__ = ["make_single_index", "angle"]


def make_single_index(
    n: int,
    coef,
    *,
    link="shifted_logistic",
    link_params: dict | None = None,
    scale: float = 1.0,
    design: str = "normal",
    random_state=None,
):
    """Simulate ``z ~ Bernoulli(F(scale * x'coef))`` with a known link ``F``.

    Parameters
    ----------
    n : int
        Number of rows.
    coef : array-like (d,)
        True direction (need not be normalised; ``scale`` multiplies it).
    link : str or link object
        A family from :data:`semiparam.links.families.LINKS` or a link object with ``cdf``.
    link_params : dict
        Parameters of the family (e.g. ``{"s": 1.5, "tau": 0.25}``).
    design : {"normal", "mixed", "labor"}
        ``"normal"``: iid N(0, 1) columns; ``"mixed"``: the first column N(0, 1), the
        second Bernoulli(1/2), the rest uniform on (-sqrt 3, sqrt 3) — discrete and
        bounded regressors as in applied work.  ``"labor"``: shaped like labour-force
        participation data: the first column N(0, 1) (say log non-labour income), the
        second Bernoulli(0.4) (a binary indicator), the third Poisson(1) (a count:
        children), the rest standardised chi-squared(3) (skewed: experience).
    random_state : int, Generator or None

    Returns
    -------
    X : ndarray (n, d)
    z : ndarray (n,) of {0, 1} integers
    """
    rng = np.random.default_rng(random_state)
    coef = np.asarray(coef, dtype=float)
    d = coef.shape[0]
    if design == "normal":
        X = rng.standard_normal((n, d))
    elif design == "mixed":
        X = rng.uniform(-np.sqrt(3), np.sqrt(3), size=(n, d))
        X[:, 0] = rng.standard_normal(n)
        if d > 1:
            X[:, 1] = rng.integers(0, 2, size=n)
    elif design == "labor":
        X = (rng.chisquare(3, size=(n, d)) - 3.0) / np.sqrt(6.0)
        X[:, 0] = rng.standard_normal(n)
        if d > 1:
            X[:, 1] = rng.binomial(1, 0.4, size=n)
        if d > 2:
            X[:, 2] = rng.poisson(1.0, size=n)
    else:
        raise ValueError(f"design must be 'normal', 'mixed' or 'labor'; got {design!r}.")
    F = get_link(link, **(link_params or {}))
    p = F.cdf(scale * (X @ coef))
    z = (rng.uniform(size=n) < p).astype(int)
    return X, z


def angle(a, b) -> float:
    """Angle in degrees between two directions (sign-sensitive)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    # 2 asin(|a - b| / 2) is accurate for small angles, unlike acos(a.b)
    return float(np.degrees(2.0 * np.arcsin(min(1.0, np.linalg.norm(a - b) / 2.0))))
