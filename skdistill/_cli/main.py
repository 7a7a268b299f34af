"""The ``skdistill`` entry point: the top-level parser and the exit codes.

Each command module (:mod:`.demo`, :mod:`.distill`, :mod:`.rl_demo`) adds its
own subparser and sets ``func``, the function that runs it. :func:`main` turns
user mistakes into one line on stderr and exit code 2, never a traceback.
"""

import argparse
import os
import sys

from . import demo, distill, rl_demo
from .console import CommandError, one_line


def build_parser():
    """The ``skdistill`` parser, with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="skdistill",
        description="Distil regression and offline-RL datasets by loss matching.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in (demo, distill, rl_demo):
        command.add_parser(subparsers)
    return parser


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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the error
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
