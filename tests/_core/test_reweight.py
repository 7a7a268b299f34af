"""Calibration weights: exact moments on real rows, non-negative, closest to the base weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from skdistill._core.moments import moments_of_rows
from skdistill._core.reweight import (
    MET_TOL,
    calibrate,
    constraint_system,
    n_constraints,
    reweight_shortfall_message,
)


def _naive(Z, u, moments):
    """Deville and Sarndal's closed form in raw coordinates, by numpy.linalg.lstsq."""
    H = np.column_stack([Z, np.ones(len(Z))])
    i, j = np.triu_indices(H.shape[1])
    Phi = H[:, i] * H[:, j]
    M = moments.second_moment(fit_intercept=True)
    target = moments.weight_sum * M[i, j]
    lam = np.linalg.lstsq((Phi.T * u) @ Phi, target - Phi.T @ u, rcond=None)[0]
    return u * (1.0 + Phi @ lam)


def test_n_constraints():
    assert n_constraints(3) == 10  # p = 4
    assert n_constraints(3, fit_intercept=False) == 7  # 6 second moments and the sum


def test_closed_form_equals_naive_reference(check_moments):
    Z = np.random.default_rng(0).normal(size=(3000, 3))  # well scaled for the naive form
    moments = moments_of_rows(Z)
    idx = np.random.default_rng(1).choice(3000, 300, replace=False)
    u = np.full(300, 3000 / 300)
    reference = _naive(Z[idx], u, moments)
    assert reference.min() > 0  # the case where the closed form is the answer
    result = calibrate(Z[idx], u, moments)
    assert result.met and result.residual <= MET_TOL
    check_moments(Z[idx], reference, moments)
    np.testing.assert_allclose(result.weights, reference, rtol=1e-8)
    check_moments(Z[idx], result.weights, moments)


@settings(max_examples=15, deadline=None)
@given(q=st.integers(1, 4), seed=st.integers(0, 2**16), factor=st.integers(4, 8))
def test_enough_random_rows_calibrate_exactly(q, seed, factor, gaussian_rows, check_moments):
    m = factor * n_constraints(q) + 50  # enough rows to reach every tail
    Z = gaussian_rows(20 * m, q, seed)
    moments = moments_of_rows(Z)
    idx = np.random.default_rng(seed + 1).choice(len(Z), m, replace=False)
    result = calibrate(Z[idx], np.full(m, len(Z) / m), moments)
    assert result.met
    assert result.weights.min() >= 0
    check_moments(Z[idx], result.weights, moments)


def test_truncated_weights_when_the_closed_form_is_negative(check_moments):
    Z = np.random.default_rng(0).standard_t(3, size=(4000, 2))  # heavy tails
    moments = moments_of_rows(Z)
    idx = np.random.default_rng(3).choice(4000, 40, replace=False)
    u = np.full(40, 100.0)
    assert _naive(Z[idx], u, moments).min() < 0
    result = calibrate(Z[idx], u, moments)
    assert result.met and result.weights.min() == 0
    check_moments(Z[idx], result.weights, moments)
    # As close to u as any other feasible non-negative weights (here: an LP vertex).
    A, b = constraint_system(Z[idx], moments)
    vertex = optimize.linprog(np.zeros(40), A_eq=A, b_eq=b, bounds=(0, None)).x * 4000
    chi2 = np.sum((result.weights - u) ** 2 / u)
    assert chi2 <= np.sum((vertex - u) ** 2 / u) + 1e-9


def test_too_few_rows_give_the_closest_non_negative_weights(gaussian_rows):
    Z = gaussian_rows(2000, 4, 3)
    moments = moments_of_rows(Z)
    m = n_constraints(4) - 3
    idx = np.arange(m)
    u = np.full(m, 2000 / m)
    result = calibrate(Z[idx], u, moments)
    assert not result.met and result.weights.min() >= 0
    A, b = constraint_system(Z[idx], moments)
    uniform = np.linalg.norm(A @ (u / 2000) - b) / np.linalg.norm(b)
    assert 0 < result.residual < uniform


def test_without_intercept_matches_second_moment_and_weight_sum(gaussian_rows):
    Z = gaussian_rows(3000, 3, 4)
    moments = moments_of_rows(Z)
    idx = np.random.default_rng(5).choice(3000, 300, replace=False)
    result = calibrate(Z[idx], np.full(300, 10.0), moments, fit_intercept=False)
    assert result.met and result.weights.min() >= 0
    w = result.weights
    np.testing.assert_allclose(w.sum(), 3000, rtol=1e-10)
    np.testing.assert_allclose(
        (Z[idx].T * w) @ Z[idx], moments.weight_sum * moments.second_moment(False), rtol=1e-8
    )


def test_base_weights_must_be_positive(gaussian_rows):
    Z = gaussian_rows(100, 2, 0)
    with pytest.raises(ValueError, match="positive"):
        calibrate(Z[:20], np.zeros(20), moments_of_rows(Z))


def test_random_rows_missing_a_rare_value_cannot_be_exact(one_hot_rows):
    Z = one_hot_rows(6000, 2, p=(0.6, 0.3, 0.099, 0.001))
    moments = moments_of_rows(Z)
    idx = np.flatnonzero(Z[:, 4] == 0)[:200]  # the rarest level absent
    result = calibrate(Z[idx], np.full(200, 30.0), moments)
    assert not result.met and result.weights.min() >= 0


def test_shortfall_message_names_the_size_needed():
    few = reweight_shortfall_message(20, 28, 0.3)
    assert "n_synthetic >= 28" in few and "20 rows cannot meet the 28" in few
    assert "1 +- 0.3" in few
    enough = reweight_shortfall_message(60, 28, 0.01, rank=25)
    assert "rare categories" in enough and "span 25" in enough
