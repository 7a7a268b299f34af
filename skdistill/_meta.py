"""DistilledRegressor: distil the training set, then fit any regressor on it."""

from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, _fit_context, clone
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from ._distiller import LossMatchingDistiller


class DistilledRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Fit a regressor on a distilled copy of the training set.

    ``fit`` clones ``distiller``, distils ``(X, y)`` with it, and fits a clone of
    ``estimator`` on the synthetic rows, passing the distiller's ``sample_weight_``
    when the estimator's ``fit`` accepts ``sample_weight`` (so that sum-based
    penalties such as Ridge's ``alpha`` mean the same as on the full data).
    ``predict`` and ``score`` use the fitted estimator. This is the way to put a
    distiller into a scikit-learn ``Pipeline`` (whose steps cannot change ``y``):
    as the last step, after any preprocessing. Nested parameters
    (``distiller__n_synthetic``, ``estimator__alpha``) can be grid-searched.

    Parameters
    ----------
    estimator : estimator object
        A regressor with ``fit`` and ``predict``.
    distiller : distiller object, default=None
        An object with ``fit_resample`` and ``sample_weight_`` after fitting;
        ``None`` means ``LossMatchingDistiller()`` with its defaults.

    Attributes
    ----------
    distiller_ : distiller object
        The fitted clone of ``distiller``.
    estimator_ : estimator object
        The clone of ``estimator`` fitted on the synthetic set.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LossMatchingDistiller : The default distiller.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from skdistill import DistilledRegressor, LossMatchingDistiller
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = DistilledRegressor(
    ...     Ridge(alpha=1.0), LossMatchingDistiller(n_synthetic=30, random_state=0)
    ... ).fit(X, y)
    >>> full = Ridge(alpha=1.0).fit(X, y)
    >>> bool(np.allclose(model.predict(X), full.predict(X)))
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "distiller": [None, HasMethods(["fit_resample"])],
    }

    def __init__(self, estimator, distiller=None):
        self.estimator = estimator
        self.distiller = distiller

    def _accept_sparse(self):
        return ["csr", "csc"] if get_tags(self.estimator).input_tags.sparse else False

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Distil ``(X, y)`` and fit the estimator on the synthetic set.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training rows, given to the distiller.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        X, y = validate_data(
            self, X, y, accept_sparse=self._accept_sparse(), multi_output=True, y_numeric=True
        )
        distiller = LossMatchingDistiller() if self.distiller is None else self.distiller
        self.distiller_ = clone(distiller)
        X_syn, y_syn = self.distiller_.fit_resample(X, y, sample_weight=sample_weight)
        self.estimator_ = clone(self.estimator)
        if has_fit_parameter(self.estimator_, "sample_weight"):
            self.estimator_.fit(X_syn, y_syn, sample_weight=self.distiller_.sample_weight_)
        else:
            self.estimator_.fit(X_syn, y_syn)
        return self

    def predict(self, X):
        """Predict with the estimator fitted on the synthetic set.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=self._accept_sparse())
        return self.estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = get_tags(self.estimator).input_tags.sparse
        tags.target_tags.multi_output = get_tags(self.estimator).target_tags.multi_output
        return tags
