"""Certificates: model losses from moments and the worst-case loss gap."""


import numpy as np
import pytest
from scipy import linalg

from skdistill._core.certificate import (
    heldout_loss_gap,
    model_losses,
    multiplicative_gap,
)
from skdistill._core.moments import moments_of_rows
from skdistill._core.random_models import sample_gaussian_models, seed_sequence
from skdistill._core.standardise import homogenise, standardiser


def _data(seed, n=200, d=4, t=1, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, d)) @ rng.normal(size=(d, d))
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t)) + loc
    return X, Y


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


def test_multiplicative_gap_is_worst_case_over_models():
    rng = np.random.default_rng(6)
    A, B = rng.normal(size=(2, 40, 4))
    M_train, M_syn = A.T @ A / 40, B.T @ B / 40
    gap = multiplicative_gap(M_syn, M_train)
    naive = np.abs(linalg.eigh(M_syn, M_train, eigvals_only=True) - 1).max()
    assert gap == pytest.approx(naive, rel=1e-10)
    V = rng.normal(size=(20000, 4))
    ratio = np.abs(model_losses(V, M_syn) / model_losses(V, M_train) - 1)
    assert ratio.max() <= gap * (1 + 1e-12)
    assert ratio.max() >= 0.9 * gap
    assert heldout_loss_gap(V, M_syn, M_train) == pytest.approx(ratio.max())


def test_multiplicative_gap_on_a_singular_training_moment():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(50, 3)) @ np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    M_train = A.T @ A / 50  # the model (1, 1, -1) has zero training loss
    B = A[rng.choice(50, 20, replace=False)]
    M_syn = B.T @ B / 20
    assert np.isfinite(multiplicative_gap(M_syn, M_train))  # same null space
    assert multiplicative_gap(M_train, M_train) < 1e-12
    leaking = M_syn + 1e-3 * np.outer([1.0, 1.0, -1.0], [1.0, 1.0, -1.0])
    assert multiplicative_gap(leaking, M_train) == np.inf
    assert multiplicative_gap(np.zeros((3, 3)), np.zeros((3, 3))) == 0.0


def test_certify_reports_the_linear_block_and_held_out_models():
    from skdistill._core.certificate import certify, relative_error

    rng = np.random.default_rng(3)
    A = rng.normal(size=(5, 5))
    M_train = A @ A.T + np.eye(5)
    M_syn = M_train.copy()
    M_syn[0, 0] += 0.5  # off in the first (feature) coordinate only
    V = rng.normal(size=(30, 5))
    full = certify(M_syn, M_train, V)
    block = certify(M_syn, M_train, V, slice(1, None))
    assert full.loss_gap == full.linear_loss_gap == multiplicative_gap(M_syn, M_train) > 0
    assert block.linear_loss_gap == 0.0 and block.loss_gap == full.loss_gap
    naive = max(abs(v @ (M_syn - M_train) @ v) / (v @ M_train @ v) for v in V)
    assert full.heldout_loss_gap == heldout_loss_gap(V, M_syn, M_train)
    np.testing.assert_allclose(full.heldout_loss_gap, naive, rtol=1e-12)
    assert relative_error(np.array([-2.0, 1.0]), np.array([4.0, 0.0])) > 1e300  # 1 / tiny
