"""The Python blocks of README.md and of the documentation pages run as written.

Each file's blocks run in order, as one script, in a fresh interpreter whose
working directory is an empty temporary folder: a block may use the names of
an earlier block of the same file, but nothing else (no placeholder files, no
names from nowhere). README.md's ```python fences and the docs' ``.. code-block::
python`` directives are collected; ``console`` and ``bash`` blocks are not run.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The documentation pages with Python blocks; every other page must have none.
PAGES = [
    DOCS / name
    for name in [
        "getting_started.rst",
        "guarantees.rst",
        "user_guide/supervised.rst",
        "user_guide/nonlinear.rst",
        "user_guide/scale.rst",
        "user_guide/offline_rl.rst",
        "user_guide/composition.rst",
    ]
]


def markdown_blocks(text):
    """The bodies of the ```python fenced blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def rst_blocks(text):
    """The bodies of the ``.. code-block:: python`` directives of a reST text, in order."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if re.fullmatch(r"\s*\.\. code-block:: python\s*", lines[i]):
            indent = len(lines[i]) - len(lines[i].lstrip())
            body, i = [], i + 1
            while i < len(lines) and lines[i].lstrip().startswith(":"):  # options
                i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                body.append(lines[i])
                i += 1
            blocks.append(textwrap.dedent("\n".join(body)).strip() + "\n")
        else:
            i += 1
    return blocks


def run_script(source, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="error::FutureWarning")
    return subprocess.run(
        [sys.executable, "-c", source],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_markdown_blocks_are_extracted():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x\n```\n"
    assert markdown_blocks(text) == ["x = 1\n", "y = x\n"]


def test_rst_blocks_are_extracted():
    text = (
        "Text::\n\n.. code-block:: python\n   :caption: c\n\n   x = 1\n\n   y = x\n"
        "after\n\n.. code-block:: console\n\n   $ ls\n\n  .. code-block:: python\n\n"
        "     z = 2\n"
    )
    assert rst_blocks(text) == ["x = 1\n\ny = x\n", "z = 2\n"]


def test_readme_blocks_run_in_order_in_a_fresh_folder(tmp_path):
    blocks = markdown_blocks((ROOT / "README.md").read_text())
    assert blocks, "README.md has no ```python block"
    result = run_script("\n".join(blocks), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "certificate loss_gap_" in result.stdout
    assert list(tmp_path.iterdir()) == []  # the tour writes no file


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first = re.search(r"```bash\n(.*?)```", text, flags=re.DOTALL)[1].splitlines()
    assert first == [
        "pip install -e . && skdistill demo",
        'pip install -e ".[test]" && python -m pytest',
    ]
    assert text.index("```bash") < text.index("```python")
    assert "pip install skdistill" not in text.replace("`pip install skdistill[", "")


def test_ci_runs_the_readmes_test_command_verbatim():
    assert 'pip install -e ".[test]" && python -m pytest\n' in (ROOT / ".ci" / "run").read_text()


def test_no_other_docs_page_has_python_blocks():
    others = [
        page.relative_to(DOCS).as_posix()
        for page in DOCS.rglob("*.rst")
        if page not in PAGES and "_build" not in page.parts and "generated" not in page.parts
        and "auto_examples" not in page.parts and rst_blocks(page.read_text())
    ]
    assert others == [], "add these pages to PAGES, so that their blocks are run"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_docs_page_blocks_run_in_order_in_a_fresh_folder(page, tmp_path):
    blocks = rst_blocks(page.read_text())
    assert blocks, f"{page.name} has no Python block"
    result = run_script("\n".join(blocks), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
