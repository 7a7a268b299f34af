"""The objective of random-feature loss matching and its gradient through ``phi``.

For the synthetic rows lifted to ``U`` (m x p, rows ``u = (phi(x_s), x_s, y_s[, 1])``)
and ``Delta = U^T U / m - M_train``, the objective is the mean squared loss mismatch
over random regressors ``v ~ N(0, I / p)``: its exact expectation
``(2 ||Delta||_F^2 + tr(Delta)^2) / p^2``, or the sample mean of ``(v_j^T Delta v_j)^2``
over ``k`` drawn regressors; both relative to the same for ``Delta = M_train``. Neither
forms ``Delta``: ``||Delta||_F^2 = ||U U^T||_F^2 / m^2 - 2 <U M_train, U> / m +
||M_train||_F^2`` and ``v^T Delta v = ||U v||^2 / m - v^T M_train v``, so a step costs
one product ``U M_train`` (``O(m p^2)``, split into fixed row blocks that threads share)
and products with ``m`` or ``k`` rows, instead of two ``p x p`` products and passes.
"""

from typing import NamedTuple

import numpy as np

from ..._core.threads import thread_map


def expected_mismatch(Delta):
    """``p^2 E[(v^T Delta v)^2]`` over ``v ~ N(0, I / p)``: ``2 ||Delta||_F^2 + tr^2``."""
    return 2.0 * float(np.sum(Delta * Delta)) + float(np.trace(Delta)) ** 2


class MatchingProblem(NamedTuple):
    """Everything :func:`rbf_objective` needs besides the rows (see :func:`matching_problem`)."""

    shape: tuple
    W: np.ndarray
    b: np.ndarray
    M_train: np.ndarray
    V: np.ndarray
    targets: np.ndarray
    fit_intercept: bool
    norm: float
    squared_norm: float
    trace: float
    phase_dtype: type
    n_threads: int


def matching_problem(shape, W, b, M_train, V=None, targets=None, fit_intercept=True, *,
                     phase_dtype=np.float64, n_threads=1):
    """The :class:`MatchingProblem` of rows of ``shape`` ``(m, q)``.

    Parameters
    ----------
    shape : tuple (m, q)
    W, b : ndarrays of shape (d, D) and (D,)
        The phases ``x_s W + b`` of the features (``standardised_rbf_weights``).
    M_train : ndarray of shape (p, p)
        Training second moment of ``u``, ``p = D + q + fit_intercept``.
    V : ndarray of shape (k, p), default=None
        Random regressors; ``None`` uses the exact expectation over ``N(0, I / p)``.
    targets : ndarray of shape (k,), default=None
        Training losses of ``V`` (``model_losses(V, M_train)``).
    fit_intercept : bool, default=True
    phase_dtype : dtype, default=np.float64
        Dtype of the cosines and sines of the phases. ``np.float32`` makes them
        20-30 times cheaper, at an error of ``1e-7`` per feature (the phases are
        reduced to ``[-pi, pi]`` in float64 first); everything else is float64.
    n_threads : int, default=1
        Threads sharing the product ``U M_train`` (fixed row blocks: the result
        does not depend on them).
    """
    if V is None:
        norm = expected_mismatch(M_train)
    else:
        norm = float(targets @ targets)
    return MatchingProblem(
        tuple(shape), W, b, M_train, V, targets, fit_intercept, norm,
        float(np.sum(M_train * M_train)), float(np.trace(M_train)), phase_dtype, n_threads,
    )


def _cos_sin(theta, dtype):
    if dtype == np.float64:
        return np.cos(theta), np.sin(theta)
    reduced = (theta - (2 * np.pi) * np.rint(theta / (2 * np.pi))).astype(dtype)
    return np.cos(reduced), np.sin(reduced)


def _lifted(Zs, problem):
    """``U`` of the rows ``Zs`` and the sines of their phases."""
    m, q = Zs.shape
    d, n_components = problem.W.shape
    cos, sin = _cos_sin(Zs[:, :d] @ problem.W + problem.b, problem.phase_dtype)
    U = np.empty((m, n_components + q + problem.fit_intercept))
    U[:, :n_components] = cos
    U[:, :n_components] *= np.sqrt(2.0 / n_components)
    U[:, n_components : n_components + q] = Zs
    if problem.fit_intercept:
        U[:, -1] = 1.0
    return U, sin


def _times_train(U, problem):
    """``U @ M_train`` in two fixed row blocks, shared by ``problem.n_threads`` threads."""
    half = (U.shape[0] + 1) // 2
    blocks = [slice(0, half), slice(half, None)]
    parts = thread_map(lambda rows: U[rows] @ problem.M_train, blocks, problem.n_threads)
    return np.vstack(parts)


def _expected(U, problem):
    """The relative expected mismatch and its gradient with respect to ``U``."""
    m = U.shape[0]
    UM = _times_train(U, problem)
    K = U @ U.T
    trace = float(np.trace(K)) / m - problem.trace
    squared = float(np.sum(K * K)) / m**2 - 2.0 * float(np.vdot(UM, U)) / m
    f = (2.0 * (squared + problem.squared_norm) + trace**2) / problem.norm
    # d f / d U = (2 / m) U (4 Delta + 2 tr(Delta) I) / norm, with U Delta = K U / m - U M.
    R = (K @ U) * (4.0 / m)
    R -= 4.0 * UM
    R += (2.0 * trace) * U
    R *= 2.0 / (m * problem.norm)
    return f, R


def _sampled(U, problem):
    """The relative mean mismatch over ``problem.V`` and its gradient with respect to ``U``."""
    m = U.shape[0]
    P = U @ problem.V.T
    e = np.einsum("ij,ij->j", P, P) / m - problem.targets
    f = float(e @ e) / problem.norm
    R = ((P * e) @ problem.V) * (4.0 / (m * problem.norm))
    return f, R


def rbf_objective(z, problem):
    """Relative loss-mismatch objective and its gradient at the flattened rows ``z``.

    Parameters
    ----------
    z : ndarray of shape (m * q,)
        Standardised synthetic rows ``(x_s, y_s)``, flattened.
    problem : MatchingProblem

    Returns
    -------
    f : float
    grad : ndarray of shape (m * q,)
    """
    m, q = problem.shape
    d, n_components = problem.W.shape
    Zs = z.reshape(m, q)
    U, sin = _lifted(Zs, problem)
    f, R = (_expected if problem.V is None else _sampled)(U, problem)
    grad = R[:, n_components : n_components + q].copy()
    dphi = R[:, :n_components] * sin
    grad[:, :d] -= np.sqrt(2.0 / n_components) * (dphi @ problem.W.T)
    return f, grad.ravel()

