"""
=====================================================
Grid-searching the number of synthetic rows
=====================================================

A distiller goes into a scikit-learn :class:`~sklearn.pipeline.Pipeline` through
:class:`~skdistill.DistilledRegressor`, the last step after any preprocessing. Its
distiller's parameters are then ordinary nested parameters, so
:class:`~sklearn.model_selection.GridSearchCV` can choose how many synthetic rows to
keep, and even which distiller to use.

This example cross-validates Ridge regression on the diabetes data (442 rows, 10
features) trained on ``n_synthetic`` rows, for a range of sizes, from two
distillers: :class:`~skdistill.LossMatchingDistiller`, and a random subset of the
same size with the same total weight, for reference. The horizontal line is the
score of Ridge trained on every row of each training fold.

From ``n_synthetic = n_features + n_targets + 1 = 12`` rows on, the exact solver
reproduces the mean and covariance of each training fold, so the distilled score
*is* the full-data score. Below that the distiller falls back to L-BFGS loss
matching (it warns; the warning is silenced here): fewer rows than dimensions cannot
carry the covariance, and the score drops, though it stays far above that of a random
subset of the same size (random subsets of 4 to 12 rows score below R^2 = -0.5, off
the axes). The search picks a size from 12 rows on, with the full-data score.

Run ``python plot_pipeline_grid_search.py [--quick] [--output FILE.png]``; the figure
goes to ``--output``, by default ``pipeline_grid_search.png`` in the working
directory. ``--quick`` uses three sizes and three folds.
"""

import argparse
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, RepeatedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from skdistill import DistilledRegressor, LossMatchingDistiller

# The committed full-size figures, which a --quick run must not replace.
FIGURES = (
    Path(__file__).resolve().parent / "figures" if "__file__" in globals() else None
)


class RandomSubset(BaseEstimator):
    """Reference "distiller": ``n_synthetic`` random rows, each weighing n / n_synthetic."""

    def __init__(self, n_synthetic=100, random_state=None):
        self.n_synthetic = n_synthetic
        self.random_state = random_state

    def fit_resample(self, X, y):
        rng = check_random_state(self.random_state)
        rows = rng.choice(X.shape[0], size=self.n_synthetic, replace=False)
        self.sample_weight_ = np.full(self.n_synthetic, X.shape[0] / self.n_synthetic)
        return X[rows], y[rows]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Grid-search the number of synthetic rows.")
    parser.add_argument("--quick", action="store_true", help="three sizes, three folds")
    parser.add_argument(
        "--output", type=Path, default=Path("pipeline_grid_search.png"),
        help="PNG to write (default: pipeline_grid_search.png in the working directory)",
    )
    # parse_known_args: sphinx-gallery and notebooks pass arguments of their own.
    args = parser.parse_known_args(argv)[0]
    if args.quick and args.output.resolve().parent == FIGURES:
        parser.error(f"--quick would overwrite the full-size figures in {FIGURES}")
    return args


args = parse_args()
X, y = load_diabetes(return_X_y=True)
if args.quick:
    sizes = [6, 12, 24]
    cv = RepeatedKFold(n_splits=3, n_repeats=1, random_state=0)
else:
    sizes = [4, 6, 8, 12, 16, 24, 48, 96, 192]
    cv = RepeatedKFold(n_splits=5, n_repeats=4, random_state=0)

# %%
# One search over both distillers and every size
# -----------------------------------------------
# ``distilledregressor__distiller`` swaps the distiller; the nested
# ``distilledregressor__distiller__n_synthetic`` sets its size.

pipe = make_pipeline(
    StandardScaler(), DistilledRegressor(Ridge(alpha=1.0), LossMatchingDistiller(random_state=0))
)
distillers = {
    "LossMatchingDistiller": LossMatchingDistiller(random_state=0),
    "random subset": RandomSubset(random_state=0),
}
param_grid = [
    {
        "distilledregressor__distiller": [distiller],
        "distilledregressor__distiller__n_synthetic": sizes,
    }
    for distiller in distillers.values()
]
search = GridSearchCV(pipe, param_grid, cv=cv, scoring="r2", n_jobs=None)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="An exact moment match needs", category=UserWarning)
    search.fit(X, y)

full_scores = cross_val_score(make_pipeline(StandardScaler(), Ridge(alpha=1.0)), X, y, cv=cv)
print(f"full data ({X.shape[0]} rows): R^2 = {full_scores.mean():.4f}")
best = search.best_estimator_[-1].distiller_
print(f"best: {type(best).__name__} with n_synthetic={best.n_synthetic}, "
      f"R^2 = {search.best_score_:.4f}")

# %%
# Cross-validated score against the number of synthetic rows
# -----------------------------------------------------------

results = search.cv_results_
split_scores = np.column_stack(
    [results[f"split{i}_test_score"] for i in range(cv.get_n_splits())]
)
n_exact = X.shape[1] + 2  # n_features + n_targets + 1
fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
for (label, distiller), marker in zip(distillers.items(), ["o", "s"]):
    chosen = np.array(
        [type(d) is type(distiller) for d in results["param_distilledregressor__distiller"]]
    )
    n = np.asarray(results["param_distilledregressor__distiller__n_synthetic"][chosen], float)
    order = np.argsort(n)
    n = n[order]
    low, median, high = np.percentile(split_scores[chosen][order], [25, 50, 75], axis=1)
    line, = ax.plot(n, median, marker=marker, label=f"{label} (median, quartiles)")
    ax.fill_between(n, low, high, color=line.get_color(), alpha=0.2, lw=0)
    for size, mean, med in zip(n, results["mean_test_score"][chosen][order], median):
        print(f"{label:>22}  n_synthetic={int(size):4d}  mean R^2 = {mean:8.4f}  "
              f"median = {med:.4f}")
ax.axhline(
    np.median(full_scores), color="k", ls="--", label=f"full data, {X.shape[0]} rows (median)"
)
ax.axvline(n_exact, color="0.6", lw=0.8)
ax.text(n_exact * 1.04, 0.96, f"exact match from {n_exact} rows", color="0.4", fontsize=8,
        va="top", transform=ax.get_xaxis_transform())
ax.set_xscale("log")
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.minorticks_off()
ax.set_ylim(-0.5, 0.65)  # tiny random subsets score far below: off the axes
ax.set_xlabel("n_synthetic: rows the Ridge model is trained on")
ax.set_ylabel(f"R$^2$ over {cv.get_n_splits()} CV folds")
ax.set_title("GridSearchCV over n_synthetic (Ridge, diabetes data)")
ax.legend(loc="lower right", fontsize=8)

args.output.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(args.output, dpi=120)
print(f"saved {args.output}")
