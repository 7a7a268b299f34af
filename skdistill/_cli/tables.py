"""Tables on disk for the command line: CSV, Parquet and ``.npz``.

A table is a list of column names and, per column, a 1-D NumPy array of any
dtype; the command line checks and converts the columns itself. ``.npz`` files
need NumPy alone: every 1-D array is a column named by its key, and a 2-D array
``key`` of width ``k`` is the ``k`` columns ``key[0]``, ..., ``key[k-1]`` (what
``np.savez(path, X=X, y=y)`` writes), in the file's order. CSV input needs
pandas, Parquet pyarrow; both are imported only when such a file is read or
written. CSV is streamed by the chunk reader of :mod:`skdistill.datasets`. Every
problem with a file is raised as a ``ValueError`` with a one-line message naming
the file: a :class:`TableError`, or the chunk reader's error for a ragged row.
"""

import contextlib
import csv
import os
import re
import tempfile
import zipfile

import numpy as np

from ..datasets import _FileFormatError, _iter_csv_frames, _iter_parquet_frames
from .console import one_line

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".csv.zst")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_GROUPED = re.compile(r"^(.*)\[(\d+)\]$")


class TableError(ValueError):
    """A file that cannot be read or written as a table; the message is one line."""


def table_format(path, role="input"):
    """``"csv"``, ``"parquet"`` or ``"npz"`` from the file name; raise for anything else."""
    name = os.fspath(path).lower()
    if name.endswith(_CSV_SUFFIXES):
        if role == "output" and name != name.removesuffix(".csv") + ".csv":
            raise TableError(f"write the output as plain .csv, not {path!r}")
        return "csv"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(".npz"):
        return "npz"
    suffixes = ".csv, .parquet or .npz"
    if role == "input":
        suffixes += " (or compressed .csv.gz, ...)"
    raise TableError(f"cannot tell the format of the {role} file {path!r}: use {suffixes}")


def _import_pandas(what):
    try:
        import pandas
    except ImportError:
        raise TableError(
            f"{what} needs pandas: pip install 'skdistill[io]' (or use .npz files)"
        ) from None
    return pandas


def import_pyarrow_parquet(what):
    """``(pyarrow, pyarrow.parquet)``, or a TableError saying that ``what`` needs them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise TableError(
            f"{what} needs pyarrow: pip install 'skdistill[io]' (or use .csv or .npz files)"
        ) from None
    return pyarrow, pyarrow.parquet


def _npz_columns(path):
    """``(names, columns, layout)`` of a ``.npz`` file; layout is ``[(key, width or None)]``."""
    if not zipfile.is_zipfile(path):
        raise TableError(f"{path} is not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = [(key, data[key]) for key in data.files]
    except (zipfile.BadZipFile, EOFError) as exc:
        raise TableError(f"{path} is not a readable .npz file ({exc})") from None
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise TableError(
                f"{path} holds Python objects (pickled arrays); save numbers or strings instead"
            ) from None
        raise TableError(f"{path} is not a readable .npz file ({exc})") from None
    if not arrays:
        raise TableError(f"{path} holds no arrays")
    names, columns, layout = [], [], []
    for key, array in arrays:
        if array.ndim == 1:
            names.append(key)
            columns.append(array)
            layout.append((key, None))
        elif array.ndim == 2:
            names.extend(f"{key}[{j}]" for j in range(array.shape[1]))
            columns.extend(array.T)
            layout.append((key, array.shape[1]))
        else:
            raise TableError(
                f"array {key!r} in {path} has {array.ndim} dimensions; a table needs 1-D "
                "columns or 2-D blocks of columns"
            )
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise TableError(
            f"the arrays in {path} have different numbers of rows: "
            + ", ".join(f"{key} {len(array)}" for key, array in arrays)
        )
    return names, columns, layout


def _frame_columns(frame):
    return [frame[name].to_numpy() for name in frame.columns]


def _check_names(names, path):
    names = [str(n) for n in names]
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise TableError(f"{path} has repeated column names: {', '.join(repeated)}")
    return names


@contextlib.contextmanager
def _reading(path, fmt):
    """Report a parser's complaint about a file as a one-line TableError naming it."""
    kind = {"csv": "CSV", "parquet": "Parquet"}.get(fmt, fmt)
    try:
        yield
    except (TableError, _FileFormatError):  # these name the file already
        raise
    except (ValueError, OSError) as exc:
        if isinstance(exc, OSError) and not type(exc).__module__.startswith("pyarrow"):
            raise
        raise TableError(f"cannot read {path} as {kind}: {one_line(exc)}") from None


def _read_csv(path, **read_csv_kwargs):
    pd = _import_pandas("reading CSV")
    try:
        return pd.read_csv(path, **read_csv_kwargs)
    except pd.errors.EmptyDataError:
        raise TableError(f"{path} is empty") from None


def read_header(path, fmt):
    """Column names of a table file, reading as little of it as the format allows."""
    with _reading(path, fmt):
        if fmt == "csv":
            names = list(_read_csv(path, nrows=0).columns)
            # pandas renames a repeated header "a" to "a.1": check the raw header line.
            raw = _read_csv(path, nrows=1, header=None, dtype=str, keep_default_na=False)
            _check_names(raw.iloc[0].tolist(), path)
            return _check_names(names, path)
        if fmt == "parquet":
            _, pq = import_pyarrow_parquet("reading Parquet")
            return _check_names(pq.read_schema(path).names, path)
        return _check_names(_npz_columns(path)[0], path)


def read_table(path, fmt):
    """``(names, columns, layout)`` of a whole table file (layout only for ``.npz``)."""
    with _reading(path, fmt):
        if fmt == "npz":
            names, columns, layout = _npz_columns(path)
        else:
            if fmt == "csv":
                frame = _read_csv(path)
            else:
                _, pq = import_pyarrow_parquet("reading Parquet")
                frame = pq.read_table(path).to_pandas()
            names, columns, layout = frame.columns, _frame_columns(frame), None
        names = _check_names(names, path)
        if columns and not len(columns[0]):
            raise _no_rows(path, fmt)
        return names, columns, layout


def _no_rows(path, fmt):
    if fmt == "csv":
        return TableError(f"{path} has a header but no rows")
    return TableError(f"{path} has columns but no rows")


def iter_table(path, fmt, chunk_size, columns):
    """Yield the named columns of a table file in row blocks, as lists of arrays.

    CSV is read with ``pandas.read_csv(chunksize=...)`` (every field, so that a
    ragged row is an error) and Parquet batch by batch with pyarrow, so memory
    is ``O(chunk_size)``; a ``.npz`` file is one block. A table without rows is
    an error.
    """
    with _reading(path, fmt):
        if fmt == "npz":
            names, all_columns, _ = read_table(path, fmt)
            by_name = dict(zip(names, all_columns))
            yield [by_name[name] for name in columns]
            return
        if fmt == "csv":
            _import_pandas("reading CSV")
            frames = _iter_csv_frames(path, columns, chunk_size)
        else:
            import_pyarrow_parquet("reading Parquet")
            frames = _iter_parquet_frames(path, columns, chunk_size)
        n_rows = 0
        for frame in frames:
            if len(frame):  # a header-only CSV file gives one empty frame
                n_rows += len(frame)
                yield _frame_columns(frame)
        if not n_rows:
            raise _no_rows(path, fmt)


def check_output_directory(path):
    """Raise unless the directory that is to hold the file ``path`` exists.

    An existing ``path`` must be writable: :func:`write_table` replaces it by a
    rename, which would otherwise overwrite a read-only file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise TableError(f"the output directory {directory} does not exist")
    if os.path.isfile(path) and not os.access(path, os.W_OK):
        raise TableError(f"the output file {path} is read-only")


def write_table(path, fmt, names, values, layout=None):
    """Write a float table: ``values`` of shape (n_rows, len(names)).

    The table is written to a temporary file in the destination folder and
    renamed onto ``path`` (onto the file a symbolic link ``path`` points to) only
    once complete, so a failure midway (a full disk, Ctrl-C) leaves the previous
    file untouched and no temporary file behind. For ``.npz``, ``layout`` (from
    :func:`read_table`) regroups the columns ``key[j]`` of a 2-D input array into
    one 2-D array ``key`` again; columns outside the layout are written as 1-D
    arrays.
    """
    values = np.asarray(values, dtype=np.float64)
    if fmt == "parquet":
        import_pyarrow_parquet("writing Parquet")
    with _replacing(path) as temporary:
        if fmt == "csv":
            _write_csv(temporary, names, values)
        elif fmt == "parquet":
            _write_parquet(temporary, names, values)
        else:
            _write_npz(temporary, names, values, layout)


@contextlib.contextmanager
def _replacing(path):
    """Yield a new temporary file's path next to ``path``; on success rename it onto ``path``.

    The temporary file has the output's suffix and the permissions the output has
    (or a new file would get); it is removed on any failure, Ctrl-C included.
    """
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    try:
        fd, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{name}.", suffix=os.path.splitext(name)[1]
        )
    except OSError as exc:
        raise TableError(
            f"cannot create a file in the output directory {directory}: {exc.strerror}"
        ) from None
    try:
        os.close(fd)
        os.chmod(temporary, _new_file_mode(target))
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _new_file_mode(path):
    """The permission bits of ``path``, or those ``open`` gives a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_csv(path, names, values):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows([repr(float(v)) for v in row] for row in values)


def _write_parquet(path, names, values):
    pa, pq = import_pyarrow_parquet("writing Parquet")
    table = pa.table({name: values[:, j] for j, name in enumerate(names)})
    pq.write_table(table, path)


def _write_npz(path, names, values, layout):
    # An open file: np.savez appends ".npz" to a name that does not end in it.
    with open(path, "wb") as handle:
        np.savez(handle, **_npz_arrays(names, values, layout))


def _npz_arrays(names, values, layout):
    position = {name: j for j, name in enumerate(names)}
    arrays, used = {}, set()
    for key, width in layout or []:
        if width is None:
            continue
        block = [f"{key}[{j}]" for j in range(width)]
        if all(name in position for name in block):
            arrays[key] = values[:, [position[name] for name in block]]
            used.update(block)
    out = {}
    for j, name in enumerate(names):
        match = _GROUPED.match(name)
        if name in used:
            key = match.group(1)
            if key not in out:
                out[key] = arrays[key]
        else:
            out[name] = values[:, j]
    return out
