"""
Single-index estimators side by side when the link is not logistic
==================================================================

One binary-choice data set whose link is far from any logistic curve -- the
shifted-logistic mixture ``0.5 sigmoid((u - 1.5)/0.25) + 0.5 sigmoid((u + 1.5)/0.25)``,
with a flat shoulder at 1/2 around the origin -- and mixed regressors (normal, binary,
uniform).  We fit

* a logit (statsmodels, with a constant; its slopes normalised),
* Klein-Spady semiparametric maximum likelihood (leave-one-out kernel link),
* Ichimura semiparametric least squares,
* the isotonic-link (monotone single-index) estimator,
* the monotone spline-sieve estimator (joint sieve maximum likelihood),

line them up with :func:`semiparam.index.compare`, report each direction's angle to the
truth, and draw every estimated link against the true one.

Run it as ``python examples/plot_compare_estimators.py [FIGURE.png]`` (or set
``SEMIPARAM_EXAMPLE_OUTPUT``) to save the figure; ``SEMIPARAM_EXAMPLE_SMALL=1`` shrinks
the data for a quick check.
"""

# %%
# Simulate the data
# -----------------
# The true direction is ``(1, -1, 0.5, 0)`` (unit-normalised below) and the index is
# scaled by 1.5, so the link's two steps sit inside the bulk of the index.
import os
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import special  # noqa: E402

from semiparam import index  # noqa: E402
from semiparam.links import get_link  # noqa: E402
from semiparam.simulate import angle, make_single_index  # noqa: E402

SMALL = os.environ.get("SEMIPARAM_EXAMPLE_SMALL", "") not in ("", "0")
n = 600 if SMALL else 5000
truth = np.array([1.0, -1.0, 0.5, 0.0])
truth_unit = truth / np.linalg.norm(truth)
scale = 1.5
link_params = {"s": 1.5, "tau": 0.25}
X, y = make_single_index(n, truth, link="shifted_logistic", link_params=link_params,
                         scale=scale, design="mixed", random_state=2024)
X = pd.DataFrame(X, columns=["x_normal", "x_binary", "x_unif1", "x_unif2"])
print(f"n = {n} rows, {y.mean():.2f} successes; true direction {np.round(truth_unit, 3)}")

# %%
# Fit the estimators
# ------------------
# Every semiparametric estimator reports a unit-norm direction ``coef_`` and a fitted
# link ``link_`` on the index ``X @ coef_``; the logit's slopes are normalised the same
# way by ``compare``.  All run with their default settings.
logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
estimators = {
    "Klein-Spady": index.KleinSpadyClassifier(),
    "Ichimura": index.IchimuraClassifier(),
    "Isotonic": index.IsotonicIndexClassifier(),
    "Sieve": index.SieveIndexClassifier(),
}
for est in estimators.values():
    est.fit(X, y)

table = index.compare([logit, *estimators.values()], names=["Logit", *estimators])
print(table)

# %%
# Angle to the truth
# ------------------
slopes = np.asarray(logit.params[1:])
angles = {"Logit": angle(slopes, truth)}
angles.update({name: angle(est.coef_, truth) for name, est in estimators.items()})
for name, deg in angles.items():
    print(f"{name:>12s}: {deg:6.2f} degrees from the true direction")

# %%
# Estimated links against the true link
# -------------------------------------
# Each link is drawn on its own unit-normalised index; with directions this close to
# the truth the indices are nearly the same, so the curves are comparable with the
# true ``P(y = 1 | index) = F(1.5 |beta| t)`` on the true unit index ``t``.  Grey
# dots: the share of successes in twenty quantile bins of the true index.
true_index = X.to_numpy() @ truth_unit
grid = np.linspace(*np.quantile(true_index, [0.01, 0.99]), 300)
F = get_link("shifted_logistic", **link_params)
fig, ax = plt.subplots(figsize=(7, 4.5))
bins = np.quantile(true_index, np.linspace(0, 1, 21))
which = np.clip(np.searchsorted(bins, true_index, side="right") - 1, 0, 19)
ax.plot([true_index[which == b].mean() for b in range(20)],
        [y[which == b].mean() for b in range(20)], "o", color="0.7", label="binned data")
ax.plot(grid, F(scale * np.linalg.norm(truth) * grid), "k-", lw=3, label="true link")
norm = np.linalg.norm(slopes)
ax.plot(grid, special.expit(logit.params.iloc[0] + norm * grid), "--", label="Logit")
for name, est in estimators.items():
    ax.plot(grid, est.link_(grid), label=f"{name} ({angles[name]:.1f} deg)")
ax.set_xlabel("index (unit-normalised direction)")
ax.set_ylabel("P(y = 1 | index)")
ax.set_title("Estimated links, shifted-logistic truth")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()

out = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SEMIPARAM_EXAMPLE_OUTPUT")
if out:
    fig.savefig(out, dpi=120)
    print(f"figure saved to {out}")

# %%
# Why this comparison
# -------------------
# The shifted-logistic link has a flat shoulder that no logistic curve can follow.  With
# regressors that are not elliptically distributed (one binary, two uniform) the logit's
# slopes are not consistent for the direction in general; in this design the asymptotic
# bias happens to be small (about 0.7 degrees at n = 200,000), and what the wrong link
# costs is fit and precision: the logit's log-likelihood is far below the others' (by
# about 150 at n = 5000) and its standard errors are 25-45% larger, so its direction
# is typically further from the truth.  The semiparametric estimators leave the link free; they differ
# in how they estimate it (leave-one-out kernel smoothing, isotonic regression, monotone
# splines) and hence in smoothness, monotonicity and cost: the isotonic and sieve links
# are monotone by construction, the kernel links need not be.  Drawing every link
# against the truth, rather than only tabulating coefficients, shows where each method
# spends its flexibility: around the shoulder.
