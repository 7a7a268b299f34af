"""Solvers of Bellman-loss matching: synthetic transitions, cell by cell.

Every solver has one signature, ``solve(problem, counts, random, options)``, and
returns a :class:`Solution`: ``problem`` holds the training transitions in the
standardised coordinates of the predictors (:class:`BellmanProblem`), ``counts`` the
synthetic transitions of every (action, terminal) cell, ``random`` the generators
(:class:`SolverRandom`) and ``options`` the solver's settings (:class:`SolverOptions`).
No solver reports its own success; the distiller certifies what they return.
"""

from typing import NamedTuple

import numpy as np

from .._core.exact import match_moments_exact, min_rows_exact
from .._core.herding import herd
from .._core.lbfgs import minimize_lbfgs
from .._core.moments import compute_moments
from .._core.random_models import map_random_blocks
from .._core.standardise import Standardiser, stack, standardiser
from .._core.validation import check_squarable
from ._bellman import (
    bellman_losses,
    bellman_matching_objective,
    bellman_residuals,
    draw_predictors,
    pack_rows,
    unpack_rows,
)
from ._reweight import reweight_cell
from ._transitions import CellLayout

# Random predictors per block: fixed, so predictors and their training losses
# depend on the seed only, never on n_jobs.
_PREDICTOR_BLOCK = 32
# solver="select": candidates per selected row in a cell.
_POOL_FACTOR = 20


class BellmanProblem(NamedTuple):
    """Training transitions as rows ``(s, r, s')``, with their cells and coordinates.

    Attributes
    ----------
    Z : ndarray of shape (n, 2 d + 1)
        Rows ``(s, r, s')`` in float64.
    Zs : ndarray of shape (n, 2 d + 1)
        The rows in the predictors' standardised coordinates.
    a : ndarray of shape (n,)
        Action indices.
    t : ndarray of shape (n,), dtype bool
        Terminal flags.
    w : ndarray of shape (n,)
        Weights.
    cells : CellLayout
        The (action, terminal) cells of positive weight.
    standardiser : Standardiser
        The map from ``Z`` to ``Zs``.
    gamma : float
        Discount factor.
    features : {"decomposable", "per_action"}
        Family of the random predictors.
    n_actions : int
        Number of actions.
    """

    Z: np.ndarray
    Zs: np.ndarray
    a: np.ndarray
    t: np.ndarray
    w: np.ndarray
    cells: CellLayout
    standardiser: Standardiser
    gamma: float
    features: str
    n_actions: int

    @classmethod
    def from_transitions(cls, S, a, r, S2, t, w, cells, *, gamma, features, n_actions):
        """The problem of transitions, standardised for the predictors.

        States (and next states, with the same map) are centred and scaled;
        rewards are scaled only, since a reward shift is not a reparametrisation
        of the Bellman loss.
        """
        Z = pack_rows(S, r, S2)
        d = S.shape[1]
        with np.errstate(over="ignore", invalid="ignore"):  # refused just below
            moments = compute_moments(Z[:, : d + 1], np.empty((len(Z), 0)), w)
        check_squarable(
            moments.mean,
            np.sqrt(np.diag(moments.covariance)),
            Z[:1024, : d + 1],
            [f"observation column {j}" for j in range(d)] + ["rewards"],
        )
        states_and_reward = standardiser(moments, centre=np.arange(d + 1) < d)
        scaling = stack(states_and_reward, states_and_reward.take(slice(None, d)))
        return cls(
            Z, scaling.transform(Z), a, t, w, cells, scaling, gamma, features, n_actions
        )

    @property
    def n_features(self):
        """Number of state features ``d``."""
        return (self.Z.shape[1] - 1) // 2


class SolverRandom(NamedTuple):
    """The random streams of a solver, each from its own seed.

    Attributes
    ----------
    subset : numpy.random.Generator
        Start subsets and candidate pools, drawn cell by cell.
    completion : numpy.random.Generator
        The random completion of exact moment matching.
    predictors : numpy.random.SeedSequence
        The matched random predictors.
    """

    subset: np.random.Generator
    completion: np.random.Generator
    predictors: np.random.SeedSequence


class SolverOptions(NamedTuple):
    """Settings of the solvers; each solver reads those it needs.

    Attributes
    ----------
    n_predictors : int
        Random predictors matched (``"lbfgs"``, ``"select"``).
    exact_start : bool
        ``"lbfgs"`` starts from the exact per-cell moment match, else from a
        weighted random subset of every cell.
    max_iter, tol, verbose :
        L-BFGS settings.
    n_jobs : int or None
        Threads for the predictors' training losses.
    """

    n_predictors: int = 0
    exact_start: bool = True
    max_iter: int = 300
    tol: float = 0.0
    verbose: int = 0
    n_jobs: int | None = None


class Solution(NamedTuple):
    """Synthetic transitions as rows ``(s, r, s')`` in the training units.

    Attributes
    ----------
    Z : ndarray of shape (m, 2 d + 1)
    a, t, w : ndarray of shape (m,)
        Action indices, terminal flags and weights.
    support : ndarray of shape (m,) or None
        Training positions of the rows, for solvers that select rows.
    predictors : tuple (W, lam) or None
        The matched predictors, in standardised coordinates.
    n_iter : int
        Iterations of the solver.
    calibrated : bool or None
        ``"reweight"``: whether the weights of every cell met its moments.
    """

    Z: np.ndarray
    a: np.ndarray
    t: np.ndarray
    w: np.ndarray
    support: np.ndarray | None = None
    predictors: tuple | None = None
    n_iter: int = 0
    calibrated: bool | None = None


def transition_losses(problem, W, lam, Zs, a, t, w):
    """Bellman losses of predictors ``(W, lam)`` on standardised rows ``Zs``."""
    S, r, S2 = unpack_rows(Zs)
    return bellman_losses(W, lam, S, a, r, S2, t, problem.gamma, w)


def random_predictors(problem, n_predictors, seed, *, n_jobs=None, per_cell=False):
    """Random predictors of ``problem.features`` and their training Bellman losses.

    Returns
    -------
    W : ndarray of shape (n_predictors, n_actions, d + 1)
    lam : ndarray of shape (n_predictors,)
    losses : ndarray of shape (n_predictors,), or (n_predictors, n_cells) per cell
    """

    def losses(W, lam, rows):
        return transition_losses(
            problem, W, lam, problem.Zs[rows], problem.a[rows], problem.t[rows], problem.w[rows]
        )

    def block(rng, size):
        W, lam = draw_predictors(
            rng, size, problem.features, problem.n_actions, problem.n_features
        )
        if per_cell:
            return W, lam, np.column_stack([losses(W, lam, rows) for rows in problem.cells.rows])
        return W, lam, losses(W, lam, slice(None))

    return map_random_blocks(block, n_predictors, seed, n_jobs=n_jobs, block=_PREDICTOR_BLOCK)


def _weighted_subset(problem, rows, count, weight, rng):
    """``count`` of a cell's rows, without replacement, with probabilities ``w / weight``."""
    return np.sort(rng.choice(rows, count, replace=False, p=problem.w[rows] / weight))


def _start_cell(problem, rows, count, weight, random, exact):
    """A cell's start rows and weights: an exact moment match or a weighted subset."""
    cell_w = np.full(count, weight / count)
    if not exact:
        return problem.Z[_weighted_subset(problem, rows, count, weight, random.subset)], cell_w
    if count < min_rows_exact(problem.Z.shape[1], True) or count >= len(rows):
        # All of a cell's transitions: its moments are matched as they are.
        return problem.Z[rows], problem.w[rows]
    start = _weighted_subset(problem, rows, count, weight, random.subset)
    moments = compute_moments(problem.Z[rows], np.empty((len(rows), 0)), problem.w[rows])
    Zc = match_moments_exact(
        problem.Z[start],
        moments.mean,
        moments.covariance,
        fit_intercept=True,
        random_state=random.completion,
    )
    return Zc, cell_w


def _start(problem, counts, random, exact):
    """Synthetic transitions of every cell from :func:`_start_cell`, cell by cell."""
    cells = problem.cells
    parts = [
        _start_cell(problem, rows, count, weight, random, exact)
        for rows, count, weight in zip(cells.rows, counts, cells.weights)
    ]
    a_syn, t_syn = cells.repeat(counts)
    Z_syn = np.vstack([Zc for Zc, _ in parts])
    return Solution(Z_syn, a_syn, t_syn, np.concatenate([w for _, w in parts]))


def solve_exact(problem, counts, random, options):
    """Match the mean and covariance of ``(s, r, s')`` in every cell exactly.

    A cell of fewer rows than :func:`min_rows_exact` is kept whole, with its
    training weights; the others start from a weighted random subset, completed
    to the cell's moments. Every decomposable Bellman loss is then matched.
    """
    return _start(problem, counts, random, exact=True)


def solve_lbfgs(problem, counts, random, options):
    """Minimise the squared Bellman-loss mismatch of random predictors by L-BFGS.

    The states, rewards and next states move; actions, terminal flags and
    weights stay those of the start (``options.exact_start``).
    """
    start = _start(problem, counts, random, exact=options.exact_start)
    W, lam, targets = random_predictors(
        problem, options.n_predictors, random.predictors, n_jobs=options.n_jobs
    )
    X0 = problem.standardiser.transform(start.Z)
    X, result = minimize_lbfgs(
        bellman_matching_objective,
        X0,
        args=(
            W, lam, targets, start.a, start.t, start.w, problem.gamma,
            (X0.shape[0], problem.n_features),
        ),
        max_iter=options.max_iter,
        tol=options.tol,
        verbose=options.verbose,
        label="[BellmanDistiller] L-BFGS",
    )
    Z_syn = problem.standardiser.inverse_transform(X)
    return start._replace(Z=Z_syn, predictors=(W, lam), n_iter=int(result.nit))


def _select_cell(problem, rows, count, W, lam, cell_losses, rng):
    """Herd ``count`` of a cell's rows on their relative Bellman losses."""
    pool = rows
    if len(rows) > _POOL_FACTOR * count:
        pool = np.sort(rng.choice(rows, _POOL_FACTOR * count, replace=False))
    S, r, S2 = unpack_rows(problem.Zs[pool])
    delta = bellman_residuals(W, lam, S, problem.a[pool], r, S2, problem.t[pool], problem.gamma)
    # Relative losses: the cell's training mean of every column is 1.
    relative = delta**2 / np.maximum(cell_losses, np.finfo(float).tiny)
    return pool[herd(relative, count, np.ones(len(lam)))]


def solve_select(problem, counts, random, options):
    """Choose real transitions per cell whose Bellman losses track the cell's.

    In every cell, rows are chosen by herding on the relative Bellman losses of
    random predictors, among the cell's rows or a random pool of
    ``_POOL_FACTOR`` per chosen row; the chosen rows of a cell weigh alike.
    """
    cells = problem.cells
    W, lam, cell_losses = random_predictors(
        problem, options.n_predictors, random.predictors, n_jobs=options.n_jobs, per_cell=True
    )
    support = np.concatenate(
        [
            _select_cell(problem, rows, count, W, lam, cell_losses[:, j], random.subset)
            for j, (rows, count) in enumerate(zip(cells.rows, counts))
        ]
    )
    a_syn, t_syn = cells.repeat(counts)
    w_syn = np.repeat(cells.weights / counts, counts)
    return Solution(problem.Z[support], a_syn, t_syn, w_syn, support, (W, lam))


def solve_reweight(problem, counts, random, options):
    """Keep real transitions and calibrate their weights to every cell's moments.

    In every cell, ``counts[j]`` transitions drawn with probability proportional
    to their weights (candidates exchanged for better ones where no non-negative
    weights meet the moments) get the chi-square-closest weights that give the
    cell the training mean and covariance of ``(s, r, s')`` (of ``(s, r)`` in a
    terminal cell): every decomposable Bellman loss is then matched, and every
    transition is a real one. A cell with no more transitions than its count is
    kept whole.
    """
    cells = problem.cells
    support, weights, met = [], [], True
    for rows, count, terminal in zip(cells.rows, counts, cells.terminals):
        index, w, cell_met = reweight_cell(
            problem.Z[rows], problem.w[rows], count, terminal, random.subset
        )
        support.append(rows[index])
        weights.append(w)
        met &= cell_met
    support = np.concatenate(support)
    a_syn, t_syn = cells.repeat(counts)
    return Solution(
        problem.Z[support], a_syn, t_syn, np.concatenate(weights), support, calibrated=met
    )


_SOLVERS = {
    "exact": solve_exact,
    "lbfgs": solve_lbfgs,
    "select": solve_select,
    "reweight": solve_reweight,
}
