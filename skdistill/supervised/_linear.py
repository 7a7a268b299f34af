"""The linear family: random linear regressors of the rows ``(x, y[, 1])``.

The loss of every such regressor is ``v^T M v`` for the second-moment matrix ``M`` of
the standardised, homogenised rows, so the training side is the summary's moments
alone. Three solvers: the closed-form moment match, the paper's Algorithm 1, and
calibration weights of the real start rows.
"""

from functools import cached_property
from typing import NamedTuple

import numpy as np
from joblib import effective_n_jobs

from .._core.candidates import exchange_candidates, stratified_candidates
from .._core.certificate import model_losses
from .._core.exact import match_moments_exact, min_rows_exact
from .._core.lbfgs import MAX_RESTARTS, full_rank_start, solve_loss_matching
from .._core.moments import moments_of_rows
from .._core.random_models import auto_n_models, sample_gaussian_models
from .._core.reweight import n_constraints, reweight_shortfall_message
from .._core.standardise import standardiser, whitener
from ._family import Solution


def solve_exact(family, Z0, model_seed, solver_seeds, options):
    """Nearest rows to ``Z0`` with exactly the training mean and covariance."""
    (completion_seed,) = solver_seeds
    Z = match_moments_exact(
        Z0,
        family.moments.mean,
        family.moments.covariance,
        fit_intercept=family.fit_intercept,
        random_state=np.random.default_rng(completion_seed),
    )
    return Solution(Z)


def solve_reweight(family, Z0, model_seed, solver_seeds, options):
    """Real rows chosen from the pool ``Z0``, with the non-negative weights closest to
    uniform that give them the training mean and covariance (calibration).

    ``Z0`` are drawn with probability proportional to the training weights (a
    reservoir), so their base weights are uniform. Where the pool holds more than
    ``options.n_synthetic`` rows, the rows are chosen among them so that exact
    weights exist: rare values of two-valued (one-hot) columns and their
    co-occurring pairs first (:func:`stratified_candidates`), then rows exchanged
    for those the shortfall prices highest (:func:`exchange_candidates`). Where no
    non-negative weights meet the constraints the closest are returned, with
    ``calibrated=False``.
    """
    m = options.n_synthetic or Z0.shape[0]
    W = family.moments.weight_sum
    # A pool of m rows is taken whole, with uniform base weights.
    index, base = stratified_candidates(Z0, m, np.random.default_rng(model_seed))
    index, _, result = exchange_candidates(
        Z0, index, base * (W / base.sum()), family.moments, family.fit_intercept
    )
    order = np.argsort(index)
    return Solution(
        Z0[index[order]], sample_weight=result.weights[order], calibrated=result.met
    )


def solve_lbfgs(family, Z0, model_seed, solver_seeds, options):
    """Algorithm 1: match the training losses of ``k`` random regressors by L-BFGS.

    With ``options.sampling == "whitened"`` it runs in the family's whitened
    coordinates, where the training second moment is the projector onto the data's
    range: the regressors ``v ~ N(0, I / p)`` probe every direction in proportion
    to its training loss. L-BFGS starts from ``Z0`` completed to full rank within
    that range (:func:`full_rank_start`) and restarts after an abnormal end of its
    line search; threads share the objective's regressors, in fixed blocks. With
    ``"standardised"`` it is the paper's literal algorithm on standardised rows,
    without either. The regressors returned are in standardised coordinates.
    """
    # Fewer rows than an exact match needs leave some directions unmatched: the
    # standardised objective then keeps those of most spread, where whitening would
    # spread the miss over all of them alike.
    sampling = options.sampling if len(Z0) >= family.min_rows_exact() else "standardised"
    coords = _coordinates(family, sampling)
    W = coords.map.transform(Z0)
    if not coords.literal:
        (start_seed,) = solver_seeds
        basis = coords.map.basis
        start = full_rank_start(W @ basis, family.fit_intercept, np.random.default_rng(start_seed))
        W = start @ basis.T
    p = coords.M_train.shape[0]
    if coords.sampled_dims == 0:  # every training row is zero: so are the synthetic ones
        return Solution(coords.map.inverse_transform(W))
    k = auto_n_models(p) if options.n_regressors == "auto" else options.n_regressors
    V = sample_gaussian_models(k, p, model_seed, n_jobs=options.n_jobs)
    n_iter = 0
    if coords.sampled_dims > family.fit_intercept:  # else every training row is the mean
        W, result = solve_loss_matching(
            W,
            V,
            model_losses(V, coords.M_train),
            fit_intercept=family.fit_intercept,
            max_iter=options.max_iter,
            tol=options.tol if coords.literal or options.tol > 0 else ROUNDING_OBJECTIVE,
            verbose=options.verbose,
            max_restarts=0 if coords.literal else MAX_RESTARTS,
            n_threads=_objective_threads(options, coords.literal),
        )
        n_iter = int(result.nit)
    if not coords.literal:
        V = coords.map.standardise_models(V)
    W = coords.map.inverse_transform(W)
    return Solution(W, n_iter, V, sampled_dims=coords.sampled_dims)


# In whitened coordinates the objective is the mean squared relative loss error: below
# (100 eps)^2 every relative error is at rounding level and further steps leave the
# rows, in float64, as they are.
ROUNDING_OBJECTIVE = (100 * np.finfo(np.float64).eps) ** 2


def _objective_threads(options, literal):
    """Threads over the objective's regressors: none for the paper's literal solver
    (one product, as it always was), else ``n_jobs`` or the BLAS budget, the pass
    being a product over ``k x p`` regressors like the data pass over the rows."""
    if literal:
        return None
    return options.n_threads if options.n_jobs is None else effective_n_jobs(options.n_jobs)


class _Coordinates(NamedTuple):
    """Where L-BFGS works: the map from rows, the training second moment there, and
    the dimension the regressors must pin down."""

    map: object
    M_train: np.ndarray
    literal: bool
    sampled_dims: int


def _coordinates(family, sampling):
    if sampling == "standardised":
        return _Coordinates(family.standardiser, family.M_train, True, family.n_dims)
    whitener, fit_intercept = family.whitener, family.fit_intercept
    q = whitener.basis.shape[0]
    M_train = np.zeros((q + fit_intercept, q + fit_intercept))
    M_train[:q, :q] = whitener.projector
    if fit_intercept:
        M_train[q, q] = 1.0
    return _Coordinates(whitener, M_train, False, whitener.rank + fit_intercept)


class LinearFamily:
    """Linear regressors of ``(x, y[, 1])`` in the training set's standardised coordinates.

    Parameters
    ----------
    moments : Moments
        Training moments of the rows ``z = (x, y)``.
    fit_intercept : bool
        Models with an intercept (a trailing 1) or homogeneous ones.
    """

    solvers = {"exact": solve_exact, "lbfgs": solve_lbfgs, "reweight": solve_reweight}
    n_solver_seeds = 1
    linear_block = slice(None)

    def __init__(self, moments, fit_intercept):
        self.moments = moments
        self.fit_intercept = fit_intercept
        self.standardiser = standardiser(moments, fit_intercept)
        self.M_train = self.standardiser.second_moment(moments, fit_intercept)
        # Models with an intercept contain the homogeneous ones, and their moments,
        # centred, keep the spread that float64 loses in covariance + mean mean^T.
        self.centred = None if fit_intercept else LinearFamily(moments, True)

    @cached_property
    def whitener(self):
        """The :class:`Whitener` of the training rows, built on first use."""
        return whitener(self.moments, self.fit_intercept)

    @property
    def linear(self):
        """Training moments of ``(x, y)``, the linear part of the family."""
        return self.moments

    @property
    def n_dims(self):
        """Dimension ``p`` of a regressor."""
        return self.M_train.shape[0]

    def min_rows_exact(self):
        """Fewest synthetic rows that match the training moments exactly."""
        return min_rows_exact(self.moments.mean.shape[0], self.fit_intercept)

    def second_moment(self, Z, sample_weight=None):
        """``M`` of the (weighted) rows ``Z``, in the training set's standardised coordinates."""
        return self.standardiser.second_moment(
            moments_of_rows(Z, sample_weight), self.fit_intercept
        )

    def exact_expected(self, solver, solution, m):
        """Whether ``solution`` should match every linear loss to rounding.

        The closed form does by construction; L-BFGS does at its optimum once
        there are enough rows and at least ``p (p + 1) / 2`` regressors to pin
        the moments down; reweighting does where its constraints were met.
        """
        if solver == "reweight":
            return bool(solution.calibrated)
        if solver == "exact":
            # Without an intercept and without a row to spare, the closed form
            # matches homogeneous models only, which the certificate may not resolve.
            return self.fit_intercept or m > self.min_rows_exact()
        # The regressors pin down the moments of the coordinates they were drawn in.
        p = solution.sampled_dims
        return m >= self.min_rows_exact() and solution.n_regressors >= p * (p + 1) // 2

    def n_constraints(self):
        """Moment constraints that weights of real rows must meet: ``p (p + 1) / 2``."""
        return n_constraints(self.moments.mean.shape[0], self.fit_intercept)

    def shortfall_message(self, m, loss_gap):
        """Why ``solver="reweight"`` is not exact with ``m`` rows, and the size needed."""
        return reweight_shortfall_message(m, self.n_constraints(), loss_gap)

    def fallback_message(self, m, loss_gap, linear_loss_gap):
        """Why ``solver="exact"`` fell back to L-BFGS, and what that gave."""
        intercept = " + 1 for the intercept" if self.fit_intercept else ""
        return (
            f"An exact moment match needs n_synthetic >= {self.min_rows_exact()} "
            f"(n_features + n_targets{intercept}); with n_synthetic={m} the synthetic set "
            "has rank too low to reproduce the training covariance. Used solver='lbfgs' "
            f"instead; certified relative loss gap {loss_gap:.3g}."
        )
