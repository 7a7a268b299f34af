"""The summary of the training rows: merged moments and a reservoir of start rows.

Fitting needs two things from the training rows: their weighted moments and a
random start subset of ``m`` rows. Both can be maintained over a stream of chunks
in memory that does not grow with the number of rows: the moments are merged
chunk by chunk with Chan et al.'s pairwise update (:func:`merge_moments`), and the
subset is a reservoir sample. ``LossMatchingDistiller.fit`` runs the same code on
the whole data as one stream, so ``fit`` and ``partial_fit`` over any split of the
same rows give the same reservoir and, to rounding, the same moments. Dask input
is reduced by :mod:`skdistill._sources.dask` and merged in with :meth:`Summary.merge`.
"""

import numpy as np

from .._core.moments import Moments, compute_moments, head_shift, merge_moments
from .._core.random_models import seed_sequence
from .._core.reservoir import WeightedReservoir
from .._core.validation import raise_non_finite


class Summary:
    """What a distiller keeps of its training rows: ``O(q^2 + m q)`` numbers.

    Merged moments and a reservoir of start rows, updated chunk by chunk; ``fit``
    is one update with all the rows, so ``fit`` and ``partial_fit`` agree.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Fixes, once, the seeds of the reservoir and of the solver.
    n_synthetic : int
        Number ``m`` of start rows.
    n_features, n_targets : int
        Widths of ``X`` and ``Y``.
    pool : int or None, default=None
        Size of the reservoir, at least ``m``: a solver that chooses its rows
        (``solver="reweight"``) chooses among ``pool``. The start rows are the
        ``m`` of largest key, which are the reservoir of size ``m`` itself.

    Attributes
    ----------
    shift : ndarray of shape (q,) or None
        A point near the data, fixed at the first chunk (the mean of its first
        rows); every chunk's moments are merged relative to it, which keeps the
        merges exact to rounding when the means are large (see ``_moments``).
    relative_moments : Moments or None
        Weighted moments of ``[X, Y] - shift`` over every row seen.
    reservoir : WeightedReservoir
        ``pool`` (or ``m``) rows drawn with probability proportional to weight.
    n_samples : int
        Rows seen (weight 0 included).
    output : tuple or None
        ``(x_dtype, y_dtype, y_ndim)`` of the synthetic sets, set by the distiller.
    """

    def __init__(self, random_state, n_synthetic, n_features, n_targets, pool=None):
        subset_seed, solver_seed = seed_sequence(random_state).spawn(2)
        self.n_features = n_features
        self.n_targets = n_targets
        self.n_synthetic = n_synthetic
        capacity = max(n_synthetic, pool or 0)
        self.reservoir = WeightedReservoir(capacity, n_features + n_targets, subset_seed)
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

    @property
    def linear_moments(self):
        """Weighted moments of ``[X, Y]`` (all the columns here; see FeatureSummary)."""
        return self.moments

    def solver_seed(self):
        """The solver's ``SeedSequence``, new each call, so every refresh draws alike."""
        entropy, spawn_key = self._solver_seed
        return np.random.SeedSequence(entropy, spawn_key=spawn_key)

    def check_compatible(self, n_synthetic, n_targets):
        """Raise if a later chunk or a changed parameter does not fit this stream."""
        if n_synthetic != self.n_synthetic:
            raise ValueError(
                f"n_synthetic was {self.n_synthetic} when partial_fit started and "
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
        self._add(X, Y, sample_weight, chunk, shift)

    def _add(self, X, Y, sample_weight, chunk, shift):
        """Merge a chunk's moments (relative to ``shift``) and offer its rows; raises,
        changing nothing, if the moments are not finite."""
        if not (np.isfinite(chunk.mean).all() and np.isfinite(chunk.comoment).all()):
            raise_non_finite(X, Y, sample_weight)
        self.shift = shift
        self.relative_moments = merge_moments(self.relative_moments, chunk)
        self.reservoir.update(X, Y, sample_weight)
        self.n_samples += X.shape[0]

    def merge(self, moments, reservoir, n_rows):
        """Add rows summarised elsewhere (e.g. by Dask): relative moments and candidates.

        ``moments`` are relative to ``shift``, which must be set; ``reservoir`` holds
        the candidates with their keys and stream positions.
        """
        self.relative_moments = merge_moments(self.relative_moments, moments)
        rows = reservoir.rows
        self.reservoir.offer(reservoir.keys, reservoir.index, lambda pos: rows[pos])
        self.reservoir.n_offered += n_rows
        self.n_samples += n_rows

    @property
    def ready(self):
        """Whether the reservoir holds ``n_synthetic`` rows (of positive weight)."""
        return self.reservoir.keys.size >= self.n_synthetic

    def start_rows(self):
        """The ``n_synthetic`` rows of largest key, in stream order: the solver's start."""
        keys = self.reservoir.keys
        if keys.size <= self.n_synthetic:
            return self.reservoir.rows.copy()
        top = np.sort(np.argpartition(-keys, self.n_synthetic - 1)[: self.n_synthetic])
        return self.reservoir.rows[top]

    def pool_rows(self):
        """Every row of the reservoir, in stream order: the pool a solver may choose from."""
        return self.reservoir.rows.copy()
