"""BellmanDistiller and its Bellman-loss mathematics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import check_grad

from skdistill import BellmanDistiller, Transitions
from skdistill._bellman import (
    allocate_cells,
    bellman_losses,
    bellman_matching_objective,
    bellman_residuals,
    decomposable_coefficients,
    decomposable_predictors,
    decomposable_rows,
    draw_predictors,
    herd,
)
from skdistill._core.certificate import model_losses


def _transitions(seed, n=300, d=3, n_actions=3, p_terminal=0.1, labels=None):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d)
    a = rng.integers(0, n_actions, size=n)
    S2 = S + 0.1 * rng.normal(size=(n, d)) + 0.2 * a[:, None]
    r = rng.normal(size=n) + 0.5
    t = rng.random(n) < p_terminal
    actions = a if labels is None else np.asarray(labels)[a]
    return S, actions, r, S2, t


def _naive_loss(W, lam, S, a, r, S2, t, gamma, w):
    """Weighted Bellman loss of one predictor, one transition at a time."""
    total = 0.0
    for s, ai, ri, s2, ti, wi in zip(S, a, r, S2, t, w):
        q = W[ai] @ np.append(s, 1.0)
        v_next = 0.0 if ti else max(W[b] @ np.append(s2, 1.0) for b in range(len(W)))
        total += wi * (q - lam * ri - gamma * v_next) ** 2
    return total / w.sum()


# ------------------------------------------------------------------------- maths


@pytest.mark.parametrize("features", ["per_action", "decomposable"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bellman_losses_match_naive_loop(features, weighted):
    S, a, r, S2, t = _transitions(0, n=60)
    w = np.random.default_rng(1).uniform(0.1, 2.0, size=60) if weighted else np.ones(60)
    W, lam = draw_predictors(np.random.default_rng(2), 5, features, 3, S.shape[1])
    losses = bellman_losses(
        W, lam, S, a, r, S2, t, 0.9, None if not weighted else w, chunk_size=7
    )
    naive = [_naive_loss(W[j], lam[j], S, a, r, S2, t, 0.9, w) for j in range(5)]
    np.testing.assert_allclose(losses, naive, rtol=1e-12)


def test_bellman_residuals_do_not_bootstrap_after_terminals():
    S, a, r, S2, t = _transitions(3, n=40, p_terminal=0.5)
    W, lam = draw_predictors(np.random.default_rng(0), 4, "per_action", 3, S.shape[1])
    delta = bellman_residuals(W, lam, S, a, r, S2, t, 0.9)
    moved = bellman_residuals(W, lam, S, a, r, S2 + 100.0 * t[:, None], t, 0.9)
    np.testing.assert_array_equal(delta, moved)
    assert not np.allclose(
        delta[~t], bellman_residuals(W, lam, S, a, r, S2 + 1.0, t, 0.9)[~t]
    )


def test_decomposable_loss_is_quadratic_form_in_row_moments():
    S, a, r, S2, t = _transitions(4, n=80)
    rng = np.random.default_rng(5)
    w_state, w_action, lam = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=6)
    Z = decomposable_rows(S, a, r, S2, t, 3)
    U = decomposable_coefficients(w_state, w_action, lam, 0.95)
    from_moments = model_losses(U, Z.T @ Z / len(Z))
    W = decomposable_predictors(w_state, w_action)
    naive = [_naive_loss(W[j], lam[j], S, a, r, S2, t, 0.95, np.ones(80)) for j in range(6)]
    np.testing.assert_allclose(from_moments, naive, rtol=1e-10)


def test_allocate_cells_bounds_and_proportions():
    counts = allocate_cells([900.0, 90.0, 10.0], 100, np.array([1, 1, 8]), np.array([900, 90, 10]))
    assert counts.tolist() == [84, 8, 8]
    counts = allocate_cells([1.0, 1.0, 1.0], 10, np.ones(3, int), np.array([2, 50, 50]))
    assert counts.tolist() == [2, 4, 4]


def test_herd_matches_greedy_reference_and_beats_random_subsets():
    rng = np.random.default_rng(13)
    F = rng.exponential(size=(400, 6))
    chosen = herd(F, 40)
    # Naive greedy: recompute the error of every candidate at every step.
    reference, target = [], F.mean(axis=0)
    for _ in range(40):
        errors = [
            np.inf if i in reference else np.sum((F[reference + [i]].mean(0) - target) ** 2)
            for i in range(400)
        ]
        reference.append(int(np.argmin(errors)))
    assert chosen.tolist() == reference
    herd_error = np.linalg.norm(F[chosen].mean(0) - target)
    random_error = np.mean(
        [np.linalg.norm(F[rng.choice(400, 40, replace=False)].mean(0) - target) for _ in range(50)]
    )
    assert herd_error < 0.2 * random_error


@pytest.mark.parametrize("features", ["per_action", "decomposable"])
def test_matching_objective_gradient_matches_finite_differences(features):
    rng = np.random.default_rng(6)
    m, d, n_actions, k = 12, 3, 3, 7
    W, lam = draw_predictors(rng, k, features, n_actions, d)
    a = rng.integers(0, n_actions, size=m)
    t = rng.random(m) < 0.3
    w = rng.uniform(0.5, 2.0, size=m)
    targets = rng.uniform(0.5, 2.0, size=k)
    x0 = rng.normal(size=m * (2 * d + 1))
    args = (W, lam, targets, a, t, w, 0.9, (m, d))

    def f(x):
        return bellman_matching_objective(x, *args)[0]

    def g(x):
        return bellman_matching_objective(x, *args)[1]

    assert check_grad(f, g, x0, epsilon=1e-7) < 1e-5 * max(1.0, np.linalg.norm(g(x0)))


# --------------------------------------------------------------------- estimator


@given(
    seed=st.integers(0, 2**16),
    n_actions=st.integers(1, 3),
    d=st.integers(1, 3),
    gamma=st.floats(0.0, 0.99),
    weighted=st.booleans(),
)
def test_exact_decomposable_matches_every_decomposable_loss(seed, n_actions, d, gamma, weighted):
    S, a, r, S2, t = _transitions(seed, n=200, d=d, n_actions=n_actions, p_terminal=0.2)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=200) if weighted else None
    distiller = BellmanDistiller(n_synthetic=60, gamma=gamma, random_state=seed)
    syn = distiller.fit_resample(S, a, r, S2, t, sample_weight=w)
    assert distiller.loss_gap_ < 1e-9
    rng = np.random.default_rng(seed + 1)
    W, lam = draw_predictors(rng, 20, "decomposable", n_actions, d)
    W = W * rng.uniform(0.1, 10.0, size=(20, 1, 1))
    a_syn = np.searchsorted(distiller.classes_, syn.actions)
    a_idx = np.searchsorted(distiller.classes_, a)
    full = bellman_losses(W, lam, S, a_idx, r, S2, t, gamma, w)
    small = bellman_losses(
        W, lam, syn.observations, a_syn, syn.rewards, syn.next_observations,
        syn.terminals, gamma, syn.sample_weight,
    )
    np.testing.assert_allclose(small, full, rtol=1e-8)


def test_synthetic_cells_keep_training_proportions_and_labels():
    S, a, r, S2, t = _transitions(7, n=500, labels=[-3, 10, 42])
    syn = BellmanDistiller(n_synthetic=100, random_state=0).fit_resample(S, a, r, S2, t)
    assert isinstance(syn, Transitions)
    assert set(np.unique(syn.actions)) <= {-3, 10, 42}
    assert syn.terminals.dtype == bool
    for label in (-3, 10, 42):
        for flag in (False, True):
            in_cell = (syn.actions == label) & (syn.terminals == flag)
            expected = np.sum((a == label) & (t == flag))
            assert syn.sample_weight[in_cell].sum() == pytest.approx(expected)


def test_mapping_input_and_dtype():
    S, a, r, S2, t = _transitions(8, n=300)
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
    "params",
    [
        {},
        {"solver": "lbfgs", "features": "per_action", "max_iter": 20},
        {"solver": "select", "features": "per_action"},
    ],
)
def test_result_does_not_depend_on_n_jobs(params):
    S, a, r, S2, t = _transitions(9, n=400)
    fits = [
        BellmanDistiller(n_synthetic=60, random_state=3, n_jobs=n_jobs, **params).fit(
            S, a, r, S2, t
        )
        for n_jobs in (1, 2)
    ]
    for x, y in zip(fits[0].transitions_, fits[1].transitions_):
        np.testing.assert_array_equal(x, y)
    assert fits[0].heldout_loss_gap_ == fits[1].heldout_loss_gap_


def test_lbfgs_per_action_improves_on_its_start():
    S, a, r, S2, t = _transitions(10, n=600, p_terminal=0.05)
    common = dict(
        n_synthetic=60, features="per_action", solver="lbfgs", init="subset", random_state=0
    )
    start = BellmanDistiller(max_iter=1, **common).fit(S, a, r, S2, t)
    fitted = BellmanDistiller(max_iter=200, **common).fit(S, a, r, S2, t)
    assert fitted.n_predictors_ > 0 and fitted.n_iter_ > 1
    assert fitted.heldout_loss_gap_ < 0.5 * start.heldout_loss_gap_
    assert fitted.loss_gap_ == fitted.heldout_loss_gap_


def test_select_keeps_real_transitions_with_equal_weights_per_cell():
    S, a, r, S2, t = _transitions(14, n=800, p_terminal=0.05)
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
    assert distiller.n_predictors_ > 0 and distiller.loss_gap_ == distiller.heldout_loss_gap_


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
def test_bad_input_gets_clear_errors(kwargs, message):
    S, a, r, S2, t = _transitions(11, n=300)
    data = dict(observations=S, actions=a, rewards=r, next_observations=S2, terminals=t)
    data.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BellmanDistiller(n_synthetic=50).fit(**data)


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
def test_bad_parameters_get_clear_errors(params, message):
    S, a, r, S2, t = _transitions(12, n=300)
    with pytest.raises(ValueError, match=message):
        BellmanDistiller(**params).fit(S, a, r, S2, t)


def test_mapping_without_required_keys():
    with pytest.raises(ValueError, match="lacks the key"):
        BellmanDistiller().fit({"observations": np.zeros((5, 2))})
