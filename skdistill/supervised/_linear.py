"""The linear family: random linear regressors of the rows ``(x, y[, 1])``.

The loss of every such regressor is ``v^T M v`` for the second-moment matrix ``M`` of
the standardised, homogenised rows, so the training side is the summary's moments
alone. Two solvers: the closed-form moment match and the paper's Algorithm 1.
"""

import numpy as np

from .._core.certificate import model_losses
from .._core.exact import match_moments_exact, min_rows_exact
from .._core.lbfgs import solve_loss_matching
from .._core.moments import moments_of_rows
from .._core.random_models import auto_n_models, sample_gaussian_models
from .._core.standardise import standardiser
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


def solve_lbfgs(family, Z0, model_seed, solver_seeds, options):
    """Algorithm 1: match the training losses of ``k`` random regressors by L-BFGS."""
    p = family.n_dims
    k = auto_n_models(p) if options.n_regressors == "auto" else options.n_regressors
    V = sample_gaussian_models(k, p, model_seed, n_jobs=options.n_jobs)
    Zs, result = solve_loss_matching(
        family.standardiser.transform(Z0),
        V,
        model_losses(V, family.M_train),
        fit_intercept=family.fit_intercept,
        max_iter=options.max_iter,
        tol=options.tol,
        verbose=options.verbose,
    )
    return Solution(family.standardiser.inverse_transform(Zs), int(result.nit), V)


class LinearFamily:
    """Linear regressors of ``(x, y[, 1])`` in the training set's standardised coordinates.

    Parameters
    ----------
    moments : Moments
        Training moments of the rows ``z = (x, y)``.
    fit_intercept : bool
        Models with an intercept (a trailing 1) or homogeneous ones.
    """

    solvers = {"exact": solve_exact, "lbfgs": solve_lbfgs}
    n_solver_seeds = 1
    linear_block = slice(None)

    def __init__(self, moments, fit_intercept):
        self.moments = moments
        self.fit_intercept = fit_intercept
        self.standardiser = standardiser(moments, fit_intercept)
        self.M_train = self.standardiser.second_moment(moments, fit_intercept)

    @property
    def n_dims(self):
        """Dimension ``p`` of a regressor."""
        return self.M_train.shape[0]

    def min_rows_exact(self):
        """Fewest synthetic rows that match the training moments exactly."""
        return min_rows_exact(self.moments.mean.shape[0], self.fit_intercept)

    def second_moment(self, Z):
        """``M`` of the rows ``Z``, in the training set's standardised coordinates."""
        return self.standardiser.second_moment(moments_of_rows(Z), self.fit_intercept)

    def fallback_message(self, m, loss_gap, linear_loss_gap):
        """Why ``solver="exact"`` fell back to L-BFGS, and what that gave."""
        intercept = " + 1 for the intercept" if self.fit_intercept else ""
        return (
            f"An exact moment match needs n_synthetic >= {self.min_rows_exact()} "
            f"(n_features + n_targets{intercept}); with n_synthetic={m} the synthetic set "
            "has rank too low to reproduce the training covariance. Used solver='lbfgs' "
            f"instead; certified relative loss gap {loss_gap:.3g}."
        )
