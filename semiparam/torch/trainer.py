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
rewards.  Every pair trains ``K - 1`` members, so no refit is needed.  The members train
in lockstep (``semiparam.torch._run``): at each step their batch losses are summed,
differentiated in one backward pass and stepped by one optimiser, which gives each member
exactly the run it has trained alone while paying the fixed per-step costs once.  In the
reference synthetic study (docs/torch.md) early stopping is what helps every learner
most, the ensemble next; the link phase adds little.

Determinism: shuffling and the split use a private :class:`torch.Generator` seeded by
``seed``; on the CPU the result is a deterministic function of the module's initial
weights, the table and the arguments.  The module is moved to ``device``/``dtype``.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch

from ..policy import PreferenceTable, SoftmaxPolicy
from ._run import (TrainingData, TrainingRun, all_margins, can_train_together, train_alone,
                   train_together)
from .links import IsotonicLinkState, KernelLinkState
from .policy import LogProbEnsemble, module_device, module_policy

__all__ = ["fit", "NeuralFit", "LEARNERS", "reset_parameters"]

LEARNERS = ("dpo", "rspo", "pspo", "ospo")
_OPTIMIZERS = ("adam", "adamw", "sgd", "lbfgs")


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
        device, dtype = module_device(self.module_)
        data = TrainingData(table, device, dtype)
        rows = torch.arange(data.n, device=device)
        return all_margins(self.module_, data, rows).cpu().double().numpy()


class _PerContextReference:
    """Stands in for a reference given per training pair: new contexts have none."""

    def __call__(self, X):
        raise ValueError(
            "The table's reference log-probabilities were given per pair, so the policy has "
            "no reference for new contexts: pass reference= (a callable X -> (n, k) array of "
            "log-probabilities, or a (k,) vector) to fit, or ref_logprobs= to the policy.")


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
        # the fused kernels apply the same update to every tensor in one call; on the small
        # networks of the study a step costs a third less than with the default
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


def _fit_together(nets, table, learner, kw, seeds, holdouts):
    """The members of a cross-validated ensemble trained in lockstep
    (``_run.train_together``): the runs of one :func:`fit` per member,
    sharing each step's fixed costs."""
    _validate(nets[0], table, learner, kw["epochs"], kw["batch_size"], kw["lr"],
              kw["weight_decay"], 0.0, kw["patience"], kw["refresh_every"],
              None if kw["warm_start_epochs"] == "auto" else kw["warm_start_epochs"],
              kw["link"])
    ties = _tie_labels(kw["tie_labels"], learner)
    start = time.perf_counter()
    options = dict(epochs=kw["epochs"], batch_size=kw["batch_size"],
                   warm=kw["warm_start_epochs"], patience=kw["patience"],
                   restore_best=kw["restore_best"], refresh_every=kw["refresh_every"],
                   orthogonal=kw["orthogonal"], criterion=kw["criterion"],
                   progress=kw["progress"])
    data = TrainingData(table, torch.device(kw["device"]), kw["dtype"])  # shared by the runs
    runs = [_prepare_run(net, table, learner, sd, 0.0, held, ties,
                         dict(options, link=copy.deepcopy(kw["link"])), kw["device"],
                         kw["dtype"], data)
            for net, sd, held in zip(nets, seeds, holdouts)]
    params = [p for net in nets for p in net.parameters()]
    train_together(runs, _make_optimizer(kw["optimizer"], params, kw["lr"],
                                         kw["weight_decay"]))
    seconds = time.perf_counter() - start
    return [_result(run, table, kw["reference"], seconds) for run in runs]


def _fit_folds(module, table, learner, folds, kwargs, seed, validation_fraction, holdout,
               refit, member_init, lockstep):
    """The cross-validated ensemble of :func:`fit` (its ``folds`` argument)."""
    _check_int("folds", folds, 2)
    if member_init not in ("copy", "reset"):
        raise ValueError(f"member_init must be 'copy' or 'reset'; got {member_init!r}.")
    if not isinstance(lockstep, bool):
        raise ValueError(f"lockstep must be True or False; got {lockstep!r}.")
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
    nets = [module] + [copy.deepcopy(initial) for _ in range(1, folds)]
    if member_init == "reset":
        for j in range(1, folds):
            reset_parameters(nets[j], seed=(int(seed), j))
    holdouts = [np.sort(perm[j::folds]) for j in range(folds)]
    seeds = [int(seed) * folds + j for j in range(folds)]
    if lockstep and can_train_together(kwargs["optimizer"]):
        members = _fit_together(nets, table, learner, kwargs, seeds, holdouts)
    else:
        members = [fit(net, table, learner, seed=sd, holdout=held,
                       **dict(kwargs, link=copy.deepcopy(kwargs["link"])))
                   for net, sd, held in zip(nets, seeds, holdouts)]
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
        folds=None, member_init="reset", lockstep=True, tie_labels=None) -> NeuralFit:
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
    lockstep : bool, default=True
        ``folds`` only: train the members together, their losses summed into one backward
        pass and one optimiser step per step, where the optimiser is ``"adam"``,
        ``"adamw"`` or ``"sgd"`` (each member follows exactly the run it follows alone;
        networks with dropout draw their masks in another order; a step holds all members'
        activations at once).  False (or another optimiser): one member after another.
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
    if folds is not None:
        return _fit_folds(module, table, learner, folds, dict(
            epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
            optimizer=optimizer, warm_start_epochs=warm_start_epochs, link=link,
            refresh_every=refresh_every, patience=patience, restore_best=restore_best,
            device=device, dtype=dtype, progress=progress, reference=reference,
            orthogonal=orthogonal, criterion=criterion, tie_labels=tie_labels),
            seed, validation_fraction, holdout, refit, member_init, lockstep)
    ties = _tie_labels(tie_labels, learner)
    _validate(module, table, learner, epochs, batch_size, lr, weight_decay,
              validation_fraction, patience, refresh_every, warm_check, link)
    start = time.perf_counter()
    link_template = copy.deepcopy(link)
    initial_state = copy.deepcopy(module.state_dict()) if refit else None
    run = _prepare_run(module, table, learner, seed, validation_fraction, holdout, ties,
                       dict(epochs=epochs, batch_size=batch_size, link=link,
                            warm=warm_start_epochs, patience=patience,
                            restore_best=restore_best, refresh_every=refresh_every,
                            orthogonal=orthogonal, criterion=criterion, progress=progress),
                       device, dtype)
    train_alone(run, _make_optimizer(optimizer, list(module.parameters()), lr, weight_decay))
    if refit and run.n_val:
        # the same schedule on all pairs: the kept warm-up epochs, then the kept link epochs
        main_kept = run.best_epoch - run.warm_run if run.epoch > run.warm_run else 0
        module.load_state_dict(initial_state)
        again = fit(module, table, learner, epochs=max(run.warm_kept + main_kept, 1),
                    batch_size=batch_size,
                    lr=lr, weight_decay=weight_decay, optimizer=optimizer,
                    warm_start_epochs=run.warm_kept, link=copy.deepcopy(link_template),
                    refresh_every=refresh_every, device=device, dtype=dtype, seed=seed,
                    progress=progress, reference=reference, orthogonal=orthogonal,
                    criterion=criterion, tie_labels=tie_labels)
        again.history_ = run.history + again.history_
        again.fit_seconds_ = time.perf_counter() - start
        again.val_rows_ = np.zeros(0, dtype=np.int64)
        return again
    return _result(run, table, reference, time.perf_counter() - start)


def _prepare_run(module, table, learner, seed, validation_fraction, holdout, ties, options,
                 device, dtype, data=None):
    """The :class:`TrainingRun` of one network: device, split, link and generator
    (``data``: the table's tensors, when several runs share them)."""
    device = torch.device(device)
    module.to(device=device, dtype=dtype)
    if data is None:
        data = TrainingData(table, device, dtype)
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
    options = dict(options)
    if learner in ("pspo", "ospo") and options["link"] is None:
        options["link"] = IsotonicLinkState() if learner == "pspo" else KernelLinkState()
    if options["warm"] is None:
        options["warm"] = 2 if learner in ("pspo", "ospo") else 0
    return TrainingRun(module, data, learner, torch.sort(perm[n_val:]).values.to(device),
                       torch.sort(perm[:n_val]).values.to(device), ties=ties,
                       generator=gen, **options)


def _result(run, table, reference, seconds):
    """The :class:`NeuralFit` of a finished run."""
    module, data, learner = run.module, run.data, run.learner
    train_rows, zt, wt = run.train_rows, run.zt, run.wt
    sign = 1.0
    if learner in ("pspo", "ospo"):
        t_all = all_margins(module, data, train_rows)
        tc = t_all - (wt * t_all).sum() / wt.sum()
        if float((wt * tc * (zt - (wt * zt).sum() / wt.sum())).sum()) < 0:
            sign = -1.0
    if reference is None:
        ref = table.ref_logprobs
        reference = _PerContextReference() if (ref is not None and ref.ndim == 2) else ref
    policy = module_policy(module, data.k, reference=reference, sign=sign)
    return NeuralFit(learner, module, policy, run.link, sign, run.history, run.best_epoch,
                     run.epoch, run.steps, seconds, train_rows.cpu().numpy(),
                     run.val_rows.cpu().numpy())
