"""Dask input: the data pass and the start subset as one Dask computation.

Imported only when an input is a Dask collection (``skdistill[dask]``). Every
block of rows is reduced, where it lives, to a summary of ``O(q^2 + m q)``
numbers -- its weighted moments (:func:`shifted_moments`) and the ``m`` rows of
largest reservoir key (:class:`WeightedReservoir`) -- and the summaries are merged
up a tree (:func:`merge_moments`, :meth:`WeightedReservoir.offer`). The computation
runs on whatever scheduler is active, a ``distributed`` cluster included; no task
ever holds more than one block of rows. The input checks (finite values,
non-negative weights) run inside the block tasks for the same reason; NaN and
infinity are found from each block's moments, which they make non-finite.
"""

import contextlib
import time
from typing import NamedTuple

import dask
import dask.array as da
import numpy as np
from dask.callbacks import Callback

from .._core.lbfgs import PROGRESS_SECONDS
from .._core.moments import head_shift, merge_moments, shifted_moments
from .._core.reservoir import WeightedReservoir
from .._core.validation import is_dask_collection, raise_non_finite
from .features import FeatureSummary, feature_moments, feature_shift

# Summaries merged per task of the reduction tree.
_SPLIT_EVERY = 8


class BlockSummary(NamedTuple):
    """What a block of rows (or a subtree of blocks) is reduced to."""

    moments: object
    reservoir: WeightedReservoir


def _as_dask(a, row_chunks, name, n_rows=None):
    if not isinstance(a, da.Array):
        if is_dask_collection(a):
            raise ValueError(
                f"{name} is a {type(a).__name__}; pass a dask.array.Array with known "
                f"chunk sizes, e.g. {name}.to_dask_array(lengths=True)."
            )
        a = np.asarray(a)
        if n_rows is not None and (a.ndim == 0 or a.shape[0] != n_rows):
            return a
        a = da.from_array(a, chunks=(row_chunks,) + (-1,) * (a.ndim - 1))
    return a


def _check_numeric(a, name):
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {a.dtype}.")


def check_dask_input(X, y, sample_weight=None):
    """Check shapes and dtypes of Dask input and align the blocks of the three arrays.

    Nothing is computed here; the values (NaN, infinity, negative weights) are
    checked inside the block tasks of :func:`dask_summary`.

    Returns
    -------
    X : dask.array.Array of shape (n, d), one block along the columns
    Y : dask.array.Array of shape (n, t), the row blocks of ``X``
    sample_weight : dask.array.Array of shape (n,) or None
    y_ndim : int
    """
    if not isinstance(X, da.Array):
        X = _as_dask(X, "auto", "X")
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D Dask array for X, got one with {X.ndim} dimension(s)."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "X has unknown chunk sizes (NaN); compute them first with "
            "X.compute_chunk_sizes(), or build it with to_dask_array(lengths=True)."
        )
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(
            f"Found a Dask array with shape {X.shape}; need at least 1 row and 1 column."
        )
    _check_numeric(X, "X")
    X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]
    y = _as_dask(y, row_chunks, "y", n)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1D or 2D, got {y.ndim} dimensions.")
    if isinstance(y, da.Array) and any(np.isnan(c) for c in y.chunks[0]):
        raise ValueError(
            "y has unknown chunk sizes (NaN); call y.compute_chunk_sizes() first."
        )
    if y.shape[0] != n:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n}, {y.shape[0]}]"
        )
    _check_numeric(y, "y")
    y_ndim = y.ndim
    Y = (y[:, None] if y.ndim == 1 else y).rechunk((row_chunks, -1))
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0:
            raise ValueError(
                "sample_weight must be an array of shape (n_samples,), not a scalar."
            )
        sample_weight = _as_dask(sample_weight, row_chunks, "sample_weight", n)
        if sample_weight.ndim != 1 or sample_weight.shape[0] != n:
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected ({n},)!"
            )
        _check_numeric(sample_weight, "sample_weight")
        sample_weight = sample_weight.rechunk((row_chunks,))
    return X, Y, sample_weight, y_ndim


def _block_shift(X, Y, transform=None):
    # NaN or infinity in the first block is reported by that block's checks.
    Y = np.asarray(Y, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        shift = head_shift(X, Y) if transform is None else feature_shift(X, Y, transform)
    return np.where(np.isfinite(shift), shift, 0.0)


def _leaf(X, Y, w, seed, start, offset, capacity, shift, transform=None):
    """Summary of one block: checked moments and its top-``capacity`` reservoir rows.

    NaN or infinity anywhere in the block makes its moments non-finite, so the
    values are checked from the moments, without a pass of their own. With a
    ``transform`` the moments are those of the lifted rows ``(transform(x), x, y)``
    (:func:`~skdistill._sources.features.feature_moments`); the reservoir keeps
    ``(x, y)``.
    """
    Y = np.asarray(Y, dtype=np.float64)
    if w is not None:
        w = np.asarray(w, dtype=np.float64)
        if (w < 0).any():
            raise ValueError(
                f"Negative values in data passed to sample_weight (in the Dask block "
                f"starting at row {start})."
            )
    with np.errstate(invalid="ignore", over="ignore"):
        if transform is None:
            moments = shifted_moments(X, Y, w, shift)
        else:
            moments = feature_moments(X, Y, w, transform, shift, n_threads=1)
    if not (np.isfinite(moments.mean).all() and np.isfinite(moments.comoment).all()):
        try:
            raise_non_finite(X, Y, w)
        except ValueError as exc:
            raise ValueError(f"{exc} (In the Dask block starting at row {start}.)") from None
    reservoir = WeightedReservoir(capacity, X.shape[1] + Y.shape[1], seed)
    reservoir.n_offered = offset + start
    reservoir.update(X, Y, w)
    reservoir.rng = None
    return BlockSummary(moments, reservoir)


def _combine(*parts):
    """Merge the summaries of disjoint row sets."""
    first = parts[0].reservoir
    reservoir = WeightedReservoir(first.capacity, first.rows.shape[1], None)
    moments = None
    for part in parts:
        moments = merge_moments(moments, part.moments)
        rows = part.reservoir.rows
        reservoir.offer(part.reservoir.keys, part.reservoir.index, lambda pos: rows[pos])
    return BlockSummary(moments, reservoir)


class _TaskProgress(Callback):
    """Prints the tasks done at most every ``PROGRESS_SECONDS`` (local schedulers only)."""

    def __init__(self, label):
        super().__init__()
        self.label = label

    def _start_state(self, dsk, state):
        self.total = sum(len(state[key]) for key in ("ready", "waiting", "running"))
        self.done, self.start = 0, time.perf_counter()
        self.last = self.start

    def _posttask(self, key, result, dsk, state, worker_id):
        self.done += 1
        now = time.perf_counter()
        if now - self.last >= PROGRESS_SECONDS or self.done == self.total:
            self.last = now
            print(f"{self.label}: {self.done} of {self.total} Dask tasks, "
                  f"{now - self.start:.1f} s", flush=True)


def dask_summary(X, Y, sample_weight, capacity, seed, shift=None, offset=0, transform=None,
                 verbose=0):
    """Moments and top-``capacity`` reservoir rows of Dask arrays, by a tree reduction.

    Parameters
    ----------
    X, Y, sample_weight
        As returned by :func:`check_dask_input`.
    capacity : int
        Reservoir size ``m``.
    seed : numpy.random.SeedSequence
        Block ``b`` draws its keys from child ``b``: the subset depends on the seed
        and on the row blocks of ``X``, not on the scheduler.
    shift : ndarray of shape (q,), default=None
        The moments are those of ``[X, Y] - shift`` (see :func:`shifted_moments`);
        ``None`` takes :func:`head_shift` of the first block, inside the same
        computation.
    offset : int, default=0
        Stream position of the first row (orders the reservoir across calls).
    transform : callable, default=None
        A fixed feature map: the moments are then those of ``(transform(x), x, y)``,
        computed block by block (:func:`_leaf`), and ``shift`` is of that width.
    verbose : int, default=0
        Print the tasks done at most every ``PROGRESS_SECONDS`` (local schedulers;
        a ``distributed`` client has its own dashboard).

    Returns
    -------
    summary : BlockSummary
        Its moments are relative to ``shift``; its reservoir holds the candidates
        with their keys and stream indices.
    shift : ndarray of shape (q,)
    """
    X_blocks = X.to_delayed().ravel()
    Y_blocks = Y.to_delayed().ravel()
    w_blocks = (
        [None] * len(X_blocks) if sample_weight is None else sample_weight.to_delayed().ravel()
    )
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int)
    seeds = seed.spawn(len(X_blocks))
    if shift is None:
        shift = dask.delayed(_block_shift, pure=False)(X_blocks[0], Y_blocks[0], transform)
    leaf = dask.delayed(_leaf, pure=False)
    parts = [
        leaf(xb, yb, wb, s, int(start), offset, capacity, shift, transform)
        for xb, yb, wb, s, start in zip(X_blocks, Y_blocks, w_blocks, seeds, starts)
    ]
    combine = dask.delayed(_combine, pure=False)
    while len(parts) > 1:
        parts = [
            combine(*parts[i : i + _SPLIT_EVERY]) for i in range(0, len(parts), _SPLIT_EVERY)
        ]
    label = "Dask pass" if transform is None else "Dask feature pass"
    with _TaskProgress(label) if verbose else contextlib.nullcontext():
        summary, shift = dask.compute(parts[0], shift)
    return summary, np.asarray(shift, dtype=np.float64)


def _pilot_map(summary, X, Y, sample_weight):
    """The feature map of a :class:`FeatureSummary`, fitted on a pilot pass if not yet fixed.

    The pilot is a reservoir of up to ``n_pilot`` rows of all of ``X``, drawn by
    Dask like the start rows; ``None`` if no row has positive weight.
    """
    if summary.feature_map is not None:
        return summary.feature_map
    pilot, _ = dask_summary(X, Y, sample_weight, summary.n_pilot, summary.pilot_seed)
    if pilot.reservoir.rows.shape[0] == 0:
        return None
    return summary.fitted_map(pilot.reservoir.rows)


def update_summary(summary, X, Y, sample_weight=None):
    """Add Dask arrays to a :class:`~skdistill._sources.summary.Summary`, computed by Dask.

    A :class:`~skdistill._sources.features.FeatureSummary` whose feature map is not
    fixed yet first fits it on a pilot pass (:func:`_pilot_map`), then lifts every
    block through it. The input checks run inside the Dask computation; if they
    fail, the summary is left as it was.
    """
    reservoir = summary.reservoir
    rng_state = reservoir.rng.bit_generator.state
    block_seed = np.random.SeedSequence(int(reservoir.rng.integers(2**63)))
    lifted = isinstance(summary, FeatureSummary)
    try:
        feature_map = _pilot_map(summary, X, Y, sample_weight) if lifted else None
        if lifted and feature_map is None:  # no row of positive weight: nothing to add yet
            summary.n_samples += X.shape[0]
            reservoir.n_offered += X.shape[0]
            return
        blocks, shift = dask_summary(
            X, Y, sample_weight, reservoir.capacity, block_seed, summary.shift,
            reservoir.n_offered, None if feature_map is None else feature_map.transform,
            getattr(summary, "verbose", 0),
        )
    except BaseException:
        reservoir.rng.bit_generator.state = rng_state
        raise
    if lifted:
        summary.feature_map = feature_map
    summary.shift = shift
    summary.merge(blocks.moments, blocks.reservoir, X.shape[0])
