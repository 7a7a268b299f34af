"""Closed-form moment matching: the nearest point set with given moments.

For a start set ``Z0`` (m x q) and a target mean ``mu`` and covariance ``C``, the
set ``Z = mu + sqrt(m) W R`` with ``R^T R = C`` and ``W`` (m x q) having orthonormal
columns orthogonal to the ones vector has exactly mean ``mu`` and covariance
``C``. Among all such sets the closest to ``Z0`` takes for ``W`` the orthogonal
Procrustes (polar) factor of ``centred(Z0) R^T``. Without an intercept the same
holds for the uncentred second moment and no orthogonality to the ones vector.

Any factor ``R`` gives the same set: another is ``Q R`` with ``Q`` orthogonal, and
the polar factor of ``B Q^T`` is that of ``B`` times ``Q^T``, so ``W R`` does not
change. The Cholesky factor is the cheapest by far (``docs/benchmarks.rst``), which
matters when the set is rebuilt after every chunk of a stream.
"""

import numpy as np
from scipy import linalg

from .standardise import RESOLUTION, column_scale, numerical_range


def psd_sqrt(C):
    """Symmetric square root of a positive semi-definite matrix, on its numerical range.

    Eigenvalues that are rounding (:func:`numerical_range`) count as 0, so a
    singular ``C`` gets a singular root rather than one of ``sqrt(eps)`` size.
    """
    eigval, eigvec = linalg.eigh((C + C.T) / 2)
    eigval = np.where(numerical_range(eigval), eigval, 0.0)
    return (eigvec * np.sqrt(eigval)) @ eigvec.T


def psd_factor(C):
    """A square matrix ``R`` with ``R^T R = C``, for ``C`` positive semi-definite.

    The upper Cholesky factor when ``C`` is numerically positive definite, else the
    symmetric square root (:func:`psd_sqrt`), which also handles singular ``C``.
    """
    try:
        R = linalg.cholesky(C, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return psd_sqrt(C)
    # A numerically singular C can pass Cholesky with a pivot of rounding size, whose
    # root would put sqrt(eps) of spread where C has none: check the small pivots.
    tiny = RESOLUTION * np.diag(C).max(initial=0.0)
    if np.min(np.diag(R), initial=np.inf) ** 2 <= tiny and not numerical_range(
        linalg.eigvalsh(C)
    ).all():
        return psd_sqrt(C)
    return R


def _polar_factor(B, exclude, rng):
    """Polar factor ``U V^T`` of B (m x q), completed where B is rank deficient.

    Left singular directions with (numerically) zero singular values are replaced
    by random orthonormal directions orthogonal to the kept ones and to the
    columns of ``exclude`` (the ones vector, when centring).
    """
    m, q = B.shape
    U, s, Vt = linalg.svd(B, full_matrices=False, check_finite=False)
    tol = max(m, q) * np.finfo(np.float64).eps * (s[0] if s.size and s[0] > 0 else 1.0)
    rank = int(np.sum(s > tol))
    if rank < q:
        keep = np.hstack([exclude, U[:, :rank]])
        G = rng.standard_normal((m, q - rank))
        for _ in range(2):  # project twice: one Gram-Schmidt pass is not enough in floats
            G -= keep @ (keep.T @ G)
        Q, _ = linalg.qr(G, mode="economic")
        U = np.hstack([U[:, :rank], Q])
    return U @ Vt


def min_rows_exact(n_dims, fit_intercept):
    """Fewest synthetic rows that can match the moments of q-dimensional rows exactly."""
    return n_dims + 1 if fit_intercept else n_dims


def match_moments_exact(Z0, mean, covariance, *, fit_intercept=True, random_state=None):
    """Nearest row set to ``Z0`` with exactly the given mean and covariance.

    Parameters
    ----------
    Z0 : ndarray of shape (m, q)
        Start set (e.g. a random subset of the training rows).
    mean : ndarray of shape (q,)
        Target mean.
    covariance : ndarray of shape (q, q)
        Target covariance (biased, i.e. divided by the weight sum).
    fit_intercept : bool, default=True
        If False, only the uncentred second moment ``covariance + mean mean^T``
        has to match (what homogeneous linear models see), which ``m = q`` rows
        can do; with more rows the mean and covariance are matched, which
        implies it.
    random_state : numpy.random.Generator, int or None
        Used only to complete rank-deficient start sets.

    Returns
    -------
    Z : ndarray of shape (m, q)
        ``Z.mean(0) == mean`` and ``cov(Z, bias=True) == covariance`` to rounding
        (without intercept and with ``m == q`` rows, only
        ``Z.T @ Z / m == covariance + outer(mean, mean)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill._core.exact import match_moments_exact
    >>> rng = np.random.default_rng(0)
    >>> data = rng.normal(size=(1000, 3))
    >>> Z = match_moments_exact(data[:10], data.mean(0), np.cov(data.T, bias=True))
    >>> bool(np.allclose(np.cov(Z.T, bias=True), np.cov(data.T, bias=True)))
    True
    """
    rng = np.random.default_rng(random_state)
    Z0 = np.asarray(Z0, dtype=np.float64)
    m, q = Z0.shape
    if m < min_rows_exact(q, fit_intercept):
        raise ValueError(
            f"An exact match of {q}-dimensional moments needs at least "
            f"{min_rows_exact(q, fit_intercept)} rows, got {m}."
        )
    # With a row to spare, homogeneous models are matched through the mean and the
    # covariance too: that implies the uncentred second moment, whose float64 sum
    # covariance + mean mean^T would lose the spread of columns with large means.
    centre = fit_intercept or m > q
    if centre:
        target = covariance
        A = Z0 - Z0.mean(axis=0)
        exclude = np.full((m, 1), 1.0 / np.sqrt(m))
    else:
        target = covariance + np.outer(mean, mean)
        A = Z0
        exclude = np.empty((m, 0))
    # Work in standardised units so that "nearest" weighs every column alike.
    scale = column_scale(np.diag(target))
    R = psd_factor(target / np.outer(scale, scale))
    W = _polar_factor((A / scale) @ R.T, exclude, rng)
    Z = np.sqrt(m) * (W @ R) * scale
    if centre:
        Z += mean
    return Z
