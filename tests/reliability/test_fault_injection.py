"""Under injected faults: nothing duplicated, nothing lost, nothing left open."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import vpsorg
from tests.conftest import client_sockets_to
from tests.reliability.chaos import run
from vpsorg.simulator import serve_in_thread


async def test_mixed_operations_under_faults_lose_nothing_and_duplicate_nothing() -> None:
    report = await asyncio.wait_for(run(operations=2000, concurrency=100, seed=11), timeout=240)
    assert report.operations == 2000
    assert report.lost_items == 0
    assert report.non_vpsorg_errors == []
    assert report.ok + sum(report.errors.values()) == 2000
    assert report.duplicates == 0
    assert report.creates_sent > 100
    assert report.leftover_tasks == 0
    assert report.open_connections == 0
    # The faults really happened, and the client really retried.
    for kind in ("dropped", "error_500", "error_503", "scripted"):
        assert report.faults.get(kind, 0) > 20, report.faults
    assert report.retries > 50
    assert report.ok > 200


async def test_ten_thousand_requests_cancelled_mid_flight_leave_no_connection() -> None:
    with serve_in_thread(port=0) as sim:
        sim.script(path="/api/v1/servers/*", method="GET", times=20_000, delay=30.0)
        client = vpsorg.AsyncClient(
            token=sim.token, base_url=sim.base_url, limits=vpsorg.Limits(max_connections=500)
        )
        cancelled = 0
        for _ in range(20):
            before = sim.request_count
            task = asyncio.create_task(client.servers.get_many([12345] * 500, concurrency=500))
            for _ in range(1000):  # until all 500 are on the wire; bounded
                await asyncio.sleep(0.01)
                if sim.request_count - before >= 500:
                    break
            cancelled += sim.request_count - before
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await _eventually_zero(lambda: client_sockets_to(sim.port))
        assert cancelled >= 10_000
        await client.aclose()
        assert client_sockets_to(sim.port) == 0
    assert [t for t in asyncio.all_tasks() if "run_bulk" in repr(t.get_coro())] == []


async def _eventually_zero(probe: Any, attempts: int = 200) -> bool:
    for _ in range(attempts):  # bounded: at most 2 s
        if probe() == 0:
            return True
        await asyncio.sleep(0.01)
    return False
