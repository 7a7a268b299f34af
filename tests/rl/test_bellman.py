"""The Bellman-loss mathematics of skdistill.rl._bellman."""

import numpy as np
import pytest
from scipy.optimize import check_grad

from skdistill._core.certificate import model_losses
from skdistill.rl._bellman import (
    bellman_losses,
    bellman_matching_objective,
    bellman_residuals,
    decomposable_coefficients,
    decomposable_loss_gap,
    decomposable_predictors,
    decomposable_rows,
    draw_predictors,
    pack_rows,
    unpack_rows,
)


@pytest.mark.parametrize("features", ["per_action", "decomposable"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bellman_losses_match_naive_loop(features, weighted, make_transitions, naive_loss):
    S, a, r, S2, t = make_transitions(0, n=60)
    w = np.random.default_rng(1).uniform(0.1, 2.0, size=60) if weighted else np.ones(60)
    W, lam = draw_predictors(np.random.default_rng(2), 5, features, 3, S.shape[1])
    losses = bellman_losses(
        W, lam, S, a, r, S2, t, 0.9, None if not weighted else w, chunk_size=7
    )
    naive = [naive_loss(W[j], lam[j], S, a, r, S2, t, 0.9, w) for j in range(5)]
    np.testing.assert_allclose(losses, naive, rtol=1e-12)


def test_bellman_residuals_do_not_bootstrap_after_terminals(make_transitions):
    S, a, r, S2, t = make_transitions(3, n=40, p_terminal=0.5)
    W, lam = draw_predictors(np.random.default_rng(0), 4, "per_action", 3, S.shape[1])
    delta = bellman_residuals(W, lam, S, a, r, S2, t, 0.9)
    moved = bellman_residuals(W, lam, S, a, r, S2 + 100.0 * t[:, None], t, 0.9)
    np.testing.assert_array_equal(delta, moved)
    assert not np.allclose(
        delta[~t], bellman_residuals(W, lam, S, a, r, S2 + 1.0, t, 0.9)[~t]
    )


def test_decomposable_loss_is_quadratic_form_in_row_moments(make_transitions, naive_loss):
    S, a, r, S2, t = make_transitions(4, n=80)
    rng = np.random.default_rng(5)
    w_state, w_action, lam = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=6)
    Z = decomposable_rows(S, a, r, S2, t, 3)
    U = decomposable_coefficients(w_state, w_action, lam, 0.95)
    from_moments = model_losses(U, Z.T @ Z / len(Z))
    W = decomposable_predictors(w_state, w_action)
    naive = [naive_loss(W[j], lam[j], S, a, r, S2, t, 0.95, np.ones(80)) for j in range(6)]
    np.testing.assert_allclose(from_moments, naive, rtol=1e-10)


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


def test_pack_and_unpack_rows_round_trip(make_transitions):
    S, _, r, S2, _ = make_transitions(15, n=20, d=2)
    Z = pack_rows(S.astype(np.float32), r, S2.astype(np.float32))
    assert Z.shape == (20, 5) and Z.dtype == np.float64
    for got, want in zip(unpack_rows(Z), (S, r, S2)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_decomposable_loss_gap_is_zero_on_the_training_set_only(make_transitions):
    S, a, r, S2, t = make_transitions(16, n=120)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=120)
    train = (S, a, r, S2, t, w)
    same = decomposable_loss_gap(train, (pack_rows(S, r, S2), a, t, w), 3)
    assert same < 1e-12
    moved = decomposable_loss_gap(train, (pack_rows(S + 0.5, r, S2), a, t, w), 3)
    assert moved > 1e-3
