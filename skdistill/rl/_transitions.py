"""Transition sets: the ``Transitions`` container, their validation, and their cells.

A transition ``(s, a, r, s', terminal)`` has a discrete action and a terminal flag;
the (action, terminal) pairs split a transition set into the cells whose shares of
the training weight every distilled set keeps.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_array, validate_data

from .._core.sklearn_private import _check_sample_weight

Transitions = namedtuple(
    "Transitions",
    [
        "observations",
        "actions",
        "rewards",
        "next_observations",
        "terminals",
        "sample_weight",
    ],
)
Transitions.__doc__ = """Transitions ``(s, a, r, s', terminal)`` with a weight per transition.

Attributes
----------
observations : ndarray of shape (n, n_features)
actions : ndarray of shape (n,)
rewards : ndarray of shape (n,)
next_observations : ndarray of shape (n, n_features)
terminals : ndarray of shape (n,), dtype bool
sample_weight : ndarray of shape (n,)
"""

_KEYS = ("observations", "actions", "rewards", "next_observations")


class CellLayout(NamedTuple):
    """The (action, terminal) cells of a transition set that hold training weight.

    Cells are ordered by action index, then non-terminal before terminal.

    Attributes
    ----------
    actions : ndarray of shape (n_cells,)
        Action index of every cell.
    terminals : ndarray of shape (n_cells,), dtype bool
        Terminal flag of every cell.
    rows : tuple of ndarray
        Positions of the cell's transitions of positive weight, ascending.
    weights : ndarray of shape (n_cells,)
        Training weight of every cell.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.rl._transitions import CellLayout
    >>> cells = CellLayout.from_transitions(np.array([1, 0, 1, 1]), np.array([0, 0, 1, 0], bool))
    >>> cells.actions, cells.terminals, cells.sizes
    (array([0, 1, 1]), array([False, False,  True]), array([1, 2, 1]))
    """

    actions: np.ndarray
    terminals: np.ndarray
    rows: tuple
    weights: np.ndarray

    @classmethod
    def from_transitions(cls, a, t, sample_weight=None):
        """The cells of transitions with action indices ``a`` and terminal flags ``t``.

        Transitions of zero ``sample_weight`` belong to no cell; ``None`` weighs
        every transition 1.
        """
        w = np.ones(len(a)) if sample_weight is None else sample_weight
        positive = w > 0
        code = 2 * a + t
        codes = np.unique(code[positive])
        rows = tuple(np.flatnonzero((code == c) & positive) for c in codes)
        actions, terminals = np.divmod(codes, 2)
        weights = np.array([w[r].sum() for r in rows])
        return cls(actions, terminals.astype(bool), rows, weights)

    @property
    def n_cells(self):
        """Number of cells."""
        return len(self.rows)

    @property
    def sizes(self):
        """Number of transitions in every cell."""
        return np.array([len(r) for r in self.rows], dtype=np.int64)

    def keep_terminals_floor(self, n, name):
        """Rows per cell that keep every terminal transition and one of each other cell.

        Raises a ``ValueError`` naming ``name`` (the parameter ``n`` came from) when
        ``n`` rows cannot hold them.
        """
        floor = np.where(self.terminals, self.sizes, 1)
        if floor.sum() > n:
            raise ValueError(
                f"keep_terminals=True keeps all {int(self.sizes[self.terminals].sum())} "
                f"terminal transitions and one of each of the {int((~self.terminals).sum())} "
                f"non-terminal (action) cells: {name} must be at least {int(floor.sum())}; "
                f"got {n}."
            )
        return floor

    def repeat(self, counts):
        """Action indices and terminal flags of ``counts[j]`` rows of every cell j."""
        return np.repeat(self.actions, counts), np.repeat(self.terminals, counts)


def _unpack_mapping(observations, actions, rewards, next_observations, terminals):
    """Arrays from a D4RL/Minari-style mapping passed as the first argument."""
    if not isinstance(observations, Mapping):
        if actions is None or rewards is None or next_observations is None:
            raise ValueError(
                "Pass observations, actions, rewards and next_observations, or one mapping "
                "with the keys 'observations', 'actions', 'rewards', 'next_observations' "
                "(and optionally 'terminals')."
            )
        return observations, actions, rewards, next_observations, terminals
    data = observations
    if any(arg is not None for arg in (actions, rewards, next_observations, terminals)):
        raise ValueError(
            "When the first argument is a mapping of arrays, pass no other arrays "
            "(sample_weight excepted)."
        )
    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise ValueError(
            f"The transitions mapping lacks the key(s) {missing}; it needs "
            f"{list(_KEYS)} and optionally 'terminals' (or 'terminations')."
        )
    terminals = data.get("terminals", data.get("terminations"))
    return (*(data[key] for key in _KEYS), terminals)
def check_actions(actions, n):
    """Discrete action labels, one per transition, as integers.

    Used by every consumer of transitions (``BellmanDistiller``,
    ``FittedQIteration``, ``stratified_subset``), so all refuse the same input.
    """
    actions = np.asarray(actions)
    if actions.ndim == 2 and actions.shape[1] == 1:
        actions = actions.ravel()
    finite_set = (
        "The max over next actions in the Bellman target needs a finite set of "
        "discrete actions; continuous or multi-dimensional actions are not supported."
    )
    if actions.ndim != 1:
        raise ValueError(
            f"actions must hold one discrete action per transition, shape ({n},); got "
            f"shape {actions.shape}. {finite_set}"
        )
    if actions.dtype.kind == "b":
        actions = actions.astype(np.int64)
    elif actions.dtype.kind == "f":
        if not np.all(np.isfinite(actions)):
            raise ValueError("Input actions contains NaN or infinity.")
        if np.any(actions != np.round(actions)):
            bad = actions[actions != np.round(actions)][0]
            raise ValueError(
                f"actions must be integer labels; got non-integer values such as {bad!r}. "
                f"{finite_set}"
            )
        actions = actions.astype(np.int64)
    elif actions.dtype.kind not in "iu":
        raise ValueError(
            f"actions must be integer labels; got an array of dtype {actions.dtype}. "
            f"{finite_set}"
        )
    return actions


def check_terminals(terminals, n):
    """Terminal flags as bool; ``None`` means no transition is terminal.

    Only booleans and the numbers 0 and 1 are flags: strings such as ``'False'``
    and NaN are refused, not read as terminal.
    """
    if terminals is None:
        return np.zeros(n, dtype=bool)
    terminals = np.asarray(terminals)
    if terminals.ndim == 2 and terminals.shape[1] == 1:
        terminals = terminals.ravel()
    if terminals.ndim != 1:
        raise ValueError(f"terminals must have shape ({n},); got shape {terminals.shape}.")
    if terminals.dtype.kind == "b":
        return terminals
    got = f"an array of dtype {terminals.dtype}"
    if terminals.dtype.kind in "iuf":
        flags = (terminals == 0) | (terminals == 1)
        if flags.all():
            return terminals.astype(bool)
        got = f"values other than 0 and 1, such as {terminals[~flags][0].item()!r}"
    elif terminals.size and isinstance(terminals[0], str):
        got = (
            f"strings such as {str(terminals[0])!r}; convert them to booleans first "
            "(for example terminals == 'True')"
        )
    raise ValueError(f"terminals must be boolean (True/False, or 0/1); got {got}.")


def check_transitions(
    estimator,
    observations,
    actions=None,
    rewards=None,
    next_observations=None,
    terminals=None,
    sample_weight=None,
):
    """Validate a transition set for fitting; sets ``n_features_in_`` on ``estimator``.

    Returns
    -------
    S, S2 : ndarray of shape (n, d), float64 or float32 (the input's)
    a : ndarray of shape (n,)
        Action indices into ``classes``.
    r : ndarray of shape (n,), float64
    t : ndarray of shape (n,), bool
    sample_weight : ndarray of shape (n,) or None
    classes : ndarray
        The sorted distinct action labels.
    """
    observations, actions, rewards, next_observations, terminals = _unpack_mapping(
        observations, actions, rewards, next_observations, terminals
    )
    lengths = {
        name: len(arr)
        for name, arr in [
            ("observations", observations),
            ("actions", actions),
            ("rewards", rewards),
            ("next_observations", next_observations),
            ("terminals", terminals),
            ("sample_weight", sample_weight),
        ]
        if arr is not None
    }
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "Mismatched lengths: every array needs one entry per transition; got "
            + ", ".join(f"{name}: {length}" for name, length in lengths.items())
            + "."
        )
    validate_data(estimator, observations, skip_check_array=True)
    S = check_array(observations, dtype=[np.float64, np.float32], input_name="observations")
    n = S.shape[0]
    S2 = check_array(
        next_observations, dtype=[np.float64, np.float32], input_name="next_observations"
    )
    if S2.shape != S.shape:
        raise ValueError(
            f"next_observations must have the shape of observations {S.shape}; got {S2.shape}."
        )
    S2 = S2.astype(S.dtype, copy=False)
    r = check_array(rewards, ensure_2d=False, dtype=np.float64, input_name="rewards")
    if r.ndim == 2 and r.shape[1] == 1:
        r = r.ravel()
    if r.ndim != 1:
        raise ValueError(f"rewards must have shape ({n},); got shape {r.shape}.")
    actions = check_actions(actions, n)
    classes, a = np.unique(actions, return_inverse=True)
    t = check_terminals(terminals, n)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, S, dtype=np.float64, ensure_non_negative=True
        )
        if not np.all(np.isfinite(sample_weight)) or sample_weight.sum() <= 0:
            raise ValueError("sample_weight must be finite with a positive sum.")
    return S, a, r, S2, t, sample_weight, classes
