"""BellmanDistiller(solver="reweight"): real transitions, exact decomposable losses."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdistill import BellmanDistiller
from skdistill._core.moments import compute_moments
from skdistill._core.reweight import n_constraints
from skdistill.rl._reweight import (
    cell_constraints,
    reweight_cell,
    reweight_minimum,
    shortfall_message,
)
from skdistill.rl._transitions import CellLayout


@settings(max_examples=15)
@given(
    seed=st.integers(0, 2**16),
    n_actions=st.integers(1, 3),
    d=st.integers(1, 3),
    gamma=st.floats(0.0, 0.99),
    weighted=st.booleans(),
)
def test_reweight_keeps_real_transitions_and_matches_every_decomposable_loss(
    make_transitions, synthetic_losses, seed, n_actions, d, gamma, weighted
):
    n = 1500
    S, a, r, S2, t = make_transitions(seed, n=n, d=d, n_actions=n_actions, p_terminal=0.1)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=n) if weighted else None
    distiller = BellmanDistiller(400, gamma=gamma, solver="reweight", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # above the size limit: no shortfall warning
        syn = distiller.fit_resample(S, a, r, S2, t, sample_weight=w)
    idx = distiller.support_
    assert len(np.unique(idx)) == 400
    for name, column in [("observations", S), ("actions", a), ("rewards", r),
                         ("next_observations", S2), ("terminals", t)]:
        np.testing.assert_array_equal(getattr(syn, name), column[idx])
    assert np.all(syn.sample_weight >= 0)
    assert syn.sample_weight.sum() == pytest.approx(n if w is None else w.sum())
    assert distiller.loss_gap_ < 1e-9
    small, full = synthetic_losses(distiller, syn, S, a, r, S2, t, w, gamma, seed + 1)
    np.testing.assert_allclose(small, full, rtol=1e-8)
    # per-action predictors are matched approximately only, but closely
    small, full = synthetic_losses(distiller, syn, S, a, r, S2, t, w, gamma, seed + 2, "per_action")
    assert np.max(np.abs(small / full - 1)) < 0.5


def test_small_cells_are_taken_whole_and_terminal_cells_ignore_next_states(make_transitions):
    S, a, r, S2, t = make_transitions(3, n=2000, d=2, n_actions=2, p_terminal=0.01)
    distiller = BellmanDistiller(300, solver="reweight", random_state=0)
    syn = distiller.fit_resample(S, a, r, S2, t)
    for label in range(2):
        terminal = (a == label) & t
        assert terminal.sum() <= 2 * n_constraints(3)  # (s, r) of a terminal cell: D = 10
        kept = (syn.actions == label) & syn.terminals
        np.testing.assert_array_equal(
            np.sort(distiller.support_[kept]), np.flatnonzero(terminal)
        )
        np.testing.assert_allclose(syn.sample_weight[kept], 1.0)
    assert distiller.loss_gap_ < 1e-9


def test_keep_terminals_keeps_every_terminal_transition(make_transitions):
    S, a, r, S2, t = make_transitions(4, n=3000, d=2, n_actions=2, p_terminal=0.1)
    for solver in ("reweight", "exact", "select"):
        distiller = BellmanDistiller(
            600, solver=solver, keep_terminals=True, random_state=0,
            features="per_action" if solver == "select" else "decomposable",
        )
        syn = distiller.fit_resample(S, a, r, S2, t)
        assert syn.terminals.sum() == t.sum()
        np.testing.assert_array_equal(
            np.sort(syn.observations[syn.terminals], axis=0), np.sort(S[t], axis=0)
        )
    with pytest.raises(ValueError, match="keeps all .* terminal transitions"):
        BellmanDistiller(int(t.sum()), keep_terminals=True).fit(S, a, r, S2, t)


def test_below_the_size_limit_a_warning_names_the_size_needed(make_transitions):
    S, a, r, S2, t = make_transitions(5, n=2000, d=3, n_actions=3, p_terminal=0.05)
    distiller = BellmanDistiller(60, solver="reweight", random_state=0)
    with pytest.warns(UserWarning, match=r"could not match .* at least \d+ transitions"):
        syn = distiller.fit_resample(S, a, r, S2, t)
    assert np.all(syn.sample_weight >= 0)
    assert 1e-6 < distiller.loss_gap_ < np.inf
    cells = CellLayout.from_transitions(a, t)
    needed = reweight_minimum(cells.sizes, cells.terminals, 3).sum()
    assert f"at least {needed} transitions" in shortfall_message(cells, 3, 60, 0.5)


def test_reweight_minimum_and_constraints():
    terminals = np.array([False, True, False, True])
    np.testing.assert_array_equal(cell_constraints(2, terminals), [21, 10, 21, 10])
    sizes = np.array([42, 20, 43, 21])
    np.testing.assert_array_equal(reweight_minimum(sizes, terminals, 2), [42, 20, 22, 11])


def test_reweight_cell_matches_the_cell_moments():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 5))  # (s, r, s') with d = 2
    w = rng.uniform(0.5, 2.0, size=500)
    for terminal, width in [(False, 5), (True, 3)]:
        index, weight, met = reweight_cell(Z, w, 60, terminal, np.random.default_rng(1))
        assert met and np.all(np.diff(index) > 0) and np.all(weight >= 0)
        full = compute_moments(Z[:, :width], np.empty((500, 0)), w)
        small = compute_moments(Z[index, :width], np.empty((60, 0)), weight)
        np.testing.assert_allclose(small.weight_sum, w.sum())
        np.testing.assert_allclose(small.mean, full.mean, atol=1e-10)
        np.testing.assert_allclose(small.covariance, full.covariance, atol=1e-10)
    index, weight, met = reweight_cell(Z, w, 500, False, np.random.default_rng(1))
    assert met
    np.testing.assert_array_equal(index, np.arange(500))
    np.testing.assert_array_equal(weight, w)

