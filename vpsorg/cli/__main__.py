"""``python -m vpsorg.cli``: the same as the ``vpsorg`` command."""

import sys

from vpsorg.cli import main

if __name__ == "__main__":
    sys.exit(main())
