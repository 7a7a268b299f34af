"""The stratified subset of transitions: cell proportions, weights, determinism."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skdistill.baselines import stratified_subset


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 400),
    n_actions=st.integers(1, 4),
    p_terminal=st.sampled_from([0.0, 0.005, 0.3]),
    fraction=st.floats(0.0, 1.0),
)
def test_stratified_subset_keeps_cell_proportions(seed, n, n_actions, p_terminal, fraction):
    rng = np.random.default_rng(seed)
    actions = rng.choice([-1, 3, 7, 10][:n_actions], size=n)
    terminals = rng.random(n) < p_terminal
    m = max(1, round(fraction * n))
    index, weight = stratified_subset(actions, terminals, m, random_state=seed)
    assert index.shape == weight.shape == (m,)
    assert len(np.unique(index)) == m
    cells = {(a, t) for a, t in zip(actions, terminals)}
    if m >= len(cells):
        assert weight.sum() == pytest.approx(n)
    for a, t in cells:
        in_cell = (actions == a) & (terminals == t)
        drawn = in_cell[index]
        if m >= len(cells):
            assert drawn.any()  # every cell, terminals included, is represented
        if drawn.any():
            # weighted cell share is exact, and the cell's row count near proportional
            assert weight[drawn].sum() == pytest.approx(in_cell.sum())
            assert abs(drawn.sum() - m * in_cell.mean()) < len(cells) + 1


def test_stratified_subset_determinism_and_errors():
    actions = np.arange(100) % 2
    a = stratified_subset(actions, None, 10, random_state=0)
    b = stratified_subset(actions, None, 10, random_state=0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], 10.0)
    with pytest.raises(ValueError, match="n_samples"):
        stratified_subset(actions, None, 101)
    with pytest.raises(ValueError, match="inconsistent"):
        stratified_subset(actions, np.zeros(99, dtype=bool), 10)


@pytest.mark.parametrize(
    "terminals, message",
    [
        (np.array(["False", "True"] * 5), "terminals must be boolean .* strings such as 'False'"),
        (np.r_[np.zeros(9), np.nan], "terminals must be boolean .* such as nan"),
    ],
    ids=["strings", "nan"],
)
def test_stratified_subset_refuses_terminals_that_are_not_flags(terminals, message):
    # 'False' and NaN used to be read as terminal (bool('False') is True).
    with pytest.raises(ValueError, match=message):
        stratified_subset(np.arange(10) % 2, terminals, 4, random_state=0)


def test_stratified_subset_checks_actions_as_bellman_distiller_does():
    with pytest.raises(ValueError, match="actions must be integer labels"):
        stratified_subset(np.linspace(0, 1, 10), None, 4)
    with pytest.raises(ValueError, match="NaN or infinity"):
        stratified_subset(np.r_[np.zeros(9), np.nan], None, 4)
    # Float labels that are integers, and 0/1 terminals, are accepted as before.
    index, _ = stratified_subset(np.arange(10.0) % 2, np.r_[np.zeros(9), 1], 4, random_state=0)
    reference, _ = stratified_subset(np.arange(10) % 2, np.r_[np.zeros(9), 1] == 1, 4,
                                     random_state=0)
    np.testing.assert_array_equal(index, reference)


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(2, 400),
    n_actions=st.integers(1, 4),
    p_terminal=st.sampled_from([0.005, 0.05, 0.3]),
    fraction=st.floats(0.0, 1.0),
)
def test_keep_terminals_keeps_every_terminal_and_the_cell_shares(
    seed, n, n_actions, p_terminal, fraction
):
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, n_actions, size=n)
    terminals = rng.random(n) < p_terminal
    cells = {(a, t) for a, t in zip(actions, terminals)}
    needed = terminals.sum() + len({a for a, t in cells if not t})
    m = int(needed + round(fraction * (n - needed)))
    index, weight = stratified_subset(
        actions, terminals, m, keep_terminals=True, random_state=seed
    )
    assert index.shape == weight.shape == (m,)
    assert len(np.unique(index)) == m
    np.testing.assert_array_equal(np.sort(index[terminals[index]]), np.flatnonzero(terminals))
    np.testing.assert_allclose(weight[terminals[index]], 1.0)
    for a, t in cells:
        in_cell = (actions == a) & (terminals == t)
        drawn = in_cell[index]
        assert drawn.any()
        assert weight[drawn].sum() == pytest.approx(in_cell.sum())


def test_keep_terminals_needs_room_for_the_terminals():
    actions = np.arange(20) % 2
    terminals = np.arange(20) < 6
    with pytest.raises(ValueError, match="keeps all 6 terminal transitions .* at least 8; got 7"):
        stratified_subset(actions, terminals, 7, keep_terminals=True)
    with pytest.raises(TypeError, match="keep_terminals must be True or False"):
        stratified_subset(actions, terminals, 10, keep_terminals="yes")
