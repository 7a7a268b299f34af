"""The private scikit-learn API this package uses, all in one place.

Each has no public equivalent in scikit-learn 1.6-1.9; import them from here, so that
a change in scikit-learn is mended once.

- ``_fit_context``: parameter validation and nested-validation control around ``fit``,
  as every scikit-learn estimator uses it.
- ``Interval``, ``StrOptions``, ``HasMethods``, ``validate_params``: the declarative
  parameter constraints of ``_parameter_constraints`` and of public functions.
- ``RequestMethod``: the ``set_fit_resample_request`` descriptor of metadata routing
  (imbalanced-learn adds the method to scikit-learn's routable methods on import).
- ``_check_sample_weight``: the validation of ``sample_weight`` with scikit-learn's
  messages; ``_check_sample_weight_any_zero`` is the same, accepting weights that are
  all zero (a ``partial_fit`` chunk), in every supported version (scikit-learn 1.9
  refuses them by default and added ``allow_all_zero_weights``).
- ``_assert_all_finite``: the NaN/infinity check with scikit-learn's messages, for a
  chunk whose moments came out non-finite.
- ``_check_n_features``, ``_check_feature_names``: ``n_features_in_`` and
  ``feature_names_in_`` for Dask input, which ``validate_data`` cannot take.
"""

import inspect

from sklearn.base import _fit_context
from sklearn.utils._metadata_requests import RequestMethod
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
)

_ALL_ZERO_OPTION = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def _check_sample_weight_any_zero(sample_weight, X, **kwargs):
    """``_check_sample_weight`` that accepts weights that are all zero."""
    return _check_sample_weight(sample_weight, X, **kwargs, **_ALL_ZERO_OPTION)


__all__ = [
    "HasMethods",
    "Interval",
    "RequestMethod",
    "StrOptions",
    "_assert_all_finite",
    "_check_feature_names",
    "_check_n_features",
    "_check_sample_weight",
    "_check_sample_weight_any_zero",
    "_fit_context",
    "validate_params",
]
