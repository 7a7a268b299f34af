"""kernel="rbf" over a stream of chunks: the feature map fixed at the first chunk."""

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_friedman1
from sklearn.exceptions import NotFittedError

from skdistill import LossMatchingDistiller
from skdistill._sources.features import feature_moments

PARAMS = dict(kernel="rbf", n_components=48, max_iter=150, random_state=0)


def _friedman(n=3000, seed=0):
    return make_friedman1(n, n_features=6, noise=0.5, random_state=seed)


def _stream(distiller, X, y, parts, sample_weight=None):
    for rows in parts:
        w = None if sample_weight is None else sample_weight[rows]
        distiller.partial_fit(X[rows], y[rows], sample_weight=w)
    return distiller


def test_fit_is_one_partial_fit():
    X, y = _friedman(1500)
    fitted = LossMatchingDistiller(30, **PARAMS).fit(X, y)
    streamed = LossMatchingDistiller(30, **PARAMS).partial_fit(X, y)
    for name in ("X_synthetic_", "y_synthetic_", "sample_weight_", "regressors_"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(fitted, name))
    assert streamed.loss_gap_ == fitted.loss_gap_ and streamed.gamma_ == fitted.gamma_


@pytest.mark.parametrize("weighted", [False, True])
def test_chunks_certify_like_fit(weighted):
    X, y = _friedman()
    w = np.random.default_rng(1).uniform(0.2, 2.0, len(X)) if weighted else None
    fitted = LossMatchingDistiller(40, **PARAMS).fit(X, y, sample_weight=w)
    parts = np.array_split(np.arange(len(X)), 4)
    streamed = _stream(LossMatchingDistiller(40, **PARAMS), X, y, parts, w)
    assert streamed.n_samples_seen_ == len(X)
    # The same reservoir of start rows; the feature map differs (the pilot is the
    # first chunk's sample), so the rows and certificates agree only in quality.
    np.testing.assert_array_equal(streamed._stream.reservoir.index, fitted._stream.reservoir.index)
    assert streamed.gamma_ == pytest.approx(fitted.gamma_, rel=0.2)
    assert streamed.loss_gap_ <= 1.5 * fitted.loss_gap_
    assert streamed.heldout_loss_gap_ <= 1.5 * fitted.heldout_loss_gap_
    assert streamed.linear_loss_gap_ < 1e-10 and fitted.linear_loss_gap_ < 1e-10


def test_streamed_moments_are_those_of_all_rows_under_the_fixed_map():
    X, y = _friedman(2000)
    X_sparse = sparse.csr_matrix(np.where(X > 0.3, X, 0.0))
    parts = [slice(0, 700), slice(700, 701), slice(701, 2000)]
    distiller = _stream(LossMatchingDistiller(20, **PARAMS), X_sparse, y, parts)
    stream = distiller._stream
    transform = distiller.feature_map_.transform
    whole = feature_moments(X_sparse, y[:, None], None, transform, stream.shift)
    got = stream.relative_moments
    assert got.weight_sum == whole.weight_sum == 2000
    np.testing.assert_allclose(got.mean, whole.mean, atol=1e-12)
    np.testing.assert_allclose(got.comoment, whole.comoment, rtol=1e-10, atol=1e-9)


def test_refresh_after_every_chunk_once_ready():
    X, y = _friedman(600)
    distiller = LossMatchingDistiller(25, **PARAMS).partial_fit(X[:10], y[:10])
    with pytest.raises(NotFittedError, match="needs n_synthetic=25, 15 more"):
        distiller.get_synthetic()
    distiller.partial_fit(X[10:40], y[10:40])
    first = distiller.X_synthetic_.copy()
    distiller.partial_fit(X[40:], y[40:])
    assert distiller.n_samples_seen_ == 600 and not np.array_equal(first, distiller.X_synthetic_)
    assert distiller.feature_map_[0].n_samples_seen_ == 10  # fixed by the first chunk


def test_zero_weight_chunks_wait_for_the_first_rows_of_positive_weight():
    X, y = _friedman(800)
    w = np.ones(800)
    w[:300] = 0.0
    parts = [slice(0, 300), slice(300, 800)]
    distiller = _stream(LossMatchingDistiller(20, **PARAMS), X, y, parts, w)
    skipped = LossMatchingDistiller(20, **PARAMS).partial_fit(X[300:], y[300:])
    assert distiller.gamma_ == skipped.gamma_
    assert distiller._stream.relative_moments.weight_sum == 500


def test_a_one_row_first_chunk_needs_gamma():
    X, y = _friedman(300)
    with pytest.raises(ValueError, match="at least 2 of them; got 1.*gamma explicitly"):
        LossMatchingDistiller(10, **PARAMS).partial_fit(X[:1], y[:1])
    distiller = LossMatchingDistiller(10, gamma=0.1, **PARAMS).partial_fit(X[:1], y[:1])
    distiller.partial_fit(X[1:], y[1:])
    assert distiller.gamma_ == 0.1 and distiller.linear_loss_gap_ < 1e-10


@pytest.mark.parametrize("first", [True, False])
def test_non_finite_chunk_leaves_the_stream_as_it_was(first):
    X, y = _friedman(400)
    distiller = LossMatchingDistiller(10, **PARAMS)
    if not first:
        distiller.partial_fit(X[:200], y[:200])
    before = pickle.dumps(getattr(distiller, "_stream", None))
    bad = X[200:].copy()
    bad[50, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        distiller.partial_fit(bad, y[200:])
    if first:
        assert distiller._stream.feature_map is None and distiller._stream.n_samples == 0
    else:
        assert pickle.dumps(distiller._stream) == before


@pytest.mark.parametrize(
    "change, value",
    [("kernel", "linear"), ("gamma", 0.5), ("n_components", 16)],
)
def test_stream_parameters_cannot_change(change, value):
    X, y = _friedman(300)
    distiller = LossMatchingDistiller(10, **PARAMS).partial_fit(X, y)
    distiller.set_params(**{change: value})
    with pytest.raises(ValueError, match="partial_fit started with kernel='rbf'"):
        distiller.partial_fit(X, y)
    linear = LossMatchingDistiller(10).partial_fit(X, y).set_params(kernel="rbf")
    with pytest.raises(ValueError, match="started with kernel='linear'"):
        linear.partial_fit(X, y)
    distiller.fit(X, y)  # fit starts over with the new parameters
