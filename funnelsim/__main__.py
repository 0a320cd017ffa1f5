"""``python -m funnelsim``: the same command line as ``funnelsim`` (see :mod:`funnelsim.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
