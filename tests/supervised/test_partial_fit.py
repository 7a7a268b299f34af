"""partial_fit: chunks of any size and order give the synthetic set of one fit."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.utils.validation import check_is_fitted

from skdistill import LossMatchingDistiller
from skdistill._core.moments import compute_moments


def _data(seed=0, n=2000, d=4, t=1, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d))) + loc
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t)) + loc
    return X, (Y.ravel() if t == 1 else Y)


def _splits(n, cuts):
    edges = [0, *sorted(set(c for c in cuts if 0 < c < n)), n]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _stream(distiller, X, y, slices, sample_weight=None):
    for sl in slices:
        w = None if sample_weight is None else sample_weight[sl]
        distiller.partial_fit(X[sl], y[sl], sample_weight=w)
    return distiller


def _assert_same_ols(X_a, y_a, X_b, y_b, rtol=1e-8, **fit_b):
    a = LinearRegression().fit(X_a, y_a)
    b = LinearRegression().fit(X_b, y_b, **fit_b)
    scale = np.abs(a.coef_).max()
    np.testing.assert_allclose(b.coef_ / scale, a.coef_ / scale, atol=rtol)
    np.testing.assert_allclose(b.intercept_, a.intercept_, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("solver", ["exact", "lbfgs"])
def test_partial_fit_in_order_equals_fit(solver):
    X, y = _data(n=3000, d=3)
    params = dict(n_synthetic=12, solver=solver, random_state=3, max_iter=300)
    fitted = LossMatchingDistiller(**params).fit(X, y)
    streamed = _stream(LossMatchingDistiller(**params), X, y, _splits(3000, [1, 700, 701, 2500]))
    assert streamed.n_samples_seen_ == fitted.n_samples_seen_ == 3000
    # Same reservoir, same seeds: the same synthetic set up to the rounding of the moments.
    np.testing.assert_allclose(streamed.X_synthetic_, fitted.X_synthetic_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(streamed.y_synthetic_, fitted.y_synthetic_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(streamed.sample_weight_, fitted.sample_weight_)
    if solver == "exact":
        assert streamed.loss_gap_ < 1e-12
        _assert_same_ols(X, y, streamed.X_synthetic_, streamed.y_synthetic_)


@given(
    seed=st.integers(0, 1000),
    cuts=st.lists(st.integers(1, 1199), min_size=1, max_size=10),
    order_seed=st.integers(0, 1000),
    t=st.integers(1, 2),
)
def test_chunk_sizes_and_order_do_not_matter(seed, cuts, order_seed, t):
    X, y = _data(seed, n=1200, d=3, t=t, loc=50.0)
    slices = _splits(1200, cuts)
    np.random.default_rng(order_seed).shuffle(slices)
    distiller = _stream(LossMatchingDistiller(n_synthetic=10, random_state=seed), X, y, slices)
    full = compute_moments(X, y.reshape(1200, -1))
    moments = distiller._stream.moments
    assert moments.weight_sum == 1200 == distiller.n_samples_seen_
    scale = np.abs(full.mean).max()
    np.testing.assert_allclose(moments.mean, full.mean, rtol=1e-13, atol=1e-14 * scale)
    scale = np.abs(full.comoment).max()
    np.testing.assert_allclose(moments.comoment, full.comoment, rtol=1e-12, atol=1e-13 * scale)
    assert distiller.loss_gap_ < 1e-10  # multiplicative: rounding relative to every direction
    _assert_same_ols(X, y, distiller.X_synthetic_, distiller.y_synthetic_)


def test_sample_weight_streamed_equals_weighted_fit():
    X, y = _data(1, n=2000)
    rng = np.random.default_rng(1)
    w = rng.exponential(size=2000) * (rng.random(2000) > 0.2)
    slices = _splits(2000, [10, 999, 1500])
    fitted = LossMatchingDistiller(n_synthetic=15, random_state=0).fit(X, y, sample_weight=w)
    streamed = _stream(LossMatchingDistiller(n_synthetic=15, random_state=0), X, y, slices, w)
    np.testing.assert_allclose(streamed.X_synthetic_, fitted.X_synthetic_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(streamed.sample_weight_, np.full(15, w.sum() / 15))
    # The start rows are real rows of positive weight.
    reservoir = streamed._stream.reservoir
    assert np.all(w[reservoir.index] > 0)
    _assert_same_ols(
        streamed.X_synthetic_, streamed.y_synthetic_, X, y, sample_weight=w
    )


def test_sparse_chunks_equal_dense_chunks():
    X, y = _data(2, n=600)
    X[np.abs(X) < 1] = 0.0
    slices = _splits(600, [200, 450])
    dense = _stream(LossMatchingDistiller(n_synthetic=8, random_state=0), X, y, slices)
    Xs = sparse.csr_matrix(X)
    sparse_ = _stream(LossMatchingDistiller(n_synthetic=8, random_state=0), Xs, y, slices)
    np.testing.assert_allclose(sparse_.X_synthetic_, dense.X_synthetic_, rtol=1e-8, atol=1e-8)


def test_large_means_are_as_precise_as_one_fit():
    # y ~ 1e6 + N(0, 1): raw sums of squares lose about 12 of 16 digits of the variance.
    rng = np.random.default_rng(0)
    n = 100_000
    X = rng.normal(size=(n, 2)) + [3e5, -2.0]
    y = 1e6 + X[:, 1] + rng.normal(size=n)
    Z = np.column_stack([X, y]).astype(np.longdouble)
    mean = Z.mean(axis=0)
    cov_ref = ((Z - mean).T @ (Z - mean) / n).astype(np.float64)
    mean = mean.astype(np.float64)

    fitted = LossMatchingDistiller(n_synthetic=10, random_state=0).fit(X, y)
    streamed = _stream(
        LossMatchingDistiller(n_synthetic=10, random_state=0), X, y, _splits(n, range(997, n, 997))
    )

    def error(distiller):
        m = distiller._stream.moments
        return max(
            np.abs(m.covariance - cov_ref).max() / np.abs(cov_ref).max(),
            np.abs(m.mean - mean).max() / np.abs(mean).max(),
        )

    raw = np.column_stack([X, y])
    naive_cov = raw.T @ raw / n - np.outer(raw.mean(0), raw.mean(0))
    assert np.abs(naive_cov - cov_ref).max() / np.abs(cov_ref).max() > 1e-6  # the trap
    assert error(streamed) < 1e-12
    assert error(streamed) <= 10 * error(fitted) + 1e-14
    # The synthetic set carries the variance of y, not just its mean.
    syn = np.column_stack([streamed.X_synthetic_, streamed.y_synthetic_])
    np.testing.assert_allclose(np.cov(syn.T, bias=True), cov_ref, rtol=1e-9, atol=1e-9)
    # Rows stored around 1e6 carry about 1e-10 of rounding per unit of spread.
    assert streamed.loss_gap_ < 1e-9
    assert streamed.loss_gap_ <= 10 * fitted.loss_gap_


def test_partial_fit_after_fit_continues_and_fit_resets():
    X, y = _data(3, n=1500)
    whole = LossMatchingDistiller(n_synthetic=10, random_state=1).fit(X, y)
    continued = LossMatchingDistiller(n_synthetic=10, random_state=1).fit(X[:400], y[:400])
    continued.partial_fit(X[400:], y[400:])
    assert continued.n_samples_seen_ == 1500
    np.testing.assert_allclose(continued.X_synthetic_, whole.X_synthetic_, rtol=1e-8, atol=1e-8)

    restarted = _stream(
        LossMatchingDistiller(n_synthetic=10, random_state=1), X, y, _splits(1500, [700])
    )
    restarted.fit(X[:400], y[:400])
    fresh = LossMatchingDistiller(n_synthetic=10, random_state=1).fit(X[:400], y[:400])
    assert restarted.n_samples_seen_ == 400
    np.testing.assert_array_equal(restarted.X_synthetic_, fresh.X_synthetic_)


def test_not_fitted_until_n_synthetic_rows_seen():
    X, y = _data(4, n=300)
    distiller = LossMatchingDistiller(n_synthetic=20, random_state=0)
    distiller.partial_fit(X[:5], y[:5])
    distiller.partial_fit(X[5:12], y[5:12], sample_weight=np.r_[np.ones(3), np.zeros(4)])
    assert distiller.n_samples_seen_ == 12
    with pytest.raises(NotFittedError):
        check_is_fitted(distiller)
    distiller.partial_fit(X[12:], y[12:])
    check_is_fitted(distiller)
    assert distiller.X_synthetic_.shape == (20, 4)
    assert distiller.loss_gap_ < 1e-10


def test_fit_with_too_few_positive_weights_raises():
    X, y = _data(4, n=100)
    w = np.zeros(100)
    w[:5] = 1.0
    with pytest.raises(ValueError, match="positive sample_weight"):
        LossMatchingDistiller(n_synthetic=10).fit(X, y, sample_weight=w)


def test_dtype_shape_and_names_are_kept_across_chunks():
    X, Y = _data(5, n=800, t=2)
    frame = pd.DataFrame(X.astype(np.float32), columns=list("abcd"))
    distiller = LossMatchingDistiller(n_synthetic=9, random_state=0)
    for sl in _splits(800, [300]):
        distiller.partial_fit(frame.iloc[sl], Y[sl])
    assert distiller.X_synthetic_.dtype == np.float32
    assert distiller.y_synthetic_.shape == (9, 2)
    assert list(distiller.feature_names_in_) == list("abcd")
    with pytest.raises(ValueError, match="feature names"):
        distiller.partial_fit(frame.iloc[:50, ::-1], Y[:50])


def test_inconsistent_chunks_raise_and_leave_state_alone():
    X, y = _data(6, n=600)
    distiller = LossMatchingDistiller(n_synthetic=10, random_state=0).partial_fit(X, y)
    before = pickle.dumps(distiller._stream)
    with pytest.raises(ValueError, match="features"):
        distiller.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="target"):
        distiller.partial_fit(X, np.column_stack([y, y]))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        distiller.partial_fit(bad, y)
    with pytest.raises(ValueError, match="sample_weight"):
        distiller.partial_fit(X, y, sample_weight=-np.ones(600))
    distiller.set_params(n_synthetic=11)
    with pytest.raises(ValueError, match="n_synthetic was 10"):
        distiller.partial_fit(X, y)
    assert pickle.dumps(distiller._stream) == before
    assert distiller.n_samples_seen_ == 600


def test_memory_does_not_grow_with_rows():
    rng = np.random.default_rng(0)
    distiller = LossMatchingDistiller(n_synthetic=10, random_state=0)
    sizes = []
    for i in range(40):
        X = rng.normal(size=(500, 6))
        distiller.partial_fit(X, X.sum(axis=1))
        if i in (4, 39):
            sizes.append(len(pickle.dumps(distiller._stream)))
    q, m = 7, 10
    assert sizes[1] == sizes[0]
    assert sizes[1] < 8 * (2 * q * q + 3 * m * q) + 2000


def test_reproducible_and_independent_of_n_jobs():
    X, y = _data(7, n=3000)
    slices = _splits(3000, [1000, 2000])
    runs = [
        _stream(LossMatchingDistiller(n_synthetic=10, random_state=5, n_jobs=j, chunk_size=250),
                X, y, slices)
        for j in (1, 2, 1)
    ]
    for run in runs[1:]:
        np.testing.assert_array_equal(run.X_synthetic_, runs[0].X_synthetic_)
    other = _stream(LossMatchingDistiller(n_synthetic=10, random_state=6), X, y, slices)
    assert not np.array_equal(other._stream.reservoir.index, runs[0]._stream.reservoir.index)


def test_non_finite_chunks_are_named_from_the_moments():
    X, y = _data(10, n=300)
    distiller = LossMatchingDistiller(n_synthetic=10, random_state=0).partial_fit(X, y)
    before = pickle.dumps(distiller._stream)
    bad_y = y.copy()
    bad_y[5] = -np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        distiller.partial_fit(X, bad_y)
    w = np.ones(300)
    w[7] = np.nan
    with pytest.raises(ValueError, match="Input sample_weight contains NaN"):
        distiller.partial_fit(X, y, sample_weight=w)
    huge = X.copy()
    huge[0, 0] = 1e200
    with pytest.raises(ValueError, match="overflow"):
        distiller.partial_fit(huge, y)
    bad_X = sparse.csr_matrix(X)
    bad_X.data[3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        distiller.partial_fit(bad_X, y)
    assert pickle.dumps(distiller._stream) == before


def test_chunk_of_zero_weights_is_valid():
    # scikit-learn 1.9's _check_sample_weight refuses weights that are all zero.
    X, y = _data(11, n=400)
    w = np.r_[np.zeros(100), np.random.default_rng(11).uniform(0.5, 2.0, 300)]
    streamed = _stream(
        LossMatchingDistiller(n_synthetic=10, random_state=0), X, y, _splits(400, [100]), w
    )
    fitted = LossMatchingDistiller(n_synthetic=10, random_state=0).fit(X, y, sample_weight=w)
    assert streamed.n_samples_seen_ == 400
    np.testing.assert_allclose(streamed.X_synthetic_, fitted.X_synthetic_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(streamed.sample_weight_.sum(), w.sum(), rtol=1e-12)


def test_fit_with_all_zero_weights_raises():
    X, y = _data(12, n=50)
    with pytest.raises(ValueError, match="sample_weight is zero for every row"):
        LossMatchingDistiller(n_synthetic=5).fit(X, y, sample_weight=np.zeros(50))


def test_not_fitted_message_counts_the_missing_rows():
    X, y = _data(13, n=40)
    distiller = LossMatchingDistiller(n_synthetic=20, random_state=0)
    distiller.partial_fit(X[:10], y[:10], sample_weight=np.r_[np.ones(7), np.zeros(3)])
    distiller.partial_fit(X[10:15], y[10:15], sample_weight=np.zeros(5))
    message = (
        "it has seen 7 row(s) of positive sample_weight and needs n_synthetic=20, 13 more"
    )
    with pytest.raises(NotFittedError, match=re.escape(message)):
        distiller.get_synthetic()
    with pytest.raises(NotFittedError, match="is not fitted yet. Call 'fit'"):
        LossMatchingDistiller(n_synthetic=20).get_synthetic()  # no stream: scikit-learn's
    distiller.partial_fit(X[15:], y[15:])
    assert distiller.get_synthetic()[0].shape == (20, 4)
