"""solver="reweight" against "exact" and random subsets, and the smallest exact size.

For each dataset, size m and seed, training sets of one test problem:

  subset    m random training rows, uniform weights n / m
  exact     LossMatchingDistiller(m, solver="exact"): rows moved to the training moments
  random    the same m random rows, calibration weights
  reweight  LossMatchingDistiller(m, solver="reweight"): m rows chosen from a reservoir
            pool of 10 m (rare one-hot values first, then exchanges), calibration weights
  strat     the same choice made from all the training rows (``stratified_candidates``
            + ``exchange_candidates`` on the whole set, an in-memory bound)
  full      all training rows

and learners fitted on each with the weights: OLS, RandomForest, HistGradientBoosting,
SVR and MLP (SVR and MLP after a StandardScaler, with a standardised target). Prints
the mean test MSE over seeds as a ratio to the full-data MSE (OLS on an exact set
gives 1.0000), how many seeds calibrated exactly, and, per dataset and candidate
choice, the smallest m on a grid (multiples of the D = p (p + 1) / 2 constraints) at
which every seed calibrates exactly.

Datasets (offline): scikit-learn's diabetes (target: disease progression), wine
(target: alcohol, from the other 12 measurements), breast cancer (the 10 "mean"
features, target: worst concave points), and a one-hot dataset built here: 10000
rows, 3 continuous and 20 one-hot columns of 4 categorical variables with rare
levels (0.5%-2%), a lognormal price target (D = 325). 75/25 train/test split by
seed. Sizes above the training rows are skipped.

Usage: ``nice python benchmarks/bench_reweight.py [--seeds 3] [--sizes 200,400,800]``
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from skdistill import LossMatchingDistiller
from skdistill._core.candidates import exchange_candidates, stratified_candidates
from skdistill._core.moments import moments_of_rows
from skdistill._core.reweight import calibrate, n_constraints

METHODS = ("subset", "exact", "reweight", "strat")
GRID = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)  # sizes, in multiples of D, for the smallest m


def one_hot_data(n=10000, seed=0):
    """Diamond-like rows: carat, depth, table and four one-hot variables with rare levels."""
    rng = np.random.default_rng(seed)
    cut = rng.choice(5, n, p=[0.4, 0.25, 0.2, 0.1, 0.05])
    color = rng.choice(7, n, p=[0.3, 0.25, 0.2, 0.12, 0.08, 0.04, 0.01])
    clarity_p = [0.3, 0.25, 0.2, 0.1, 0.08, 0.04, 0.02, 0.01]
    clarity = np.minimum(
        rng.choice(8, n, p=clarity_p) + rng.binomial(1, 0.3, n) * np.where(cut >= 3, 2, 0), 7
    )
    region = rng.choice(4, n, p=[0.6, 0.3, 0.08, 0.02])
    carat = rng.lognormal(-0.4, 0.5, n)
    depth = 61.5 + 1.4 * rng.standard_normal(n) + 0.3 * (cut == 4)
    table = 57 + 2.2 * rng.standard_normal(n)
    levels = [np.eye(k)[v][:, 1:] for v, k in ((cut, 5), (color, 7), (clarity, 8), (region, 4))]
    X = np.column_stack([carat, depth, table, *levels])
    log_price = (
        8 + 1.7 * np.log(carat) + 0.08 * cut - 0.09 * color + 0.07 * clarity
        + 0.1 * (region == 3) + 0.02 * (depth - 61.5) ** 2
        - 0.05 * (color == 6) * np.log(carat) + 0.15 * rng.standard_normal(n)
    )
    return X, np.exp(log_price) / 1000


def datasets():
    """Name -> (X, y), every one offline."""
    wine = load_wine().data
    cancer = load_breast_cancer()
    worst = list(cancer.feature_names).index("worst concave points")
    return {
        "diabetes": load_diabetes(return_X_y=True),
        "wine": (wine[:, 1:], wine[:, 0]),
        "cancer": (cancer.data[:, :10], cancer.data[:, worst]),
        "one-hot": one_hot_data(),
    }


def learners(seed):
    """Name -> (estimator, fit keyword of the sample weight)."""
    def scaled(model):
        return TransformedTargetRegressor(
            make_pipeline(StandardScaler(), model), transformer=StandardScaler()
        )

    last = {"svr": "svr__sample_weight", "mlp": "mlpregressor__sample_weight"}
    return {
        "OLS": (LinearRegression(), "sample_weight"),
        "RF": (RandomForestRegressor(100, min_samples_leaf=2, random_state=seed), "sample_weight"),
        "HGB": (HistGradientBoostingRegressor(random_state=seed), "sample_weight"),
        "SVR": (scaled(SVR(C=3.0)), last["svr"]),
        "MLP": (
            scaled(
                MLPRegressor(
                    hidden_layer_sizes=(64, 64), alpha=1e-3, max_iter=800, random_state=seed
                )
            ),
            last["mlp"],
        ),
    }


def training_sets(X, y, m, seed):
    """Method -> (X_m, y_m, weights, met) for the methods of the module docstring."""
    n = len(X)
    Z = np.column_stack([X, y])
    moments = moments_of_rows(Z)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, m, replace=False))
    out = {"subset": (X[idx], y[idx], np.full(m, n / m), None)}
    distiller = LossMatchingDistiller(m, solver="exact", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_e, y_e = distiller.fit_resample(X, y)
    out["exact"] = (X_e, y_e, distiller.sample_weight_, None)
    result = calibrate(Z[idx], np.full(m, n / m), moments)
    out["random"] = (X[idx], y[idx], result.weights, result.met)
    X_r, y_r, met = _estimator(X, y, m, seed)
    out["reweight"] = (X_r, y_r, met[0], met[1])
    index, base = stratified_candidates(Z, m, np.random.default_rng(seed))
    index, _, result = exchange_candidates(Z, index, base, moments)
    out["strat"] = (X[index], y[index], result.weights, result.met)
    return out


def _estimator(X, y, m, seed):
    """The rows, and (weights, exact) of ``LossMatchingDistiller(m, solver="reweight")``."""
    distiller = LossMatchingDistiller(m, solver="reweight", random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        X_r, y_r = distiller.fit_resample(X, y)
    met = not any("could not match" in str(w.message) for w in caught)
    return X_r, y_r, (distiller.sample_weight_, met)


def test_mse(models, X, y, w, X_test, y_test):
    scores = {}
    for name, (model, key) in models.items():
        fit_params = {} if w is None else {key: w}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y, **fit_params)
        scores[name] = mean_squared_error(y_test, model.predict(X_test))
    return scores


def compare(X, y, sizes, seeds):
    """(method, m) -> learner -> list of test-MSE ratios to full; and exact counts."""
    ratios, met = {}, {}
    for seed in range(seeds):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed)
        full = test_mse(learners(seed), X_tr, y_tr, None, X_te, y_te)
        for m in (m for m in sizes if m < len(X_tr)):
            for method, (Xm, ym, w, ok) in training_sets(X_tr, y_tr, m, seed).items():
                scores = test_mse(learners(seed), Xm, ym, w, X_te, y_te)
                cell = ratios.setdefault((method, m), {})
                for name, value in scores.items():
                    cell.setdefault(name, []).append(value / full[name])
                if ok is not None:
                    met[(method, m)] = met.get((method, m), 0) + bool(ok)
    return ratios, met


def smallest_exact(X, y, seeds):
    """Per candidate choice: the smallest grid m at which every seed calibrates exactly."""
    Z = np.column_stack([X, y])
    n, D = len(Z), n_constraints(Z.shape[1])
    moments = moments_of_rows(Z)
    sizes = sorted({min(n, int(round(f * D))) for f in GRID} | {n})
    found = {}
    for choice in ("random", "reweight", "strat"):
        for m in sizes:
            if all(_exact(Z, moments, m, seed, choice) for seed in range(seeds)):
                found[choice] = m
                break
    return D, found


def _exact(Z, moments, m, seed, choice):
    n = len(Z)
    if m == n:
        return True  # all the rows, uniform weights
    if choice == "random":
        idx = np.random.default_rng(seed).choice(n, m, replace=False)
        return calibrate(Z[idx], np.full(m, n / m), moments).met
    if choice == "reweight":
        return _estimator(Z[:, :-1], Z[:, -1], m, seed)[2][1]
    index, base = stratified_candidates(Z, m, np.random.default_rng(seed))
    return exchange_candidates(Z, index, base, moments)[2].met


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sizes", default="200,400,800")
    parser.add_argument("--datasets", default="diabetes,wine,cancer,one-hot")
    parser.add_argument("--wine-size", type=int, default=100, help="m for wine (133 rows)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data = datasets()
    for name in args.datasets.split(","):
        X, y = data[name]
        start = time.perf_counter()
        D, found = smallest_exact(X, y, args.seeds)
        grid = sizes + ([args.wine_size] if name == "wine" else [])
        ratios, met = compare(X, y, grid, args.seeds)
        print(f"\n## {name}: n={len(X)}, q={X.shape[1] + 1}, D={D}; smallest exact m "
              f"(all {args.seeds} seeds): random rows {found.get('random', '-')}, "
              f"solver='reweight' {found.get('reweight', '-')}, "
              f"stratified+exchange on all rows {found.get('strat', '-')}")
        names = list(learners(0))
        print(f"{'method':>9} {'m':>5} {'exact':>6} " + " ".join(f"{k:>7}" for k in names))
        for (method, m), cell in sorted(ratios.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            exact = f"{met[(method, m)]}/{args.seeds}" if (method, m) in met else ""
            values = " ".join(f"{np.mean(cell[k]):7.4f}" for k in names)
            print(f"{method:>9} {m:>5} {exact:>6} {values}")
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
