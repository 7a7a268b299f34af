"""Calibration weights: non-negative weights of real rows with the training moments.

For candidate rows ``z_1..z_m`` with base weights ``u > 0`` and the training moments
of total weight ``W``, find ``w >= 0`` closest to ``u`` in the chi-square distance
``sum_i (w_i - u_i)^2 / u_i`` with ``sum_i w_i phi(z_i) = W E[phi(z)]``, ``phi(z)``
the upper triangle of ``[z, 1][z, 1]^T``: ``D = p (p + 1) / 2`` constraints,
``p = q + 1`` (without an intercept, of ``z z^T``, and the weight sum). This is
calibration weighting (Deville and Sarndal, JASA 1992): ``w = u (1 + Phi lambda)``
in closed form; where that is negative, the truncated ``w = u max(0, 1 + Phi
lambda)`` from a concave dual; where no non-negative weights meet the constraints,
the closest in least squares. Constraints are taken in the training set's whitened
coordinates, where their Frobenius residual bounds the multiplicative certificate
of :mod:`~skdistill._core.certificate`.
"""

from typing import NamedTuple

import numpy as np
from scipy import linalg, optimize

from .moments import second_moment_matrix
from .standardise import whitener
from .threads import single_threaded_blas

# Relative constraint residual (Frobenius, whitened) below which the moments count as met.
MET_TOL = 1e-10
# Weight of the proximity term of the closest non-negative weights, against the constraints.
_PROXIMITY = 1e-4


class Calibration(NamedTuple):
    """Calibration weights and whether they meet the constraints.

    Attributes
    ----------
    weights : ndarray of shape (m,)
        Non-negative weights (of sum ``W`` where the constraints are met).
    met : bool
        Whether the relative residual is at most :data:`MET_TOL`.
    residual : float
        ``||sum_i w_i phi(z_i) / W - E[phi]|| / ||E[phi]||`` in whitened coordinates.
    n_constraints : int
        Number ``D`` of moment constraints.
    rank : int
        Number of independent constraints among the candidates.
    """

    weights: np.ndarray
    met: bool
    residual: float
    n_constraints: int
    rank: int


def n_constraints(q, fit_intercept=True):
    """Moment constraints for rows of width ``q``: ``p (p + 1) / 2``, ``p = q + 1``.

    Without an intercept, the ``q (q + 1) / 2`` second moments and the weight sum.
    """
    p = q + 1 if fit_intercept else q
    return p * (p + 1) // 2 + (0 if fit_intercept else 1)


def _pairs(H):
    """Upper-triangle products of the columns of H, off-diagonals times sqrt(2).

    The Euclidean norm of the result is the Frobenius norm of ``H^T H``'s triangle.
    """
    i, j = np.triu_indices(H.shape[1])
    scale = np.where(i == j, 1.0, np.sqrt(2.0))
    return H[:, i] * H[:, j] * scale


def constraint_system(Z, moments, fit_intercept=True):
    """The constraints ``A t = b`` on the weight fractions ``t = w / W``.

    Parameters
    ----------
    Z : ndarray of shape (m, q)
        Candidate rows.
    moments : Moments
        Training moments of the rows.
    fit_intercept : bool, default=True
        Match the mean and covariance, or the uncentred second moment only.

    Returns
    -------
    A : ndarray of shape (D', m)
        ``phi`` of each candidate in whitened coordinates (one column per row);
        ``D' <= D`` where the training rows do not span every direction.
    b : ndarray of shape (D',)
        ``E[phi]`` over the training rows.
    """
    white = whitener(moments, fit_intercept)
    T = (white.basis / white.root) / white.scale[:, None]  # (q, r)
    S = (np.asarray(Z, dtype=np.float64) - white.shift) @ T
    M = second_moment_matrix(
        (moments.mean - white.shift) @ T, T.T @ moments.covariance @ T, fit_intercept
    )
    ones = np.ones((S.shape[0], 1))
    H = np.hstack([S, ones]) if fit_intercept else S
    i, j = np.triu_indices(M.shape[0])
    b = M[i, j] * np.where(i == j, 1.0, np.sqrt(2.0))
    A = _pairs(H)
    if not fit_intercept:  # the weight sum, which the second moments do not fix
        A, b = np.hstack([A, ones]), np.append(b, 1.0)
    return A.T, b


def _relative_residual(A, t, b):
    return float(np.linalg.norm(A @ t - b) / max(np.linalg.norm(b), np.finfo(float).tiny))


def closed_form(A, b, t0):
    """Chi-square-closest weight fractions meeting ``A t = b``, signs unconstrained.

    ``t = t0 (1 + A^T lambda)`` with the minimum-norm ``lambda`` (Deville and
    Sarndal's linear calibration), through the SVD of ``A diag(sqrt(t0))``.

    Returns
    -------
    t : ndarray of shape (m,)
    U, s : ndarray
        Left singular vectors and values spanning the candidates' constraints.
    """
    root = np.sqrt(t0)
    U, s, Vt = linalg.svd(A * root, full_matrices=False)
    keep = s > s.max(initial=0.0) * max(A.shape) * np.finfo(np.float64).eps
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    step = Vt.T @ ((U.T @ (b - A @ t0)) / s)
    return t0 + root * step, U, s


def truncated(A, b, t0, U, s):
    """Chi-square-closest non-negative weight fractions ``t0 max(0, 1 + a_i^T lambda)``.

    Minimises the convex dual ``sum_i t0_i max(0, 1 + a_i^T lambda)^2 / 2 - b^T
    lambda`` (``scipy.optimize.minimize``) in the candidates' constraint space,
    scaled (``U / s``) to a unit Hessian at 0. The caller checks the residual.
    """
    C = (U / s).T @ A  # (r, m): the constraints in the scaled basis
    d = (U / s).T @ b

    def weights(mu):
        return t0 * np.maximum(0.0, 1.0 + C.T @ mu)

    def fun(mu):
        return 0.5 * np.sum(t0 * np.maximum(0.0, 1.0 + C.T @ mu) ** 2) - d @ mu

    def jac(mu):
        return C @ weights(mu) - d

    def hess(mu):
        active = (1.0 + C.T @ mu) > 0
        return (C[:, active] * t0[active]) @ C[:, active].T

    result = optimize.minimize(
        fun,
        np.zeros(C.shape[0]),
        jac=jac,
        hess=hess,
        method="trust-exact",
        options={"gtol": 1e-14, "maxiter": 100},
    )
    return weights(result.x)


def _feasible(A, b):
    """Whether some ``t >= 0`` meets ``A t = b``: a feasibility LP (HiGHS), cheap
    against the dual's iterations, which do not converge where there is none."""
    result = optimize.linprog(
        np.zeros(A.shape[1]), A_eq=A, b_eq=b, bounds=(0, None), method="highs"
    )
    return result.status == 0  # not where HiGHS proves infeasibility or gives up


def nearest_feasible(A, b, t0):
    """Non-negative fractions of least constraint residual, tied to ``t0`` by a small term.

    ``min ||A t - b||^2 + rho^2 sum_i (t_i - t0_i)^2 / t0_i`` over ``t >= 0``
    (``scipy.optimize.nnls``, an active-set method, much faster here than
    ``lsq_linear``), with ``rho`` small against the constraints.
    """
    root = np.sqrt(t0)
    rho = _PROXIMITY * np.linalg.norm(b)
    lhs = np.vstack([A, np.diag(rho / root)])
    rhs = np.concatenate([b, rho * root])
    t, _ = optimize.nnls(lhs, rhs, maxiter=50 * lhs.shape[1])
    return t


def calibrate(Z, base_weight, moments, fit_intercept=True):
    """Non-negative weights of the rows ``Z`` closest to ``base_weight`` with the training moments.

    Tries, in order, the closed form (when it is non-negative), the truncated
    linear calibration, and the closest non-negative weights.

    Parameters
    ----------
    Z : ndarray of shape (m, q)
        Candidate rows.
    base_weight : ndarray of shape (m,)
        Positive base (design) weights ``u``.
    moments : Moments
        Training moments of the rows, of weight sum ``W``.
    fit_intercept : bool, default=True
        Match the mean and covariance, or the uncentred second moment; and the
        weight sum ``W`` either way.

    Returns
    -------
    Calibration
    """
    u = np.asarray(base_weight, dtype=np.float64)
    if np.any(u <= 0):
        raise ValueError("The base weights of calibration must be positive.")
    with single_threaded_blas():  # matrices of a few hundred rows: see single_threaded_blas
        return _calibrate(Z, u, moments, fit_intercept)


def _calibrate(Z, u, moments, fit_intercept):
    W = moments.weight_sum
    A, b = constraint_system(Z, moments, fit_intercept)
    t0 = u / W
    t, U, s = closed_form(A, b, t0)
    met = t.min(initial=0.0) >= 0 and _relative_residual(A, t, b) <= MET_TOL
    if not met and _feasible(A, b):
        t = truncated(A, b, t0, U, s)
        met = _relative_residual(A, t, b) <= MET_TOL
    if not met:
        t = np.maximum(nearest_feasible(A, b, t0), 0.0)
    residual = _relative_residual(A, t, b)
    D = n_constraints(np.shape(Z)[1], fit_intercept)
    return Calibration(W * t, bool(met), residual, D, int(s.size))


def reweight_shortfall_message(m, n_constraints, loss_gap, rank=None):
    """The warning for weights that cannot meet the moment constraints.

    Parameters
    ----------
    m : int
        Number of rows reweighted (``n_synthetic``).
    n_constraints : int
        Number ``D`` of moment constraints (:func:`n_constraints`).
    loss_gap : float
        The certificate of the closest weights.
    rank : int or None
        Independent constraints among the rows, when known.
    """
    if m < n_constraints:
        why = (
            f"{m} rows cannot meet the {n_constraints} moment constraints "
            "(p (p + 1) / 2 for p = n_features + n_targets + 1)"
        )
    else:
        spanned = "" if rank is None else f" (they span {rank} of them)"
        why = (
            f"no non-negative weights of these {m} rows meet the {n_constraints} moment "
            f"constraints{spanned}: rare categories or extreme rows of the training data "
            "are missing from them"
        )
    return (
        f"solver='reweight' could not match the training moments exactly: {why}. Used "
        "the closest non-negative weights; every linear model's loss is certified "
        f"within a factor 1 +- {loss_gap:.3g} of its training loss. Exact weights need "
        f"n_synthetic >= {n_constraints} rows, and rows drawn at random often several "
        "times that (every rare category must be among them); or use solver='exact', "
        "which moves the rows."
    )
