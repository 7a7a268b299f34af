"""solver="reweight": real rows, non-negative weights, every linear model exact."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from skdistill import LossMatchingDistiller
from skdistill._core.moments import moments_of_rows
from skdistill._core.reweight import n_constraints
from skdistill.supervised._family import SolverOptions
from skdistill.supervised._linear import LinearFamily, solve_reweight

_OPTIONS = SolverOptions("auto", "whitened", 100, 0.0, None, 0)

def _data(n, n_features, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)) * rng.uniform(0.5, 5.0, size=n_features)
    X += rng.normal(size=n_features) * 3
    y = X @ rng.normal(size=n_features) + rng.normal(size=n) + 2.0
    return X, y


def _solve(X, y, m, seed, fit_intercept=True):
    Z = np.column_stack([X, y])
    family = LinearFamily(moments_of_rows(Z), fit_intercept)
    Z0 = Z[np.sort(np.random.default_rng(seed).choice(len(Z), m, replace=False))]
    return family, Z0, solve_reweight(family, Z0, None, (None,), _OPTIONS)


def _fits(X, y, w, fit_intercept):
    return [
        LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=w),
        Ridge(alpha=10.0, fit_intercept=fit_intercept).fit(X, y, sample_weight=w),
        Lasso(alpha=0.1, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000).fit(
            X, y, sample_weight=w
        ),
    ]


def _assert_same_fits(full, small):
    for a, b in zip(full, small):
        np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(b.intercept_, a.intercept_, rtol=1e-6, atol=1e-8)


def test_rows_are_the_start_rows_and_weights_are_non_negative():
    X, y = _data(2000, 3, 0)
    family, Z0, solution = _solve(X, y, 200, 0)
    np.testing.assert_array_equal(solution.Z, Z0)
    assert solution.sample_weight.shape == (200,)
    assert solution.sample_weight.min() >= 0
    assert solution.calibrated and family.exact_expected("reweight", solution, 200)


@settings(max_examples=10, deadline=None)
@given(
    n_features=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    fit_intercept=st.booleans(),
)
def test_ols_ridge_lasso_with_the_weights_equal_the_full_fit(n_features, seed, fit_intercept):
    X, y = _data(4000, n_features, seed)
    m = 4 * n_constraints(n_features + 1) + 100  # above the size limit
    _, Z0, solution = _solve(X, y, m, seed + 1, fit_intercept)
    assert solution.calibrated
    w = solution.sample_weight
    full = _fits(X, y, None, fit_intercept)
    small = _fits(Z0[:, :-1], Z0[:, -1], w, fit_intercept)
    _assert_same_fits(full, small)


def test_below_the_size_limit_the_weights_are_closest_and_flagged():
    X, y = _data(1000, 4, 1)
    family, Z0, solution = _solve(X, y, 10, 0)
    assert solution.calibrated is False
    assert not family.exact_expected("reweight", solution, 10)
    assert solution.sample_weight.min() >= 0
    message = family.shortfall_message(10, 0.5)
    assert f"n_synthetic >= {family.n_constraints()}" in message
    assert family.n_constraints() == 21  # p = 4 features + 1 target + 1 = 6


def test_moving_solvers_leave_the_weights_to_the_distiller():
    X, y = _data(500, 2, 2)
    Z = np.column_stack([X, y])
    family = LinearFamily(moments_of_rows(Z), True)
    rng_seed = np.random.SeedSequence(0)
    solution = family.solvers["exact"](family, Z[:20], None, (rng_seed,), _OPTIONS)
    assert solution.sample_weight is None and solution.calibrated is None


def _distil(X, y, m, **params):
    distiller = LossMatchingDistiller(m, solver="reweight", random_state=0, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X_syn, y_syn = distiller.fit_resample(X, y)
    return distiller, X_syn, y_syn, caught


def test_estimator_returns_input_rows_with_exact_weights():
    X, y = _data(3000, 3, 3)
    X = X.astype(np.float32)
    distiller, X_syn, y_syn, caught = _distil(X, y, 300)
    assert not caught
    rows = {tuple(r) for r in np.column_stack([X, y.astype(np.float32)])}
    assert all(tuple(r) in rows for r in np.column_stack([X_syn, y_syn.astype(np.float32)]))
    assert X_syn.dtype == np.float32
    w = distiller.sample_weight_
    assert w.min() >= 0 and np.isclose(w.sum(), 3000)
    assert distiller.loss_gap_ < 1e-6 and distiller.solver_ == "reweight"
    full = _fits(X.astype(np.float64), y, None, True)
    _assert_same_fits(full, _fits(X_syn.astype(np.float64), y_syn, w, True))


def test_estimator_warns_below_the_size_limit():
    X, y = _data(500, 4, 4)
    distiller, X_syn, _, caught = _distil(X, y, 8)
    messages = [str(w.message) for w in caught]
    assert any("n_synthetic >= 21" in text for text in messages), messages
    assert distiller.solver_ == "reweight" and distiller.loss_gap_ > 1e-3
    assert X_syn.shape == (8, 4)


def _one_hot(n, seed):
    """Two continuous columns, a categorical of five levels (one at 0.5%), y."""
    rng = np.random.default_rng(seed)
    level = rng.choice(5, size=n, p=[0.5, 0.3, 0.15, 0.045, 0.005])
    x = rng.normal(size=(n, 2))
    y = x @ [1.0, -2.0] + level + rng.normal(size=n)
    return np.column_stack([x, np.eye(5)[level][:, 1:]]), y


def test_rows_are_chosen_from_a_pool_so_that_rare_levels_make_weights_exact():
    X, y = _one_hot(8000, 0)
    m = 2 * n_constraints(X.shape[1] + 1)  # 36 constraints; the rare level has ~40 rows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        distiller = LossMatchingDistiller(m, solver="reweight", random_state=0)
        X_syn, y_syn = distiller.fit_resample(X, y)
    assert distiller.loss_gap_ < 1e-9 and X_syn.shape == (m, X.shape[1])
    rows = {tuple(r) for r in np.column_stack([X, y])}
    assert all(tuple(r) in rows for r in np.column_stack([X_syn, y_syn]))
    assert X_syn[:, -1].sum() > 0  # the 0.5% level is among the rows
    # the m-row reservoir alone (the start rows of the other solvers) misses it
    start = distiller._stream.start_rows()
    family = LinearFamily(moments_of_rows(np.column_stack([X, y])), True)
    assert not solve_reweight(family, start, None, (None,), _OPTIONS).calibrated


def test_partial_fit_chooses_the_same_rows_as_fit():
    X, y = _one_hot(6000, 1)
    fitted = LossMatchingDistiller(120, solver="reweight", random_state=3).fit(X, y)
    streamed = LossMatchingDistiller(120, solver="reweight", random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # early refreshes see too few rows
        for chunk in np.array_split(np.arange(6000), 4):
            streamed.partial_fit(X[chunk], y[chunk])
    assert fitted.loss_gap_ < 1e-9
    for got, want in zip(streamed.get_synthetic(), fitted.get_synthetic()):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
