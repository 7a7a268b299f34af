"""What the commands say besides their results: one-line errors and progress on stderr.

A :class:`CommandError` is a user mistake: :func:`skdistill._cli.main` prints it
as one line on stderr and exits with code 2. :class:`Progress` prints the
timestamped ``--verbose`` lines and the warnings of the estimators, also on
stderr, so that stdout holds only the results.
"""

import contextlib
import sys
import time
import warnings


class CommandError(Exception):
    """A user mistake reported as one line and exit code 2."""


def one_line(message):
    """``message`` as a string with its whitespace, newlines included, collapsed."""
    return " ".join(str(message).split())


class Progress:
    """Timestamped progress lines on stderr when ``--verbose`` is given."""

    def __init__(self, command, verbose):
        self.command = command
        self.verbose = verbose
        self.start = time.perf_counter()

    def __call__(self, message):
        if self.verbose:
            elapsed = time.perf_counter() - self.start
            print(f"skdistill {self.command}: [{elapsed:7.1f}s] {message}", file=sys.stderr)

    def warn(self, message):
        print(f"skdistill {self.command}: warning: {one_line(message)}", file=sys.stderr)


@contextlib.contextmanager
def ignoring_user_warnings():
    """Silence the estimators' ``UserWarning`` s, for the demos' tables."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield
