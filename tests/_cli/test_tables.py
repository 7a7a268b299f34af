"""Table files: formats, unreadable files, optional readers, and the shared CSV reader."""

import sys

import numpy as np
import pytest

from skdistill._cli import main
from skdistill._cli.tables import read_table, table_format, write_table
from skdistill.datasets import iter_csv_chunks


@pytest.mark.parametrize(
    "content, expected",
    [
        ("a,a,y\n1,2,3\n4,5,6\n", ["repeated column", "a"]),
        ("", ["empty"]),
        ("a,b,y\n1,2,3\n4,5,6,7\n", ["cannot read", "as CSV", "line 3"]),
    ],
)
def test_bad_csv_files(distill_error, content, expected):
    line = distill_error(content)
    for text in expected:
        assert text in line


@pytest.mark.parametrize("chunk_size", [1, 100])
def test_ragged_row_is_an_error_for_both_csv_readers(tmp_path, error_line, chunk_size):
    # Both read through datasets._iter_csv_frames; iter_csv_chunks used to drop the 7.
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,price\n1,2,3\n4,5,6,7\n")
    with pytest.raises(ValueError, match=r"ragged\.csv as CSV: .*line 3, saw 4"):
        list(iter_csv_chunks(path, target="price", chunk_size=chunk_size))
    argv = ["distill", str(path), "-t", "price", "-m", "1", "-o", str(tmp_path / "o.csv")]
    assert main(argv + ["--chunk-size", str(chunk_size)]) == 2
    assert error_line() == (
        f"skdistill distill: error: cannot read {path} as CSV: Error tokenizing data. "
        "C error: Expected 3 fields in line 3, saw 4"
    )


def test_table_format_by_suffix():
    assert table_format("a.CSV.gz") == "csv" and table_format("a.pq") == "parquet"
    assert table_format("a.npz", "output") == "npz"
    with pytest.raises(ValueError, match="plain .csv"):
        table_format("a.csv.gz", "output")
    with pytest.raises(ValueError, match=r"\(or compressed"):
        table_format("a.xlsx")


def test_npz_layout_round_trip(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), y=np.ones(3))
    names, columns, layout = read_table(path, "npz")
    assert names == ["X[0]", "X[1]", "y"] and layout == [("X", 2), ("y", None)]
    out = tmp_path / "out.npz"
    write_table(
        out,
        "npz",
        names + ["sample_weight"],
        np.column_stack(columns + [columns[2]]),
        layout=layout,
    )
    with np.load(out) as data:
        assert data.files == ["X", "y", "sample_weight"] and data["X"].shape == (3, 2)


def test_bad_npz(tmp_path, error_line):
    ragged = tmp_path / "ragged.npz"
    np.savez(ragged, x=np.ones(5), y=np.ones(4))
    assert main(["distill", str(ragged), "-t", "y", "-m", "2", "-o", str(tmp_path / "o.npz")]) == 2
    assert "different numbers of rows" in error_line()
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    assert main(["distill", str(broken), "-t", "y", "-m", "2", "-o", str(tmp_path / "o.npz")]) == 2
    assert "not a readable .npz" in error_line()
    objects = tmp_path / "objects.npz"
    np.savez(objects, x=np.array([1, "a", None], dtype=object), y=np.ones(3))
    assert main(["distill", str(objects), "-t", "y", "-m", "2", "-o", str(tmp_path / "o.npz")]) == 2
    assert "Python objects" in error_line()


def test_bad_parquet(tmp_path, error_line):
    pytest.importorskip("pyarrow")
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"junk")
    assert main(["distill", str(path), "-t", "y", "-m", "2", "-o", str(tmp_path / "o.csv")]) == 2
    assert "cannot read" in error_line()


def test_missing_optional_readers_are_one_line(diabetes_csv, tmp_path, monkeypatch, error_line):
    path, frame = diabetes_csv
    npz = tmp_path / "in.npz"
    np.savez(npz, **{name: frame[name].to_numpy() for name in frame.columns})
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["distill", str(path), "-t", "target", "-m", "20", "-o", "o.npz"]) == 2
    assert "reading CSV needs pandas" in error_line()
    out = tmp_path / "o.parquet"
    assert main(["distill", str(npz), "-t", "target", "-m", "20", "-o", str(out)]) == 2
    assert "writing Parquet needs pyarrow" in error_line()
    # .npz and CSV output need NumPy alone.
    assert (
        main(["distill", str(npz), "-t", "target", "-m", "20", "-o", str(tmp_path / "o.csv")]) == 0
    )


@pytest.mark.parametrize("extra", [[], ["--one-hot"], ["--chunk-size", "1"]])
def test_header_only_csv_has_no_rows(tmp_path, error_line, extra):
    # It used to be reported as non-numeric columns (pandas reads empty columns as text).
    path = tmp_path / "header.csv"
    path.write_text("a,b,y\n")
    argv = ["distill", str(path), "-t", "y", "-m", "1", "-o", str(tmp_path / "o.csv")]
    assert main(argv + extra) == 2
    assert error_line() == f"skdistill distill: error: {path} has a header but no rows"


@pytest.mark.parametrize("fmt", ["npz", "parquet"])
def test_table_without_rows(tmp_path, error_line, fmt):
    path = tmp_path / f"empty.{fmt}"
    if fmt == "npz":
        np.savez(path, a=np.zeros(0), y=np.zeros(0))
    else:
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        pd.DataFrame({"a": np.zeros(0), "y": np.zeros(0)}).to_parquet(path)
    assert main(["distill", str(path), "-t", "y", "-m", "1", "-o", str(tmp_path / "o.csv")]) == 2
    assert error_line() == f"skdistill distill: error: {path} has columns but no rows"
