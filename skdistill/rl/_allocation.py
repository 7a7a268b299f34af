"""Synthetic transitions per (action, terminal) cell, by what each solver needs."""

import numpy as np

from .._core.allocation import allocate_cells
from .._core.exact import min_rows_exact
from ._reweight import reweight_minimum


def exact_minimum(sizes, n_features):
    """Rows per cell of an exact moment match: ``min(cell size, 2 d + 2)``."""
    return np.minimum(sizes, min_rows_exact(2 * n_features + 1, True))


def allocate_transitions(cells, m, n_features, solver, init, keep_terminals=False):
    """Synthetic transitions per cell, and whether they start as exact matches.

    Every cell gets at least one transition and, where ``m`` allows, what its
    solver needs to be exact (:func:`exact_minimum`,
    :func:`~skdistill.rl._reweight.reweight_minimum`); the rest is shared in
    proportion to the cells' training weights.

    Parameters
    ----------
    cells : CellLayout
    m : int
        Synthetic transitions in all.
    n_features : int
        State features ``d``.
    solver : {"exact", "lbfgs", "select", "reweight"}
    init : {"auto", "exact", "subset"}
        Start of ``"lbfgs"``.
    keep_terminals : bool, default=False
        Give every terminal cell all its transitions.

    Returns
    -------
    counts : ndarray of shape (n_cells,)
    exact_start : bool
    """
    if m < cells.n_cells:
        raise ValueError(
            f"n_synthetic={m} is smaller than the number of (action, terminal) cells "
            f"with data ({cells.n_cells}): every cell needs a synthetic transition "
            "for the weights to restore the training proportions."
        )
    floor = (
        cells.keep_terminals_floor(m, "n_synthetic")
        if keep_terminals
        else np.ones_like(cells.sizes)
    )
    if solver == "reweight":
        minimum = np.maximum(reweight_minimum(cells.sizes, cells.terminals, n_features), floor)
        minimum = minimum if minimum.sum() <= m else floor  # the distiller warns
        return allocate_cells(cells.weights, m, minimum, cells.sizes), False
    exact_min = np.maximum(exact_minimum(cells.sizes, n_features), floor)
    exact_possible = exact_min.sum() <= m
    start = {"exact": "exact", "select": "subset"}.get(solver, init)
    if start == "exact" and not exact_possible:
        raise ValueError(
            f"An exact per-cell moment match needs min(cell size, 2 * n_features + 2 = "
            f"{min_rows_exact(2 * n_features + 1, True)}) synthetic transitions in each of the "
            f"{cells.n_cells} (action, terminal) cells, {int(exact_min.sum())} in all; "
            f"got n_synthetic={m}. Use more, or solver='lbfgs' with init='subset'."
        )
    exact_start = start != "subset" and exact_possible
    minimum = exact_min if exact_start else floor
    return allocate_cells(cells.weights, m, minimum, cells.sizes), exact_start
