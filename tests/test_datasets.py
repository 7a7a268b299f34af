"""The chunk readers of skdistill.datasets: CSV, Parquet and memory maps."""


import numpy as np
import pandas as pd
import pytest

from skdistill import LossMatchingDistiller
from skdistill.datasets import iter_array_chunks, iter_csv_chunks, iter_parquet_chunks


def _data(seed=0, n=2000, d=4, t=1, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d))) + loc
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t)) + loc
    return X, (Y.ravel() if t == 1 else Y)


@pytest.fixture
def frame():
    X, y = _data(8, n=1000, d=3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["w"] = np.random.default_rng(8).exponential(size=1000)
    frame["price"] = y
    return frame


def _expected(frame):
    return LossMatchingDistiller(n_synthetic=8, random_state=0).fit(
        frame[["a", "b", "c"]], frame["price"], sample_weight=frame["w"]
    )


def _consume(chunks):
    distiller = LossMatchingDistiller(n_synthetic=8, random_state=0)
    n_chunks = 0
    for chunk in chunks:
        distiller.partial_fit(*chunk)
        n_chunks += 1
    return distiller, n_chunks


def test_csv_chunks(frame, tmp_path):
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    distiller, n_chunks = _consume(
        iter_csv_chunks(path, target="price", sample_weight="w", chunk_size=300)
    )
    assert n_chunks == 4
    assert list(distiller.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_allclose(distiller.X_synthetic_, _expected(frame).X_synthetic_, rtol=1e-8)


def test_parquet_chunks_file_and_directory(frame, tmp_path):
    pytest.importorskip("pyarrow")
    frame.iloc[:600].to_parquet(tmp_path / "part-0.parquet")
    frame.iloc[600:].to_parquet(tmp_path / "part-1.parquet")
    distiller, n_chunks = _consume(
        iter_parquet_chunks(tmp_path, target="price", sample_weight="w", chunk_size=250)
    )
    assert n_chunks == 5  # 250 + 250 + 100 from the first file, 250 + 150 from the second
    np.testing.assert_allclose(distiller.X_synthetic_, _expected(frame).X_synthetic_, rtol=1e-8)
    chunks = list(iter_parquet_chunks(tmp_path / "part-1.parquet", target=["price", "a"]))
    assert list(chunks[0][0].columns) == ["b", "c", "w"] and chunks[0][1].shape == (400, 2)


def test_memmap_chunks(frame, tmp_path):
    data = np.lib.format.open_memmap(tmp_path / "train.npy", mode="w+", shape=(1000, 5))
    data[:] = frame[["a", "b", "c", "price", "w"]].to_numpy()
    data.flush()
    data = np.load(tmp_path / "train.npy", mmap_mode="r")
    distiller, n_chunks = _consume(
        iter_array_chunks(data[:, :3], data[:, 3], data[:, 4], chunk_size=128)
    )
    assert n_chunks == 8
    np.testing.assert_allclose(distiller.X_synthetic_, _expected(frame).X_synthetic_, rtol=1e-8)


def test_chunk_readers_reject_bad_arguments(frame, tmp_path):
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="not in"):
        next(iter_csv_chunks(path, target="cost"))
    with pytest.raises(ValueError, match="both as features"):
        next(iter_csv_chunks(path, target="price", features=["a", "price"]))
    with pytest.raises(ValueError, match="chunk_size"):
        next(iter_csv_chunks(path, target="price", chunk_size=0))
    with pytest.raises(ValueError, match="chunk_size, not chunksize"):
        next(iter_csv_chunks(path, target="price", chunksize=10))
    with pytest.raises(ValueError, match="same number of rows"):
        next(iter_array_chunks(np.ones((5, 2)), np.ones(4)))
    with pytest.raises(ValueError, match="No \\*.parquet"):
        next(iter_parquet_chunks(tmp_path, target="price"))


@pytest.mark.parametrize("as_list", [False, True])
def test_parquet_files_with_different_columns(frame, tmp_path, as_list):
    # These used to fail with a pandas KeyError naming only the column.
    pytest.importorskip("pyarrow")
    first, second = tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"
    frame.iloc[:500].to_parquet(first)
    frame.iloc[500:].drop(columns=["b", "w"]).to_parquet(second)
    source = [first, second] if as_list else tmp_path
    with pytest.raises(ValueError, match=r"part-1\.parquet lacks the column\(s\) \['b', 'w'\]"):
        list(iter_parquet_chunks(source, target="price", sample_weight="w"))
    with pytest.raises(ValueError, match=r"part-1\.parquet lacks the column\(s\) \['b'\]"):
        list(iter_parquet_chunks(source, target="price", features=["a", "b"]))
    # An extra column in a later file would be dropped silently with features=None.
    frame.iloc[500:].assign(d=1.0).to_parquet(second)
    with pytest.raises(ValueError, match=r"part-1\.parquet has the column\(s\) \['d'\]"):
        list(iter_parquet_chunks(source, target="price", sample_weight="w"))
    chunks = list(iter_parquet_chunks(source, target="price", features=["a", "b", "c"]))
    assert sum(len(X) for X, _ in chunks) == 1000
