"""Leverage scores and the leverage-score sampler, against the hat matrix and by simulation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from skdistill import DistilledRegressor
from skdistill.baselines import LeverageScoreSampler, leverage_scores


def _naive_leverage(X, fit_intercept=True, sample_weight=None):
    """Diagonal of the hat matrix of W^{1/2} A, from its definition."""
    A = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    B = np.sqrt(w)[:, None] * A
    H = B @ np.linalg.pinv(B.T @ B) @ B.T
    return np.diag(H)


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(5, 60),
    d=st.integers(1, 5),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    loc=st.sampled_from([0.0, 3.0, -50.0]),
)
def test_leverage_scores_equal_hat_matrix_diagonal(seed, n, d, fit_intercept, weighted, loc):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d) + loc
    w = rng.uniform(0.1, 3.0, size=n) if weighted else None
    h = leverage_scores(X, fit_intercept=fit_intercept, sample_weight=w)
    np.testing.assert_allclose(h, _naive_leverage(X, fit_intercept, w), atol=1e-8)
    rank = np.linalg.matrix_rank(np.hstack([X, np.ones((n, 1))]) if fit_intercept else X)
    assert h.sum() == pytest.approx(rank, abs=1e-8)
    assert np.all(h <= 1 + 1e-10)


def test_leverage_scores_rank_deficient_and_constant_columns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    X = np.hstack([X, X[:, :1] * 2 - X[:, 1:2], np.full((40, 1), 7.0)])  # collinear + constant
    h = leverage_scores(X)
    np.testing.assert_allclose(h, _naive_leverage(X), atol=1e-8)
    assert h.sum() == pytest.approx(4.0)  # 3 independent columns + intercept


def test_leverage_scores_sparse_chunked_and_scale_invariant():
    X = sparse.random(300, 6, density=0.3, random_state=2, format="csr")
    dense = X.toarray()
    expected = _naive_leverage(dense)
    np.testing.assert_allclose(leverage_scores(X, chunk_size=37), expected, atol=1e-10)
    np.testing.assert_allclose(leverage_scores(dense, chunk_size=37), expected, atol=1e-10)
    scaled = dense * np.array([1e-6, 1.0, 1e6, 3.0, 1e-3, 1e4])
    np.testing.assert_allclose(leverage_scores(scaled), expected, atol=1e-8)


def test_outlier_row_has_leverage_near_one():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2))
    X[17] = [80.0, -60.0]
    h = leverage_scores(X)
    assert h.argmax() == 17 and h[17] > 0.95
    assert np.median(h) < 3 * 3 / 200


def test_sampler_weights_are_inverse_probabilities():
    X, y = load_diabetes(return_X_y=True)
    m = 60
    sampler = LeverageScoreSampler(m, uniform_fraction=0.25, random_state=0)
    X_s, y_s = sampler.fit_resample(X, y)
    idx = sampler.sample_indices_
    np.testing.assert_array_equal(X_s, X[idx])
    np.testing.assert_array_equal(y_s, y[idx])
    h = sampler.leverage_scores_
    np.testing.assert_allclose(h, _naive_leverage(X), atol=1e-10)
    p = 0.75 * h / h.sum() + 0.25 / len(y)
    np.testing.assert_allclose(sampler.sample_weight_, 1.0 / (m * p[idx]))


def test_sampler_is_unbiased_for_the_gram_matrix():
    # E[sum_j weight_j a_j a_j^T] = A^T A: average many independent samples.
    rng = np.random.default_rng(4)
    X = rng.standard_t(df=3, size=(300, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.normal(size=300)
    A = np.hstack([X, np.ones((300, 1))])
    total = np.zeros((4, 4))
    n_rep = 400
    for seed in range(n_rep):
        sampler = LeverageScoreSampler(40, random_state=seed).fit(X, y)
        B = np.hstack([sampler.X_synthetic_, np.ones((40, 1))])
        total += (B * sampler.sample_weight_[:, None]).T @ B
    gram = A.T @ A
    err = np.abs(total / n_rep - gram) / np.sqrt(np.outer(np.diag(gram), np.diag(gram)))
    assert err.max() < 0.05


def test_weighted_ols_on_leverage_sample_approaches_full_data():
    rng = np.random.default_rng(5)
    X = rng.standard_t(df=2, size=(5000, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 2.0 + rng.normal(size=5000)
    full = LinearRegression().fit(X, y)
    sampler = LeverageScoreSampler(2000, random_state=0)
    X_s, y_s = sampler.fit_resample(X, y)
    small = LinearRegression().fit(X_s, y_s, sample_weight=sampler.sample_weight_)
    np.testing.assert_allclose(small.coef_, full.coef_, atol=0.1)


def test_uniform_fraction_one_is_uniform_sampling():
    X, y = load_diabetes(return_X_y=True)
    sampler = LeverageScoreSampler(30, uniform_fraction=1.0, random_state=0).fit(X, y)
    np.testing.assert_allclose(sampler.sample_weight_, len(y) / 30)


def test_zero_weight_rows_are_never_drawn_and_weights_enter():
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(100, 2)), rng.normal(size=100)
    w = np.where(np.arange(100) < 50, 0.0, 2.0)
    sampler = LeverageScoreSampler(80, uniform_fraction=0.5, random_state=0)
    sampler.fit(X, y, sample_weight=w)
    assert sampler.sample_indices_.min() >= 50
    np.testing.assert_allclose(
        sampler.leverage_scores_, _naive_leverage(X, sample_weight=w), atol=1e-10
    )
    assert sampler.sample_weight_.sum() == pytest.approx(w.sum(), rel=0.5)


def test_deterministic_and_pandas_container():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    a = LeverageScoreSampler(25, random_state=3).fit_resample(X, y)
    b = LeverageScoreSampler(25, random_state=3).fit_resample(X, y)
    assert isinstance(a[0], pd.DataFrame) and isinstance(a[1], pd.Series)
    assert list(a[0].columns) == list(X.columns)
    pd.testing.assert_frame_equal(a[0], b[0])
    c = LeverageScoreSampler(25, random_state=4).fit_resample(X, y)
    assert not a[0].equals(c[0])


def test_works_as_the_distiller_of_distilled_regressor():
    X, y = load_diabetes(return_X_y=True)
    model = DistilledRegressor(LinearRegression(), LeverageScoreSampler(200, random_state=0))
    model.fit(X, y)
    assert model.distiller_.X_synthetic_.shape == (200, 10)
    assert model.score(X, y) > 0.3


@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        ({"n_synthetic": 500}, {}, "exceeds the number of samples"),
        ({"uniform_fraction": 1.5}, {}, "uniform_fraction"),
        ({"n_synthetic": 0}, {}, "n_synthetic"),
        ({}, {"sample_weight": -np.ones(442)}, "(?i)negative"),
    ],
)
def test_bad_input(params, fit_kwargs, match):
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        LeverageScoreSampler(**params).fit(X, y, **fit_kwargs)


def test_all_zero_design_without_intercept():
    with pytest.raises(ValueError, match="leverage 0"):
        LeverageScoreSampler(2, fit_intercept=False).fit(np.zeros((5, 2)), np.ones(5))
