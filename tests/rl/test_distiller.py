"""BellmanDistiller: exactness, cell proportions, reproducibility and errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skdistill import BellmanDistiller, Transitions
from skdistill.base import BaseDistiller


@given(
    seed=st.integers(0, 2**16),
    n_actions=st.integers(1, 3),
    d=st.integers(1, 3),
    gamma=st.floats(0.0, 0.99),
    weighted=st.booleans(),
)
def test_exact_decomposable_matches_every_decomposable_loss(
    make_transitions, synthetic_losses, seed, n_actions, d, gamma, weighted
):
    S, a, r, S2, t = make_transitions(seed, n=200, d=d, n_actions=n_actions, p_terminal=0.2)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=200) if weighted else None
    distiller = BellmanDistiller(n_synthetic=60, gamma=gamma, random_state=seed)
    syn = distiller.fit_resample(S, a, r, S2, t, sample_weight=w)
    assert distiller.loss_gap_ < 1e-9
    small, full = synthetic_losses(distiller, syn, S, a, r, S2, t, w, gamma, seed + 1)
    np.testing.assert_allclose(small, full, rtol=1e-8)


def test_synthetic_cells_keep_training_proportions_and_labels(make_transitions):
    S, a, r, S2, t = make_transitions(7, n=500, labels=[-3, 10, 42])
    syn = BellmanDistiller(n_synthetic=100, random_state=0).fit_resample(S, a, r, S2, t)
    assert isinstance(syn, Transitions)
    assert set(np.unique(syn.actions)) <= {-3, 10, 42}
    assert syn.terminals.dtype == bool
    for label in (-3, 10, 42):
        for flag in (False, True):
            in_cell = (syn.actions == label) & (syn.terminals == flag)
            expected = np.sum((a == label) & (t == flag))
            assert syn.sample_weight[in_cell].sum() == pytest.approx(expected)


def test_cell_counts_count_the_synthetic_cells(make_transitions):
    S, a, r, S2, t = make_transitions(17, n=400, labels=[5, 7, 9])
    distiller = BellmanDistiller(n_synthetic=90, random_state=0).fit(S, a, r, S2, t)
    syn = distiller.transitions_
    for (label, flag), count in distiller.cell_counts_.items():
        assert count == np.sum((syn.actions == label) & (syn.terminals == flag))
    assert sum(distiller.cell_counts_.values()) == 90


def test_parameter_constraints_extend_the_base_class():
    constraints = BellmanDistiller._parameter_constraints
    for name, constraint in BaseDistiller._parameter_constraints.items():
        assert constraints[name] is constraint
    assert issubclass(BellmanDistiller, BaseDistiller)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"solver": "lbfgs", "features": "per_action", "max_iter": 20},
        {"solver": "select", "features": "per_action"},
    ],
)
def test_result_does_not_depend_on_n_jobs(params, make_transitions):
    S, a, r, S2, t = make_transitions(9, n=400)
    fits = [
        BellmanDistiller(n_synthetic=60, random_state=3, n_jobs=n_jobs, **params).fit(
            S, a, r, S2, t
        )
        for n_jobs in (1, 2)
    ]
    for x, y in zip(fits[0].transitions_, fits[1].transitions_):
        np.testing.assert_array_equal(x, y)
    assert fits[0].heldout_loss_gap_ == fits[1].heldout_loss_gap_


def test_lbfgs_per_action_improves_on_its_start(make_transitions):
    S, a, r, S2, t = make_transitions(10, n=600, p_terminal=0.05)
    common = dict(
        n_synthetic=60, features="per_action", solver="lbfgs", init="subset", random_state=0
    )
    start = BellmanDistiller(max_iter=1, **common).fit(S, a, r, S2, t)
    fitted = BellmanDistiller(max_iter=200, **common).fit(S, a, r, S2, t)
    assert fitted.n_predictors_ > 0 and fitted.n_iter_ > 1
    assert fitted.heldout_loss_gap_ < 0.5 * start.heldout_loss_gap_
    assert 0 < fitted.loss_gap_ < np.inf  # the decomposable certificate of moved transitions


def test_select_keeps_real_transitions_with_equal_weights_per_cell(make_transitions):
    S, a, r, S2, t = make_transitions(14, n=800, p_terminal=0.05)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=800)
    distiller = BellmanDistiller(
        n_synthetic=80, features="per_action", solver="select", random_state=0
    )
    syn = distiller.fit_resample(S, a, r, S2, t, sample_weight=w)
    idx = distiller.support_
    assert len(np.unique(idx)) == 80
    np.testing.assert_array_equal(syn.observations, S[idx])
    np.testing.assert_array_equal(syn.next_observations, S2[idx])
    np.testing.assert_array_equal(syn.rewards, r[idx])
    np.testing.assert_array_equal(syn.actions, a[idx])
    np.testing.assert_array_equal(syn.terminals, t[idx])
    for label in range(3):
        for flag in (False, True):
            in_cell = (syn.actions == label) & (syn.terminals == flag)
            assert np.ptp(syn.sample_weight[in_cell]) < 1e-12
            expected = w[(a == label) & (t == flag)].sum()
            assert syn.sample_weight[in_cell].sum() == pytest.approx(expected)
    assert distiller.n_predictors_ > 0 and 0 < distiller.loss_gap_ < np.inf


@pytest.mark.parametrize(
    "params, message",
    [
        ({"gamma": 1.0}, "gamma"),
        ({"gamma": -0.1}, "gamma"),
        ({"n_synthetic": 0}, "n_synthetic"),
        ({"n_synthetic": 301}, "exceeds the number of transitions"),
        ({"n_synthetic": 3}, "smaller than the number of"),
        ({"n_synthetic": 20}, "exact per-cell moment match needs"),
        ({"features": "per_action"}, "no closed form"),
    ],
)
def test_bad_parameters_get_clear_errors(params, message, make_transitions):
    S, a, r, S2, t = make_transitions(12, n=300)
    with pytest.raises(ValueError, match=message):
        BellmanDistiller(**params).fit(S, a, r, S2, t)


def test_n_synthetic_counts_transitions_of_positive_weight(make_transitions):
    S, a, r, S2, t = make_transitions(12, n=300)
    w = np.ones(300)
    w[:10] = 0.0
    with pytest.raises(ValueError, match="exceeds the number of transitions with positive"):
        BellmanDistiller(n_synthetic=295).fit(S, a, r, S2, t, sample_weight=w)
