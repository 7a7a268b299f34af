"""The entry point: usage errors, ``--help``, ``--version``, ``python -m skdistill``, start-up."""

import subprocess
import sys

import pytest

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


def test_version(capsys):
    import skdistill

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"skdistill {skdistill.__version__}"


def test_the_version_has_one_source():
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text())
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "skdistill.__version__"}


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["nope"]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


_LOADED = (
    "import sys\n"
    "from skdistill._cli import main\n"
    "try:\n"
    "    main({argv!r})\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
    "('numpy', 'scipy', 'sklearn', 'pandas') or m.startswith('skdistill._cli.'))))\n"
)


def _modules_loaded(argv):
    """The heavy and command modules imported by ``main(argv)`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED.format(argv=argv)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(result.stdout.split())


def test_help_imports_no_command_module():
    loaded = _modules_loaded(["--help"])
    assert not {"skdistill._cli.distill", "skdistill._cli.tables", "skdistill._cli.demo",
                "skdistill._cli.rl_demo"} & loaded, loaded
    assert "skdistill._cli.distill" in _modules_loaded(["distill", "--help"])


def test_help_imports_neither_numpy_nor_sklearn():
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, skdistill; print('numpy' in sys.modules)"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.strip() == "False"  # the public names are imported lazily
    loaded = _modules_loaded(["--help"]) | _modules_loaded(["--version"])
    assert not {"numpy", "scipy", "sklearn", "pandas"} & loaded, loaded
