"""Bellman losses of linear Q-predictors, and the rows whose moments fix them.

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

import numpy as np

from .._core.certificate import multiplicative_gap
from .._core.moments import compute_moments, default_chunk_size
from .._core.standardise import homogenise, standardiser


def pack_rows(S, r, S2):
    """Rows ``(s, r, s')`` of transitions, in float64.

    Returns
    -------
    Z : ndarray of shape (n, 2 d + 1)
    """
    return np.hstack([S, r[:, None], S2]).astype(np.float64)


def unpack_rows(Z):
    """States, rewards and next states ``(S, r, S2)`` of rows ``(s, r, s')``."""
    d = (Z.shape[1] - 1) // 2
    return Z[:, :d], Z[:, d], Z[:, d + 1 :]


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
    return (homogenise(S) @ W.reshape(k * n_actions, p).T).reshape(S.shape[0], k, n_actions)


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
    n = S.shape[0]
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
    S, r, S2 = unpack_rows(X)
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


def decomposable_loss_gap(train, synthetic, n_actions):
    """Multiplicative certificate of every decomposable Bellman loss.

    The Bellman loss of a decomposable predictor is ``u^T M u`` for the second
    moment ``M`` of the rows of :func:`decomposable_rows`, so
    :func:`~skdistill._core.certificate.multiplicative_gap` of the synthetic and
    training ``M`` (standardised, without centring, by the training rows) is the
    largest relative gap ``|L_syn / L_train - 1|`` over every decomposable
    predictor and reward scale.

    Parameters
    ----------
    train : tuple (S, a, r, S2, t, sample_weight)
        The training transitions, actions as indices.
    synthetic : tuple (Z, a, t, sample_weight)
        The synthetic rows ``(s, r, s')``, action indices, terminal flags and weights.
    n_actions : int

    Returns
    -------
    gap : float
    """
    S, a, r, S2, t, w = train
    rows = decomposable_rows(S.astype(np.float64), a, r, S2.astype(np.float64), t, n_actions)
    moments = compute_moments(rows, np.empty((len(rows), 0)), w)
    scaling = standardiser(moments, centre=False)
    Z_syn, a_syn, t_syn, w_syn = synthetic
    S_syn, r_syn, S2_syn = unpack_rows(Z_syn)
    rows = decomposable_rows(S_syn, a_syn, r_syn, S2_syn, t_syn, n_actions)
    syn = compute_moments(rows, np.empty((len(rows), 0)), w_syn)
    return multiplicative_gap(
        scaling.second_moment(syn, fit_intercept=False),
        scaling.second_moment(moments, fit_intercept=False),
    )
