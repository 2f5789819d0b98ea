"""Link-free bipartite ranking estimator of a single index (smoothed Han 1987; RSPO).

With a nondecreasing link, the true index ranks a positive row above a negative one
more often than any other direction does: ``beta`` maximises the probability
``P(x_i'b > x_j'b | z_i = 1, z_j = 0)``, i.e. the AUC of the index (Han's 1987 maximum
rank correlation), whatever the link.  The 0-1 objective is a step function; its
logistic surrogate

    L(b) = sum_{(i, j)} w_i w_j softplus(-(v_i - v_j)) / sum_{(i, j)} w_i w_j,
    v = X b,  i over rows with z = 1, j over rows with z = 0,

is smooth and convex and is what :class:`PairwiseRankingClassifier` minimises.  It
identifies the direction without any model for the link (the scale of ``b`` is the
surrogate's, not a link's).

Preference data.  A preference row ``(t, z)`` with its swap ``(-t, 1 - z)`` makes the
positives ``{m_k}`` and the negatives ``{-m_k}``, ``m = (2 z - 1) t`` the signed margin,
so the bipartite loss over all positive/negative pairs is RSPO's
``mean_{(k, l)} softplus(-(m_k + m_l))`` over all ordered pairs, diagonal included
(``docs/policy.md``, RSPO).  Fitting this estimator on the swap-augmented table
``X = [D; -D], y = [z; 1 - z]`` with ``n_pairs="all"`` is RSPO exactly.

Pairs.  All ``n_pos * n_neg`` pairs cost ``O(n^2)``.  By default
(``n_pairs="auto"``) all pairs are used while there are at most
``min(50 n, 10**7)`` of them; otherwise that many pairs are drawn once, uniformly with
replacement (positive and negative independently, seeded by ``random_state``) and kept
fixed during the optimisation -- an incomplete U-statistic whose variance exceeds the
complete one's by a term of relative size ``O(n / n_pairs)`` (about 1-3% of the
variance at ``50 n`` pairs).  Each evaluation then costs one product ``X b``, scalar
work over the pairs, ``np.bincount`` back to rows and one product ``X' r``:
``O(n d + n_pairs)``.

Optimiser.  Damped Newton by the package's one logistic engine
(:mod:`semiparam.index.newton`, whose "signed rows" are here the pair differences
``x_i - x_j``, each column divided by its weighted standard deviation).  The objective
and its gradient always use every pair.  The Hessian
``sum_pairs h_ij (x_i - x_j)(x_i - x_j)'`` is exact while it is cheap (at most
``5e6 / d`` pairs and about 25 flops per pair, or at most ``n_h`` pairs); beyond that it
is estimated at each iteration from ``n_h = min(max(5000, 40 d), 5e6 / d)`` pairs drawn
with probability proportional to their curvature ``h_ij`` (systematic sampling;
unbiased).  This is sub-sampled Newton (Byrd et al. 2011; Roosta-Khorasani & Mahoney
2019): same minimiser, linear convergence with a small rate instead of quadratic, and a
Hessian cost of ``O(n_h d^2)`` instead of ``O(n_pairs d^2)`` -- typically 10-15
iterations at ``d = 180``.

Separation.  When the sampled pairs can all be ordered correctly by some direction (in
particular when the classes are linearly separable), ``L`` has no minimiser: the norm
runs off to infinity, exactly as DPO's likelihood does.  Detection and handling are
the engine's one separation policy (:mod:`semiparam.index.newton`: a certificate of
overlap computed from each Newton step; separation declared when an iterate or a step
orders every pair): ``separation="warn"`` (default) warns with
:class:`~semiparam.exceptions.SeparationWarning` and refits with the ridge penalty
``||b||^2 / (2 C)`` added to ``W * L(b)``, ``W`` the total sample weight (so ``C`` means
what it means for a logistic regression on ``W`` rows; ``C = 1`` by default).

Link and inference.  ``link_`` is an isotonic regression of ``z`` on the fitted
normalised index (monotone, clipped to ``[1e-4, 1 - 1e-4]``), so ``predict_proba``
works; ``auc_`` is the in-sample AUC (Han's objective, ties counted one half).  The
surrogate's Hessian does not give a valid covariance (the gradient is a U-statistic);
``n_bootstrap > 0`` estimates the covariance of ``coef_`` by the nonparametric bootstrap
(rows resampled with replacement, pairs redrawn, the final ridge strength kept).

References
----------
Han, A. K. (1987). Non-parametric analysis of a generalized regression model: the
maximum rank correlation estimator. *Journal of Econometrics* 35, 303-316.
Byrd, R. H., Chin, G. M., Neveitt, W. and Nocedal, J. (2011). On the use of
stochastic Hessian information in optimization methods for machine learning. *SIAM
Journal on Optimization* 21(3), 977-995.
Roosta-Khorasani, F. and Mahoney, M. W. (2019). Sub-sampled Newton methods.
*Mathematical Programming* 174, 293-326.
Sherman, R. P. (1993). The limiting distribution of the maximum rank correlation
estimator. *Econometrica* 61(1), 123-137.
Clémençon, S., Lugosi, G. and Vayatis, N. (2008). Ranking and empirical minimization
of U-statistics. *Annals of Statistics* 36(2), 844-874.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._validation import (
    InstanceOf,
    Interval,
    NoneOK,
    Options,
    check_binary_target,
    check_sample_weight,
)
from ..links import IsotonicLink
from ._base import BaseIndexClassifier, normalize_direction
from .bootstrap import bootstrap
from .newton import column_scales, newton_softplus, softplus_neg, solve_with_separation_policy
from .results import IndexResult, cov_type_constraint

__all__ = ["PairwiseRankingClassifier", "ranking_loss"]

#: default pair budget: all pairs while there are at most min(_PAIRS_PER_ROW * n, _MAX_PAIRS)
_PAIRS_PER_ROW = 50
_MAX_PAIRS = 10_000_000
#: the Newton Hessian is exact (differences of all pairs formed once) while there are
#: at most min(max(n_h, 25 n_pairs / d^2), 5e6 / d) pairs -- at most ~25 flops per pair
#: and 40 MB; otherwise n_h = min(max(5000, 40 d), 5e6 / d) pairs are drawn afresh at
#: each iteration
_MIN_HESSIAN_PAIRS = 5_000
_HESSIAN_PAIRS_PER_COLUMN = 40
_HESSIAN_FLOPS_PER_PAIR = 25
_HESSIAN_CELLS = 5_000_000
#: clipping of the isotonic link away from 0 and 1
_LINK_CLIP = 1e-4


# ---------------------------------------------------------------------------------
# pairs and the implicit pair-difference operator
# ---------------------------------------------------------------------------------
def _resolve_n_pairs(n_pairs, n, n_pos, n_neg):
    """Number of pairs to draw, or None for all pairs."""
    total = n_pos * n_neg
    if n_pairs == "all":
        return None
    target = min(_PAIRS_PER_ROW * n, _MAX_PAIRS) if n_pairs == "auto" else int(n_pairs)
    return None if target >= total else target


def _draw_pairs(n_pos, n_neg, n_draw, rng):
    """The pairs as ``(counts, jl)``: pair ``k`` joins positive number ``p(k)`` (pairs
    sorted by positive, ``counts[p]`` of them for positive ``p``) and negative number
    ``jl[k]`` (indices local to the positives and negatives).

    ``n_draw=None``: every positive/negative pair.  Otherwise ``n_draw`` pairs drawn
    uniformly with replacement: a multinomial count per positive (which keeps the pairs
    sorted by positive) and a uniform negative.
    """
    if n_draw is None:
        return np.full(n_pos, n_neg), np.tile(np.arange(n_neg), n_pos)
    counts = rng.multinomial(n_draw, np.full(n_pos, 1.0 / n_pos))
    return counts, rng.integers(0, n_neg, size=n_draw)


class _PairRows:
    """The signed rows ``a_k = x_{i_k} - x_{j_k}`` of the pairs, never all formed.

    Pairs are stored by positive (a count per positive row) and a local index into the
    negative rows, so that ``A b`` is one ``np.repeat`` (sequential) minus one gather
    from the negatives' index values, and ``A' r`` one ``np.add.reduceat`` plus one
    ``np.bincount``.  The Hessian (``gram``) is exact when ``n_hess`` is None (the
    differences of all pairs formed once); otherwise it is estimated at every call from
    ``n_hess`` pairs drawn with probability proportional to their current weight ``h``
    (systematic sampling, seeded by ``rng``), each weighted ``sum(h) / n_hess``:
    unbiased, and far less variable than a uniform subsample when a few pairs carry
    most of the curvature.
    """

    def __init__(self, X, pos, neg, counts, jl, n_hess=None, rng=None):
        self.X = X
        self.n = X.shape[0]
        self.pos, self.neg, self.counts, self.jl = pos, neg, counts, jl
        self.Xp, self.Xn = X[pos], X[neg]
        cum = np.concatenate([[0], np.cumsum(counts)])
        self.cum = cum
        nz = counts > 0
        self._starts, self._pos_nz = cum[:-1][nz], pos[nz]
        self.n_pairs = int(cum[-1])
        self.n_hess = n_hess
        self.rng = rng
        self.Dh = (np.repeat(self.Xp, counts, axis=0) - self.Xn[jl]) if n_hess is None else None
        self.hessian_terms = (None, None)
        self._norms = None

    @property
    def i(self):
        """Row index of each pair's positive."""
        return np.repeat(self.pos, self.counts)

    @property
    def j(self):
        """Row index of each pair's negative."""
        return self.neg[self.jl]

    def matvec(self, b):
        out = np.take(self.Xn @ b, self.jl, mode="clip")  # "clip": no bounds checks
        return np.subtract(np.repeat(self.Xp @ b, self.counts), out, out=out)

    def rmatvec(self, r):
        gp = np.add.reduceat(r, self._starts)
        gn = np.bincount(self.jl, r, self.neg.shape[0])
        return self.Xp[self.counts > 0].T @ gp - self.Xn.T @ gn

    def gram(self, h):
        if self.n_hess is None:
            self.hessian_terms = (None, h)
            Ds = self.Dh * np.sqrt(h)[:, None]
            return Ds.T @ Ds
        cs = np.cumsum(h)
        total = cs[-1]
        u = (self.rng.random() + np.arange(self.n_hess)) * (total / self.n_hess)
        k = np.minimum(np.searchsorted(cs, u, side="right"), h.shape[0] - 1)
        k, counts = np.unique(k, return_counts=True)
        mu = counts * (total / self.n_hess)
        self.hessian_terms = (k, mu)
        kp = np.searchsorted(self.cum, k, side="right") - 1  # positive of each pair
        Ds = (self.Xp[kp] - self.Xn[self.jl[k]]) * np.sqrt(mu)[:, None]
        return Ds.T @ Ds

    def row_norms(self):
        if self._norms is None:  # upper bound on |x_i - x_j|
            rp = np.sqrt(np.einsum("ij,ij->i", self.Xp, self.Xp))
            rn = np.sqrt(np.einsum("ij,ij->i", self.Xn, self.Xn))
            self._norms = np.repeat(rp, self.counts) + rn[self.jl]
        return self._norms


def ranking_loss(X, y, coef, *, sample_weight=None):
    """Exact pairwise logistic ranking loss over all positive/negative pairs.

    ``sum_{i: z=1, j: z=0} w_i w_j softplus(-(x_i'b - x_j'b)) / sum w_i w_j``.
    Costs ``O(n_pos n_neg)`` (evaluated in blocks of positives).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Binary labels; ``max(y)`` is the positive class.
    coef : array-like of shape (n_features,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
    """
    X = np.asarray(X, dtype=float)
    coef = np.asarray(coef, dtype=float)
    if X.ndim != 2 or coef.shape != (X.shape[1],):
        raise ValueError(f"X must be 2-D and coef of length X.shape[1]; got {X.shape} "
                         f"and {coef.shape}.")
    _, z = check_binary_target(y)
    if z.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {z.shape[0]}.")
    w = check_sample_weight(sample_weight, X.shape[0])
    v = X @ coef
    vp, wp = v[z == 1], w[z == 1]
    vn, wn = v[z == 0], w[z == 0]
    total = 0.0
    block = max(1, 2_000_000 // max(vn.shape[0], 1))
    for s in range(0, vp.shape[0], block):
        u = vp[s:s + block, None] - vn[None, :]
        total += float(wp[s:s + block] @ softplus_neg(u) @ wn)
    return total / (wp.sum() * wn.sum())


def _as_generator(random_state):
    """A numpy Generator from None, an int, a Generator or a legacy RandomState."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)


# ---------------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------------
class PairwiseRankingClassifier(BaseIndexClassifier):
    """Link-free single-index classifier: smoothed maximum rank correlation (RSPO).

    Minimises the logistic pairwise ranking loss between positive and negative rows
    (module docstring); no model for the link is needed to identify the direction.
    A monotone link is estimated afterwards by isotonic regression so that
    ``predict_proba`` works.

    Parameters
    ----------
    n_pairs : int, "auto" or "all", default="auto"
        Pairs entering the loss.  ``"auto"``: all pairs while there are at most
        ``min(50 n, 10**7)``, else that many drawn once at random; an int: that many
        (all pairs if there are fewer); ``"all"``: every positive/negative pair
        (``O(n^2)`` memory and time).
    penalty : {None, "l2"}, default=None
        ``"l2"`` adds ``||b||^2 / (2 C)`` to ``W * L(b)`` (``W`` the total weight).
    C : float > 0, default=1.0
        Inverse ridge strength, used with ``penalty="l2"`` and as the fallback when
        the pairs are separated.
    separation : {"warn", "silent", "raise"}, default="warn"
        Handling of separated pairs (no minimiser; ``penalty=None`` only): ridge refit
        with (``"warn"``) or without (``"silent"``) a
        :class:`~semiparam.exceptions.SeparationWarning`, or ``ValueError``.
    normalize : {"unit", "first"}, default="unit"
        Normalisation of ``coef_``.
    cov_type : {"bootstrap"} or None, default=None
        Covariance of ``coef_``: ``"bootstrap"`` (the pairs bootstrap of
        :mod:`semiparam.index.bootstrap`; the surrogate's Hessian is not a valid
        covariance) or None (none).
    n_bootstrap : int >= 0, default=200
        Bootstrap replicates when ``cov_type="bootstrap"`` (0: none; each costs a fit).
    random_state : int, Generator, RandomState or None, default=0
        Seeds the pair sample and the bootstrap.  Fixed by default, so a fit is
        reproducible; None draws fresh entropy.
    max_iter : int, default=100
        Newton iterations.
    tol : float, default=1e-8
        Convergence when the largest Newton step is below ``tol * (1 + max|b|)``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Normalised direction.
    coef_raw_ : ndarray of shape (n_features,)
        Minimiser of the (possibly penalised) surrogate; its scale is the surrogate's.
    scale_ : float
        ``coef_raw_ = scale_ * coef_``.
    link_ : link object
        Isotonic regression of ``z`` on ``X @ coef_``
        (:class:`~semiparam.links.IsotonicLink`), clipped to ``[1e-4, 1 - 1e-4]``.
    auc_ : float
        In-sample AUC of the fitted index (Han's objective; weighted, ties count 1/2).
    loss_ : float
        Mean pair loss ``L`` at the estimate (without the penalty).
    n_pairs_ : int
        Number of pairs used.
    all_pairs_ : bool
        Whether every positive/negative pair was used.
    separated_ : bool or None
        Separation detected (estimate from the ridge refit), not detected (a minimiser
        was certified to exist), or None when not checked (``penalty="l2"``).
    separation_kind_ : {"complete", "quasi-complete", "numerical"} or None
        How separation was established (module docstring of
        :mod:`semiparam.index.newton`); None when not separated.
    alpha_ : float
        Ridge strength actually used (0.0: none).
    n_iter_, converged_ : int, bool
        Newton iterations and convergence of the final fit.
    result_ : IndexResult
        Coefficients; covariance from the bootstrap when ``cov_type="bootstrap"``.
    bootstrap_coefs_ : ndarray of shape (n_bootstrap, n_features) or None
        The bootstrap replicates of ``coef_``.

    Examples
    --------
    >>> from semiparam.simulate import make_single_index
    >>> X, z = make_single_index(1000, [1.0, -1.0, 0.5], link="cloglog", random_state=0)
    >>> est = PairwiseRankingClassifier().fit(X, z)
    >>> est.coef_.round(1)
    array([ 0.7, -0.6,  0.3])
    """

    _parameter_constraints: dict = {
        **BaseIndexClassifier._parameter_constraints,
        "n_pairs": [Interval(Integral, 1, None), Options({"auto", "all"})],
        "penalty": [NoneOK(), Options({"l2"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "separation": [Options({"warn", "silent", "raise"})],
        "cov_type": cov_type_constraint("bootstrap"),
        "n_bootstrap": [Interval(Integral, 0, None)],
        "random_state": [NoneOK(), InstanceOf(Integral, np.random.Generator,
                                              np.random.RandomState)],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, n_pairs="auto", penalty=None, C=1.0, separation="warn",
                 normalize="unit", cov_type=None, n_bootstrap=200, random_state=0,
                 max_iter=100, tol=1e-8):
        self.n_pairs = n_pairs
        self.penalty = penalty
        self.C = C
        self.separation = separation
        self.normalize = normalize
        self.cov_type = cov_type
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.max_iter = max_iter
        self.tol = tol

    # -- the unchecked core (also used by the bootstrap) --------------------------
    def _fit_core(self, X, z, w, rng):
        """Pairs and their operator; no validation.  Returns ``(solve, c, n_pairs,
        all_pairs)``, ``solve(alpha, detect)`` running the engine on standardised
        columns."""
        pos = np.flatnonzero(z == 1)
        neg = np.flatnonzero(z == 0)
        n_draw = _resolve_n_pairs(self.n_pairs, X.shape[0], pos.shape[0], neg.shape[0])
        counts, jl = _draw_pairs(pos.shape[0], neg.shape[0], n_draw, rng)
        n_pairs = jl.shape[0]
        wr = w / w.max()  # products of relative weights cannot underflow
        if np.all(w == w[0]):
            c = np.full(n_pairs, w.sum() / n_pairs)
        else:
            c = np.repeat(wr[pos], counts) * wr[neg][jl]
            c *= w.sum() / c.sum()
        d = X.shape[1]
        n_sample = min(max(_MIN_HESSIAN_PAIRS, _HESSIAN_PAIRS_PER_COLUMN * d),
                       _HESSIAN_CELLS // d)
        n_exact = min(max(n_sample, (_HESSIAN_FLOPS_PER_PAIR * n_pairs) // d**2),
                      _HESSIAN_CELLS // d)
        scale = column_scales(X, w, (w @ X) / w.sum())
        op = _PairRows(X / scale, pos, neg, counts, jl,
                       None if n_pairs <= n_exact else n_sample, rng)

        def solve(alpha, detect):
            return newton_softplus(op, c, alpha=alpha, scale=scale, max_iter=self.max_iter,
                                   tol=self.tol, detect=detect)

        return solve, c, n_pairs, n_draw is None

    def _fit(self, X, z, w):
        keep = w > 0
        X, z, w = X[keep], z[keep], w[keep]
        rng = _as_generator(self.random_state)
        pair_seed, boot_seed = rng.integers(2**63, size=2)
        alpha = 1.0 / self.C if self.penalty == "l2" else 0.0
        name = type(self).__name__
        solve, c, npairs, allp = self._fit_core(X, z, w, np.random.default_rng(pair_seed))
        out = solve_with_separation_policy(
            solve, alpha=alpha, C=self.C, separation=self.separation, name=name,
            units="sampled positive/negative pairs", max_iter=self.max_iter)
        alpha = out.alpha
        self.separated_ = bool(out.separated) if out.checked else None
        self.separation_kind_ = out.kind or None
        self.alpha_ = float(alpha)
        self.n_iter_ = int(out.n_iter)
        self.converged_ = bool(out.converged)
        self.n_pairs_ = int(npairs)
        self.all_pairs_ = bool(allp)
        self.coef_raw_ = out.coef.copy()
        self.coef_, self.scale_ = normalize_direction(self.coef_raw_, self.normalize)
        self._direction = self.coef_raw_
        v = X @ self.coef_
        self.link_ = IsotonicLink(clip=_LINK_CLIP).fit(v, z, sample_weight=w)
        # the solver's objective is W * loss + alpha |b|^2 / 2, W = sum(c)
        self.loss_ = float((out.objective - 0.5 * alpha * self.coef_raw_ @ self.coef_raw_)
                           / c.sum())
        from sklearn.metrics import roc_auc_score

        self.auc_ = float(roc_auc_score(z, v, sample_weight=w))
        cov, self.bootstrap_coefs_ = None, None
        info = {"Pairs": f"{npairs} ({'all' if allp else 'sampled'})", "AUC": self.auc_}
        if self.cov_type == "bootstrap" and self.n_bootstrap > 0:
            boot = self._bootstrap(X, z, w, alpha, np.random.default_rng(boot_seed))
            self.bootstrap_coefs_ = boot.replicates
            cov = boot.cov if boot.n_ok >= 2 else None
            info.update(boot.info())
        if self.separated_ is not None:
            info["Separated"] = "yes (ridge fit)" if self.separated_ else "no"
        if alpha > 0:
            info["Ridge C"] = float(self.C)
        self.result_ = IndexResult(
            params=self.coef_, cov=cov, names=self._feature_names(), nobs=int(X.shape[0]),
            model=name, normalize=self.normalize, objective=self.loss_,
            converged=self.converged_,
            cov_type="bootstrap" if cov is not None else "none",
            info=info,
        )

    def _bootstrap(self, X, z, w, alpha, rng):
        """Row-resampling bootstrap of ``coef_`` (pairs redrawn, ridge strength kept;
        a replicate whose pairs separate is ridge-fitted with ``1/C``)."""
        def refit(idx):
            zb = z[idx]
            if zb.min() == zb.max():
                return None
            solve = self._fit_core(X[idx], zb, w[idx], rng)[0]
            out = solve_with_separation_policy(solve, alpha=alpha, C=self.C,
                                               separation="silent", name="")
            return normalize_direction(out.coef, self.normalize)[0]

        # serial: each resample is drawn just before its refit, which draws its pairs
        # from the same generator
        return bootstrap(refit, X.shape[0], scheme="rows", n_replicates=self.n_bootstrap,
                         random_state=rng, dim=X.shape[1])
