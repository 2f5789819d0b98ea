"""Preference losses on per-pair margins: DPO, RSPO, PSPO, OSPO.

Every loss takes the margins ``t`` (shape (B,), floating, any device, differentiable),
labels ``z`` (1 when action1 was preferred; DPO/PSPO/OSPO also accept fractions in
[0, 1]) and optional nonnegative weights ``w``, and returns, by ``reduction``:
``"none"`` the per-pair values ``w_i l_i``, ``"sum"`` ``sum_i w_i l_i``, ``"mean"``
``sum_i w_i l_i / sum_i w_i`` (the plain mean without weights).

=========  ==========================================================================
``dpo``    ``l_i = -z log sigma(t) - (1 - z) log sigma(-t)`` (Bradley-Terry log-loss)
``rspo``   ``l_i = sum_j w_j softplus(-(m_i + m_j)) / sum_j w_j`` with the signed margin
           ``m = (2z - 1) t``: the bipartite logistic ranking loss of the swap-augmented
           batch (pairs of pairs within the batch, ``j = i`` included), link-free
``pspo``   ``l_i = -z log g(t) - (1 - z) log(1 - g(t))`` with a link state ``g``
           (:class:`~semiparam.torch.IsotonicLinkState`, or any callable link)
``ospo``   ``l_i = -z log g_{-i}(t) - (1 - z) log(1 - g_{-i}(t)) + a_i t`` with the
           leave-one-out kernel link and its correction ``a_i``
           (:class:`~semiparam.torch.KernelLinkState`): the gradient is the efficient
           (orthogonal) score, see :mod:`semiparam.torch.links`
=========  ==========================================================================
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["dpo_loss", "rspo_loss", "pspo_loss", "ospo_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _inputs(margins, labels, weight, reduction, binary=False, validate=True):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}; got {reduction!r}.")
    if not isinstance(margins, torch.Tensor) or not margins.is_floating_point():
        raise ValueError("margins must be a floating-point torch tensor of shape (B,).")
    if margins.dim() != 1:
        raise ValueError(f"margins must have shape (B,); got {tuple(margins.shape)}.")
    z = torch.as_tensor(labels, device=margins.device).to(margins.dtype)
    if z.shape != margins.shape:
        raise ValueError(f"labels has shape {tuple(z.shape)}; margins {tuple(margins.shape)}.")
    w = None
    if weight is not None:
        w = torch.as_tensor(weight, device=margins.device).to(margins.dtype)
        if w.shape != margins.shape:
            raise ValueError(f"weight has shape {tuple(w.shape)}; margins {tuple(margins.shape)}.")
    if validate:
        if not bool(torch.isfinite(margins).all()):
            raise ValueError("margins contain NaN or infinity.")
        bad = (z != 0) & (z != 1) if binary else (z < 0) | (z > 1) | torch.isnan(z)
        if bool(bad.any()):
            raise ValueError("labels must be 0/1 (1: action1 preferred)" if binary
                             else "labels must lie in [0, 1] (1: action1 preferred).")
        if w is not None and (not bool(torch.isfinite(w).all()) or bool((w < 0).any())):
            raise ValueError("weight must be finite and nonnegative.")
    return z, w


def _reduce(loss, w, reduction):
    if w is not None:
        loss = w * loss
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w.sum() if w is not None else loss.shape[0])


def _log_loss(g, z):
    return -(z * torch.log(g) + (1.0 - z) * torch.log1p(-g))


def dpo_loss(margins, labels, weight=None, *, reduction="mean", validate=True):
    """Bradley-Terry (logistic) log-loss of the margins: DPO.

    Parameters
    ----------
    margins : Tensor (B,)
        ``(log pi/pi_ref)(a1) - (log pi/pi_ref)(a0)`` per pair.
    labels : Tensor or array (B,)
        1 when ``a1`` was preferred (fractions in [0, 1] allowed).
    weight : Tensor or array (B,), optional
    reduction : {"mean", "sum", "none"}
    validate : bool, default=True
        Check for NaN/inf and the label range (one device synchronisation).
    """
    z, w = _inputs(margins, labels, weight, reduction, validate=validate)
    # z softplus(-t) + (1 - z) softplus(t), as one autograd node
    loss = F.binary_cross_entropy_with_logits(margins, z, reduction="none")
    return _reduce(loss, w, reduction)


def rspo_loss(margins, labels, weight=None, *, reduction="mean", validate=True):
    """Logistic pairwise-ranking loss over the pairs of pairs in the batch: RSPO.

    ``O(B^2)`` memory and time per batch.  See the module docstring.
    """
    z, w = _inputs(margins, labels, weight, reduction, binary=True, validate=validate)
    m = (2.0 * z - 1.0) * margins
    pair = F.softplus(-(m[:, None] + m[None, :]))
    if w is None:
        row = pair.mean(dim=1)
    else:
        row = (pair * w[None, :]).sum(dim=1) / w.sum()
    return _reduce(row, w, reduction)


def pspo_loss(margins, labels, link, weight=None, *, reduction="mean", index=None,
              validate=True):
    """Log-loss of the margins under a fitted link: PSPO.

    Parameters
    ----------
    link : callable
        ``link(t)`` (or ``link(t, index=...)``) returning probabilities in (0, 1) on
        ``t``'s device, differentiable in ``t``: an
        :class:`~semiparam.torch.IsotonicLinkState` (the profiled isotonic link) or a
        :class:`~semiparam.torch.KernelLinkState`.
    index : Tensor of int (B,), optional
        Rows of the training set (passed on to the link, which may leave them out).
    """
    z, w = _inputs(margins, labels, weight, reduction, validate=validate)
    g = link(margins) if index is None else link(margins, index=index)
    return _reduce(_log_loss(g, z), w, reduction)


def ospo_loss(margins, labels, link, weight=None, *, reduction="mean", index=None,
              orthogonal=True, validate=True):
    """Orthogonalized semiparametric log-loss: OSPO.

    Parameters
    ----------
    link : KernelLinkState
        Refreshed on the detached margins of the whole training set.
    index : Tensor of int (B,)
        Rows of the batch in the training set of the last refresh (required): they pick
        the leave-one-out link ``g_{-i}`` and the corrections ``a_i``.
    orthogonal : bool, default=True
        Add ``a_i t_i`` (the efficient score); False gives the leave-one-out
        (Klein-Spady type) log-loss alone.
    """
    z, w = _inputs(margins, labels, weight, reduction, validate=validate)
    if index is None:
        raise ValueError(
            "ospo_loss needs index= (the batch's row numbers in the training set that the "
            "link was refreshed on) for the leave-one-out link and the orthogonal correction.")
    if not hasattr(link, "correction"):
        raise ValueError(
            f"ospo_loss needs a KernelLinkState (with a correction); got {type(link).__name__}.")
    loss = _log_loss(link(margins, index=index), z)
    if orthogonal:
        loss = loss + link.correction(index, like=margins) * margins
    return _reduce(loss, w, reduction)
