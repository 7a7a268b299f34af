"""FittedQIteration on a tiny chain MDP with a known optimal policy."""

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skdistill import FittedQIteration

# States 0..6 on a line; actions -1 (left) and +1 (right). Reaching 0 pays 0.5
# and reaching 6 pays 1; both end the episode. With gamma = 0.8 the optimal
# policy goes left from state 1 only (0.5 now beats 0.8^4 later).
N_STATES, GAMMA, REWARD_LEFT, REWARD_RIGHT = 7, 0.8, 0.5, 1.0


def _chain(repeat=1):
    s = np.repeat(np.arange(1, N_STATES - 1), 2)
    a = np.tile([-1, 1], N_STATES - 2)
    s_next = s + a
    r = np.where(s_next == 0, REWARD_LEFT, 0.0)
    r += np.where(s_next == N_STATES - 1, REWARD_RIGHT, 0.0)
    done = (s_next == 0) | (s_next == N_STATES - 1)
    columns = (s[:, None].astype(float), a, r, s_next[:, None].astype(float), done)
    return tuple(np.tile(x, (repeat,) + (1,) * (x.ndim - 1)) for x in columns)


def _value_iteration(n_iterations):
    """Q_n(s, a) of the chain by dynamic programming, states 1..5, actions (left, right)."""
    Q = np.zeros((N_STATES, 2))
    for _ in range(n_iterations):
        V = np.r_[0.0, Q[1:-1].max(axis=1), 0.0]
        new = np.zeros_like(Q)
        for s in range(1, N_STATES - 1):
            for j, step in enumerate((-1, 1)):
                s2 = s + step
                r = REWARD_LEFT if s2 == 0 else REWARD_RIGHT if s2 == N_STATES - 1 else 0.0
                new[s, j] = r + GAMMA * V[s2]
        Q = new
    return Q[1:-1]


def test_chain_q_values_and_optimal_policy():
    fqi = FittedQIteration(DecisionTreeRegressor(), gamma=GAMMA, n_iterations=12).fit(*_chain())
    states = np.arange(1, N_STATES - 1)[:, None].astype(float)
    np.testing.assert_allclose(fqi.q_values(states), _value_iteration(12), atol=1e-12)
    np.testing.assert_array_equal(fqi.predict(states), [-1, 1, 1, 1, 1])
    assert fqi.n_iter_ == 12 and list(fqi.classes_) == [-1, 1]


def test_default_extra_trees_find_the_optimal_policy():
    fqi = FittedQIteration(gamma=GAMMA, n_iterations=12, random_state=0).fit(*_chain(repeat=3))
    assert isinstance(fqi.estimator_, ExtraTreesRegressor)
    np.testing.assert_array_equal(fqi.predict(np.arange(1, 6)[:, None]), [-1, 1, 1, 1, 1])


def test_terminals_stop_bootstrapping():
    s, a, r, s2, done = _chain()
    fqi = FittedQIteration(DecisionTreeRegressor(), gamma=GAMMA, n_iterations=12)
    ignored = fqi.fit(s, a, r, s2)
    states = np.arange(1, N_STATES - 1)[:, None].astype(float)
    # Without terminals the ends bootstrap from the values learned next to them.
    assert np.all(ignored.q_values(states) >= _value_iteration(12) - 1e-12)
    assert ignored.q_values(states)[4, 1] > _value_iteration(12)[4, 1] + 0.1


def test_mapping_input_sample_weight_and_warm_start():
    s, a, r, s2, done = _chain()
    data = dict(observations=s, actions=a, rewards=r, next_observations=s2, terminals=done)
    tree = DecisionTreeRegressor()
    twice = FittedQIteration(tree, gamma=GAMMA, n_iterations=6).fit(*_chain(repeat=2))
    weighted = FittedQIteration(tree, gamma=GAMMA, n_iterations=6).fit(
        data, sample_weight=np.full(len(s), 2.0)
    )
    np.testing.assert_allclose(weighted.q_values(s), twice.q_values(s))
    warm = FittedQIteration(tree, gamma=GAMMA, n_iterations=3, warm_start=True)
    warm.fit(data).fit(data)
    assert warm.n_iter_ == 6
    np.testing.assert_allclose(warm.q_values(s), weighted.q_values(s))


def test_random_state_makes_fits_reproducible():
    fits = [
        FittedQIteration(
            ExtraTreesRegressor(n_estimators=5), gamma=GAMMA, n_iterations=4, random_state=1
        )
        .fit(*_chain(repeat=2))
        .q_values(np.arange(7)[:, None] + 0.3)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*fits)


def test_bad_input():
    s, a, r, s2, done = _chain()
    with pytest.raises(ValueError, match="gamma"):
        FittedQIteration(gamma=1.0).fit(s, a, r, s2, done)
    with pytest.raises(ValueError, match="Mismatched lengths"):
        FittedQIteration().fit(s, a[:-1], r, s2, done)
    with pytest.raises(ValueError, match="finite set"):
        FittedQIteration().fit(s, a + 0.5, r, s2, done)
    with pytest.raises(ValueError, match="does not accept"):
        FittedQIteration(KNeighborsRegressor()).fit(
            s, a, r, s2, done, sample_weight=np.ones(len(s))
        )
    fqi = FittedQIteration(DecisionTreeRegressor(), n_iterations=2).fit(s, a, r, s2, done)
    with pytest.raises(ValueError, match="features"):
        fqi.predict(np.zeros((3, 2)))


@pytest.mark.parametrize("method", ["predict", "q_values"])
def test_predict_before_fit_is_not_fitted_error(method):
    # predict read classes_ before checking, an AttributeError.
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="FittedQIteration instance is not fitted yet"):
        getattr(FittedQIteration(), method)(np.zeros((3, 1)))


def _mlp(**params):
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0, **params)


@pytest.mark.parametrize("scaling", ["standard", "rms"])
@pytest.mark.parametrize("warm_start", [False, True])
def test_target_scaling_makes_q_equivariant_to_reward_scale(scaling, warm_start):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    s, a, r, s2, done = _chain()
    states = np.arange(1, N_STATES - 1)[:, None].astype(float)
    q = {}
    for kind in (None, scaling):
        for c in (1.0, 1000.0):
            fqi = FittedQIteration(
                _mlp(warm_start=warm_start), gamma=GAMMA, n_iterations=4,
                warm_start=warm_start, target_scaling=kind,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                q[kind, c] = fqi.fit(s, a, c * r, s2, done).q_values(states)
    np.testing.assert_allclose(q[scaling, 1000.0], 1000.0 * q[scaling, 1.0], rtol=1e-6)
    # Unscaled, the network's fit depends on the size of the rewards.
    assert not np.allclose(q[None, 1000.0], 1000.0 * q[None, 1.0], rtol=1e-3)


@pytest.mark.parametrize("scaling", ["standard", "rms"])
def test_target_scaling_maps_q_values_back(scaling):
    # A tree fits its targets exactly, so the scaled fit must give the same Q.
    states = np.arange(1, N_STATES - 1)[:, None].astype(float)
    fqi = FittedQIteration(
        DecisionTreeRegressor(), gamma=GAMMA, n_iterations=12, target_scaling=scaling
    ).fit(*_chain())
    np.testing.assert_allclose(fqi.q_values(states), _value_iteration(12), atol=1e-12)
    # Warm starts keep the offset and scale of the iteration they continue from.
    s, a, r, s2, done = _chain()
    warm = FittedQIteration(
        DecisionTreeRegressor(), gamma=GAMMA, n_iterations=6, warm_start=True,
        target_scaling=scaling,
    )
    warm.fit(s, a, r, s2, done).fit(s, a, r, s2, done)
    np.testing.assert_allclose(warm.q_values(states), _value_iteration(12), atol=1e-12)
    # Switching the scaling off (continuing, or afresh) drops the old statistics.
    warm.set_params(target_scaling=None).fit(s, a, r, s2, done)
    np.testing.assert_allclose(warm.q_values(states), _value_iteration(18), atol=1e-12)
    fqi.set_params(target_scaling=None, n_iterations=3).fit(s, a, r, s2, done)
    assert not hasattr(fqi, "target_scale_")
    np.testing.assert_allclose(fqi.q_values(states), _value_iteration(3), atol=1e-12)


def test_target_scaling_statistics_and_constant_rewards():
    s, a, r, s2, done = _chain()
    w = np.linspace(0.5, 2.0, len(s))
    one = FittedQIteration(
        DecisionTreeRegressor(), n_iterations=1, target_scaling="standard"
    ).fit(s, a, r, s2, done, sample_weight=w)
    mean = np.average(r, weights=w)
    assert one.target_offset_ == pytest.approx(mean)
    assert one.target_scale_ == pytest.approx(np.sqrt(np.average((r - mean) ** 2, weights=w)))
    rms = FittedQIteration(DecisionTreeRegressor(), n_iterations=1, target_scaling="rms")
    rms.fit(s, a, r, s2, done, sample_weight=w)
    assert rms.target_offset_ == 0.0
    assert rms.target_scale_ == pytest.approx(np.sqrt(np.average(r**2, weights=w)))
    # Constant rewards (CartPole pays 1 every step): the first iteration only shifts.
    ones = np.ones(len(s))
    const = FittedQIteration(DecisionTreeRegressor(), n_iterations=1, target_scaling="standard")
    const.fit(s, a, ones, s2, done)
    assert const.target_scale_ == 1.0
    np.testing.assert_allclose(const.q_values(s), 1.0)
    with pytest.raises(ValueError, match="target_scaling"):
        FittedQIteration(target_scaling="minmax").fit(s, a, r, s2, done)


def test_sample_weight_reaches_the_last_step_of_a_pipeline():
    s, a, r, s2, done = _chain(repeat=3)
    rng = np.random.default_rng(0)
    r = r + rng.normal(size=len(r))  # noisy rewards: the weights change the fitted means
    w = rng.uniform(0.5, 2.0, size=len(s))
    pipe = make_pipeline(StandardScaler(), DecisionTreeRegressor(random_state=0))
    piped = FittedQIteration(pipe, n_iterations=5).fit(s, a, r, s2, done, sample_weight=w)
    bare = FittedQIteration(DecisionTreeRegressor(random_state=0), n_iterations=5)
    bare.fit(s, a, r, s2, done, sample_weight=w)
    unweighted = FittedQIteration(pipe, n_iterations=5).fit(s, a, r, s2, done)
    np.testing.assert_allclose(piped.q_values(s), bare.q_values(s))
    assert not np.allclose(piped.q_values(s), unweighted.q_values(s))
    with pytest.raises(ValueError, match="KNeighborsRegressor.fit does not accept"):
        FittedQIteration(make_pipeline(StandardScaler(), KNeighborsRegressor())).fit(
            s, a, r, s2, done, sample_weight=w
        )
