"""Reweighting real transitions: calibration weights per (action, terminal) cell.

Within a cell the action and terminal flag are fixed, so every decomposable
linear Bellman loss of the cell is a function of the mean and covariance of its
rows ``(s, r, s')``, or of ``(s, r)`` in a terminal cell, whose next states are
never bootstrapped from. Calibrating the weights of real transitions to those
moments (:func:`~skdistill._core.reweight.calibrate`) therefore matches every
decomposable Bellman loss exactly while every transition stays a real one.
"""

import numpy as np

from .._core.candidates import exchange_candidates
from .._core.moments import compute_moments
from .._core.reweight import n_constraints

# A cell with at most this many times its constraints is taken whole: random
# candidates that few rarely admit non-negative calibration weights.
WHOLE_FACTOR = 2


def cell_width(n_features, terminal):
    """Columns whose moments a cell's decomposable Bellman losses depend on.

    ``2 d + 1`` for ``(s, r, s')``, ``d + 1`` for ``(s, r)`` in a terminal cell.
    """
    return np.where(terminal, n_features + 1, 2 * n_features + 1)


def cell_constraints(n_features, terminals):
    """Moment constraints ``D`` of every cell (:func:`~skdistill._core.reweight.n_constraints`)."""
    return np.array([n_constraints(int(q)) for q in cell_width(n_features, terminals)])


def reweight_minimum(sizes, terminals, n_features):
    """Fewest transitions per cell for exact weights: the whole cell when it is small.

    A cell of at most ``WHOLE_FACTOR * D`` transitions is taken whole (uniform
    weights are exact for it); a larger one needs ``D + 1`` (Caratheodory's
    bound, which the exchange of candidates reaches only sometimes: more rows
    make exact, near-uniform weights likelier).

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.rl._reweight import reweight_minimum
    >>> reweight_minimum(np.array([30, 10_000]), np.array([True, False]), 4)
    array([30, 56])
    """
    D = cell_constraints(n_features, terminals)
    return np.where(sizes <= WHOLE_FACTOR * D, sizes, np.minimum(sizes, D + 1))


def reweight_cell(Z, w, count, terminal, rng):
    """``count`` of a cell's transitions and their calibration weights.

    Parameters
    ----------
    Z : ndarray of shape (n_cell, 2 d + 1)
        The cell's rows ``(s, r, s')``.
    w : ndarray of shape (n_cell,)
        Their positive training weights.
    count : int
        Transitions to keep.
    terminal : bool
        Whether the cell is terminal (its next states do not count).
    rng : numpy.random.Generator
        Draws the candidates, with probability proportional to ``w``.

    Returns
    -------
    index : ndarray of shape (count,)
        Ascending positions in the cell of the transitions kept.
    weight : ndarray of shape (count,)
        Their non-negative weights, summing to ``w.sum()``.
    met : bool
        Whether the weights match the cell's moments (always, for a cell taken whole).
    """
    if count >= len(Z):
        return np.arange(len(Z)), np.asarray(w, dtype=np.float64).copy(), True
    X = Z[:, : int(cell_width((Z.shape[1] - 1) // 2, terminal))]
    moments = compute_moments(X, np.empty((len(X), 0)), w)
    start = rng.choice(len(X), count, replace=False, p=w / w.sum())
    index, _, calibration = exchange_candidates(
        X, start, np.full(count, w.sum() / count), moments
    )
    order = np.argsort(index)
    return index[order], calibration.weights[order], calibration.met


def shortfall_message(cells, n_features, m, loss_gap):
    """The warning for weights that cannot meet every cell's moments.

    Parameters
    ----------
    cells : CellLayout
    n_features : int
        State features ``d``.
    m : int
        ``n_synthetic``.
    loss_gap : float
        The certificate of the transitions returned.
    """
    D = cell_constraints(n_features, cells.terminals)
    needed = int(reweight_minimum(cells.sizes, cells.terminals, n_features).sum())
    return (
        f"solver='reweight' could not match the moments of every (action, terminal) cell "
        f"exactly with n_synthetic={m}: the closest non-negative weights are used, and every "
        f"decomposable linear Bellman loss is certified within a factor 1 +- {loss_gap:.3g} "
        f"of its training loss. A cell has {int(D.max())} moment constraints "
        f"({int(D.min())} if terminal); exact weights need at least {needed} transitions "
        f"(cells of at most {WHOLE_FACTOR} x their constraints whole, one more than the "
        "constraints of each other cell), and candidates drawn at random often more."
    )
