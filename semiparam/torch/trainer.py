"""Train a network that maps contexts to action logits on a preference table.

:func:`fit` runs mini-batch training of any :class:`torch.nn.Module` ``f`` (contexts
(B, d) -> logits (B, k)) with one of the four losses of :mod:`semiparam.torch.losses` on
the margins ``t = (log pi/pi_ref)(a1) - (log pi/pi_ref)(a0)``:

``"dpo"``   logistic log-loss;  ``"rspo"``  pairwise ranking within the batch;
``"pspo"``  log-loss under an :class:`~semiparam.torch.IsotonicLinkState`;
``"ospo"``  leave-one-out kernel log-loss plus the orthogonal correction
            (:class:`~semiparam.torch.KernelLinkState`).

PSPO and OSPO start with ``warm_start_epochs`` of DPO (default 2: the link of an
untrained network's margins is uninformative), then refresh their link on the detached
margins of every training pair before the first link epoch and after every epoch (or
every ``refresh_every`` steps).  With ``validation_fraction > 0`` a held-out split
(drawn with the seed) is scored after every epoch by the learner's own criterion -- the
log-loss for DPO, the ranking loss for RSPO, the log-loss under the current link
(refreshed on the training split only) for PSPO and OSPO -- and training stops after
``patience`` epochs without improvement, restoring the best epoch's weights;
``refit=True`` then retrains from the initial weights on all pairs for the epochs kept.
``warm_start_epochs="auto"`` runs the DPO warm-up itself to its early stop first.

``folds=K`` trains a cross-validated ensemble instead: the pairs are split into ``K``
folds; member ``j`` trains on the other folds, early-stopped on fold ``j``, members after
the first from freshly drawn weights (``member_init="reset"``); the policy averages the
members' log-probabilities, ``log pi = mean_j log pi_j + const`` (the normalised geometric
mean, :class:`~semiparam.torch.LogProbEnsemble`), i.e. the mean of their implicit
rewards.  Every pair trains ``K - 1`` members, so no refit is needed.  In the reference
synthetic study (docs/torch.md) early stopping is what helps every learner most, the
ensemble next; the link phase adds little.

Determinism: shuffling and the split use a private :class:`torch.Generator` seeded by
``seed``; on the CPU the result is a deterministic function of the module's initial
weights, the table and the arguments.  The module is moved to ``device``/``dtype``.
"""

from __future__ import annotations

import copy
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch

from ..exceptions import ConvergenceWarning
from ..policy import PreferenceTable, SoftmaxPolicy
from .links import IsotonicLinkState, KernelLinkState, torch_threads_kept
from .losses import dpo_loss, ospo_loss, pspo_loss, rspo_loss
from .policy import LogProbEnsemble, module_policy, pair_margins

__all__ = ["fit", "NeuralFit", "LEARNERS", "reset_parameters"]

LEARNERS = ("dpo", "rspo", "pspo", "ospo")
_OPTIMIZERS = ("adam", "adamw", "sgd", "lbfgs")
#: rows scored by RSPO's held-out criterion (its loss is quadratic in the rows)
_RSPO_VAL_MAX = 2048


@dataclass
class NeuralFit:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    learner : str
    module_ : torch.nn.Module
        The trained network (the best epoch's weights under early stopping).
    policy_ : SoftmaxPolicy
        ``pi_ref exp(sign * (log pi_theta - log pi_ref) / beta)`` at ``beta = 1``: use
        ``tilt``, ``at_budget`` and :mod:`semiparam.policy` evaluation.
    link_ : IsotonicLinkState, KernelLinkState or None
        The link state of the last refresh (PSPO, OSPO; for ``folds``, the last
        member's).
    sign_ : float
        -1 when the learned link came out decreasing (the margins then rank the actions
        backwards and the policy's implicit reward is flipped), else 1 (for ``folds``,
        1: each member's sign is applied inside the ensemble).
    history_ : list of dict
        One entry per epoch: phase, training loss, held-out criterion, link diagnostics,
        seconds.
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    n_epochs_ : int
        Epochs run (fewer than asked when early stopping fired).
    n_steps_ : int
    fit_seconds_ : float
        Wall time of the fit.
    train_rows_, val_rows_ : ndarray of int
        Rows of the table used for training and for the held-out criterion.
    members_ : list of NeuralFit or None
        The members of a cross-validated ensemble (``folds``); None otherwise.
    """

    learner: str
    module_: torch.nn.Module
    policy_: SoftmaxPolicy
    link_: object
    sign_: float
    history_: list = field(default_factory=list)
    best_epoch_: int = 0
    n_epochs_: int = 0
    n_steps_: int = 0
    fit_seconds_: float = 0.0
    train_rows_: np.ndarray = None
    val_rows_: np.ndarray = None
    members_: list = None

    def margins(self, table) -> np.ndarray:
        """Margins of the trained network on the pairs of ``table`` (float64)."""
        device, dtype = _module_device(self.module_)
        data = _Data(table, device, dtype)
        rows = torch.arange(data.n, device=device)
        return _all_margins(self.module_, data, rows).cpu().double().numpy()


class _PerContextReference:
    """Stands in for a reference given per training pair: new contexts have none."""

    def __call__(self, X):
        raise ValueError(
            "The table's reference log-probabilities were given per pair, so the policy has "
            "no reference for new contexts: pass reference= (a callable X -> (n, k) array of "
            "log-probabilities, or a (k,) vector) to fit, or ref_logprobs= to the policy.")


class _Data:
    """The table's arrays as tensors on the training device."""

    def __init__(self, table, device, dtype):
        self.n = len(table)
        self.k = int(table.n_actions)
        self.X = torch.as_tensor(table.contexts, dtype=dtype, device=device)
        self.a0 = torch.as_tensor(table.action0, dtype=torch.long, device=device)
        self.a1 = torch.as_tensor(table.action1, dtype=torch.long, device=device)
        self.z = torch.as_tensor(table.label, dtype=dtype, device=device)
        self.w = torch.as_tensor(table.weights, dtype=dtype, device=device)
        ref = table.ref_logprobs
        self.ref = None if ref is None else torch.as_tensor(ref, dtype=dtype, device=device)

    def margins(self, module, rows):
        # log pi(a1) - log pi(a0) = f(a1) - f(a0): the softmax normaliser cancels
        logits = module(self.X[rows])
        if logits.dim() != 2 or logits.shape[1] != self.k:
            raise ValueError(
                f"The module must map contexts (B, d) to logits (B, {self.k}); it returned "
                f"shape {tuple(logits.shape)}.")
        ref = self.ref if (self.ref is None or self.ref.dim() == 1) else self.ref[rows]
        return pair_margins(logits, self.a0[rows], self.a1[rows], ref)


def _concordance(t, z, w, max_rows=_RSPO_VAL_MAX):
    """Weighted ``P(m_i + m_j > 0)`` (ties count 1/2) of the signed margins, i, j all pairs."""
    m = ((2.0 * z - 1.0) * t)[:max_rows]
    w = w[:max_rows]
    S = m[:, None] + m[None, :]
    W = w[:, None] * w[None, :]
    return float(((S > 0).to(t.dtype) + 0.5 * (S == 0).to(t.dtype)).mul(W).sum() / W.sum())


def _module_device(module):
    for p in module.parameters():
        return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def _all_margins(module, data, rows, chunk=8192):
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            return torch.cat([data.margins(module, rows[s:s + chunk])
                              for s in range(0, rows.shape[0], chunk)])
    finally:
        module.train(was)


def _check_int(name, value, low, none_ok=False):
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")


def _fusable(params):
    """Whether torch's fused Adam kernels apply: floating parameters on the CPU or a GPU."""
    return all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)


def _make_optimizer(optimizer, params, lr, weight_decay):
    if callable(optimizer):
        return optimizer(params)
    if optimizer in ("adam", "adamw"):
        # the fused kernels update every tensor in one call: the same arithmetic, and on
        # the small networks of the study a third less time per step than the default
        # per-tensor loop (docs/torch.md, section 4.4)
        kind = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
        return kind(params, lr=lr, weight_decay=weight_decay, fused=_fusable(params) or None)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "lbfgs":
        if weight_decay:
            raise ValueError("optimizer='lbfgs' takes no weight_decay.")
        return torch.optim.LBFGS(params, lr=lr, max_iter=20, line_search_fn="strong_wolfe",
                                 tolerance_grad=1e-12, tolerance_change=1e-15)
    raise ValueError(f"optimizer must be one of {list(_OPTIMIZERS)} or a callable "
                     f"params -> torch.optim.Optimizer; got {optimizer!r}.")


def _holdout_rows(holdout, n, validation_fraction):
    if validation_fraction:
        raise ValueError("Pass either holdout or validation_fraction, not both.")
    rows = np.asarray(holdout)
    if rows.ndim != 1 or rows.dtype.kind not in "iu":
        raise ValueError("holdout must be a one-dimensional array of integer row numbers.")
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"holdout rows must lie in 0 .. {n - 1}.")
    if np.unique(rows).size != rows.size:
        raise ValueError("holdout rows must be distinct.")
    return torch.as_tensor(rows.astype(np.int64))


def _tie_labels(tie_labels, learner):
    if tie_labels is None:
        return None
    if learner not in ("pspo", "ospo"):
        raise ValueError(f"tie_labels enter the link of 'pspo' and 'ospo'; learner is "
                         f"{learner!r}.")
    z = np.asarray(tie_labels, dtype=np.float64)
    if z.ndim != 1 or not np.all(np.isin(z, (0.0, 1.0))):
        raise ValueError("tie_labels must be a one-dimensional array of 0/1 labels.")
    return torch.as_tensor(z)


def reset_parameters(module, seed):
    """Re-draw ``module``'s parameters by each submodule's own ``reset_parameters``.

    The draws come from torch's global generator seeded with ``seed`` (an int or a tuple
    of ints, hashed to one) inside :func:`torch.random.fork_rng`, so the caller's
    random state is left as it was.  Submodules without ``reset_parameters`` keep their
    parameters.  Returns ``module``.
    """
    if isinstance(seed, tuple):
        seed = int(np.random.SeedSequence(list(seed)).generate_state(1)[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        with torch.no_grad():
            for sub in module.modules():
                reset = getattr(sub, "reset_parameters", None)
                if callable(reset):
                    reset()
    return module


def _fit_folds(module, table, learner, folds, kwargs, seed, validation_fraction, holdout,
               refit, member_init):
    """The cross-validated ensemble of :func:`fit` (its ``folds`` argument)."""
    _check_int("folds", folds, 2)
    if member_init not in ("copy", "reset"):
        raise ValueError(f"member_init must be 'copy' or 'reset'; got {member_init!r}.")
    if validation_fraction or holdout is not None or refit:
        raise ValueError("folds= holds out each fold in turn: validation_fraction, holdout "
                         "and refit do not apply.")
    if kwargs["patience"] is None:
        raise ValueError("folds= stops every member early on its fold: give patience.")
    if not isinstance(table, PreferenceTable):
        raise ValueError(f"fit expects a PreferenceTable; got {type(table).__name__}.")
    if len(table) < 2 * folds:
        raise ValueError(f"folds={folds} needs at least {2 * folds} pairs; the table has "
                         f"{len(table)}.")
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(len(table), generator=gen).numpy()
    initial = copy.deepcopy(module)
    members = []
    for j in range(folds):
        net = module if j == 0 else copy.deepcopy(initial)
        if j > 0 and member_init == "reset":
            reset_parameters(net, seed=(int(seed), j))
        args = dict(kwargs, link=copy.deepcopy(kwargs["link"]))
        members.append(fit(net, table, learner, seed=int(seed) * folds + j,
                           holdout=np.sort(perm[j::folds]), **args))
    signs = [m.sign_ for m in members]
    ref = members[0].policy_.features.reference
    if any(sg < 0 for sg in signs) and callable(ref):
        raise ValueError("A member's link came out decreasing and the reference is a "
                         "callable: the ensemble cannot flip that member; pass a (k,) "
                         "reference.")
    ensemble = LogProbEnsemble([m.module_ for m in members], signs, None if callable(ref)
                               else ref)
    policy = module_policy(ensemble, table.n_actions, reference=ref)
    history = [dict(h, member=j) for j, m in enumerate(members) for h in m.history_]
    return NeuralFit(learner, ensemble, policy, members[-1].link_, 1.0, history,
                     int(round(np.mean([m.best_epoch_ for m in members]))),
                     sum(m.n_epochs_ for m in members), sum(m.n_steps_ for m in members),
                     time.perf_counter() - start, np.arange(len(table)),
                     np.zeros(0, dtype=np.int64), members)


def _validate(module, table, learner, epochs, batch_size, lr, weight_decay,
              validation_fraction, patience, refresh_every, warm_start_epochs, link):
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}.")
    if not isinstance(table, PreferenceTable):
        raise ValueError(f"fit expects a PreferenceTable; got {type(table).__name__}.")
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {list(LEARNERS)}; got {learner!r}.")
    _check_int("epochs", epochs, 1)
    _check_int("batch_size", batch_size, 1, none_ok=True)
    _check_int("patience", patience, 1, none_ok=True)
    _check_int("warm_start_epochs", warm_start_epochs, 0, none_ok=True)
    if refresh_every != "epoch":
        _check_int("refresh_every", refresh_every, 1)
    for name, value, ok in (("lr", lr, lambda v: v > 0), ("weight_decay", weight_decay,
                                                          lambda v: v >= 0)):
        if isinstance(value, bool) or not isinstance(value, Real) or not (
                math.isfinite(value) and ok(value)):
            bound = "> 0" if name == "lr" else ">= 0"
            raise ValueError(f"{name} must be a finite number {bound}; got {value!r}.")
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, Real) \
            or not 0 <= validation_fraction < 1:
        raise ValueError(f"validation_fraction must lie in [0, 1); got {validation_fraction!r}.")
    if link is not None and learner in ("dpo", "rspo"):
        raise ValueError(f"link is used by 'pspo' and 'ospo' only; learner is {learner!r}.")
    if learner == "ospo" and link is not None and not isinstance(link, KernelLinkState):
        raise ValueError("learner='ospo' needs a KernelLinkState link.")


def fit(module, table, learner="ospo", *, epochs=100, batch_size=128, lr=2e-3,
        weight_decay=0.0, optimizer="adam", warm_start_epochs=None, link=None,
        refresh_every="epoch", validation_fraction=0.0, patience=None, restore_best=True,
        device="cpu", dtype=torch.float32, seed=0, progress=False,
        reference=None, orthogonal=True, criterion="loss", refit=False, holdout=None,
        folds=None, member_init="reset", tie_labels=None) -> NeuralFit:
    """Train ``module`` on a preference table with DPO, RSPO, PSPO or OSPO.

    Parameters
    ----------
    module : torch.nn.Module
        Maps contexts (B, d) to action logits (B, k); trained in place (moved to
        ``device`` and ``dtype``).
    table : PreferenceTable
        Pairs; its weights weight the losses, its ``ref_logprobs`` (shape (k,) or (n, k);
        None: uniform) enter the margins.
    learner : {"ospo", "pspo", "dpo", "rspo"}, default="ospo"
    epochs : int, default=100
        Epochs in all (warm-up included).
    batch_size : int or None, default=128
        None: full batch.
    lr, weight_decay : float
        Learning rate and (decoupled for AdamW, L2 for Adam/SGD) weight decay.
    optimizer : {"adam", "adamw", "sgd", "lbfgs"} or callable, default="adam"
        A callable receives the parameters and returns a ``torch.optim.Optimizer``.
    warm_start_epochs : int, "auto" or None
        DPO epochs before the link learners start (None: 2 for PSPO/OSPO, else 0).
        ``"auto"``: DPO with early stopping on the held-out split (needs
        ``validation_fraction > 0``), its best epoch restored, then the link learner
        with the remaining epochs.
    link : IsotonicLinkState or KernelLinkState, optional
        The link state (default: ``IsotonicLinkState()`` for PSPO, ``KernelLinkState()``
        for OSPO).
    refresh_every : "epoch" or int, default="epoch"
        Refit the link after every epoch, or every that many optimiser steps.
    validation_fraction : float in [0, 1), default=0
        Share of the pairs held out for early stopping (0: none; all epochs run).
    patience : int or None
        Epochs without held-out improvement before stopping (None: never stop early;
        the best epoch is still restored when ``restore_best``).
    restore_best : bool, default=True
    device : str or torch.device, default="cpu"
    dtype : torch.dtype, default=torch.float32
    seed : int, default=0
        Seeds the split and the shuffling.
    progress : bool, default=False
        Print one status line per epoch to stderr.
    reference : None, array-like (k,) or callable, optional
        ``log pi_ref`` for new contexts (the policy's reference); default: the table's
        (k,) reference, or uniform.
    criterion : {"loss", "auc"}, default="loss"
        Held-out criterion: the learner's own loss (module docstring), or the
        link-free concordance ``P(m_i + m_j > 0)`` of the signed margins
        ``m = (2z - 1) t`` over pairs of held-out pairs (higher is better).
    refit : bool, default=False
        After early stopping, retrain from the initial weights on all pairs for the
        epochs that were kept (warm-up and link phase), so the held-out pairs also
        train.  ``history_`` then holds both runs; ``fit_seconds_`` both.
    orthogonal : bool, default=True
        OSPO only: add the orthogonal correction (False: the leave-one-out kernel
        log-loss alone, a Klein-Spady type likelihood).
    holdout : array-like of int, optional
        Rows of the table held out for early stopping (instead of a random
        ``validation_fraction``).
    folds : int >= 2, optional
        Cross-validated ensemble: split the pairs into ``folds`` folds (drawn with the
        seed); member ``j`` trains from the module's initial weights on the other folds,
        early-stopped on fold ``j`` (``patience`` required; ``validation_fraction``,
        ``holdout`` and ``refit`` do not apply), and the policy is the members'
        geometric mean, ``log pi = mean_j log pi_j`` (:class:`LogProbEnsemble`).  Every
        pair trains ``folds - 1`` members and stops one.  ``module`` ends with member 0's
        weights; ``module_`` is the ensemble, ``members_`` the members' fits.
    member_init : {"reset", "copy"}, default="reset"
        ``folds`` only: members after the first start from fresh weights
        (:func:`reset_parameters`, seeded by ``(seed, j)``), or all from ``module``'s
        initial weights.
    tie_labels : array-like of 0/1, optional
        PSPO/OSPO: labels of pairs with ``action0 == action1`` (which
        :class:`~semiparam.policy.PreferenceTable` drops).  Their margin is exactly 0
        under every policy, so they add no gradient; they are kept in the link's memory
        as points at ``t = 0``, as the reference code does (it trains on them).

    Returns
    -------
    NeuralFit
    """
    if warm_start_epochs == "auto":
        if not (validation_fraction > 0 or holdout is not None or folds is not None):
            raise ValueError("warm_start_epochs='auto' stops the DPO warm-up early: it needs "
                             "validation_fraction > 0, holdout or folds.")
        warm_check = None
    else:
        warm_check = warm_start_epochs
    if criterion not in ("loss", "auc"):
        raise ValueError(f"criterion must be 'loss' or 'auc'; got {criterion!r}.")
    criterion_name = criterion
    if folds is not None:
        return _fit_folds(module, table, learner, folds, dict(
            epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
            optimizer=optimizer, warm_start_epochs=warm_start_epochs, link=link,
            refresh_every=refresh_every, patience=patience, restore_best=restore_best,
            device=device, dtype=dtype, progress=progress, reference=reference,
            orthogonal=orthogonal, criterion=criterion, tie_labels=tie_labels),
            seed, validation_fraction, holdout, refit, member_init)
    ties = _tie_labels(tie_labels, learner)
    _validate(module, table, learner, epochs, batch_size, lr, weight_decay,
              validation_fraction, patience, refresh_every, warm_check, link)
    start = time.perf_counter()
    device = torch.device(device)
    module.to(device=device, dtype=dtype)
    link_template = copy.deepcopy(link)
    initial_state = copy.deepcopy(module.state_dict()) if refit else None
    data = _Data(table, device, dtype)
    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(data.n, generator=gen)
    if holdout is not None:
        held = _holdout_rows(holdout, data.n, validation_fraction)
        keep = torch.ones(data.n, dtype=torch.bool)
        keep[held] = False
        perm = torch.cat([held, torch.nonzero(keep).squeeze(1)])
        n_val = held.shape[0]
    else:
        n_val = int(round(validation_fraction * data.n))
    if (validation_fraction > 0 or holdout is not None) and not 2 <= n_val <= data.n - 2:
        raise ValueError(f"The held-out split has {n_val} of {data.n} pairs; need at least "
                         "2 on each side.")
    val_rows = torch.sort(perm[:n_val]).values.to(device)
    train_rows = torch.sort(perm[n_val:]).values.to(device)
    n_train = train_rows.shape[0]
    if learner in ("pspo", "ospo") and link is None:
        link = IsotonicLinkState() if learner == "pspo" else KernelLinkState()
    warm = warm_start_epochs if warm_start_epochs is not None else (
        2 if learner in ("pspo", "ospo") else 0)
    opt = _make_optimizer(optimizer, list(module.parameters()), lr, weight_decay)
    lbfgs = isinstance(opt, torch.optim.LBFGS)
    bs = n_train if batch_size is None else min(int(batch_size), n_train)
    zt, wt = data.z[train_rows], data.w[train_rows]
    if ties is not None:  # the tied pairs sit at margin 0 in the link's memory
        zt_link = torch.cat([zt, ties.to(device=device, dtype=dtype)])
        wt_link = torch.cat([wt, torch.ones(ties.shape[0], dtype=dtype, device=device)])
    else:
        zt_link, wt_link = zt, wt

    def refresh():
        t_all = _all_margins(module, data, train_rows)
        if ties is not None:
            t_all = torch.cat([t_all, torch.zeros(ties.shape[0], dtype=dtype, device=device)])
        with torch_threads_kept():  # numba's OpenMP layer resets torch's thread count
            link.refresh(t_all, zt_link, wt_link)

    def batch_loss(pos, phase):
        rows = train_rows[pos]
        t = data.margins(module, rows)
        zb, wb = data.z[rows], data.w[rows]
        if phase == "warm" or learner == "dpo":
            return dpo_loss(t, zb, wb, validate=False)
        if learner == "rspo":
            return rspo_loss(t, zb, wb, validate=False)
        if learner == "pspo":
            return pspo_loss(t, zb, link, wb, validate=False)
        return ospo_loss(t, zb, link, wb, index=pos, orthogonal=orthogonal, validate=False)

    def criterion(phase):
        if n_val == 0:
            return float("nan")
        t = _all_margins(module, data, val_rows)
        zv, wv = data.z[val_rows], data.w[val_rows]
        with torch.no_grad():
            if criterion_name == "auc":
                return -_concordance(t, zv, wv)
            if phase == "warm" or learner == "dpo":
                return float(dpo_loss(t, zv, wv))
            if learner == "rspo":
                m = min(n_val, _RSPO_VAL_MAX)
                return float(rspo_loss(t[:m], zv[:m], wv[:m]))
            return float(pspo_loss(t, zv, link, wv))

    history = []
    counters = {"steps": 0, "epoch": 0}

    def train_epoch(phase):
        module.train()
        order = torch.randperm(n_train, generator=gen).to(device)
        total = torch.zeros((), dtype=dtype, device=device)
        for s in range(0, n_train, bs):
            pos = order[s:s + bs]
            if lbfgs:
                def closure(pos=pos):
                    opt.zero_grad()
                    out = batch_loss(pos, phase)
                    out.backward()
                    return out
                loss = opt.step(closure)
            else:
                opt.zero_grad()
                loss = batch_loss(pos, phase)
                loss.backward()
                opt.step()
            total = total + loss.detach() * pos.shape[0]
            counters["steps"] += 1
            if (phase == "main" and link is not None and refresh_every != "epoch"
                    and counters["steps"] % refresh_every == 0):
                refresh()
        return float(total) / n_train

    def run_phase(phase, n_epochs, track):
        """Train ``n_epochs`` (fewer under early stopping); restore the best when tracked."""
        best, best_state, best_epoch, bad = math.inf, None, counters["epoch"], 0
        if phase == "main" and link is not None:
            refresh()
        for _ in range(n_epochs):
            t0 = time.perf_counter()
            counters["epoch"] += 1
            epoch = counters["epoch"]
            train_loss = train_epoch(phase)
            if not math.isfinite(train_loss):
                warnings.warn(f"{learner}: the training loss became {train_loss} in epoch "
                              f"{epoch}; stopping (lower lr?).", ConvergenceWarning,
                              stacklevel=3)
                break
            if phase == "main" and link is not None and refresh_every == "epoch":
                refresh()
            val = criterion(phase)
            entry = {"epoch": epoch, "phase": phase, "train_loss": train_loss,
                     "val_loss": val, "seconds": time.perf_counter() - t0}
            if link is not None and phase == "main":
                entry["link"] = link.diagnostics()
            history.append(entry)
            if progress:
                print(f"\r[{learner}] epoch {epoch}/{epochs} ({phase}) loss {train_loss:.4f} "
                      f"held-out {val:.4f}", end="", file=sys.stderr, flush=True)
            if not (track and n_val):
                best_epoch = epoch
                continue
            if val < best:
                best, best_epoch, bad = val, epoch, 0
                if restore_best:
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                bad += 1
                if patience is not None and bad >= patience:
                    break
        if best_state is not None and best_epoch != counters["epoch"]:
            module.load_state_dict(best_state)
            if phase == "main" and link is not None:
                refresh()
        elif best_state is None:
            best_epoch = counters["epoch"]
        return best_epoch

    if warm == "auto":
        warm_kept = run_phase("warm", epochs, True)
        main_epochs = max(epochs - counters["epoch"], 1)
    else:
        warm_kept = run_phase("warm", min(warm, epochs), warm >= epochs)
        main_epochs = epochs - counters["epoch"]
    warm_run = counters["epoch"]
    best_epoch = warm_kept
    if main_epochs > 0:
        best_epoch = run_phase("main", main_epochs, True)
    epoch = counters["epoch"]
    steps = counters["steps"]
    if progress:
        print(file=sys.stderr)
    if refit and n_val:
        # the same schedule on all pairs: the kept warm-up epochs, then the kept link epochs
        main_kept = best_epoch - warm_run if main_epochs > 0 else 0
        module.load_state_dict(initial_state)
        again = fit(module, table, learner, epochs=max(warm_kept + main_kept, 1),
                    batch_size=batch_size,
                    lr=lr, weight_decay=weight_decay, optimizer=optimizer,
                    warm_start_epochs=warm_kept, link=copy.deepcopy(link_template),
                    refresh_every=refresh_every, device=device, dtype=dtype, seed=seed,
                    progress=progress, reference=reference, orthogonal=orthogonal,
                    criterion=criterion_name, tie_labels=tie_labels)
        again.history_ = history + again.history_
        again.fit_seconds_ = time.perf_counter() - start
        again.val_rows_ = np.zeros(0, dtype=np.int64)
        return again
    sign = 1.0
    if learner in ("pspo", "ospo"):
        t_all = _all_margins(module, data, train_rows)
        tc = t_all - (wt * t_all).sum() / wt.sum()
        if float((wt * tc * (zt - (wt * zt).sum() / wt.sum())).sum()) < 0:
            sign = -1.0
    if reference is None:
        ref = table.ref_logprobs
        reference = _PerContextReference() if (ref is not None and ref.ndim == 2) else ref
    policy = module_policy(module, data.k, reference=reference, sign=sign)
    return NeuralFit(learner, module, policy, link, sign, history, best_epoch, epoch, steps,
                     time.perf_counter() - start, train_rows.cpu().numpy(),
                     val_rows.cpu().numpy())
