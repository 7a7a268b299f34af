"""Transition sets and a naive Bellman loss shared by the tests of skdistill.rl."""

import numpy as np
import pytest

from skdistill.rl._bellman import bellman_losses, draw_predictors


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


@pytest.fixture(scope="session")
def make_transitions():
    """``make_transitions(seed, n, d, n_actions, p_terminal, labels) -> (S, a, r, S2, t)``."""
    return _transitions


@pytest.fixture(scope="session")
def naive_loss():
    """``naive_loss(W, lam, S, a, r, S2, t, gamma, w)`` of one predictor, by a loop."""
    return _naive_loss


def _synthetic_losses(distiller, syn, S, a, r, S2, t, w, gamma, seed, features="decomposable"):
    """Bellman losses of 30 random predictors (scaled 0.1-10) on ``syn`` and the training set."""
    rng = np.random.default_rng(seed)
    n_actions = len(distiller.classes_)
    W, lam = draw_predictors(rng, 30, features, n_actions, S.shape[1])
    W = W * rng.uniform(0.1, 10.0, size=(30, 1, 1))
    a_syn = np.searchsorted(distiller.classes_, syn.actions)
    a_idx = np.searchsorted(distiller.classes_, a)
    full = bellman_losses(W, lam, S, a_idx, r, S2, t, gamma, w)
    small = bellman_losses(
        W, lam, syn.observations, a_syn, syn.rewards, syn.next_observations,
        syn.terminals, gamma, syn.sample_weight,
    )
    return small, full


@pytest.fixture(scope="session")
def synthetic_losses():
    """``synthetic_losses(distiller, syn, S, a, r, S2, t, w, gamma, seed, features)``:
    ``(small, full)`` Bellman losses of random predictors on ``syn`` and the data."""
    return _synthetic_losses
