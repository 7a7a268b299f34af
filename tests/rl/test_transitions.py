"""Transition sets: validation, mapping input and the (action, terminal) cells."""

import numpy as np
import pytest

from skdistill import BellmanDistiller
from skdistill.rl._transitions import (
    CellLayout,
    check_actions,
    check_terminals,
    check_transitions,
)


def test_cell_layout_matches_naive_cells():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, size=200)
    t = rng.random(200) < 0.2
    w = rng.uniform(0.0, 2.0, size=200)
    w[:20] = 0.0
    cells = CellLayout.from_transitions(a, t, w)
    pairs = sorted({(int(ai), bool(ti)) for ai, ti, wi in zip(a, t, w) if wi > 0})
    assert cells.n_cells == len(pairs)
    assert list(zip(cells.actions.tolist(), cells.terminals.tolist())) == pairs
    assert cells.terminals.dtype == bool
    for (action, terminal), rows, weight, size in zip(
        pairs, cells.rows, cells.weights, cells.sizes
    ):
        want = np.flatnonzero((a == action) & (t == terminal) & (w > 0))
        np.testing.assert_array_equal(rows, want)
        assert size == len(want)
        assert weight == pytest.approx(w[want].sum())


def test_cell_layout_unweighted_and_repeat():
    a = np.array([2, 0, 2, 2, 0])
    t = np.array([False, True, False, True, True])
    cells = CellLayout.from_transitions(a, t)
    assert cells.actions.tolist() == [0, 2, 2]
    assert cells.terminals.tolist() == [True, False, True]
    assert cells.sizes.tolist() == [2, 2, 1]
    np.testing.assert_array_equal(cells.weights, [2.0, 2.0, 1.0])
    a_rep, t_rep = cells.repeat([1, 0, 3])
    assert a_rep.tolist() == [0, 2, 2, 2]
    assert t_rep.tolist() == [True, True, True, True]


def test_check_transitions_returns_indices_and_classes(make_transitions):
    S, labels, r, S2, t = make_transitions(1, n=50, labels=[-3, 10, 42])
    S_, a, _, _, t_, sw, classes = check_transitions(
        BellmanDistiller(), S, labels, r, S2, t.astype(int)
    )
    assert classes.tolist() == [-3, 10, 42]
    np.testing.assert_array_equal(classes[a], labels)
    assert t_.dtype == bool and sw is None
    np.testing.assert_array_equal(S_, S)


def test_mapping_input_and_dtype(make_transitions):
    S, a, r, S2, t = make_transitions(8, n=300)
    data = {
        "observations": S.astype(np.float32),
        "actions": a,
        "rewards": r,
        "next_observations": S2.astype(np.float32),
        "terminals": t,
        "timeouts": np.zeros(300, bool),
    }
    distiller = BellmanDistiller(n_synthetic=80, random_state=0)
    syn = distiller.fit_resample(data)
    assert syn.observations.dtype == np.float32
    same = BellmanDistiller(n_synthetic=80, random_state=0).fit_resample(
        S.astype(np.float32), a, r, S2.astype(np.float32), t
    )
    np.testing.assert_array_equal(syn.observations, same.observations)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rewards": np.zeros(299)}, "Mismatched lengths"),
        ({"observations": np.full((300, 3), np.nan)}, "observations contains NaN"),
        ({"rewards": np.full(300, np.inf)}, "rewards contains infinity"),
        ({"terminals": np.full(300, 2)}, "terminals must be boolean"),
        ({"actions": np.linspace(0, 1, 300)}, "needs a finite set"),
        ({"actions": np.zeros((300, 2), int)}, "needs a finite set"),
        ({"actions": np.array(["left"] * 300)}, "integer labels"),
        ({"sample_weight": -np.ones(300)}, "(?i)negative"),
    ],
)
def test_bad_input_gets_clear_errors(kwargs, message, make_transitions):
    S, a, r, S2, t = make_transitions(11, n=300)
    data = dict(observations=S, actions=a, rewards=r, next_observations=S2, terminals=t)
    data.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BellmanDistiller(n_synthetic=50).fit(**data)


def test_mapping_without_required_keys():
    with pytest.raises(ValueError, match="lacks the key"):
        BellmanDistiller().fit({"observations": np.zeros((5, 2))})


@pytest.mark.parametrize(
    "terminals, message",
    [
        (np.array(["False", "True"] * 150), r"got strings such as 'False'; convert them"),
        (np.array(["False", "True"] * 150, dtype=object), r"got strings such as 'False'"),
        (np.r_[np.zeros(299), np.nan], r"got values other than 0 and 1, such as nan"),
        (np.full(300, 2), r"got values other than 0 and 1, such as 2\."),
    ],
    ids=["str", "object", "nan", "two"],
)
def test_terminal_flags_that_are_not_booleans(terminals, message, make_transitions):
    S, a, r, S2, _ = make_transitions(12, n=300)
    expected = r"^terminals must be boolean \(True/False, or 0/1\); " + message
    with pytest.raises(ValueError, match=expected):
        BellmanDistiller(n_synthetic=50).fit(S, a, r, S2, terminals)
    with pytest.raises(ValueError, match=expected):
        check_terminals(terminals, 300)


def test_check_actions_and_terminals_keep_valid_input():
    a = check_actions(np.array([[0.0], [2.0], [1.0]]), 3)
    assert a.dtype == np.int64 and a.tolist() == [0, 2, 1]
    assert check_terminals(np.array([0, 1, 1]), 3).tolist() == [False, True, True]
    assert check_terminals(None, 2).tolist() == [False, False]
