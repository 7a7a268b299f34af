"""Read training data in chunks, for ``partial_fit`` on data that does not fit in memory.

Each reader yields ``(X, y)`` tuples (``(X, y, sample_weight)`` when a weight column
or array is given), so that a distiller consumes a file with::

    for chunk in iter_csv_chunks("train.csv", target="price"):
        distiller.partial_fit(*chunk)

The file readers yield pandas objects, which keep the column names: the distiller
records them as ``feature_names_in_`` at the first chunk and checks every later
chunk against them. pandas and pyarrow are imported only when a reader that needs
them is called (``pip install skdistill[io]``). For data already in Dask, pass the
Dask arrays to ``fit`` instead.
"""

import glob
import os
from numbers import Integral

__all__ = ["iter_array_chunks", "iter_csv_chunks", "iter_parquet_chunks"]


def _check_chunk_size(chunk_size):
    if not isinstance(chunk_size, Integral) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")


def _split_columns(columns, target, features, sample_weight, source):
    """``(feature_columns, target_columns)`` after checking that all exist."""
    targets = [target] if isinstance(target, str) else list(target)
    if not targets:
        raise ValueError("target must name at least one column.")
    special = targets + ([] if sample_weight is None else [sample_weight])
    if features is None:
        features = [c for c in columns if c not in special]
    else:
        features = list(features)
    missing = [c for c in features + special if c not in columns]
    if missing:
        raise ValueError(f"Columns {missing} are not in {source}; its columns are {list(columns)}.")
    overlap = sorted(set(features) & set(special))
    if overlap:
        raise ValueError(f"Columns {overlap} are given both as features and as target/weight.")
    if not features:
        raise ValueError(f"{source} has no feature columns besides the target and weight.")
    return features, targets


def _split_frame(frame, features, targets, target, sample_weight):
    y = frame[target] if isinstance(target, str) else frame[targets]
    chunk = (frame[features], y)
    return chunk if sample_weight is None else chunk + (frame[sample_weight],)


class _FileFormatError(ValueError):
    """A file its reader cannot parse; the one-line message names the file."""


def _iter_csv_frames(path, columns, chunk_size, **read_csv_kwargs):
    """Yield DataFrames of the given columns of a CSV file, ``chunk_size`` rows at a time.

    Every field is read and the columns are selected afterwards: with
    ``usecols``, pandas silently drops the extra fields of a ragged row, whereas
    without it such a row raises :class:`_FileFormatError` naming the file and line.
    """
    import pandas as pd

    try:
        with pd.read_csv(path, chunksize=chunk_size, **read_csv_kwargs) as reader:
            for frame in reader:
                yield frame[columns]
    except pd.errors.ParserError as exc:
        message = " ".join(str(exc).split())
        raise _FileFormatError(f"cannot read {path} as CSV: {message}") from exc


def _iter_parquet_frames(path, columns, chunk_size):
    """Yield DataFrames of the given columns of a Parquet file, one record batch at a time.

    A column missing from the file raises :class:`_FileFormatError` naming the
    file and the columns.
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        names = parquet.schema_arrow.names
        missing = [c for c in columns if c not in names]
        if missing:
            raise _FileFormatError(
                f"{path} lacks the column(s) {missing}; its columns are {names}."
            )
        for batch in parquet.iter_batches(batch_size=chunk_size, columns=columns):
            yield batch.to_pandas()[columns]


def iter_array_chunks(X, y, sample_weight=None, *, chunk_size=100_000):
    """Yield consecutive row blocks of in-memory or memory-mapped arrays.

    Slicing a ``numpy.memmap`` (or an ``h5py``/``zarr`` dataset) reads only the
    rows of the block from disk, so this streams an on-disk array through
    ``partial_fit`` in ``O(chunk_size)`` memory.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Anything sliceable by rows: ndarray, ``numpy.memmap``, sparse matrix,
        h5py or zarr dataset, DataFrame (``.iloc`` is used).
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets, sliceable by rows.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights, sliceable by rows; when given, chunks are triples.
    chunk_size : int, default=100_000
        Rows per chunk (the last chunk may be shorter).

    Yields
    ------
    X_chunk, y_chunk[, sample_weight_chunk]
        Row blocks, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import LossMatchingDistiller
    >>> from skdistill.datasets import iter_array_chunks
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(1000, 3)), rng.normal(size=1000)
    >>> distiller = LossMatchingDistiller(n_synthetic=10, random_state=0)
    >>> for chunk in iter_array_chunks(X, y, chunk_size=300):
    ...     distiller = distiller.partial_fit(*chunk)
    >>> distiller.n_samples_seen_
    1000
    """
    _check_chunk_size(chunk_size)
    n = X.shape[0]
    if len(y) != n or (sample_weight is not None and len(sample_weight) != n):
        raise ValueError(
            f"X, y and sample_weight must have the same number of rows; got {n}, {len(y)}"
            + ("" if sample_weight is None else f" and {len(sample_weight)}")
            + "."
        )

    def rows(a, sl):
        return a.iloc[sl] if hasattr(a, "iloc") else a[sl]

    for start in range(0, n, chunk_size):
        sl = slice(start, min(start + chunk_size, n))
        chunk = (rows(X, sl), rows(y, sl))
        yield chunk if sample_weight is None else chunk + (rows(sample_weight, sl),)


def iter_csv_chunks(
    path, *, target, features=None, sample_weight=None, chunk_size=100_000, **read_csv_kwargs
):
    """Yield ``(X, y)`` chunks of a CSV file, read with ``pandas.read_csv``.

    Parameters
    ----------
    path : str or path-like
        The CSV file (anything ``pandas.read_csv`` reads, compressed files too).
    target : str or list of str
        Target column(s); a list gives a DataFrame ``y`` (multi-output).
    features : list of str, default=None
        Feature columns, in this order; ``None`` means every column that is not
        a target or the weight, in file order.
    sample_weight : str, default=None
        Column of sample weights; when given, chunks are triples.
    chunk_size : int, default=100_000
        Rows per chunk.
    **read_csv_kwargs
        Passed to ``pandas.read_csv`` (``sep``, ``dtype``, ``compression``, ...).

    Yields
    ------
    X : DataFrame of shape (n_chunk, n_features)
    y : Series or DataFrame
    sample_weight : Series, only if ``sample_weight`` is given

    Raises
    ------
    ValueError
        If a row has more fields than the header (the message names the file
        and the line), or if a column asked for is not in the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from skdistill import LossMatchingDistiller
    >>> from skdistill.datasets import iter_csv_chunks
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame(rng.normal(size=(1000, 3)), columns=["a", "b", "price"])
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> frame.to_csv(path, index=False)
    >>> distiller = LossMatchingDistiller(n_synthetic=10, random_state=0)
    >>> for X, y in iter_csv_chunks(path, target="price", chunk_size=400):
    ...     distiller = distiller.partial_fit(X, y)
    >>> distiller.feature_names_in_.tolist(), distiller.n_samples_seen_
    (['a', 'b'], 1000)
    """
    import pandas as pd

    _check_chunk_size(chunk_size)
    if "chunksize" in read_csv_kwargs or "iterator" in read_csv_kwargs:
        raise ValueError("Pass chunk_size, not chunksize or iterator, to iter_csv_chunks.")
    header = pd.read_csv(path, nrows=0, **read_csv_kwargs).columns
    features, targets = _split_columns(header, target, features, sample_weight, path)
    columns = features + targets + ([] if sample_weight is None else [sample_weight])
    for frame in _iter_csv_frames(path, columns, chunk_size, **read_csv_kwargs):
        yield _split_frame(frame, features, targets, target, sample_weight)


def iter_parquet_chunks(
    path, *, target, features=None, sample_weight=None, chunk_size=100_000
):
    """Yield ``(X, y)`` chunks of Parquet data, read batch by batch with pyarrow.

    Only the requested columns are read, one record batch at a time, so memory
    is ``O(chunk_size)`` whatever the file size.

    Parameters
    ----------
    path : str, path-like or list of them
        A Parquet file, a directory of ``*.parquet`` files (read in sorted
        order), or a list of files (read in the given order).
    target : str or list of str
        Target column(s); a list gives a DataFrame ``y``.
    features : list of str, default=None
        Feature columns; ``None`` means every column that is not a target or the
        weight, in schema order.
    sample_weight : str, default=None
        Column of sample weights; when given, chunks are triples.
    chunk_size : int, default=100_000
        Largest number of rows per chunk (a chunk does not span row groups of
        different files, so some are shorter).

    Yields
    ------
    X : DataFrame of shape (n_chunk, n_features)
    y : Series or DataFrame
    sample_weight : Series, only if ``sample_weight`` is given

    Raises
    ------
    ValueError
        If a column asked for is not in a file, or, with ``features=None``, if
        the files' columns differ (a column the first file lacks would otherwise
        be dropped); the message names the file and the columns.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from skdistill.datasets import iter_parquet_chunks
    >>> frame = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "y"])
    >>> path = os.path.join(tempfile.mkdtemp(), "train.parquet")
    >>> frame.to_parquet(path)
    >>> [X.shape for X, y in iter_parquet_chunks(path, target="y", chunk_size=3)]
    [(3, 2), (1, 2)]
    """
    import pyarrow.parquet as pq

    _check_chunk_size(chunk_size)
    if isinstance(path, (list, tuple)):
        files = list(path)
    elif os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, "*.parquet")))
        if not files:
            raise ValueError(f"No *.parquet files in the directory {path}.")
    else:
        files = [path]
    all_columns = features is None
    columns = None
    for file in files:
        names = pq.read_schema(file).names
        if columns is None:
            first, first_names = file, names
            features, targets = _split_columns(names, target, features, sample_weight, file)
            columns = features + targets + ([] if sample_weight is None else [sample_weight])
        else:
            _check_same_columns(file, names, first, first_names, columns, all_columns)
        for frame in _iter_parquet_frames(file, columns, chunk_size):
            yield _split_frame(frame, features, targets, target, sample_weight)


def _check_same_columns(file, names, first, first_names, columns, all_columns):
    """Raise unless a later Parquet file has the columns read from the first one.

    When the features are every column (``all_columns``), a column of ``file``
    that ``first`` lacks would be dropped, so it is an error too.
    """
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(
            f"The Parquet file {file} lacks the column(s) {missing} that {first} has; "
            "every file must have the columns read."
        )
    extra = [c for c in names if c not in first_names] if all_columns else []
    if extra:
        raise ValueError(
            f"The Parquet file {file} has the column(s) {extra} that {first} lacks; "
            "pass features=[...] to read the same columns from every file."
        )
