"""Cases 4, 5 and 6: decoding in this process; memory and speedups in fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import NO_SPEEDUPS_ENV, _decode
from benchmarks._child import MEMORY_SHAPES
from benchmarks._measure import median, median_ratio
from benchmarks._plan import Plan
from benchmarks._target import Target

__all__ = ["run_decode", "run_memory", "run_speedups"]

_ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


# ---------------------------------------------------------------- case 4


def run_decode(plan: Plan, target: Target, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """µs per server for each decoder, rounds interleaved; ratio to plain dict access."""
    detail, page = _decode.fetch_samples(target)
    times: dict[str, list[float]] = {name: [] for name in _decode.DECODERS}
    for round_ in range(1, plan.rounds + 1):
        for name in _decode.DECODERS:
            times[name].append(_decode.time_decoder(name, detail, page, plan.decode_iterations))
        one_pass = times["structure_json"][-1]
        log(f"  round {round_}/{plan.rounds}  decode: structure_json {one_pass:.2f} µs")
    rows = []
    for name, (what, _, _) in _decode.DECODERS.items():
        us = times[name]
        # Cost relative to dict access, paired by round: 10 means ten times the time.
        base = "loads_dict_access" if name.startswith("loads") else "dict_access"
        rows.append(
            {
                "key": name,
                "decoder": what,
                "us": median(us),
                "times_dict_access": median_ratio(us, times[base]),
                "vs": base,
                "iterations": plan.decode_iterations,
                "rounds": {"us": us},
            }
        )
    return rows


# ---------------------------------------------------------------- child processes


def _child(args: list[str], *, timeout: float, no_speedups: bool = False) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop(NO_SPEEDUPS_ENV, None)
    if no_speedups:
        env[NO_SPEEDUPS_ENV] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {args[0]} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _target_args(target: Target, server_pid: int) -> list[str]:
    return [
        "--base-url",
        target.base_url,
        "--token",
        target.token,
        "--ids",
        ",".join(map(str, target.server_ids)),
        "--page-size",
        str(target.page_size),
        "--server-pid",
        str(server_pid),
    ]


# ---------------------------------------------------------------- case 5


def run_memory(
    plan: Plan, target: Target, server_pid: int, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Peak RSS and time of one bulk call per fresh process, for each shape and size."""
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    base = _target_args(target, server_pid)
    for round_ in range(1, plan.memory_rounds + 1):
        for items in plan.memory_sizes:
            for shape in plan.memory_shapes:
                args = ["memory", *base, "--shape", shape, "--items", str(items)]
                args += ["--concurrency", "100", "--timeout", str(plan.timeout)]
                result = _child(args, timeout=plan.timeout + 60)
                runs.setdefault((shape, items), []).append(result)
                log(
                    f"  round {round_}/{plan.memory_rounds}  memory {shape:<13} {items:>7,} items"
                    f"  {result['seconds']:6.2f} s  peak {result['peak_rss'] / MB:6.1f} MB"
                )
    rows = []
    for (shape, items), results in runs.items():
        seconds = [r["seconds"] for r in results]
        # Client CPU time per item moves far less than wall time when other processes
        # take a core, so the linearity check uses it.
        cpu_us = [r["seconds"] * r["client_cpu"] / 100 / items * 1e6 for r in results]
        rows.append(
            {
                "shape": shape,
                "what": MEMORY_SHAPES[shape],
                "items": items,
                "concurrency": 100,
                "seconds": median(seconds),
                "us_per_item": median(seconds) / items * 1e6,
                "cpu_us_per_item": median(cpu_us),
                "peak_rss_mb": median([r["peak_rss"] / MB for r in results]),
                "baseline_rss_mb": median([r["baseline_rss"] / MB for r in results]),
                "client_cpu": median([r["client_cpu"] for r in results]),
                "server_cpu": median([r["server_cpu"] for r in results]),
                "other_cpu": median([r["other_cpu"] for r in results]),
                "rounds": {"seconds": seconds, "peak_rss": [r["peak_rss"] for r in results]},
            }
        )
    return rows


# ---------------------------------------------------------------- case 6

_SPEEDUP_WORKLOADS = (
    ("sdk_get_many", "AsyncClient get_many, concurrency 100", "calls/s"),
    ("aiohttp_get", "raw aiohttp GET, concurrency 100", "calls/s"),
    ("sdk_list", "AsyncClient list pages, concurrency 10", "pages/s"),
    ("aiohttp_list", "raw aiohttp list pages, concurrency 10", "pages/s"),
    ("client_seq", "blocking Client get, sequential", "calls/s"),
    ("requests_seq", "requests get, sequential", "calls/s"),
)


def run_speedups(
    plan: Plan, target: Target, server_pid: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """The same workloads with and without orjson/uvloop, alternating, one process each."""
    args = ["speedups", *_target_args(target, server_pid)]
    args += ["--calls", str(plan.speedup_calls), "--listings", str(plan.speedup_listings)]
    args += ["--decode-iterations", str(plan.decode_iterations), "--timeout", str(plan.timeout)]
    runs: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
    for round_ in range(1, plan.rounds + 1):
        for variant in ("with", "without"):
            result = _child(args, timeout=4 * plan.timeout, no_speedups=variant == "without")
            runs[variant].append(result)
            log(
                f"  round {round_}/{plan.rounds}  speedups {variant:<7}"
                f" get_many {result['sdk_get_many']['rate']:8,.0f}/s ({result['json']},"
                f" {result['event_loop']})"
            )
    with_, without = runs["with"], runs["without"]

    def rates(results: list[dict[str, Any]], name: str) -> list[float]:
        return [r[name]["rate"] for r in results]

    rows = []
    for name, what, unit in _SPEEDUP_WORKLOADS:
        w, wo = rates(with_, name), rates(without, name)
        rows.append(_speedup_row(name, what, unit, w, wo))
    for sdk, raw, what in (
        ("sdk_get_many", "aiohttp_get", "AsyncClient ÷ raw aiohttp, GET concurrency 100"),
        ("sdk_list", "aiohttp_list", "AsyncClient ÷ raw aiohttp, list pages concurrency 10"),
        ("client_seq", "requests_seq", "blocking Client ÷ requests, sequential"),
    ):
        w = [median_ratio(rates([r], sdk), rates([r], raw)) for r in with_]
        wo = [median_ratio(rates([r], sdk), rates([r], raw)) for r in without]
        rows.append(_speedup_row(f"{sdk}_ratio", what, "ratio", w, wo))
    decode_w = [r["decode_us"] for r in with_]
    decode_wo = [r["decode_us"] for r in without]
    rows.append(
        _speedup_row(
            "decode_us", "decode one Server (structure_json, from bytes)", "µs", decode_w, decode_wo
        )
    )
    return {
        "with": {"json": with_[0]["json"], "event_loop": with_[0]["event_loop"]},
        "without": {"json": without[0]["json"], "event_loop": without[0]["event_loop"]},
        "rows": rows,
    }


def _speedup_row(
    key: str, what: str, unit: str, with_: list[float], without: list[float]
) -> dict[str, Any]:
    return {
        "key": key,
        "workload": what,
        "unit": unit,
        "with": median(with_),
        "without": median(without),
        # Paired by round; for µs (lower is better) this is still without ÷ with.
        "without_over_with": median_ratio(without, with_),
        "rounds": {"with": with_, "without": without},
    }
