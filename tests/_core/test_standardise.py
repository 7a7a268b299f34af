"""The standardiser against naive references: columns, inverse, second moments, blocks."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skdistill._core.moments import moments_of_rows
from skdistill._core.standardise import (
    column_scale,
    homogenise,
    identity,
    stack,
    standardiser,
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
