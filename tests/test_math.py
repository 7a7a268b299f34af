"""The pure mathematics, each against a naive reference."""

import multiprocessing
import time
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import check_grad
from threadpoolctl import threadpool_limits

from skdistill._core.threads import blas_threads, thread_map
from skdistill._core.certificate import heldout_loss_gap, loss_gap, model_losses
from skdistill._core.standardise import homogenise, standardiser
from skdistill._core.exact import match_moments_exact, min_rows_exact, psd_factor, psd_sqrt
from skdistill._core.lbfgs import loss_matching_objective
from skdistill._core.moments import (
    compute_moments,
    merge_moments,
    moments_of_rows,
    second_moment_matrix,
)
from skdistill._core.random_models import auto_n_models, sample_gaussian_models, seed_sequence


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


def test_merge_moments_is_union():
    X, Y = _data(3, n=100, d=3)
    Z = np.hstack([X, Y])
    a, b = moments_of_rows(Z[:37]), moments_of_rows(Z[37:])
    merged = merge_moments(a, b)
    whole = moments_of_rows(Z)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.comoment, whole.comoment, rtol=1e-11)
    assert merge_moments(None, a) is a


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_model_losses_equal_per_row_losses(fit_intercept):
    """Moment formula for every regressor's loss vs the loss computed row by row."""
    X, Y = _data(4, n=150, d=3)
    Z = np.hstack([X, Y])
    moments = moments_of_rows(Z)
    standardise = standardiser(moments, fit_intercept)
    M = standardise.second_moment(moments, fit_intercept)
    V = sample_gaussian_models(25, M.shape[0], seed_sequence(0))
    Zs = standardise.transform(Z)
    if fit_intercept:
        Zs = homogenise(Zs)
    naive = np.array([np.mean([(v @ z) ** 2 for z in Zs]) for v in V])
    np.testing.assert_allclose(model_losses(V, M), naive, rtol=1e-10)


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


def test_loss_gap_is_worst_case_over_unit_models():
    rng = np.random.default_rng(6)
    A, B = rng.normal(size=(2, 40, 4))
    M_train, M_syn = A.T @ A / 40, B.T @ B / 40
    gap = loss_gap(M_syn, M_train)
    spectral = np.linalg.norm(M_syn - M_train, 2) / np.linalg.norm(M_train, 2)
    assert gap == pytest.approx(spectral, rel=1e-12)
    V = rng.normal(size=(20000, 4))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    sampled = np.abs(model_losses(V, M_syn - M_train)).max() / np.linalg.norm(M_train, 2)
    assert sampled <= gap + 1e-12
    assert sampled >= 0.9 * gap
    rel = np.abs(model_losses(V, M_syn) - model_losses(V, M_train)) / model_losses(V, M_train)
    assert heldout_loss_gap(V, M_syn, M_train) == pytest.approx(rel.max())


def test_psd_sqrt():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(5, 3))
    C = A @ A.T  # rank 3
    R = psd_sqrt(C)
    np.testing.assert_allclose(R @ R, C, atol=1e-12)
    np.testing.assert_allclose(R, R.T)


@pytest.mark.parametrize("rank", [4, 2])
def test_psd_factor(rank):
    """Cholesky when positive definite, the symmetric root when singular."""
    A = np.random.default_rng(rank).normal(size=(4, rank))
    C = A @ A.T
    R = psd_factor(C)
    np.testing.assert_allclose(R.T @ R, C, atol=1e-12)
    if rank == 4:
        np.testing.assert_array_equal(R, np.triu(R))


@given(seed=st.integers(0, 2**16), q=st.integers(1, 6), fit_intercept=st.booleans())
def test_match_moments_exact_does_not_depend_on_factor(seed, q, fit_intercept):
    """The nearest set is the same whichever factor R of the covariance is used."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(200, q)) @ rng.normal(size=(q, q)) + rng.normal(size=q)
    Z0 = data[: min_rows_exact(q, fit_intercept) + 5]
    mean, cov = data.mean(0), np.cov(data.T, bias=True).reshape(q, q)
    cholesky = match_moments_exact(Z0, mean, cov, fit_intercept=fit_intercept)
    with mock.patch("skdistill._core.exact.psd_factor", psd_sqrt):
        symmetric = match_moments_exact(Z0, mean, cov, fit_intercept=fit_intercept)
    np.testing.assert_allclose(cholesky, symmetric, rtol=1e-7, atol=1e-7 * np.abs(data).max())


@given(
    seed=st.integers(0, 2**16),
    q=st.integers(1, 8),
    extra=st.integers(0, 20),
    fit_intercept=st.booleans(),
    loc=st.sampled_from([0.0, 10.0, -1e3]),
)
def test_match_moments_exact_property(seed, q, extra, fit_intercept, loc):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(300, q)) @ rng.normal(size=(q, q)) * rng.uniform(0.1, 100, q) + loc
    m = min_rows_exact(q, fit_intercept) + extra
    Z0 = data[rng.choice(300, m, replace=False)]
    mean, cov = data.mean(0), np.cov(data.T, bias=True).reshape(q, q)
    Z = match_moments_exact(Z0, mean, cov, fit_intercept=fit_intercept, random_state=seed)
    target = second_moment_matrix(mean, cov, fit_intercept)
    got = second_moment_matrix(Z.mean(0), np.cov(Z.T, bias=True).reshape(q, q), fit_intercept)
    assert np.linalg.norm(got - target, 2) <= 1e-9 * np.linalg.norm(target, 2)


def test_match_moments_exact_rank_deficient_start():
    """A binary feature constant in the subset: the polar factor is completed."""
    rng = np.random.default_rng(8)
    n = 500
    data = np.column_stack([rng.normal(size=n), (rng.uniform(size=n) < 0.1).astype(float), rng.normal(size=n)])
    Z0 = data[data[:, 1] == 0][:8]
    assert np.ptp(Z0[:, 1]) == 0
    Z = match_moments_exact(Z0, data.mean(0), np.cov(data.T, bias=True), random_state=0)
    np.testing.assert_allclose(Z.mean(0), data.mean(0), atol=1e-12)
    np.testing.assert_allclose(np.cov(Z.T, bias=True), np.cov(data.T, bias=True), atol=1e-12)


def test_match_moments_exact_is_nearest_for_matching_start():
    """A start set that already has the target moments is returned unchanged."""
    rng = np.random.default_rng(9)
    Z0 = rng.normal(size=(10, 3))
    Z = match_moments_exact(Z0, Z0.mean(0), np.cov(Z0.T, bias=True))
    np.testing.assert_allclose(Z, Z0, atol=1e-10)


def test_match_moments_exact_too_few_rows():
    with pytest.raises(ValueError, match="at least 4 rows"):
        match_moments_exact(np.zeros((3, 3)), np.zeros(3), np.eye(3))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_matching_gradient(fit_intercept):
    rng = np.random.default_rng(10)
    m, q = 7, 3
    p = q + fit_intercept
    V = rng.normal(size=(30, p))
    targets = rng.uniform(0.5, 2.0, size=30)
    z = rng.normal(size=m * q)

    def f(z):
        return loss_matching_objective(z, V, targets, (m, q), fit_intercept)[0]

    def g(z):
        return loss_matching_objective(z, V, targets, (m, q), fit_intercept)[1]

    assert check_grad(f, g, z) < 1e-6 * max(1.0, np.linalg.norm(g(z)))


def test_loss_matching_objective_naive():
    rng = np.random.default_rng(11)
    m, q = 5, 2
    V = rng.normal(size=(9, q + 1))
    targets = rng.uniform(size=9)
    Z = rng.normal(size=(m, q))
    Zh = np.hstack([Z, np.ones((m, 1))])
    naive = np.mean([(np.mean((Zh @ v) ** 2) - t) ** 2 for v, t in zip(V, targets)])
    f, _ = loss_matching_objective(Z.ravel(), V, targets, (m, q), True)
    assert f == pytest.approx(naive, rel=1e-12)


def test_sampling_depends_on_seed_only():
    a = sample_gaussian_models(1000, 7, seed_sequence(3), n_jobs=1)
    b = sample_gaussian_models(1000, 7, seed_sequence(3), n_jobs=2)
    c = sample_gaussian_models(1000, 7, seed_sequence(4), n_jobs=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (1000, 7)
    assert np.var(a) == pytest.approx(1 / 7, rel=0.1)


def test_auto_n_models_above_lower_bound():
    for p in (2, 5, 12, 102):
        assert auto_n_models(p) >= p * (p + 1)  # at least twice p(p+1)/2


def test_thread_map_nested_call_does_not_wait_for_a_busy_pool():
    """An item that itself maps over threads finds the pool busy and does the work alone."""

    def outer(i):
        time.sleep(0.005)
        return thread_map(lambda j: (time.sleep(0.002), i * j)[1], range(4), 2)

    with mock.patch("skdistill._core.threads._pool", None):  # a pool of one helper thread
        assert thread_map(outer, range(3), 2) == [[i * j for j in range(4)] for i in range(3)]
