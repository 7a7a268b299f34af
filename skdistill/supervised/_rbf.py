"""Random-feature loss matching: distil for regressors linear in RBF random features.

A regressor linear in ``u(x, y) = (phi(x), x, y, 1)``, with ``phi`` scikit-learn's
``RBFSampler`` (random Fourier features ``sqrt(2 / D) cos(x W + b)`` of the RBF
kernel), has loss ``v^T M v`` on a row set, ``M`` the second-moment matrix of ``u``.
The training side is therefore one chunked pass computing the moments of
``(phi(x), x, y)``; the synthetic rows are then moved by L-BFGS so that their
moment matrix matches, with the gradient taken through ``phi``.

The objective is the mean squared loss mismatch over random regressors
``v ~ N(0, I / p)``, ``Delta = M_syn - M_train``: either its exact expectation
``(2 ||Delta||_F^2 + tr(Delta)^2) / p^2`` (every Gaussian regressor at once), or
the sample mean of ``(v_j^T Delta v_j)^2`` over ``k`` drawn regressors, as in the
paper's Algorithm 1. Both are divided by the same quantity for ``Delta = M_train``
so that the value is relative. All coordinates are the training set's standardised
ones.
"""

import numpy as np
from scipy import sparse
from sklearn.kernel_approximation import RBFSampler
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._core.certificate import model_losses
from .._core.exact import match_moments_exact, min_rows_exact
from .._core.lbfgs import minimize_lbfgs
from .._core.moments import (
    Moments,
    chunk_moments,
    default_chunk_size,
    merge_moments,
    moments_of_rows,
)
from .._core.random_models import sample_gaussian_models, seed_sequence
from .._core.rows import draw_rows
from .._core.standardise import homogenise, identity, stack, standardiser
from .._core.threads import thread_map
from ._family import Solution

# Rows used to estimate the kernel's input scaling and the median-heuristic gamma.
N_PILOT = 1000


def median_heuristic_gamma(X):
    """``gamma = 1 / median_{i<j} ||x_i - x_j||^2`` over the rows of ``X``.

    The RBF kernel ``exp(-gamma ||x - x'||^2)`` then equals ``exp(-1)`` at the
    median squared distance between rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.supervised._rbf import median_heuristic_gamma
    >>> median_heuristic_gamma(np.array([[0.0], [1.0], [3.0]]))
    0.25
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] < 2:
        raise ValueError("The median heuristic for gamma needs at least 2 rows.")
    D2 = euclidean_distances(X, squared=True)
    median = float(np.median(D2[np.triu_indices_from(D2, k=1)]))
    if not median > 0:
        raise ValueError(
            "The median squared distance between training rows is 0 (most sampled rows "
            "are identical), so the median heuristic cannot choose gamma; pass gamma "
            "explicitly."
        )
    return 1.0 / median


def make_feature_map(X_pilot, gamma, n_components, random_state):
    """Fitted ``StandardScaler -> RBFSampler`` pipeline, fitted on the rows ``X_pilot``.

    ``gamma=None`` applies :func:`median_heuristic_gamma` to the standardised
    pilot rows. Returns ``(feature_map, gamma)``.
    """
    X_pilot = np.asarray(X_pilot, dtype=np.float64)
    if gamma is None:
        gamma = median_heuristic_gamma(StandardScaler().fit_transform(X_pilot))
    feature_map = make_pipeline(
        StandardScaler(),
        RBFSampler(gamma=gamma, n_components=n_components, random_state=random_state),
    )
    return feature_map.fit(X_pilot), float(gamma)


def feature_moments(X, Y, sample_weight, feature_map, *, chunk_size=None, n_threads=None):
    """Weighted moments of ``(phi(x), x, y)`` in one chunked pass over the rows.

    Each chunk is mapped through ``feature_map`` and handed to
    :func:`~skdistill._core.moments.chunk_moments`; chunks are fixed by ``chunk_size``
    and merged in order, so the result does not depend on ``n_threads`` (default:
    the threads BLAS would use, as for :func:`~skdistill._core.moments.compute_moments`).
    Memory is ``O(chunk_size * D + D^2)`` per thread; no ``n x D`` array is formed.
    """
    n, d = X.shape
    n_components = feature_map[-1].n_components
    if chunk_size is None:
        chunk_size = default_chunk_size(n_components + d + Y.shape[1])

    def one(start):
        sl = slice(start, min(start + chunk_size, n))
        X_chunk = X[sl]
        X_chunk = X_chunk.toarray() if sparse.issparse(X_chunk) else X_chunk
        X_chunk = np.asarray(X_chunk, dtype=np.float64)
        Phi = feature_map.transform(X_chunk)
        w = None if sample_weight is None else sample_weight[sl]
        return chunk_moments(Phi, np.hstack([X_chunk, Y[sl]]), w)

    starts = range(0, n, chunk_size)
    parts = thread_map(one, starts, n_threads)
    total = None
    for part in parts:
        total = merge_moments(total, part)
    return total


def sub_moments(moments, start):
    """Moments of the trailing coordinates ``start:`` (e.g. the ``(x, y)`` block)."""
    return Moments(
        moments.weight_sum, moments.mean[start:], moments.comoment[start:, start:]
    )


def standardised_rbf_weights(feature_map, shift, scale):
    """Weights ``(W, b)`` of ``phi`` as a function of standardised ``x_s``.

    ``phi(x) = sqrt(2 / D) cos(x_s W + b)`` for ``x = x_s * scale + shift``: the
    pipeline's scaler and the sampler's ``random_weights_`` and ``random_offset_``
    folded into one affine map.
    """
    scaler, sampler = feature_map[0], feature_map[-1]
    weights = np.asarray(sampler.random_weights_, dtype=np.float64)
    W = (scale / scaler.scale_)[:, None] * weights
    b = sampler.random_offset_ + ((shift - scaler.mean_) / scaler.scale_) @ weights
    return W, b


def lift(Zs, W, b, fit_intercept=True):
    """Rows ``u = (phi(x_s), x_s, y_s[, 1])`` and the phase matrix ``x_s W + b``."""
    d, n_components = W.shape
    theta = Zs[:, :d] @ W + b
    U = np.hstack([np.sqrt(2.0 / n_components) * np.cos(theta), Zs])
    return (homogenise(U) if fit_intercept else U), theta


def expected_mismatch(Delta):
    """``p^2 E[(v^T Delta v)^2]`` over ``v ~ N(0, I / p)``: ``2 ||Delta||_F^2 + tr^2``."""
    return 2.0 * float(np.sum(Delta * Delta)) + float(np.trace(Delta)) ** 2


def rbf_objective(z, shape, W, b, M_train, V=None, targets=None, fit_intercept=True):
    """Relative loss-mismatch objective and its gradient at the flattened rows ``z``.

    Parameters
    ----------
    z : ndarray of shape (m * q,)
        Standardised synthetic rows ``(x_s, y_s)``, flattened.
    shape : tuple (m, q)
    W, b : ndarrays of shape (d, D) and (D,)
        From :func:`standardised_rbf_weights`.
    M_train : ndarray of shape (p, p)
        Training second moment of ``u``, ``p = D + q + fit_intercept``.
    V : ndarray of shape (k, p), default=None
        Random regressors; ``None`` uses the exact expectation over ``N(0, I / p)``.
    targets : ndarray of shape (k,), default=None
        Training losses of ``V`` (``model_losses(V, M_train)``).
    fit_intercept : bool, default=True

    Returns
    -------
    f : float
    grad : ndarray of shape (m * q,)
    """
    m, q = shape
    d, n_components = W.shape
    Zs = z.reshape(m, q)
    U, theta = lift(Zs, W, b, fit_intercept)
    Delta = U.T @ U / m - M_train
    if V is None:
        norm = expected_mismatch(M_train)
        f = expected_mismatch(Delta) / norm
        G = 4.0 * Delta
        G.flat[:: G.shape[0] + 1] += 2.0 * np.trace(Delta)
        G /= norm
    else:
        e = model_losses(V, Delta)
        norm = float(targets @ targets)
        f = float(e @ e) / norm
        G = (2.0 / norm) * (V.T @ (V * e[:, None]))
    R = (2.0 / m) * (U @ G)
    grad = R[:, n_components : n_components + q].copy()
    dphi = R[:, :n_components] * np.sin(theta)
    grad[:, :d] -= np.sqrt(2.0 / n_components) * (dphi @ W.T)
    return f, grad.ravel()


def solve_rbf_matching(
    Z0,
    W,
    b,
    M_train,
    *,
    V=None,
    targets=None,
    fit_intercept=True,
    max_iter=2000,
    tol=0.0,
    verbose=0,
):
    """Minimise :func:`rbf_objective` from the standardised rows ``Z0`` with L-BFGS-B.

    Returns
    -------
    Z : ndarray of shape (m, q)
    result : scipy.optimize.OptimizeResult
    """
    return minimize_lbfgs(
        rbf_objective,
        Z0,
        args=(Z0.shape, W, b, M_train, V, targets, fit_intercept),
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        label="L-BFGS through the features",
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
    Zs, result = solve_rbf_matching(
        family.standardiser.transform(Z0),
        family.W,
        family.b,
        family.M_train,
        V=V,
        targets=targets,
        fit_intercept=family.fit_intercept,
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
    gamma : float
        Its kernel parameter.
    fit_intercept : bool
    """

    solvers = {"exact": solve_exact, "lbfgs": solve_lbfgs}
    n_solver_seeds = 2

    def __init__(self, moments, feature_map, gamma, fit_intercept):
        n_components = feature_map[-1].n_components
        d = feature_map[0].n_features_in_
        self.moments = moments
        self.feature_map = feature_map
        self.gamma = gamma
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
        """Whether the linear part should match to rounding: with ``solver="exact"``."""
        return solver == "exact"

    def fallback_message(self, m, loss_gap, linear_loss_gap):
        """Why ``solver="exact"`` ran the feature-space match alone, and what that gave."""
        return (
            f"An exact match of the linear moments needs n_synthetic >= "
            f"{self.min_rows_exact()}; with n_synthetic={m} only the L-BFGS feature-space "
            f"match was run. Relative loss gap: {loss_gap:.3g} in feature space, "
            f"{linear_loss_gap:.3g} for linear models."
        )


def summarise_rbf(X, Y, sample_weight, *, n_synthetic, gamma, n_components, fit_intercept,
                  chunk_size, random_state, check_rows):
    """Feature map, feature moments and start rows of in-memory ``(X, Y)``.

    ``check_rows(moments, rows)`` checks the rows of the pilot sample before
    anything is fitted on them (e.g. that they can be squared in float64).

    Returns
    -------
    family : RBFFamily
    Z0 : ndarray of shape (n_synthetic, q)
        Start rows, drawn with probability proportional to ``sample_weight``.
    solver_seed : numpy.random.SeedSequence
    """
    n, d = X.shape
    pilot_seed, map_seed, subset_seed, solver_seed = seed_sequence(random_state).spawn(4)
    n_pilot = n if sample_weight is None else int(np.count_nonzero(sample_weight))
    pilot = draw_rows(
        X, Y, sample_weight, min(N_PILOT, n_pilot), np.random.default_rng(pilot_seed)
    )
    check_rows(moments_of_rows(pilot), pilot)
    feature_map, gamma = make_feature_map(
        pilot[:, :d], gamma, n_components, random_state=int(map_seed.generate_state(1)[0])
    )
    moments = feature_moments(X, Y, sample_weight, feature_map, chunk_size=chunk_size)
    Z0 = draw_rows(X, Y, sample_weight, n_synthetic, np.random.default_rng(subset_seed))
    family = RBFFamily(moments, feature_map, gamma, fit_intercept)
    return family, Z0, solver_seed


def unsupported_with_rbf(what):
    """Why ``what`` (a stream, Dask input, ``solver="reweight"``) refuses ``kernel="rbf"``."""
    if what == "solver='reweight'":
        why = (
            "random-feature moments are not linear constraints on the weights of the "
            "rows' (x, y)"
        )
    else:
        why = (
            "the random-feature map of kernel='rbf' (its input scaling and, by default, "
            "its gamma) is fitted on a sample of all the training rows, which a stream or "
            "a Dask pass does not have when it starts, and every refresh would rerun "
            "L-BFGS through the features. Use fit on an in-memory array (for instance a "
            "large random subset) with kernel='rbf'"
        )
    return f"{what} supports kernel='linear' only, got kernel='rbf': {why}."
