"""The moment pass and its merging, against naive references."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from threadpoolctl import threadpool_limits

from skdistill._core.moments import (
    compute_moments,
    merge_moments,
    moments_of_rows,
    second_moment_matrix,
)
from skdistill._core.threads import blas_threads


def _naive_moments(Z, w):
    mean = (w[:, None] * Z).sum(0) / w.sum()
    comoment = sum(wi * np.outer(zi - mean, zi - mean) for zi, wi in zip(Z, w))
    return w.sum(), mean, comoment


def _data(seed, n=200, d=4, t=1, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, d)) @ rng.normal(size=(d, d))
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t)) + loc
    return X, Y


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 120),
    d=st.integers(1, 6),
    t=st.integers(0, 2),
    chunk=st.integers(1, 50),
    block_rows=st.integers(1, 40),
    weighted=st.booleans(),
    layout=st.sampled_from(["C", "F", "float32"]),
    loc=st.sampled_from([0.0, 1e3, -1e5]),
)
def test_compute_moments_matches_naive(seed, n, d, t, chunk, block_rows, weighted, layout, loc):
    """Any chunking, block size (tiled or not), memory layout, dtype and width."""
    X, Y = _data(seed, n=n, d=d, t=max(t, 1), loc=loc)
    Y = Y[:, :t]
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "float32":
        X = X.astype(np.float32)
    w = np.random.default_rng(seed).uniform(0.1, 3.0, size=n) if weighted else None
    with mock.patch("skdistill._core.moments._BLOCK_BYTES", 8 * block_rows * (d + t + 1)):
        got = compute_moments(X, Y, w, chunk_size=chunk)
    Z = np.hstack([X.astype(np.float64), Y])
    ref_w, ref_mean, ref_comoment = _naive_moments(Z, np.ones(n) if w is None else w)
    assert got.weight_sum == pytest.approx(ref_w)
    np.testing.assert_allclose(got.mean, ref_mean, rtol=1e-10, atol=1e-9 * (1 + abs(loc)))
    scale = max(np.abs(ref_comoment).max(), 1.0)
    np.testing.assert_allclose(got.comoment / scale, ref_comoment / scale, atol=1e-9)


def test_compute_moments_sparse_equals_dense():
    X, Y = _data(0, n=300, d=6)
    X[np.abs(X) < 1] = 0.0
    w = np.random.default_rng(1).uniform(size=300)
    dense = compute_moments(X, Y, w, chunk_size=64)
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        sp = compute_moments(fmt(X), Y, w, chunk_size=64)
        np.testing.assert_allclose(sp.mean, dense.mean, rtol=1e-12)
        np.testing.assert_allclose(sp.comoment, dense.comoment, rtol=1e-10, atol=1e-10)


def test_compute_moments_independent_of_n_threads():
    X, Y = _data(2, n=5000, d=5)
    one = compute_moments(X, Y, chunk_size=300, n_threads=1)
    for n_threads in (2, 3, None):
        other = compute_moments(X, Y, chunk_size=300, n_threads=n_threads)
        np.testing.assert_array_equal(one.mean, other.mean)
        np.testing.assert_array_equal(one.comoment, other.comoment)
    with threadpool_limits(1, user_api="blas"):
        assert blas_threads() == 1
        limited = compute_moments(X, Y, chunk_size=300)
    np.testing.assert_array_equal(one.comoment, limited.comoment)


def test_merge_moments_is_union():
    X, Y = _data(3, n=100, d=3)
    Z = np.hstack([X, Y])
    a, b = moments_of_rows(Z[:37]), moments_of_rows(Z[37:])
    merged = merge_moments(a, b)
    whole = moments_of_rows(Z)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.comoment, whole.comoment, rtol=1e-11)
    assert merge_moments(None, a) is a


def test_second_moment_matrix():
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(50, 3)) + 2.0
    moments = moments_of_rows(Z)
    Zh = np.hstack([Z, np.ones((50, 1))])
    np.testing.assert_allclose(moments.second_moment(True), Zh.T @ Zh / 50, rtol=1e-12)
    np.testing.assert_allclose(moments.second_moment(False), Z.T @ Z / 50, rtol=1e-12)
    np.testing.assert_allclose(
        second_moment_matrix(moments.mean, moments.covariance, False), Z.T @ Z / 50
    )
