"""The thread pool of the data pass: order, errors, fork and nesting."""

import multiprocessing
import time
from unittest import mock

import numpy as np
import pytest

from skdistill._core.moments import compute_moments
from skdistill._core.threads import thread_map


def _data(seed, n=200, d=4, t=1, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, d)) @ rng.normal(size=(d, d))
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t)) + loc
    return X, Y


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_thread_map_keeps_order_whatever_the_timing(n_threads):
    delays = np.random.default_rng(n_threads).uniform(0, 0.003, size=25)

    def slow_square(i):
        time.sleep(delays[i])
        return i * i

    assert thread_map(slow_square, range(25), n_threads) == [i * i for i in range(25)]


def test_thread_map_raises_the_error_of_an_item():
    def fail_on_seven(i):
        if i == 7:
            raise KeyError("item 7")
        return i

    with pytest.raises(KeyError, match="item 7"):
        thread_map(fail_on_seven, range(20), 2)
    assert thread_map(fail_on_seven, range(7), 2) == list(range(7))  # the pool still works


def _moments_in_child(queue):
    X, Y = _data(2, n=5000, d=5)
    queue.put(compute_moments(X, Y, chunk_size=300, n_threads=2).comoment)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_thread_pool_survives_fork():
    """A forked child has none of the parent's pool threads; it must start its own."""
    X, Y = _data(2, n=5000, d=5)
    parent = compute_moments(X, Y, chunk_size=300, n_threads=2).comoment  # pool exists now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_moments_in_child, args=(queue,))
    child.start()
    try:
        np.testing.assert_array_equal(queue.get(timeout=60), parent)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


def test_thread_map_nested_call_does_not_wait_for_a_busy_pool():
    """An item that itself maps over threads finds the pool busy and does the work alone."""

    def outer(i):
        time.sleep(0.005)
        return thread_map(lambda j: (time.sleep(0.002), i * j)[1], range(4), 2)

    with mock.patch("skdistill._core.threads._pool", None):  # a pool of one helper thread
        assert thread_map(outer, range(3), 2) == [[i * j for j in range(4)] for i in range(3)]
