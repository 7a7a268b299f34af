"""What a distiller keeps between chunks: merged moments and a reservoir of rows.

Fitting needs two things from the training rows: their weighted moments and a
random start subset of ``m`` rows. Both can be maintained over a stream of chunks
in memory that does not grow with the number of rows: the moments are merged
chunk by chunk with Chan et al.'s pairwise update (:func:`merge_moments`), and the
subset is a reservoir sample. ``LossMatchingDistiller.fit`` runs the same code on
the whole data as one stream, so ``fit`` and ``partial_fit`` over any split of the
same rows give the same reservoir and, to rounding, the same moments.
"""

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn.utils.validation import _assert_all_finite

from ._moments import Moments, compute_moments, head_shift, merge_moments
from ._sampling import seed_sequence

# Rows whose keys are drawn at once (8 MiB of uniforms).
_KEY_ROWS = 2**20


def dense_rows(X, Y, index):
    """Dense float64 rows ``[X, Y][index]``."""
    X_rows = X[index]
    if sparse.issparse(X_rows):
        X_rows = X_rows.toarray()
    return np.hstack(
        [np.asarray(X_rows, dtype=np.float64), np.asarray(Y[index], dtype=np.float64)]
    )


class WeightedReservoir:
    """``m`` rows drawn without replacement, with probability proportional to weight.

    Algorithm A-Res of Efraimidis and Spirakis (2006): row ``i`` gets the key
    ``u_i ** (1 / w_i)``, ``u_i ~ U(0, 1)``, and the reservoir holds the ``m`` rows
    with the largest keys (kept here as ``log(u_i) / w_i``, which orders the same
    and does not underflow). The sample has the distribution of successive
    sampling -- draw a row with probability proportional to its weight, remove it,
    repeat -- and with equal weights it is a uniform ``m``-subset. Rows of weight 0
    are never drawn.

    The uniforms come from one generator, one per row in row order, so the sample
    depends only on the seed and on the sequence of rows, not on how the rows are
    split into chunks. Memory is ``O(m q)``; a chunk of ``n`` rows costs ``n``
    uniforms and a selection among the rows that beat the current threshold.

    Parameters
    ----------
    capacity : int
        Number of rows ``m`` to keep.
    n_columns : int
        Width ``q`` of a row.
    seed : numpy.random.SeedSequence, int or None
        Seed of the generator of the keys; ``None`` for a reservoir that only
        merges candidates with known keys (:meth:`offer`).
    """

    def __init__(self, capacity, n_columns, seed):
        self.capacity = capacity
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.keys = np.empty(0)
        self.index = np.empty(0, dtype=np.int64)
        self.rows = np.empty((0, n_columns))
        self.n_offered = 0

    @property
    def threshold(self):
        """Key a new row must beat to enter: the smallest kept key once full."""
        return self.keys.min() if self.keys.size == self.capacity else -np.inf

    def update(self, X, Y, sample_weight=None):
        """Offer the rows of ``[X, Y]`` (one chunk) to the reservoir.

        The keys are drawn for at most ``2**20`` rows at a time, so the memory
        used does not grow with the chunk.
        """
        n = X.shape[0]
        for start in range(0, n, _KEY_ROWS):
            stop = min(start + _KEY_ROWS, n)
            w = None if sample_weight is None else sample_weight[start:stop]
            self._update_block(X, Y, w, start, stop)
        self.n_offered += n

    def _update_block(self, X, Y, sample_weight, start, stop):
        u = self.rng.random(stop - start)
        t = self.threshold
        with np.errstate(divide="ignore", invalid="ignore"):
            if sample_weight is None:
                # Only rows with log(u) > t can enter: take logs of those alone
                # (with a little slack, then the exact test on the keys).
                candidates = np.flatnonzero(u > np.exp(t) * (1 - 1e-12))
                keys = np.log(u[candidates])
            else:
                keys = np.log(u) / np.asarray(sample_weight, dtype=np.float64)
                candidates = np.arange(stop - start)
        keep = keys > t
        candidates, keys = candidates[keep] + start, keys[keep]
        self.offer(
            keys, candidates + self.n_offered, lambda pos: dense_rows(X, Y, candidates[pos])
        )

    def offer(self, keys, index, fetch):
        """Merge candidate rows with known keys into the reservoir.

        Parameters
        ----------
        keys : ndarray of shape (k,)
            Keys of the candidates; ``-inf`` (weight 0) never enters.
        index : ndarray of shape (k,)
            Their positions in the stream, unique; the kept rows are in this order.
        fetch : callable
            ``fetch(positions)`` returns the rows of the candidates at
            ``positions`` (into ``keys``), as a float array of shape
            ``(len(positions), q)``; it is called once, for the rows that enter.
        """
        m = self.capacity
        pos = np.flatnonzero(keys > self.threshold)
        if pos.size > m:
            pos = pos[np.argpartition(keys[pos], pos.size - m)[pos.size - m :]]
        n_old = self.keys.size
        all_keys = np.concatenate([self.keys, keys[pos]])
        all_index = np.concatenate([self.index, np.asarray(index, dtype=np.int64)[pos]])
        if all_keys.size > m:
            kept = np.argpartition(all_keys, all_keys.size - m)[all_keys.size - m :]
        else:
            kept = np.arange(all_keys.size)
        kept = kept[np.argsort(all_index[kept])]
        is_old = kept < n_old
        rows = np.empty((kept.size, self.rows.shape[1]))
        rows[is_old] = self.rows[kept[is_old]]
        if not is_old.all():
            rows[~is_old] = fetch(pos[kept[~is_old] - n_old])
        self.keys = all_keys[kept]
        self.index = all_index[kept]
        self.rows = rows


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


class StreamState:
    """Everything a distiller keeps between chunks: ``O(q^2 + m q)`` numbers.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Fixes, once, the seeds of the reservoir and of the solver.
    n_synthetic : int
        Size ``m`` of the reservoir.
    n_features, n_targets : int
        Widths of ``X`` and ``Y``.

    Attributes
    ----------
    shift : ndarray of shape (q,) or None
        A point near the data, fixed at the first chunk (the mean of its first
        rows); every chunk's moments are merged relative to it, which keeps the
        merges exact to rounding when the means are large (see ``_moments``).
    relative_moments : Moments or None
        Weighted moments of ``[X, Y] - shift`` over every row seen.
    reservoir : WeightedReservoir
        The start subset: ``m`` rows drawn with probability proportional to weight.
    n_samples : int
        Rows seen (weight 0 included).
    output : tuple or None
        ``(x_dtype, y_dtype, y_ndim)`` of the synthetic sets, set by the distiller.
    """

    def __init__(self, random_state, n_synthetic, n_features, n_targets):
        subset_seed, solver_seed = seed_sequence(random_state).spawn(2)
        self.n_features = n_features
        self.n_targets = n_targets
        self.reservoir = WeightedReservoir(n_synthetic, n_features + n_targets, subset_seed)
        self._solver_seed = (solver_seed.entropy, solver_seed.spawn_key)
        self.shift = None
        self.relative_moments = None
        self.n_samples = 0
        self.output = None

    @property
    def moments(self):
        """Weighted moments of ``[X, Y]`` over every row seen."""
        rel = self.relative_moments
        if rel is None or rel.weight_sum == 0:
            return rel
        return Moments(rel.weight_sum, self.shift + rel.mean, rel.comoment)

    def solver_seed(self):
        """The solver's ``SeedSequence``, new each call, so every refresh draws alike."""
        entropy, spawn_key = self._solver_seed
        return np.random.SeedSequence(entropy, spawn_key=spawn_key)

    def check_compatible(self, n_synthetic, n_targets):
        """Raise if a later chunk or a changed parameter does not fit this stream."""
        if n_synthetic != self.reservoir.capacity:
            raise ValueError(
                f"n_synthetic was {self.reservoir.capacity} when partial_fit started and "
                f"is now {n_synthetic}; the reservoir of start rows cannot change size. "
                "Call fit, or clone the estimator, to start over."
            )
        if n_targets != self.n_targets:
            raise ValueError(
                f"y has {n_targets} target(s), but earlier calls to partial_fit had "
                f"{self.n_targets}."
            )

    def update(self, X, Y, sample_weight=None, *, chunk_size=None):
        """Add one in-memory chunk: merge its moments, offer its rows to the reservoir.

        NaN or infinity anywhere in the chunk makes its moments non-finite; that is
        checked here, before the state changes, and saves the caller a pass over
        the chunk (``partial_fit`` validates with ``assume_finite=True``).
        """
        shift = head_shift(X, Y) if self.shift is None else self.shift
        with np.errstate(invalid="ignore", over="ignore"):
            chunk = compute_moments(X, Y, sample_weight, chunk_size=chunk_size, shift=shift)
        if not (np.isfinite(chunk.mean).all() and np.isfinite(chunk.comoment).all()):
            raise_non_finite(X, Y, sample_weight)
        self.shift = shift
        self.relative_moments = merge_moments(self.relative_moments, chunk)
        self.reservoir.update(X, Y, sample_weight)
        self.n_samples += X.shape[0]

    def update_dask(self, X, Y, sample_weight=None):
        """Add a Dask chunk: moments and candidate rows are computed by Dask.

        The input checks run inside the Dask computation; if they fail, the
        state is left as it was.
        """
        from ._dask import dask_summary

        rng_state = self.reservoir.rng.bit_generator.state
        block_seed = np.random.SeedSequence(int(self.reservoir.rng.integers(2**63)))
        try:
            summary, shift = dask_summary(
                X,
                Y,
                sample_weight,
                self.reservoir.capacity,
                block_seed,
                self.shift,
                self.reservoir.n_offered,
            )
        except BaseException:
            self.reservoir.rng.bit_generator.state = rng_state
            raise
        self.shift = shift
        self.relative_moments = merge_moments(self.relative_moments, summary.moments)
        rows = summary.reservoir.rows
        self.reservoir.offer(
            summary.reservoir.keys, summary.reservoir.index, lambda pos: rows[pos]
        )
        self.reservoir.n_offered += X.shape[0]
        self.n_samples += X.shape[0]

    @property
    def ready(self):
        """Whether the reservoir holds ``n_synthetic`` rows (of positive weight)."""
        return self.reservoir.keys.size == self.reservoir.capacity

    def start_rows(self):
        """The reservoir's rows, in stream order: the start set of the solver."""
        return self.reservoir.rows.copy()
