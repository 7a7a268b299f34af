"""Speed and memory of LossMatchingDistiller, as ratios to references run in the same process.

Prints:

* distilling n x d (default 1e6 x 100) to m = 200 rows with the exact solver, as a ratio
  to one ``X.T @ X`` on the same data (target <= 2.0), with the threads BLAS has (both
  use them all) and with both limited to one thread;
* the L-BFGS solver (the paper's Algorithm 1, auto k) on the same data: total time, the
  optimiser's share, iterations and certified gap;
* the speed-up over a naive per-regressor implementation of the paper (each regressor's
  training loss by its own pass over the data; the objective by a loop over regressors),
  timed on a sample of regressors/iterations and scaled to the full k and iteration count;
* peak memory of the distillation beyond the data (tracemalloc, which sees numpy's
  allocations), against the size of the data.

Usage: ``python benchmarks/bench_supervised.py [--n 1000000] [--d 100] [--m 200]``
"""

import argparse
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from skdistill import LossMatchingDistiller
from skdistill._core.moments import compute_moments
from skdistill._core.random_models import auto_n_models


def _best_of(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


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
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-regressors", type=int, default=20)
    args = parser.parse_args(argv)
    n, d, m = args.n, args.d, args.m

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    X[:, : d // 2] += 3.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    data_mb = (X.nbytes + y.nbytes) / 2**20
    print(f"data: {n} x {d} float64 ({data_mb:.0f} MiB), m = {m}")

    t_ref, _ = _best_of(lambda: X.T @ X, args.repeat)
    t_pass, _ = _best_of(lambda: compute_moments(X, y[:, None]), args.repeat)
    t_exact, exact = _best_of(
        lambda: LossMatchingDistiller(m, random_state=0).fit(X, y), args.repeat
    )
    with threadpool_limits(1, user_api="blas"):
        t_ref1, _ = _best_of(lambda: X.T @ X, args.repeat)
        t_exact1, _ = _best_of(
            lambda: LossMatchingDistiller(m, random_state=0).fit(X, y), args.repeat
        )
    print(f"reference X.T @ X:                 {t_ref:8.3f} s")
    print(f"moment pass [X, y] (mean, cov):    {t_pass:8.3f} s   ratio {t_pass / t_ref:5.2f}")
    print(
        f"distil, solver='exact':            {t_exact:8.3f} s   ratio {t_exact / t_ref:5.2f}"
        f"   (target <= 2.0)   gap {exact.loss_gap_:.1e}"
    )
    print(
        f"both limited to one BLAS thread:    X.T @ X {t_ref1:.3f} s, exact {t_exact1:.3f} s"
        f"   ratio {t_exact1 / t_ref1:5.2f}"
    )

    start = time.perf_counter()
    lbfgs = LossMatchingDistiller(m, solver="lbfgs", random_state=0).fit(X, y)
    t_lbfgs = time.perf_counter() - start
    k = lbfgs.n_regressors_
    print(
        f"distil, solver='lbfgs' (k = {k}): {t_lbfgs:8.3f} s   ratio {t_lbfgs / t_ref:5.2f}"
        f"   {lbfgs.n_iter_} iterations, gap {lbfgs.loss_gap_:.1e},"
        f" held-out gap {lbfgs.heldout_loss_gap_:.1e}"
    )

    # Naive paper implementation, timed on a sample and scaled to k regressors.
    mom = exact._stream.moments
    mean, scale = mom.mean, np.sqrt(np.diag(mom.covariance))
    V = lbfgs.regressors_
    r = min(args.naive_regressors, k)
    t_naive_train, _ = _best_of(lambda: _naive_training_losses(X, y, V[:r], mean, scale), 1)
    t_naive_train *= k / r
    Zs = (np.column_stack([lbfgs.X_synthetic_, lbfgs.y_synthetic_]) - mean) / scale
    targets = np.ones(k)
    t_naive_obj, _ = _best_of(lambda: _naive_objective(Zs, V[: r * 10], targets[: r * 10]), 1)
    t_naive_obj *= k / (r * 10)
    n_evals = max(lbfgs.n_iter_, 1) * 1.1  # L-BFGS evaluates ~1.1x per iteration here
    t_naive = t_naive_train + n_evals * t_naive_obj
    print(
        f"naive paper implementation (scaled from {r} regressors): training losses"
        f" {t_naive_train:8.1f} s + objective {n_evals * t_naive_obj:8.1f} s"
        f" = {t_naive:8.1f} s   speed-up {t_naive / t_lbfgs:7.1f}x"
    )

    tracemalloc.start()
    LossMatchingDistiller(m, random_state=0).fit(X, y)
    _, peak_exact = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
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
