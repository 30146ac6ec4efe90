"""The benchmark process's environment: JSON library, event loop, and the machine.

The baselines decode JSON with the library vpsorg itself picks (orjson when importable,
else the standard library), so a ratio never measures two JSON parsers against each
other. Async clients run on uvloop when it is importable (a dependency of vpsorg on Linux
and macOS), unless ``VPSORG_BENCH_LOOP=asyncio``.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from collections.abc import Callable, Coroutine
from importlib import metadata
from typing import Any, TypeVar

from benchmarks import NO_SPEEDUPS_ENV

__all__ = ["json_loads", "machine_info", "new_event_loop", "run_async", "speedups_enabled"]

T = TypeVar("T")

try:
    import orjson

    json_loads: Callable[[bytes], Any] = orjson.loads
    JSON_LIBRARY = f"orjson {orjson.__version__}"
except ImportError:
    import json

    json_loads = json.loads
    JSON_LIBRARY = "json (standard library)"

#: Set to ``asyncio`` to run every async client on the standard library's loop even
#: where uvloop is installed (child processes inherit it): the condition of issue 23's
#: side-by-side run. Any other value, or none: uvloop when importable.
LOOP_ENV = "VPSORG_BENCH_LOOP"

new_event_loop: Callable[[], asyncio.AbstractEventLoop]
try:
    if os.environ.get(LOOP_ENV) == "asyncio":
        raise ImportError(f"{LOOP_ENV}=asyncio")
    import uvloop

    new_event_loop = uvloop.new_event_loop
    EVENT_LOOP = f"uvloop {metadata.version('uvloop')}"
except ImportError:
    new_event_loop = asyncio.new_event_loop
    EVENT_LOOP = "asyncio (standard library)"


def speedups_enabled() -> bool:
    """False in a process started with ``VPSORG_NO_SPEEDUPS=1``."""
    return os.environ.get(NO_SPEEDUPS_ENV) != "1"


def run_async(coro: Coroutine[Any, Any, T], *, timeout: float) -> T:
    """Run a coroutine on a fresh event loop (uvloop when available), at most ``timeout`` s."""
    loop = new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(coro, timeout))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: cores, Python, libraries, event loop."""
    import psutil

    import vpsorg

    return {
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "cpu": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "vpsorg": vpsorg.__version__,
        "aiohttp": _version("aiohttp"),
        "httpx": _version("httpx"),
        "requests": _version("requests"),
        "cattrs": _version("cattrs"),
        "event_loop": EVENT_LOOP,
        "json": JSON_LIBRARY,
        "python_executable": sys.executable,
    }
