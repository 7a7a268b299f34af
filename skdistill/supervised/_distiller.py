"""LossMatchingDistiller: distil (X, y) by matching the losses of random regressors."""

import warnings
from numbers import Integral, Real

import numpy as np

from .._core.random_models import sample_gaussian_models
from .._core.sklearn_private import Interval, StrOptions
from .._core.threads import blas_threads, single_threaded_blas
from .._core.validation import check_squarable_moments
from .._sources.features import FeatureSummary
from .._sources.summary import Summary
from ..base import BaseStreamingDistiller
from ._certify import as_returned, certify_rows, warn_if_inexact
from ._family import SolverOptions
from ._linear import LinearFamily
from ._rbf import RBFFamily, check_same_kernel, rbf_summary

# Held-out random regressors used for ``heldout_loss_gap_``.
_N_CHECK = 200
# solver="reweight": reservoir rows per synthetic row, among which the rows are chosen.
_POOL_FACTOR = 10


class LossMatchingDistiller(BaseStreamingDistiller):
    """Distil a regression dataset by matching the losses of random regressors.

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
    k-NN) trained on a moment-matched set do about as well as on a random subset.
    ``kernel="rbf"`` matches instead the losses of random regressors that are
    linear in ``(phi(x), x, y, 1)``, with ``phi`` random Fourier features of an RBF
    kernel, which helps these learners (see Notes); tree ensembles are outside
    what either kernel distils well.

    Data that does not fit in memory can be fed in chunks with :meth:`partial_fit`
    (see :mod:`skdistill.datasets` for CSV, Parquet and memory-mapped files), or
    passed to ``fit`` as Dask arrays, whose moments Dask computes block by block on
    the active scheduler, for either kernel; the start rows are a reservoir sample.

    Parameters
    ----------
    n_synthetic : int, default=100
        Number of synthetic rows.
    kernel : {"linear", "rbf"}, default="linear"
        Family of random models whose losses are matched. ``"linear"``: linear
        regressors of ``(x, y, 1)``. ``"rbf"``: regressors linear in
        ``(phi(x), x, y, 1)``, where ``phi`` is ``n_components`` random Fourier
        features (scikit-learn's ``RBFSampler``) of the kernel
        ``exp(-gamma ||x_s - x_s'||^2)`` on standardised features ``x_s``; see
        Notes.
    gamma : float or None, default=None
        RBF kernel parameter for ``kernel="rbf"``, on features standardised with
        the mean and standard deviation of a random sample of (up to) 1000
        training rows (the pilot sample; see Notes for streams). ``None`` uses
        the median heuristic,
        ``gamma = 1 / median ||x_s - x_s'||^2`` over the pairs of that sample
        (the kernel is ``exp(-1)`` at the median squared distance); the value
        used is ``gamma_``. Ignored for ``kernel="linear"``.
    n_components : int, default=512
        Number ``D`` of random Fourier features for ``kernel="rbf"``. The data
        pass costs ``O(n (d D + D^2))`` and each L-BFGS step ``O(m p^2)``,
        ``p = D + q + 1``. Ignored for ``kernel="linear"``.
    solver : {"exact", "lbfgs", "reweight"}, default="exact"
        Closed-form moment matching, the paper's L-BFGS loss matching, or
        reweighting real rows. ``"reweight"`` returns ``n_synthetic`` training
        rows unchanged with non-negative ``sample_weight_`` (summing to the
        training weight). With ``kernel="linear"`` the rows are chosen among a
        reservoir of ``10 n_synthetic`` (rare values of two-valued columns first,
        then rows exchanged until exact weights exist), and the weights are the
        closest to uniform (chi-square) that give them exactly the training mean
        and covariance of ``(x, y)`` (calibration weighting, Deville and Sarndal
        1992): every linear model fitted with ``sample_weight_`` then matches the
        full-data fit. That needs ``p (p + 1) / 2`` moment constraints, ``p =
        n_features + n_targets + 1``, and usually somewhat more rows; below, the
        closest weights are returned with a warning naming the size, and
        ``loss_gap_`` certifies how close they are. With ``kernel="rbf"``,
        ``"exact"`` and ``"lbfgs"`` optimise the rows by L-BFGS through the
        features; ``"exact"`` starts from the closed-form linear match and ends
        with it, so linear models stay exact, ``"lbfgs"`` starts from the random
        subset and matches the linear part only within the objective;
        ``"reweight"`` chooses rows by kernel herding of ``(x, y)`` among a
        reservoir of ``10 n_synthetic + 1000`` rows, the half of them whose labels
        lie closest to the random-feature ridge regression of ``y`` (rows of less
        label noise; this loosens the certificate), with the weights of least
        random-feature moment mismatch (the mean and covariance of ``(x, y)``
        exact where the rows allow it), or uniform ones where those certify a
        smaller ``loss_gap_``.
    n_regressors : "auto" or int, default="auto"
        Number ``k`` of random regressors for ``solver="lbfgs"``. ``"auto"`` uses
        ``ceil(p (p + 1) / 2 * max(2, ln p))`` with ``p = q + fit_intercept``: the
        paper's lower bound ``p (p + 1) / 2`` with a logarithmic margin. Fewer than
        ``p (p + 1) / 2`` cannot pin the moments down. With ``kernel="rbf"``,
        ``"auto"`` minimises the exact expectation of the squared loss mismatch
        over all regressors ``v ~ N(0, I / p)`` (the limit of infinitely many,
        ``(2 ||Delta||_F^2 + tr(Delta)^2) / p^2`` for ``Delta = M_syn - M_train``),
        and an int samples ``k`` regressors as in Algorithm 1 (``O(k m p)`` per
        step).
    sampling : {"whitened", "standardised"}, default="whitened"
        Coordinates in which ``solver="lbfgs"`` (``kernel="linear"``) samples its
        random regressors ``v ~ N(0, I / p)``. ``"whitened"``: coordinates in which
        the training second moment is the identity, so every direction is probed
        in proportion to how much it matters and the problem is perfectly
        conditioned (equivalently ``v ~ N(0, M_train^{-1} / p)`` in the original
        coordinates); a start subset that is flat in some direction (a rare
        category it missed) gets random spread there, and L-BFGS restarts when
        its line search ends abnormally. ``"standardised"``: the paper's literal
        algorithm, on rows centred and scaled column by column, with neither; it
        can stall far from the optimum when columns are nearly collinear. Below the
        ``n_synthetic`` of an exact match, where no set can match every direction,
        ``"standardised"`` is used: it keeps the directions of most spread.
    fit_intercept : bool, default=True
        Match models with an intercept (mean and covariance) or homogeneous models
        (uncentred second moment).
    max_iter : int, default=2000
        Maximum L-BFGS iterations. With ``kernel="rbf"``, whose objective cannot
        reach 0, L-BFGS also stops once 50 iterations lowered it by less than 1%.
    tol : float, default=0.0
        L-BFGS stops when the objective falls by less than ``tol`` in a step or the
        projected gradient is below it; 0 runs to rounding level (a mean squared
        relative loss error of ``(100 eps)^2`` with ``sampling="whitened"``, machine
        precision otherwise) or ``max_iter``.
    chunk_size : int, default=None
        Rows per chunk of the data pass; ``None`` uses about 4 MiB per chunk.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial subset and the random regressors. The result depends on
        it alone, not on ``n_jobs``.
    n_jobs : int, default=None
        Threads (joblib) for sampling the random regressors and computing their
        losses. ``None`` means 1 for the sampling. The pass over the training rows
        is one BLAS-like product and, like ``X.T @ X``, uses the threads BLAS has
        (limit them with ``threadpoolctl`` or ``OMP_NUM_THREADS``-style variables);
        so does the whitened L-BFGS objective over its regressors unless
        ``n_jobs`` is given. The result depends on neither.
    verbose : int, default=0
        Verbosity: ``1`` prints L-BFGS progress at least every few seconds and
        a summary, ``3`` every step.

    Attributes
    ----------
    X_synthetic_ : ndarray of shape (n_synthetic, n_features)
        Synthetic rows, in the input's float dtype.
    y_synthetic_ : ndarray of shape (n_synthetic,) or (n_synthetic, n_targets)
        Synthetic targets.
    sample_weight_ : ndarray of shape (n_synthetic,)
        Weight of every synthetic row, ``n_samples / n_synthetic`` (the training
        weight sum over ``n_synthetic`` with ``sample_weight``), so that sum-based
        objectives such as Ridge's mean the same as on the full data. With
        ``solver="reweight"``, the calibration weights (non-negative, summing to
        the training weight sum when exact).
    regressors_ : ndarray of shape (n_regressors, p)
        The random regressors, in standardised homogenised coordinates: those
        matched by ``"lbfgs"`` (drawn ``N(0, I / p)`` in whitened coordinates with
        ``sampling="whitened"``, so ``N(0, M_train^+ / p)`` in these), or the
        held-out check set for ``"exact"`` (and for ``kernel="rbf"`` with
        ``n_regressors="auto"``).
    n_regressors_ : int
        Number of regressors matched (0 for ``"exact"``, and for
        ``kernel="rbf"`` with ``n_regressors="auto"``, which matches their
        expectation).
    loss_gap_ : float
        Certificate ``eps``: every linear model's loss (mean squared error of any
        coefficients, with an intercept if ``fit_intercept``) on the synthetic set,
        weighted by ``sample_weight_``, is within a factor ``1 +- eps`` of its loss
        on the training data, so a model fitted on the synthetic set has a
        training loss at most ``(1 + eps) / (1 - eps)`` times the best (for ``eps
        < 1``). It is ``||M^{-1/2} (M_syn - M) M^{-1/2}||_2`` for the second moments
        of ``(x, y, 1)``, computed from the rows returned (after the cast to the
        input's dtype) against the training moments, independently of the solver;
        infinite if some model has zero training loss and a positive synthetic
        one. For ``kernel="rbf"`` the same over models linear in ``(phi(x), x,
        y)``, which fewer rows than features cannot match (``eps >= 1`` there).
        A ``UserWarning`` gives it where an exact match was due and it is above
        rounding level.
    linear_loss_gap_ : float
        The certificate of the linear models alone, the ``loss_gap_`` that
        ``kernel="linear"`` reports (equal to ``loss_gap_`` there; rounding-level
        with ``kernel="rbf"`` and ``solver="exact"``).
    heldout_loss_gap_ : float
        Largest relative loss error on 200 fresh random regressors.
    solver_ : str
        The solver actually used (``"lbfgs"`` after a fallback).
    n_iter_ : int
        L-BFGS iterations (0 for the exact solver).
    feature_map_ : Pipeline
        For ``kernel="rbf"``: the fitted ``StandardScaler`` -> ``RBFSampler``
        pipeline; ``feature_map_.transform(X)`` gives ``phi(X)``.
    gamma_ : float
        For ``kernel="rbf"``: the kernel parameter used.
    n_samples_seen_ : int
        Number of training rows: those given to ``fit`` and to every
        ``partial_fit`` since.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    DistilledRegressor : Distil, then fit any regressor on the synthetic set.

    Notes
    -----
    ``kernel="rbf"``. The loss of a regressor linear in
    ``u = (phi(x), x, y, 1)`` is ``v^T M v``, ``M`` the second moment of ``u``, so
    the training side is one chunked, thread-parallel pass computing the moments
    of ``(phi(x), x, y)`` (time ``O(n (d D + D^2))``, memory
    ``O(chunk_size D + D^2)``); nothing afterwards depends on ``n``. The
    synthetic ``(x, y)`` are then moved by L-BFGS-B with the analytic gradient
    through ``phi`` (the sampler's ``random_weights_`` and ``random_offset_``);
    ``loss_gap_`` reports how close the approximate match comes.

    Streams: the feature map (scaling, ``gamma_``) is fitted on a sample of up to
    1000 rows of the first chunk of positive weight (all rows for ``fit``), then
    fixed; so over several chunks the start rows are ``fit``'s but the map, and so
    the synthetic set, differ (see the user guide).

    ``kernel="rbf"`` helps learners that follow smooth structure at the scale of
    ``gamma`` (MLPs, SVR, k-NN) and trees little; ``docs/benchmarks.rst`` has the
    measurements and where it loses.

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

    For nonlinear learners, match random-feature models instead:

    >>> rbf = LossMatchingDistiller(50, kernel="rbf", max_iter=100, random_state=0)
    >>> X_syn, y_syn = rbf.fit_resample(X, y)
    >>> bool(rbf.linear_loss_gap_ < 1e-10)  # linear models stay exact
    True
    """

    _parameter_constraints: dict = {
        **BaseStreamingDistiller._parameter_constraints,
        "kernel": [StrOptions({"linear", "rbf"})],
        "gamma": [None, Interval(Real, 0, None, closed="neither")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"exact", "lbfgs", "reweight"})],
        "n_regressors": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "sampling": [StrOptions({"whitened", "standardised"})],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "chunk_size": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_synthetic=100,
        *,
        kernel="linear",
        gamma=None,
        n_components=512,
        solver="exact",
        n_regressors="auto",
        sampling="whitened",
        fit_intercept=True,
        max_iter=2000,
        tol=0.0,
        chunk_size=None,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_synthetic = n_synthetic
        self.kernel = kernel
        self.gamma = gamma
        self.n_components = n_components
        self.solver = solver
        self.n_regressors = n_regressors
        self.sampling = sampling
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_streamable(self, what):
        stream = getattr(self, "_stream", None)
        if what == "partial_fit" and stream is not None:
            check_same_kernel(stream.kernel_params, self._kernel_params())

    def _kernel_params(self):
        """What a stream's summary is built with and cannot change."""
        if self.kernel == "linear":
            return {"kernel": "linear"}
        return {"kernel": "rbf", "gamma": self.gamma, "n_components": self.n_components}

    def _make_summary(self, n_features, n_targets):
        pool = _POOL_FACTOR * self.n_synthetic if self.solver == "reweight" else None
        if self.kernel == "linear":
            summary = Summary(self.random_state, self.n_synthetic, n_features, n_targets, pool)
        else:
            summary = rbf_summary(
                self.random_state, self.n_synthetic, n_features, n_targets, self.gamma,
                self.n_components, getattr(self, "feature_names_in_", None), pool,
            )
        summary.kernel_params = self._kernel_params()
        return summary

    def _add_to_summary(self, X, Y, sample_weight, dask_input):
        if isinstance(self._stream, FeatureSummary):
            self._stream.verbose = self.verbose
        super()._add_to_summary(X, Y, sample_weight, dask_input)

    def _distil_summary(self, summary):
        for name in ("feature_map_", "gamma_"):  # left by an earlier kernel="rbf" fit
            self.__dict__.pop(name, None)
        start = summary.pool_rows() if self.solver == "reweight" else summary.start_rows()
        d, names = summary.n_features, getattr(self, "feature_names_in_", None)
        check_squarable_moments(summary.linear_moments, start, d, names)
        n_threads = blas_threads()  # the budget of the solver's BLAS-like passes
        with single_threaded_blas():
            if isinstance(summary, FeatureSummary):
                family = RBFFamily(summary.moments, summary.feature_map, self.fit_intercept,
                                   summary.n_samples)
                self.feature_map_, self.gamma_ = family.feature_map, family.gamma
            else:
                family = LinearFamily(summary.moments, self.fit_intercept)
            return self._distil(family, start, summary.solver_seed(), n_features=d,
                                dtypes=summary.output[:2], n_threads=n_threads)

    def _distil(self, family, Z0, seed, *, n_features, dtypes, n_threads=1):
        """Solve, certify, store: the steps that never see the training rows.

        ``family`` holds the standardised training moments of one model family and
        its strategy table of solvers; ``Z0`` are the start rows (the pool to
        choose ``n_synthetic`` from, for ``"reweight"``), ``seed`` the
        solver's ``SeedSequence`` and ``dtypes`` those of the returned ``X`` and
        ``y``. Sets the fitted attributes; returns the rows as they are returned
        (cast to ``dtypes``), which is what the certificate describes.
        """
        model_seed, check_seed, *solver_seeds = seed.spawn(2 + family.n_solver_seeds)
        m = self.n_synthetic
        enough = m >= family.min_rows_exact() or self.solver == "reweight"
        self.solver_ = self.solver if enough else "lbfgs"
        options = SolverOptions(self.n_regressors, self.sampling, self.max_iter, self.tol,
                                self.n_jobs, self.verbose, n_threads, m)
        solution = family.solvers[self.solver_](family, Z0, model_seed, solver_seeds, options)
        Z = as_returned(solution.Z, n_features, dtypes)
        uniform = np.full(m, family.moments.weight_sum / m)
        self.sample_weight_ = uniform if solution.sample_weight is None else solution.sample_weight
        V_check = sample_gaussian_models(_N_CHECK, family.n_dims, check_seed, n_jobs=self.n_jobs)
        certificate = certify_rows(family, Z, self.sample_weight_, V_check)
        self.loss_gap_, self.linear_loss_gap_, self.heldout_loss_gap_ = certificate
        self.n_iter_ = solution.n_iter
        self.n_regressors_ = solution.n_regressors
        self.regressors_ = V_check if solution.regressors is None else solution.regressors
        if self.solver_ != self.solver:
            warnings.warn(family.fallback_message(m, *certificate[:2]), UserWarning)
        elif family.exact_expected(self.solver_, solution, m):
            warn_if_inexact(
                self.linear_loss_gap_, self.solver_, self.n_iter_, family.linear, dtypes
            )
        elif solution.calibrated is False:
            warnings.warn(family.shortfall_message(m, self.loss_gap_), UserWarning)
        return Z

