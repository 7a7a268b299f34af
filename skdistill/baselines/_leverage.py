"""Leverage-score sampling: the randomised least-squares baseline."""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.utils.validation import check_array

from .._core.moments import compute_moments, default_chunk_size
from .._core.random_models import seed_sequence
from .._core.sklearn_private import Interval, _check_sample_weight, _fit_context
from .._core.standardise import column_scale
from ..base import BaseSupervisedDistiller


def _projector(moments, fit_intercept):
    """``(centre, P)`` with ``h(x) = (x - centre)^T P (x - centre)`` (+ 1/W with intercept).

    ``P`` is the pseudo-inverse of the (centred) Gram matrix, computed on
    standardised columns so that the rank cut-off does not depend on the units of
    the features; constant columns (zero spread) carry no leverage.
    """
    d = moments.mean.shape[0]
    W = moments.weight_sum
    if fit_intercept:
        centre = moments.mean
        gram = moments.comoment
    else:
        centre = np.zeros(d)
        gram = moments.comoment + W * np.outer(moments.mean, moments.mean)
    live = np.diag(gram) > 0
    scale = column_scale(np.diag(gram))
    scale_live = scale[live]
    corr = gram[np.ix_(live, live)] / np.outer(scale_live, scale_live)
    values, vectors = np.linalg.eigh(corr)
    cutoff = values.max(initial=0.0) * max(corr.shape[0], 1) * np.finfo(np.float64).eps
    keep = values > cutoff
    inv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    P = np.zeros((d, d))
    P[np.ix_(live, live)] = inv / np.outer(scale_live, scale_live)
    return centre, P


def _leverage(X, sample_weight, fit_intercept, chunk_size):
    n, d = X.shape
    moments = compute_moments(X, np.empty((n, 0)), sample_weight, chunk_size=chunk_size)
    if moments.weight_sum == 0:
        raise ValueError("All sample weights are zero: no row has any leverage.")
    centre, P = _projector(moments, fit_intercept)
    h = np.empty(n)
    step = chunk_size or default_chunk_size(d)
    for start in range(0, n, step):
        rows = X[start : start + step]
        rows = rows.toarray() if sparse.issparse(rows) else np.asarray(rows, dtype=np.float64)
        rows = rows - centre
        h[start : start + step] = np.einsum("ij,ij->i", rows @ P, rows)
    if fit_intercept:
        h += 1.0 / moments.weight_sum
    if sample_weight is not None:
        h *= sample_weight
    # Rounding can leave tiny negative values on rows in the null space.
    return np.clip(h, 0.0, None)


def leverage_scores(X, *, fit_intercept=True, sample_weight=None, chunk_size=None):
    """Statistical leverage of every row: the diagonal of the hat matrix.

    The leverage of row ``i`` of the design matrix ``A`` (``X`` with a column of
    ones when ``fit_intercept``) is ``h_i = a_i^T (A^T A)^+ a_i``; the scores lie
    in ``[0, 1]`` and sum to the rank of ``A``. With ``sample_weight`` they are
    the leverages of ``W^{1/2} A``, ``h_i = w_i a_i^T (A^T W A)^+ a_i``. The Gram
    matrix is computed in one chunked pass (centred, so large feature means cost
    no precision) and the scores in a second.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The design matrix, without the intercept column.
    fit_intercept : bool, default=True
        Whether the design matrix has a column of ones.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative row weights.
    chunk_size : int, default=None
        Rows per chunk; ``None`` uses about 4 MiB per chunk.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        The leverage of every row.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.baselines import leverage_scores
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> h = leverage_scores(X)
    >>> h.round(3)
    array([0.418, 0.331, 0.275, 0.976])
    >>> float(h.sum())  # the rank of [X, 1]
    2.0
    """
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return _leverage(X, sample_weight, fit_intercept, chunk_size)


class LeverageScoreSampler(BaseSupervisedDistiller):
    """Baseline: sample rows by leverage score and reweight them (randomised least squares).

    Draws ``n_synthetic`` real rows independently, with replacement, with
    probability ``p_i`` proportional to ``(1 - uniform_fraction) h_i / sum(h) +
    uniform_fraction / n`` where ``h_i`` is the leverage of row ``i`` (see
    :func:`leverage_scores`), and gives each draw the weight ``w_i / (m p_i)``
    (``w_i`` the training sample weight, 1 without): the weighted sums over the
    sample are unbiased for the sums over the data. A linear model fitted on the
    sample *with* ``sample_weight=sampler.sample_weight_`` is the classical
    leverage-sampling estimator of Drineas, Mahoney and Muthukrishnan (2006);
    ``uniform_fraction > 0`` is the shrinkage estimator of Ma, Mahoney and Yu
    (2015), which bounds the weights.

    This is a baseline, not a distiller: the rows are real and unchanged, nothing
    is matched, and the loss of a linear model on the sample is only close to
    its full-data loss in expectation, with a relative error that shrinks like
    ``sqrt(rank / n_synthetic)``. :class:`~skdistill.LossMatchingDistiller`
    matches the losses of all linear models exactly from ``n_features +
    n_targets + 1`` rows on. Sampling is with replacement, so the sample can
    hold the same row more than once (high-leverage rows especially).

    Parameters
    ----------
    n_synthetic : int, default=100
        Number of rows to draw ``m``.
    fit_intercept : bool, default=True
        Leverage with respect to the design matrix with a column of ones (for
        models with an intercept).
    uniform_fraction : float, default=0.0
        Weight in ``[0, 1]`` of the uniform distribution mixed into the
        sampling probabilities: 0 is pure leverage sampling, 1 uniform sampling
        with replacement.
    chunk_size : int, default=None
        Rows per chunk of the two passes over the data; ``None`` uses about
        4 MiB per chunk.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Attributes
    ----------
    X_synthetic_ : ndarray of shape (n_synthetic, n_features)
        The sampled rows, in the input's float dtype.
    y_synthetic_ : ndarray of shape (n_synthetic,) or (n_synthetic, n_targets)
        Their targets.
    sample_weight_ : ndarray of shape (n_synthetic,)
        Inverse-probability weights ``w_i / (m p_i)``; they sum to the training
        weight sum in expectation.
    sample_indices_ : ndarray of shape (n_synthetic,)
        Indices of the sampled rows in the training data, as imbalanced-learn's
        samplers report them.
    leverage_scores_ : ndarray of shape (n_samples,)
        The leverage of every training row.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LossMatchingDistiller : The distiller this baseline is compared with.
    leverage_scores : The scores the probabilities are built from.

    References
    ----------
    .. [1] Drineas, Mahoney, Muthukrishnan, "Sampling algorithms for l2
       regression and applications", SODA 2006.
    .. [2] Ma, Mahoney, Yu, "A statistical perspective on algorithmic
       leveraging", JMLR 16, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import LinearRegression
    >>> from skdistill.baselines import LeverageScoreSampler
    >>> X, y = load_diabetes(return_X_y=True)
    >>> sampler = LeverageScoreSampler(n_synthetic=100, random_state=0)
    >>> X_s, y_s = sampler.fit_resample(X, y)
    >>> X_s.shape, sampler.sample_indices_.shape
    ((100, 10), (100,))
    >>> bool(np.array_equal(X_s, X[sampler.sample_indices_]))
    True
    >>> model = LinearRegression().fit(X_s, y_s, sample_weight=sampler.sample_weight_)
    """

    _parameter_constraints: dict = {
        **BaseSupervisedDistiller._parameter_constraints,
        "fit_intercept": ["boolean"],
        "uniform_fraction": [Interval(Real, 0, 1, closed="both")],
        "chunk_size": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_synthetic=100,
        *,
        fit_intercept=True,
        uniform_fraction=0.0,
        chunk_size=None,
        random_state=None,
    ):
        self.n_synthetic = n_synthetic
        self.fit_intercept = fit_intercept
        self.uniform_fraction = uniform_fraction
        self.chunk_size = chunk_size
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, sample_weight=None):
        """Draw the leverage-score sample of ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input gives dense sampled rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training rows; rows of weight 0 are
            never drawn.

        Returns
        -------
        X_sample : {ndarray, DataFrame} of shape (n_synthetic, n_features)
            The sampled rows, in the container and float dtype of ``X``.
        y_sample : {ndarray, Series, DataFrame} of shape (n_synthetic,) or \
                (n_synthetic, n_targets)
            Their targets, in the container of ``y``.
        """
        return super().fit_resample(X, y, sample_weight=sample_weight)

    def _fit_resample(self, X, Y, sample_weight):
        n = X.shape[0]
        h = _leverage(X, sample_weight, self.fit_intercept, self.chunk_size)
        self.leverage_scores_ = h
        if h.sum() == 0:
            raise ValueError(
                "Every row has leverage 0 (X is all zeros and fit_intercept=False); "
                "there is nothing to sample by."
            )
        p = (1.0 - self.uniform_fraction) * h / h.sum()
        if self.uniform_fraction > 0:
            base = np.ones(n) if sample_weight is None else (sample_weight > 0).astype(float)
            p += self.uniform_fraction * base / base.sum()
        p /= p.sum()
        rng = np.random.default_rng(seed_sequence(self.random_state))
        idx = rng.choice(n, size=self.n_synthetic, replace=True, p=p)
        w = np.ones(n) if sample_weight is None else sample_weight
        self.sample_indices_ = idx
        self.sample_weight_ = w[idx] / (self.n_synthetic * p[idx])
        X_rows = X[idx]
        if sparse.issparse(X_rows):
            X_rows = X_rows.toarray()
        return X_rows, Y[idx]
