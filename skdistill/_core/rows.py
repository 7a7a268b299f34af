"""Rows of the training arrays, gathered dense, in order or at random."""

import numpy as np
from scipy import sparse

from .validation import check_n_synthetic


def dense_rows(X, Y, index):
    """Dense float64 rows ``[X, Y][index]``."""
    X_rows = X[index]
    if sparse.issparse(X_rows):
        X_rows = X_rows.toarray()
    return np.hstack(
        [np.asarray(X_rows, dtype=np.float64), np.asarray(Y[index], dtype=np.float64)]
    )


def draw_rows(X, Y, sample_weight, n_rows, rng):
    """Random rows of ``[X, Y]`` without replacement, with probability ∝ sample_weight."""
    n = X.shape[0]
    p = None
    if sample_weight is not None:
        check_n_synthetic(n_rows, np.count_nonzero(sample_weight), weighted=True)
        p = sample_weight / sample_weight.sum()
    idx = np.sort(rng.choice(n, size=n_rows, replace=False, p=p))
    return dense_rows(X, Y, idx)
