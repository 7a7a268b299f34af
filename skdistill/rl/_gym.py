"""Offline-RL datasets from gymnasium environments (the optional ``rl`` extra)."""

from numbers import Integral, Real

import numpy as np

from .._core.sklearn_private import HasMethods, Interval, validate_params


def _import_gymnasium():
    try:
        import gymnasium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "This needs gymnasium, which is an optional dependency of "
            "skdistill: install it with `pip install skdistill[rl]`."
        ) from exc
    return gymnasium


@validate_params(
    {
        "env": [str, HasMethods(["reset", "step"])],
        "n_transitions": [Interval(Integral, 1, None, closed="left")],
        "policy": [callable, None],
        "epsilon": [Interval(Real, 0, 1, closed="both")],
        "seed": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def collect_transitions(env, n_transitions, *, policy=None, epsilon=0.0, seed=None):
    """Collect ``n_transitions`` transitions from a gymnasium environment.

    Episodes are run back to back until ``n_transitions`` steps are recorded (the
    last episode is cut short). A step is recorded as terminal when the
    environment reports ``terminated`` (the episode really ended: no bootstrap
    from the next state); a time limit (``truncated``) is *not* terminal and is
    recorded in ``timeouts`` instead, as D4RL does.

    Parameters
    ----------
    env : str or gymnasium.Env
        An environment, or the id given to ``gymnasium.make`` (the environment is
        then closed on return). Its action space must be ``Discrete``.
    n_transitions : int
        Number of transitions to record.
    policy : callable, default=None
        ``policy(observation) -> action`` for one observation; ``None`` means
        uniformly random actions.
    epsilon : float, default=0.0
        Probability of replacing the policy's action by a uniformly random one
        (epsilon-greedy exploration).
    seed : int or None, default=None
        Seeds the first reset of the environment and the exploration, so that
        the dataset is reproducible.

    Returns
    -------
    transitions : dict
        ``observations`` and ``next_observations`` (n, obs_dim), ``actions`` (n,),
        ``rewards`` (n,), ``terminals`` (n,) bool and ``timeouts`` (n,) bool: the
        keys of D4RL datasets, accepted as they are by
        :class:`~skdistill.BellmanDistiller` and
        :class:`~skdistill.FittedQIteration`.

    Examples
    --------
    >>> from skdistill import collect_transitions
    >>> data = collect_transitions("CartPole-v1", 200, seed=0)
    >>> data["observations"].shape, data["terminals"].dtype
    ((200, 4), dtype('bool'))
    """
    gymnasium = _import_gymnasium()
    owned = isinstance(env, str)
    if owned:
        env = gymnasium.make(env)
    try:
        space = env.action_space
        if not isinstance(space, gymnasium.spaces.Discrete):
            raise ValueError(
                f"collect_transitions needs a Discrete action space, got {space}: the "
                "max over actions of Q-learning needs a finite set of actions."
            )
        rng = np.random.default_rng(seed)
        actions_set = space.start + np.arange(space.n)
        env_seed = None if seed is None else int(rng.integers(np.iinfo(np.int32).max))
        obs, _ = env.reset(seed=env_seed)
        columns = {key: [] for key in ("obs", "act", "rew", "next", "term", "trunc")}
        for _ in range(n_transitions):
            if policy is None or rng.random() < epsilon:
                action = rng.choice(actions_set)
            else:
                action = policy(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            columns["obs"].append(obs)
            columns["act"].append(action)
            columns["rew"].append(reward)
            columns["next"].append(next_obs)
            columns["term"].append(bool(terminated))
            columns["trunc"].append(bool(truncated) and not terminated)
            obs = next_obs
            if terminated or truncated:
                obs, _ = env.reset()
    finally:
        if owned:
            env.close()
    return {
        "observations": np.asarray(columns["obs"]),
        "actions": np.asarray(columns["act"]).astype(np.int64),
        "rewards": np.asarray(columns["rew"], dtype=np.float64),
        "next_observations": np.asarray(columns["next"]),
        "terminals": np.asarray(columns["term"], dtype=bool),
        "timeouts": np.asarray(columns["trunc"], dtype=bool),
    }


@validate_params(
    {
        "env": [str],
        "policy": [HasMethods(["predict"]), callable],
        "n_episodes": [Interval(Integral, 1, None, closed="left")],
        "seed": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_policy(env, policy, n_episodes=10, *, seed=None):
    """Returns of a policy over ``n_episodes`` episodes, run side by side.

    The episodes step together, so the policy is asked once per time step for
    the actions of all the episodes still running (one ``predict`` call on a
    batch instead of one per episode and step). An episode ends when the
    environment reports ``terminated`` or ``truncated``.

    Parameters
    ----------
    env : str
        Id of a gymnasium environment; one copy per episode is made and closed.
    policy : object with ``predict`` or callable
        Maps a batch of observations (n, obs_dim) to actions (n,), e.g. a fitted
        :class:`~skdistill.FittedQIteration`.
    n_episodes : int, default=10
        Number of episodes.
    seed : int or None, default=None
        Episode ``i`` starts from ``reset(seed=seed + i)``; ``None`` leaves the
        resets unseeded.

    Returns
    -------
    returns : ndarray of shape (n_episodes,)
        Undiscounted return of every episode.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import evaluate_policy
    >>> always_left = lambda observations: np.zeros(len(observations), dtype=int)
    >>> evaluate_policy("CartPole-v1", always_left, n_episodes=3, seed=0).shape
    (3,)
    """
    gymnasium = _import_gymnasium()
    act = policy.predict if hasattr(policy, "predict") else policy
    envs = [gymnasium.make(env) for _ in range(n_episodes)]
    try:
        obs = np.stack(
            [e.reset(seed=None if seed is None else seed + i)[0] for i, e in enumerate(envs)]
        )
        returns = np.zeros(n_episodes)
        running = np.ones(n_episodes, dtype=bool)
        while running.any():
            live = np.flatnonzero(running)
            for i, action in zip(live, act(obs[live])):
                obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
                returns[i] += reward
                running[i] = not (terminated or truncated)
    finally:
        for e in envs:
            e.close()
    return returns
