"""Base classes of the distillers.

Every distiller does the same five things, in this order::

    validate  ->  summarise (one pass)  ->  standardise  ->  solve  ->  certify, store

:class:`BaseDistiller` holds what all of them share (the parameters every distiller
has and the one check of ``n_synthetic``); :class:`BaseSupervisedDistiller` adds the
sampler protocol of the ecosystem for ``(X, y)`` data: ``fit_resample`` validates the
input, calls the subclass's ``_fit_resample`` on float arrays and returns the
synthetic set in the caller's container and dtype, as imbalanced-learn's samplers do;
``fit`` is ``fit_resample`` without the return. :class:`BaseStreamingDistiller`
summarises the rows wherever they live (in memory, in chunks, Dask) and leaves the
subclass the step from the summary to the synthetic rows (standardise, solve,
certify). :class:`~skdistill.BellmanDistiller` does the same per (action, terminal) cell.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core.sklearn_private import (
    Interval,
    RequestMethod,
    _check_feature_names,
    _check_n_features,
    _check_sample_weight_any_zero,
    _fit_context,
)
from ._core.validation import (
    check_n_synthetic,
    check_numeric_target,
    float_dtype,
    is_dask_collection,
)
from ._sources.summary import Summary

__all__ = ["BaseDistiller", "BaseStreamingDistiller", "BaseSupervisedDistiller"]


def wrap_like(template, array):
    """Return ``array`` in the container of ``template`` (pandas in, pandas out)."""
    if hasattr(template, "iloc"):
        if array.ndim == 1:
            return type(template)(array, name=getattr(template, "name", None))
        return type(template)(array, columns=template.columns)
    return array


class BaseDistiller(BaseEstimator, metaclass=ABCMeta):
    """Base class of every distiller: shared parameters and the ``n_synthetic`` check.

    Subclasses extend ``_parameter_constraints`` with their own parameters
    (``{**BaseDistiller._parameter_constraints, ...}``); constraints of
    parameters a subclass does not have are ignored.
    """

    _parameter_constraints: dict = {
        "n_synthetic": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def _check_n_synthetic(self, n_available, *, what="samples", weighted=False):
        check_n_synthetic(self.n_synthetic, n_available, what=what, weighted=weighted)

    @abstractmethod
    def fit_resample(self, *args, **kwargs):
        """Distil the training data and return the synthetic set."""


class BaseSupervisedDistiller(BaseDistiller):
    """Base class for distillers of (X, y) with the ``fit_resample`` protocol.

    Subclasses implement ``_fit_resample(X, Y, sample_weight)`` on validated
    float64 arrays (Y always 2-D) and return the synthetic ``(X, Y)``; the base
    class stores the fitted arrays and restores the caller's dtype and container.
    """

    # imbalanced-learn adds "fit_resample" to scikit-learn's routable methods when it
    # is imported; a class created before that import would lack this setter.
    set_fit_resample_request = RequestMethod("fit_resample", ["sample_weight"])

    def _validate_fit_data(self, X, y, sample_weight, reset=True, chunk=False):
        """``(X, Y, y.ndim, sample_weight)``; only a ``partial_fit`` chunk may weigh 0 in all."""
        check_numeric_target(y)
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
        )
        y = np.asarray(y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if sample_weight is not None:
            sample_weight = _check_sample_weight_any_zero(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if not chunk and X.shape[0] and not np.any(sample_weight):
                raise ValueError("sample_weight is zero for every row; some must be positive.")
        return X, Y, y.ndim, sample_weight

    def fit(self, X, y, sample_weight=None):
        """Distil ``(X, y)``; the synthetic set is in ``X_synthetic_``, ``y_synthetic_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training rows.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        self.fit_resample(X, y, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, sample_weight=None):
        """Distil ``(X, y)`` and return the synthetic set.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input gives dense synthetic rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training rows.

        Returns
        -------
        X_synthetic : {ndarray, DataFrame} of shape (n_synthetic, n_features)
            Synthetic rows, in the container and float dtype of ``X``.
        y_synthetic : {ndarray, Series, DataFrame} of shape (n_synthetic,) or \
                (n_synthetic, n_targets)
            Synthetic targets, in the container of ``y``.
        """
        X_in, y_in = X, y
        X, Y, y_ndim, sample_weight = self._validate_fit_data(X, y, sample_weight)
        self._check_n_synthetic(X.shape[0])
        X_syn, Y_syn = self._fit_resample(X, Y, sample_weight)
        self._store_synthetic(X_syn, Y_syn, X.dtype, Y.dtype, y_ndim)
        return self._wrap_synthetic(X_in, y_in)

    def _store_synthetic(self, X_syn, Y_syn, x_dtype, y_dtype, y_ndim):
        self.X_synthetic_ = np.asarray(X_syn, dtype=float_dtype(x_dtype))
        Y_syn = np.asarray(Y_syn, dtype=float_dtype(y_dtype))
        self.y_synthetic_ = Y_syn.ravel() if y_ndim == 1 else Y_syn

    def _wrap_synthetic(self, X_template, y_template):
        return (
            wrap_like(X_template, self.X_synthetic_),
            wrap_like(y_template, self.y_synthetic_),
        )

    @abstractmethod
    def _fit_resample(self, X, Y, sample_weight):
        """Distil validated float arrays; return synthetic ``(X, Y)`` with 2-D Y."""

    def get_synthetic(self):
        """Return the fitted synthetic set ``(X_synthetic_, y_synthetic_, sample_weight_)``.

        Returns
        -------
        X_synthetic : ndarray of shape (n_synthetic, n_features)
        y_synthetic : ndarray of shape (n_synthetic,) or (n_synthetic, n_targets)
        sample_weight : ndarray of shape (n_synthetic,)
        """
        check_is_fitted(self, msg=self._not_fitted_message())
        return self.X_synthetic_, self.y_synthetic_, self.sample_weight_

    def _not_fitted_message(self):
        """``check_is_fitted``'s message: the rows a short stream lacks (``None``: the default)."""
        stream = getattr(self, "_stream", None)
        if stream is not None and not stream.ready:
            seen, needed = stream.reservoir.keys.size, stream.n_synthetic
            return (
                f"This %(name)s instance is not fitted yet: it has seen {seen} row(s) of "
                f"positive sample_weight and needs n_synthetic={needed}, {needed - seen} more; "
                "call partial_fit with more rows."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags


class BaseStreamingDistiller(BaseSupervisedDistiller):
    """Base class for distillers whose training side is a summary of the rows.

    The rows are reduced to a :class:`~skdistill._sources.summary.Summary` (weighted
    moments and a reservoir of start rows), wherever they live: an in-memory array
    (``fit``, one chunk), a stream of chunks (``partial_fit``) or Dask arrays (``fit``
    or ``partial_fit``, reduced by Dask). The subclass turns the summary into rows,
    ``_distil_summary(summary) -> Z``, and refuses what it cannot summarise in
    ``_check_streamable(what)``; ``_make_summary`` may build another summary.
    """

    @abstractmethod
    def _distil_summary(self, summary):
        """Synthetic rows ``[X, Y]`` from a summary; sets the fitted attributes."""

    def _check_streamable(self, what):
        """Raise a ``ValueError`` if ``what`` (a stream, Dask input) cannot be summarised."""

    def _make_summary(self, n_features, n_targets):  # a subclass may lift the rows
        return Summary(self.random_state, self.n_synthetic, n_features, n_targets)

    def _new_summary(self, X, Y):
        summary = self._make_summary(X.shape[1], Y.shape[1])
        # The dtypes the synthetic rows are returned in, which the certificate checks.
        summary.output = (float_dtype(X.dtype), float_dtype(Y.dtype), None)
        return summary

    def _add_to_summary(self, X, Y, sample_weight, dask_input):
        if dask_input:
            from ._sources.dask import update_summary

            update_summary(self._stream, X, Y, sample_weight)
        else:
            self._stream.update(X, Y, sample_weight, chunk_size=self.chunk_size)

    def _fit_resample(self, X, Y, sample_weight):
        self._stream = self._new_summary(X, Y)
        self._add_to_summary(X, Y, sample_weight, dask_input=False)
        return self._synthesise()

    def _synthesise(self):
        """Synthetic ``(X, Y)`` describing every row the summary has seen.

        ``fit`` is one ``partial_fit`` over all the rows, so the two agree.
        """
        stream = self._stream
        if not stream.ready:
            self._check_n_synthetic(stream.reservoir.keys.size, weighted=True)
        self.n_samples_seen_ = stream.n_samples
        Z = self._distil_summary(stream)
        d = stream.n_features
        return Z[:, :d], Z[:, d:]

    def _validate_dask_data(self, X, y, sample_weight, reset):
        from ._sources.dask import check_dask_input

        X, Y, sample_weight, y_ndim = check_dask_input(X, y, sample_weight)
        _check_n_features(self, X, reset=reset)
        _check_feature_names(self, X, reset=reset)
        return X, Y, y_ndim, sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, sample_weight=None):
        """Distil ``(X, y)`` and return the synthetic set.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
            Training data. Sparse input gives dense synthetic rows. A Dask array
            is reduced by Dask, block by block, on the active scheduler; it is
            never materialised on one machine.
        y : {array-like, dask.array.Array} of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : {array-like, dask.array.Array} of shape (n_samples,), default=None
            Non-negative weights of the training rows.

        Returns
        -------
        X_synthetic : {ndarray, DataFrame} of shape (n_synthetic, n_features)
            Synthetic rows, in the container and float dtype of ``X`` (a NumPy
            array for Dask input).
        y_synthetic : {ndarray, Series, DataFrame} of shape (n_synthetic,) or \
                (n_synthetic, n_targets)
            Synthetic targets, in the container of ``y``.
        """
        self.__dict__.pop("_stream", None)  # fit starts over
        if any(is_dask_collection(a) for a in (X, y, sample_weight)):
            self._check_streamable("Dask input")
            X, Y, y_ndim, sample_weight = self._validate_dask_data(
                X, y, sample_weight, reset=True
            )
            self._check_n_synthetic(X.shape[0])
            self._stream = self._new_summary(X, Y)
            self._add_to_summary(X, Y, sample_weight, dask_input=True)
            X_syn, Y_syn = self._synthesise()
            self._store_synthetic(
                X_syn, Y_syn, float_dtype(X.dtype), float_dtype(Y.dtype), y_ndim
            )
            result = self.X_synthetic_, self.y_synthetic_
        else:
            result = super().fit_resample(X, y, sample_weight=sample_weight)
        if hasattr(self, "_stream"):
            # What a later partial_fit stores its refreshed synthetic sets as.
            self._stream.output = (
                self.X_synthetic_.dtype,
                self.y_synthetic_.dtype,
                self.y_synthetic_.ndim,
            )
        return result

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a chunk of training rows; the synthetic set then describes all rows seen.

        The distiller keeps the weighted moments of every row seen (merged chunk
        by chunk with Chan et al.'s pairwise update, accurate when means are large
        compared with the spread) and a reservoir of ``n_synthetic`` rows drawn
        without replacement with probability proportional to ``sample_weight``
        (uniformly without weights; algorithm A-Res of Efraimidis and Spirakis).
        After every call the synthetic set and all fitted attributes are rebuilt
        from these, exactly as ``fit`` would build them from the concatenation of
        the chunks: the moments agree to rounding, whatever the chunk sizes and
        order, and for the same chunk sequence the reservoir -- hence the
        synthetic set -- is the one ``fit`` draws. Memory beyond the chunk is
        ``O(q^2 + n_synthetic q)``, ``q = n_features + n_targets``.

        The first call fixes ``n_features_in_``, ``feature_names_in_``, the
        random seeds and ``n_synthetic``; later chunks must agree. ``fit`` starts
        a new stream with its data, and a ``partial_fit`` after ``fit`` adds to
        it. Until ``n_synthetic`` rows of positive weight have been seen (a chunk may
        weigh zero in all), calls only accumulate; NotFittedError counts the rows missing.

        A configuration that cannot be summarised raises a ``ValueError`` saying
        why. ``LossMatchingDistiller(kernel="rbf")`` fits its feature map on the
        first chunk with rows of positive weight (``fit``: on all rows).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array} of shape (n_samples, n_features)
            A chunk of training rows (a Dask array is reduced by Dask).
        y : {array-like, dask.array.Array} of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : {array-like, dask.array.Array} of shape (n_samples,), default=None
            Non-negative weights of its rows.

        Returns
        -------
        self : object
            The distiller, with its synthetic set refreshed.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from skdistill import LossMatchingDistiller
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(10_000, 3))
        >>> y = X @ [1.0, -2.0, 0.5] + 1e6 + rng.normal(size=10_000)
        >>> distiller = LossMatchingDistiller(n_synthetic=10, random_state=0)
        >>> for rows in np.array_split(np.arange(10_000), 7):
        ...     distiller = distiller.partial_fit(X[rows], y[rows])
        >>> distiller.n_samples_seen_
        10000
        >>> full = LinearRegression().fit(X, y)
        >>> small = LinearRegression().fit(distiller.X_synthetic_, distiller.y_synthetic_)
        >>> bool(np.allclose(small.coef_, full.coef_, rtol=1e-6))
        True
        """
        self._check_streamable("partial_fit")
        first_call = not hasattr(self, "_stream")
        dask_input = any(is_dask_collection(a) for a in (X, y, sample_weight))
        if dask_input:
            X, Y, y_ndim, sample_weight = self._validate_dask_data(
                X, y, sample_weight, reset=first_call
            )
        else:
            # NaN and infinity are found from the chunk's moments (Summary.update): one pass less.
            with config_context(assume_finite=True):
                X, Y, y_ndim, sample_weight = self._validate_fit_data(
                    X, y, sample_weight, reset=first_call, chunk=True
                )
        if first_call:
            self._stream = self._new_summary(X, Y)
            self._stream.output = (float_dtype(X.dtype), float_dtype(Y.dtype), y_ndim)
        else:
            self._stream.check_compatible(self.n_synthetic, Y.shape[1])
        self._add_to_summary(X, Y, sample_weight, dask_input)
        self.n_samples_seen_ = self._stream.n_samples
        if self._stream.ready:
            X_syn, Y_syn = self._synthesise()
            self._store_synthetic(X_syn, Y_syn, *self._stream.output)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "X_synthetic_")
