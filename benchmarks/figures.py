"""The benchmark figures the documentation quotes, in one file: docs/benchmarks/figures.json.

A page never types a benchmark figure by hand. It either sits inside a table this
module renders (between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``), or
it is followed by ``<!-- figure: KEY -->`` naming the entry it quotes, and the text
just before the comment must be the entry as :func:`shown` formats it. The test
``tests/docs/test_figures.py`` checks both, so a new measurement cannot leave one page
behind.

``python -m benchmarks --record docs/benchmarks/figures.json`` merges a run into the
file: the figures the run measured replace the old ones (with the run's machine, plan
and date); the others are kept. Then ``python -m benchmarks.figures`` rewrites the
tables in the pages; ``--check`` only says whether they are current.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "FIGURES_FILE",
    "MARK",
    "Record",
    "figures_of_run",
    "load",
    "merge",
    "quoted",
    "render_tables",
    "shown",
    "stale_pages",
]

ROOT = Path(__file__).resolve().parents[1]
FIGURES_FILE = ROOT / "docs" / "benchmarks" / "figures.json"
#: The pages that may quote figures.
PAGES = ("README.md", "docs")

Record = dict[str, Any]

#: How each unit is printed.
TIMES = "\N{MULTIPLICATION SIGN}"
_UNITS = {"x": TIMES, "us": "µs", "MB": "MB"}
MARK = re.compile(r"<!-- figure: (?P<key>[\w/.-]+) -->")
TABLE = re.compile(
    r"(?P<open><!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)"
    r"(?P<close><!-- /figures:(?P=name) -->)",
    re.S,
)


def load(path: Path = FIGURES_FILE) -> Record:
    """The figures file as a dict (``figures`` maps each key to its entry)."""
    record: Record = json.loads(path.read_text(encoding="utf-8"))
    return record


def shown(entry: Record) -> str:
    """An entry as the pages print it: ``1.03`` and the times sign, ``1.32 µs``, ``45 MB``,
    ``15 to 28 µs``."""
    value, unit = entry["value"], entry["unit"]
    if isinstance(value, list):
        low, high = value
        return f"{low:g} to {high:g} {_UNITS[unit]}"
    if unit == "x":
        return f"{value:.2f}{TIMES}"
    if unit == "us":
        return f"{value:.0f} µs" if value >= 100 else f"{value:.2f} µs"
    return f"{value:.0f} {_UNITS[unit]}"


# ---------------------------------------------------------------- from a run


def _both_ratios(
    out: dict[str, tuple[float, str, str]],
    row: Record,
    key: str,
    raw: tuple[str, str],
    tuned: tuple[str, str],
    what: str,
) -> None:
    """A row's ratio to the idiomatic baseline and, when measured, to the hand-tuned one:
    ``raw`` and ``tuned`` are each (the figure's key prefix, the baseline as named)."""
    out[f"{raw[0]}/{key}"] = (row["ratio"], "x", f"{what}, ÷ {raw[1]}")
    if row.get("ratio_tuned") is not None:
        out[f"{tuned[0]}/{key}"] = (row["ratio_tuned"], "x", f"{what}, ÷ {tuned[1]}")


def figures_of_run(result: Record) -> dict[str, tuple[float, str, str]]:
    """The quotable figures one ``python -m benchmarks`` result holds: key -> (value,
    unit, what). Cases the run skipped give nothing."""
    from benchmarks._measure import median_ratio

    cases = result["cases"]
    out: dict[str, tuple[float, str, str]] = {}
    for row in cases["get_fanout"]:
        _, client, concurrency = row["key"].split("/")
        if client in ("sdk_get_many", "sdk_pool"):
            what = "get_many" if client == "sdk_get_many" else "get in a worker pool"
            _both_ratios(
                out,
                row,
                f"{client}/{concurrency}",
                ("get_fanout", "raw aiohttp"),
                ("get_fanout_tuned", "hand-tuned aiohttp + msgspec"),
                f"AsyncClient {what}, GET fan-out at concurrency {concurrency}",
            )
    for row in cases["list_pages"]:
        _, client, concurrency = row["key"].split("/")
        if client == "sdk":
            _both_ratios(
                out,
                row,
                concurrency,
                ("list_pages", "raw aiohttp decoding into dicts"),
                ("list_pages_tuned", "hand-tuned aiohttp + msgspec into typed Structs"),
                f"list pages of 50 into Servers at concurrency {concurrency}",
            )
    blocking = {row["key"]: row for row in cases["blocking"]}
    for name, top, bottom, what in (
        (
            "client_seq_vs_requests_seq",
            "get/client_seq/1",
            "get/requests_seq/1",
            "blocking Client, sequential get, ÷ sequential requests",
        ),
        (
            "client_get_many_vs_requests_threads",
            "client_get_many",
            "get/requests_threads/32",
            "blocking Client get_many ÷ requests with 32 threads",
        ),
    ):
        top_row = blocking.get(top) or next(
            (r for k, r in blocking.items() if k.startswith(f"get/{top}/")), None
        )
        if top_row is not None and bottom in blocking:
            ratio = median_ratio(top_row["rounds"]["rate"], blocking[bottom]["rounds"]["rate"])
            out[f"blocking/{name}"] = (ratio, "x", what)
    for row in cases["decode"]:
        out[f"decode/{row['key']}"] = (row["us"], "us", f"{row['decoder']} (tight loop)")
    for row in cases["memory"]:
        base = f"memory/{row['shape']}/{row['items']}"
        out[f"{base}/peak_rss"] = (row["peak_rss_mb"], "MB", f"{row['what']}: peak RSS")
        out[f"{base}/growth"] = (
            row["peak_rss_mb"] - row["baseline_rss_mb"],
            "MB",
            f"{row['what']}: peak RSS - RSS before the call",
        )
        out[f"{base}/cpu_per_item"] = (
            row["cpu_us_per_item"],
            "us",
            f"{row['what']}: client CPU per item",
        )
    return out


def merge(record: Record, result: Record, *, today: datetime.date | None = None) -> Record:
    """``record`` with the figures of ``result`` (a run) replacing those it measured."""
    meta = result["meta"]
    machine = meta["machine"]
    run = (
        f"python -m benchmarks ({meta['plan']} run, {meta['rounds']} rounds, cases "
        f"{','.join(map(str, meta['cases_run']))}) on {today or datetime.date.today()}, "
        f"{machine['cores']} cores ({machine['cpu']}), {machine['python']}, vpsorg "
        f"{machine['vpsorg']}"
    )
    figures = dict(record.get("figures", {}))
    for key, (value, unit, what) in figures_of_run(result).items():
        figures[key] = {"value": round(value, 3), "unit": unit, "what": what, "measured": run}
    return {**record, "figures": dict(sorted(figures.items()))}


# ---------------------------------------------------------------- the pages


def _table(record: Record, name: str) -> str:
    figures = record["figures"]
    rows = record["tables"][name]
    lines = ["| " + " | ".join(rows["header"]) + " |", "|" + "---|" * len(rows["header"])]
    for row in rows["rows"]:
        cells = [shown(figures[cell[1:]]) if cell.startswith("=") else cell for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_tables(text: str, record: Record) -> str:
    """``text`` with every ``<!-- figures:NAME -->`` block re-rendered from ``record``."""

    def block(match: re.Match[str]) -> str:
        return match["open"] + _table(record, match["name"]) + match["close"]

    return TABLE.sub(block, text)


def _pages() -> list[Path]:
    found = []
    for name in PAGES:
        path = ROOT / name
        found += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    return found


def quoted(text: str) -> list[tuple[str, str]]:
    """Every ``(text just before, key)`` of the ``<!-- figure: KEY -->`` marks in ``text``."""
    return [(text[: m.start()][-40:], m["key"]) for m in MARK.finditer(text)]


def stale_pages(record: Record) -> list[str]:
    """What is out of date, one line per page and figure; empty when every page agrees."""
    problems = []
    figures = record["figures"]
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        where = page.relative_to(ROOT).as_posix()
        for match in TABLE.finditer(text):
            if match["name"] not in record["tables"]:
                problems.append(f"{where}: no table {match['name']!r} in the figures file")
            elif match["body"] != _table(record, match["name"]):
                problems.append(
                    f"{where}: table {match['name']!r} is stale; run python -m benchmarks.figures"
                )
        for before, key in quoted(text):
            if key not in figures:
                problems.append(f"{where}: quotes {key!r}, which the figures file does not have")
            elif not before.endswith(shown(figures[key])):
                problems.append(
                    f"{where}: {key} is {shown(figures[key])!r}; the page says ...{before!r}"
                )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.figures",
        description="Rewrite the figure tables of the docs from docs/benchmarks/figures.json.",
    )
    parser.add_argument("--check", action="store_true", help="only report what is stale")
    args = parser.parse_args(argv)
    record = load()
    if not args.check:
        for page in _pages():
            text = page.read_text(encoding="utf-8")
            new = render_tables(text, record)
            if new != text:
                page.write_text(new, encoding="utf-8")
                print(f"rewrote the figure tables of {page.relative_to(ROOT)}", file=sys.stderr)
    problems = stale_pages(record)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
