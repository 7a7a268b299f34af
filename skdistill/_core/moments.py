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

import threading
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils import gen_batches

from .threads import thread_map

# Rows per chunk of the data pass: about 4 MiB of float64 per chunk (several per thread).
_CHUNK_BYTES = 2**22
# Rows per block of the shifted copy inside a chunk: about 1 MiB, to stay in cache.
_BLOCK_BYTES = 2**20
# Rows whose shift is subtracted in one vector operation (so blocks are multiples of it).
_TILE_ROWS = 16

_workspace = threading.local()


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
    """A point near the data: the mean of the first rows."""
    if X.shape[0] == 0:
        return np.zeros(X.shape[1] + Y.shape[1])
    head = slice(0, min(X.shape[0], 1024))
    X_head = X[head].toarray() if sparse.issparse(X) else X[head]
    return np.concatenate([np.mean(X_head, axis=0), np.mean(Y[head], axis=0)])


def shifted_moments(X, Y, sample_weight, shift):
    """Moments of the rows ``[X, Y] - shift`` of one chunk.

    Their mean is the chunk mean minus ``shift``, computed without forming the
    chunk mean itself, so merging such moments keeps every digit of the spread
    however large the means (``shift + mean`` is rounded once, at the end). Dense
    chunks are shifted while being copied next to a column of ones, so that a
    single symmetric product gives the weight sum, the sums and the co-moments:
    the shifted-data algorithm, accurate whenever the shift is within a few
    standard deviations of the mean. Sparse chunks are densified a block of rows
    at a time and go the same way: subtracting ``n * outer(mean, mean)`` from the
    sparse Gram matrix would cancel catastrophically when a column's mean is large
    compared with its spread.
    """
    n, d = X.shape
    q = d + Y.shape[1]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    weight_sum = float(n) if w is None else float(w.sum())
    if n == 0 or weight_sum == 0:
        return Moments(0.0, np.zeros(q), np.zeros((q, q)))
    shift = np.asarray(shift, dtype=np.float64)
    if sparse.issparse(X):
        gram = _sparse_shifted_gram(X, Y, w, shift)
    else:
        gram = _shifted_gram(X, Y, w, shift)
    offset = gram[:q, q] / gram[q, q]
    comoment = gram[:q, :q] - gram[q, q] * np.outer(offset, offset)
    return Moments(weight_sum, offset, comoment)


def _block_buffers(rows, *widths):
    """C-contiguous ``(rows, width)`` buffers, kept per thread between calls.

    A fresh megabyte-sized array is a fresh mapping whose first touch costs
    hundreds of page faults, a noticeable part of a 4 MiB chunk's pass
    (``docs/benchmarks.rst``). Each thread keeps one buffer per width, about 1 MiB
    in all.
    """
    cache = _workspace.__dict__
    buffers = []
    for i, width in enumerate(widths):
        flat = cache.get(i)
        if flat is None or flat.size < rows * width:
            flat = cache[i] = np.empty(rows * width)
        buffers.append(flat[: rows * width].reshape(rows, width))
    return buffers


def _shifted_gram(X, Y, w, shift):
    """Gram matrix of the dense rows ``[X - shift_X, Y - shift_Y, 1]`` (times ``sqrt(w)``).

    The shifted copy is made block by block into cache-sized buffers, so the
    copy costs little next to the symmetric product and no ``n x q`` array is
    allocated; the blocks' products are summed, which is accurate because the
    shifted rows are of the order of the spread. The ``X`` part of a block is
    copied into a buffer of its own, contiguous like ``X``, so that the copy runs
    as one long vector operation (a shift tiled over several rows) rather than a
    short loop per row; the ``Y`` columns and the column of ones share a second
    buffer and enter through two thin products.
    """
    n, d = X.shape
    t = Y.shape[1]
    rows = min(n, max(_TILE_ROWS, _BLOCK_BYTES // (8 * (d + t + 1))))
    rows -= rows % _TILE_ROWS if rows > _TILE_ROWS else 0
    BX, BE = _block_buffers(rows, d, t + 1)
    BE[:, t] = 1.0
    shift_x, shift_y = shift[:d], shift[d:]
    tiled = np.tile(shift_x, _TILE_ROWS)
    gxx = np.zeros((d, d))
    gxe = np.zeros((d, t + 1))
    gee = np.zeros((t + 1, t + 1))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        bx, be = BX[: stop - start], BE[: stop - start]
        X_block = X[start:stop]
        tiles = (stop - start) // _TILE_ROWS * _TILE_ROWS if X_block.flags.c_contiguous else 0
        if tiles:
            np.subtract(
                X_block[:tiles].reshape(-1, _TILE_ROWS * d),
                tiled,
                out=bx[:tiles].reshape(-1, _TILE_ROWS * d),
            )
        np.subtract(X_block[tiles:], shift_x, out=bx[tiles:])
        np.subtract(Y[start:stop], shift_y, out=be[:, :t])
        if w is not None:
            be[:, t] = 1.0
            root = np.sqrt(w[start:stop])[:, None]
            bx *= root
            be *= root
        gxx += bx.T @ bx
        gxe += bx.T @ be
        gee += be.T @ be
    return np.block([[gxx, gxe], [gxe.T, gee]])


def _sparse_shifted_gram(X, Y, w, shift):
    """:func:`_shifted_gram` of a sparse ``X``, densified about 4 MiB of rows at a time."""
    X = sparse.csr_matrix(X)
    rows = default_chunk_size(X.shape[1] + Y.shape[1])
    gram = 0.0
    for sl in gen_batches(X.shape[0], rows):
        block = np.asarray(X[sl].toarray(), dtype=np.float64)
        gram = gram + _shifted_gram(block, Y[sl], None if w is None else w[sl], shift)
    return gram


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


def default_chunk_size(n_columns):
    """Rows per chunk so that one float64 chunk is about 4 MiB."""
    return max(256, _CHUNK_BYTES // (8 * max(1, n_columns)))


def compute_moments(X, Y, sample_weight=None, *, chunk_size=None, n_threads=None, shift=None):
    """Weighted moments of ``z = [X, Y]`` in one chunked pass.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,), default=None
    chunk_size : int, default=None
        Rows per chunk; ``None`` picks about 4 MiB per chunk.
    n_threads : int, default=None
        Threads over chunks (numpy and BLAS release the GIL), each with a
        single-threaded BLAS. ``None`` uses the threads a BLAS product would
        (:func:`~skdistill._core.threads.blas_threads`): the pass stands in for one
        product ``Z.T @ Z`` and is limited the same way, with ``threadpoolctl``
        or ``OPENBLAS_NUM_THREADS``. The chunks are fixed by ``chunk_size`` and
        merged in order, so the result does not depend on ``n_threads``.
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
    slices = list(gen_batches(n, chunk_size))

    relative = shift is not None
    if not relative:
        shift = head_shift(X, Y)

    def one(sl):
        w = None if sample_weight is None else sample_weight[sl]
        return shifted_moments(X[sl], Y[sl], w, shift)

    # Threads with one BLAS thread each: they also parallelise the shifted
    # copies, which threaded BLAS alone leaves serial, and a product this thin
    # gains little from BLAS threads (docs/benchmarks.rst).
    total = merge_chunks(thread_map(one, slices, n_threads), q)
    if relative or total.weight_sum == 0:
        return total
    return Moments(total.weight_sum, shift + total.mean, total.comoment)


def merge_chunks(parts, width):
    """Merge the moments of consecutive chunks in order; zero weight if there are none."""
    total = None
    for part in parts:
        total = merge_moments(total, part)
    if total is None:
        total = Moments(0.0, np.zeros(width), np.zeros((width, width)))
    return total


def sub_moments(moments, start):
    """Moments of the trailing coordinates ``start:`` (e.g. the ``(x, y)`` block)."""
    return Moments(
        moments.weight_sum, moments.mean[start:], moments.comoment[start:, start:]
    )


def moments_of_rows(Z, sample_weight=None):
    """Moments of a small dense row set ``Z`` (for instance a synthetic set)."""
    Z = np.asarray(Z, dtype=np.float64)
    return chunk_moments(Z, np.empty((Z.shape[0], 0)), sample_weight)
