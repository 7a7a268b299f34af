"""The L-BFGS solver (Algorithm 1) on real data: whitened against standardised sampling.

Prints two tables:

* quality: for every dataset, every ``m`` in ``--sizes`` with ``m >= q + 2`` and every
  seed, OLS fitted on the distilled training split, its test MSE on the held-out split
  as a ratio to OLS fitted on the whole training split (1.000 is full-data quality),
  for ``sampling="whitened"`` (the default) and ``"standardised"`` (the paper's
  literal sampling); with the L-BFGS iterations, the certificate ``loss_gap_`` and
  whether the distiller warned. A *silent miss* is a ratio off 1 by more than
  ``--tol`` without a warning.
* time: ``solver="lbfgs"`` distilling n x d (default 1e6 x 100) to m = 200 rows, as a
  ratio to one ``X.T @ X`` on the same data (target <= 10), for both samplings, and for
  the whitened one with ``n_jobs=-1`` (threads share the objective's regressors, as
  BLAS threads share ``X.T @ X``), and against ``X.T @ X`` on one BLAS thread (a ratio
  that a busy neighbour does not distort): medians of ``--repeat`` interleaved repeats
  after a warm-up.

Datasets (all offline): scikit-learn's wine (predict ``proline`` from the other 12
features: q = 13), diabetes (q = 11), breast cancer (predict ``mean area`` from the
other 29 features, nearly collinear with ``mean radius`` and ``mean perimeter``:
q = 30), and a one-hot dataset built here (5 numeric columns, three categorical ones
one-hot encoded with every level kept, several levels at 0.5-2% frequency, and a
target depending on all of them: q = 23).

Usage: ``python benchmarks/bench_lbfgs.py [--seeds 5] [--sizes 20 30 50] [--skip-time]``
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skdistill import LossMatchingDistiller

SAMPLINGS = ("whitened", "standardised")


def _predict_column(data, target):
    """Features: every column of a scikit-learn dataset but ``target``, which is y."""
    names = list(data.feature_names)
    j = names.index(target)
    return np.delete(data.data, j, axis=1), data.data[:, j]


def _one_hot_dataset(n=20_000, seed=0):
    """Five numeric columns and three categoricals one-hot encoded (23 columns with y)."""
    rng = np.random.default_rng(seed)
    units = np.array([1.0, 10.0, 0.1, 1e3, 1.0])
    numeric = rng.normal(size=(n, 5)) @ rng.normal(size=(5, 5)) * units
    levels = [
        [0.4, 0.3, 0.15, 0.08, 0.035, 0.02, 0.01, 0.005],
        [0.5, 0.3, 0.14, 0.035, 0.015, 0.01],
        [0.7, 0.29, 0.01],
    ]
    blocks, effect = [], np.zeros(n)
    for p in levels:
        code = rng.choice(len(p), size=n, p=p)
        blocks.append(np.eye(len(p))[code])
        effect += rng.normal(scale=2.0, size=len(p))[code]
    X = np.hstack([numeric, *blocks])
    y = numeric @ (rng.normal(size=5) / units) + effect + rng.normal(size=n)
    return X, y


def datasets():
    """``name -> (X, y)`` of the four benchmark datasets."""
    return {
        "wine/proline": _predict_column(load_wine(), "proline"),
        "diabetes": load_diabetes(return_X_y=True),
        "cancer/mean area": _predict_column(load_breast_cancer(), "mean area"),
        "one-hot": _one_hot_dataset(),
    }


def _distil(X, y, m, sampling, seed):
    distiller = LossMatchingDistiller(m, solver="lbfgs", sampling=sampling, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X_syn, y_syn = distiller.fit_resample(X, y)
    warned = any(issubclass(w.category, UserWarning) for w in caught)
    return X_syn, y_syn, distiller, warned


def quality_table(sizes, n_seeds, tol):
    """Print the quality table; return the silent misses of the whitened sampling."""
    header = (
        f"{'dataset':17} {'q':>3} {'m':>3} {'sampling':12} {'test MSE ratio per seed':42} "
        f"{'iters':>11} {'max gap':>8} warned"
    )
    print(header)
    print("-" * len(header))
    misses = []
    for name, (X, y) in datasets().items():
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
        q = X.shape[1] + 1
        full = mean_squared_error(y_te, LinearRegression().fit(X_tr, y_tr).predict(X_te))
        for m in sorted({q + 2, *sizes}):
            if m < q + 2 or m > len(X_tr):
                continue
            for sampling in SAMPLINGS:
                ratios, iters, gaps, warned = [], [], [], []
                for seed in range(n_seeds):
                    X_syn, y_syn, distiller, w = _distil(X_tr, y_tr, m, sampling, seed)
                    pred = LinearRegression().fit(X_syn, y_syn).predict(X_te)
                    ratio = mean_squared_error(y_te, pred) / full
                    ratios.append(ratio)
                    iters.append(distiller.n_iter_)
                    gaps.append(distiller.loss_gap_)
                    warned.append(w)
                    if sampling == "whitened" and abs(ratio - 1) > tol and not w:
                        misses.append((name, m, seed, ratio))
                cells = " ".join(f"{r:7.3f}" if r < 1e3 else f"{r:7.1e}" for r in ratios)
                print(
                    f"{name:17} {q:3d} {m:3d} {sampling:12} {cells:42} "
                    f"{min(iters):5d}-{max(iters):<5d} {max(gaps):8.1e} "
                    f"{sum(warned)}/{n_seeds}"
                )
    return misses


def _timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def time_table(n, d, m, repeat):
    """Print the time of solver="lbfgs" for both samplings as ratios to ``X.T @ X``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    X[:, : d // 2] += 3.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    print(f"\ndata: {n} x {d} float64, m = {m}; median of {repeat} interleaved repeats")
    runs = {"X.T @ X": lambda: X.T @ X}

    def one_thread():
        with threadpool_limits(1, user_api="blas"):
            return X.T @ X

    runs["X.T @ X, 1 BLAS thread"] = one_thread
    fitted = {}
    variants = {f"lbfgs, {s}": (s, None) for s in SAMPLINGS}
    variants["lbfgs, whitened, n_jobs=-1"] = ("whitened", -1)
    for name, (sampling, n_jobs) in variants.items():

        def run(name=name, sampling=sampling, n_jobs=n_jobs):
            distiller = LossMatchingDistiller(
                m, solver="lbfgs", sampling=sampling, n_jobs=n_jobs, random_state=0
            )
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                fitted[name] = distiller.fit(X, y)

        runs[name] = run
    for func in runs.values():  # warm-up
        func()
    times = {name: [] for name in runs}
    for _ in range(repeat):
        for name, func in runs.items():
            times[name].append(_timed(func))
    ref, ref1 = np.median(times["X.T @ X"]), np.median(times["X.T @ X, 1 BLAS thread"])
    for name, ts in times.items():
        line = f"{name:27} {np.median(ts):8.3f} s   ratio {np.median(ts) / ref:6.2f}"
        if name in fitted:
            d_ = fitted[name]
            line += (
                f"   (target <= 10)   {d_.n_iter_} iterations, k = {d_.n_regressors_},"
                f" gap {d_.loss_gap_:.1e}"
            )
        print(line)
    print(
        "with one BLAS thread for X.T @ X, against lbfgs with n_jobs=None (one thread): "
        + ", ".join(
            f"{s} {np.median(times[f'lbfgs, {s}']) / ref1:.2f}" for s in SAMPLINGS
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 30, 50])
    parser.add_argument("--tol", type=float, default=1e-3, help="allowed |ratio - 1|")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--m", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-time", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_quality:
        misses = quality_table(args.sizes, args.seeds, args.tol)
        print(
            f"\nwhitened: {len(misses)} silent misses (|ratio - 1| > {args.tol:g}, no warning)"
            + "".join(f"\n  {name}, m = {m}, seed {s}: {r:.4g}" for name, m, s, r in misses)
        )
    if not args.skip_time:
        time_table(args.n, args.d, args.m, args.repeat)


if __name__ == "__main__":
    main()
