"""The ``skdistill`` command line.

``skdistill distill`` distils a table file (CSV, Parquet or ``.npz``) into a
smaller one, ``skdistill demo`` and ``skdistill rl-demo`` show what distillation
does on bundled data and on CartPole. User mistakes are reported as one line on
stderr with exit code 2, never as a traceback.

The modules: :mod:`.main` (the entry point), one module per command
(:mod:`.distill`, :mod:`.demo`, :mod:`.rl_demo`), and below them
:mod:`.columns` (table columns to arrays), :mod:`.tables` (files on disk) and
:mod:`.console` (errors and progress lines).
"""

from .main import main

__all__ = ["main"]
