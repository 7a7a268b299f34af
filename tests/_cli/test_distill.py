"""``skdistill distill``: round trips through files, streaming, options, one-line mistakes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from skdistill import LossMatchingDistiller
from skdistill._cli import main


def _ols(frame, features, targets, sample_weight=None):
    model = LinearRegression().fit(frame[features], frame[targets], sample_weight=sample_weight)
    return model.coef_, model.intercept_


def _assert_same_ols(a, b):
    np.testing.assert_allclose(a[0], b[0], rtol=1e-7, atol=1e-9 * np.abs(a[0]).max())
    np.testing.assert_allclose(a[1], b[1], rtol=1e-7)


def test_round_trip_csv(diabetes_csv, tmp_path, capsys):
    path, frame = diabetes_csv
    out = tmp_path / "small.csv"
    argv = ["distill", str(path), "--target", "target", "--n-synthetic", "20", "-o", str(out)]
    code = main(argv)
    assert code == 0
    stdout = capsys.readouterr().out
    assert "certified loss gap" in stdout
    gap = float(stdout.split("certified loss gap: ")[1].split()[0])
    assert gap < 1e-10
    small = pd.read_csv(out)
    assert list(small.columns) == list(frame.columns) + ["sample_weight"]
    assert len(small) == 20
    np.testing.assert_allclose(small["sample_weight"], len(frame) / 20)
    features = list(frame.columns[:-1])
    _assert_same_ols(_ols(small, features, "target"), _ols(frame, features, "target"))


def test_multi_target_keeps_column_order(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 5)), columns=["a", "y1", "b", "y2", "c"])
    frame["y1"] += frame["a"] - 2 * frame["c"]
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    argv = ["distill", str(path), "-t", "y2", "-t", "y1", "-m", "10", "-o", str(out)]
    assert main(argv) == 0
    small = pd.read_csv(out)
    assert list(small.columns) == ["a", "y1", "b", "y2", "c", "sample_weight"]
    _assert_same_ols(
        _ols(small, ["a", "b", "c"], ["y1", "y2"]), _ols(frame, ["a", "b", "c"], ["y1", "y2"])
    )


def test_csv_is_streamed_through_partial_fit(diabetes_csv, tmp_path, monkeypatch):
    path, frame = diabetes_csv
    calls = []
    original = LossMatchingDistiller.partial_fit

    def spy(self, X, y, sample_weight=None):
        calls.append(X.shape[0])
        return original(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(LossMatchingDistiller, "partial_fit", spy)
    streamed = tmp_path / "streamed.csv"
    argv = ["distill", str(path), "-t", "target", "-m", "15", "--solver", "lbfgs"]
    assert main(argv + ["--chunk-size", "100", "-o", str(streamed)]) == 0
    assert calls == [100, 100, 100, 100, 42]
    # Reading the whole file at once (.npz) gives the same synthetic set: the
    # intermediate refreshes do not change the final, fully optimised one.
    npz = tmp_path / "whole.npz"
    np.savez(npz, **{name: frame[name].to_numpy() for name in frame.columns})
    whole = tmp_path / "whole.csv"
    argv = ["distill", str(npz), "-t", "target", "-m", "15", "--solver", "lbfgs"]
    assert main(argv + ["-o", str(whole)]) == 0
    assert len(calls) == 5
    np.testing.assert_allclose(pd.read_csv(streamed), pd.read_csv(whole), rtol=1e-6, atol=1e-9)


def test_npz_round_trip_keeps_2d_blocks(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    path, out = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(path, X=X, y=y)
    assert main(["distill", str(path), "-t", "y", "-m", "30", "-o", str(out)]) == 0
    with np.load(out) as small:
        assert small.files == ["X", "y", "sample_weight"]
        assert small["X"].shape == (30, 10) and small["y"].shape == (30,)
        model = LinearRegression().fit(small["X"], small["y"])
    np.testing.assert_allclose(model.coef_, LinearRegression().fit(X, y).coef_, rtol=1e-7)


def test_parquet_round_trip(diabetes_csv, tmp_path):
    pytest.importorskip("pyarrow")
    _, frame = diabetes_csv
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(source)
    argv = ["distill", str(source), "-t", "target", "-m", "25", "--chunk-size", "200"]
    assert main(argv + ["-o", str(out)]) == 0
    small = pd.read_parquet(out)
    assert list(small.columns) == list(frame.columns) + ["sample_weight"] and len(small) == 25
    features = list(frame.columns[:-1])
    _assert_same_ols(_ols(small, features, "target"), _ols(frame, features, "target"))


def test_sample_weight_column(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["x1", "x2", "y"])
    frame["w"] = rng.uniform(0.5, 2.0, size=200)
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    argv = ["distill", str(path), "-t", "y", "--sample-weight", "w", "-m", "8"]
    assert main(argv + ["-o", str(out)]) == 0
    small = pd.read_csv(out)
    assert list(small.columns) == ["x1", "x2", "y", "sample_weight"]
    assert small["sample_weight"].sum() == pytest.approx(frame["w"].sum())
    _assert_same_ols(
        _ols(small, ["x1", "x2"], "y"), _ols(frame, ["x1", "x2"], "y", sample_weight=frame["w"])
    )


def test_one_hot(tmp_path, error_line):
    rng = np.random.default_rng(2)
    cities = rng.choice(["Lyon", "Paris", "Nice"], 120)
    frame = pd.DataFrame({"x": rng.normal(size=120), "city": cities})
    frame["y"] = frame["x"] + (frame["city"] == "Paris") * 3 + rng.normal(size=120)
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    assert main(["distill", str(path), "-t", "y", "-m", "10", "-o", str(out)]) == 2
    line = error_line()
    assert "not numeric" in line and "'city'" in line and "--one-hot" in line
    assert main(["distill", str(path), "-t", "y", "-m", "10", "--one-hot", "-o", str(out)]) == 0
    small = pd.read_csv(out)
    expected = ["x", "city_Lyon", "city_Nice", "city_Paris", "y", "sample_weight"]
    assert list(small.columns) == expected
    encoded = pd.get_dummies(frame, columns=["city"], dtype=float)
    features = ["x", "city_Lyon", "city_Nice"]  # one indicator dropped: the rest is collinear
    _assert_same_ols(_ols(small, features, "y"), _ols(encoded, features, "y"))


def test_verbose_progress_goes_to_stderr(diabetes_csv, tmp_path, capsys):
    path, _ = diabetes_csv
    argv = ["distill", str(path), "-t", "target", "-m", "20", "-o", str(tmp_path / "o.csv")]
    assert main(argv) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert main(argv + ["--verbose", "--solver", "lbfgs", "--chunk-size", "200"]) == 0
    loud = capsys.readouterr()
    assert "read 200 rows" in loud.err and "read 442 rows" in loud.err
    assert "L-BFGS" in loud.err and "L-BFGS" not in loud.out


def test_kernel_is_passed_through_and_streamed(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "y"])
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    seen = []
    original = LossMatchingDistiller.partial_fit

    def spy(self, X, y, sample_weight=None):
        seen.append((self.get_params()["kernel"], len(X)))
        return original(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(LossMatchingDistiller, "partial_fit", spy)
    argv = ["distill", str(path), "-t", "y", "-m", "10", "--kernel", "rbf", "--chunk-size", "50"]
    assert main(argv + ["-o", str(out)]) == 0
    assert seen == [("rbf", 50), ("rbf", 50), ("rbf", 20)]
    assert list(pd.read_csv(out).columns) == ["a", "b", "y", "sample_weight"]
    stdout = capsys.readouterr().out
    assert "kernel rbf" in stdout and "linear models alone" in stdout


def test_reweight_writes_input_rows_whose_weights_make_ols_exact(diabetes_csv, tmp_path):
    path, frame = diabetes_csv
    out = tmp_path / "small.csv"
    argv = ["distill", str(path), "-t", "target", "-m", "300", "--solver", "reweight"]
    assert main(argv + ["-o", str(out)]) == 0
    small = pd.read_csv(out)
    rows = {tuple(np.round(r, 10)) for r in frame.to_numpy()}
    assert all(tuple(np.round(r, 10)) in rows for r in small.iloc[:, :-1].to_numpy())
    assert small["sample_weight"].min() >= 0
    features = list(frame.columns[:-1])
    _assert_same_ols(
        _ols(small, features, "target", small["sample_weight"]), _ols(frame, features, "target")
    )


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["-t", "price", "-m", "20"], ["no column 'price'", "'target'"]),
        (["-t", "target", "-m", "20", "--sample-weight", "wt"], ["no column 'wt'"]),
        (["-t", "target", "-t", "target", "-m", "20"], ["more than once"]),
        (["-t", "target", "-m", "1000"], ["--n-synthetic 1000", "442"]),
        (["-t", "target", "-m", "0"], ["at least 1"]),
        (["-t", "target", "-m", "20", "-o", "out.xlsx"], ["format", "out.xlsx"]),
        (["-t", "target", "-m", "20", "-o", "no/such/dir/out.csv"], ["does not exist"]),
    ],
)
def test_user_mistakes_are_one_line(
    diabetes_csv, tmp_path, monkeypatch, error_line, argv, expected
):
    monkeypatch.chdir(tmp_path)
    path, _ = diabetes_csv
    output = [] if "-o" in argv else ["-o", "out.csv"]
    assert main(["distill", str(path), *argv, *output]) == 2
    line = error_line()
    assert line.startswith("skdistill distill: error: ")
    for text in expected:
        assert text in line


def test_missing_file(tmp_path, error_line):
    missing = tmp_path / "nope.csv"
    assert main(["distill", str(missing), "-t", "y", "-m", "5", "-o", str(tmp_path / "o.csv")]) == 2
    line = error_line()
    assert "not found" in line and "nope.csv" in line


def _small_table(tmp_path, name="in.csv"):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "y"])
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _no_temporary_files(directory):
    return [p.name for p in directory.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_output_linked_to_the_input_is_refused(tmp_path, error_line, link):
    path = _small_table(tmp_path)
    before = path.read_bytes()
    alias = tmp_path / "alias.csv"
    if link == "symlink":
        alias.symlink_to(path)
    else:
        alias.hardlink_to(path)
    assert main(["distill", str(path), "-t", "y", "-m", "5", "-o", str(alias)]) == 2
    line = error_line()
    assert f"the output file {alias} is the input file {path}" in line
    assert "through a link" in line
    assert path.read_bytes() == before


def test_output_that_is_a_directory_is_refused(tmp_path, error_line):
    path = _small_table(tmp_path)
    (tmp_path / "out.csv").mkdir()
    assert main(["distill", str(path), "-t", "y", "-m", "5", "-o", str(tmp_path / "out.csv")]) == 2
    assert "is a directory, not a file" in error_line()


def test_normal_run_leaves_no_temporary_file(tmp_path):
    path = _small_table(tmp_path)
    for out in ("out.csv", "out.npz", "out.NPZ"):
        assert main(["distill", str(path), "-t", "y", "-m", "5", "-o", str(tmp_path / out)]) == 0
        assert (tmp_path / out).stat().st_size > 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["in.csv", "out.NPZ", "out.csv", "out.npz"]
    with np.load(tmp_path / "out.NPZ") as data:  # no ".npz" appended to the name
        assert data.files == ["a", "b", "y", "sample_weight"]


def test_symlinked_output_is_replaced_behind_the_link(tmp_path):
    path = _small_table(tmp_path)
    target = tmp_path / "runs" / "latest.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    assert main(["distill", str(path), "-t", "y", "-m", "5", "-o", str(link)]) == 0
    assert link.is_symlink() and len(pd.read_csv(target)) == 5
    assert _no_temporary_files(tmp_path) and _no_temporary_files(target.parent)


@pytest.mark.parametrize(
    "failure, code", [(OSError(28, "No space left on device"), 2), (KeyboardInterrupt(), 130)]
)
def test_failing_write_keeps_the_previous_output(tmp_path, monkeypatch, capsys, failure, code):
    from skdistill._cli import tables

    path = _small_table(tmp_path)
    out = tmp_path / "out.csv"
    out.write_text("previous,output\n1,2\n")
    before = out.read_bytes()
    written = []

    def write_part_then_fail(target, names, values):
        with open(target, "w") as handle:
            handle.write(",".join(names) + "\n1.0,")  # a truncated table
        written.append(target)
        raise failure

    monkeypatch.setattr(tables, "_write_csv", write_part_then_fail)
    assert main(["distill", str(path), "-t", "y", "-m", "5", "-o", str(out)]) == code
    # It wrote to a temporary file next to the output, with the output's suffix.
    temporary = Path(written[0])
    assert temporary.parent == tmp_path and temporary.name.startswith(".out.csv.")
    assert temporary.suffix == ".csv" and temporary != out
    assert out.read_bytes() == before
    assert _no_temporary_files(tmp_path)
    err = capsys.readouterr().err
    assert ("No space left on device" if code == 2 else "interrupted") in err


def test_stream_with_a_chunk_of_zero_weights(tmp_path, capsys):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(90, 3)), columns=["a", "b", "y"])
    frame["w"] = np.r_[np.zeros(30), rng.uniform(0.5, 2.0, 60)]
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    argv = ["distill", str(path), "-t", "y", "-m", "6", "--sample-weight", "w"]
    assert main(argv + ["--chunk-size", "30", "-o", str(out)]) == 0, capsys.readouterr().err
    small = pd.read_csv(out)
    np.testing.assert_allclose(small["sample_weight"].sum(), frame["w"].sum(), rtol=1e-12)
    _assert_same_ols(
        _ols(small, ["a", "b"], "y", small["sample_weight"]),
        _ols(frame, ["a", "b"], "y", frame["w"]),
    )


def test_read_only_output_is_not_replaced(tmp_path, monkeypatch, error_line):
    # Writing through a rename would replace a read-only file that open() refused.
    import os

    path = _small_table(tmp_path)
    out = tmp_path / "out.csv"
    out.write_text("keep\n")
    out.chmod(0o444)
    if os.access(out, os.W_OK):  # root may write anything: pretend to be another user
        monkeypatch.setattr(os, "access", lambda p, mode: not (p == str(out) and mode & 2))
    assert main(["distill", str(path), "-t", "y", "-m", "5", "-o", str(out)]) == 2
    assert f"the output file {out} is read-only" in error_line()
    assert out.read_text() == "keep\n"
