"""The weighted reservoir: a random start subset kept in memory that does not grow."""

import numpy as np

from .rows import dense_rows

# Rows whose keys are drawn at once (8 MiB of uniforms).
_KEY_ROWS = 2**20


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
