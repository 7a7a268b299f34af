"""collect_transitions on CartPole: terminated is terminal, truncated is not."""

import sys

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from skdistill import collect_transitions  # noqa: E402

# CartPole terminates when |x| > 2.4 or |theta| > 12 degrees.
X_LIMIT, THETA_LIMIT = 2.4, 12 * 2 * np.pi / 360


def _failed(obs):
    return (np.abs(obs[:, 0]) > X_LIMIT) | (np.abs(obs[:, 2]) > THETA_LIMIT)


def test_terminated_vs_truncated_on_cartpole():
    env = gymnasium.make("CartPole-v1", max_episode_steps=15)
    data = collect_transitions(env, 400, seed=0)
    env.close()
    obs, nxt = data["observations"], data["next_observations"]
    terminals, timeouts = data["terminals"], data["timeouts"]
    assert obs.shape == nxt.shape == (400, 4) and data["actions"].shape == (400,)
    assert terminals.dtype == bool and timeouts.dtype == bool
    assert terminals.any() and timeouts.any() and not (terminals & timeouts).any()
    # Terminal exactly where the pole fell or the cart left: never at a time limit.
    np.testing.assert_array_equal(terminals, _failed(nxt))
    np.testing.assert_array_equal(data["rewards"], np.ones(400))
    # Within an episode the next observation is the next row's observation; after
    # an episode end the next row starts afresh near the upright state.
    ends = terminals | timeouts
    np.testing.assert_array_equal(nxt[:-1][~ends[:-1]], obs[1:][~ends[:-1]])
    assert np.all(np.abs(obs[1:][ends[:-1]]) <= 0.05)
    lengths = np.diff(np.flatnonzero(np.r_[True, ends]))
    assert lengths.max() <= 15


def test_policy_epsilon_and_seed():
    def push_right(observation):
        return 1

    greedy = collect_transitions("CartPole-v1", 300, policy=push_right, seed=1)
    assert np.all(greedy["actions"] == 1)
    mixed = collect_transitions("CartPole-v1", 300, policy=push_right, epsilon=0.5, seed=1)
    assert 0.1 < np.mean(mixed["actions"] == 0) < 0.4
    again = collect_transitions("CartPole-v1", 300, policy=push_right, epsilon=0.5, seed=1)
    for key in mixed:
        np.testing.assert_array_equal(mixed[key], again[key])


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_transitions"):
        collect_transitions("CartPole-v1", 0)
    with pytest.raises(ValueError, match="epsilon"):
        collect_transitions("CartPole-v1", 10, epsilon=1.5)
    with pytest.raises(ValueError, match="finite set"):
        collect_transitions("Pendulum-v1", 10)


def test_missing_gymnasium_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    with pytest.raises(ImportError, match=r"pip install skdistill\[rl\]"):
        collect_transitions("CartPole-v1", 10)


def test_evaluate_policy_seeded_and_batched():
    from skdistill import evaluate_policy

    calls = []

    def heuristic(observations):
        calls.append(len(observations))
        return (observations[:, 2] + 0.5 * observations[:, 3] > 0).astype(int)

    returns = evaluate_policy("CartPole-v1", heuristic, n_episodes=4, seed=3)
    assert returns.shape == (4,)
    assert np.all(returns > 100)  # the heuristic balances the pole
    assert max(calls) == 4  # one call for all running episodes
    np.testing.assert_array_equal(returns, evaluate_policy("CartPole-v1", heuristic, 4, seed=3))
    left = evaluate_policy("CartPole-v1", lambda o: np.zeros(len(o), dtype=int), 4, seed=3)
    assert np.all(left < 50)
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate_policy("CartPole-v1", heuristic, 0)
