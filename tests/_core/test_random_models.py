"""Random models: seeds, blocks and the auto count."""


import numpy as np
import pytest

from skdistill._core.random_models import (
    auto_n_models,
    sample_gaussian_models,
    seed_sequence,
)


def test_sampling_depends_on_seed_only():
    a = sample_gaussian_models(1000, 7, seed_sequence(3), n_jobs=1)
    b = sample_gaussian_models(1000, 7, seed_sequence(3), n_jobs=2)
    c = sample_gaussian_models(1000, 7, seed_sequence(4), n_jobs=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (1000, 7)
    assert np.var(a) == pytest.approx(1 / 7, rel=0.1)


def test_auto_n_models_above_lower_bound():
    for p in (2, 5, 12, 102):
        assert auto_n_models(p) >= p * (p + 1)  # at least twice p(p+1)/2
