"""The entry point: usage errors, ``--help`` and ``python -m skdistill``."""

import subprocess
import sys

from skdistill._cli import main


def test_usage_errors_return_exit_code(capsys):
    assert main(["distill", "x.csv", "-m", "5", "-o", "o.csv"]) == 2
    assert "--target" in capsys.readouterr().err
    assert main(["distill", "--help"]) == 0


def test_every_command_has_a_subparser(capsys):
    assert main(["--help"]) == 0
    usage = capsys.readouterr().out
    assert "{demo,distill,rl-demo}" in usage


def test_python_dash_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skdistill", "distill", str(tmp_path / "nope.csv"), "-t", "y",
         "-m", "5", "-o", str(tmp_path / "o.csv")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    expected = f"skdistill distill: error: input file not found: {tmp_path / 'nope.csv'}"
    assert result.stderr.strip() == expected
