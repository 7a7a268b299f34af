"""Checks of the input that every distiller shares, with messages in the user's terms."""

import numpy as np
from scipy import sparse
from sklearn import config_context
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
    """Name the input that made a chunk's moments NaN or infinite, and raise."""
    with config_context(assume_finite=False):
        _assert_all_finite(X.data if sparse.issparse(X) else X, input_name="X")
        _assert_all_finite(Y, input_name="y")
        if sample_weight is not None:
            _assert_all_finite(sample_weight, input_name="sample_weight")
    raise ValueError(
        "Input X or y has values so large that their squares overflow float64; "
        "rescale them."
    )


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (array, DataFrame, ...); never imports dask."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr")
