"""vpsorg's benchmarks: the SDK against raw aiohttp, httpx and requests, on loopback.

Run them with ``python -m benchmarks`` (or ``nox -s bench``); ``--quick`` takes under two
minutes, ``--smoke`` a few seconds, ``--json FILE`` also writes the figures as JSON.
``python -m benchmarks --help`` lists every option; ``benchmarks/README.md`` says what
each case measures and how to read the table.

When ``VPSORG_NO_SPEEDUPS=1`` is set, importing this package blocks orjson and uvloop
before anything imports vpsorg, so the process runs as if the ``speedups`` extra were
not installed (case 6 runs its "without" half that way, in a subprocess).
"""

from __future__ import annotations

import os
import sys

#: The environment variable that makes a benchmark process run without the speedups.
NO_SPEEDUPS_ENV = "VPSORG_NO_SPEEDUPS"

if os.environ.get(NO_SPEEDUPS_ENV) == "1":
    # A None entry makes ``import orjson`` raise ImportError, exactly as when the
    # package is not installed; it must happen before vpsorg._json is first imported.
    for _name in ("orjson", "uvloop"):
        if _name in sys.modules and sys.modules[_name] is not None:
            raise RuntimeError(f"{_name} was imported before {NO_SPEEDUPS_ENV} could block it")
        sys.modules[_name] = None  # type: ignore[assignment]
