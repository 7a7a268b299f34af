"""Messages for bad input name the problem in the user's terms (issue 12)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from skdistill import LossMatchingDistiller


def _data(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ np.arange(1.0, d + 1) + rng.normal(size=n)


@pytest.mark.parametrize(
    "make_y",
    [
        lambda n: np.array(["a", "b"] * (n // 2)),
        lambda n: np.array(["a", "b"] * (n // 2), dtype=object),
        lambda n: pd.Series(["a", "b"] * (n // 2)),
        lambda n: np.column_stack([np.ones(n), np.full(n, "a")]),
    ],
    ids=["str", "object", "series", "2-d"],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_string_target(make_y, method):
    # It used to be a NumPy dtype error ("not compatible with add.reduce").
    X, _ = _data()
    y = make_y(len(X))
    expected = r"y must be numeric \(a regression target\); got strings such as 'a'"
    with pytest.raises(ValueError, match=expected):
        getattr(LossMatchingDistiller(n_synthetic=5), method)(X, y)


def test_numbers_stored_as_text_target():
    X, y = _data()
    with pytest.raises(ValueError, match=r"strings such as '.*'; convert it with y.astype"):
        LossMatchingDistiller(n_synthetic=5).fit(X, y.astype(str))


def test_numeric_object_target_is_still_accepted():
    X, y = _data()
    distiller = LossMatchingDistiller(n_synthetic=5, random_state=0)
    reference = LossMatchingDistiller(n_synthetic=5, random_state=0).fit(X, y)
    distiller.fit(X, y.astype(object))
    np.testing.assert_array_equal(distiller.y_synthetic_, reference.y_synthetic_)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_huge_weights_are_blamed_on_sample_weight(method):
    # Finite X, y and weights whose weighted moments overflow: it used to say "X or y".
    X, y = _data()
    w = np.full(len(X), 1e307)
    with pytest.raises(ValueError, match=r"^sample_weight has values so large \(up to 1e\+307\)"):
        getattr(LossMatchingDistiller(n_synthetic=5), method)(X, y, sample_weight=w)


@pytest.mark.parametrize("sparse_X", [False, True])
def test_overflowing_squares_name_the_input_and_column(sparse_X):
    X, y = _data()
    huge = X.copy()
    huge[4, 2] = 1e200
    data = sparse.csr_matrix(huge) if sparse_X else huge
    with pytest.raises(ValueError, match=r"^Input X \(column 2\) has values so large"):
        LossMatchingDistiller(n_synthetic=5).fit(data, y, sample_weight=np.ones(len(y)))
    Y = np.column_stack([y, y])
    Y[7, 1] = -1e200
    with pytest.raises(ValueError, match=r"^Input y \(column 1\) has values so large"):
        LossMatchingDistiller(n_synthetic=5).fit(X, Y)
    with pytest.raises(ValueError, match=r"^Input y has values so large"):
        LossMatchingDistiller(n_synthetic=5).partial_fit(X, Y[:, 1])


def test_huge_weights_in_dask_input_are_blamed_on_sample_weight():
    da = pytest.importorskip("dask.array")
    X, y = _data()
    w = np.full(len(X), 1e307)
    chunks = [da.from_array(a, chunks=30) for a in (X, y, w)]
    with pytest.raises(ValueError, match=r"^sample_weight has values so large .* Dask block"):
        LossMatchingDistiller(n_synthetic=5).fit(*chunks[:2], sample_weight=chunks[2])


def test_integer_class_labels_get_a_warning():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    with pytest.warns(UserWarning, match="look like class labels.*regression distiller"):
        LossMatchingDistiller(20, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LossMatchingDistiller(20, random_state=0).fit(X, y.astype(float))
