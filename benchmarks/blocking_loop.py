"""The blocking client's loop thread, uvloop against asyncio.

Run it with ``python -m benchmarks.blocking_loop``.

Each blocking call hands its coroutine to the client's loop thread and waits to be woken
with the result, so the cost of waking that thread matters on every call. This measures
it where nothing else differs: one fixed-response aiohttp server in its own process
(every request answered at once with the same server detail view, fetched once from the
simulator), and two measuring processes against it, one with uvloop importable and one
with ``import uvloop`` blocked, each timing sequential ``Client.servers.get`` calls and
sequential ``requests`` calls, round by round. Prints a markdown table: the rates, and the
median of the per-round ratios of the client to ``requests``.

Options: ``--rounds N`` (default 5), ``--calls N`` blocking calls per round (default
2,000; ``requests`` makes a quarter as many, being that much slower).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

_TOKEN = "bench-token-blocking-loop"
_SERVER_ID = 12345


def _serve() -> None:
    """Answer every request with one server's detail view; print the port, then serve."""
    import asyncio

    from aiohttp import web

    from vpsorg.simulator import serve_in_thread

    with serve_in_thread() as sim:
        request = urllib.request.Request(
            f"{sim.base_url}servers/{_SERVER_ID}/",
            headers={"Authorization": f"Bearer {sim.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()

    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def run() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"listening {port}", flush=True)
        try:
            await asyncio.Event().wait()  # until the parent terminates this process
        finally:
            await runner.cleanup()

    asyncio.run(run())


def _measure(base_url: str, rounds: int, calls: int, block_uvloop: bool) -> dict[str, Any]:
    """Per-round rates of sequential ``Client.servers.get`` and ``requests.get``."""
    if block_uvloop:
        sys.modules["uvloop"] = None  # type: ignore[assignment]  # import uvloop now fails
    import requests

    import vpsorg

    url = f"{base_url}servers/{_SERVER_ID}/"
    headers = {"Authorization": f"Bearer {_TOKEN}"}
    rows: list[dict[str, float]] = []
    with requests.Session() as session, vpsorg.Client(token=_TOKEN, base_url=base_url) as client:
        loop = type(client._runner.loop).__module__.split(".")[0]

        def with_requests(n: int) -> float:
            started = time.perf_counter()
            for _ in range(n):
                response = session.get(url, headers=headers, timeout=10)
                response.raise_for_status()
                response.json()
            return n / (time.perf_counter() - started)

        def with_client(n: int) -> float:
            started = time.perf_counter()
            for _ in range(n):
                client.servers.get(_SERVER_ID)
            return n / (time.perf_counter() - started)

        with_requests(max(1, calls // 20))  # warm both: connections, caches
        with_client(max(1, calls // 5))
        for _ in range(rounds):
            req = with_requests(max(1, calls // 4))
            sdk = with_client(calls)
            rows.append({"requests": req, "client": sdk, "ratio": sdk / req})
    return {"loop": loop, "rounds": rows}


def _child(base_url: str, args: argparse.Namespace, block_uvloop: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.blocking_loop", "--measure", base_url]
    command += ["--rounds", str(args.rounds), "--calls", str(args.calls)]
    if block_uvloop:
        command.append("--no-uvloop")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _run(args: argparse.Namespace) -> str:
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.blocking_loop", "--serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"the fixed-response server did not start: {line!r}")
        base_url = f"http://127.0.0.1:{int(line.split()[1])}/api/v1/"
        results = [_child(base_url, args, block) for block in (False, True)]
    finally:
        server.terminate()
        server.wait(10)
    note = []
    if results[0]["loop"] != "uvloop":  # uvloop cannot be imported here: one row, said so
        results = results[1:]
        note = ["uvloop cannot be imported here (not installed): asyncio's row alone.", ""]
    lines = [
        "# The blocking client's loop thread: uvloop against asyncio",
        "",
        f"Sequential calls to a fixed-response aiohttp server in its own process; "
        f"{args.rounds} rounds of {args.calls:,} `Client.servers.get` calls and "
        f"{max(1, args.calls // 4):,} `requests` calls; medians.",
        "",
        *note,
        "| loop thread | Client calls/s | requests calls/s | Client ÷ requests |",
        "|---|---|---|---|",
    ]
    for result in results:
        rounds = result["rounds"]
        lines.append(
            f"| {result['loop']} "
            f"| {statistics.median(r['client'] for r in rounds):,.0f} "
            f"| {statistics.median(r['requests'] for r in rounds):,.0f} "
            f"| {statistics.median(r['ratio'] for r in rounds):.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.blocking_loop")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--no-uvloop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < 1:
        parser.error("--rounds and --calls must be at least 1")
    if args.serve:
        _serve()
    elif args.measure:
        result = _measure(args.measure, args.rounds, args.calls, args.no_uvloop)
        print(json.dumps(result), flush=True)
    else:
        print(_run(args), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
