"""Link-agnostic preference losses and trainers for neural policies (needs PyTorch).

The only place semiparam imports :mod:`torch` (install the extra: ``pip install
"semiparam[torch]"``; CI pins ``torch==2.13.0``, the CPU wheel).

A neural policy ``pi_theta(a | x)`` gives the pair ``(x, a0, a1)`` the margin

    t = (log pi_theta(a1|x) - log pi_ref(a1|x)) - (log pi_theta(a0|x) - log pi_ref(a0|x)),

and the preference model is single-index: ``P(a1 preferred) = g(t)`` with a monotone link
``g`` that DPO fixes to the logistic and the semiparametric learners estimate.  This
package writes the four losses of :mod:`semiparam.policy` on margins, keeps the
estimated links as *states* refreshed from the whole training set, and trains any
:class:`torch.nn.Module` that maps contexts to action logits.

Losses (plain functions; ``reduction="mean" | "sum" | "none"``; :mod:`.losses`)::

    dpo_loss(margins, labels, weight=None)         logistic log-loss
    rspo_loss(margins, labels, weight=None)        pairwise ranking (link-free)
    pspo_loss(margins, labels, link, weight=None)  log-loss under a link state
    ospo_loss(margins, labels, link, weight=None, index=...)
        leave-one-out kernel log-loss plus the orthogonal correction a_i t_i; its
        gradient is the efficient score sum_i c_i r_i (dt_i - E[dt | t_i]).

Link states (:mod:`.links`): fitted on the CPU by :mod:`semiparam.links`, read on the
device from a knot table with :func:`torch.searchsorted`::

    IsotonicLinkState(interpolation="smooth")  PAVA, smoothed; PSPO
    KernelLinkState(kernel="gaussian")         leave-one-out Nadaraya-Watson + correction; OSPO
    state.refresh(margins, labels, weight=None) -> state   (detached margins of all pairs)
    state(t, index=None) -> probabilities      differentiable in t
    state.diagnostics() -> dict                for logging

Training (:mod:`.trainer`, :mod:`.policy`): ``fit(module, table, learner="ospo", ...)``
returns a ``NeuralFit`` trained on a :class:`~semiparam.policy.PreferenceTable`;
``NeuralFit.policy_`` is a :class:`~semiparam.policy.SoftmaxPolicy` (one feature: the
network's ``log pi_theta - log pi_ref``), so ``tilt``, ``at_budget`` and the evaluation
of :mod:`semiparam.policy` apply unchanged (``module_policy(module, k)`` wraps any network
so).  ``pair_margins(log_probs, a0, a1, ref_logprobs)`` computes margins for custom loops.
"""

from .links import IsotonicLinkState, KernelLinkState, torch_threads_kept
from .losses import dpo_loss, ospo_loss, pspo_loss, rspo_loss
from .policy import (LogProbEnsemble, ModuleFeatures, module_log_probs, module_policy,
                     pair_margins)
from .trainer import LEARNERS, NeuralFit, fit, reset_parameters

__all__ = [
    "dpo_loss",
    "rspo_loss",
    "pspo_loss",
    "ospo_loss",
    "IsotonicLinkState",
    "KernelLinkState",
    "torch_threads_kept",
    "fit",
    "NeuralFit",
    "LEARNERS",
    "pair_margins",
    "module_policy",
    "module_log_probs",
    "ModuleFeatures",
    "LogProbEnsemble",
    "reset_parameters",
]

# --- language models (issue 10; semiparam/torch/{logps,features,lm,trl}.py) -------------
# ``sequence_logps`` needs only torch; ``LMFeatures`` needs scikit-learn (a core
# dependency) and transformers only for the models it is given.  The TRL trainer lives in
# ``semiparam.torch.trl`` (imported on demand: it needs the ``llm`` extra).
from .features import LMFeatures  # noqa: E402
from .logps import sequence_logps  # noqa: E402

__all__ += ["sequence_logps", "LMFeatures"]
