"""The markdown tables and the target checks, from the figures of one run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks._measure import BUSY_MACHINE_CPU, median_ratio

__all__ = ["evaluate_targets", "render"]

Row = dict[str, Any]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _ratio(value: float) -> str:
    return f"{value:.2f}x"


def _ratio3(value: float) -> str:
    # Targets show three decimals, so 0.749 is not printed as a passing-looking 0.75.
    return f"{value:.3f}x"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _decimal(value: float) -> str:
    return f"{value:.2f}"


def _mb(value: float) -> str:
    return f"{value:.0f} MB"


def _find(rows: list[Row], key: str) -> Row | None:
    return next((r for r in rows if r.get("key") == key), None)


# ---------------------------------------------------------------- targets


def _pair(rows: list[Row], a: str, b: str) -> float | None:
    ra, rb = _find(rows, a), _find(rows, b)
    if ra is None or rb is None:
        return None
    return median_ratio(ra["rounds"]["rate"], rb["rounds"]["rate"])


def _quotient(top: float, bottom: float) -> float | None:
    """``top / bottom``, or ``None`` (not measured) when ``bottom`` is 0: a smoke run's
    child can finish within one tick of the CPU clock and report no CPU time at all."""
    return top / bottom if bottom > 0 else None


def evaluate_targets(cases: dict[str, Any], headline: int) -> list[Row]:
    """Every target with its measured value and pass/miss (``None``: not measured)."""
    get, lists, blocking = cases["get_fanout"], cases["list_pages"], cases["blocking"]
    h = headline
    out: list[Row] = []

    def add(
        name: str,
        value: float | None,
        goal: float,
        fmt: Callable[[float], str],
        *,
        at_most: bool = False,
        stretch: float | None = None,
    ) -> None:
        # ``goal`` is what passes (an issue's floor); ``stretch``, when given, is the
        # issue's further goal, reported beside it.
        def met(bound: float) -> bool | None:
            return None if value is None else (value <= bound if at_most else value >= bound)

        sign = "≤ " if at_most else "≥ "
        shown_goal = sign + fmt(goal)
        if stretch is not None:
            shown_goal += f" (goal {sign}{fmt(stretch)})"
        out.append(
            {
                "target": name,
                "measured": value,
                "shown": "not measured" if value is None else fmt(value),
                "goal": shown_goal,
                "pass": met(goal),
                "stretch_pass": None if stretch is None else met(stretch),
            }
        )

    add(
        f"AsyncClient get_many ÷ raw aiohttp, GET fan-out, concurrency {h}",
        _pair(get, f"get/sdk_get_many/{h}", f"get/aiohttp/{h}"),
        0.90,
        _ratio3,
    )
    # Issue 23: the SDK against hand-tuned aiohttp + msgspec, its floors and goals.
    for c, floor in ((h, 0.90), (1000, 0.88)):
        for key, what in (("sdk_pool", "servers.get fan-out"), ("sdk_get_many", "get_many")):
            row = _find(get, f"get/{key}/{c}")
            if row is not None and row.get("ratio_tuned") is not None:
                add(
                    f"AsyncClient {what} ÷ hand-tuned aiohttp, GET fan-out, concurrency {c}",
                    row["ratio_tuned"],
                    floor,
                    _ratio3,
                    stretch=0.95,
                )
    for row in lists:
        if row["key"] == f"list/sdk/{h}" and row.get("ratio_tuned") is not None:
            add(
                f"AsyncClient list pages of 50 ÷ hand-tuned aiohttp + msgspec, concurrency {h}",
                row["ratio_tuned"],
                0.85,
                _ratio3,
                stretch=0.92,
            )
    for row in lists:
        if row["key"].startswith("list/sdk/"):
            c = row["concurrency"]
            add(
                f"AsyncClient list pages of 50 ÷ raw aiohttp, concurrency {c}",
                row["ratio"],
                0.80,
                _ratio3,
            )
    add(
        "Client sequential get ÷ sequential requests",
        _pair(blocking, "get/client_seq/1", "get/requests_seq/1"),
        2.5,
        _ratio3,
        stretch=3.0,
    )
    add(
        "Client sequential get ÷ AsyncClient at concurrency 1",
        _pair(blocking, "get/client_seq/1", "get/sdk_seq/1"),
        0.75,
        _ratio3,
    )
    add(
        f"Client get_many ÷ requests with 32 threads, concurrency {h}",
        _pair(blocking, f"get/client_get_many/{h}", "get/requests_threads/32"),
        5.0,
        _ratio3,
    )
    add(
        f"Client get_many ÷ AsyncClient get_many, concurrency {h}",
        _pair(blocking, f"get/client_get_many/{h}", f"get/sdk_get_many/{h}"),
        0.85,
        _ratio3,
    )
    memory = cases["memory"]
    biggest = max((r["items"] for r in memory), default=100_000)
    for shape, what in (
        ("pool_keep", "get_many (keeps every Server)"),
        ("pool_discard", "fleet.map, results dropped (the bulk engine alone)"),
    ):
        peak = next(
            (r["peak_rss_mb"] for r in memory if r["shape"] == shape and r["items"] == biggest),
            None,
        )
        # Issue 23: get_many keeping 100,000 servers, floor 120 MB, goal 80 MB.
        floor, stretch = (120.0, 80.0) if shape == "pool_keep" else (80.0, None)
        add(
            f"{what} over {biggest:,} items: peak RSS",
            peak,
            floor,
            _mb,
            at_most=True,
            stretch=stretch,
        )
    per_item = [r["cpu_us_per_item"] for r in memory if r["shape"] == "pool_keep"]
    spread = _quotient(max(per_item), min(per_item)) if len(per_item) > 1 else None
    what = "get_many client CPU time per item, largest ÷ smallest over the sizes"
    add(what, spread, 1.25, _ratio3, at_most=True)
    stream = {r["items"]: r for r in memory if r["shape"] == "imap_stream"}
    if stream:
        top = stream[max(stream)]
        add(
            f"fleet.imap over {top['items']:,} items: peak RSS - RSS before",
            top["peak_rss_mb"] - top["baseline_rss_mb"],
            30.0,
            _mb,
            at_most=True,
        )
        sizes = sorted(stream)
        growth = (
            _quotient(stream[sizes[-1]]["cpu_us_per_item"], stream[sizes[-2]]["cpu_us_per_item"])
            if len(sizes) > 1
            else None
        )
        what = f"fleet.imap client CPU per item, {sizes[-1]:,} ÷ {sizes[-2]:,} items"
        add(
            what if len(sizes) > 1 else "fleet.imap CPU growth", growth, 1.15, _ratio3, at_most=True
        )
    decode = _find(cases["decode"], "structure_json")
    add(
        "decode one server, JSON bytes -> Server incl. the parse (µs)",
        None if decode is None else decode["us"],
        2.5,
        lambda v: f"{v:.2f} µs",
        at_most=True,
    )
    return out


# ---------------------------------------------------------------- tables


def _http_table(rows: list[Row], unit: str) -> list[str]:
    header = [
        "client",
        "concurrency",
        "work per run",
        f"{unit}/s",
        "time (s)",
        "vs raw aiohttp",
        "vs hand-tuned",
        "client CPU",
        "server CPU",
        "other CPU",
    ]
    body = []
    for r in rows:
        flag = " (server-bound)" if r["server_bound"] else ""
        body.append(
            [
                r["client"],
                r["concurrency"] + (" ‡" if _few(r) else ""),
                r["work"],
                f"{r['rate']:,.0f}",
                f"{r['seconds']:.2f}",
                _ratio(r["ratio"]) + (" †" if _other_headline(r) else ""),
                _tuned(r),
                _pct(r["client_cpu"]),
                _pct(r["server_cpu"]) + flag,
                _pct(r["other_cpu"]) + (" \\*" if _busy(r) else ""),
            ]
        )
    return _table(header, body)


def _tuned(row: Row) -> str:
    """The ratio to the hand-tuned baseline (issue 23), or "" where it was not measured."""
    ratio = row.get("ratio_tuned")
    if ratio is None:
        return ""
    return _ratio(ratio) + (" †" if _other_headline(row) else "")


def _few(row: Row) -> bool:
    return bool(row["concurrency"].isdigit() and row["items"] < int(row["concurrency"]))


def _other_headline(row: Row) -> bool:
    return not row["ratio_vs"].endswith(row["concurrency"])


def _busy(row: Row) -> bool:
    return bool(row["other_cpu"] > BUSY_MACHINE_CPU)


def _footnotes(rows: list[Row]) -> list[str]:
    """The footnotes for the marks that appear in an HTTP table."""
    notes = []
    if any(_other_headline(r) for r in rows):
        notes.append(
            "† against raw aiohttp (or the hand-tuned baseline) at the headline concurrency "
            "(same round)."
        )
    if any(_few(r) for r in rows):
        notes.append("‡ fewer calls than the concurrency, so at most that many were in flight.")
    if any(_busy(r) for r in rows):
        notes.append(
            f"\\* other processes used over {BUSY_MACHINE_CPU:.0f}% of a core during that "
            "run: its figures are noisier."
        )
    return ["  \n".join(notes)] if notes else []


def render(result: dict[str, Any]) -> str:
    """The whole report as markdown."""
    meta, cases = result["meta"], result["cases"]
    m, s = meta["machine"], meta["server"]
    lines = [
        f"# vpsorg benchmarks ({meta['plan']} run, {meta['rounds']} rounds)",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, {m['os']}; "
        f"{m['python']}; aiohttp {m['aiohttp']}, httpx {m['httpx']}, requests {m['requests']}, "
        f"cattrs {m['cattrs']}; vpsorg {m['vpsorg']}",
        f"- Event loop: {m['event_loop']}; JSON: {m['json']} (the SDK and every baseline)",
        f"- Server: {s['name']} in its own process (pid {s['pid']}) at {s['base_url']}, "
        f"{s['servers']} servers, pages of {s['page_size']}: `{s['command']}`",
        f"- Server check: {meta['server_check']}",
        f"- Took {meta['seconds']:.0f} s: "
        + ", ".join(f"{name} {secs:.0f} s" for name, secs in meta["phases"].items()),
        "- Figures are medians over rounds; a ratio is taken round by round (this client's rate "
        "÷ the baseline's in the same round), then the median of those ratios: above 1 is "
        "faster. CPU is % of one core during the measured part (client process, server "
        "process, everything else on the machine).",
        "",
    ]
    for key, title, unit in (
        ("get_fanout", "1. GET detail fan-out", "calls"),
        ("list_pages", "2. List pages of 50 servers (decoding-heavy)", "pages"),
        ("blocking", "3. The blocking client", "calls"),
    ):
        if cases[key]:
            rows = cases[key]
            notes = _footnotes(rows)
            lines += [f"## {title}", "", *_http_table(rows, unit), ""]
            lines += [*notes, ""] if notes else []
    if cases["decode"]:
        lines += ["## 4. Decoding one server (detail view)", ""]
        body = [
            [r["decoder"], f"{r['us']:.2f}", _ratio(r["times_dict_access"]) + f" ({r['vs']})"]
            for r in cases["decode"]
        ]
        lines += _table(["decoder", "µs per server", "time ÷ dict access"], body)
        lines += [
            "",
            f"{cases['decode'][0]['iterations']:,} servers per decoder per round, in a tight "
            "loop with the garbage collector paused; in the request path the same decoding "
            "costs several times more (see `python -m benchmarks.layers`).",
            "",
        ]
    if cases["memory"]:
        lines += ["## 5. Memory and growth: one bulk call per fresh process, concurrency 100", ""]
        body = [
            [
                r["what"],
                f"{r['items']:,}",
                f"{r['seconds']:.2f}",
                f"{r['us_per_item']:.0f}",
                f"{r['cpu_us_per_item']:.0f}",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['peak_rss_mb'] - r['baseline_rss_mb']:.0f}",
                _pct(r["client_cpu"]),
                _pct(r["server_cpu"]),
                _pct(r["other_cpu"]) + (" \\*" if _busy(r) else ""),
            ]
            for r in cases["memory"]
        ]
        header = [
            "shape",
            "items",
            "time (s)",
            "µs/item",
            "client CPU µs/item",
            "peak RSS (MB)",
            "peak - RSS before (MB)",
            "client CPU",
            "server CPU",
            "other CPU",
        ]
        lines += [*_table(header, body), ""]
        if any(r["other_cpu"] > BUSY_MACHINE_CPU for r in cases["memory"]):
            lines += [
                f"\\* other processes used over {BUSY_MACHINE_CPU:.0f}% of a core during that "
                "run: its wall time is noisier, its CPU µs per item much less so.",
                "",
            ]
    sp = cases["speedups"]
    if sp:
        lines += ["## 6. With and without the speedups extra", ""]
        lines += [
            f"With: {sp['with']['json']}, {sp['with']['event_loop']}. Without "
            f"(`VPSORG_NO_SPEEDUPS=1`, imports blocked): {sp['without']['json']}, "
            f"{sp['without']['event_loop']}. Each in its own process.",
            "",
        ]
        body = []
        for r in sp["rows"]:
            fmt = _count if r["unit"].endswith("/s") else _decimal
            body.append(
                [
                    r["workload"],
                    r["unit"],
                    fmt(r["with"]),
                    fmt(r["without"]),
                    _ratio(r["without_over_with"]),
                ]
            )
        lines += [*_table(["workload", "unit", "with", "without", "without ÷ with"], body), ""]
    lines += ["## Targets", ""]
    body = []
    for t in result["targets"]:
        verdict = "not measured" if t["pass"] is None else ("pass" if t["pass"] else "MISS")
        if t["pass"] and t.get("stretch_pass") is False:
            verdict = "pass (goal missed)"
        body.append([t["target"], t["shown"], t["goal"], verdict])
    lines += _table(["target", "measured", "goal", "result"], body)
    return "\n".join(lines) + "\n"
