"""Threads: the BLAS thread pool for small products, and the pool of BLAS-like passes."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _blas_controller():
    return ThreadpoolController()


def single_threaded_blas():
    """Context limiting BLAS to one thread, for small dense algebra.

    Multi-threaded BLAS on matrices of tens of rows is slower than one thread, and
    far slower (by orders of magnitude, ``docs/benchmarks.rst``) right after a
    large product has left the other BLAS threads spinning. The controller is
    built once (it scans the loaded libraries).
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def blas_threads():
    """Threads a BLAS product would use now: the thread budget of a BLAS-like pass.

    This follows ``threadpoolctl`` limits (1 inside :func:`single_threaded_blas`,
    or in a joblib worker that limits BLAS) and the ``OPENBLAS_NUM_THREADS``-style
    environment variables; 1 when no BLAS library is found.
    """
    blas = _blas_controller().select(user_api="blas")
    return max([1] + [lib.num_threads for lib in blas.lib_controllers])


_pool = None
_pool_lock = threading.Lock()


def _forget_pool():
    global _pool
    _pool = None  # a forked child has none of the parent's threads


os.register_at_fork(after_in_child=_forget_pool)


def thread_map(func, items, n_threads=None):
    """``[func(item) for item in items]`` on ``n_threads`` threads, each with one BLAS thread.

    ``None`` uses :func:`blas_threads`: a pass that stands in for one BLAS
    product gets the threads that product would.
    The calling thread works too, beside ``n_threads - 1`` threads kept between
    calls (starting a pool costs a noticeable part of a 40 MiB chunk's pass,
    ``docs/benchmarks.rst``). Each takes the next item when it is free, so a thread
    that starts late -- a virtual core waking from idle can take milliseconds --
    does less, and one that never starts (the pool busy with another caller's
    items) is cancelled; the results are in the order of ``items`` whatever the
    timing.
    """
    global _pool
    items = list(items)
    n_threads = min(blas_threads() if n_threads is None else n_threads, len(items))
    if n_threads <= 1:
        return [func(item) for item in items]
    with _pool_lock:
        if _pool is None or _pool._max_workers < n_threads - 1:
            _pool = ThreadPoolExecutor(n_threads - 1, thread_name_prefix="skdistill")
        pool = _pool
    results = [None] * len(items)
    order = iter(range(len(items)))
    order_lock = threading.Lock()
    failed = threading.Event()

    def work():
        while not failed.is_set():
            with order_lock:
                i = next(order, None)
            if i is None:
                return
            try:
                results[i] = func(items[i])
            except BaseException:
                failed.set()  # the others stop at their next item
                raise

    with single_threaded_blas():
        helpers = [pool.submit(work) for _ in range(n_threads - 1)]
        try:
            work()
        finally:
            for helper in helpers:
                # A helper still queued (the pool busy elsewhere) has nothing left to do.
                if not helper.cancel():
                    helper.result()
    return results
