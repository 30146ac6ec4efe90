"""The benchmark suite runs end to end and reports every case (speed is never asserted)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTTP_FIELDS = ("rate", "seconds", "ratio", "client_cpu", "server_cpu", "other_cpu")


def _numbers(row: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        value = row[field]
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (field, row)
        assert math.isfinite(value), (field, row)


def _python(*args: str, timeout: float = 110) -> str:
    """Run ``python ARGS`` from the repository root; return what it printed.

    Always in a subprocess: inside pytest, ``benchmarks`` names this test package
    (``tests/benchmarks``), not the benchmark suite.
    """
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    printed = _python("-m", "benchmarks", "--smoke", "--rounds", "1", "--json", str(out))
    assert "| client | concurrency |" in printed
    assert "| vs raw aiohttp | vs hand-tuned |" in printed
    assert printed.count("| hand-tuned aiohttp + msgspec |") == 4  # cases 1 and 2, 10 and 100
    assert "## Targets" in printed
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_meta_names_the_server_and_the_machine(report: dict[str, Any]) -> None:
    meta = report["meta"]
    assert meta["plan"] == "smoke"
    assert meta["server"]["name"] == "vpsorg.simulator"
    assert meta["server"]["base_url"].startswith("http://127.0.0.1:")
    for key in ("cores", "python", "aiohttp", "event_loop", "json"):
        assert meta["machine"][key]
    assert meta["server_check"]


def test_http_cases_have_every_client_and_concurrency(report: dict[str, Any]) -> None:
    cases = report["cases"]
    get_clients = {row["key"].split("/")[1] for row in cases["get_fanout"]}
    assert {
        "aiohttp",
        "tuned",
        "sdk_get_many",
        "sdk_pool",
        "httpx",
        "requests_threads",
        "requests_seq",
    } <= get_clients
    list_clients = {row["key"].split("/")[1] for row in cases["list_pages"]}
    assert list_clients == {"aiohttp", "tuned", "sdk"}
    for row in cases["get_fanout"] + cases["list_pages"] + cases["blocking"]:
        # Case 1 ran, so every row has its ratio to the hand-tuned baseline too.
        _numbers(row, (*HTTP_FIELDS, "ratio_tuned"))
        assert len(row["rounds"]["rate"]) == report["meta"]["rounds"]


def test_blocking_case_has_the_client_and_its_comparisons(report: dict[str, Any]) -> None:
    keys = {row["key"] for row in report["cases"]["blocking"]}
    assert keys == {
        "get/client_seq/1",
        "get/requests_seq/1",
        "get/sdk_seq/1",
        "get/client_get_many/100",
        "get/sdk_get_many/100",
        "get/requests_threads/32",
    }


def test_decode_memory_and_speedups_have_numbers(report: dict[str, Any]) -> None:
    cases = report["cases"]
    assert {row["key"] for row in cases["decode"]} >= {
        "structure",
        "structure_json",
        "structure_page",
        "dict_access",
    }
    for row in cases["decode"]:
        _numbers(row, ("us", "times_dict_access"))
    assert {row["shape"] for row in cases["memory"]} == {
        "pool_keep",
        "tasks_keep",
        "pool_discard",
        "tasks_discard",
        "imap_stream",
    }
    for row in cases["memory"]:
        _numbers(
            row, ("seconds", "us_per_item", "cpu_us_per_item", "peak_rss_mb", "baseline_rss_mb")
        )
    speedups = cases["speedups"]
    assert "orjson" not in speedups["without"]["json"]
    for row in speedups["rows"]:
        _numbers(row, ("with", "without", "without_over_with"))
    keys = {row["key"] for row in speedups["rows"]}
    assert {"client_seq", "requests_seq", "client_seq_ratio"} <= keys


def test_every_target_is_listed(report: dict[str, Any]) -> None:
    targets = report["targets"]
    assert len(targets) >= 9
    names = [target["target"] for target in targets]
    assert "AsyncClient get_many ÷ hand-tuned aiohttp, GET fan-out, concurrency 100" in names
    assert "AsyncClient list pages of 50 ÷ hand-tuned aiohttp + msgspec, concurrency 100" in names
    for target in targets:
        assert target["pass"] in (True, False, None)
        if target["pass"] is not None:
            _numbers(target, ("measured",))


def _diagnostic(module: str, *args: str) -> str:
    """Run ``python -m benchmarks.<module> ARGS`` and return what it printed."""
    return _python("-m", f"benchmarks.{module}", *args, "--rounds", "1")


# The report's target table, fed rows a smoke run can produce.
REPORT_CHECK = """
import json
from benchmarks._report import evaluate_targets

def memory(shape, items, cpu_us):
    return {"shape": shape, "items": items, "cpu_us_per_item": cpu_us,
            "peak_rss_mb": 50.0, "baseline_rss_mb": 45.0}

# A smoke run's child can finish within one tick of the CPU clock: 0 us per item.
rows = [memory(shape, items, 0.0 if items == 10 else 150.0)
        for shape in ("pool_keep", "imap_stream") for items in (10, 100)]
cases = {"get_fanout": [], "list_pages": [], "blocking": [], "memory": rows, "decode": []}
targets = evaluate_targets(cases, 100)
print(json.dumps({row["target"]: [row["pass"], row["shown"]] for row in targets}))
"""


def test_a_run_with_no_measurable_cpu_time_is_not_measured_rather_than_a_crash() -> None:
    targets = json.loads(_python("-c", REPORT_CHECK, timeout=60))
    not_measured = [None, "not measured"]
    assert targets["get_many client CPU time per item, largest ÷ smallest over the sizes"] == (
        not_measured
    )
    assert targets["fleet.imap client CPU per item, 100 ÷ 10 items"] == not_measured
    assert targets["fleet.imap over 100 items: peak RSS - RSS before"][0] is True


def test_layers_diagnostic_runs() -> None:
    out = _diagnostic("layers", "--calls", "200")
    assert "servers.get_many" in out
    assert "hand-off" in out


def test_blocking_loop_diagnostic_compares_uvloop_and_asyncio() -> None:
    out = _diagnostic("blocking_loop", "--calls", "40")
    lines = out.splitlines()
    rows = lines[lines.index("|---|---|---|---|") + 1 :]
    loops = ["| uvloop", "| asyncio"] if importlib.util.find_spec("uvloop") else ["| asyncio"]
    assert [row.split(" | ")[0] for row in rows] == loops, out
    assert all(row.endswith("x |") for row in rows), out


def test_list_layers_diagnostic_runs() -> None:
    out = _diagnostic("list_layers", "--listings", "10")
    lines = out.splitlines()
    rows = lines[lines.index("|---|---|---|---|---|---|---|") + 1 :][:4]
    assert len(rows) == 4 and all(row.endswith("x |") for row in rows), out
    assert "tight loop" in out


def test_aiohttp_variants_diagnostic_runs() -> None:
    out = _diagnostic("aiohttp_variants", "--calls", "200")
    lines = out.splitlines()
    rows = lines[lines.index("|---|---|---|") + 1 :]
    assert len(rows) == 11, out
    assert all(float(row.rsplit("|", 3)[1]) > 0 for row in rows), out


# benchmarks._cg: the measured section outside valgrind, and reading callgrind's files.
CG_CHECK = """
import gc, json, os, sys, tempfile
from pathlib import Path
os.environ["VPSORG_BENCH_TRACEMALLOC"] = "1"
from benchmarks import _cg

with _cg.section():  # not under valgrind: no client request, still counts GC and memory
    kept = [bytearray(1000) for _ in range(100)]
    gc.collect()
section = {"collections": _cg.last.collections, "peak": _cg.last.peak_bytes}

folder = Path(tempfile.mkdtemp())
(folder / "out").write_text(
    "events: Ir\\n"
    "fn=(1) main\\n0 100\\ncfn=(2) PyObject_Malloc\\ncalls=3 0\\n0 60\\n"
    "fn=(2)\\n0 30\\ncfn=(3) _PyObject_Malloc\\ncalls=3 0\\n0 20\\n"
    "fn=(3)\\n0 20\\ncfn=(3)\\ncalls=5 0\\n0 7\\n"
    "summary: 150\\ntotals: 150\\n"
)
profile = _cg.read_profile(folder / "out", ["PyObject_Malloc", "_PyObject_Malloc", "absent"])
for n, (label, total) in enumerate((("empty", 10), ("work", 510)), 1):
    (folder / f"out.{n}").write_text(
        f"desc: Trigger: Client Request: {label}\\nevents: Ir\\nsummary: {total}\\n"
    )
print(json.dumps({"section": section, "instructions": profile.instructions,
                  "calls": profile.calls, "inclusive": profile.inclusive,
                  "dumps": _cg.read_dumps(folder / "out")}))
"""


def test_callgrind_helpers_count_outside_valgrind_and_read_callgrind_files() -> None:
    seen = json.loads(_python("-c", CG_CHECK, timeout=60))
    assert seen["section"]["collections"] >= 1
    assert seen["section"]["peak"] >= 100 * 1000
    assert seen["instructions"] == 150
    # A call of a function to itself (the 5 calls of _PyObject_Malloc) is not counted.
    assert seen["calls"] == {"PyObject_Malloc": 3, "_PyObject_Malloc": 3, "absent": 0}
    assert seen["inclusive"] == {"PyObject_Malloc": 60, "_PyObject_Malloc": 20, "absent": 0}
    assert seen["dumps"] == {"empty": 10, "work": 510}


def test_instructions_diagnostic_describes_itself() -> None:
    out = _python("-m", "benchmarks.instructions", "--help", timeout=60)
    assert "--only" in out and "callgrind" in out
