"""The rbf family: its training moments in the solvers' coordinates, and its solvers."""


import numpy as np

from ..._core.certificate import model_losses
from ..._core.exact import match_moments_exact, min_rows_exact
from ..._core.lbfgs import minimize_lbfgs
from ..._core.moments import sub_moments
from ..._core.random_models import sample_gaussian_models
from ..._core.standardise import identity, stack, standardiser
from .._family import Solution
from .features import lift, standardised_rbf_weights
from .objective import matching_problem, rbf_objective
from .rows import solve_reweight

# The stall rule of L-BFGS through the features: stop once STALL_WINDOW iterations
# have lowered the objective by less than STALL_RTOL of it (it cannot reach 0).
STALL_WINDOW, STALL_RTOL = 50, 0.01


def solve_rbf_matching(Z0, problem, *, max_iter=2000, tol=0.0, verbose=0):
    """Minimise :func:`rbf_objective` from the standardised rows ``Z0`` with L-BFGS-B.

    ``problem`` is the :func:`matching_problem` of ``Z0``'s shape. The run stops
    at ``max_iter``, at ``tol`` (as :func:`minimize_lbfgs`), or when the objective
    stalls (``STALL_WINDOW`` iterations lowering it by less than ``STALL_RTOL``).

    Returns
    -------
    Z : ndarray of shape (m, q)
    result : scipy.optimize.OptimizeResult
    """
    return minimize_lbfgs(
        rbf_objective,
        Z0,
        args=(problem,),
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        label="L-BFGS through the features",
        stall=(STALL_WINDOW, STALL_RTOL),
    )


def _solve_through_features(family, Z0, model_seed, solver_seeds, options, *, exact):
    """L-BFGS through the features, between two exact linear matches when ``exact``."""
    start_seed, end_seed = solver_seeds
    if exact:
        Z0 = family.match_linear(Z0, start_seed)
    V = targets = None
    if options.n_regressors != "auto":
        V = sample_gaussian_models(
            options.n_regressors, family.n_dims, model_seed, n_jobs=options.n_jobs
        )
        targets = model_losses(V, family.M_train)
    problem = matching_problem(
        Z0.shape, family.W, family.b, family.M_train, V, targets, family.fit_intercept,
        phase_dtype=np.float32, n_threads=options.n_threads,
    )
    Zs, result = solve_rbf_matching(
        family.standardiser.transform(Z0),
        problem,
        max_iter=options.max_iter,
        tol=options.tol,
        verbose=options.verbose,
    )
    Z = family.standardiser.inverse_transform(Zs)
    if exact:
        Z = family.match_linear(Z, end_seed)
    return Solution(Z, int(result.nit), V)


def solve_exact(family, Z0, model_seed, solver_seeds, options):
    """Feature-space loss matching that ends with the linear moments matched exactly."""
    return _solve_through_features(family, Z0, model_seed, solver_seeds, options, exact=True)


def solve_lbfgs(family, Z0, model_seed, solver_seeds, options):
    """Feature-space loss matching from the start rows, the linear part inside it."""
    return _solve_through_features(family, Z0, model_seed, solver_seeds, options, exact=False)


class RBFFamily:
    """Regressors linear in ``(phi(x), x_s, y_s[, 1])``, ``phi`` random Fourier features.

    Parameters
    ----------
    moments : Moments
        Training moments of ``(phi(x), x, y)``.
    feature_map : Pipeline
        The fitted ``StandardScaler -> RBFSampler`` map ``phi``.
    fit_intercept : bool
    n_rows : int
        Training rows the moments summarise (rows of weight 0 included).
    """

    solvers = {"exact": solve_exact, "lbfgs": solve_lbfgs, "reweight": solve_reweight}
    n_solver_seeds = 2

    def __init__(self, moments, feature_map, fit_intercept, n_rows):
        n_components = feature_map[-1].n_components
        d = feature_map[0].n_features_in_
        self.moments = moments
        self.n_rows = n_rows
        self.feature_map = feature_map
        self.gamma = float(feature_map[-1].gamma)
        self.fit_intercept = fit_intercept
        self.linear = sub_moments(moments, n_components)
        self.standardiser = standardiser(self.linear, fit_intercept)
        self.W, self.b = standardised_rbf_weights(
            feature_map, self.standardiser.shift[:d], self.standardiser.scale[:d]
        )
        features = stack(identity(n_components), self.standardiser)
        self.M_train = features.second_moment(moments, fit_intercept)
        self.linear_block = slice(n_components, None)
        self.centred = None

    @property
    def n_dims(self):
        """Dimension ``p`` of a regressor."""
        return self.M_train.shape[0]

    def min_rows_exact(self):
        """Fewest synthetic rows that match the linear moments exactly."""
        return min_rows_exact(self.linear.mean.shape[0], self.fit_intercept)

    def match_linear(self, Z, seed):
        """Nearest rows to ``Z`` with exactly the training mean and covariance of ``(x, y)``."""
        return match_moments_exact(
            Z,
            self.linear.mean,
            self.linear.covariance,
            fit_intercept=self.fit_intercept,
            random_state=np.random.default_rng(seed),
        )

    def second_moment(self, Z, sample_weight=None):
        """``M`` of the (weighted) rows ``Z`` lifted to ``(phi(x), x_s, y_s[, 1])``."""
        U, _ = lift(self.standardiser.transform(Z), self.W, self.b, self.fit_intercept)
        if sample_weight is None:
            return U.T @ U / Z.shape[0]
        return (U * (sample_weight / sample_weight.sum())[:, None]).T @ U

    def exact_expected(self, solver, solution, m):
        """Whether the linear part should match to rounding: with ``solver="exact"``,
        and with ``"reweight"`` where its weights met the linear moments."""
        return solver == "exact" or (solver == "reweight" and bool(solution.calibrated))

    def fallback_message(self, m, loss_gap, linear_loss_gap):
        """Why ``solver="exact"`` ran the feature-space match alone, and what that gave."""
        return (
            f"An exact match of the linear moments needs n_synthetic >= "
            f"{self.min_rows_exact()}; with n_synthetic={m} only the L-BFGS feature-space "
            f"match was run. Relative loss gap: {loss_gap:.3g} in feature space, "
            f"{linear_loss_gap:.3g} for linear models."
        )
