"""Candidate rows for calibration: rare values present, exchanges reaching exact weights."""

import numpy as np

from skdistill._core.candidates import exchange_candidates, stratified_candidates
from skdistill._core.moments import moments_of_rows
from skdistill._core.reweight import n_constraints


def test_stratified_candidates_cover_every_rare_value_and_pair(one_hot_rows):
    Z = one_hot_rows(5000, 0)
    index, base = stratified_candidates(Z, 120, np.random.default_rng(0))
    assert index.size == 120 and np.unique(index).size == 120
    np.testing.assert_allclose(base.sum(), 5000)
    assert base.min() > 0
    binary = Z[:, 2:7]
    pool, chosen = binary.T @ binary, binary[index].T @ binary[index]
    assert np.all(chosen[pool > 0] > 0)  # every value and co-occurring pair present


def test_stratified_candidates_without_two_valued_columns_are_a_random_subset(gaussian_rows):
    Z = gaussian_rows(500, 3, 6)
    index, base = stratified_candidates(Z, 50, np.random.default_rng(0))
    assert np.unique(index).size == 50
    np.testing.assert_allclose(base, 10.0)


def test_exchange_reaches_an_exact_calibration_on_one_hot_rows(one_hot_rows, check_moments):
    Z = one_hot_rows(6000, 1, p=(0.6, 0.3, 0.095, 0.005))
    moments = moments_of_rows(Z)
    m = 2 * n_constraints(Z.shape[1])
    index, base = stratified_candidates(Z, m, np.random.default_rng(1))
    index, base, result = exchange_candidates(Z, index, base, moments)
    assert result.met and np.unique(index).size == m
    check_moments(Z[index], result.weights, moments)
