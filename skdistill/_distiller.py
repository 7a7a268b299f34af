"""LossMatchingDistiller: distil (X, y) by matching the losses of random regressors."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseDistiller
from ._certificate import (
    heldout_loss_gap,
    loss_gap,
    model_losses,
    standardised_second_moment,
    standardiser,
)
from ._exact import match_moments_exact, min_rows_exact
from ._lbfgs import solve_loss_matching
from ._moments import compute_moments, moments_of_rows
from ._sampling import auto_n_models, sample_gaussian_models, seed_sequence

# Held-out random regressors used for ``heldout_loss_gap_``.
_N_CHECK = 200


def draw_rows(X, Y, sample_weight, n_rows, rng):
    """Random rows of ``[X, Y]`` without replacement, with probability ∝ sample_weight."""
    n = X.shape[0]
    p = None
    if sample_weight is not None:
        positive = np.count_nonzero(sample_weight)
        if positive < n_rows:
            raise ValueError(
                f"n_synthetic={n_rows} exceeds the number of rows with positive "
                f"sample_weight ({positive})."
            )
        p = sample_weight / sample_weight.sum()
    idx = np.sort(rng.choice(n, size=n_rows, replace=False, p=p))
    X_rows = X[idx]
    if sparse.issparse(X_rows):
        X_rows = X_rows.toarray()
    return np.hstack([np.asarray(X_rows, dtype=np.float64), Y[idx].astype(np.float64)])


class LossMatchingDistiller(BaseDistiller):
    """Distil a regression dataset by matching the losses of random linear regressors.

    The loss of every linear regressor on a dataset is a linear function of the
    second-moment matrix of the rows ``z = (x, y)`` (with a trailing 1 for an
    intercept), so the training side is a single chunked pass computing that
    matrix; nothing afterwards depends on the number of training rows. The
    synthetic rows are then chosen so that the losses agree:

    - ``solver="exact"`` builds, in closed form, the point set nearest to a random
      subset of the training rows that has exactly the training mean and
      covariance (an orthogonal-Procrustes construction). Every linear model --
      OLS, Lasso, ElasticNet, and Ridge with ``sample_weight_`` -- then has the
      same coefficients on the synthetic set as on the full data, to rounding.
      This needs ``n_synthetic >= q + 1`` rows with an intercept (``q`` without),
      ``q = n_features + n_targets``; below that the distiller falls back to
      ``"lbfgs"`` and warns with the certified gap.
    - ``solver="lbfgs"`` is Algorithm 1 of Gupta, Saket and Raghuveer (ICLR 2026):
      sample ``k`` regressors ``v ~ N(0, I / p)`` on the standardised, homogenised
      rows, compute their training losses from the moment matrix and minimise the
      squared loss mismatch over the synthetic rows with L-BFGS and the analytic
      gradient.

    Only linear learners are matched exactly; nonlinear learners (MLPs, SVR,
    k-NN) trained on a moment-matched set do about as well as on a random subset,
    and tree ensembles are outside what this distils well.

    Parameters
    ----------
    n_synthetic : int, default=100
        Number of synthetic rows.
    solver : {"exact", "lbfgs"}, default="exact"
        Closed-form moment matching, or the paper's L-BFGS loss matching.
    n_regressors : "auto" or int, default="auto"
        Number ``k`` of random regressors for ``solver="lbfgs"``. ``"auto"`` uses
        ``ceil(p (p + 1) / 2 * max(2, ln p))`` with ``p = q + fit_intercept``: the
        paper's lower bound ``p (p + 1) / 2`` with a logarithmic margin. Fewer than
        ``p (p + 1) / 2`` cannot pin the moments down.
    fit_intercept : bool, default=True
        Match models with an intercept (mean and covariance) or homogeneous models
        (uncentred second moment).
    max_iter : int, default=2000
        Maximum L-BFGS iterations.
    tol : float, default=0.0
        L-BFGS stops when the objective (mean squared loss mismatch) falls by less
        than ``tol`` in a step or the projected gradient is below ``tol``; the
        default 0 runs to machine precision (or ``max_iter``).
    chunk_size : int, default=None
        Rows per chunk of the data pass; ``None`` uses about 16 MiB per chunk.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial subset and the random regressors. The result depends on
        it alone, not on ``n_jobs``.
    n_jobs : int, default=None
        Threads for the data pass and the regressor sampling. ``None`` means 1.
    verbose : int, default=0
        Verbosity; ``2`` prints L-BFGS progress.

    Attributes
    ----------
    X_synthetic_ : ndarray of shape (n_synthetic, n_features)
        Synthetic rows, in the input's float dtype.
    y_synthetic_ : ndarray of shape (n_synthetic,) or (n_synthetic, n_targets)
        Synthetic targets.
    sample_weight_ : ndarray of shape (n_synthetic,)
        Weight of every synthetic row, ``n_samples / n_synthetic`` (the training
        weight sum over ``n_synthetic`` with ``sample_weight``), so that sum-based
        objectives such as Ridge's mean the same as on the full data.
    regressors_ : ndarray of shape (n_regressors, p)
        The random regressors, in standardised homogenised coordinates: those
        matched by ``"lbfgs"``, or the held-out check set for ``"exact"``.
    n_regressors_ : int
        Number of regressors matched (0 for ``"exact"``).
    loss_gap_ : float
        Certificate: ``||M_syn - M_train||_2 / ||M_train||_2``, the relative
        worst-case loss gap over all unit-norm linear models in standardised
        coordinates.
    heldout_loss_gap_ : float
        Largest relative loss error on 200 fresh random regressors.
    solver_ : str
        The solver actually used (``"lbfgs"`` after a fallback).
    n_iter_ : int
        L-BFGS iterations (0 for the exact solver).
    n_samples_seen_ : int
        Number of training rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    DistilledRegressor : Distil, then fit any regressor on the synthetic set.

    References
    ----------
    .. [1] Gupta, Saket, Raghuveer, "Algorithmic Guarantees for Distilling
       Supervised and Offline RL Datasets", ICLR 2026.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import LinearRegression
    >>> from skdistill import LossMatchingDistiller
    >>> X, y = load_diabetes(return_X_y=True)
    >>> distiller = LossMatchingDistiller(n_synthetic=20, random_state=0)
    >>> X_syn, y_syn = distiller.fit_resample(X, y)
    >>> X_syn.shape, y_syn.shape
    ((20, 10), (20,))
    >>> full = LinearRegression().fit(X, y)
    >>> small = LinearRegression().fit(X_syn, y_syn)
    >>> bool(np.allclose(full.coef_, small.coef_))
    True
    >>> bool(distiller.loss_gap_ < 1e-10)
    True
    """

    _parameter_constraints: dict = {
        "n_synthetic": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"exact", "lbfgs"})],
        "n_regressors": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "chunk_size": [None, Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_synthetic=100,
        *,
        solver="exact",
        n_regressors="auto",
        fit_intercept=True,
        max_iter=2000,
        tol=0.0,
        chunk_size=None,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_synthetic = n_synthetic
        self.solver = solver
        self.n_regressors = n_regressors
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_resample(self, X, Y, sample_weight):
        seed = seed_sequence(self.random_state)
        subset_seed, solver_seed = seed.spawn(2)
        moments = compute_moments(
            X, Y, sample_weight, chunk_size=self.chunk_size, n_jobs=self.n_jobs
        )
        Z0 = draw_rows(X, Y, sample_weight, self.n_synthetic, np.random.default_rng(subset_seed))
        self.n_samples_seen_ = X.shape[0]
        Z = self._distil_moments(moments, Z0, solver_seed)
        d = X.shape[1]
        return Z[:, :d], Z[:, d:]

    def _distil_moments(self, moments, Z0, seed):
        """Synthetic rows from the training moments and a start set; sets the fitted state.

        This is the part of fitting that never sees the training rows, shared by
        every way of computing the moments (in memory, chunked, streamed).
        """
        self._moments = moments
        model_seed, check_seed, completion_seed = seed.spawn(3)
        m, q = Z0.shape
        fit_intercept = self.fit_intercept
        p = q + fit_intercept
        shift, scale = standardiser(moments, fit_intercept)
        M_train = standardised_second_moment(moments, shift, scale, fit_intercept)

        solver = self.solver
        if solver == "exact" and m < min_rows_exact(q, fit_intercept):
            solver = "lbfgs"
        self.solver_ = solver
        if solver == "exact":
            Z = match_moments_exact(
                Z0,
                moments.mean,
                moments.covariance,
                fit_intercept=fit_intercept,
                random_state=np.random.default_rng(completion_seed),
            )
            self.n_iter_ = 0
            self.n_regressors_ = 0
        else:
            k = auto_n_models(p) if self.n_regressors == "auto" else self.n_regressors
            V = sample_gaussian_models(k, p, model_seed, n_jobs=self.n_jobs)
            Zs, result = solve_loss_matching(
                (Z0 - shift) / scale,
                V,
                model_losses(V, M_train),
                fit_intercept=fit_intercept,
                max_iter=self.max_iter,
                tol=self.tol,
                verbose=self.verbose,
            )
            Z = Zs * scale + shift
            self.n_iter_ = int(result.nit)
            self.n_regressors_ = k
            self.regressors_ = V

        M_syn = standardised_second_moment(moments_of_rows(Z), shift, scale, fit_intercept)
        V_check = sample_gaussian_models(_N_CHECK, p, check_seed, n_jobs=self.n_jobs)
        if solver == "exact":
            self.regressors_ = V_check
        self.loss_gap_ = loss_gap(M_syn, M_train)
        self.heldout_loss_gap_ = heldout_loss_gap(V_check, M_syn, M_train)
        self.sample_weight_ = np.full(m, moments.weight_sum / m)
        if self.solver == "exact" and solver != "exact":
            warnings.warn(
                f"An exact moment match needs n_synthetic >= {min_rows_exact(q, fit_intercept)} "
                f"(n_features + n_targets{' + 1 for the intercept' if fit_intercept else ''}); "
                f"with n_synthetic={m} the synthetic set has rank too low to reproduce the "
                f"training covariance. Used solver='lbfgs' instead; certified relative loss "
                f"gap {self.loss_gap_:.3g}.",
                UserWarning,
            )
        return Z
