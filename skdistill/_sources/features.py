"""Summaries of rows lifted through a feature map: the moments of ``(phi(x), x, y)``.

A family of models linear in ``(phi(x), x, y)`` (``kernel="rbf"``) needs the moments
of those columns. ``phi`` depends on the data (its input scaling and, by default, its
bandwidth), so it is fitted once, on a pilot sample: a weighted reservoir of up to
``n_pilot`` rows of the first rows given -- all of them for ``fit``, the first chunk
with rows of positive weight for ``partial_fit``, the whole first Dask input -- and
then fixed. Every chunk's rows are lifted through it and their moments merged
relative to one shift, as :class:`~skdistill._sources.summary.Summary` merges those
of ``(x, y)``; the start rows are the same reservoir of ``(x, y)`` rows.
"""

import threading
import time

import numpy as np
from scipy import sparse
from sklearn.utils import gen_batches

from .._core.lbfgs import PROGRESS_SECONDS
from .._core.moments import (
    default_chunk_size,
    head_shift,
    merge_chunks,
    shifted_moments,
    sub_moments,
)
from .._core.reservoir import WeightedReservoir
from .._core.threads import thread_map
from .._core.validation import raise_non_finite
from .summary import Summary


def _dense(X):
    X = X.toarray() if sparse.issparse(X) else X
    return np.asarray(X, dtype=np.float64)


def feature_shift(X, Y, transform):
    """A point near the lifted rows ``(phi(x), x, y)``: the mean of the first rows."""
    head = slice(0, min(X.shape[0], 1024))
    X_head = _dense(X[head])
    return head_shift(transform(X_head), np.hstack([X_head, np.asarray(Y[head], float)]))


class _PassProgress:
    """Prints rows done at most every ``PROGRESS_SECONDS``, from any thread, and at the end."""

    def __init__(self, n_rows, label="feature pass"):
        self.n_rows, self.label = n_rows, label
        self.done = 0
        self.start = self.last = time.perf_counter()
        self.lock = threading.Lock()

    def __call__(self, rows):
        with self.lock:
            self.done += rows
            now = time.perf_counter()
            if now - self.last >= PROGRESS_SECONDS or self.done == self.n_rows:
                self.last = now
                print(
                    f"{self.label}: {self.done:,} of {self.n_rows:,} rows "
                    f"({100 * self.done / self.n_rows:.0f}%), {now - self.start:.1f} s",
                    flush=True,
                )


def feature_moments(X, Y, sample_weight, transform, shift, *, chunk_size=None, n_threads=None,
                    verbose=0):
    """Weighted moments of ``(phi(x), x, y) - shift`` in one chunked pass over the rows.

    Each chunk is densified, mapped through ``transform`` and reduced by
    :func:`~skdistill._core.moments.shifted_moments`; the chunks are fixed by
    ``chunk_size`` (default: about 4 MiB of lifted rows) and merged in order, so the
    result does not depend on ``n_threads`` (default: the threads BLAS would use).
    Memory is ``O(chunk_size * D + D^2)`` per thread; no ``n x D`` array is formed.
    ``verbose`` prints the rows done at most every ``PROGRESS_SECONDS`` and at the end.

    Returns
    -------
    Moments
        Relative to ``shift``: their mean is the lifted rows' mean minus ``shift``.
    """
    n, width = X.shape[0], len(shift)
    if chunk_size is None:
        chunk_size = default_chunk_size(width)

    progress = _PassProgress(n) if verbose and n else None

    def one(sl):
        X_chunk = _dense(X[sl])
        w = None if sample_weight is None else sample_weight[sl]
        # The features enter as the wide block, (x, y) as the thin one.
        moments = shifted_moments(transform(X_chunk), np.hstack([X_chunk, Y[sl]]), w, shift)
        if progress is not None:
            progress(X_chunk.shape[0])
        return moments

    slices = list(gen_batches(n, chunk_size)) if n else []
    return merge_chunks(thread_map(one, slices, n_threads), width)


class FeatureSummary(Summary):
    """A :class:`Summary` of the rows lifted to ``(phi(x), x, y)``, ``phi`` fixed at the start.

    Parameters
    ----------
    random_state, n_synthetic, n_features, n_targets
        As for :class:`Summary`; the reservoir and the solver's seed are the ones a
        :class:`Summary` with these parameters has.
    fit_features : callable
        ``fit_features(pilot, seed)`` returns the fitted feature map (an object with
        ``transform(X)``, ``X`` dense of shape ``(k, n_features)``) from the pilot
        rows ``[X, Y]`` (shape ``(k, q)``, ``k >= 1``) and a ``SeedSequence``.
    n_pilot : int
        Rows in the pilot sample.
    pool : int or None, default=None
        Size of the reservoir, as for :class:`Summary`: the candidates of a solver
        that chooses its rows, drawn from every chunk (the pilot sample comes from
        the first).

    Attributes
    ----------
    verbose : int
        Progress of the feature pass of every in-memory chunk (:func:`feature_moments`).
    feature_map : object or None
        The fitted map, set by the first rows of positive weight.
    relative_moments : Moments or None
        Weighted moments of ``(phi(x), x, y) - shift``: features first.
    """

    def __init__(self, random_state, n_synthetic, n_features, n_targets, fit_features, n_pilot,
                 pool=None):
        super().__init__(random_state, n_synthetic, n_features, n_targets, pool)
        entropy, spawn_key = self._solver_seed
        # The root's children after the reservoir's and the solver's: seed_sequence(...).spawn(4).
        self.pilot_seed, self._map_seed = (
            np.random.SeedSequence(entropy, spawn_key=spawn_key[:-1] + (child,))
            for child in (2, 3)
        )
        self.fit_features = fit_features
        self.n_pilot = n_pilot
        self.feature_map = None
        self.verbose = 0

    @property
    def linear_moments(self):
        """Weighted moments of ``[X, Y]``: the trailing columns of :attr:`moments`."""
        moments, q = self.moments, self.n_features + self.n_targets
        if moments is None or moments.weight_sum == 0:
            return moments
        return sub_moments(moments, moments.mean.shape[0] - q)

    def fitted_map(self, pilot):
        """The feature map fitted on the pilot rows ``pilot`` (shape ``(k, q)``)."""
        return self.fit_features(pilot, self._map_seed)

    def update(self, X, Y, sample_weight=None, *, chunk_size=None):
        """Add one in-memory chunk; the first with rows of positive weight fixes ``phi``.

        Values are checked as by :meth:`Summary.update`, from the chunk's moments,
        before the state changes: a chunk that raises leaves the summary as it was
        (the feature map included).
        """
        feature_map, shift = self.feature_map, self.shift
        if feature_map is None:
            if sample_weight is not None and not np.isfinite(sample_weight).all():
                raise_non_finite(X, Y, sample_weight)
            pilot = WeightedReservoir(self.n_pilot, self.n_features + self.n_targets,
                                      self.pilot_seed)
            pilot.update(X, Y, sample_weight)
            if pilot.rows.shape[0] == 0:  # no row of positive weight: nothing to add yet
                self.reservoir.update(X, Y, sample_weight)
                self.n_samples += X.shape[0]
                return
            if not np.isfinite(pilot.rows).all():
                raise_non_finite(X, Y, sample_weight)
            feature_map = self.fitted_map(pilot.rows)
            shift = feature_shift(X, Y, feature_map.transform)
        with np.errstate(invalid="ignore", over="ignore"):
            chunk = feature_moments(
                X, Y, sample_weight, feature_map.transform, shift, chunk_size=chunk_size,
                verbose=self.verbose,
            )
        self._add(X, Y, sample_weight, chunk, shift)
        self.feature_map = feature_map
