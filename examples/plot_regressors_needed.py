"""
==========================================================
How many random regressors does loss matching need?
==========================================================

The paper's Algorithm 1 (``LossMatchingDistiller(solver="lbfgs")``) samples ``k``
random linear regressors and moves the synthetic rows until every one of them
has the same loss on the synthetic set as on the training set. A linear loss is
``v^T M v`` with ``M`` the second-moment matrix of the homogenised rows
``(x, y, 1)``, a symmetric ``p x p`` matrix (``p = n_features + n_targets + 1``)
with ``p (p + 1) / 2`` free entries. Every matched regressor pins down one linear
combination of them, so:

* with ``k < p (p + 1) / 2`` regressors the matched losses leave directions of
  ``M`` free, and the synthetic set can match all ``k`` losses while other linear
  models see a different loss -- the paper's lower bound;
* from ``k = p (p + 1) / 2`` generic regressors on, matching them forces
  ``M_syn = M_train``, and then *every* linear model has its full-data loss.
  (With an intercept one entry of ``M``, the constant ``E[1 * 1] = 1``, is the
  same on both sets already, so ``p (p + 1) / 2 - 1`` regressors suffice in
  principle: for 4 and 10 features the gap collapses one step left of the
  dotted line. So close to the threshold the matching problem is
  ill-conditioned, and with 18 features L-BFGS only gets the gap down to
  1e-4 to 1e-6 within 5000 steps there; one more reason for a margin.)

This example distils three datasets of different widths to ``m = 60`` rows with
``k`` from well below to well above the threshold and shows the certified loss
gap ``loss_gap_``, the ``eps`` for which every linear model's loss on the synthetic
set lies within a factor ``1 ± eps`` of its training loss (the worst case over all
linear models), and the test MSE of OLS trained on the synthetic rows, relative to OLS
on all rows. The gap falls from order one to rounding error at the threshold
(dotted line), and the distilled OLS fit becomes the full-data one; below it, the
synthetic set matches every sampled loss and still misleads OLS.
``n_regressors="auto"`` (the default) takes
``p (p + 1) / 2`` times ``max(2, ln p)``, past the threshold with a margin.

Run ``python plot_regressors_needed.py [--quick] [--output FILE.png]``; the
figure goes to ``--output``, by default ``regressors_needed.png`` in the working
directory. ``--quick`` runs a few values of ``k`` on one seed. The full-size
figure of the documentation is ``examples/figures/regressors_needed.png``, made by
``python examples/plot_regressors_needed.py --output examples/figures/regressors_needed.png``.
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from skdistill import LossMatchingDistiller

# The committed full-size figures, which a --quick run must not replace.
FIGURES = (
    Path(__file__).resolve().parent / "figures" if "__file__" in globals() else None
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Loss gap against the number of regressors.")
    parser.add_argument("--quick", action="store_true", help="tiny run, for smoke tests")
    parser.add_argument(
        "--output", type=Path, default=Path("regressors_needed.png"),
        help="PNG to write (default: regressors_needed.png in the working directory)",
    )
    # parse_known_args: sphinx-gallery and notebooks pass arguments of their own.
    args = parser.parse_known_args(argv)[0]
    if args.quick and args.output.resolve().parent == FIGURES:
        parser.error(f"--quick would overwrite the full-size figures in {FIGURES}")
    return args


args = parse_args()
if args.quick:
    fractions, n_seeds, max_iter = [0.5, 2.0], 1, 200
else:
    fractions = [0.1, 0.2, 0.35, 0.5, 0.7, 0.85, 0.95, 1.0, 1.1, 1.3, 1.6, 2.0, 3.0, 5.0]
    n_seeds, max_iter = 5, 5000
m = 60

# %%
# Three datasets of different widths
# ----------------------------------


def correlated(d, seed, n=2_000):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ (rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d))
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    return train_test_split(X, y, test_size=0.5, random_state=seed)


def diabetes(seed):
    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=seed)


datasets = {
    "simulated, 4 features": lambda seed: correlated(4, seed),
    "diabetes, 10 features": diabetes,
    "simulated, 18 features": lambda seed: correlated(18, seed),
}

# %%
# Distil with k regressors
# ------------------------
# ``k`` runs over fractions of the threshold ``p (p + 1) / 2``, and the
# threshold and the threshold minus one are always included. L-BFGS runs to
# convergence (at most 5000 steps).

results = {}
for name, load in datasets.items():
    X_train, X_test, y_train, y_test = load(0)
    p = X_train.shape[1] + 2
    threshold = p * (p + 1) // 2
    ks = sorted({max(1, round(f * threshold)) for f in fractions} | {threshold - 1})
    gaps = np.empty((n_seeds, len(ks)))
    mse = np.empty((n_seeds, len(ks)))
    for seed in range(n_seeds):
        X_train, X_test, y_train, y_test = load(seed)
        full = LinearRegression().fit(X_train, y_train)
        full_mse = mean_squared_error(y_test, full.predict(X_test))
        for j, k in enumerate(ks):
            distiller = LossMatchingDistiller(
                m, solver="lbfgs", n_regressors=k, max_iter=max_iter, random_state=seed
            )
            X_syn, y_syn = distiller.fit_resample(X_train, y_train)
            gaps[seed, j] = distiller.loss_gap_
            small = LinearRegression().fit(X_syn, y_syn)
            mse[seed, j] = mean_squared_error(y_test, small.predict(X_test)) / full_mse
    results[name] = dict(p=p, threshold=threshold, ks=np.array(ks), gaps=gaps, mse=mse)
    print(f"\n{name}: p = {p}, p(p+1)/2 = {threshold}")
    print(f"{'k':>6} {'median certified gap':>22} {'median test MSE ratio':>22}")
    for j, k in enumerate(ks):
        print(f"{k:>6} {np.median(gaps[:, j]):>22.3g} {np.median(mse[:, j]):>22.4f}")

# %%
# Plot
# ----
# Lines are medians over the seeds, bands the range; the x axis is ``k``
# relative to each dataset's threshold, so that the three thresholds line up at 1
# (the absolute thresholds are in the legend).

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for (name, r), color in zip(results.items(), ["C0", "C1", "C2"]):
    x = r["ks"] / r["threshold"]
    label = f"{name} (p = {r['p']}, p(p+1)/2 = {r['threshold']})"
    for ax, values in zip(axes, [r["gaps"], r["mse"]]):
        ax.plot(x, np.median(values, axis=0), marker="o", ms=4, color=color, label=label)
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=color, alpha=0.15, lw=0)
for ax in axes:
    ax.axvline(1.0, color="k", ls=":", lw=1.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("regressors matched, k / (p (p + 1) / 2)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_xticks([0.1, 0.2, 0.5, 1, 2, 5], ["0.1", "0.2", "0.5", "1", "2", "5"])
    ax.minorticks_off()
axes[0].set_ylabel("certified loss gap loss_gap_ (losses within 1 ± gap)")
axes[0].set_title(f"worst-case loss gap over all linear models (m = {m})", fontsize=10)
axes[0].annotate(
    "k = p (p + 1) / 2",
    (1.0, 0.97),
    xycoords=("data", "axes fraction"),
    xytext=(4, -2),
    textcoords="offset points",
    va="top",
    fontsize=8,
)
axes[1].axhline(1.0, color="0.4", lw=0.8)
top = axes[1].get_ylim()[1]
ticks = [t for t in (1, 1.2, 1.5, 2, 3, 5, 10, 20, 50, 100) if t <= top]
axes[1].set_yticks(ticks, [f"{t:g}" for t in ticks])
axes[1].set_ylabel("OLS test MSE / full-data OLS test MSE")
axes[1].set_title("OLS trained on the distilled rows", fontsize=10)
axes[0].legend(loc="lower left", fontsize=8)
fig.suptitle(
    f"Loss matching needs p (p + 1) / 2 random regressors ({n_seeds} seeds)\n"
    "lines: medians over the seeds; bands: their range",
    fontsize=11,
)

args.output.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(args.output, dpi=90)
print(f"saved {args.output}")
