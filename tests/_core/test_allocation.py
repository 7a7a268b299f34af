"""Apportionment of rows to cells within bounds."""

import numpy as np

from skdistill._core.allocation import allocate_cells


def test_allocate_cells_bounds_and_proportions():
    counts = allocate_cells([900.0, 90.0, 10.0], 100, np.array([1, 1, 8]), np.array([900, 90, 10]))
    assert counts.tolist() == [84, 8, 8]
    counts = allocate_cells([1.0, 1.0, 1.0], 10, np.ones(3, int), np.array([2, 50, 50]))
    assert counts.tolist() == [2, 4, 4]
