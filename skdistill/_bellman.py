"""Offline RL: distil transition data by matching Bellman losses of random Q-predictors.

A linear Q-predictor on a finite action set is ``W`` (n_actions x (d + 1)) with
``Q(s, a) = W[a] . [s, 1]``, and its Bellman loss with reward scale ``lam`` on a
(weighted) transition set is

    L(W, lam) = sum_i w_i delta_i^2 / sum_i w_i,
    delta_i = Q(s_i, a_i) - lam r_i - gamma (1 - terminal_i) max_a' Q(s'_i, a').

Decomposable predictors share the state part across actions,
``W[a] = [w_state, w_action[a]]``; then ``max_a' Q(s', a') = w_state . s' +
max(w_action)`` and ``delta_i = u . z_i`` is linear in the row
``z = (s, onehot(a), r, (1 - terminal) s', 1 - terminal)`` with
``u = (w_state, w_action, -lam, -gamma w_state, -gamma max(w_action))``: the loss
is ``u^T E[z z^T] u``, so matching the mean and covariance of ``(s, r, s')`` in
every (action, terminal) cell, with the cells' training weights, matches the
Bellman loss of every decomposable predictor exactly.
"""

from collections import namedtuple
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_array, validate_data

from ._core.certificate import loss_gap
from ._core.exact import match_moments_exact, min_rows_exact
from ._core.lbfgs import minimize_lbfgs
from ._core.moments import compute_moments, default_chunk_size
from ._core.allocation import allocate_cells
from ._core.herding import herd
from ._core.random_models import auto_n_models, map_random_blocks, seed_sequence

# Transitional: the standardiser's old functional form (issue 11 removes it).
from ._core.standardise import Standardiser as _Standardiser  # noqa: E402
from ._core.standardise import standardiser as _standardiser  # noqa: E402


def standardiser(moments, fit_intercept=True):
    s = _standardiser(moments, fit_intercept)
    return s.shift, s.scale


def standardised_second_moment(moments, shift, scale, fit_intercept=True):
    return _Standardiser(shift, scale).second_moment(moments, fit_intercept)


Transitions = namedtuple(
    "Transitions",
    [
        "observations",
        "actions",
        "rewards",
        "next_observations",
        "terminals",
        "sample_weight",
    ],
)
Transitions.__doc__ = """Transitions ``(s, a, r, s', terminal)`` with a weight per transition.

Attributes
----------
observations : ndarray of shape (n, n_features)
actions : ndarray of shape (n,)
rewards : ndarray of shape (n,)
next_observations : ndarray of shape (n, n_features)
terminals : ndarray of shape (n,), dtype bool
sample_weight : ndarray of shape (n,)
"""

# Random predictors per block: fixed, so predictors and their training losses
# depend on the seed only, never on n_jobs.
_PREDICTOR_BLOCK = 32
# Held-out random predictors for ``heldout_loss_gap_``.
_N_CHECK = 200
# solver="select": at most this many predictors with n_predictors="auto" (herding
# costs O(pool k) per selected row), and candidates per selected row in a cell.
_MAX_SELECT_PREDICTORS = 128
_POOL_FACTOR = 20
_KEYS = ("observations", "actions", "rewards", "next_observations")


# --------------------------------------------------------------------------- maths


def _homogenise(S):
    return np.hstack([S, np.ones((S.shape[0], 1))])


def q_values_linear(W, S):
    """Q-values ``W[j, a] . [s, 1]`` of k per-action linear predictors.

    Parameters
    ----------
    W : ndarray of shape (k, n_actions, d + 1)
    S : ndarray of shape (n, d)

    Returns
    -------
    Q : ndarray of shape (n, k, n_actions)
    """
    k, n_actions, p = W.shape
    return (_homogenise(S) @ W.reshape(k * n_actions, p).T).reshape(S.shape[0], k, n_actions)


def bellman_residuals(W, lam, S, a, r, S2, t, gamma):
    """Bellman residuals ``delta[i, j]`` of k linear predictors on n transitions.

    Parameters
    ----------
    W : ndarray of shape (k, n_actions, d + 1)
        Per-action linear predictors.
    lam : ndarray of shape (k,)
        Reward scales.
    S, S2 : ndarray of shape (n, d)
        States and next states.
    a : ndarray of shape (n,)
        Action indices in ``range(n_actions)``.
    r : ndarray of shape (n,)
    t : ndarray of shape (n,), dtype bool
        Terminal flags: no bootstrap from ``S2`` where True.
    gamma : float

    Returns
    -------
    delta : ndarray of shape (n, k)
    """
    q = q_values_linear(W, S)[np.arange(S.shape[0]), :, a]
    v_next = q_values_linear(W, S2).max(axis=2)
    return q - np.outer(r, lam) - (gamma * ~t)[:, None] * v_next


def bellman_losses(W, lam, S, a, r, S2, t, gamma, sample_weight=None, chunk_size=None):
    """Weighted mean squared Bellman residual of each predictor, in row chunks.

    Parameters are those of :func:`bellman_residuals`, plus ``sample_weight``
    (n,) and ``chunk_size`` (rows per chunk; ``None`` bounds a chunk's residual
    arrays to about 4 MiB).

    Returns
    -------
    losses : ndarray of shape (k,)
    """
    n = S.shape[0]
    k, n_actions, _ = W.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if chunk_size is None:
        chunk_size = default_chunk_size(k * (n_actions + 1))
    total = np.zeros(k)
    for start in range(0, n, chunk_size):
        sl = slice(start, start + chunk_size)
        delta = bellman_residuals(W, lam, S[sl], a[sl], r[sl], S2[sl], t[sl], gamma)
        total += w[sl] @ delta**2
    return total / w.sum()


def decomposable_predictors(w_state, w_action):
    """Per-action form ``W[j, a] = [w_state[j], w_action[j, a]]`` of decomposable predictors.

    Parameters
    ----------
    w_state : ndarray of shape (k, d)
    w_action : ndarray of shape (k, n_actions)

    Returns
    -------
    W : ndarray of shape (k, n_actions, d + 1)
    """
    k, d = w_state.shape
    W = np.empty((k, w_action.shape[1], d + 1))
    W[:, :, :d] = w_state[:, None, :]
    W[:, :, d] = w_action
    return W


def decomposable_rows(S, a, r, S2, t, n_actions):
    """Rows ``z = (s, onehot(a), r, (1 - t) s', 1 - t)`` whose moments fix every loss.

    Returns
    -------
    Z : ndarray of shape (n, 2 d + n_actions + 2)
    """
    n, d = S.shape
    live = (~t).astype(np.float64)
    onehot = np.zeros((n, n_actions))
    onehot[np.arange(n), a] = 1.0
    return np.hstack([S, onehot, r[:, None], S2 * live[:, None], live[:, None]])


def decomposable_coefficients(w_state, w_action, lam, gamma):
    """``u`` with ``delta = u . z`` for the rows of :func:`decomposable_rows`.

    Returns
    -------
    U : ndarray of shape (k, 2 d + n_actions + 2)
    """
    return np.hstack(
        [
            w_state,
            w_action,
            -lam[:, None],
            -gamma * w_state,
            -gamma * w_action.max(axis=1, keepdims=True),
        ]
    )


def bellman_matching_objective(x, W, lam, targets, a, t, sample_weight, gamma, shape):
    """The paper's Algorithm 2 objective and its (sub)gradient.

    ``f = (1 / k) sum_j (L_j(x) - targets_j)^2`` where ``L_j(x)`` is the
    weighted Bellman loss of predictor j on the synthetic transitions whose
    states, rewards and next states are packed in ``x``; actions, terminal flags
    and weights stay fixed. The gradient goes through the max over next actions
    at the maximising action (a subgradient at ties).

    Parameters
    ----------
    x : ndarray of shape (m * (2 d + 1),)
        Rows ``(s, r, s')``, flattened.
    W, lam : predictors, as in :func:`bellman_residuals`.
    targets : ndarray of shape (k,)
        Training Bellman losses.
    a, t, sample_weight : ndarray of shape (m,)
        Synthetic actions (indices), terminal flags and weights.
    gamma : float
    shape : tuple (m, d)

    Returns
    -------
    f : float
    grad : ndarray of shape (m * (2 d + 1),)
    """
    m, d = shape
    X = x.reshape(m, 2 * d + 1)
    S, r, S2 = X[:, :d], X[:, d], X[:, d + 1 :]
    k, n_actions, _ = W.shape
    rows = np.arange(m)
    q = q_values_linear(W, S)[rows, :, a]
    Q2 = q_values_linear(W, S2)
    best = Q2.argmax(axis=2)
    v_next = np.take_along_axis(Q2, best[:, :, None], axis=2)[:, :, 0]
    live = gamma * ~t
    delta = q - np.outer(r, lam) - live[:, None] * v_next
    weight_sum = sample_weight.sum()
    e = (sample_weight @ delta**2) / weight_sum - targets
    G = (4.0 / (k * weight_sum)) * (sample_weight[:, None] * delta) * e[None, :]
    grad = np.zeros((m, 2 * d + 1))
    grad[:, d] = -G @ lam
    grad_next = np.zeros((m, d))
    for b in range(n_actions):
        grad[a == b, :d] = G[a == b] @ W[:, b, :d]
        grad_next += (G * (best == b)) @ W[:, b, :d]
    grad[:, d + 1 :] = -live[:, None] * grad_next
    return float(e @ e) / k, grad.ravel()


# ---------------------------------------------------------------------- validation


def _unpack_mapping(observations, actions, rewards, next_observations, terminals):
    """Arrays from a D4RL/Minari-style mapping passed as the first argument."""
    if not isinstance(observations, Mapping):
        if actions is None or rewards is None or next_observations is None:
            raise ValueError(
                "Pass observations, actions, rewards and next_observations, or one mapping "
                "with the keys 'observations', 'actions', 'rewards', 'next_observations' "
                "(and optionally 'terminals')."
            )
        return observations, actions, rewards, next_observations, terminals
    data = observations
    if any(arg is not None for arg in (actions, rewards, next_observations, terminals)):
        raise ValueError(
            "When the first argument is a mapping of arrays, pass no other arrays "
            "(sample_weight excepted)."
        )
    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise ValueError(
            f"The transitions mapping lacks the key(s) {missing}; it needs "
            f"{list(_KEYS)} and optionally 'terminals' (or 'terminations')."
        )
    terminals = data.get("terminals", data.get("terminations"))
    return (*(data[key] for key in _KEYS), terminals)


def _check_actions(actions, n):
    actions = np.asarray(actions)
    if actions.ndim == 2 and actions.shape[1] == 1:
        actions = actions.ravel()
    finite_set = (
        "The max over next actions in the Bellman target needs a finite set of "
        "discrete actions; continuous or multi-dimensional actions are not supported."
    )
    if actions.ndim != 1:
        raise ValueError(
            f"actions must hold one discrete action per transition, shape ({n},); got "
            f"shape {actions.shape}. {finite_set}"
        )
    if actions.dtype.kind == "b":
        actions = actions.astype(np.int64)
    elif actions.dtype.kind == "f":
        if not np.all(np.isfinite(actions)):
            raise ValueError("Input actions contains NaN or infinity.")
        if np.any(actions != np.round(actions)):
            bad = actions[actions != np.round(actions)][0]
            raise ValueError(
                f"actions must be integer labels; got non-integer values such as {bad!r}. "
                f"{finite_set}"
            )
        actions = actions.astype(np.int64)
    elif actions.dtype.kind not in "iu":
        raise ValueError(
            f"actions must be integer labels; got an array of dtype {actions.dtype}. "
            f"{finite_set}"
        )
    return actions


def _check_terminals(terminals, n):
    if terminals is None:
        return np.zeros(n, dtype=bool)
    terminals = np.asarray(terminals)
    if terminals.ndim == 2 and terminals.shape[1] == 1:
        terminals = terminals.ravel()
    if terminals.ndim != 1:
        raise ValueError(f"terminals must have shape ({n},); got shape {terminals.shape}.")
    if terminals.dtype.kind == "b":
        return terminals
    if terminals.dtype.kind in "iuf" and np.all((terminals == 0) | (terminals == 1)):
        return terminals.astype(bool)
    raise ValueError(
        "terminals must be boolean (True/False, or 0/1); got values other than 0 and 1 "
        f"(dtype {terminals.dtype})."
    )


def check_transitions(
    estimator,
    observations,
    actions=None,
    rewards=None,
    next_observations=None,
    terminals=None,
    sample_weight=None,
):
    """Validate a transition set for fitting; sets ``n_features_in_`` on ``estimator``.

    Returns
    -------
    S, S2 : ndarray of shape (n, d), float64 or float32 (the input's)
    a : ndarray of shape (n,)
        Action indices into ``classes``.
    r : ndarray of shape (n,), float64
    t : ndarray of shape (n,), bool
    sample_weight : ndarray of shape (n,) or None
    classes : ndarray
        The sorted distinct action labels.
    """
    observations, actions, rewards, next_observations, terminals = _unpack_mapping(
        observations, actions, rewards, next_observations, terminals
    )
    lengths = {
        name: len(arr)
        for name, arr in [
            ("observations", observations),
            ("actions", actions),
            ("rewards", rewards),
            ("next_observations", next_observations),
            ("terminals", terminals),
            ("sample_weight", sample_weight),
        ]
        if arr is not None
    }
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "Mismatched lengths: every array needs one entry per transition; got "
            + ", ".join(f"{name}: {length}" for name, length in lengths.items())
            + "."
        )
    validate_data(estimator, observations, skip_check_array=True)
    S = check_array(observations, dtype=[np.float64, np.float32], input_name="observations")
    n, d = S.shape
    S2 = check_array(
        next_observations, dtype=[np.float64, np.float32], input_name="next_observations"
    )
    if S2.shape != S.shape:
        raise ValueError(
            f"next_observations must have the shape of observations {S.shape}; got {S2.shape}."
        )
    S2 = S2.astype(S.dtype, copy=False)
    r = check_array(rewards, ensure_2d=False, dtype=np.float64, input_name="rewards")
    if r.ndim == 2 and r.shape[1] == 1:
        r = r.ravel()
    if r.ndim != 1:
        raise ValueError(f"rewards must have shape ({n},); got shape {r.shape}.")
    actions = _check_actions(actions, n)
    classes, a = np.unique(actions, return_inverse=True)
    t = _check_terminals(terminals, n)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, S, dtype=np.float64, ensure_non_negative=True
        )
        if not np.all(np.isfinite(sample_weight)) or sample_weight.sum() <= 0:
            raise ValueError("sample_weight must be finite with a positive sum.")
    return S, a, r, S2, t, sample_weight, classes


# -------------------------------------------------------------------- the estimator


def draw_predictors(rng, n_predictors, features, n_actions, n_features):
    """Random linear Q-predictors ``(W, lam)`` in standardised coordinates.

    Entries of ``W`` are ``N(0, 1 / (d + 1))`` (so that Q-values of
    standardised states are of order 1) and reward scales ``lam ~ N(0, 1)``.
    Decomposable predictors share their state weights across actions.

    Returns
    -------
    W : ndarray of shape (n_predictors, n_actions, n_features + 1)
    lam : ndarray of shape (n_predictors,)
    """
    scale = 1.0 / np.sqrt(n_features + 1)
    if features == "per_action":
        W = rng.standard_normal((n_predictors, n_actions, n_features + 1)) * scale
    else:
        w_state = rng.standard_normal((n_predictors, n_features)) * scale
        w_action = rng.standard_normal((n_predictors, n_actions)) * scale
        W = decomposable_predictors(w_state, w_action)
    return W, rng.standard_normal(n_predictors)


class BellmanDistiller(BaseEstimator):
    """Distil offline-RL transitions by matching Bellman losses of random Q-predictors.

    Transitions ``(s, a, r, s', terminal)`` with a finite action set are
    split into (action, terminal) cells; the synthetic set keeps every cell's
    share of the training weight (``sample_weight_`` restores the exact shares
    after rounding), its actions and terminal flags, and chooses states,
    rewards and next states so that Bellman losses of random linear
    Q-predictors agree with the training set's:

    - ``features="decomposable"``, ``solver="exact"`` (default):
      ``Q(s, a) = w . s + b[a]``. The Bellman loss of every such predictor is a
      quadratic form in the first and second moments of ``(s, r, s')`` per
      cell, so matching each cell's mean and covariance exactly (the
      closed-form construction of :class:`LossMatchingDistiller`, per cell)
      matches every decomposable Bellman loss, for every reward scale, exactly.
      ``loss_gap_`` certifies it. A cell needs ``min(cell size, 2 d + 2)``
      synthetic transitions for this, so small cells (terminals) get at least
      that many, with correspondingly smaller weights.
    - ``solver="lbfgs"``: the paper's Algorithm 2. ``n_predictors`` random
      predictors ``(W_j, lam_j)`` -- per-action linear ``Q(s, a) = W_j[a] .
      [s, 1]`` for ``features="per_action"`` -- and their training Bellman
      losses (computed in blocks of predictors, in parallel over ``n_jobs``
      threads); the synthetic states, rewards and next states minimise the
      squared loss mismatch by L-BFGS, with subgradients through the max over
      next actions, started from the exact decomposable solution or a random
      stratified subset (``init``).
    - ``solver="select"``: no transition is moved. In every cell, real
      transitions are chosen one at a time (herding) so that the mean of their
      relative Bellman losses tracks the cell's, for ``n_predictors`` random
      predictors (candidates: the cell's transitions, or a random pool of 20
      per transition to choose in large cells); all chosen transitions of a
      cell get the same weight. Next states stay the successors of their
      states.

    Where it helps and where it does not: a linear Q-learner on decomposable
    features sees the full data's Bellman losses exactly, and per-action linear
    ones approximately. This does not carry over to tree-based Fitted-Q
    Iteration. In ``benchmarks/bench_rl.py`` (CartPole-v1 and Acrobot-v1,
    20,000 transitions, ExtraTrees FQI, 10 seeds), every solver at 1,000 and
    2,000 transitions gave worse policies than a random subset of the same size
    stratified by (action, terminal). In units of the full-data return, the
    paired differences were -0.18 +- 0.08 (``"exact"``), -0.24 +- 0.08
    (``"lbfgs"``) and -0.25 +- 0.07 (``"select"``). ``"exact"`` and
    ``"lbfgs"`` move ``s`` and ``s'`` independently, so a synthetic ``s'`` is
    no longer the successor of ``(s, a)``. Only at 200 transitions (1% of the
    data) did ``"select"`` beat the stratified subset: +0.83 +- 0.13 on
    CartPole and +0.18 +- 0.11 on Acrobot. To train a nonlinear Q-learner on
    1,000 or more transitions, use the stratified subset
    (:func:`skdistill.baselines.stratified_subset`).

    Parameters
    ----------
    n_synthetic : int, default=100
        Number of synthetic transitions.
    gamma : float, default=0.99
        Discount factor in [0, 1).
    features : {"decomposable", "per_action"}, default="decomposable"
        Family of linear Q-predictors whose Bellman losses are matched. With
        ``solver="select"``, ``"per_action"`` is the better choice: herding on
        decomposable losses (second moments only) matches them closely by
        choosing unrepresentative transitions.
    solver : {"exact", "lbfgs", "select"}, default="exact"
        Closed-form per-cell moment matching (decomposable features only), the
        paper's L-BFGS loss matching, or loss matching by selecting real
        transitions.
    n_predictors : "auto" or int, default="auto"
        Random predictors ``k`` for ``"lbfgs"`` and ``"select"``. ``"auto"`` is
        ``ceil(p (p + 1) / 2 * max(2, ln p))`` for ``p`` predictor parameters
        (``n_actions (d + 1) + 1`` per-action, ``d + n_actions + 1``
        decomposable), as for :class:`LossMatchingDistiller`, at most 128 for
        ``"select"`` (whose cost is ``O(k)`` per candidate and chosen row); the
        paper used 20.
    init : {"auto", "exact", "subset"}, default="auto"
        Start of ``solver="lbfgs"``: the exact decomposable solution, or a
        random stratified subset; ``"auto"`` takes the exact solution when every
        cell has enough synthetic rows for it.
    max_iter : int, default=300
        Maximum L-BFGS iterations.
    tol : float, default=0.0
        L-BFGS stops when the objective falls by less than ``tol`` (relative)
        in a step or the projected gradient is below ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the start subsets (candidate pools for ``"select"``), the
        predictors and the held-out check. The result depends on it alone,
        not on ``n_jobs``.
    n_jobs : int, default=None
        Threads (joblib) for the predictors' training losses. The moment passes
        over the transitions use the threads BLAS has, like ``X.T @ X``.
    verbose : int, default=0
        Verbosity; ``1`` prints L-BFGS progress.

    Attributes
    ----------
    transitions_ : Transitions
        The synthetic transitions (as returned by ``fit_resample``).
    sample_weight_ : ndarray of shape (n_synthetic,)
        Synthetic weights: a cell's training weight over its synthetic rows,
        so the weights sum to the training weight and restore the cells'
        proportions exactly.
    classes_ : ndarray of shape (n_actions,)
        The action labels seen during fit.
    cell_counts_ : dict
        Synthetic transitions per ``(action label, terminal)`` cell.
    loss_gap_ : float
        ``"exact"``: the certificate ``||M_syn - M_train||_2 / ||M_train||_2``
        on the standardised second moments of ``(s, onehot(a), r, (1 - t) s',
        1 - t)``, which bounds the relative gap of every decomposable Bellman
        loss; the other solvers: the relative error on held-out random
        predictors (as ``heldout_loss_gap_``).
    heldout_loss_gap_ : float
        Largest relative Bellman-loss error ``|L_syn - L_train| / L_train`` on
        200 fresh random predictors of the ``features`` family.
    predictors_ : tuple (W, lam)
        The matched predictors (``"lbfgs"``, ``"select"``) or the held-out
        ones (``"exact"``), in standardised coordinates.
    n_predictors_ : int
        Number of predictors matched (0 for ``"exact"``).
    support_ : ndarray of shape (n_synthetic,) or None
        ``"select"``: indices of the chosen training transitions, cell by
        cell; ``None`` for the solvers that move transitions.
    n_iter_ : int
        L-BFGS iterations (0 for ``"exact"``).
    n_samples_seen_ : int
        Number of training transitions.
    n_features_in_ : int
        Number of observation features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the observation features, when observations is a DataFrame.

    See Also
    --------
    FittedQIteration : Learn a policy from (distilled) transitions.
    LossMatchingDistiller : The supervised counterpart.

    References
    ----------
    .. [1] Gupta, Saket, Raghuveer, "Algorithmic Guarantees for Distilling
       Supervised and Offline RL Datasets", ICLR 2026.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import BellmanDistiller
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(2000, 3))
    >>> a = rng.integers(0, 2, size=2000)
    >>> s_next = s + 0.1 * (2 * a[:, None] - 1)
    >>> r = -np.abs(s_next[:, 0])
    >>> done = np.abs(s_next[:, 0]) > 2.5
    >>> distiller = BellmanDistiller(n_synthetic=50, gamma=0.9, random_state=0)
    >>> syn = distiller.fit_resample(s, a, r, s_next, done)
    >>> syn.observations.shape, sorted(distiller.cell_counts_.values())
    ((50, 3), [8, 8, 17, 17])
    >>> bool(distiller.loss_gap_ < 1e-10)
    True
    """

    _parameter_constraints: dict = {
        "n_synthetic": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="left")],
        "features": [StrOptions({"decomposable", "per_action"})],
        "solver": [StrOptions({"exact", "lbfgs", "select"})],
        "n_predictors": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "exact", "subset"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_synthetic=100,
        *,
        gamma=0.99,
        features="decomposable",
        solver="exact",
        n_predictors="auto",
        init="auto",
        max_iter=300,
        tol=0.0,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_synthetic = n_synthetic
        self.gamma = gamma
        self.features = features
        self.solver = solver
        self.n_predictors = n_predictors
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(
        self,
        observations,
        actions=None,
        rewards=None,
        next_observations=None,
        terminals=None,
        sample_weight=None,
    ):
        """Distil a transition set; the result is in ``transitions_``.

        Parameters are those of :meth:`fit_resample`.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        self.fit_resample(
            observations, actions, rewards, next_observations, terminals, sample_weight
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(
        self,
        observations,
        actions=None,
        rewards=None,
        next_observations=None,
        terminals=None,
        sample_weight=None,
    ):
        """Distil a transition set and return the synthetic transitions.

        Parameters
        ----------
        observations : array-like of shape (n_samples, n_features) or mapping
            States; or a mapping with the keys ``observations``, ``actions``,
            ``rewards``, ``next_observations`` and optionally ``terminals`` (as
            in D4RL datasets), in which case the other arrays are not passed.
        actions : array-like of shape (n_samples,)
            Integer action labels (a finite action set).
        rewards : array-like of shape (n_samples,)
        next_observations : array-like of shape (n_samples, n_features)
        terminals : array-like of shape (n_samples,), default=None
            True (or 1) where the episode ended: no bootstrap from the next
            state. ``None`` means no transition is terminal. Time-limit
            truncations are not terminal.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the transitions.

        Returns
        -------
        transitions : Transitions
            The synthetic ``observations`` and ``next_observations`` (in the
            input's float dtype), ``actions`` (training labels), ``rewards``,
            ``terminals`` (bool) and ``sample_weight``.
        """
        S, a, r, S2, t, sw, classes = check_transitions(
            self, observations, actions, rewards, next_observations, terminals, sample_weight
        )
        n, d = S.shape
        n_actions = len(classes)
        m = self.n_synthetic
        w = np.ones(n) if sw is None else sw
        if self.solver == "exact" and self.features != "decomposable":
            raise ValueError(
                f"solver='exact' matches decomposable predictors only; features="
                f"{self.features!r} has no closed form: use solver='lbfgs'."
            )
        positive = w > 0
        if m > positive.sum():
            raise ValueError(
                f"n_synthetic={m} exceeds the number of transitions (with positive "
                f"sample_weight): n_samples = {int(positive.sum())}. Distil to at most as "
                "many transitions as there are."
            )
        cell = 2 * a + t
        cell_ids = np.unique(cell[positive])
        rows_by_cell = [np.flatnonzero((cell == c) & positive) for c in cell_ids]
        capacity = np.array([len(rows) for rows in rows_by_cell])
        cell_weight = np.array([w[rows].sum() for rows in rows_by_cell])
        if m < len(cell_ids):
            raise ValueError(
                f"n_synthetic={m} is smaller than the number of (action, terminal) cells "
                f"with data ({len(cell_ids)}): every cell needs a synthetic transition "
                "for the weights to restore the training proportions."
            )
        q = 2 * d + 1
        exact_min = np.minimum(capacity, min_rows_exact(q, True))
        exact_possible = exact_min.sum() <= m
        wants_exact = self.solver == "exact" or (self.solver == "lbfgs" and self.init == "exact")
        if wants_exact and not exact_possible:
            raise ValueError(
                f"An exact per-cell moment match needs min(cell size, 2 * n_features + 2 = "
                f"{min_rows_exact(q, True)}) synthetic transitions in each of the "
                f"{len(cell_ids)} (action, terminal) cells, {int(exact_min.sum())} in all; "
                f"got n_synthetic={m}. Use more, or solver='lbfgs' with init='subset'."
            )
        use_exact = self.solver == "exact" or (
            self.solver == "lbfgs" and self.init != "subset" and exact_possible
        )
        counts = allocate_cells(
            cell_weight, m, exact_min if use_exact else np.ones_like(capacity), capacity
        )

        seed = seed_sequence(self.random_state)
        subset_seed, completion_seed, predictor_seed, check_seed = seed.spawn(4)
        Z = np.hstack([S, r[:, None], S2]).astype(np.float64)
        # Standardised coordinates for the predictors: states (and next states, with
        # the same map) centred and scaled, rewards scaled only (a reward shift is
        # not a reparametrisation of the Bellman loss).
        sr = compute_moments(Z[:, : d + 1], np.empty((n, 0)), w)
        shift = np.append(sr.mean[:d], 0.0)
        scale = np.sqrt(np.clip(np.diag(sr.covariance), 0.0, None))
        scale[d] = np.sqrt(scale[d] ** 2 + sr.mean[d] ** 2)
        scale[scale == 0] = 1.0
        shift, scale = np.concatenate([shift, shift[:d]]), np.concatenate([scale, scale[:d]])
        Zs = (Z - shift) / scale

        def losses(W, lam, rows=slice(None)):
            Zr = Zs[rows]
            return bellman_losses(
                W, lam, Zr[:, :d], a[rows], Zr[:, d], Zr[:, d + 1 :], t[rows], self.gamma, w[rows]
            )

        def predictor_block(rng, size):
            W, lam = draw_predictors(rng, size, self.features, n_actions, d)
            return W, lam, losses(W, lam)

        def cell_predictor_block(rng, size):
            W, lam = draw_predictors(rng, size, self.features, n_actions, d)
            return W, lam, np.column_stack([losses(W, lam, rows) for rows in rows_by_cell])

        k = self.n_predictors
        if k == "auto":
            p = n_actions * (d + 1) + 1 if self.features == "per_action" else d + n_actions + 1
            k = auto_n_models(p)
            if self.solver == "select":
                k = min(k, _MAX_SELECT_PREDICTORS)

        self.n_iter_ = 0
        self.n_predictors_ = 0
        self.support_ = None
        subset_rng = np.random.default_rng(subset_seed)
        completion_rng = np.random.default_rng(completion_seed)
        if self.solver == "select":
            W, lam, cell_losses = map_random_blocks(
                cell_predictor_block, k, predictor_seed, n_jobs=self.n_jobs, block=_PREDICTOR_BLOCK
            )
            self.n_predictors_ = k
            self.predictors_ = (W, lam)
        chosen, parts, a_syn, t_syn, w_syn = [], [], [], [], []
        for j, (c, rows, count, weight) in enumerate(
            zip(cell_ids, rows_by_cell, counts, cell_weight)
        ):
            cell_w = np.full(count, weight / count)
            if self.solver == "select":
                pool = rows
                if len(rows) > _POOL_FACTOR * count:
                    pool = np.sort(subset_rng.choice(rows, _POOL_FACTOR * count, replace=False))
                Zp = Zs[pool]
                delta = bellman_residuals(
                    W, lam, Zp[:, :d], a[pool], Zp[:, d], Zp[:, d + 1 :], t[pool], self.gamma
                )
                # Relative losses: the cell's training mean of every column is 1.
                relative = delta**2 / np.maximum(cell_losses[:, j], np.finfo(float).tiny)
                picked = pool[herd(relative, count, np.ones(k))]
                chosen.append(picked)
                Zc = Z[picked]
            elif not use_exact:
                Zc = Z[np.sort(subset_rng.choice(rows, count, replace=False, p=w[rows] / weight))]
            elif count < min_rows_exact(q, True):
                # All of a small cell's transitions: its moments are matched as they are.
                Zc, cell_w = Z[rows], w[rows]
            else:
                start = np.sort(subset_rng.choice(rows, count, replace=False, p=w[rows] / weight))
                moments = compute_moments(Z[rows], np.empty((len(rows), 0)), w[rows])
                Zc = match_moments_exact(
                    Z[start],
                    moments.mean,
                    moments.covariance,
                    fit_intercept=True,
                    random_state=completion_rng,
                )
            parts.append(Zc)
            a_syn.append(np.full(count, c // 2))
            t_syn.append(np.full(count, bool(c % 2)))
            w_syn.append(cell_w)
        Z_syn = np.vstack(parts)
        a_syn, t_syn, w_syn = map(np.concatenate, (a_syn, t_syn, w_syn))
        if self.solver == "select":
            self.support_ = np.concatenate(chosen)

        if self.solver == "lbfgs":
            W, lam, targets = map_random_blocks(
                predictor_block, k, predictor_seed, n_jobs=self.n_jobs, block=_PREDICTOR_BLOCK
            )
            Z_syn, self.n_iter_ = self._solve_lbfgs(
                (Z_syn - shift) / scale, W, lam, targets, a_syn, t_syn, w_syn, d
            )
            Z_syn = Z_syn * scale + shift
            self.n_predictors_ = k
            self.predictors_ = (W, lam)

        W_check, lam_check, L_train = map_random_blocks(
            predictor_block, _N_CHECK, check_seed, n_jobs=self.n_jobs, block=_PREDICTOR_BLOCK
        )
        Zs_syn = (Z_syn - shift) / scale
        L_syn = bellman_losses(
            W_check, lam_check, Zs_syn[:, :d], a_syn, Zs_syn[:, d], Zs_syn[:, d + 1 :],
            t_syn, self.gamma, w_syn,
        )
        self.heldout_loss_gap_ = float(
            np.max(np.abs(L_syn - L_train) / np.maximum(L_train, np.finfo(float).tiny))
        )
        if self.solver == "exact":
            self.predictors_ = (W_check, lam_check)
            self.loss_gap_ = self._certificate(
                (S, a, r, S2, t, w), (Z_syn, a_syn, t_syn, w_syn), n_actions, d
            )
        else:
            self.loss_gap_ = self.heldout_loss_gap_

        self.classes_ = classes
        self.n_samples_seen_ = n
        self.cell_counts_ = {
            (classes[c // 2].item(), bool(c % 2)): int(np.sum(2 * a_syn + t_syn == c))
            for c in cell_ids
        }
        self.sample_weight_ = w_syn
        self.transitions_ = Transitions(
            observations=Z_syn[:, :d].astype(S.dtype),
            actions=classes[a_syn],
            rewards=Z_syn[:, d].copy(),
            next_observations=Z_syn[:, d + 1 :].astype(S.dtype),
            terminals=t_syn,
            sample_weight=w_syn,
        )
        return self.transitions_

    def _certificate(self, train, synthetic, n_actions, d):
        """Spectral certificate on the moments of the decomposable rows."""
        S, a, r, S2, t, w = train
        rows = decomposable_rows(S.astype(np.float64), a, r, S2.astype(np.float64), t, n_actions)
        moments = compute_moments(rows, np.empty((len(rows), 0)), w)
        shift, scale = standardiser(moments, fit_intercept=False)
        M_train = standardised_second_moment(moments, shift, scale, fit_intercept=False)
        Z_syn, a_syn, t_syn, w_syn = synthetic
        rows = decomposable_rows(
            Z_syn[:, :d], a_syn, Z_syn[:, d], Z_syn[:, d + 1 :], t_syn, n_actions
        )
        syn = compute_moments(rows, np.empty((len(rows), 0)), w_syn)
        M_syn = standardised_second_moment(syn, shift, scale, fit_intercept=False)
        return loss_gap(M_syn, M_train)

    def _solve_lbfgs(self, X0, W, lam, targets, a, t, w, d):
        result = minimize_lbfgs(
            bellman_matching_objective,
            X0,
            args=(W, lam, targets, a, t, w, self.gamma, (X0.shape[0], d)),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            label="[BellmanDistiller] L-BFGS",
        )
        return result.x.reshape(X0.shape), int(result.nit)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
