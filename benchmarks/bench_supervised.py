"""Speed and memory of LossMatchingDistiller, as ratios to references run in the same process.

Prints:

* distilling n x d (default 1e6 x 100) to m = 200 rows with the exact solver, as a ratio
  to one ``X.T @ X`` on the same data (target <= 2.0), with the threads BLAS has (both
  use them all) and with both limited to one thread;
* the L-BFGS solver (the paper's Algorithm 1, auto k) on the same data, for
  ``sampling="whitened"`` (the default) and ``"standardised"`` (the paper's literal
  sampling): time as a ratio to ``X.T @ X`` (target <= 10), iterations and certified gap;
* the speed-up over a naive per-regressor implementation of the paper (each regressor's
  training loss by its own pass over the data; the objective by a loop over regressors),
  timed on a sample of regressors/iterations and scaled to the full k and iteration count,
  against the default L-BFGS solver;
* peak memory of the distillation beyond the data (tracemalloc, which sees numpy's
  allocations), against the size of the data, measured apart from the timed rounds.

Every time is the median of interleaved rounds after a warm-up run of each timed call
(``benchmarks/_timing.py``): each round runs every call once, in an order reversed from
one round to the next, and every ratio is the median of the per-round ratios, printed with
its range over the rounds, so that a neighbour's load hits both sides of a ratio alike.
``--rounds`` (default 5) rounds for the exact solver and the moment pass; at most 3 for
the L-BFGS fits and the naive implementation, which are slower.

Usage: ``python benchmarks/bench_supervised.py [--n 1000000] [--d 100] [--m 200] [--rounds 5]
[--naive-regressors 20]``
"""

import argparse
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skdistill import LossMatchingDistiller
from skdistill._core.moments import compute_moments
from skdistill._core.random_models import auto_n_models

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_timing.py
from _timing import interleave, ratio_of

SAMPLINGS = ("whitened", "standardised")
SLOW_ROUNDS = 3


def _naive_training_losses(X, y, V, mean, scale):
    """The paper's training side, one regressor at a time: a pass over the data each."""
    losses = np.empty(len(V))
    Z = np.column_stack([X, y])
    for j, v in enumerate(V):
        pred = ((Z - mean) / scale) @ v[:-1] + v[-1]
        losses[j] = np.mean(pred**2)
    return losses


def _naive_objective(Zs, V, targets):
    """Algorithm 1's objective and gradient with a loop over regressors."""
    m = len(Zs)
    Zh = np.hstack([Zs, np.ones((m, 1))])
    f, grad = 0.0, np.zeros_like(Zh)
    for v, target in zip(V, targets):
        pred = Zh @ v
        e = np.mean(pred**2) - target
        f += e**2
        grad += (4.0 / m) * e * np.outer(pred, v)
    return f / len(V), grad[:, :-1] / len(V)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--m", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds (at most 3 for the slow parts)"
    )
    parser.add_argument(
        "--repeat", type=int, dest="rounds", default=argparse.SUPPRESS, help="old name of --rounds"
    )
    parser.add_argument("--naive-regressors", type=int, default=20)
    args = parser.parse_args(argv)
    n, d, m, rounds = args.n, args.d, args.m, args.rounds
    slow_rounds = min(rounds, SLOW_ROUNDS)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    X[:, : d // 2] += 3.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    data_mb = (X.nbytes + y.nbytes) / 2**20
    print(
        f"data: {n} x {d} float64 ({data_mb:.0f} MiB), m = {m}; times: median (min-max) of "
        f"interleaved rounds after a warm-up (calls under 0.05 s repeated in each round)"
    )

    def gram():
        return X.T @ X

    def exact():
        return LossMatchingDistiller(m, random_state=0).fit(X, y)

    t = interleave(
        {"ref": gram, "pass": lambda: compute_moments(X, y[:, None]), "exact": exact}, rounds
    )
    fitted = t.values["exact"]
    with threadpool_limits(1, user_api="blas"):
        t1 = interleave({"ref": gram, "exact": exact}, rounds)
    print(f"reference X.T @ X:                 {t.time('ref').seconds()}")
    print(
        f"moment pass [X, y] (mean, cov):    {t.time('pass').seconds()}   "
        f"{t.ratio('pass', 'ref').ratio()}"
    )
    print(
        f"distil, solver='exact':            {t.time('exact').seconds()}   "
        f"{t.ratio('exact', 'ref').ratio()}   (target <= 2.0)   gap {fitted.loss_gap_:.1e}"
    )
    print(
        f"both limited to one BLAS thread:   X.T @ X {t1.time('ref').seconds()}, "
        f"exact {t1.time('exact').seconds()}   {t1.ratio('exact', 'ref').ratio()}"
    )

    # L-BFGS, both samplings, and the naive paper implementation in the same rounds.
    # The naive implementation needs the regressors and synthetic rows of a fit: one
    # untimed fit here (the same as every timed one: random_state=0).
    setup = LossMatchingDistiller(m, solver="lbfgs", random_state=0).fit(X, y)
    k = setup.n_regressors_
    mom = fitted._stream.moments
    mean, scale = mom.mean, np.sqrt(np.diag(mom.covariance))
    V = setup.regressors_
    r = min(args.naive_regressors, k)
    r_obj = min(10 * r, k)
    Zs = (np.column_stack([setup.X_synthetic_, setup.y_synthetic_]) - mean) / scale
    targets = np.ones(k)
    runs = {"ref": gram}
    for sampling in SAMPLINGS:
        runs[sampling] = lambda s=sampling: LossMatchingDistiller(
            m, solver="lbfgs", sampling=s, random_state=0
        ).fit(X, y)
    runs["naive train"] = lambda: _naive_training_losses(X, y, V[:r], mean, scale)
    runs["naive objective"] = lambda: _naive_objective(Zs, V[:r_obj], targets[:r_obj])
    ts = interleave(runs, slow_rounds)
    print(
        f"L-BFGS and naive implementation: {slow_rounds} interleaved rounds (slow), "
        f"X.T @ X {ts.time('ref').seconds()} in the same rounds"
    )
    for sampling in SAMPLINGS:
        lbfgs = ts.values[sampling]
        print(
            f"distil, solver='lbfgs', sampling={sampling!r} (k = {lbfgs.n_regressors_}): "
            f"{ts.time(sampling).seconds()}   {ts.ratio(sampling, 'ref').ratio()}"
            f"   (target <= 10)   {lbfgs.n_iter_} iterations, gap {lbfgs.loss_gap_:.1e},"
            f" held-out gap {lbfgs.heldout_loss_gap_:.1e}"
        )

    # Naive paper implementation, timed on a sample and scaled to k regressors, per round.
    lbfgs = ts.values["whitened"]
    n_evals = max(lbfgs.n_iter_, 1) * 1.1  # L-BFGS evaluates ~1.1x per iteration here
    naive_train = ts["naive train"] * (k / r)
    naive_obj = ts["naive objective"] * (k / r_obj) * n_evals
    naive = naive_train + naive_obj
    speedup = ratio_of(naive, ts["whitened"])
    print(
        f"naive paper implementation (scaled from {r} regressors, {r_obj} in the objective):"
        f" training losses {np.median(naive_train):8.1f} s + objective"
        f" {np.median(naive_obj):8.1f} s = {np.median(naive):8.1f} s;"
        f" against sampling='whitened': {speedup.ratio('speed-up', '.1f', 'x')}"
    )

    # Memory, apart from the timed rounds.
    tracemalloc.start()
    LossMatchingDistiller(m, random_state=0).fit(X, y)
    _, peak_exact = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    with warnings.catch_warnings():  # 5 iterations are short of converging, on purpose
        warnings.simplefilter("ignore", UserWarning)
        LossMatchingDistiller(m, solver="lbfgs", random_state=0, max_iter=5).fit(X, y)
    _, peak_lbfgs = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory beyond the data: exact {peak_exact / 2**20:6.1f} MiB, lbfgs"
        f" {peak_lbfgs / 2**20:6.1f} MiB ({peak_exact / 2**20 / data_mb:.3f}x /"
        f" {peak_lbfgs / 2**20 / data_mb:.3f}x the data; k x n would be"
        f" {8 * k * n / 2**30:.0f} GiB)"
    )
    print(f"auto k for p = {d + 2}: {auto_n_models(d + 2)}")


if __name__ == "__main__":
    main()
