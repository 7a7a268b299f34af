"""The closed-form moment match and the PSD factors it uses."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skdistill._core.exact import (
    match_moments_exact,
    min_rows_exact,
    psd_factor,
    psd_sqrt,
)
from skdistill._core.moments import second_moment_matrix


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
    data = np.column_stack(
        [rng.normal(size=n), (rng.uniform(size=n) < 0.1).astype(float), rng.normal(size=n)]
    )
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
