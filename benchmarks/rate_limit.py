"""The rate-limit targets of issue 20: ``python -m benchmarks.rate_limit``.

Also ``python -m benchmarks --case rate-limit``. Starts ``python -m vpsorg.simulator
--rate-limit 50`` (50 requests per second per token, a burst of 50), runs each case in
worker processes of its own (``benchmarks/_rate_limit_child.py``), counting 429s with
event hooks, and prints the Targets table as markdown:

1. 1 process x 50 concurrent, 600 gets (the default adaptive limit; also with
   ``rate_limit=50`` and with ``rate_limit="off"`` for comparison);
2. 150 concurrent gets, each first answered 429 with ``Retry-After: 1`` (a simulator of
   its own in the worker, also at 50/s);
3. 8 processes x 10, one token, 2,000 gets, one limit shared through Redis
   (``RateLimit(per_second=50, redis_url=...)``; needs redis-server on PATH);
4. 8 processes x 10, one token, 2,000 gets, each process's own adaptive limit only;
5. 4 processes x ``create_many`` of 100 (400 created, 0 duplicate names);
6. the hot path: ``python -m benchmarks.layers`` (CPU us per GET by layer) for this
   checkout and, with ``--baseline DIR``, for another checkout (the code before).

The cases wait 2 s between them, so the simulator's bucket is full at each start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from benchmarks import _env
from benchmarks._server import SimulatorProcess, exit_on_sigterm

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parent.parent
RATE = 50
_SETTLE = 2.0  # seconds between cases: the simulator's bucket refills in 1


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _job(sim: SimulatorProcess, **job: Any) -> dict[str, Any]:
    return {"base_url": sim.base_url, "token": sim.token, **job}


def _workers(jobs: list[dict[str, Any]], *, start_in: float = 0.0) -> list[dict[str, Any]]:
    """Run one child per job at once; every child starts its work at the same moment."""
    start_at = time.time() + start_in if start_in else 0.0
    env = {k: v for k, v in os.environ.items() if not k.startswith("VPSORG_")}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks._rate_limit_child",
                json.dumps({**job, "start_at": start_at}),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed (exit {process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _row(case: str, results: list[dict[str, Any]], total: int, **extra: Any) -> dict[str, Any]:
    attempts = sum(r["attempts"] for r in results)
    throttled = sum(r["throttled"] for r in results)
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {
        "case": case,
        "items": total,
        "ok": sum(r["ok"] for r in results),
        "failed": sum(r["failed"] for r in results),
        "errors": sorted({e for r in results for e in r["errors"]}),
        "requests": attempts,
        "429s": throttled,
        "429_share": throttled / attempts if attempts else 0.0,
        "pauses": sum(r["pauses"] for r in results),
        "log_lines": sum(r["log_lines"] for r in results),
        "wall_s": wall,
        "ideal_s": total / RATE,
        **extra,
    }


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _gets(
    sim: SimulatorProcess, case: str, processes: int, concurrency: int, total: int, limit: Any
) -> dict[str, Any]:
    jobs = [
        _job(sim, kind="gets", count=n, concurrency=concurrency, rate_limit=limit)
        for n in _split(total, processes)
    ]
    return _row(case, _workers(jobs, start_in=3.0 if processes > 1 else 0.0), total)


def _creates(sim: SimulatorProcess) -> dict[str, Any]:
    prefix = f"rl-{uuid.uuid4().hex[:6]}"
    jobs = [
        _job(sim, kind="creates", count=100, concurrency=10, prefix=f"{prefix}-p{p}")
        for p in range(4)
    ]
    results = _workers(jobs, start_in=3.0)
    time.sleep(_SETTLE)
    names = _server_names(sim, prefix)
    duplicates = sum(n - 1 for n in Counter(names).values() if n > 1)
    return _row(
        "4 processes x create_many of 100",
        results,
        400,
        created=len(names),
        duplicates=duplicates,
    )


def _server_names(sim: SimulatorProcess, prefix: str) -> list[str]:
    """Every server name with ``prefix`` in the account (paced under the limit)."""
    names: list[str] = []
    url: str | None = sim.base_url + "servers/?page_size=50"
    headers = {"Authorization": f"Bearer {sim.token}"}
    with requests.Session() as session:
        for _ in range(1000):  # bounded: pages
            if url is None:
                break
            response = session.get(url, headers=headers, timeout=30)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            page = response.json()
            names += [s["name"] for s in page["results"] if s["name"].startswith(prefix)]
            url = page.get("next")
    return names


def _layers(checkout: Path, calls: int, rounds: int) -> dict[str, float]:
    """CPU us per GET by layer, from ``python -m benchmarks.layers`` run in ``checkout``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VPSORG_")}
    env["PYTHONPATH"] = str(checkout)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.layers", "--calls", str(calls), "--rounds", str(rounds)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"[\d.]+", cells[1] or "x"):
            figures[cells[0]] = float(cells[1])
    return figures


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every case; return the rows and the machine's description."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rate_limit", description=__doc__)
    parser.add_argument("--baseline", type=Path, help="a checkout of the code before, for case 6")
    parser.add_argument("--layers-calls", type=int, default=10_000)
    parser.add_argument("--layers-rounds", type=int, default=3)
    parser.add_argument("--skip", default="", help="cases to skip, e.g. 3,6")
    args = parser.parse_args(argv)
    skip = {int(c) for c in args.skip.split(",") if c.strip()}
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with SimulatorProcess(extra_args=("--rate-limit", str(RATE))) as sim:
        _log(f"simulator at {sim.base_url}: {shlex_join(sim.command)}")
        if 1 not in skip:
            for label, limit in (
                ("default (adaptive)", {"kind": "default"}),
                ("rate_limit=50", {"kind": "fixed", "per_second": RATE}),
                ('rate_limit="off"', {"kind": "off"}),
            ):
                _log(f"case 1: 1 x 50, 600 gets, {label}")
                rows.append(_gets(sim, f"1 x 50, 600 gets, {label}", 1, 50, 600, limit))
                time.sleep(_SETTLE)
        if 2 not in skip:
            _log("case 2: 150 concurrent gets, each first answered 429")
            job = {"kind": "wave", "count": 150, "concurrency": 150, "per_second": RATE}
            rows.append(_row("150 concurrent gets, each first answered 429", _workers([job]), 150))
        if 3 not in skip:
            _log("case 3: 8 x 10, one token, 2,000 gets, shared Redis limit")
            rows.append(_shared_case(sim))
            time.sleep(_SETTLE)
        if 4 not in skip:
            _log("case 4: 8 x 10, one token, 2,000 gets, local adaptive only")
            case = "8 x 10, 2,000 gets, local adaptive only"
            rows.append(_gets(sim, case, 8, 10, 2000, {"kind": "default"}))
            time.sleep(_SETTLE)
        if 5 not in skip:
            _log("case 5: 4 x create_many of 100")
            rows.append(_creates(sim))
    hot: dict[str, Any] = {}
    if 6 not in skip:
        _log("case 6: benchmarks.layers (no limit hit)")
        hot["this"] = _layers(ROOT, args.layers_calls, args.layers_rounds)
        if args.baseline:
            hot["baseline"] = _layers(
                args.baseline.resolve(), args.layers_calls, args.layers_rounds
            )
    return {
        "rows": rows,
        "hot_path": hot,
        "machine": _env.machine_info(),
        "load": (load_before, os.getloadavg()[0]),
        "seconds": round(time.monotonic() - started, 1),
    }


def shlex_join(command: Sequence[str]) -> str:
    import shlex

    return shlex.join(["python", *command[1:]])


def _shared_case(sim: SimulatorProcess) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.redis_server import MISSING_REASON, redis_server

    case = "8 x 10, 2,000 gets, shared Redis limit"
    try:
        server = redis_server()
        url = server.__enter__()
    except LookupError:
        _log(f"  skipped: {MISSING_REASON}")
        return {"case": case, "skipped": MISSING_REASON}
    try:
        limit = {"kind": "fixed", "per_second": RATE, "redis_url": url, "key": uuid.uuid4().hex}
        return _gets(sim, case, 8, 10, 2000, limit)
    finally:
        server.__exit__(None, None, None)


def render(result: dict[str, Any]) -> str:
    """The Targets table, as markdown."""
    lines = [
        "| case | ok / items | 429s (share of requests) | pauses | log lines | wall s "
        "(ideal at 50/s) | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        if "skipped" in row:
            lines.append(f"| {row['case']} | skipped | | | | | {row['skipped']} |")
            continue
        notes = []
        if row["failed"]:
            notes.append(f"failed: {row['failed']} {', '.join(row['errors'])}")
        if "created" in row:
            notes.append(f"created {row['created']}, duplicates {row['duplicates']}")
        lines.append(
            f"| {row['case']} | {row['ok']}/{row['items']} | {row['429s']} "
            f"({row['429_share']:.1%} of {row['requests']}) | {row['pauses']} | "
            f"{row['log_lines']} | {row['wall_s']:.1f} ({row['ideal_s']:.0f}) | "
            f"{'; '.join(notes)} |"
        )
    hot = result["hot_path"]
    if hot:
        lines += ["", "Hot path (CPU us per GET, `python -m benchmarks.layers`):", ""]
        names = list(hot["this"])
        header = "| layer | this checkout |" + (" baseline | ratio |" if "baseline" in hot else "")
        lines += [header, "|---|---|" + ("---|---|" if "baseline" in hot else "")]
        for name in names:
            line = f"| {name} | {_us(hot['this'][name])} |"
            base = hot.get("baseline", {}).get(name)
            if base:
                line += f" {_us(base)} | {hot['this'][name] / base:.2f} |"
            lines.append(line)
    machine = {k: v for k, v in result["machine"].items() if k != "python_executable"}
    load = result.get("load", ())
    lines += [
        "",
        f"Machine: {json.dumps(machine)}; load average before/after "
        f"{' / '.join(f'{x:.1f}' for x in load)}; took {result['seconds']:.0f} s.",
    ]
    return "\n".join(lines)


def _us(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases and print the table."""
    exit_on_sigterm()
    result = run(argv)
    print(render(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
