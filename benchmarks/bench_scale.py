"""Data that does not fit in memory: streaming partial_fit and Dask input, as ratios.

Prints:

* streaming: ``--n`` x ``--d`` rows (default 4e6 x 50) in ``--chunks`` chunks (default
  40) generated on the fly and passed to ``LossMatchingDistiller.partial_fit`` (the
  synthetic set is refreshed after every chunk). Reported: the time of the
  ``partial_fit`` calls as a ratio to ``X.T @ X`` on the same chunks in the same
  process (target <= 1.5), with the threads BLAS has (both use them all) and with
  both limited to one thread; the ratio with the chunk generation included; and
  the peak RSS of a pass beyond the process's RSS before it (target < 400 MB), for
  both. Peak RSS is the kernel's high-water mark ``VmHWM``, reset through
  ``/proc/self/clear_refs`` before each pass. Each pass is a fresh stream timed
  alone (the kinds of pass alternate). The passes are timed twice: with the chunks
  generated under one BLAS thread, as a file reader would produce them, and under
  threaded BLAS, whose idle workers spin for about 0.1 s after each product and
  take a core from the timed code.
* memmap: the same rows written to ``.npy`` files (in ``--tmpdir``) and streamed back
  through ``numpy.memmap`` and ``skdistill.datasets.iter_array_chunks``, as a real
  out-of-core stream: ``partial_fit`` against ``X.T @ X`` over the same chunks, each
  pass timed alone once the files are in the page cache.
* Dask: ``--dask-n`` x ``--dask-d`` rows (default 1e7 x 20) distilled by ``fit`` on a
  2-worker ``distributed.LocalCluster`` against ``fit`` on the same rows as an in-memory
  NumPy array, both with the data already in memory (persisted on the workers for
  Dask): time ratio Dask / NumPy. Also the end-to-end time (generate + distil), where
  the Dask version never holds the whole array anywhere.

Usage: ``nice python benchmarks/bench_scale.py [--n 4000000] [--d 50] [--chunks 40]
[--dask-n 10000000] [--dask-d 20] [--skip-streaming] [--skip-memmap] [--skip-dask] [--tmpdir DIR]``
"""

import argparse
import gc
import logging
import os
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skdistill import LossMatchingDistiller
from skdistill._core.threads import blas_threads


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


def _chunks(n, d, n_chunks, seed=0, blas_threads=1):
    """Rows generated on the fly: correlated features with large means, noisy target.

    The products run with ``blas_threads`` BLAS threads. With more than one,
    OpenBLAS leaves its idle workers spinning for about 0.1 s after each product
    (its ``THREAD_TIMEOUT``), which takes a core from whatever is timed next; a
    reader of a file (``skdistill.datasets``) leaves no such threads.
    """
    rng = np.random.default_rng(seed)
    mixing = np.eye(d) + 0.1 * rng.standard_normal((d, d))
    coef = rng.standard_normal(d)
    for rows in np.array_split(np.arange(n), n_chunks):
        with threadpool_limits(blas_threads, user_api="blas"):
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


def _timed_pass(name, chunks, args):
    """One pass over ``chunks``: ``X.T @ X`` ("ref") or ``partial_fit`` ("fit").

    A trailing "1" limits BLAS to one thread. Returns the seconds spent in the
    timed calls, the seconds of the whole pass (chunk production included) and
    the distiller.
    """
    distiller = LossMatchingDistiller(n_synthetic=args.m, random_state=0)
    gram = np.zeros((args.d, args.d))
    elapsed = 0.0
    start = time.perf_counter()
    for X, y in chunks:
        with threadpool_limits(1 if name.endswith("1") else None, user_api="blas"):
            t0 = time.perf_counter()
            if name.startswith("ref"):
                gram += X.T @ X
            else:
                distiller.partial_fit(X, y)
            elapsed += time.perf_counter() - t0
        del X, y
    return elapsed, time.perf_counter() - start, distiller


def _timed_passes(args, blas_threads):
    """Seconds per pass of X.T @ X and of partial_fit, both with all threads and with one.

    Each pass is a fresh stream timed alone, as a user's loop over chunks would
    run; the four kinds of pass alternate, ``args.repeat`` times, so that the load
    of a shared machine hits them alike. (Timing them on the same chunk one after
    the other would let X.T @ X's spinning BLAS workers slow the call after it.)
    """
    names = ("ref", "fit", "ref1", "fit1")
    times = {name: [] for name in names}
    t_gen = []
    synthetic = {}
    for rep in range(args.repeat):
        for name in names:
            chunks = _chunks(args.n, args.d, args.chunks, blas_threads=blas_threads)
            elapsed, total, distiller = _timed_pass(name, chunks, args)
            times[name].append(elapsed)
            t_gen.append(total - elapsed)
            if name.startswith("fit"):
                synthetic[name] = distiller.X_synthetic_
        # The thread count changes the speed, not the result.
        np.testing.assert_array_equal(synthetic["fit"], synthetic["fit1"])
    return {name: float(np.mean(times[name])) for name in names}, float(np.mean(t_gen))


def bench_streaming(args):
    mb = 2**20
    data_mb = args.n * (args.d + 1) * 8 / mb
    print(
        f"streaming: {args.n} x {args.d} in {args.chunks} chunks "
        f"({data_mb:.0f} MiB in all, {data_mb / args.chunks:.0f} MiB per chunk), "
        f"n_synthetic = {args.m}, {blas_threads()} BLAS threads"
    )
    for blas, label in ((1, "chunks generated with 1 BLAS thread (as a file reader)"),
                        (None, "chunks generated with threaded BLAS (spinning workers)")):
        total, t_gen = _timed_passes(args, blas)
        print(f"  {label}, mean of {args.repeat} passes:")
        print(
            f"    per pass: generation {t_gen:.2f} s; X.T @ X {total['ref']:.2f} s, "
            f"partial_fit {total['fit']:.2f} s; with one thread {total['ref1']:.2f} s and "
            f"{total['fit1']:.2f} s"
        )
        print(
            f"    throughput ratio partial_fit / X.T@X: {total['fit'] / total['ref']:.2f} "
            f"(target <= 1.5); both limited to one thread {total['fit1'] / total['ref1']:.2f}; "
            f"with generation {(t_gen + total['fit']) / (t_gen + total['ref']):.2f}"
        )
    # Memory: one pass each, alone.
    gram = np.zeros((args.d, args.d))

    def reference(X, y):
        gram[:] += X.T @ X

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


def bench_memmap(args):
    """The same rows written to .npy files and streamed back through numpy.memmap."""
    from skdistill.datasets import iter_array_chunks

    chunk_rows = -(-args.n // args.chunks)
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        X_path, y_path = os.path.join(tmp, "X.npy"), os.path.join(tmp, "y.npy")
        X_file = np.lib.format.open_memmap(X_path, mode="w+", shape=(args.n, args.d))
        y_file = np.lib.format.open_memmap(y_path, mode="w+", shape=(args.n,))
        start = 0
        for X, y in _chunks(args.n, args.d, args.chunks):
            X_file[start : start + len(y)], y_file[start : start + len(y)] = X, y
            start += len(y)
        X_file.flush(), y_file.flush()
        del X_file, y_file
        X_map, y_map = np.load(X_path, mmap_mode="r"), np.load(y_path, mmap_mode="r")
        print(
            f"memmap: the same {args.n} x {args.d} rows from .npy files in {tmp} (page cache), "
            f"iter_array_chunks(chunk_size={chunk_rows}); each pass timed alone, alternating"
        )
        times = {"ref": [], "fit": []}
        for rep in range(args.repeat + 1):  # the first round only fills the page cache
            for name in times:
                chunks = iter_array_chunks(X_map, y_map, chunk_size=chunk_rows)
                elapsed, _, _ = _timed_pass(name, chunks, args)
                if rep:
                    times[name].append(elapsed)
        ref, fit = np.mean(times["ref"]), np.mean(times["fit"])
        print(
            f"  per pass: X.T @ X {ref:.2f} s, partial_fit {fit:.2f} s; "
            f"throughput ratio {fit / ref:.2f} (target <= 1.5)"
        )
        del X_map, y_map


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
    parser.add_argument("--dask-n", type=int, default=10_000_000)
    parser.add_argument("--dask-d", type=int, default=20)
    parser.add_argument("--dask-block", type=int, default=250_000)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-streaming", action="store_true")
    parser.add_argument("--skip-memmap", action="store_true")
    parser.add_argument("--tmpdir", default=None, help="where the memmap pass writes its files")
    args = parser.parse_args(argv)
    if not args.skip_streaming:
        bench_streaming(args)
    if not args.skip_memmap:
        bench_memmap(args)
    if not args.skip_dask:
        bench_dask(args)


if __name__ == "__main__":
    main()
