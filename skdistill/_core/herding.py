"""Herding: a greedy choice of rows whose mean tracks a target mean."""

import numpy as np


def herd(F, size, target=None):
    """Rows of F, without replacement, whose mean tracks ``target`` greedily (herding).

    Step ``t`` adds the row that brings the running mean of the chosen rows
    closest to the target mean; the error of herding decays like ``1 / size``
    where a random choice's decays like ``1 / sqrt(size)``.

    Parameters
    ----------
    F : ndarray of shape (n, k)
    size : int
        Rows to choose, at most n.
    target : ndarray of shape (k,), default=None
        Mean to track; ``None`` means ``F.mean(axis=0)``.

    Returns
    -------
    chosen : ndarray of shape (size,)
        Row indices, in the order chosen.
    """
    n = F.shape[0]
    target = F.mean(axis=0) if target is None else target
    sq = np.einsum("ij,ij->i", F, F)
    f_target = F @ target
    proj = np.zeros(n)  # F @ (sum of the chosen rows)
    chosen = np.empty(size, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    for step in range(size):
        # n ||mean after adding row i - target||^2 up to terms that do not depend on i.
        score = 2.0 * (proj - (step + 1) * f_target) + sq
        score[taken] = np.inf
        i = int(np.argmin(score))
        chosen[step] = i
        taken[i] = True
        proj += F @ F[i]
    return chosen
