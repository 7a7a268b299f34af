"""Base classes of the distillers.

Every distiller does the same five things, in this order::

    validate  ->  summarise (one pass)  ->  standardise  ->  solve  ->  certify, store

:class:`BaseDistiller` holds what all of them share (the parameters every distiller
has and the one check of ``n_synthetic``); :class:`BaseSupervisedDistiller` adds the
sampler protocol of the ecosystem for ``(X, y)`` data: ``fit_resample`` validates the
input, calls the subclass's ``_fit_resample`` on float arrays and returns the
synthetic set in the caller's container and dtype, as imbalanced-learn's samplers do;
``fit`` is ``fit_resample`` without the return.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._metadata_requests import RequestMethod
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._core.validation import check_n_synthetic, float_dtype

__all__ = ["BaseDistiller", "BaseSupervisedDistiller"]


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

    def _validate_fit_data(self, X, y, sample_weight, reset=True):
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
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
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
        check_is_fitted(self)
        return self.X_synthetic_, self.y_synthetic_, self.sample_weight_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags
