"""DistilledRegressor: distil the training set, then fit any regressor on it."""

from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from .._core.sklearn_private import HasMethods, _fit_context
from ._distiller import LossMatchingDistiller


def _tags(estimator):
    """scikit-learn's tags of ``estimator``; ``None`` for an object without tags."""
    try:
        return get_tags(estimator)
    except AttributeError:  # a third-party object with fit and predict only
        return None


class DistilledRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Fit a regressor on a distilled copy of the training set.

    ``fit`` clones ``distiller``, distils ``(X, y)`` with it, and fits a clone of
    ``estimator`` on the synthetic rows, passing the distiller's ``sample_weight_``
    when the estimator's ``fit`` accepts ``sample_weight`` (so that sum-based
    penalties such as Ridge's ``alpha`` mean the same as on the full data).
    ``predict`` and ``score`` use the fitted estimator.

    This is how a distiller goes into a scikit-learn
    :class:`~sklearn.pipeline.Pipeline`, whose steps cannot change ``y``: as the
    last step, after any preprocessing. Nested parameters
    (``distiller__n_synthetic``, ``estimator__alpha``) can be searched with
    :class:`~sklearn.model_selection.GridSearchCV`; every training fold then needs
    at least ``n_synthetic`` rows. Imbalanced-learn's
    :class:`~imblearn.pipeline.Pipeline` is the other route: there the distiller is
    a step of its own, applied during ``fit`` only.

    Parameters
    ----------
    estimator : estimator object
        A regressor with ``fit`` and ``predict`` (an estimator that scikit-learn
        tags as a classifier is refused: the synthetic targets are continuous,
        not class labels). If its ``fit`` has no
        ``sample_weight`` parameter (a :class:`~sklearn.pipeline.Pipeline`, for
        instance) it is fitted unweighted. The weights of
        :class:`LossMatchingDistiller` are all equal, so unpenalised models do not
        change, but a sum-based penalty then acts ``n_samples / n_synthetic``
        times stronger than on the full data: preprocess ahead of
        ``DistilledRegressor`` rather than inside ``estimator``.
    distiller : distiller object, default=None
        An object with ``fit_resample``; its ``sample_weight_`` after fitting, if
        present, weights the synthetic rows. ``None`` means
        ``LossMatchingDistiller()`` with its defaults (100 synthetic rows); pass a
        distiller explicitly to set or search its parameters.

    Attributes
    ----------
    distiller_ : distiller object
        The fitted clone of ``distiller``; its ``loss_gap_`` certifies the
        distillation.
    estimator_ : estimator object
        The clone of ``estimator`` fitted on the synthetic set.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LossMatchingDistiller : The default distiller.

    Notes
    -----
    With metadata routing enabled
    (``sklearn.set_config(enable_metadata_routing=True)``), request the weights
    with ``DistilledRegressor(...).set_fit_request(sample_weight=True)``;
    ``sample_weight`` passed to an enclosing pipeline or search then reaches the
    distiller.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdistill import DistilledRegressor, LossMatchingDistiller
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(
    ...     StandardScaler(),
    ...     DistilledRegressor(Ridge(alpha=1.0), LossMatchingDistiller(30, random_state=0)),
    ... ).fit(X, y)
    >>> model[-1].estimator_.n_features_in_, model[-1].distiller_.X_synthetic_.shape
    (10, (30, 10))
    >>> full = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(X, y)
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

    def _distiller(self):
        return LossMatchingDistiller() if self.distiller is None else self.distiller

    def _accepts_sparse(self):
        estimator_tags, distiller_tags = _tags(self.estimator), _tags(self._distiller())
        return bool(
            estimator_tags
            and estimator_tags.input_tags.sparse
            and distiller_tags
            and distiller_tags.input_tags.sparse
        )

    def _validate_X(self, X):
        accept_sparse = ["csr", "csc"] if self._accepts_sparse() else False
        return validate_data(self, X, reset=False, accept_sparse=accept_sparse)

    @_fit_context(
        # estimator and distiller are not validated yet: their own fit must do it
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None):
        """Distil ``(X, y)`` and fit the estimator on the synthetic set.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input needs an estimator and a distiller that
            accept it.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training rows, given to the distiller (the estimator
            gets the distiller's ``sample_weight_`` instead).

        Returns
        -------
        self : object
            The fitted regressor.
        """
        if _tags(self.estimator) is not None and is_classifier(self.estimator):
            raise ValueError(
                f"DistilledRegressor needs a regressor as estimator, got the classifier "
                f"{type(self.estimator).__name__}: the distilled targets are continuous."
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"] if self._accepts_sparse() else False,
            multi_output=True,
            y_numeric=True,
        )
        self.distiller_ = clone(self._distiller())
        if sample_weight is None:
            X_syn, y_syn = self.distiller_.fit_resample(X, y)
        else:
            X_syn, y_syn = self.distiller_.fit_resample(X, y, sample_weight=sample_weight)
        synthetic_weight = getattr(self.distiller_, "sample_weight_", None)
        self.estimator_ = clone(self.estimator)
        if synthetic_weight is not None and has_fit_parameter(self.estimator_, "sample_weight"):
            self.estimator_.fit(X_syn, y_syn, sample_weight=synthetic_weight)
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
        return self.estimator_.predict(self._validate_X(X))

    def score(self, X, y, sample_weight=None):
        """Score of the fitted estimator on ``(X, y)`` (R^2 for scikit-learn regressors).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the test rows.

        Returns
        -------
        score : float
            ``estimator_.score(X, y)``, or R^2 of ``predict`` when the estimator
            has no ``score``.
        """
        check_is_fitted(self)
        if not hasattr(self.estimator_, "score"):
            return super().score(X, y, sample_weight=sample_weight)
        X = self._validate_X(X)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator_tags = _tags(self.estimator)
        distiller_tags = _tags(self._distiller())
        tags.input_tags.sparse = self._accepts_sparse()
        tags.target_tags.multi_output = bool(
            estimator_tags
            and estimator_tags.target_tags.multi_output
            and distiller_tags
            and distiller_tags.target_tags.multi_output
        )
        return tags
