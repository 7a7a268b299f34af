"""Smoke test of the gallery: every examples/plot_*.py runs with --quick and writes its PNG.

Each script runs in its own interpreter (they are scripts, with module-level
code), without a display (Agg backend), in a temporary working directory.
The contract every example keeps: ``--quick`` for a tiny run, ``--output FILE``
for where the figure goes, by default the working directory; nothing is written
under ``examples/``, and a ``--quick`` run refuses to replace the committed
full-size figures in ``examples/figures/``.
"""

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))
OPTIONAL = ["gymnasium", "dask", "pandas", "pyarrow"]


def _needs(script):
    pytest.importorskip("matplotlib")
    source = script.read_text()
    for module in OPTIONAL:
        if f"import {module}" in source and importlib.util.find_spec(module) is None:
            pytest.skip(f"{script.name} needs {module}")


def _run(script, cwd, *args):
    return subprocess.run(
        [sys.executable, str(script), "--quick", *args],
        cwd=cwd,
        env=dict(os.environ, MPLBACKEND="Agg"),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _snapshot(folder):
    """Every file under ``folder`` (bytecode caches aside) with the hash of its content."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _is_png(path):
    return path.stat().st_size > 5_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gallery_is_not_empty():
    names = {script.name for script in SCRIPTS}
    assert {
        "plot_pipeline_grid_search.py",
        "plot_regression_distillation.py",
        "plot_regressors_needed.py",
        "plot_rl_distillation.py",
    } <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_example_runs_quick(script, tmp_path):
    _needs(script)
    output = tmp_path / "figure" / f"{script.stem}.png"
    result = _run(script, tmp_path, "--output", str(output))
    assert result.returncode == 0, result.stderr[-3000:]
    assert _is_png(output)
    # Nothing but the requested figure is written.
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "figure",
        f"figure/{output.name}",
    ]


def test_example_writes_to_the_working_directory_by_default(tmp_path):
    script = EXAMPLES / "plot_pipeline_grid_search.py"
    _needs(script)
    before = _snapshot(EXAMPLES)
    result = _run(script, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [p.name for p in tmp_path.iterdir()] == ["pipeline_grid_search.png"]
    assert _is_png(tmp_path / "pipeline_grid_search.png")
    assert _snapshot(EXAMPLES) == before


def test_quick_run_refuses_to_replace_the_committed_figures(tmp_path):
    # A copy of the script beside its own figures/ folder, so that a failure of
    # the guard cannot touch the committed figures.
    script = EXAMPLES / "plot_regressors_needed.py"
    _needs(script)
    copy = tmp_path / script.name
    copy.write_text(script.read_text())
    figures = tmp_path / "figures"
    figures.mkdir()
    result = _run(copy, figures)  # the default output is the working directory
    assert result.returncode == 2
    assert "would overwrite the full-size figures" in result.stderr
    assert list(figures.iterdir()) == []
    result = _run(copy, tmp_path, "--output", str(figures / "regressors_needed.png"))
    assert result.returncode == 2 and list(figures.iterdir()) == []


def test_committed_figures_are_full_size():
    for name in ["regression_distillation", "regressors_needed", "rl_distillation"]:
        assert _is_png(EXAMPLES / "figures" / f"{name}.png")
