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
    W = moments.weight_sum
    u = np.asarray(base_weight, dtype=np.float64)
    if np.any(u <= 0):
        raise ValueError("The base weights of calibration must be positive.")
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


def _minority(Z):
    """Indicators of the rarer value of every two-valued column, rarest columns first."""
    columns, masks = [], []
    for j in range(Z.shape[1]):
        values, counts = np.unique(Z[:, j], return_counts=True)
        if values.size == 2:
            columns.append(counts.min())
            masks.append(Z[:, j] == values[np.argmin(counts)])
    if not masks:
        return np.zeros((Z.shape[0], 0), dtype=bool)
    return np.column_stack(masks)[:, np.argsort(columns, kind="stable")]


def _requirements(B, min_rows, pair_rows):
    """``(rows, need)`` per rare column and per co-occurring pair, rarest first."""
    out = []
    for r in range(B.shape[1]):
        for s in range(r, B.shape[1]):
            rows = B[:, r] & B[:, s]
            count = int(rows.sum())
            if count:
                out.append((count, rows, min(count, min_rows if r == s else pair_rows)))
    out.sort(key=lambda item: item[0])
    return [(rows, need) for _, rows, need in out]


def stratified_candidates(Z, m, rng, *, sample_weight=None, min_rows=None, pair_rows=2):
    """Choose ``m`` candidate rows of ``Z`` among which rare categories are present.

    A rare category absent from the candidates, or two that occur together in the
    data but not among them, make exact weights impossible. So two-valued columns
    (one-hot, binary) are stratified, rarest first: every column's rarer value
    gets ``min(count, min_rows)`` rows and every co-occurring pair of rarer values
    ``min(count, pair_rows)`` (smaller strata are taken whole); the rest are drawn
    with probability proportional to ``sample_weight``. Needs all the rows (an
    in-memory fit); a reservoir of ``m`` rows cannot be stratified afterwards.

    Parameters
    ----------
    Z : ndarray of shape (n, q)
        The pool: training rows ``(x, y)``.
    m : int
        Candidates to choose, at most n.
    rng : numpy.random.Generator
    sample_weight : ndarray of shape (n,) or None
    min_rows : int or None
        Rows per rare value; ``None`` uses ``2 (q + 1)``, twice the constraints
        that involve one column.
    pair_rows : int, default=2
        Rows per co-occurring pair of rare values.

    Returns
    -------
    index : ndarray of shape (m,)
        Sorted row indices.
    base_weight : ndarray of shape (m,)
        Design weights: each row's stratum (its rarest rare value, or none) weight
        over the rows chosen in it; they sum to the pool's weight.
    """
    n, q = Z.shape
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    min_rows = 2 * (q + 1) if min_rows is None else min_rows
    B = _minority(Z)
    chosen = np.zeros(n, dtype=bool)
    for rows, need in _requirements(B, min_rows, pair_rows):
        short = min(need - int(np.count_nonzero(chosen & rows)), m - chosen.sum())
        if short > 0:
            _draw(chosen, rows & ~chosen & (weight > 0), short, weight, rng)
    _draw(chosen, ~chosen & (weight > 0), m - int(chosen.sum()), weight, rng)
    index = np.flatnonzero(chosen)
    stratum = np.argmax(np.column_stack([B, np.ones(n, dtype=bool)]), axis=1)
    pool = np.bincount(stratum, weights=weight, minlength=B.shape[1] + 1)
    taken = np.bincount(stratum[index], minlength=B.shape[1] + 1)
    base = pool[stratum[index]] / taken[stratum[index]]
    return index, base * (weight.sum() / base.sum())


def _draw(chosen, allowed, size, weight, rng):
    """Mark ``size`` rows of ``allowed`` chosen, drawn with probability ∝ weight."""
    pool = np.flatnonzero(allowed)
    size = min(size, pool.size)
    if size > 0:
        p = weight[pool] / weight[pool].sum()
        chosen[rng.choice(pool, size=size, replace=False, p=p)] = True


def exchange_candidates(Z, index, base_weight, moments, fit_intercept=True, max_rounds=10):
    """Swap pool rows into the candidates until calibration is exact (column generation).

    The shortfall ``r = b - A t`` of the closest non-negative weights prices every
    pool row: one with ``phi(z)^T r > 0`` reduces the residual if added. Each round
    replaces up to ``m / 20`` candidates of least weight by the rows of highest
    price, with the mean base weight. Needs the pool in memory.

    Parameters
    ----------
    Z : ndarray of shape (n, q)
        The pool.
    index, base_weight : ndarray of shape (m,)
        Candidates (e.g. from :func:`stratified_candidates`) and their base weights.
    moments : Moments
        Training moments.
    fit_intercept : bool, default=True
    max_rounds : int, default=10

    Returns
    -------
    index, base_weight : ndarray of shape (m,)
    calibration : Calibration
        Of the rows returned.
    """
    index, base = np.asarray(index).copy(), np.asarray(base_weight, float).copy()
    swap = max(1, index.size // 20)
    for _ in range(max_rounds):
        result = calibrate(Z[index], base, moments, fit_intercept)
        if result.met:
            break
        A, b = constraint_system(Z[index], moments, fit_intercept)
        shortfall = b - A @ (result.weights / moments.weight_sum)
        price = np.concatenate(
            [shortfall @ constraint_system(Z[s], moments, fit_intercept)[0]
             for s in np.array_split(np.arange(Z.shape[0]), max(1, Z.shape[0] // 4096))]
        )
        price[index] = -np.inf
        best = np.argsort(-price)[:swap]
        best = best[price[best] > 0]
        if best.size == 0:
            break
        out = np.argsort(result.weights, kind="stable")[: best.size]
        index[out], base[out] = best, base.mean()
    else:
        result = calibrate(Z[index], base, moments, fit_intercept)
    return index, base * (moments.weight_sum / base.sum()), result
