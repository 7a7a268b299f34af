"""Checks of the input that every distiller shares, with messages in the user's terms."""

import warnings

import numpy as np
from scipy import sparse
from sklearn import config_context

from .moments import head_shift, shifted_moments
from .sklearn_private import _assert_all_finite


def float_dtype(dtype):
    """The float dtype synthetic rows are stored in: float32 stays, anything else is float64."""
    return np.float32 if dtype == np.float32 else np.float64


def check_n_synthetic(n_synthetic, n_available, *, what="samples", weighted=False):
    """Raise unless ``n_synthetic`` of the ``n_available`` samples can be drawn.

    ``weighted`` says that only samples of positive ``sample_weight`` were counted.
    """
    if n_synthetic > n_available:
        which = f"{what} with positive sample_weight" if weighted else what
        raise ValueError(
            f"n_synthetic={n_synthetic} exceeds the number of {which}: n_samples = {n_available}. "
            f"Distil to at most as many {what} as there are."
        )


def raise_non_finite(X, Y, sample_weight=None):
    """Name the input that made a chunk's moments NaN or infinite, and raise.

    NaN or infinity in ``X``, ``y`` or ``sample_weight`` is named first. With all
    three finite, the products overflowed: if the unweighted moments are finite,
    the weights are to blame; otherwise the first column whose squares overflow.
    """
    with config_context(assume_finite=False):
        _assert_all_finite(X.data if sparse.issparse(X) else X, input_name="X")
        _assert_all_finite(Y, input_name="y")
        if sample_weight is not None:
            _assert_all_finite(sample_weight, input_name="sample_weight")
    Y = np.asarray(Y, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        unweighted = shifted_moments(X, Y, None, head_shift(X, Y))
        finite = np.isfinite(np.diag(unweighted.comoment)) & np.isfinite(unweighted.mean)
    if sample_weight is not None and finite.all():
        largest = float(np.max(sample_weight))
        raise ValueError(
            f"sample_weight has values so large (up to {largest:.3g}) that the weighted "
            "moments of X and y overflow float64; divide sample_weight by a constant."
        )
    if finite.all():
        raise ValueError(
            "Input X or y has values so large that their squares overflow float64; "
            "rescale them."
        )
    d, bad = X.shape[1], int(np.argmin(finite))
    name, width, column = ("X", d, bad) if bad < d else ("y", Y.shape[1], bad - d)
    where = f" (column {column})" if width > 1 else ""
    raise ValueError(
        f"Input {name}{where} has values so large that their squares overflow float64; "
        "rescale it."
    )


def _is_number_text(value):
    try:
        float(value)
    except ValueError:
        return False
    return True


def check_numeric_target(y):
    """Raise a ``ValueError`` naming an example if the target ``y`` holds strings.

    A regression target must be numbers; strings (a classification target, or
    numbers stored as text) otherwise fail later with a NumPy dtype error.
    """
    if sparse.issparse(y):
        return
    values = np.asarray(y)
    if values.dtype.kind in "biu":
        _warn_if_class_labels(values)
    if values.dtype.kind not in "USO":
        return
    strings = (v for v in values.flat if isinstance(v, (str, bytes)))
    example = next(strings, None)
    if example is None:
        return
    if _is_number_text(example):  # show a string that is not a number, if there is one
        example = next((v for v in strings if not _is_number_text(v)), example)
    example = str(example) if isinstance(example, str) else bytes(example)
    hint = "; convert it with y.astype(float)" if _is_number_text(example) else ""
    raise ValueError(
        f"y must be numeric (a regression target); got strings such as {example!r}{hint}."
    )


# Distinct integer values up to which an integer target looks like class labels.
_MAX_LABELS = 10


def _warn_if_class_labels(values):
    labels = np.unique(values)
    if len(labels) <= _MAX_LABELS:
        warnings.warn(
            f"y holds {len(labels)} distinct integers ({', '.join(map(str, labels[:5]))}"
            f"{', ...' if len(labels) > 5 else ''}), which look like class labels. This "
            "is a regression distiller: y is matched as a number and the synthetic y are "
            "not labels. Pass y as floats to silence this if it is a quantity.",
            UserWarning,
        )


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (array, DataFrame, ...); never imports dask."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr")


# Magnitudes whose squares, and sums of many squares, float64 holds to full precision.
_TINY, _HUGE = 1e-145, 1e145


def check_squarable(mean, spread, sample, names):
    """Raise unless every column can be squared in float64 without losing it.

    Every linear loss is a function of second moments, so a column whose values
    or spread square to below the normal range (or beyond the largest float)
    cannot be certified: refuse it, naming it, rather than return a set whose
    certificate is wrong.

    Parameters
    ----------
    mean, spread : ndarray of shape (q,)
        Training mean and standard deviation of every column.
    sample : ndarray of shape (k, q)
        Some training rows, which tell a constant column from one whose spread
        underflowed to 0.
    names : sequence of str
        What to call each column in the message.
    """
    magnitude = np.maximum(np.abs(mean), spread)
    with np.errstate(invalid="ignore"):
        huge = ~np.isfinite(magnitude) | (magnitude > _HUGE)
        varies = np.ptp(sample, axis=0) > 0 if len(sample) else np.zeros(len(mean), bool)
        # A spread that is tiny, or 0 where the values vary, lost its digits to underflow.
        tiny = (magnitude > 0) & (magnitude < _TINY)
        tiny |= (spread > 0) & (spread < _TINY) | (spread == 0) & varies
    for bad, what in ((huge, "large"), (tiny, "small")):
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{names[j]} has values or a spread around {magnitude[j]:.1e}: too {what} "
                "to square in float64, which every linear loss needs; rescale it (for "
                f"instance to unit spread) before distilling."
            )


def column_names(n_features, n_targets, feature_names=None):
    """What the messages call each column of ``[X, y]``."""
    features = (
        [f"feature {name!r}" for name in feature_names]
        if feature_names is not None
        else [f"column {j} of X" for j in range(n_features)]
    )
    targets = ["y"] if n_targets == 1 else [f"column {k} of y" for k in range(n_targets)]
    return features + targets


def check_squarable_moments(moments, sample, n_features, feature_names=None):
    """:func:`check_squarable` of the columns of ``[X, y]`` with these moments."""
    names = column_names(n_features, moments.mean.shape[0] - n_features, feature_names)
    spread = np.sqrt(np.clip(np.diag(moments.covariance), 0.0, None))
    check_squarable(moments.mean, spread, sample, names)
