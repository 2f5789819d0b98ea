"""
Neural policies with a non-logistic preference link: reward-versus-KL frontiers
===============================================================================

A small version of the synthetic study of ``docs/torch.md`` (the design of the reference
code of Kallus, "Semiparametric Preference Optimization"): contexts ``x ~ N(0, I_20)``,
10 actions, a teacher MLP ``pi*`` (20 -> 32 -> 32 -> 10), reward
``r* = 10 log(pi* / pi_ref)`` with a uniform reference, and labels drawn from the
two-bump link ``0.5 sigmoid((u - s)/0.25) + 0.5 sigmoid((u + s)/0.25)`` of the reward
difference ``u``, with ``s = 1.5``: flat around ``u = 0``, so the logistic link of DPO is
wrong.

A student with the teacher's architecture is trained by each learner of
:mod:`semiparam.torch` (DPO, PSPO, OSPO, RSPO).  Its policy is a
:class:`~semiparam.policy.SoftmaxPolicy`, so :func:`semiparam.policy.frontier` traces the
average true reward against the average KL to the reference along its temperings
``pi_ref^(1-1/beta) pi_theta^(1/beta)``, drawn against the oracle (the teacher tempered).

Run it as ``python examples/plot_torch_study.py [FIGURE.png]`` (or set
``SEMIPARAM_EXAMPLE_OUTPUT``); ``SEMIPARAM_EXAMPLE_SMALL=1`` (or ``--small``) shrinks the
training set and the epochs so that it runs in well under a minute.  Needs PyTorch
(``pip install "semiparam[torch]"``); without it the example says so and exits.
"""

# %%
# Settings and data
# -----------------
import os
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

try:
    import torch
except ImportError:  # the torch extra is optional
    print("plot_torch_study needs PyTorch: pip install 'semiparam[torch]'")
    sys.exit(0)

from semiparam.policy import PreferenceTable, frontier  # noqa: E402
from semiparam.torch import fit, module_policy  # noqa: E402

SMALL = os.environ.get("SEMIPARAM_EXAMPLE_SMALL") == "1" or "--small" in sys.argv
N, EPOCHS, FOLDS = (400, 30, 3) if SMALL else (1000, 100, 5)
D, K, NU, S, TAU, SEED = 20, 10, 10.0, 1.5, 0.25, 0
torch.set_num_threads(1)


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(D, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                               torch.nn.ReLU(), torch.nn.Linear(32, K))


torch.manual_seed(SEED)
teacher = mlp().eval()
rng = np.random.default_rng(SEED)
X = rng.standard_normal((N, D)).astype(np.float32)
X_eval = rng.standard_normal((1000, D)).astype(np.float32)
a0, a1 = rng.integers(0, K, N), rng.integers(0, K, N)
with torch.no_grad():
    R = NU * (torch.log_softmax(teacher(torch.from_numpy(X)), -1).double().numpy() + np.log(K))
    R_eval = NU * (torch.log_softmax(teacher(torch.from_numpy(X_eval)), -1).double().numpy()
                   + np.log(K))
u = R[np.arange(N), a1] - R[np.arange(N), a0]
p = 0.5 / (1 + np.exp(-(u - S) / TAU)) + 0.5 / (1 + np.exp(-(u + S) / TAU))
z = (rng.uniform(size=N) < p).astype(int)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pairs with a0 == a1 carry no information: dropped
    table = PreferenceTable(contexts=X, action0=a0, action1=a1, label=z, n_actions=K)
start = mlp().state_dict()

# %%
# Train the four learners (same start) and trace the frontiers
# ------------------------------------------------------------
kappas = np.linspace(0.0, 1.0, 11 if SMALL else 21)
curves = {"oracle": frontier(module_policy(teacher, K), X_eval, R_eval, kappas=kappas)}
for learner in ("dpo", "pspo", "ospo", "rspo"):
    student = mlp()
    student.load_state_dict(start)
    # the study's recipe (docs/torch.md): a cross-validated ensemble of early-stopped
    # networks; PSPO and OSPO start each member from DPO run to its early stop
    res = fit(student, table, learner, epochs=EPOCHS, lr=1e-3, weight_decay=1e-2,
              folds=FOLDS, patience=5, seed=SEED,
              warm_start_epochs="auto" if learner in ("pspo", "ospo") else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves[learner] = frontier(res.policy_, X_eval, R_eval, kappas=kappas)
    i = int(np.argmin(np.abs(curves[learner].divergence - 0.2)))
    print(f"{learner:>6}: {res.n_epochs_} epochs, {res.fit_seconds_:.1f} s, "
          f"reward {curves[learner].reward[i]:.3f} at KL {curves[learner].divergence[i]:.2f}")

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(6, 4))
for name, fr in curves.items():
    fr.plot(ax=ax, label=name, lw=2.5 if name == "oracle" else 1.5,
            ls="--" if name == "oracle" else "-")
ax.axvline(0.2, color="grey", lw=0.8, ls=":")
ax.set_title(f"teacher MLP, two-bump link (s = {S}), n = {N}")
ax.legend()
fig.tight_layout()
out = os.environ.get("SEMIPARAM_EXAMPLE_OUTPUT") or next(
    (a for a in sys.argv[1:] if not a.startswith("--")), None)
if out:
    fig.savefig(out, dpi=120)
    print(f"saved {out}")
