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
  ``/proc/self/clear_refs`` before each pass, apart from the timed rounds. Each pass
  is a fresh stream timed alone, the four kinds of pass interleaved in rounds (see
  below). The passes are timed twice: with the chunks
  generated under one BLAS thread, as a file reader would produce them, and under
  threaded BLAS, whose idle workers spin for about 0.1 s after each product and
  take a core from the timed code.
* memmap: the same rows written to ``.npy`` files (in ``--tmpdir``) and streamed back
  through ``numpy.memmap`` and ``skdistill.datasets.iter_array_chunks``, as a real
  out-of-core stream: ``partial_fit`` against ``X.T @ X`` over the same chunks, each
  pass timed alone once the files are in the page cache (the warm-up pass fills it).
* Dask: ``--dask-n`` x ``--dask-d`` rows (default 1e7 x 20) distilled by ``fit`` on a
  2-worker ``distributed.LocalCluster`` against ``fit`` on the same rows as an in-memory
  NumPy array, both with the data already in memory (persisted on the workers for
  Dask): time ratio Dask / NumPy. Also the end-to-end time (generate + distil), where
  the Dask version never holds the whole array anywhere (at most 3 rounds: slow).

Every time is the median of interleaved rounds after a warm-up run of each timed pass
(``benchmarks/_timing.py``): each round runs every kind of pass once, in an order
reversed from one round to the next, and every ratio is the median of the per-round
ratios, printed with its range over the rounds, so that a neighbour's load hits both
sides of a ratio alike. ``--rounds`` sets the number of rounds (default 5).

Usage: ``nice python benchmarks/bench_scale.py [--n 4000000] [--d 50] [--chunks 40]
[--rounds 5] [--dask-n 10000000] [--dask-d 20] [--skip-streaming] [--skip-memmap]
[--skip-dask] [--tmpdir DIR]``
"""

import argparse
import gc
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skdistill import LossMatchingDistiller
from skdistill._core.threads import blas_threads

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_timing.py
from _timing import Summary, Timed, interleave, ratio_of

SLOW_ROUNDS = 3


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

    A trailing "1" limits BLAS to one thread. Returns :class:`Timed`: the seconds
    spent in the timed calls, the synthetic rows (for "fit") and, as parts, the
    seconds of the whole pass (chunk production included) and of the production.
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
    total = time.perf_counter() - start
    synthetic = distiller.X_synthetic_ if name.startswith("fit") else None
    return Timed(elapsed, synthetic, {"total": total, "generation": total - elapsed})


def _timed_passes(args, blas_threads):
    """Interleaved rounds of passes of X.T @ X and partial_fit, all threads and one.

    Each pass is a fresh stream timed alone, as a user's loop over chunks would
    run; the four kinds of pass run once per round, in an order reversed every
    round, so that the load of a shared machine hits them alike. (Timing them on
    the same chunk one after the other would let X.T @ X's spinning BLAS workers
    slow the call after it.)
    """

    def run(name):
        chunks = _chunks(args.n, args.d, args.chunks, blas_threads=blas_threads)
        return _timed_pass(name, chunks, args)

    def same_result(_, values):
        # The thread count changes the speed, not the result.
        np.testing.assert_array_equal(values["fit"], values["fit1"])

    names = ("ref", "fit", "ref1", "fit1")
    return interleave(
        {name: lambda name=name: run(name) for name in names}, args.rounds, check=same_result
    )


def bench_streaming(args):
    mb = 2**20
    data_mb = args.n * (args.d + 1) * 8 / mb
    print(
        f"streaming: {args.n} x {args.d} in {args.chunks} chunks "
        f"({data_mb:.0f} MiB in all, {data_mb / args.chunks:.0f} MiB per chunk), "
        f"n_synthetic = {args.m}, {blas_threads()} BLAS threads"
    )
    for blas, label in (
        (1, "chunks generated with 1 BLAS thread (as a file reader)"),
        (None, "chunks generated with threaded BLAS (spinning workers)"),
    ):
        t = _timed_passes(args, blas)
        generation = Summary.of(np.concatenate([t.part(name, "generation") for name in t.seconds]))
        with_generation = ratio_of(t.part("fit", "total"), t.part("ref", "total"))
        print(
            f"  {label}; median (min-max) of {args.rounds} interleaved rounds after a "
            f"warm-up pass of each:"
        )
        print(
            f"    per pass: generation {generation.seconds('.2f')}; "
            f"X.T @ X {t.time('ref').seconds('.2f')}, partial_fit {t.time('fit').seconds('.2f')}"
        )
        print(
            f"    with one thread: X.T @ X {t.time('ref1').seconds('.2f')}, "
            f"partial_fit {t.time('fit1').seconds('.2f')}"
        )
        print(
            f"    partial_fit / X.T@X: throughput {t.ratio('fit', 'ref').ratio()} (target <= 1.5)"
        )
        print(f"      both limited to one thread: {t.ratio('fit1', 'ref1').ratio()}")
        print(f"      with generation: {with_generation.ratio()}")
        print("    threaded and one-thread partial_fit gave the same synthetic set every round")
    # Memory: one pass each, alone, apart from the timed rounds.
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
    print(f"  n_samples_seen_ = {distiller.n_samples_seen_}, loss_gap_ = {distiller.loss_gap_:.1e}")


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
            f"iter_array_chunks(chunk_size={chunk_rows}); each pass timed alone; median "
            f"(min-max) of {args.rounds} interleaved rounds after a warm-up pass of each "
            f"(which fills the page cache)"
        )

        data = {"X": X_map, "y": y_map}
        del X_map, y_map

        def run(name):
            chunks = iter_array_chunks(data["X"], data["y"], chunk_size=chunk_rows)
            return _timed_pass(name, chunks, args)

        t = interleave({name: lambda name=name: run(name) for name in ("ref", "fit")}, args.rounds)
        print(
            f"  per pass: X.T @ X {t.time('ref').seconds('.2f')}, "
            f"partial_fit {t.time('fit').seconds('.2f')}"
        )
        print(f"  partial_fit / X.T@X: throughput {t.ratio('fit', 'ref').ratio()} (target <= 1.5)")
        data.clear()  # close the memmaps before the files go


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
        return LossMatchingDistiller(n_synthetic=args.m, random_state=0).fit(X, y)

    def numpy_end_to_end():
        X, y = dask.compute(*lazy(), scheduler="threads")
        return distil(X, y)

    slow_rounds = min(args.rounds, SLOW_ROUNDS)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.CRITICAL
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # End to end: the NumPy rows are generated (threaded Dask) and freed every round;
        # the Dask rows are generated on the workers block by block inside fit.
        e2e = interleave({"numpy": numpy_end_to_end, "lazy": lambda: distil(*lazy())}, slow_rounds)
        # Data in memory: persisted on the workers for Dask, a NumPy array for NumPy.
        X, y = lazy()
        data = {"dask": client.persist([X, y])}
        distributed.wait(data["dask"])
        data["numpy"] = dask.compute(X, y, scheduler="threads")
        del X, y
        t = interleave(
            {"numpy": lambda: distil(*data["numpy"]), "dask": lambda: distil(*data["dask"])},
            args.rounds,
        )
        data.clear()  # release the persisted blocks before the cluster closes
    numpy_fit, dask_fit, lazy_fit = t.values["numpy"], t.values["dask"], e2e.values["lazy"]
    gap = max(
        np.abs(dask_fit._stream.moments.covariance - numpy_fit._stream.moments.covariance).max(),
        np.abs(dask_fit._stream.moments.mean - numpy_fit._stream.moments.mean).max(),
    )
    print(
        f"  data in memory, median (min-max) of {args.rounds} interleaved rounds after a warm-up:"
    )
    print(f"    NumPy fit, data in memory:            {t.time('numpy').seconds('.2f')}")
    print(
        f"    Dask fit, data persisted on workers:  {t.time('dask').seconds('.2f')}  "
        f"{t.ratio('dask', 'numpy').ratio()}"
    )
    print(
        f"  end to end (generate + distil), {slow_rounds} interleaved rounds (slow): "
        f"NumPy {e2e.time('numpy').seconds('.2f')}, Dask (never materialised) "
        f"{e2e.time('lazy').seconds('.2f')}, {e2e.ratio('lazy', 'numpy').ratio()}"
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
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--repeat", type=int, dest="rounds", default=argparse.SUPPRESS, help="old name of --rounds"
    )
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
