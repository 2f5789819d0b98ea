"""Sequence log-probabilities of completions under a causal language model.

For a sequence ``y_1 .. y_T`` (prompt then completion) and a completion mask ``c_s``
(1 on completion tokens), a causal LM gives ``log pi(y_s | y_<s)`` from the logits at
position ``s - 1``; the completion's log-probability given its prompt is

    log pi(y | x) = sum_{s >= 2} c_s log softmax(logits_{s-1})[y_s]

(the first token has no prediction and is never part of a completion).  With
``average=True`` the sum is divided by the number of completion tokens (the
length-normalised score of SimPO / TRL's ``sigmoid_norm``).

This is the quantity TRL's ``DPOTrainer`` computes for each half of its collated batch
(``DataCollatorForPreference`` stacks the chosen sequences, then the rejected ones, with
``input_ids``, ``attention_mask`` and ``completion_mask`` padded on the right), so a DPO
margin is

    t = (lp[:B] - ref_lp[:B]) - (lp[B:] - ref_lp[B:]),   lp = sequence_logps(model, ...).

The log-softmax is taken as ``logit[y] - logsumexp(logits)`` in float32 (whatever the
model's dtype), on ``chunk_size`` sequences at a time to bound the memory of the
``(batch, length, vocab)`` logits.
"""

from __future__ import annotations

import torch

__all__ = ["sequence_logps", "token_logps"]


def _check(input_ids, attention_mask, completion_mask):
    if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2:
        raise ValueError("input_ids must be a 2-D integer tensor (batch, length).")
    if input_ids.is_floating_point():
        raise ValueError("input_ids must hold integer token ids.")
    shape = tuple(input_ids.shape)
    for name, m in (("attention_mask", attention_mask), ("completion_mask", completion_mask)):
        if not isinstance(m, torch.Tensor) or tuple(m.shape) != shape:
            got = tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__
            raise ValueError(f"{name} must be a tensor of shape {shape}; got {got}.")
    if bool(((completion_mask != 0) & (attention_mask == 0)).any()):
        raise ValueError("completion_mask marks tokens that attention_mask masks out.")


def token_logps(model, input_ids, attention_mask):
    """Per-token ``log pi(y_s | y_<s)`` for ``s = 2 .. T``, shape (batch, length - 1), float32."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    logits = out.logits[:, :-1].float()
    target = input_ids[:, 1:].unsqueeze(-1)
    return logits.gather(-1, target).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def sequence_logps(model, input_ids, attention_mask, completion_mask, *, average=False,
                   chunk_size=None):
    """Summed (or averaged) completion-token log-probabilities, one per sequence.

    Parameters
    ----------
    model : causal LM
        Called as ``model(input_ids=..., attention_mask=..., use_cache=False)``; must
        return an object with ``.logits`` of shape (batch, length, vocab) (any Hugging
        Face ``*ForCausalLM``).
    input_ids, attention_mask, completion_mask : LongTensor (batch, length)
        As collated by TRL (padding on either side is fine: masked positions add 0).
    average : bool, default=False
        Divide by the number of completion tokens (at least 1).
    chunk_size : int, default=None
        Forward at most this many sequences at a time (None: the whole batch).

    Returns
    -------
    Tensor (batch,), float32, differentiable through the model.
    """
    _check(input_ids, attention_mask, completion_mask)
    n = input_ids.shape[0]
    step = n if chunk_size is None else int(chunk_size)
    if step < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    parts = []
    for lo in range(0, n, step):
        sl = slice(lo, lo + step)
        lp = token_logps(model, input_ids[sl], attention_mask[sl])
        mask = completion_mask[sl, 1:].to(lp.dtype)
        total = (lp * mask).sum(dim=1)
        if average:
            total = total / mask.sum(dim=1).clamp(min=1.0)
        parts.append(total)
    return parts[0] if len(parts) == 1 else torch.cat(parts)
