"""Apportionment: whole numbers of rows per cell, proportional within bounds."""

import numpy as np


def allocate_cells(weights, m, minimum, capacity):
    """Rows per cell: as close to proportional to ``weights`` as the bounds allow.

    Cells whose proportional share falls outside ``[minimum, capacity]`` are
    fixed at the bound and the rest is shared among the others in proportion
    (water-filling), then rounded by largest remainders.

    Returns
    -------
    counts : ndarray of int, summing to ``m``
    """
    weights = np.asarray(weights, dtype=np.float64)
    minimum = np.asarray(minimum)
    capacity = np.asarray(capacity)
    target = np.zeros(len(weights))
    free = np.ones(len(weights), dtype=bool)
    for _ in range(len(weights)):
        target[free] = (m - target[~free].sum()) * weights[free] / weights[free].sum()
        low, high = free & (target < minimum), free & (target > capacity)
        if not (low.any() or high.any()):
            break
        target[low], target[high] = minimum[low], capacity[high]
        free &= ~(low | high)
        if not free.any():
            break
    counts = np.clip(np.floor(target).astype(np.int64), minimum, capacity)
    while counts.sum() < m:
        counts[np.argmax(np.where(counts < capacity, target - counts, -np.inf))] += 1
    while counts.sum() > m:
        counts[np.argmax(np.where(counts > minimum, counts - target, -np.inf))] -= 1
    return counts
