"""The standardiser and the whitener against naive references: columns, inverse, second
moments, blocks, rank.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skdistill._core.moments import Moments, moments_of_rows
from skdistill._core.standardise import (
    column_scale,
    homogenise,
    identity,
    stack,
    standardiser,
    whitener,
)


def _rows(seed, n, q, loc):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, q)) * rng.uniform(0.1, 10.0, size=q) + loc
    Z[:, 0] = loc  # a column with no spread keeps the scale 1
    return Z


@given(
    seed=st.integers(0, 2**16),
    q=st.integers(1, 5),
    loc=st.sampled_from([0.0, 3.0, -1e3]),
    centre=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_standardiser_against_naive(seed, q, loc, centre):
    Z = _rows(seed, 60, q, loc)
    mask = np.array(centre[:q])
    st_ = standardiser(moments_of_rows(Z), mask)
    mean = Z.mean(axis=0)
    shift = np.where(mask, mean, 0.0)
    spread = np.sqrt(np.mean((Z - shift) ** 2, axis=0))
    spread[spread < 1e-12 * max(1.0, abs(loc))] = 1.0
    np.testing.assert_allclose(st_.shift, shift, rtol=1e-12, atol=1e-12 * abs(loc))
    np.testing.assert_allclose(st_.scale[1:], spread[1:], rtol=1e-9)
    assert st_.scale[0] == (1.0 if mask[0] else max(abs(loc), 1.0) if loc else 1.0)
    np.testing.assert_allclose(st_.inverse_transform(st_.transform(Z)), Z, rtol=1e-12, atol=1e-9)


@given(seed=st.integers(0, 2**16), q=st.integers(1, 4), fit_intercept=st.booleans())
def test_second_moment_is_that_of_the_standardised_rows(seed, q, fit_intercept):
    Z = _rows(seed, 80, q, 2.0)
    moments = moments_of_rows(Z)
    st_ = standardiser(moments, fit_intercept)
    U = st_.transform(Z)
    U = homogenise(U) if fit_intercept else U
    np.testing.assert_allclose(
        st_.second_moment(moments, fit_intercept), U.T @ U / len(U), rtol=1e-10, atol=1e-12
    )


def test_blocks_stack_and_take():
    Z = _rows(1, 50, 4, 1.0)
    st_ = standardiser(moments_of_rows(Z))
    both = stack(identity(2), st_)
    np.testing.assert_array_equal(both.shift, np.r_[0.0, 0.0, st_.shift])
    np.testing.assert_array_equal(both.scale, np.r_[1.0, 1.0, st_.scale])
    part = st_.take([3, 1])
    np.testing.assert_array_equal(part.transform(Z[:, [3, 1]]), st_.transform(Z)[:, [3, 1]])


def test_column_scale_and_homogenise():
    np.testing.assert_array_equal(column_scale(np.array([4.0, 0.0, -1e-30])), [2.0, 1.0, 1.0])
    np.testing.assert_array_equal(homogenise(np.zeros((2, 1))), [[0.0, 1.0], [0.0, 1.0]])


def _low_rank_rows(seed, n, q, rank, loc, units):
    """Rows ``loc + A B`` of the given rank, in mixed units, and a second set in their hull."""
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(rank, q))
    Z, Y = (loc + rng.normal(size=(size, rank)) @ B for size in (n, 7))
    return Z * units, Y * units


@given(
    seed=st.integers(0, 2**16),
    q=st.integers(1, 6),
    deficiency=st.integers(0, 3),
    fit_intercept=st.booleans(),
    loc=st.sampled_from([0.0, 1.0, -50.0]),
    units=st.sampled_from([1.0, 1e-4, 1e6]),
)
def test_whitener_against_naive(seed, q, deficiency, fit_intercept, loc, units):
    rank = max(q - deficiency, 1)
    Z, Y = _low_rank_rows(seed, 80, q, rank, loc, units)
    moments = moments_of_rows(Z)
    white = whitener(moments, fit_intercept)
    centre = Z.mean(axis=0) if fit_intercept else np.zeros(q)
    S = (Z - centre).T @ (Z - centre) / len(Z)
    assert white.rank == np.linalg.matrix_rank(S / np.outer(*2 * [np.sqrt(np.diag(S))]), 1e-9)
    W = white.transform(Z)
    Wh = homogenise(W) if fit_intercept else W
    # The whitened second moment is the projector onto the range (a trailing 1).
    projector = white.projector
    np.testing.assert_allclose(projector @ projector, projector, atol=1e-10)
    assert np.trace(projector) == pytest.approx(white.rank)
    expected = np.eye(q + fit_intercept)
    expected[:q, :q] = projector
    np.testing.assert_allclose(Wh.T @ Wh / len(W), expected, atol=1e-8)
    np.testing.assert_allclose(white.second_moment(moments, fit_intercept), expected, atol=1e-8)
    # The symmetric root S^{+1/2}, whatever the eigenvectors: inner products as pinv's.
    naive = (Y - centre) @ np.linalg.pinv(S, rcond=1e-9, hermitian=True) @ (Z - centre).T
    atol = 1e-6 * max(1.0, np.abs(naive).max())
    np.testing.assert_allclose(white.transform(Y) @ W.T, naive, atol=atol)
    for rows in (Z, Y):
        np.testing.assert_allclose(
            white.inverse_transform(white.transform(rows)), rows, rtol=1e-9,
            atol=1e-9 * np.abs(rows).max(),
        )


@given(seed=st.integers(0, 2**16), fit_intercept=st.booleans())
def test_whitener_models_predict_alike(seed, fit_intercept):
    Z, _ = _low_rank_rows(seed, 60, 4, 4, 2.0, 1.0)
    moments = moments_of_rows(Z)
    white, base = whitener(moments, fit_intercept), standardiser(moments, fit_intercept)
    V = np.random.default_rng(seed).normal(size=(5, 4 + fit_intercept))
    U = white.standardise_models(V)
    W, Zs = white.transform(Z), base.transform(Z)
    if fit_intercept:
        W, Zs = homogenise(W), homogenise(Zs)
    np.testing.assert_allclose(Zs @ U.T, W @ V.T, atol=1e-10)
    np.testing.assert_array_equal(base.shift, white.shift)
    np.testing.assert_array_equal(base.scale, white.scale)


def test_whitener_keeps_one_hot_rows_in_the_affine_hull():
    rng = np.random.default_rng(0)
    category = rng.choice(4, size=2000, p=[0.6, 0.3, 0.09, 0.01])
    Z = np.column_stack([rng.normal(size=2000) * 1e3, np.eye(4)[category], rng.normal(size=2000)])
    white = whitener(moments_of_rows(Z))
    assert white.rank == 5  # one-hot columns sum to 1: one direction with no spread
    rows = white.inverse_transform(rng.normal(size=(50, 6)) * 3)
    np.testing.assert_allclose(rows[:, 1:5].sum(axis=1), 1.0, atol=1e-12)
    assert whitener(moments_of_rows(Z), fit_intercept=False).rank == 6


def test_whitener_of_constant_rows():
    Z = np.tile([[3.0, -1.0]], (10, 1))
    white = whitener(moments_of_rows(Z))
    assert white.rank == 0 and np.array_equal(white.transform(Z), np.zeros((10, 2)))
    np.testing.assert_array_equal(white.inverse_transform(np.ones((4, 2))), Z[:4])
    np.testing.assert_allclose(white.second_moment(moments_of_rows(Z)), np.diag([0, 0, 1.0]))


def test_whitener_does_not_depend_on_the_eigenvector_basis():
    """Moments equal to rounding give whitened rows equal to rounding, even with a
    repeated eigenvalue, whose eigenvectors eigh may rotate at will."""
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(400, 3))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(Z.T @ Z / 400)).T  # covariance exactly I
    moments = moments_of_rows(Z)
    nudged = Moments(moments.weight_sum, moments.mean, moments.comoment * (1 + 1e-13))
    a, b = whitener(moments), whitener(nudged)
    np.testing.assert_allclose(a.transform(Z[:5]), b.transform(Z[:5]), atol=1e-10)
