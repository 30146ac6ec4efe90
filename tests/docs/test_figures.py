"""Every benchmark figure on a page comes from docs/benchmarks/figures.json.

The tables between ``<!-- figures:NAME -->`` marks must be what ``benchmarks/figures.py``
renders from the file, and a figure quoted in prose must be followed by
``<!-- figure: KEY -->`` and read exactly as the file's entry. No page outside the
performance log may type a ratio (``1.03`` and the times sign) any other way.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _figures_module() -> ModuleType:
    # By path: inside pytest, the name ``benchmarks`` is this suite's tests/benchmarks.
    spec = importlib.util.spec_from_file_location("_docs_figures", ROOT / "benchmarks/figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = _figures_module()


def test_the_pages_agree_with_the_figures_file() -> None:
    problems = figures.stale_pages(figures.load())
    assert not problems, "\n".join(problems)


def test_the_user_pages_quote_the_headline_figures() -> None:
    """The pages that used to disagree now quote the file (README, performance, blocking)."""
    keys = {
        page: {key for _, key in figures.quoted((ROOT / page).read_text(encoding="utf-8"))}
        for page in ("README.md", "docs/performance.md", "docs/blocking-client.md")
    }
    assert "get_fanout_tuned/sdk_pool/100" in keys["README.md"]  # the reference (issue 23)
    assert "list_pages_tuned/100" in keys["README.md"]
    assert "handoff/client" in keys["docs/performance.md"]
    assert "handoff/client" in keys["docs/blocking-client.md"]


def test_no_ratio_is_typed_by_hand() -> None:
    ratio = re.compile(r"\d+(?:\.\d+)?" + figures.TIMES)
    offenders = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = figures.TABLE.sub("", page.read_text(encoding="utf-8"))
        for match in ratio.finditer(text):
            if not text.startswith("<!-- figure: ", match.end()):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{page.relative_to(ROOT)}:{line}: {match.group()}")
    assert not offenders, "quote these from docs/benchmarks/figures.json:\n" + "\n".join(offenders)


def test_a_changed_figure_makes_its_pages_stale() -> None:
    record = copy.deepcopy(figures.load())
    record["figures"]["get_fanout_tuned/sdk_pool/100"]["value"] = 0.5
    record["figures"]["handoff/client"]["value"] = [1, 2]
    problems = "\n".join(figures.stale_pages(record))
    assert "docs/performance.md: table 'reference' is stale" in problems
    assert f"README.md: get_fanout_tuned/sdk_pool/100 is '0.50{figures.TIMES}'" in problems
    assert "docs/blocking-client.md: handoff/client is '1 to 2 µs'" in problems


def test_every_entry_says_what_and_which_run() -> None:
    for key, entry in figures.load()["figures"].items():
        assert entry["unit"] in ("x", "us", "MB"), key
        assert entry["what"] and entry["measured"], key
        figures.shown(entry)  # every entry can be printed


def test_a_run_is_merged_into_the_record(tmp_path: Path) -> None:
    """``--record`` replaces the figures a run measured and keeps the others."""
    rates = {"rate": [100.0, 110.0, 90.0]}
    result: dict[str, Any] = {
        "meta": {
            "plan": "quick",
            "rounds": 3,
            "cases_run": [1, 3],
            "machine": {"cores": 2, "cpu": "test", "python": "CPython 3.x", "vpsorg": "0"},
        },
        "cases": {
            "get_fanout": [
                {"key": "get/sdk_get_many/100", "ratio": 0.97},
                {"key": "get/aiohttp/100", "ratio": 1.0},
            ],
            "list_pages": [],
            "blocking": [
                {"key": "get/client_seq/1", "rounds": {"rate": [300.0, 330.0, 270.0]}},
                {"key": "get/requests_seq/1", "rounds": rates},
            ],
            "decode": [],
            "memory": [],
            "speedups": {},
        },
    }
    (tmp_path / "result.json").write_text(json.dumps(result), encoding="utf-8")
    code = (
        "import json, sys, datetime; from benchmarks import figures; "
        "record = figures.merge(figures.load(), json.load(open(sys.argv[1])), "
        "today=datetime.date(2026, 1, 2)); print(json.dumps(record))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "result.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    merged = json.loads(done.stdout)["figures"]
    before = figures.load()["figures"]
    assert merged["get_fanout/sdk_get_many/100"]["value"] == 0.97
    assert (
        "quick run, 3 rounds, cases 1,3) on 2026-01-02"
        in (merged["get_fanout/sdk_get_many/100"]["measured"])
    )
    assert merged["blocking/client_seq_vs_requests_seq"]["value"] == 3.0
    assert "get_fanout/aiohttp/100" not in merged  # the baseline is not a quoted figure
    assert merged["list_pages/100"] == before["list_pages/100"]  # not measured: kept
    assert merged["handoff/client"] == before["handoff/client"]
