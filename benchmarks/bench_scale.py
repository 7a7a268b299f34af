"""Data that does not fit in memory: streaming partial_fit and Dask input, as ratios.

Prints:

* streaming: ``--n`` x ``--d`` rows (default 4e6 x 50) in ``--chunks`` chunks (default
  40) generated on the fly and passed to ``LossMatchingDistiller.partial_fit`` (the
  synthetic set is refreshed after every chunk). Reported: the time of the
  ``partial_fit`` calls as a ratio to ``X.T @ X`` on the same chunks in the same
  process, both timed on every chunk in alternating order (target <= 1.5), the same
  ratio with the chunk generation included, and the peak RSS of a pass beyond the
  process's RSS before it (target < 400 MB), for both. Peak RSS is the kernel's
  high-water mark ``VmHWM``, reset through ``/proc/self/clear_refs`` before each pass.
* Dask: ``--dask-n`` x ``--dask-d`` rows (default 1e7 x 20) distilled by ``fit`` on a
  2-worker ``distributed.LocalCluster`` against ``fit`` on the same rows as an in-memory
  NumPy array, both with the data already in memory (persisted on the workers for
  Dask): time ratio Dask / NumPy. Also the end-to-end time (generate + distil), where
  the Dask version never holds the whole array anywhere.

Usage: ``nice python benchmarks/bench_scale.py [--n 4000000] [--d 50] [--chunks 40]
[--dask-n 10000000] [--dask-d 20] [--skip-dask]``
"""

import argparse
import gc
import logging
import time

import numpy as np

from skdistill import LossMatchingDistiller


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status (this benchmark needs Linux).")


class PeakRSS:
    """Peak resident memory of a block beyond the RSS at its start (Linux VmHWM)."""

    def __enter__(self):
        gc.collect()
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset VmHWM to the current RSS
        self.start = _status("VmRSS")
        return self

    def __exit__(self, *exc):
        self.extra = _status("VmHWM") - self.start


def _chunks(n, d, n_chunks, seed=0):
    """Rows generated on the fly: correlated features with large means, noisy target."""
    rng = np.random.default_rng(seed)
    mixing = np.eye(d) + 0.1 * rng.standard_normal((d, d))
    coef = rng.standard_normal(d)
    for rows in np.array_split(np.arange(n), n_chunks):
        X = rng.standard_normal((rows.size, d)) @ mixing
        X[:, : d // 2] += 100.0
        y = X @ coef + 1e3 + rng.standard_normal(rows.size)
        yield X, y


def _peak(args, work):
    """Peak RSS beyond the start of a pass that generates the chunks and calls ``work``."""
    with PeakRSS() as peak:
        for X, y in _chunks(args.n, args.d, args.chunks):
            work(X, y)
            del X, y
    return peak.extra


def bench_streaming(args):
    mb = 2**20
    data_mb = args.n * (args.d + 1) * 8 / mb
    print(
        f"streaming: {args.n} x {args.d} in {args.chunks} chunks "
        f"({data_mb:.0f} MiB in all, {data_mb / args.chunks:.0f} MiB per chunk), "
        f"n_synthetic = {args.m}"
    )
    gram = np.zeros((args.d, args.d))

    def reference(X, y):
        gram[:] += X.T @ X

    # Time: all on every chunk as it is generated, in rotating order, so that the
    # load of a shared machine hits them alike. Each pass is a fresh stream.
    # X.T @ X uses both cores through threaded BLAS; partial_fit is timed with
    # n_jobs=1 (threaded BLAS only) and n_jobs=args.n_jobs (threads over row blocks).
    names = ("ref", "fit", "par")
    times = {name: np.zeros((args.repeat, args.chunks)) for name in names}
    t_gen = 0.0
    for rep in range(args.repeat):
        distillers = {
            "fit": LossMatchingDistiller(n_synthetic=args.m, random_state=0),
            "par": LossMatchingDistiller(n_synthetic=args.m, random_state=0, n_jobs=args.n_jobs),
        }
        start = time.perf_counter()
        for i, (X, y) in enumerate(_chunks(args.n, args.d, args.chunks)):
            t_gen += time.perf_counter() - start
            shift = (i + rep) % len(names)
            for name in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                reference(X, y) if name == "ref" else distillers[name].partial_fit(X, y)
                times[name][rep, i] = time.perf_counter() - t0
            del X, y
            start = time.perf_counter()
    total = {name: times[name].sum() / args.repeat for name in names}
    best = {name: times[name].min(axis=0).sum() for name in names}
    t_gen /= args.repeat
    np.testing.assert_allclose(distillers["fit"].X_synthetic_, distillers["par"].X_synthetic_)
    print(
        f"  per pass: generation {t_gen:.2f} s, X.T @ X {total['ref']:.2f} s, partial_fit"
        f" {total['fit']:.2f} s (n_jobs=1), {total['par']:.2f} s (n_jobs={args.n_jobs})"
        f" (mean of {args.repeat} passes)"
    )
    for name, label in (("fit", "n_jobs=1"), ("par", f"n_jobs={args.n_jobs}")):
        print(
            f"  throughput ratio partial_fit ({label}) / X.T@X: "
            f"{total[name] / total['ref']:.2f} (target <= 1.5); best of {args.repeat} per "
            f"chunk {best[name] / best['ref']:.2f}; with generation "
            f"{(t_gen + total[name]) / (t_gen + total['ref']):.2f}"
        )
    # Memory: one pass each, alone.
    extra_ref = _peak(args, reference)
    distiller = LossMatchingDistiller(n_synthetic=args.m, random_state=0)
    extra_fit = _peak(args, distiller.partial_fit)
    print(
        f"  peak extra RSS: partial_fit {extra_fit / mb:.0f} MiB (target < 400), "
        f"X.T @ X {extra_ref / mb:.0f} MiB (both include the generated chunk)"
    )
    print(
        f"  n_samples_seen_ = {distiller.n_samples_seen_}, loss_gap_ = {distiller.loss_gap_:.1e}"
    )


def bench_dask(args):
    import dask
    import dask.array as da
    import distributed

    n, d = args.dask_n, args.dask_d
    block = args.dask_block
    print(
        f"dask: {n} x {d} ({n * (d + 1) * 8 / 2**20:.0f} MiB), blocks of {block} rows, "
        f"LocalCluster(n_workers=2, threads_per_worker=1), n_synthetic = {args.m}"
    )

    def lazy():
        rng = da.random.default_rng(0)
        X = rng.standard_normal((n, d), chunks=(block, d)) + 100.0
        y = X @ np.linspace(-1, 1, d) + rng.standard_normal(n, chunks=block)
        return X, y

    def distil(X, y):
        start = time.perf_counter()
        distiller = LossMatchingDistiller(n_synthetic=args.m, random_state=0).fit(X, y)
        return time.perf_counter() - start, distiller

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.CRITICAL
    ) as cluster, distributed.Client(cluster) as client:
        X, y = lazy()
        t_lazy, lazy_fit = distil(X, y)
        X, y = client.persist([X, y])
        distributed.wait([X, y])
        t_dask, dask_fit = min(distil(X, y) for _ in range(args.repeat))
        del X, y

    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        X, y = dask.compute(*lazy())
    t_generate = time.perf_counter() - start
    t_numpy, numpy_fit = min(distil(X, y) for _ in range(args.repeat))
    gap = max(
        np.abs(dask_fit._stream.moments.covariance - numpy_fit._stream.moments.covariance).max(),
        np.abs(dask_fit._stream.moments.mean - numpy_fit._stream.moments.mean).max(),
    )
    print(f"  NumPy fit, data in memory:            {t_numpy:7.2f} s")
    print(f"  Dask fit, data persisted on workers:  {t_dask:7.2f} s  ratio {t_dask / t_numpy:.2f}")
    print(
        f"  end to end (generate + distil): NumPy {t_generate + t_numpy:.2f} s, "
        f"Dask (never materialised) {t_lazy:.2f} s, ratio {t_lazy / (t_generate + t_numpy):.2f}"
    )
    print(
        f"  largest moment difference Dask vs NumPy: {gap:.1e}; loss_gap_ "
        f"{dask_fit.loss_gap_:.1e} (Dask), {numpy_fit.loss_gap_:.1e} (NumPy), "
        f"{lazy_fit.loss_gap_:.1e} (lazy Dask)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=40)
    parser.add_argument("--m", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2, help="threads for the parallel partial_fit")
    parser.add_argument("--dask-n", type=int, default=10_000_000)
    parser.add_argument("--dask-d", type=int, default=20)
    parser.add_argument("--dask-block", type=int, default=250_000)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args(argv)
    bench_streaming(args)
    if not args.skip_dask:
        bench_dask(args)


if __name__ == "__main__":
    main()
