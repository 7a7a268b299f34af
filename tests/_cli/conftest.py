"""Fixtures shared by the command-line tests."""

import pytest
from sklearn.datasets import load_diabetes


@pytest.fixture
def diabetes_csv(tmp_path):
    """The diabetes data as a CSV file, and as the DataFrame written."""
    frame = load_diabetes(as_frame=True).frame
    path = tmp_path / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.fixture
def error_line(capsys):
    """A function returning the one line on stderr, after checking there is no traceback."""

    def read():
        _, err = capsys.readouterr()
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        return lines[0]

    return read


@pytest.fixture
def distill_error(tmp_path, error_line):
    """A function distilling a CSV file of the given content; returns its one error line."""
    from skdistill._cli import main

    def run(content):
        path = tmp_path / "bad.csv"
        path.write_text(content)
        output = str(tmp_path / "o.csv")
        assert main(["distill", str(path), "-t", "y", "-m", "1", "-o", output]) == 2
        return error_line()

    return run
