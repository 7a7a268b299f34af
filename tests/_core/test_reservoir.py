"""The weighted reservoir: chunking, bounded key blocks, uniform and successive sampling."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skdistill._core import reservoir as _reservoir_module
from skdistill._core.reservoir import WeightedReservoir


def _splits(n, cuts):
    edges = [0, *sorted(set(c for c in cuts if 0 < c < n)), n]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _reservoir(Z, slices, m, seed, w=None):
    res = WeightedReservoir(m, Z.shape[1], np.random.SeedSequence(seed))
    for sl in slices:
        res.update(Z[sl, :-1], Z[sl, -1:], None if w is None else w[sl])
    return res


@given(
    cuts=st.lists(st.integers(1, 499), max_size=8),
    m=st.integers(1, 40),
    weighted=st.booleans(),
)
def test_reservoir_does_not_depend_on_chunking(cuts, m, weighted):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 3))
    w = rng.exponential(size=500) * (rng.random(500) > 0.3) if weighted else None
    whole = _reservoir(Z, [slice(0, 500)], m, 7, w)
    parts = _reservoir(Z, _splits(500, cuts), m, 7, w)
    np.testing.assert_array_equal(parts.index, whole.index)
    np.testing.assert_array_equal(parts.rows, whole.rows)
    np.testing.assert_array_equal(whole.rows, Z[whole.index])
    assert np.all(np.diff(whole.index) > 0)
    if weighted:
        assert np.all(w[whole.index] > 0)


@pytest.mark.parametrize("weighted", [False, True])
def test_reservoir_draws_keys_in_bounded_blocks(monkeypatch, weighted):
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(300, 3))
    w = rng.exponential(size=300) if weighted else None
    whole = _reservoir(Z, [slice(0, 300)], 12, 3, w)
    monkeypatch.setattr(_reservoir_module, "_KEY_ROWS", 7)
    blocked = _reservoir(Z, [slice(0, 300)], 12, 3, w)
    np.testing.assert_array_equal(blocked.index, whole.index)
    np.testing.assert_array_equal(blocked.rows, whole.rows)


def test_reservoir_is_uniform_without_weights():
    n, m, reps = 20, 5, 4000
    Z = np.arange(n, dtype=float)[:, None].repeat(2, axis=1)
    counts = np.zeros(n)
    for seed in range(reps):
        counts[_reservoir(Z, _splits(n, [3, 11]), m, seed).index] += 1
    freq = counts / reps
    sd = np.sqrt(m / n * (1 - m / n) / reps)
    assert np.abs(freq - m / n).max() < 5 * sd


def test_weighted_reservoir_is_successive_sampling():
    # Two draws without replacement, each with probability proportional to weight:
    # P(i in sample) = p_i + sum_{j != i} p_j p_i / (1 - p_j).
    w = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    p = w / w.sum()
    expected = p + np.array(
        [sum(p[j] * p[i] / (1 - p[j]) for j in range(5) if j != i) for i in range(5)]
    )
    Z = np.arange(5, dtype=float)[:, None].repeat(2, axis=1)
    reps = 6000
    counts = np.zeros(5)
    for seed in range(reps):
        counts[_reservoir(Z, _splits(5, [2]), 2, seed, w).index] += 1
    sd = np.sqrt(expected * (1 - expected) / reps)
    assert counts[4] == 0
    np.testing.assert_array_less(np.abs(counts / reps - expected), 5 * sd + 1e-12)
