"""The ``skdistill`` entry point: the top-level parser and the exit codes.

Each command module (:mod:`.demo`, :mod:`.distill`, :mod:`.rl_demo`) adds its
own subparser and sets ``func``, the function that runs it. :func:`main` turns
user mistakes into one line on stderr and exit code 2, never a traceback.

Start-up stays fast: a command's module is imported only when that command
runs (or its ``--help`` is asked for); ``skdistill --help`` and
``skdistill --version`` import none of them, so neither NumPy nor
scikit-learn is loaded by this module.
"""

import argparse
import importlib
import os
import sys

from .. import __version__
from .console import CommandError, one_line

# command name -> (module of this package, one-line help for ``skdistill --help``)
_COMMANDS = {
    "demo": ("demo", "distil scikit-learn's diabetes data and compare"),
    "distill": ("distill", "distil a CSV, Parquet or .npz table into a small weighted one"),
    "rl-demo": (
        "rl_demo",
        "CartPole: collect, distil, Fitted-Q Iteration, returns table (needs skdistill[rl])",
    ),
}


def build_parser(commands=None):
    """The ``skdistill`` parser, with one subparser per command.

    Parameters
    ----------
    commands : iterable of str, default=None
        The commands whose modules are imported to add their full subparser;
        the others get a placeholder with their one-line help only, enough for
        ``skdistill --help`` and for argparse's "invalid choice" message.
        ``None`` loads every command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    commands = set(_COMMANDS) if commands is None else set(commands)
    parser = argparse.ArgumentParser(
        prog="skdistill",
        description="Distil regression and offline-RL datasets by loss matching.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in _COMMANDS.items():
        if name in commands:
            importlib.import_module(f"{__package__}.{module}").add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def _command_in(argv):
    """The command named in ``argv`` (its first non-option word), or ``None``."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in _COMMANDS else None
    return None


def main(argv=None):
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    code : int
        0 on success, 2 for a usage error or a user mistake (reported as one
        line on stderr), 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_in(argv)
    parser = build_parser([] if command is None else [command])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage (or the version)
        return exc.code
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. `skdistill demo | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CommandError, ValueError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            exc = f"{exc.strerror}: {exc.filename}"
        print(f"skdistill {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skdistill {args.command}: interrupted", file=sys.stderr)
        return 130
