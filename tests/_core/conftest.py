"""Row sets shared by the tests of skdistill._core's calibration and candidates."""

import numpy as np
import pytest

from skdistill._core.moments import moments_of_rows


def _gaussian_rows(n, q, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, q)) @ rng.normal(size=(q, q)) + rng.normal(size=q) * 10


def _one_hot(n, seed, p=(0.6, 0.3, 0.08, 0.02)):
    rng = np.random.default_rng(seed)
    a = rng.choice(len(p), size=n, p=p)
    b = rng.choice(3, size=n, p=[0.7, 0.25, 0.05])
    x = rng.normal(size=(n, 2))
    y = x @ [1.0, -2.0] + a - 0.5 * b + rng.normal(size=n)
    return np.column_stack([x, np.eye(len(p))[a][:, 1:], np.eye(3)[b][:, 1:], y])


def _check_moments(Z, w, moments):
    got = moments_of_rows(Z, w)
    np.testing.assert_allclose(w.sum(), moments.weight_sum, rtol=1e-10)
    spread = np.sqrt(np.diag(moments.covariance))
    np.testing.assert_allclose(got.mean, moments.mean, rtol=1e-9, atol=1e-9 * spread.max())
    np.testing.assert_allclose(
        got.covariance, moments.covariance, rtol=1e-8, atol=1e-9 * spread.max() ** 2
    )




@pytest.fixture(scope="session")
def gaussian_rows():
    """``gaussian_rows(n, q, seed)``: correlated Gaussian rows with large means."""
    return _gaussian_rows


@pytest.fixture(scope="session")
def one_hot_rows():
    """``one_hot_rows(n, seed, p)``: two continuous columns, two one-hot variables, y."""
    return _one_hot


@pytest.fixture(scope="session")
def check_moments():
    """``check_moments(Z, w, moments)``: weighted moments of ``Z`` equal ``moments``."""
    return _check_moments
