"""Instructions per call, layer by layer, under callgrind: ``python -m benchmarks.instructions``.

The load-independent form of ``benchmarks.layers`` and ``benchmarks.list_layers``: each
layer (each step of a listing) runs in its own process under
``valgrind --tool=callgrind --collect-atstart=no``, and only its measured part is counted
(see :mod:`benchmarks._cg`), so neither the set-up nor the warm-up nor the simulator (a
child process, not traced) is in the figures. For each layer it reports:

- instructions (callgrind's ``Ir``) per call or page, and what the layer adds;
- objects allocated per call: calls to CPython's object allocator
  (``_PyObject_Malloc`` and ``_PyObject_Calloc``, which every Python object and most
  C-extension objects come from);
- garbage collections per 1,000 calls (from :data:`gc.callbacks`), and the instructions
  the collector took per call (``gc_collect_main``, its callees included);
- with ``--tracemalloc``, a second run of each layer outside valgrind under tracemalloc:
  the peak of memory allocated during the measured part, per call in flight.

Then ``--candidates`` counts, in tight loops under callgrind, what single steps of the
SDK's path cost (building a URL, the transport's checks, ``__post_init__``, a page's
decoding, the pagination's sets...), each against the cheaper way a prototype does it,
so each candidate of issue 23 has its instructions per call. Under callgrind the client
runs some 50 times slower than the simulator, so more answers arrive per wake-up of the
event loop than at full speed; that is the same for every layer, and the differences
between layers are what the table is for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _cg
from benchmarks._server import PAGE_SIZE, SimulatorProcess, exit_on_sigterm
from benchmarks._target import Target

__all__ = ["main"]

#: The C functions each profile is asked about.
ALLOCATORS = ("_PyObject_Malloc", "_PyObject_Calloc")
COLLECTOR = "gc_collect_main"


def _child(argv: Sequence[str]) -> int:
    """Run one layer (``get NAME`` or ``list STEP``) or the candidates; print JSON."""
    kind, name, raw_target, size, concurrency = argv
    t = json.loads(raw_target)
    target = Target(t["base_url"], t["token"], tuple(t["server_ids"]), t["page_size"])
    if kind == "candidates":
        from benchmarks import _candidates

        _candidates.run(target, int(size))
        print(json.dumps({}))
        return 0
    if kind == "get":
        from benchmarks import layers

        layers._run_layer(name, target, target.ids(int(size)), int(concurrency))
    else:
        from benchmarks import list_layers

        list_layers._run_step(name, target, int(size), int(concurrency))
    print(json.dumps({"collections": _cg.last.collections, "peak_bytes": _cg.last.peak_bytes}))
    return 0


def _run_child(
    args: list[str], out: Path | None, *, tracemalloc: bool = False, timeout: float = 3600
) -> dict[str, Any]:
    env = dict(os.environ)
    command = [sys.executable, "-m", "benchmarks.instructions", "--child", *args]
    if out is not None:
        env[_cg.ENV] = "1"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            f"--callgrind-out-file={out}",
            *command,
        ]
    if tracemalloc:
        env[_cg.TRACEMALLOC_ENV] = "1"
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _layers_table(
    kind: str,
    names: Sequence[tuple[str, str]],
    target_json: str,
    size: int,
    units: int,
    concurrency: int,
    work: Path,
    tracemalloc: bool,
    unit: str,
) -> list[str]:
    rows = []
    previous: float | None = None
    for name, what in names:
        print(f"{kind} {name} under callgrind ...", file=sys.stderr, flush=True)
        out = work / f"{kind}-{name}.out"
        seen = _run_child([kind, name, target_json, str(size), str(concurrency)], out)
        profile = _cg.read_profile(out, (*ALLOCATORS, COLLECTOR))
        per = profile.instructions / units
        allocations = sum(profile.calls[a] for a in ALLOCATORS) / units
        gc_per = profile.inclusive[COLLECTOR] / units
        added = "" if previous is None else f"{per - previous:+,.0f}"
        peak = ""
        if tracemalloc:
            traced = _run_child(
                [kind, name, target_json, str(size), str(concurrency)], None, tracemalloc=True
            )
            peak = f"{traced['peak_bytes'] / concurrency / 1024:.1f}"
        rows.append(
            f"| {what} | {per:,.0f} | {added} | {allocations:,.0f} "
            f"| {seen['collections'] / units * 1000:.1f} | {gc_per:,.0f} | {peak} |"
        )
        previous = per
    header = (
        f"| layer | instructions per {unit} | added | objects allocated per {unit} "
        f"| GC runs per 1,000 {unit}s | GC instructions per {unit} "
        f"| tracemalloc peak KB per {unit} in flight |"
    )
    return [header, "|---|---|---|---|---|---|---|", *rows]


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--child"]:
        return _child(args_list[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--calls", type=int, default=1_000, help="GET calls per layer")
    parser.add_argument("--listings", type=int, default=50, help="full listings per step")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--only",
        default="get,list,candidates",
        help="which tables: get, list, candidates (default: all)",
    )
    parser.add_argument("--candidate-loops", type=int, default=2_000, metavar="N")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also run each layer under tracemalloc"
    )
    parser.add_argument("--keep", type=Path, help="keep the callgrind files in this folder")
    args = parser.parse_args(args_list)
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    exit_on_sigterm()
    from benchmarks import layers, list_layers

    only = {part.strip() for part in args.only.split(",")}
    work = args.keep or Path(tempfile.mkdtemp(prefix="vpsorg-cg-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with SimulatorProcess() as sim:
            sim.seed(200)
            target = Target(sim.base_url, sim.token, tuple(sim.server_ids), PAGE_SIZE)
            target_json = json.dumps(
                {
                    "base_url": target.base_url,
                    "token": target.token,
                    "server_ids": list(target.server_ids),
                    "page_size": target.page_size,
                }
            )
            c = args.concurrency
            if "get" in only:
                print(
                    f"# Instructions per GET, layer by layer ({args.calls:,} calls, "
                    f"concurrency {c}, callgrind)\n"
                )
                lines = _layers_table(
                    "get",
                    layers.LAYERS,
                    target_json,
                    args.calls,
                    args.calls,
                    c,
                    work,
                    args.tracemalloc,
                    "call",
                )
                print("\n".join(lines) + "\n", flush=True)
            if "list" in only:
                pages = args.listings * 4  # 200 servers in pages of 50
                print(
                    f"# Instructions per list page, step by step ({args.listings:,} listings "
                    f"of 4 pages of {PAGE_SIZE}, concurrency {c}, callgrind)\n"
                )
                lines = _layers_table(
                    "list",
                    list_layers.STEPS,
                    target_json,
                    args.listings,
                    pages,
                    c,
                    work,
                    args.tracemalloc,
                    "page",
                )
                print("\n".join(lines) + "\n", flush=True)
            if "candidates" in only:
                from benchmarks import _candidates

                print("candidates under callgrind ...", file=sys.stderr, flush=True)
                prefix = work / "candidates.out"
                n = args.candidate_loops
                _run_child(["candidates", "-", target_json, str(n), str(c)], prefix)
                print(_candidates.render(_cg.read_dumps(prefix), n), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
