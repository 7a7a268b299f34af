"""The one pass over the training data: weighted first and second moments.

Every linear loss is a function of the mean and the covariance of the homogenised
rows ``z = (x, y)``, so this module is the whole training side of the linear
distillers. Moments are kept as ``(weight_sum, mean, comoment)`` with
``comoment = sum_i w_i (z_i - mean)(z_i - mean)^T`` and merged with the pairwise
update of Chan, Golub and LeVeque, which stays accurate when the means are large
compared with the spread (raw sums of squares do not).

The pairwise update has one weak point when ``|mean|`` is much larger than the
spread: the difference of two chunk means, each rounded to ``eps * |mean|``. So
chunks are merged in coordinates relative to a common *shift* near the data
(:func:`shifted_moments`), where the means are of the order of the spread; a
stream of chunks keeps one shift for all of them.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse

from ._blas import single_threaded_blas

# Rows per chunk of the data pass: about 4 MiB of float64 per chunk (several per thread when n_jobs > 1).
_CHUNK_BYTES = 2**22
# Rows per block of the shifted copy inside a chunk: about 1 MiB, to stay in cache.
_BLOCK_BYTES = 2**20


@dataclass(frozen=True)
class Moments:
    """Weighted moments of a set of rows.

    Attributes
    ----------
    weight_sum : float
        Sum of the sample weights.
    mean : ndarray of shape (q,)
        Weighted mean.
    comoment : ndarray of shape (q, q)
        ``sum_i w_i (z_i - mean)(z_i - mean)^T``.
    """

    weight_sum: float
    mean: np.ndarray
    comoment: np.ndarray

    @property
    def covariance(self):
        """Weighted (biased) covariance ``comoment / weight_sum``."""
        return self.comoment / self.weight_sum

    def second_moment(self, fit_intercept=True):
        """Second-moment matrix of ``(z, 1)`` (or of ``z`` when not fit_intercept)."""
        return second_moment_matrix(self.mean, self.covariance, fit_intercept)


def second_moment_matrix(mean, covariance, fit_intercept=True):
    """``E[zz^T]`` of the homogenised rows, with a trailing 1 when fit_intercept."""
    raw = covariance + np.outer(mean, mean)
    if not fit_intercept:
        return raw
    q = mean.shape[0]
    M = np.empty((q + 1, q + 1))
    M[:q, :q] = raw
    M[:q, q] = M[q, :q] = mean
    M[q, q] = 1.0
    return M


def merge_moments(a, b):
    """Moments of the union of two row sets (Chan et al.'s pairwise update)."""
    if a is None or a.weight_sum == 0:
        return b
    if b is None or b.weight_sum == 0:
        return a
    n = a.weight_sum + b.weight_sum
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.weight_sum / n)
    comoment = (
        a.comoment
        + b.comoment
        + np.outer(delta, delta) * (a.weight_sum * b.weight_sum / n)
    )
    return Moments(n, mean, comoment)


def head_shift(X, Y):
    """A point near the data: the mean of the first rows (zero for sparse ``X``)."""
    if sparse.issparse(X) or X.shape[0] == 0:
        return np.zeros(X.shape[1] + Y.shape[1])
    head = slice(0, min(X.shape[0], 1024))
    return np.concatenate([np.mean(X[head], axis=0), np.mean(Y[head], axis=0)])


def shifted_moments(X, Y, sample_weight, shift):
    """Moments of the rows ``[X, Y] - shift`` of one chunk.

    Their mean is the chunk mean minus ``shift``, computed without forming the
    chunk mean itself, so merging such moments keeps every digit of the spread
    however large the means (``shift + mean`` is rounded once, at the end). Dense
    chunks are shifted while being copied next to a column of ones, so that a
    single symmetric product gives the weight sum, the sums and the co-moments:
    the shifted-data algorithm, accurate whenever the shift is within a few
    standard deviations of the mean. Sparse chunks use the sparse Gram matrix and
    subtract the mean outer product, so that nothing n x q is ever densified.
    """
    n, d = X.shape
    q = d + Y.shape[1]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    weight_sum = float(n) if w is None else float(w.sum())
    if n == 0 or weight_sum == 0:
        return Moments(0.0, np.zeros(q), np.zeros((q, q)))
    shift = np.asarray(shift, dtype=np.float64)
    if sparse.issparse(X):
        Z = sparse.hstack([sparse.csr_matrix(X), sparse.csr_matrix(Y)], format="csr")
        Z = Z.astype(np.float64)
        Zw = Z if w is None else sparse.diags(w) @ Z
        mean = np.asarray(Zw.sum(axis=0)).ravel() / weight_sum
        gram = np.asarray((Z.T @ Zw).todense())
        comoment = gram - weight_sum * np.outer(mean, mean)
        return Moments(weight_sum, mean - shift, (comoment + comoment.T) / 2)
    # The shifted copy is made block by block into one cache-sized buffer, so the
    # copy costs about nothing next to the symmetric product (and no n x q array
    # is allocated); the blocks' products are summed, which is accurate because
    # the shifted rows are of the order of the spread.
    rows = min(n, max(64, _BLOCK_BYTES // (8 * (q + 1))))
    Z = np.empty((rows, q + 1))
    Z[:, q] = 1.0
    gram = np.zeros((q + 1, q + 1))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        B = Z[: stop - start]
        np.subtract(X[start:stop], shift[:d], out=B[:, :d])
        np.subtract(Y[start:stop], shift[d:], out=B[:, d:q])
        if w is not None:
            B[:, q] = 1.0
            B *= np.sqrt(w[start:stop])[:, None]
        gram += B.T @ B
    offset = gram[:q, q] / gram[q, q]
    comoment = gram[:q, :q] - gram[q, q] * np.outer(offset, offset)
    return Moments(weight_sum, offset, comoment)


def chunk_moments(X, Y, sample_weight=None, shift=None):
    """Moments of one chunk of rows ``z = [X, Y]``.

    ``X`` is dense or scipy sparse, ``Y`` dense 2-D; both are read once. The
    rows are shifted by ``shift`` (a rough mean; default :func:`head_shift`)
    before the products, see :func:`shifted_moments`.
    """
    if shift is None:
        shift = head_shift(X, Y)
    moments = shifted_moments(X, Y, sample_weight, shift)
    if moments.weight_sum == 0:
        return moments
    return Moments(moments.weight_sum, shift + moments.mean, moments.comoment)


def _even_slices(n_samples, chunk_size):
    return [slice(i, min(i + chunk_size, n_samples)) for i in range(0, n_samples, chunk_size)]


def default_chunk_size(n_columns):
    """Rows per chunk so that one float64 chunk is about 4 MiB."""
    return max(256, _CHUNK_BYTES // (8 * max(1, n_columns)))


def compute_moments(X, Y, sample_weight=None, *, chunk_size=None, n_jobs=None, shift=None):
    """Weighted moments of ``z = [X, Y]`` in one chunked pass.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,), default=None
    chunk_size : int, default=None
        Rows per chunk; ``None`` picks about 4 MiB per chunk.
    n_jobs : int, default=None
        Threads over chunks (numpy and BLAS release the GIL), each with a
        single-threaded BLAS. The chunks are fixed by
        ``chunk_size`` and merged in order, so the result does not depend on
        ``n_jobs``.
    shift : ndarray of shape (q,), default=None
        If given, return the moments of ``[X, Y] - shift`` (as
        :func:`shifted_moments`), for a stream that merges all its chunks relative
        to one shift. ``None`` merges relative to :func:`head_shift` and returns
        the moments of ``[X, Y]``.

    Returns
    -------
    Moments
    """
    n = X.shape[0]
    q = X.shape[1] + Y.shape[1]
    if chunk_size is None:
        chunk_size = default_chunk_size(q)
    slices = _even_slices(n, chunk_size)

    relative = shift is not None
    if not relative:
        shift = head_shift(X, Y)

    def one(sl):
        w = None if sample_weight is None else sample_weight[sl]
        return shifted_moments(X[sl], Y[sl], w, shift)

    if n_jobs in (None, 1) or len(slices) == 1:
        parts = map(one, slices)
    else:
        # One BLAS thread per worker: the workers also parallelise the shifted
        # copies, which threaded BLAS alone leaves serial. A plain thread pool:
        # joblib's costs about 10 ms to start, as much as a 40 MiB chunk's pass.
        with single_threaded_blas(), ThreadPoolExecutor(effective_n_jobs(n_jobs)) as pool:
            parts = list(pool.map(one, slices))
    total = None
    for part in parts:
        total = merge_moments(total, part)
    if total is None:
        total = Moments(0.0, np.zeros(q), np.zeros((q, q)))
    if relative or total.weight_sum == 0:
        return total
    return Moments(total.weight_sum, shift + total.mean, total.comoment)


def moments_of_rows(Z, sample_weight=None):
    """Moments of a small dense row set ``Z`` (for instance a synthetic set)."""
    Z = np.asarray(Z, dtype=np.float64)
    return chunk_moments(Z, np.empty((Z.shape[0], 0)), sample_weight)
