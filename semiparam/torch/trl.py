"""Link-agnostic preference optimisation inside Hugging Face TRL: ``SPOTrainer``.

:class:`SPOTrainer` is TRL's :class:`~trl.DPOTrainer` with the loss replaced (TRL 1.x has no
custom-loss hook; the documented route, used here, is overriding ``compute_loss``).  It keeps
everything else of TRL: the data sets (``prompt`` / ``chosen`` / ``rejected``, plain or
conversational), tokenisation and collation, the reference (a ``ref_model``, a PEFT adapter
switched off, or ``precompute_ref_log_probs=True``), the optimiser, accelerate, and the
logging names (``rewards/chosen``, ``rewards/rejected``, ``rewards/accuracies``,
``rewards/margins``, ``logps/chosen``, ``logps/rejected``), to which it adds ``link/*``.

The index
---------
For a pair with chosen completion ``y_w`` and rejected ``y_l`` of prompt ``x``,

    t = beta * [(log pi(y_w|x) - log pi_ref(y_w|x)) - (log pi(y_l|x) - log pi_ref(y_l|x))]

(:func:`~semiparam.torch.sequence_logps` for the policy, TRL's public
``compute_ref_log_probs`` or the precomputed columns for the reference).  The preference
model is ``P(y_w preferred) = g(t)`` with ``g`` monotone; DPO fixes ``g = sigmoid``.

Learners (``SPOConfig.learner``)
--------------------------------
``"dpo"``   ``-log sigmoid(t)``: TRL's ``loss_type="sigmoid"``, for comparison.
``"rspo"``  the link-free pairwise ranking loss over the pairs of pairs in a batch.
``"pspo"``  ``-log g(t)`` with ``g`` the (smoothed) isotonic link of the pool
            (:class:`~semiparam.torch.IsotonicLinkState`).
``"ospo"``  the leave-one-out kernel log-loss plus the orthogonal correction
            (:class:`~semiparam.torch.KernelLinkState`): first-order insensitive to the
            error of the estimated link.

Fitting a link when every label is 1
------------------------------------
TRL data always say "chosen wins", so the labelled pool ``(t_i, z_i = 1)`` cannot identify a
link by itself.  The model supplies the missing half: a preference link is *antisymmetric*,
``g(-u) = 1 - g(u)`` (swapping the two completions swaps the outcome), so a pair may be
written either way round.  At each refresh every pair of the pool is re-oriented by an
independent fair coin ``s_i in {-1, +1}`` (seeded by ``args.seed`` and the refresh count):
margin ``s_i t_i``, label ``(1 + s_i)/2``.  If the chosen/rejected split arose from an
exchangeable presentation of the two completions (the usual case: the annotator saw them in
random order), the re-oriented pairs have exactly the law of the original labelled pairs,
``P(z = 1 | s t = u) = g(u)``, and the link is estimated by the ordinary isotonic or kernel
regression of ``z`` on ``s t``.  The same orientation is then used in the loss, so that the
leave-one-out terms and OSPO's corrections refer to the pair as it entered the fit (for DPO
and RSPO the orientation is immaterial: their losses are invariant to it).  A held-out
labelled set would avoid the coin but cost data; the coin costs nothing in expectation and
its noise is that of a fair split of ``n`` pairs.

Schedule
--------
At the start the policy equals the reference, every margin is 0, and no link can be
estimated.  PSPO and OSPO therefore train with DPO's logistic link until the first refresh
(``link_warmup_steps``, by default the first scheduled refresh), then refresh the link from
the detached margins of the whole training set every ``link_refresh_steps`` optimiser steps
(None: at the end of every epoch but the last).  A refresh is one forward pass over the
pool (``per_device_eval_batch_size`` pairs at a time) plus an ``O(n log n)`` fit on the CPU.

Weights
-------
An optional per-pair column (``SPOConfig.weight_column``, default ``"weight"``) weights the
loss and the link fit.  Extra columns reach the collator only with
``remove_unused_columns=False``, which is therefore :class:`SPOConfig`'s default.

Nothing private of TRL is used: the trainer calls ``DPOTrainer.__init__``,
``compute_ref_log_probs``, ``log`` and the public ``Trainer`` attributes only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import TrainerCallback
from transformers.utils import ModelOutput
from trl import DPOConfig, DPOTrainer

from .links import IsotonicLinkState, KernelLinkState, torch_threads_kept
from .logps import sequence_logps
from .losses import dpo_loss, ospo_loss, pspo_loss, rspo_loss

__all__ = ["SPOConfig", "SPOTrainer", "random_orientation", "LEARNERS"]

LEARNERS = ("dpo", "pspo", "ospo", "rspo")
_LINKED = ("pspo", "ospo")
_INDEX = "spo_index"
_MODEL_KEYS = ("input_ids", "attention_mask", "completion_mask")


@dataclass
class SPOConfig(DPOConfig):
    """:class:`~trl.DPOConfig` plus the semiparametric learner and its link schedule.

    Parameters (beyond ``DPOConfig``'s)
    -----------------------------------
    learner : {"ospo", "pspo", "rspo", "dpo"}, default="ospo"
        The loss (module docstring).  Replaces ``loss_type``, which must stay ``"sigmoid"``.
    link_refresh_steps : int or None, default=None
        Refresh the link every this many optimiser steps; None: at each epoch end.
    link_warmup_steps : int or None, default=None
        Steps trained with the logistic link before the first refresh; None: until the
        first scheduled refresh.
    link_kwargs : dict or None, default=None
        Keyword arguments of the link state (``IsotonicLinkState`` for PSPO,
        ``KernelLinkState`` for OSPO), e.g. ``{"bandwidth_factor": 0.5}``.
    weight_column : str, default="weight"
        Name of the optional per-pair weight column.
    remove_unused_columns : bool, default=False
        Must stay False when the data carry weights (TRL's default, True, drops them).
    """

    learner: str = field(default="ospo", metadata={
        "help": "Preference loss: 'ospo', 'pspo', 'rspo' (semiparametric) or 'dpo'."})
    link_refresh_steps: int | None = field(default=None, metadata={
        "help": "Refresh the link every this many optimiser steps (None: every epoch)."})
    link_warmup_steps: int | None = field(default=None, metadata={
        "help": "Steps with the logistic link before the first refresh (None: first refresh)."})
    link_kwargs: dict | None = field(default=None, metadata={
        "help": "Keyword arguments of the link state (IsotonicLinkState / KernelLinkState)."})
    weight_column: str = field(default="weight", metadata={
        "help": "Optional per-pair weight column."})
    remove_unused_columns: bool = field(default=False, metadata={
        "help": "Keep extra columns (weights) for the collator."})

    def __post_init__(self):
        if self.learner not in LEARNERS:
            raise ValueError(f"learner must be one of {list(LEARNERS)}; got {self.learner!r}.")
        loss_type = [self.loss_type] if isinstance(self.loss_type, str) else self.loss_type
        if list(loss_type) != ["sigmoid"]:
            raise ValueError(
                f"SPOConfig chooses the loss with learner=; loss_type must stay ['sigmoid'] "
                f"(got {self.loss_type!r}).")
        unsupported = {"ld_alpha": self.ld_alpha is not None,
                       "use_weighting": bool(self.use_weighting),
                       "padding_free": bool(self.padding_free),
                       "f_divergence_type": self.f_divergence_type != "reverse_kl"}
        bad = [k for k, v in unsupported.items() if v]
        if bad:
            raise ValueError(f"SPOConfig does not support {bad} (DPO-specific options).")
        for name in ("link_refresh_steps", "link_warmup_steps"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be a positive integer or None; got {v!r}.")
        if self.link_kwargs is not None and not isinstance(self.link_kwargs, dict):
            raise ValueError(f"link_kwargs must be a dict or None; got {self.link_kwargs!r}.")
        super().__post_init__()


def random_orientation(margins, rng):
    """Re-orient "chosen wins" pairs by fair coins: ``(s * t, (1 + s) / 2, s)``.

    Parameters
    ----------
    margins : ndarray (n,)
        Chosen-minus-rejected margins (every label 1).
    rng : numpy Generator

    Returns
    -------
    margins : ndarray (n,)   ``s_i t_i``
    labels : ndarray (n,)    ``1`` where ``s_i = +1``, else ``0``
    signs : ndarray (n,)     ``s_i``
    """
    t = np.asarray(margins, dtype=float)
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ValueError("margins must be a finite 1-D array.")
    s = np.where(rng.random(t.shape[0]) < 0.5, -1.0, 1.0)
    return s * t, (1.0 + s) / 2.0, s


class _Collator:
    """TRL's preference collator, passing the weight and row-number columns through."""

    def __init__(self, inner, weight_column):
        self.inner = inner
        self.weight_column = weight_column

    def __call__(self, examples):
        out = self.inner(examples)
        first = examples[0]
        if self.weight_column in first:
            out["weight"] = torch.tensor([float(e[self.weight_column]) for e in examples])
        if _INDEX in first:
            out[_INDEX] = torch.tensor([int(e[_INDEX]) for e in examples], dtype=torch.long)
        return out


class _LinkSchedule(TrainerCallback):
    """Refreshes the trainer's link on its schedule (see the module docstring)."""

    def __init__(self, trainer):
        self.trainer = trainer
        self._last = None

    def _refresh(self, state):
        if self._last == state.global_step or state.global_step >= state.max_steps:
            return
        self._last = state.global_step
        self.trainer.refresh_link()

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        warm, every = args.link_warmup_steps, args.link_refresh_steps
        if warm is not None and step == warm:
            self._refresh(state)
        elif every is not None and step % every == 0 and step >= (warm or 0):
            self._refresh(state)
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if args.link_refresh_steps is None and state.global_step >= (args.link_warmup_steps or 0):
            self._refresh(state)
        return control


@dataclass
class SPOOutput(ModelOutput):
    """What ``compute_loss(..., return_outputs=True)`` returns beside the loss."""

    logits: torch.Tensor | None = None  # the pairs' margins t (shape (B,))


class SPOTrainer(DPOTrainer):
    """TRL's ``DPOTrainer`` with the DPO, PSPO, OSPO or RSPO loss (module docstring).

    Parameters
    ----------
    model, ref_model, train_dataset, eval_dataset, processing_class, ... :
        As :class:`trl.DPOTrainer` (every keyword is passed on).
    args : SPOConfig
    link : link state, optional
        A fresh ``IsotonicLinkState`` / ``KernelLinkState`` (or compatible object) to use
        instead of the default one built from ``args.link_kwargs``.

    Attributes
    ----------
    link_ : link state or None
        The link (PSPO/OSPO); fitted once ``link_refreshes_ > 0``.
    link_refreshes_ : int
    link_history_ : list of dict
        Diagnostics of each refresh (step, bandwidth, pool statistics, seconds).

    Examples
    --------
    >>> from semiparam.torch.trl import SPOConfig, SPOTrainer          # doctest: +SKIP
    >>> args = SPOConfig(output_dir="out", learner="ospo", beta=0.1)    # doctest: +SKIP
    >>> SPOTrainer(model, ref_model=ref, args=args, train_dataset=ds,
    ...            processing_class=tokenizer).train()                 # doctest: +SKIP
    """

    _tag_names = ["trl", "dpo", "semiparam", "spo"]
    _name = "SPO"

    def __init__(self, model, ref_model=None, args: SPOConfig | None = None, *, link=None,
                 **kwargs):
        if args is None:
            args = SPOConfig(output_dir="spo-output")
        if not isinstance(args, SPOConfig):
            raise TypeError(f"args must be an SPOConfig; got {type(args).__name__}.")
        super().__init__(model, ref_model=ref_model, args=args, **kwargs)
        self.data_collator = _Collator(self.data_collator, args.weight_column)
        self.learner = args.learner
        self.link_ = None
        self.link_refreshes_ = 0
        self.link_history_ = []
        self._signs = None
        self._spo_metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
        if self.learner in _LINKED:
            train = self.train_dataset
            if not hasattr(train, "add_column"):
                raise ValueError(
                    f"learner={self.learner!r} refreshes its link on the whole training set, "
                    "which needs a map-style datasets.Dataset (not an IterableDataset).")
            if _INDEX in train.column_names:
                train = train.remove_columns(_INDEX)
            self.train_dataset = train.add_column(_INDEX, list(range(len(train))))
            kw = dict(args.link_kwargs or {})
            if link is None:
                link = IsotonicLinkState(**kw) if self.learner == "pspo" else KernelLinkState(**kw)
            elif self.learner == "ospo" and not hasattr(link, "correction"):
                raise ValueError("learner='ospo' needs a KernelLinkState-like link.")
            self.link_ = link
            self.add_callback(_LinkSchedule(self))
        elif link is not None:
            raise ValueError(f"learner={self.learner!r} uses no link; do not pass link=.")

    # -- log-probabilities ------------------------------------------------------------
    def compute_ref_log_probs(self, model, inputs):
        """TRL's reference log-probabilities, on the model inputs only."""
        return super().compute_ref_log_probs(model, {k: inputs[k] for k in _MODEL_KEYS})

    def _ref_logps(self, inputs):
        if "ref_chosen_logps" in inputs:
            return inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        model = self.ref_model if self.ref_model is not None else self.model
        return self.compute_ref_log_probs(model, inputs)

    def pair_margins(self, model, inputs):
        """``(t, chosen_logps, rejected_logps, chosen_logratio, rejected_logratio)`` of a batch."""
        logps = sequence_logps(model, inputs["input_ids"], inputs["attention_mask"],
                               inputs["completion_mask"])
        chosen, rejected = logps.chunk(2, dim=0)
        ref_c, ref_r = self._ref_logps(inputs)
        ref_c = ref_c.to(chosen.device, chosen.dtype)
        ref_r = ref_r.to(chosen.device, chosen.dtype)
        lr_c, lr_r = chosen - ref_c, rejected - ref_r
        return self.beta * (lr_c - lr_r), chosen, rejected, lr_c, lr_r

    # -- the link -----------------------------------------------------------------------
    @torch.no_grad()
    def pool_margins(self):
        """Detached margins and weights of every training pair, in row order."""
        loader = DataLoader(self.train_dataset, batch_size=self.args.per_device_eval_batch_size,
                            collate_fn=self.data_collator, shuffle=False)
        device = self.accelerator.device
        model = self.model
        was_training = model.training
        model.eval()
        n = len(self.train_dataset)
        t = np.zeros(n)
        w = np.ones(n)
        try:
            for batch in loader:
                batch = {k: v.to(device) for k, v in batch.items()}
                margins = self.pair_margins(model, batch)[0]
                rows = batch[_INDEX].cpu().numpy()
                t[rows] = margins.double().cpu().numpy()
                if "weight" in batch:
                    w[rows] = batch["weight"].double().cpu().numpy()
        finally:
            model.train(was_training)
        return t, w

    def refresh_link(self):
        """Refit the link on the re-oriented detached margins of the training set."""
        if self.link_ is None:
            raise ValueError(f"learner={self.learner!r} has no link to refresh.")
        t, w = self.pool_margins()
        rng = np.random.default_rng([int(self.args.seed), self.link_refreshes_])
        tt, z, s = random_orientation(t, rng)
        with torch_threads_kept():  # a user's link may call numba kernels too
            self.link_.refresh(tt, z, w)
        self._signs = torch.as_tensor(s, dtype=torch.float32)
        self.link_refreshes_ += 1
        probe = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        g0 = self.link_(probe)
        (slope,) = torch.autograd.grad(g0.sum(), probe)
        diag = {k: v for k, v in self.link_.diagnostics().items() if isinstance(v, (int, float))}
        diag.update({"step": int(self.state.global_step), "pool_accuracy": float(np.mean(t > 0)),
                     "pool_margin_mean": float(np.average(t, weights=w)),
                     "g_at_zero": float(g0.detach()), "slope_at_zero": float(slope)})
        self.link_history_.append(diag)
        return self

    # -- the loss -------------------------------------------------------------------------
    def _loss(self, t, inputs, mode):
        ones = torch.ones_like(t)
        w = inputs.get("weight")
        if w is not None:
            w = w.to(t.device, t.dtype)
        if self.learner == "dpo" or (self.learner in _LINKED and self.link_refreshes_ == 0):
            return dpo_loss(t, ones, w)
        if self.learner == "rspo":
            return rspo_loss(t, ones, w)
        if mode == "eval" or _INDEX not in inputs:
            return pspo_loss(t, ones, self.link_, w)  # plain log-loss -log g(t) of the link
        index = inputs[_INDEX]
        s = self._signs.to(t.device, t.dtype)[index]
        if self.learner == "pspo":
            return pspo_loss(s * t, (1.0 + s) / 2.0, self.link_, w, index=index)
        return ospo_loss(s * t, (1.0 + s) / 2.0, self.link_, w, index=index)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        mode = "train" if self.model.training else "eval"
        t, chosen, rejected, lr_c, lr_r = self.pair_margins(model, inputs)
        loss = self._loss(t, inputs, mode)
        m = self._spo_metrics[mode]
        rc, rr = self.beta * lr_c.detach(), self.beta * lr_r.detach()
        gather = self.accelerator.gather_for_metrics
        m["rewards/chosen"].append(gather(rc).mean().item())
        m["rewards/rejected"].append(gather(rr).mean().item())
        m["rewards/accuracies"].append(gather((rc > rr).float()).mean().item())
        m["rewards/margins"].append(gather(rc - rr).mean().item())
        m["logps/chosen"].append(gather(chosen.detach()).mean().item())
        m["logps/rejected"].append(gather(rejected.detach()).mean().item())
        m["link/active"].append(float(self.link_refreshes_ > 0 or self.learner == "rspo"))
        if return_outputs:
            return loss, SPOOutput(logits=t.detach())
        return loss

    def log(self, logs, start_time=None):
        mode = "train" if self.model.training else "eval"
        metrics = {k: sum(v) / len(v) for k, v in self._spo_metrics[mode].items() if v}
        if mode == "train" and self.link_history_:
            last = self.link_history_[-1]
            metrics.update({f"link/{k}": v for k, v in last.items() if k != "step"})
        if mode == "eval":
            metrics = {f"eval_{k}": v for k, v in metrics.items()}
        logs.update({k: v for k, v in metrics.items() if math.isfinite(v)})
        self._spo_metrics[mode].clear()
        super().log(logs, start_time)
