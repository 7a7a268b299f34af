"""``python -m skdistill``: the same as the ``skdistill`` console script."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
