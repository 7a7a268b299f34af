"""FeatureSummary: the moments of (phi(x), x, y) over chunks, phi fixed at the first."""

import numpy as np
import pytest

from skdistill._core.moments import moments_of_rows
from skdistill._core.random_models import seed_sequence
from skdistill._sources.features import FeatureSummary, feature_moments, feature_shift
from skdistill._sources.summary import Summary


class _Cubes:
    """A deterministic feature map: the cubes of the pilot-centred features."""

    def __init__(self, pilot, seed):
        self.centre = pilot[:, :2].mean(axis=0)
        self.seed = seed

    def transform(self, X):
        return (X - self.centre) ** 3


def _summary(random_state=0, n_synthetic=5):
    return FeatureSummary(random_state, n_synthetic, 2, 1, _Cubes, n_pilot=50)


def test_seeds_extend_those_of_the_linear_summary():
    summary, linear = _summary(7), Summary(7, 5, 2, 1)
    root = seed_sequence(7).spawn(4)
    assert summary.solver_seed().spawn_key == linear.solver_seed().spawn_key == root[1].spawn_key
    assert summary.pilot_seed.spawn_key == root[2].spawn_key
    assert summary.fitted_map(np.zeros((1, 3))).seed.spawn_key == root[3].spawn_key


@pytest.mark.parametrize("weighted", [False, True])
def test_chunks_after_the_first_merge_to_the_moments_of_all_rows(weighted):
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[100.0, -3.0], size=(900, 2))
    Y = X @ [[1.0], [2.0]] + rng.normal(size=(900, 1))
    w = rng.uniform(0, 2, 900) if weighted else None
    summary = _summary()
    for sl in (slice(0, 300), slice(300, 301), slice(301, 900)):
        summary.update(X[sl], Y[sl], None if w is None else w[sl], chunk_size=64)
    transform = summary.feature_map.transform
    assert summary.shift.shape == (5,)
    np.testing.assert_allclose(summary.shift, feature_shift(X[:300], Y[:300], transform))
    naive = moments_of_rows(np.hstack([transform(X), X, Y]), w)
    got = summary.moments
    assert got.weight_sum == pytest.approx(naive.weight_sum)
    np.testing.assert_allclose(got.mean, naive.mean, rtol=1e-12)
    np.testing.assert_allclose(got.comoment, naive.comoment, rtol=1e-9)
    assert summary.ready and summary.n_samples == 900


def test_feature_moments_of_no_rows():
    moments = feature_moments(np.empty((0, 2)), np.empty((0, 1)), None, lambda X: X, np.zeros(5))
    assert moments.weight_sum == 0 and moments.comoment.shape == (5, 5)
