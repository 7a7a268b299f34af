"""Smoke test of the gallery: every examples/plot_*.py runs with --quick and writes its PNG.

Each script runs in its own interpreter (they are scripts, with module-level
code), without a display (Agg backend), writing into a temporary directory.
The contract every example keeps: ``--quick`` for a tiny run, ``--output FILE``
(or the environment variable ``SKDISTILL_EXAMPLE_OUTPUT``) for where the figure
goes.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))
OPTIONAL = ["gymnasium", "dask", "pandas", "pyarrow"]


def test_gallery_is_not_empty():
    names = {script.name for script in SCRIPTS}
    assert {
        "plot_regression_distillation.py",
        "plot_regressors_needed.py",
        "plot_rl_distillation.py",
    } <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_example_runs_quick(script, tmp_path):
    pytest.importorskip("matplotlib")
    source = script.read_text()
    for module in OPTIONAL:
        if f"import {module}" in source and importlib.util.find_spec(module) is None:
            pytest.skip(f"{script.name} needs {module}")
    output = tmp_path / f"{script.stem}.png"
    env = dict(os.environ, MPLBACKEND="Agg", SKDISTILL_EXAMPLE_OUTPUT=str(output))
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--output", str(output)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert output.stat().st_size > 5_000
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing but the requested figure is written.
    assert sorted(p.name for p in tmp_path.iterdir()) == [output.name]
