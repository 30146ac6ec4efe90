"""Counting instructions with callgrind: the measured section, and reading the counts.

Wall-clock and CPU time per call move with whatever else the machine runs; the number
of instructions a call executes does not. ``python -m benchmarks.instructions`` runs a
workload under ``valgrind --tool=callgrind --collect-atstart=no`` and the workload wraps
its measured part in :func:`section`, which switches callgrind's collection on and off
through its client requests (a few lines of C from ``valgrind/callgrind.h``, compiled
once with the system's C compiler and loaded with :mod:`ctypes`). So the counts hold the
measured calls alone: not the imports, the set-up, the warm-up, nor the simulator (a
child process, not traced).

Outside valgrind (or without a C compiler and valgrind's headers) :func:`section` does
nothing, so the layers diagnostics run unchanged.

:func:`read_profile` sums a callgrind output file: every instruction (``Ir``) collected,
how many times given C functions were called (``_PyObject_Malloc``: objects allocated)
and the instructions spent inside them, callees included (``gc_collect_main``: the
garbage collector).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

__all__ = [
    "ENV",
    "TRACEMALLOC_ENV",
    "Profile",
    "Tally",
    "labelled",
    "last",
    "read_dumps",
    "read_profile",
    "section",
]

#: Set (to "1") by ``benchmarks.instructions`` in the processes it runs under callgrind.
ENV = "VPSORG_BENCH_CALLGRIND"
#: Set (to "1") by ``benchmarks.instructions`` where :func:`section` runs tracemalloc.
TRACEMALLOC_ENV = "VPSORG_BENCH_TRACEMALLOC"

_SOURCE = """
#include <valgrind/callgrind.h>
void vpsorg_bench_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void vpsorg_bench_zero(void) { CALLGRIND_ZERO_STATS; }
void vpsorg_bench_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""

_lib: ctypes.CDLL | None = None
_loaded = False


def _load() -> ctypes.CDLL | None:
    """The compiled client request, or None (not under callgrind, or no compiler)."""
    global _lib, _loaded
    if _loaded:
        return _lib
    _loaded = True
    if os.environ.get(ENV) != "1":
        return None
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("counting instructions needs a C compiler (cc) and valgrind.h")
    digest = hashlib.sha256(_SOURCE.encode()).hexdigest()[:12]
    built = Path(tempfile.gettempdir()) / f"vpsorg-bench-cg-{digest}.so"
    if not built.exists():
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "cg.c"
            source.write_text(_SOURCE, encoding="utf-8")
            partial = Path(tmp) / "cg.so"
            subprocess.run(
                [compiler, "-O1", "-shared", "-fPIC", "-o", str(partial), str(source)],
                check=True,
                timeout=60,
            )
            shutil.move(str(partial), built)
    _lib = ctypes.CDLL(str(built))
    return _lib


@attrs.define
class Tally:
    """What the last :func:`section` saw besides instructions."""

    #: garbage collections that ran inside it (from :data:`gc.callbacks`)
    collections: int = 0
    #: tracemalloc's peak inside it, in bytes (with ``VPSORG_BENCH_TRACEMALLOC=1``)
    peak_bytes: int = 0


#: Filled by each :func:`section`.
last = Tally()


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        last.collections += 1


@contextlib.contextmanager
def section() -> Iterator[None]:
    """Collect instructions only inside this block (under ``benchmarks.instructions``),
    count the garbage collections in it and, with ``VPSORG_BENCH_TRACEMALLOC=1``, the
    peak of memory allocated in it (into :data:`last`)."""
    lib = _load()
    trace = os.environ.get(TRACEMALLOC_ENV) == "1"
    last.collections, last.peak_bytes = 0, 0
    gc.callbacks.append(_on_gc)
    if trace:
        tracemalloc.start()
    if lib is not None:
        lib.vpsorg_bench_toggle()
    try:
        yield
    finally:
        if lib is not None:
            lib.vpsorg_bench_toggle()
        if trace:
            last.peak_bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        gc.callbacks.remove(_on_gc)


@contextlib.contextmanager
def labelled(label: str) -> Iterator[None]:
    """Like :func:`section`, but the block's counts go to a dump file of their own whose
    ``desc:`` line names ``label`` (see :func:`read_dumps`)."""
    lib = _load()
    if lib is None:
        yield
        return
    lib.vpsorg_bench_toggle()
    lib.vpsorg_bench_zero()
    try:
        yield
    finally:
        lib.vpsorg_bench_dump(label.encode())
        lib.vpsorg_bench_toggle()


def read_dumps(prefix: Path) -> dict[str, int]:
    """``label -> Ir`` of every dump written by :func:`labelled` (files ``prefix.N``)."""
    out: dict[str, int] = {}
    for path in sorted(prefix.parent.glob(prefix.name + ".*")):
        label, total = "", 0
        with path.open(encoding="utf-8", errors="replace") as dump:
            for line in dump:
                if line.startswith("desc: Trigger: Client Request: "):
                    label = line.split(": ", 3)[3].strip()
                elif line.startswith(("summary:", "totals:")):
                    total = max(total, int(line.split()[1]))
        if label:
            out[label] = total
    return out


@attrs.frozen
class Profile:
    """What one callgrind output file holds."""

    instructions: int
    #: function name -> times called
    calls: dict[str, int]
    #: function name -> instructions inside its calls, callees included
    inclusive: dict[str, int]


_NAME = re.compile(r"\((\d+)\)(?: (.*))?")


def read_profile(path: Path, functions: Iterable[str]) -> Profile:
    """The total ``Ir`` of a callgrind output file, and calls and inclusive ``Ir`` of
    ``functions`` (calls from a function to itself are not counted twice)."""
    wanted = set(functions)
    names: dict[str, str] = {}
    calls = dict.fromkeys(wanted, 0)
    inclusive = dict.fromkeys(wanted, 0)
    total = 0
    current = callee = ""
    pending_calls = 0
    with path.open(encoding="utf-8", errors="replace") as out:
        for line in out:
            if pending_calls:
                # The line after "calls=" is the call's position and inclusive cost.
                parts = line.split()
                if callee in wanted and callee != current:
                    calls[callee] += pending_calls
                    inclusive[callee] += int(parts[1]) if len(parts) > 1 else 0
                pending_calls = 0
                continue
            if line.startswith(("fn=", "cfn=", "cfi=", "cfl=")):
                key, _, rest = line.rstrip("\n").partition("=")
                if key in ("cfi", "cfl"):
                    continue
                match = _NAME.match(rest)
                name = rest
                if match:
                    ident, given = match.groups()
                    if given:
                        names[ident] = given
                    name = names.get(ident, given or ident)
                if key == "fn":
                    current = name
                else:
                    callee = name
            elif line.startswith("calls="):
                pending_calls = int(line[6:].split()[0])
            elif line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    return Profile(total, calls, inclusive)
