r"""The one separation check of every binary classifier, and its words.

A binary sample is *separated* by a linear index when some direction ``b`` (and, for a
model whose link absorbs location, some threshold ``c``) orders every row without
error: ``(2 z_k - 1)(x_k'b - c) >= 0`` for all rows with positive weight.  It is
*completely* separated when every inequality is strict, *quasi-completely* when some
hold with equality (ties at the threshold, e.g. ``z = 1`` wherever ``x_0 > 0``, both
classes where ``x_0 = 0``).  Then the logit MLE does not exist (Albert & Anderson
1984), and the semiparametric estimators lose identification the same way: any
monotone link with a step at the threshold fits the labels, the leave-one-out
likelihood of a kernel link improves as the bandwidth shrinks, the isotonic score
equation is solved by every separating direction, and a sieve link steepens without
bound.

:func:`check_separation` decides it with the Gordan certificate of
:mod:`semiparam.index.newton` (module docstring there): damped Newton on the
unpenalised logistic likelihood of the signed rows ``(2 z - 1) [x, 1]`` (``[x]``
without a threshold; standardised columns), each iterate offering either a strictly
positive ``lambda`` with ``A' lambda = 0`` (overlap: a proof) or a step along which
every row's margin grows
(complete or quasi-complete separation); if Newton exhausts its iterations without
either, the sample counts as numerically separated when some fitted probability is 1
to machine precision.  ``O(n d^2)`` per iteration, no linear program.  The logit and
ranking estimators and every logit start run the same Newton (with their own designs)
as their fit and read the same verdict from it; every other classifier calls
:func:`check_separation` on ``[X, 1]`` (their links absorb location).

:func:`separation_message` gives the words, the same in every estimator: which kind of
separation, of what (``"classes"``, ``"pairs"``, ...), and what the estimator does
about it; :func:`ridge_consequence` and :data:`RAISE_CONSEQUENCE` are the consequences
of the one separation policy (:func:`semiparam.index.newton.solve_with_separation_policy`).

References
----------
Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood
estimates in logistic regression models. *Biometrika* 71(1), 1-10.
Santner, T. J. and Duffy, D. E. (1986). A note on A. Albert and J. A. Anderson's
conditions for the existence of maximum likelihood estimates in logistic regression
models. *Biometrika* 73(3), 755-758.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import SeparationWarning, warn

__all__ = ["KINDS", "RAISE_CONSEQUENCE", "check_separation", "ridge_consequence",
           "separation_message", "warn_separation"]

#: the kinds of separation and how :func:`separation_message` describes them
KINDS = {
    "complete": "completely separated by a linear index (it orders every one of them "
    "without error)",
    "quasi-complete": "quasi-completely separated by a linear index (it orders them "
    "without error, with ties at the threshold)",
    "numerical": "numerically separated by a linear index (the logit fit drives "
    "probabilities to 0 or 1 to machine precision and no overlap certificate exists)",
}


def check_separation(X, z, w, *, threshold: bool = True, max_iter: int = 100):
    """How a linear index separates the two classes: a key of :data:`KINDS`, or None.

    Parameters
    ----------
    X : ndarray (n, d)
        Design (no intercept column).
    z : ndarray (n,)
        Labels in {0, 1}.
    w : ndarray (n,)
        Nonnegative weights (rows with weight 0 are ignored).
    threshold : bool, default=True
        Allow a threshold (the index models, whose link absorbs location); False for an
        index through the origin (the logit without intercept, preference pairs).
    max_iter : int
        Newton iterations (it stops as soon as either certificate holds).
    """
    from .newton import _logit_rows, newton_softplus  # same package: the shared engine

    X = np.asarray(X, dtype=float)
    z = np.asarray(z, dtype=float)
    w = np.asarray(w, dtype=float)
    keep = w > 0
    if not np.any(keep) or np.all(z[keep] == z[keep][0]):
        return None
    op, c, pen, start, scale, _ = _logit_rows(X, z, w / w[keep].mean(), threshold)
    out = newton_softplus(op, c, pen=pen, start=start, scale=scale, max_iter=max_iter,
                          tol=1e-10, detect=True)
    return out.kind if out.separated else None


def separation_message(name: str, kind: str, consequence: str, units: str = "classes") -> str:
    """``"{name}: the {units} are {KINDS[kind]}, so {consequence}"`` (the shared words)."""
    return f"{name}: the {units} are {KINDS[kind]}, so {consequence}"


def ridge_consequence(C) -> str:
    """What the logit and ranking estimators do under separation (``separation="warn"``)."""
    return (f"the unpenalised estimate does not exist (its norm diverges). Refitting with "
            f"the ridge penalty |coef|^2 / (2 C), C = {C:g}; set penalty='l2' and C to "
            "choose the strength yourself.")


#: what they say before raising (``separation="raise"``)
RAISE_CONSEQUENCE = ("the unpenalised estimate does not exist (its norm diverges). Use "
                     "penalty='l2' or separation='warn' to fit a ridge-penalised model.")


def warn_separation(name: str, kind: str, consequence: str, units: str = "classes") -> None:
    """Issue :func:`separation_message` as a :class:`~semiparam.exceptions.SeparationWarning`
    at the caller's line."""
    warn(separation_message(name, kind, consequence, units), SeparationWarning)
