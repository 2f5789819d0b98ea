"""One network's training as a stream of batches, and the drivers that step it.

:class:`TrainingRun` holds everything :func:`~semiparam.torch.fit` keeps for one network
-- its training and held-out rows, its shuffling generator, its link state, the phases
(DPO warm-up, then the learner), the per-epoch link refresh, the held-out criterion,
early stopping and the restoring of the best epoch -- and exposes it as a generator of
batch positions, :meth:`TrainingRun.batches`.  A driver takes each batch, computes the
margins and :meth:`TrainingRun.batch_loss`, steps an optimiser and reports the loss by
:meth:`TrainingRun.record`; the run does its end-of-epoch work when it is asked for the
next batch.

Two drivers:

* :func:`train_alone`: one network, one optimiser (any optimiser, L-BFGS included);
* :func:`train_together`: the members of a cross-validated ensemble in lockstep.  At
  every step each member that still trains computes its batch loss on its own network;
  the losses are summed and differentiated in one backward pass, and one optimiser over
  all members' parameters steps once.  A member that has stopped (or whose epoch has
  fewer batches) gets no gradient, and the optimiser leaves it and its state alone
  (``torch.optim`` skips parameters whose ``grad`` is None).  Adam's and SGD's updates
  are elementwise with a step count per tensor, so each member follows exactly the run
  it follows trained alone (bit for bit on the CPU: tests/test_torch_ensemble.py), while
  the fixed per-call costs of the backward pass and the optimiser step, which dominate
  on small networks, are paid once per step instead of once per member.
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import torch

from ..exceptions import ConvergenceWarning
from .links import torch_threads_kept
from .losses import dpo_loss, ospo_loss, pspo_loss, rspo_loss
from .policy import pair_margins

__all__ = ["TrainingData", "TrainingRun", "all_margins", "train_alone", "train_together",
           "can_train_together"]

#: rows scored by RSPO's held-out criterion (its loss is quadratic in the rows)
RSPO_VAL_MAX = 2048


class TrainingData:
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

    def pair_margins(self, logits, rows):
        """Margins of ``rows`` from the logits of their contexts."""
        if logits.dim() != 2 or logits.shape[1] != self.k:
            raise ValueError(
                f"The module must map contexts (B, d) to logits (B, {self.k}); it returned "
                f"shape {tuple(logits.shape)}.")
        # log pi(a1) - log pi(a0) = f(a1) - f(a0): the softmax normaliser cancels
        ref = self.ref if (self.ref is None or self.ref.dim() == 1) else self.ref[rows]
        return pair_margins(logits, self.a0[rows], self.a1[rows], ref)

    def margins(self, module, rows):
        return self.pair_margins(module(self.X[rows]), rows)


def all_margins(module, data, rows, chunk=8192):
    """Margins of ``rows`` in eval mode, without gradients, in chunks."""
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            return torch.cat([data.margins(module, rows[s:s + chunk])
                              for s in range(0, rows.shape[0], chunk)])
    finally:
        module.train(was)


def concordance(t, z, w, max_rows=RSPO_VAL_MAX):
    """Weighted ``P(m_i + m_j > 0)`` (ties count 1/2) of the signed margins, i, j all pairs."""
    m = ((2.0 * z - 1.0) * t)[:max_rows]
    w = w[:max_rows]
    S = m[:, None] + m[None, :]
    W = w[:, None] * w[None, :]
    return float(((S > 0).to(t.dtype) + 0.5 * (S == 0).to(t.dtype)).mul(W).sum() / W.sum())


class TrainingRun:
    """The training of one network (see the module docstring).

    ``warm``: DPO epochs before the learner's phase, or ``"auto"`` (DPO to its early
    stop).  ``generator`` shuffles each epoch.  After :meth:`batches` is exhausted,
    ``history``, ``best_epoch``, ``epochs_run``, ``steps`` and ``warm_kept`` describe the
    run, and the module holds the kept weights.
    """

    def __init__(self, module, data, learner, train_rows, val_rows, *, link, ties, epochs,
                 batch_size, warm, patience, restore_best, refresh_every, orthogonal,
                 criterion, generator, progress=False):
        self.module, self.data, self.learner = module, data, learner
        self.train_rows, self.val_rows = train_rows, val_rows
        self.n_train, self.n_val = int(train_rows.shape[0]), int(val_rows.shape[0])
        self.link, self.epochs, self.warm = link, epochs, warm
        self.batch_size = self.n_train if batch_size is None else min(int(batch_size),
                                                                       self.n_train)
        self.patience, self.restore_best = patience, restore_best
        self.refresh_every, self.orthogonal = refresh_every, orthogonal
        self.criterion_name, self.generator, self.progress = criterion, generator, progress
        device, dtype = data.X.device, data.X.dtype
        self.zt, self.wt = data.z[train_rows], data.w[train_rows]
        if ties is not None:  # the tied pairs sit at margin 0 in the link's memory
            self.zt_link = torch.cat([self.zt, ties.to(device=device, dtype=dtype)])
            self.wt_link = torch.cat([self.wt, torch.ones(ties.shape[0], dtype=dtype,
                                                          device=device)])
        else:
            self.zt_link, self.wt_link = self.zt, self.wt
        self.n_ties = 0 if ties is None else int(ties.shape[0])
        self.history, self.epoch, self.steps = [], 0, 0
        self.best_epoch = self.warm_kept = self.warm_run = 0
        self.phase = "warm"
        self._total = None

    # -- the pieces a driver calls ---------------------------------------------------
    def batch_loss(self, t, pos):
        """The current phase's loss of the batch at positions ``pos`` of the training rows,
        from its margins ``t``."""
        rows = self.train_rows[pos]
        zb, wb = self.data.z[rows], self.data.w[rows]
        if self.phase == "warm" or self.learner == "dpo":
            return dpo_loss(t, zb, wb, validate=False)
        if self.learner == "rspo":
            return rspo_loss(t, zb, wb, validate=False)
        if self.learner == "pspo":
            return pspo_loss(t, zb, self.link, wb, validate=False)
        return ospo_loss(t, zb, self.link, wb, index=pos, orthogonal=self.orthogonal,
                         validate=False)

    def record(self, loss, size):
        """Report the loss of the batch just stepped (``size`` pairs)."""
        self._total = self._total + loss.detach() * size

    def refresh(self):
        t_all = all_margins(self.module, self.data, self.train_rows)
        if self.n_ties:
            t_all = torch.cat([t_all, t_all.new_zeros(self.n_ties)])
        with torch_threads_kept():  # numba's OpenMP layer resets torch's thread count
            self.link.refresh(t_all, self.zt_link, self.wt_link)

    # -- the run ----------------------------------------------------------------------
    def batches(self):
        """Yield the positions (in the training rows) of every batch of every epoch."""
        if self.warm == "auto":
            self.warm_kept = yield from self._phase("warm", self.epochs, True)
            main_epochs = max(self.epochs - self.epoch, 1)
        else:
            self.warm_kept = yield from self._phase("warm", min(self.warm, self.epochs),
                                                    self.warm >= self.epochs)
            main_epochs = self.epochs - self.epoch
        self.warm_run = self.epoch
        self.best_epoch = self.warm_kept
        if main_epochs > 0:
            self.best_epoch = yield from self._phase("main", main_epochs, True)
        if self.progress:
            print(file=sys.stderr)

    def _criterion(self):
        if self.n_val == 0:
            return float("nan")
        t = all_margins(self.module, self.data, self.val_rows)
        zv, wv = self.data.z[self.val_rows], self.data.w[self.val_rows]
        with torch.no_grad():
            if self.criterion_name == "auc":
                return -concordance(t, zv, wv)
            if self.phase == "warm" or self.learner == "dpo":
                return float(dpo_loss(t, zv, wv))
            if self.learner == "rspo":
                m = min(self.n_val, RSPO_VAL_MAX)
                return float(rspo_loss(t[:m], zv[:m], wv[:m]))
            return float(pspo_loss(t, zv, self.link, wv))

    def _epoch(self):
        """Yield one epoch's batches; returns the mean training loss."""
        self.module.train()
        device = self.train_rows.device
        order = torch.randperm(self.n_train, generator=self.generator).to(device)
        self._total = torch.zeros((), dtype=self.data.X.dtype, device=device)
        step_refresh = (self.phase == "main" and self.link is not None
                        and self.refresh_every != "epoch")
        for s in range(0, self.n_train, self.batch_size):
            yield order[s:s + self.batch_size]
            self.steps += 1
            if step_refresh and self.steps % self.refresh_every == 0:
                self.refresh()
        return float(self._total) / self.n_train

    def _phase(self, phase, n_epochs, track):
        """Train ``n_epochs`` (fewer under early stopping); restore the best when tracked."""
        self.phase = phase
        linked = phase == "main" and self.link is not None
        best, best_state, best_epoch, bad = math.inf, None, self.epoch, 0
        if linked:
            self.refresh()
        for _ in range(n_epochs):
            t0 = time.perf_counter()
            self.epoch += 1
            train_loss = yield from self._epoch()
            if not math.isfinite(train_loss):
                warnings.warn(f"{self.learner}: the training loss became {train_loss} in "
                              f"epoch {self.epoch}; stopping (lower lr?).",
                              ConvergenceWarning, stacklevel=2)
                break
            if linked and self.refresh_every == "epoch":
                self.refresh()
            val = self._criterion()
            entry = {"epoch": self.epoch, "phase": phase, "train_loss": train_loss,
                     "val_loss": val, "seconds": time.perf_counter() - t0}
            if linked:
                entry["link"] = self.link.diagnostics()
            self.history.append(entry)
            if self.progress:
                print(f"\r[{self.learner}] epoch {self.epoch}/{self.epochs} ({phase}) loss "
                      f"{train_loss:.4f} held-out {val:.4f}", end="", file=sys.stderr,
                      flush=True)
            if not (track and self.n_val):
                best_epoch = self.epoch
                continue
            if val < best:
                best, best_epoch, bad = val, self.epoch, 0
                if self.restore_best:
                    best_state = {k: v.detach().clone()
                                  for k, v in self.module.state_dict().items()}
            else:
                bad += 1
                if self.patience is not None and bad >= self.patience:
                    break
        if best_state is not None and best_epoch != self.epoch:
            self.module.load_state_dict(best_state)
            if linked:
                self.refresh()
        elif best_state is None:
            best_epoch = self.epoch
        return best_epoch


def train_alone(run, optimizer):
    """Step one run to its end with ``optimizer`` (a closure for L-BFGS)."""
    data, module = run.data, run.module
    lbfgs = isinstance(optimizer, torch.optim.LBFGS)
    for pos in run.batches():
        rows = run.train_rows[pos]
        if lbfgs:
            def closure(pos=pos, rows=rows):
                optimizer.zero_grad()
                out = run.batch_loss(data.margins(module, rows), pos)
                out.backward()
                return out
            loss = optimizer.step(closure)
        else:
            optimizer.zero_grad()
            loss = run.batch_loss(data.margins(module, rows), pos)
            loss.backward()
            optimizer.step()
        run.record(loss, pos.shape[0])


def can_train_together(optimizer):
    """Whether :func:`train_together` applies: a built-in optimiser whose update is
    elementwise with per-tensor state (Adam, AdamW, SGD; not L-BFGS or a callable)."""
    return isinstance(optimizer, str) and optimizer in ("adam", "adamw", "sgd")


def train_together(runs, optimizer):
    """Step the runs in lockstep, one backward pass and one optimiser step per step
    (module docstring); ``optimizer`` holds every run's parameters."""
    streams = [r.batches() for r in runs]
    current = [next(s, None) for s in streams]
    while True:
        active = [j for j, pos in enumerate(current) if pos is not None]
        if not active:
            break
        optimizer.zero_grad()
        total = 0.0
        for j in active:
            run, pos = runs[j], current[j]
            loss = run.batch_loss(run.data.margins(run.module, run.train_rows[pos]), pos)
            run.record(loss, pos.shape[0])
            total = total + loss
        total.backward()
        optimizer.step()
        for j in active:
            current[j] = next(streams[j], None)
