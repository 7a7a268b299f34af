"""``skdistill rl-demo``: a tiny run, and the message without gymnasium."""

import sys

import pytest

from skdistill._cli import main


def test_rl_demo_without_gymnasium(monkeypatch, error_line):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    assert main(["rl-demo"]) == 2
    line = error_line()
    assert "gymnasium" in line and "pip install 'skdistill[rl]'" in line


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--n-seeds", "0"], "--n-seeds must be at least 1"),
        (["--n-transitions", "50", "--sizes", "60"], "--sizes must lie between 1 and"),
    ],
)
def test_rl_demo_bad_arguments(argv, expected, error_line):
    pytest.importorskip("gymnasium")
    assert main(["rl-demo", *argv]) == 2
    line = error_line()
    assert line.startswith("skdistill rl-demo: error: ") and expected in line


def test_rl_demo_tiny(capsys):
    pytest.importorskip("gymnasium")
    argv = ["rl-demo", "--n-transitions", "600", "--sizes", "60", "--n-seeds", "2",
            "--episodes", "2", "--n-iterations", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    row = next(line for line in out if line.split()[:1] == ["60"])
    numbers = [float(tok) for tok in row.replace("±", " ").split()]
    assert len(numbers) == 6 and all(1 <= v <= 500 for v in numbers[1::2] + [numbers[-1]])
