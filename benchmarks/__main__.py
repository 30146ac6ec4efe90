"""``python -m benchmarks [--quick | --smoke] [--json FILE] [--record FILE] [--cases 1,2,...]``.

Starts the simulator in its own process, runs the six cases, prints the markdown report
to stdout (progress goes to stderr) and, with ``--json``, writes the same figures.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from benchmarks import _env, _report, _rotation, _subprocess_cases, figures
from benchmarks._measure import BUSY_MACHINE_CPU
from benchmarks._plan import PLANS
from benchmarks._server import PAGE_SIZE, SimulatorProcess, exit_on_sigterm
from benchmarks._target import Target

#: Servers in the simulator: four full pages of 50.
SERVERS = 200
ALL_CASES = (1, 2, 3, 4, 5, 6)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark vpsorg against raw aiohttp, httpx and requests on loopback.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="less work per run: under 2 minutes")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, one round (for CI)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--record",
        metavar="FILE",
        type=Path,
        help="merge the quoted figures into FILE (docs/benchmarks/figures.json)",
    )
    parser.add_argument(
        "--rounds", type=int, metavar="N", help="rounds (default: 3; 1 with --smoke)"
    )
    parser.add_argument(
        "--case",
        choices=["rate-limit"],
        help="run another benchmark instead: rate-limit (python -m benchmarks.rate_limit; "
        "its options follow)",
    )
    parser.add_argument(
        "--cases",
        default=",".join(map(str, ALL_CASES)),
        metavar="LIST",
        help="which cases to run, e.g. 1,4 (default: all)",
    )
    return parser


def _server_check(rows: list[dict[str, Any]], pid: int) -> str:
    if not rows:
        return "no HTTP case ran"
    noisy = sum(1 for r in rows if r["other_cpu"] > BUSY_MACHINE_CPU)
    busy = (
        f" WARNING: in {noisy} of {len(rows)} HTTP rows other processes used over "
        f"{BUSY_MACHINE_CPU:.0f}% of a core (marked *); their figures are noisier."
        if noisy
        else ""
    )
    bound = [f"{r['client']} at {r['concurrency']}" for r in rows if r["server_bound"]]
    busier = sum(1 for r in rows if r["client_cpu"] >= r["server_cpu"])
    text = f"the client process was the busier of the two in {busier} of {len(rows)} HTTP rows"
    if not bound:
        return text + "; no row was server-bound, so the simulator is not the bottleneck." + busy
    return (
        text + f"; SERVER-BOUND (the simulator limited the rate): {', '.join(bound)}. "
        f"Profile it with `py-spy record --pid {pid}` during those runs." + busy
    )


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmarks; return every figure (what ``--json`` writes)."""
    args = build_parser().parse_args(argv)
    plan = PLANS["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.rounds:
        plan = attrs.evolve(plan, rounds=args.rounds)
    wanted = {int(c) for c in args.cases.split(",") if c.strip()}
    started = time.monotonic()
    cases: dict[str, Any] = {
        "get_fanout": [],
        "list_pages": [],
        "blocking": [],
        "decode": [],
        "memory": [],
        "speedups": {},
    }
    phases: dict[str, float] = {}
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 1)
        mark = now

    with SimulatorProcess() as sim:
        _log(f"simulator pid {sim.pid} at {sim.base_url}; creating {SERVERS} servers")
        sim.seed(SERVERS)
        target = Target(sim.base_url, sim.token, tuple(sim.server_ids), PAGE_SIZE)
        phase("server start")
        if wanted & {1, 2, 3}:
            _log("cases 1-3: HTTP clients in rotation")
            variants = _rotation.build_variants(plan, target, wanted)
            samples = _rotation.run_rotation(variants, plan.rounds, sim.pid, _log)
            cases.update(_rotation.case_rows(plan, variants, samples, wanted))
            phase("cases 1-3")
        if 4 in wanted:
            _log("case 4: decoding")
            cases["decode"] = _subprocess_cases.run_decode(plan, target, _log)
            phase("case 4")
        if 5 in wanted:
            _log("case 5: memory and growth (one process per bulk call)")
            cases["memory"] = _subprocess_cases.run_memory(plan, target, sim.pid, _log)
            phase("case 5")
        if 6 in wanted:
            _log("case 6: with and without speedups (one process each)")
            cases["speedups"] = _subprocess_cases.run_speedups(plan, target, sim.pid, _log)
            phase("case 6")
        http_rows = cases["get_fanout"] + cases["list_pages"] + cases["blocking"]
        server = {
            "name": "vpsorg.simulator",
            "pid": sim.pid,
            "base_url": sim.base_url,
            "servers": len(sim.server_ids),
            "page_size": PAGE_SIZE,
            "command": shlex.join(["python", *sim.command[1:]]),
        }
        check = _server_check(http_rows, sim.pid)
    meta = {
        "plan": plan.name,
        "rounds": plan.rounds,
        "cases_run": sorted(wanted),
        "machine": _env.machine_info(),
        "server": server,
        "server_check": check,
        "server_bound_rows": [r["key"] for r in http_rows if r["server_bound"]],
        "seconds": round(time.monotonic() - started, 1),
        "phases": phases,
    }
    targets = _report.evaluate_targets(cases, _rotation.headline(plan))
    return {"meta": meta, "cases": cases, "targets": targets}


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:2] == ["--case", "rate-limit"] or given[:1] == ["--case=rate-limit"]:
        from benchmarks import rate_limit

        return rate_limit.main(given[2:] if given[0] == "--case" else given[1:])
    exit_on_sigterm()
    result = run(argv)
    args = build_parser().parse_args(argv)
    print(_report.render(result), flush=True)
    _log(f"done in {result['meta']['seconds']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.record:
        record = figures.merge(figures.load(args.record), result)
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        args.record.write_text(text, encoding="utf-8")
        _log(f"recorded in {args.record}; now run python -m benchmarks.figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
