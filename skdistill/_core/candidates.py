"""Candidate rows for calibration weighting: where exact non-negative weights exist.

Calibration (:mod:`~skdistill._core.reweight`) can only reweight the rows it is
given: a rare category absent from them, or a direction of the data they do not
reach, makes exact non-negative weights impossible. These choose the rows.
"""

import numpy as np

from .reweight import calibrate, constraint_system


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
