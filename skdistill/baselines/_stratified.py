"""The stratified random subset of transitions: the offline-RL baseline."""

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_consistent_length

from .._core.allocation import allocate_cells
from .._core.random_models import seed_sequence
from ..rl._transitions import CellLayout, check_actions, check_terminals


def stratified_subset(actions, terminals, n_samples, *, keep_terminals=False, random_state=None):
    """Baseline for offline RL: a random subset of transitions stratified by (action, terminal).

    The transitions are split into cells by their action and terminal flag;
    every cell gets a number of rows as close to proportional to its size as
    possible, and at least one while ``n_samples`` allows (terminal transitions
    are often under 1% of the data, and Fitted-Q Iteration needs them), drawn
    uniformly without replacement. With ``keep_terminals=True`` every terminal
    transition is kept and the other cells share the remaining rows in
    proportion; this is the stronger baseline, since terminal transitions are
    what Fitted-Q Iteration starves for in a small subset. Each drawn row weighs ``cell size / rows
    drawn from the cell``, so the weighted cell proportions are exactly the
    data's and the weights sum to the number of transitions (to the size of
    the cells drawn from, when ``n_samples`` is below the number of cells and
    some cells get no row). This is a much
    stronger baseline than a plain random subset, and the one
    :class:`~skdistill.BellmanDistiller` is compared with.

    Parameters
    ----------
    actions : array-like of shape (n_transitions,)
        Integer action labels, checked as :class:`~skdistill.BellmanDistiller`
        checks them.
    terminals : array-like of shape (n_transitions,) or None
        Terminal flags: booleans, or the numbers 0 and 1 (strings such as
        ``'False'`` and NaN are refused); ``None`` means no transition is terminal.
    n_samples : int
        Number of transitions to draw, at most ``n_transitions`` (and, with
        ``keep_terminals=True``, at least the number of terminal transitions
        plus one per non-terminal cell).
    keep_terminals : bool, default=False
        Keep every terminal transition, instead of a proportional share.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Returns
    -------
    indices : ndarray of shape (n_samples,)
        Positions of the drawn transitions, grouped by cell.
    sample_weight : ndarray of shape (n_samples,)
        Their weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.baselines import stratified_subset
    >>> actions = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    >>> terminals = np.array([0, 0, 0, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
    >>> index, weight = stratified_subset(actions, terminals, 5, random_state=0)
    >>> actions[index]
    array([0, 0, 0, 1, 1])
    >>> terminals[index]
    array([False, False,  True, False, False])
    >>> weight
    array([2.5, 2.5, 1. , 2. , 2. ])
    >>> index, weight = stratified_subset(
    ...     actions, terminals, 3, keep_terminals=True, random_state=0
    ... )
    >>> terminals[index], weight
    (array([False,  True, False]), array([5., 1., 4.]))
    """
    n = np.shape(actions)[0]
    actions = check_actions(actions, n)
    terminals = check_terminals(terminals, n)
    check_consistent_length(actions, terminals)
    if not isinstance(n_samples, Integral) or not 1 <= n_samples <= n:
        raise ValueError(
            f"n_samples must be an integer between 1 and the number of transitions ({n}); "
            f"got {n_samples!r}."
        )
    if not isinstance(keep_terminals, (bool, np.bool_)):
        raise TypeError(f"keep_terminals must be True or False; got {keep_terminals!r}.")
    _, cell_actions = np.unique(actions, return_inverse=True)
    cells = CellLayout.from_transitions(cell_actions.ravel(), terminals)
    counts = cells.sizes
    minimum = np.full(cells.n_cells, 1 if n_samples >= cells.n_cells else 0)
    if keep_terminals:
        minimum = cells.keep_terminals_floor(n_samples, "n_samples")
    sizes = allocate_cells(counts, n_samples, minimum, counts)
    rng = np.random.default_rng(seed_sequence(random_state))
    indices, weights = [], []
    for rows, size in zip(cells.rows, sizes):
        if size:
            indices.append(rng.choice(rows, size=size, replace=False))
            weights.append(np.full(size, len(rows) / size))
    return np.concatenate(indices), np.concatenate(weights)
