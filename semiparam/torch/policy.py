"""A trained network as a :class:`~semiparam.policy.SoftmaxPolicy`, and pair margins.

A network ``f_theta`` maps contexts to action logits; ``pi_theta = softmax(f_theta(x))``.
Its implicit reward is ``s(x, a) = log pi_theta(a | x) - log pi_ref(a | x)`` (defined up to
a constant per context, which no policy below depends on).  Taking ``s`` as a *single*
feature, ``phi(x, a) = s(x, a)`` with coefficient 1, the KL family of
:class:`~semiparam.policy.SoftmaxPolicy`

    pi_beta(a | x) ∝ pi_ref(a | x) exp(s(x, a) / beta) = pi_ref^(1 - 1/beta) pi_theta^(1/beta)

is the tempering of the reference study (``beta = 1`` is ``pi_theta`` itself), and the
other f-divergence tilts, ``at_budget``, ``frontier`` and ``reward_at_budget`` of
:mod:`semiparam.policy` apply unchanged.  The network is evaluated in eval mode, without
gradients, in chunks, on its own device; results are float64 NumPy arrays.
"""

from __future__ import annotations

import numpy as np
import torch

from ..policy import FeatureMap, SoftmaxPolicy

__all__ = ["ModuleFeatures", "module_policy", "pair_margins", "module_log_probs",
           "LogProbEnsemble"]

_CHUNK = 8192


def pair_margins(log_probs, action0, action1, ref_logprobs=None):
    """Margins ``(log pi - log pi_ref)(a1) - (log pi - log pi_ref)(a0)`` of a batch.

    Parameters
    ----------
    log_probs : Tensor (B, k)
        ``log pi_theta(. | x)`` of each pair's context.
    action0, action1 : Tensor of int (B,)
    ref_logprobs : None or Tensor (k,) or (B, k)
        ``log pi_ref``; None is uniform (it cancels from the margin).

    Returns
    -------
    Tensor (B,)
    """
    both = torch.stack([action1, action0], dim=1)
    picked = log_probs.gather(1, both)  # one gather (and one scatter in the backward pass)
    t = picked[:, 0] - picked[:, 1]
    if ref_logprobs is None:
        return t
    if ref_logprobs.dim() == 1:
        return t - (ref_logprobs[action1] - ref_logprobs[action0])
    ref = ref_logprobs.gather(1, both)
    return t - (ref[:, 0] - ref[:, 1])


def module_device(module):
    """The device and dtype of a module's first parameter (CPU and the default dtype if it
    has none)."""
    for p in module.parameters():
        return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def module_log_probs(module, X, *, chunk=_CHUNK) -> np.ndarray:
    """``log softmax(module(X))`` as a float64 array (eval mode, no gradients, chunked)."""
    device, dtype = module_device(module)
    X = np.asarray(X, dtype=np.float64)
    out = []
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for s in range(0, X.shape[0], chunk):
                xb = torch.as_tensor(X[s:s + chunk], dtype=dtype, device=device)
                out.append(torch.log_softmax(module(xb), dim=-1).to("cpu", torch.float64))
    finally:
        module.train(was_training)
    if not out:
        return np.zeros((0, 0))
    return torch.cat(out).numpy()


class LogProbEnsemble(torch.nn.Module):
    """Networks averaged on the log scale (the members' mean log-probability, renormalised).

    ``log pi(a | x) = mean_j log pi_j(a | x) + const``.  The implicit reward ``log pi - log pi_ref`` of the ensemble is the mean of the members'
    (each multiplied by its ``sign``, the orientation of a learned link), so the policy
    is the normalised geometric mean of the members' policies.  ``forward`` returns
    log-probabilities, which serve as logits.

    Parameters
    ----------
    members : sequence of torch.nn.Module
        Each maps contexts (B, d) to action logits (B, k).
    signs : sequence of float, optional
        +1 or -1 per member (default all +1).
    reference : None or array-like (k,)
        ``log pi_ref`` (needed only where a sign is -1; None: uniform).
    """

    def __init__(self, members, signs=None, reference=None):
        super().__init__()
        self.members = torch.nn.ModuleList(members)
        if len(self.members) == 0:
            raise ValueError("LogProbEnsemble needs at least one member.")
        signs = [1.0] * len(self.members) if signs is None else [float(v) for v in signs]
        if len(signs) != len(self.members) or any(v not in (1.0, -1.0) for v in signs):
            raise ValueError("signs must hold +1 or -1 for each member.")
        self.signs = signs
        self.reference = None if reference is None else torch.as_tensor(
            np.asarray(reference, dtype=np.float64))

    def forward(self, x):
        total = 0.0
        ref = None
        for sign, member in zip(self.signs, self.members):
            logp = torch.log_softmax(member(x), dim=-1)
            if self.reference is not None:
                ref = self.reference.to(logp)
                logp = logp - ref
            total = total + sign * logp
        mean = total / len(self.members)
        return mean if ref is None else mean + ref


class ModuleFeatures(FeatureMap):
    """One feature per (context, action): ``sign * (log pi_theta - log pi_ref)``.

    Parameters
    ----------
    module : torch.nn.Module
        Maps contexts (n, d) to action logits (n, k).
    n_actions : int
    reference : None, array-like (k,) or callable
        ``log pi_ref`` the network was trained against (None: uniform; a callable maps
        contexts (n, d) to an (n, k) array).
    sign : {1, -1}, default=1
        Orientation of the implicit reward (-1 when a learned link came out decreasing).
    """

    def __init__(self, module, n_actions, reference=None, sign=1.0):
        self.module = module
        self.n_actions = int(n_actions)
        if reference is not None and not callable(reference):
            reference = np.asarray(reference, dtype=float)
        self.reference = reference
        self.sign = float(sign)

    def implicit_reward(self, X) -> np.ndarray:
        """``sign * (log pi_theta(a | x) - log pi_ref(a | x))``, shape (n, k)."""
        L = module_log_probs(self.module, X)
        if L.shape[1] != self.n_actions:
            raise ValueError(
                f"The module returned {L.shape[1]} logits per context; the policy has "
                f"{self.n_actions} actions.")
        if self.reference is None:
            ref = -np.log(self.n_actions)
        elif callable(self.reference):
            ref = np.asarray(self.reference(X), dtype=float)
        else:
            ref = self.reference
        return self.sign * (L - ref)

    def transform(self, X, actions) -> np.ndarray:
        S = self.implicit_reward(X)
        a = np.asarray(actions, dtype=np.int64)
        return S[np.arange(S.shape[0]), a][:, None]

    def scores(self, X, coef) -> np.ndarray:
        coef = np.asarray(coef, dtype=float).ravel()
        if coef.shape != (1,):
            raise ValueError(f"ModuleFeatures has one feature; got coef of shape {coef.shape}.")
        return coef[0] * self.implicit_reward(X)

    def n_features(self, n_context_features: int) -> int:
        return 1

    def feature_names(self, context_names) -> list:
        return ["log_ratio"]

    def __repr__(self) -> str:
        return f"ModuleFeatures({type(self.module).__name__}, n_actions={self.n_actions})"


def module_policy(module, n_actions, *, reference=None, sign=1.0, beta=1.0,
                  divergence="kl") -> SoftmaxPolicy:
    """The :class:`~semiparam.policy.SoftmaxPolicy` ``pi_ref exp(s / beta)`` of a network.

    ``reference``: None (uniform) or ``log pi_ref`` of shape (k,).  At ``beta = 1`` (KL) it
    is the network's own softmax.
    """
    fm = ModuleFeatures(module, n_actions, reference, sign)
    return SoftmaxPolicy([1.0], features=fm, beta=beta, divergence=divergence,
                         reference=fm.reference)
