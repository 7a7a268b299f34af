"""Fitted-Q Iteration: offline Q-learning with any scikit-learn regressor."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from .._core.random_models import seed_sequence
from .._core.sklearn_private import HasMethods, Interval, StrOptions, _fit_context
from ._transitions import check_transitions


class FittedQIteration(BaseEstimator):
    """Fitted-Q Iteration (Ernst, Geurts and Wehenkel, 2005) over any regressor.

    The regressor learns ``Q(s, a)`` on the inputs ``[s, onehot(a)]``. The first
    iteration fits the rewards; every further iteration fits the Bellman targets
    ``r + gamma (1 - terminal) max_a' Q(s', a')`` of the previous Q-function,
    so that a terminal transition never bootstraps from its next state. The
    greedy policy picks ``argmax_a Q(s, a)``.

    Parameters
    ----------
    estimator : regressor object, default=None
        Fitted afresh (a clone) at every iteration. ``None`` means
        ``ExtraTreesRegressor(n_estimators=50, min_samples_leaf=2)``, the
        regressor of Ernst et al.
    gamma : float, default=0.99
        Discount factor in [0, 1).
    n_iterations : int, default=50
        Number of Bellman iterations (the horizon the Q-function can see).
    warm_start : bool, default=False
        When True, every iteration refits the previous iteration's regressor
        instead of a fresh clone (a regressor with its own ``warm_start``, such as
        ``MLPRegressor(warm_start=True)``, then continues from its previous
        weights), and calling ``fit`` again continues iterating from the current
        Q-function.
    random_state : int, RandomState instance or None, default=None
        When not None, sets the ``random_state`` parameter of the regressor of
        every iteration (if it has one) from one seed sequence, as scikit-learn's
        ensembles do; ``None`` leaves the regressor's own setting.
    target_scaling : {None, "standard", "rms"}, default=None
        Rescaling of every iteration's targets before the regressor fits them,
        undone when Q-values are computed, so that the regressor always sees
        targets of unit size however large the rewards or ``1 / (1 - gamma)``
        are (gradient-trained regressors such as ``MLPRegressor`` need it; trees
        do not). ``"standard"`` fits ``(y - mean) / std`` and ``"rms"`` fits
        ``y / sqrt(mean(y ** 2))``, with the (``sample_weight``-weighted)
        statistics of that iteration's targets ``y``; a scale of zero (constant
        targets) is replaced by 1. The statistics are recomputed at every
        iteration and kept with the regressor, so they survive ``warm_start``,
        unlike :class:`~sklearn.compose.TransformedTargetRegressor`, which
        clones its regressor at every fit. Q-values then scale with the
        rewards: rewards ``c r`` (``c > 0``) give Q-values ``c Q``. ``None``
        fits the targets as they are.

    Attributes
    ----------
    estimator_ : regressor object
        The regressor of the last iteration: ``Q(s, a)`` on ``[s, onehot(a)]``
        (in the units of the scaled targets when ``target_scaling`` is set).
    classes_ : ndarray of shape (n_actions,)
        The action labels seen during fit.
    n_iter_ : int
        Bellman iterations run so far.
    n_features_in_ : int
        Number of observation features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the observation features, when observations is a DataFrame.
    target_offset_ : float
        Offset subtracted from the last iteration's targets (the mean for
        ``target_scaling="standard"``, 0 for ``"rms"``). Only when
        ``target_scaling`` is not None.
    target_scale_ : float
        Scale the last iteration's targets were divided by; ``Q(s, a)`` is
        ``target_offset_ + target_scale_ * estimator_.predict([s, onehot(a)])``.
        Only when ``target_scaling`` is not None.

    See Also
    --------
    BellmanDistiller : Distil transitions for FQI.

    Examples
    --------
    A chain of five states; the right end pays 1 and ends the episode.

    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skdistill import FittedQIteration
    >>> s = np.repeat(np.arange(5), 2)
    >>> a = np.tile([-1, 1], 5)
    >>> s_next = np.clip(s + a, 0, 4)
    >>> rewards = (s_next == 4).astype(float)
    >>> fqi = FittedQIteration(DecisionTreeRegressor(), gamma=0.9, n_iterations=10)
    >>> fqi = fqi.fit(s[:, None], a, rewards, s_next[:, None], terminals=s_next == 4)
    >>> fqi.predict(np.arange(4)[:, None])
    array([1, 1, 1, 1])
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "predict"])],
        "gamma": [Interval(Real, 0, 1, closed="left")],
        "n_iterations": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "target_scaling": [None, StrOptions({"standard", "rms"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        gamma=0.99,
        n_iterations=50,
        warm_start=False,
        random_state=None,
        target_scaling=None,
    ):
        self.estimator = estimator
        self.gamma = gamma
        self.n_iterations = n_iterations
        self.warm_start = warm_start
        self.random_state = random_state
        self.target_scaling = target_scaling

    def _inputs(self, S, a):
        onehot = np.zeros((S.shape[0], len(self.classes_)), dtype=S.dtype)
        onehot[np.arange(S.shape[0]), a] = 1
        return np.hstack([S, onehot])

    def _q(self, S):
        n, n_actions = S.shape[0], len(self.classes_)
        S_rep = np.repeat(S, n_actions, axis=0)
        a_rep = np.tile(np.arange(n_actions), n)
        q = self.estimator_.predict(self._inputs(S_rep, a_rep))
        if hasattr(self, "target_scale_"):
            q = self.target_offset_ + self.target_scale_ * q
        return q.reshape(n, n_actions)

    def _scaling(self, target, sample_weight):
        """Offset and scale that map this iteration's targets to unit size."""
        if self.target_scaling == "standard":
            offset = np.average(target, weights=sample_weight)
            scale = np.sqrt(np.average((target - offset) ** 2, weights=sample_weight))
        else:
            offset, scale = 0.0, np.sqrt(np.average(target**2, weights=sample_weight))
        # Constant (or zero) targets: shift only, never divide by ~0.
        tiny = 1e-12 * max(1.0, abs(offset))
        return float(offset), float(scale) if scale > tiny else 1.0

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        observations,
        actions=None,
        rewards=None,
        next_observations=None,
        terminals=None,
        sample_weight=None,
    ):
        """Run Fitted-Q Iteration on a transition set.

        Parameters
        ----------
        observations : array-like of shape (n_samples, n_features) or mapping
            States; or a mapping with the keys ``observations``, ``actions``,
            ``rewards``, ``next_observations`` and optionally ``terminals`` (as in
            D4RL datasets), in which case the other arrays are not passed.
        actions : array-like of shape (n_samples,)
            Integer action labels.
        rewards : array-like of shape (n_samples,)
            Rewards of the transitions.
        next_observations : array-like of shape (n_samples, n_features)
            States the transitions lead to.
        terminals : array-like of shape (n_samples,), default=None
            True where the episode ended (no bootstrap); ``None`` means none did.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the transitions, passed to the regressor's ``fit`` (to the
            last step of a :class:`~sklearn.pipeline.Pipeline`).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        continuing = self.warm_start and hasattr(self, "estimator_")
        S, a, r, S2, t, sw, classes = check_transitions(
            self, observations, actions, rewards, next_observations, terminals, sample_weight
        )
        if continuing and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the same action set as before: {self.classes_}, "
                f"got {classes}."
            )
        self.classes_ = classes
        base = ExtraTreesRegressor(n_estimators=50, min_samples_leaf=2)
        base = base if self.estimator is None else self.estimator
        fit_params = {}
        if sw is not None:
            fit_params[_sample_weight_key(base)] = sw
        seeds = None
        if self.random_state is not None and "random_state" in base.get_params():
            seeds = seed_sequence(self.random_state).generate_state(self.n_iterations)
        inputs = self._inputs(S, a)
        live = self.gamma * ~t
        if not continuing:
            self.n_iter_ = 0
            for name in ("target_offset_", "target_scale_"):
                self.__dict__.pop(name, None)
        for it in range(self.n_iterations):
            if self.n_iter_ == 0:
                target = r
            else:
                target = r + live * self._q(S2).max(axis=1)
            reg = self.estimator_ if continuing or (self.warm_start and it) else clone(base)
            if seeds is not None:
                reg.set_params(random_state=int(seeds[it]))
            if self.target_scaling is not None:
                self.target_offset_, self.target_scale_ = self._scaling(target, sw)
                target = (target - self.target_offset_) / self.target_scale_
            elif hasattr(self, "target_scale_"):  # continuing a scaled fit unscaled
                self.target_offset_, self.target_scale_ = 0.0, 1.0
            self.estimator_ = reg.fit(inputs, target, **fit_params)
            self.n_iter_ += 1
        return self

    def q_values(self, observations):
        """Q-values of every action.

        Parameters
        ----------
        observations : array-like of shape (n_samples, n_features)
            States.

        Returns
        -------
        Q : ndarray of shape (n_samples, n_actions)
            ``Q[i, j]`` is the value of action ``classes_[j]`` in state i.
        """
        check_is_fitted(self)
        S = validate_data(
            self, observations, reset=False, dtype=[np.float64, np.float32]
        )
        return self._q(S)

    def predict(self, observations):
        """Greedy actions ``argmax_a Q(s, a)``.

        Parameters
        ----------
        observations : array-like of shape (n_samples, n_features)
            States.

        Returns
        -------
        actions : ndarray of shape (n_samples,)
            Action labels from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[self.q_values(observations).argmax(axis=1)]


def _sample_weight_key(estimator):
    """The fit keyword that takes ``sample_weight``: a pipeline's goes to its last step."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        if has_fit_parameter(last, "sample_weight"):
            return f"{name}__sample_weight"
        estimator = last
    elif has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    raise ValueError(
        f"sample_weight was given but {type(estimator).__name__}.fit does not accept it."
    )
