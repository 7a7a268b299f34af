"""The linear family's solvers: whitened L-BFGS against the paper's standardised sampling."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from skdistill import LossMatchingDistiller
from skdistill._core.certificate import model_losses
from skdistill._core.moments import moments_of_rows
from skdistill._core.random_models import sample_gaussian_models
from skdistill.supervised._family import SolverOptions
from skdistill.supervised._linear import LinearFamily, solve_lbfgs


def _ill_conditioned(seed=0, n=3000):
    """Nearly collinear columns and a one-hot block (first level dropped) with a rare level."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) * [1.0, 50.0]
    near = x[:, :1] + 1e-2 * rng.normal(size=(n, 1))
    level = rng.choice(3, size=n, p=[0.7, 0.29, 0.01])
    X = np.hstack([x, near, np.eye(3)[level][:, 1:]])
    y = X @ [1.0, 0.02, -1.0, 0.5, 3.0] + 0.1 * rng.normal(size=n)
    return X, y


def _fit(X, y, m, seed, **params):
    distiller = LossMatchingDistiller(m, solver="lbfgs", random_state=seed, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X_syn, y_syn = distiller.fit_resample(X, y)
    return LinearRegression().fit(X_syn, y_syn), distiller, caught


@pytest.mark.parametrize("seed", range(4))
def test_whitened_lbfgs_matches_ols_exactly(seed):
    X, y = _ill_conditioned()
    full = LinearRegression().fit(X, y)
    small, distiller, caught = _fit(X, y, 12, seed)
    np.testing.assert_allclose(small.coef_, full.coef_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(small.intercept_, full.intercept_, rtol=1e-6, atol=1e-6)
    assert not caught and distiller.n_iter_ > 0


def test_standardised_sampling_stalls_where_whitened_does_not():
    X, y = _ill_conditioned()
    full = LinearRegression().fit(X, y)
    errors = []
    for seed in range(4):
        small, _, _ = _fit(X, y, 12, seed, sampling="standardised")
        errors.append(np.abs(small.coef_ - full.coef_).max())
    assert max(errors) > 1e-3


def test_whitened_lbfgs_keeps_full_one_hot_in_the_hull():
    rng = np.random.default_rng(5)
    level = rng.choice(4, size=2000, p=[0.5, 0.3, 0.185, 0.015])
    X = np.hstack([rng.normal(size=(2000, 2)), np.eye(4)[level]])
    y = X[:, 0] - 2.0 * X[:, 1] + level**2 + rng.normal(size=2000)
    full = LinearRegression().fit(X, y)
    for seed in range(3):
        small, distiller, caught = _fit(X, y, 10, seed)
        np.testing.assert_allclose(distiller.X_synthetic_[:, 2:].sum(axis=1), 1.0, atol=1e-10)
        np.testing.assert_allclose(small.predict(X), full.predict(X), atol=1e-6)
        assert not caught


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_whitened_regressors_are_returned_in_standardised_coordinates(fit_intercept):
    X, y = _ill_conditioned(1, n=500)
    Z = np.column_stack([X, y])
    family = LinearFamily(moments_of_rows(Z), fit_intercept)
    M_train = family.M_train.copy()
    model_seed, start_seed = np.random.SeedSequence(0).spawn(2)
    options = SolverOptions(60, "whitened", 300, 0.0, None, 0)
    solution = solve_lbfgs(family, Z[:10], model_seed, [start_seed], options)
    np.testing.assert_array_equal(family.M_train, M_train)
    assert solution.regressors.shape == (60, family.n_dims) and solution.n_iter > 0
    # The models sampled in whitened coordinates, v ~ N(0, I / p): same training losses.
    # (A SeedSequence spawns new children each time: rebuild it to draw the same models.)
    p = family.whitener.rank + fit_intercept
    V = sample_gaussian_models(60, p, np.random.SeedSequence(0).spawn(2)[0])
    np.testing.assert_allclose(
        model_losses(solution.regressors, family.M_train), (V**2).sum(axis=1), rtol=1e-8
    )
    np.testing.assert_allclose(
        model_losses(solution.regressors, family.second_moment(solution.Z)),
        (V**2).sum(axis=1),
        rtol=1e-6,
    )


def test_standardised_sampling_samples_in_standardised_coordinates():
    X, y = _ill_conditioned(2, n=300)
    Z = np.column_stack([X, y])
    family = LinearFamily(moments_of_rows(Z), True)
    model_seed, start_seed = np.random.SeedSequence(1).spawn(2)
    options = SolverOptions(50, "standardised", 5, 0.0, None, 0)
    solution = solve_lbfgs(family, Z[:10], model_seed, [start_seed], options)
    np.testing.assert_array_equal(
        solution.regressors,
        sample_gaussian_models(50, family.n_dims, np.random.SeedSequence(1).spawn(2)[0]),
    )
    assert solution.n_iter <= 5
