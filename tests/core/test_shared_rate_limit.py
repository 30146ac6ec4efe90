"""The rate limit shared through a real redis-server: one budget, one 429 pause, no outage.

The server is started by the ``redis_url`` fixture (tests/redis_server.py) on 127.0.0.1;
without redis-server on PATH these tests skip and say why.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import uuid
from typing import Any

import pytest

import vpsorg
from tests.core.conftest import FAST
from tests.redis_server import _free_port
from vpsorg._async._shared_limiter import SharedLimiter
from vpsorg._ratelimit import shared_key
from vpsorg.simulator import FaultConfig, Simulator, serve_in_thread

redis = pytest.importorskip("redis", reason="the vpsorg[redis] extra (redis-py) is needed")


def _limit(redis_url: str, **options: Any) -> vpsorg.RateLimit:
    """A shared limit on a key of its own, so tests do not share state."""
    options.setdefault("key", f"vpsorg-test:{uuid.uuid4().hex}")
    return vpsorg.RateLimit(redis_url=redis_url, **options)


def _client(sim: Simulator, limit: vpsorg.RateLimit) -> vpsorg.AsyncClient:
    return vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, retry=FAST, rate_limit=limit)


def _limiter(client: vpsorg.AsyncClient) -> SharedLimiter:
    limiter = client._pipeline.limiter
    assert isinstance(limiter, SharedLimiter)
    return limiter


async def test_two_clients_on_one_key_share_one_budget(sim: Simulator, redis_url: str) -> None:
    """Two clients (as two processes would be) at 10/s between them, not 10/s each."""
    limit = _limit(redis_url, per_second=10, adaptive=False)
    async with _client(sim, limit) as one, _client(sim, limit) as two:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(
            one.servers.get_many([12345] * 6, concurrency=6),
            two.servers.get_many([12345] * 6, concurrency=6),
        )
        # 12 sends at 10/s with a burst of 1: the last one leaves 1.1 s after the first.
        assert loop.time() - started >= 1.1 - 0.02
        # And the next slot of either is behind the other's: one bucket.
        wait, _ = await _limiter(one).reserve(loop.time())
        assert wait > 0


async def test_a_429_seen_by_one_client_pauses_the_other(sim: Simulator, redis_url: str) -> None:
    limit = _limit(redis_url, per_second=100)
    async with _client(sim, limit) as one, _client(sim, limit) as two:
        sim.script(path="/api/v1/servers/12345/", status=429, headers={"Retry-After": "3"})
        task = asyncio.create_task(one.servers.get(12345))
        loop = asyncio.get_running_loop()
        wait = 0.0
        for _ in range(300):  # until `one` has met the 429; bounded (3 s)
            await asyncio.sleep(0.01)
            # `two` never meets the 429, yet its next send waits for the shared pause.
            wait, granted = await _limiter(two).reserve(loop.time())
            if wait > 1.0:
                break
        assert wait > 1.0 and not granted
        assert (await task).id == 12345  # paced, retried, not lost
        assert two._pipeline.gate.pauses == 0  # the pause came through Redis


async def test_the_default_key_is_a_hash_of_the_token(sim: Simulator, redis_url: str) -> None:
    limit = vpsorg.RateLimit(per_second=50, redis_url=redis_url)
    async with _client(sim, limit) as client:
        await client.servers.get(12345)
        assert _limiter(client).key == shared_key(sim.token, sim.base_url)
    store = redis.Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in store.keys("*")]
        assert shared_key(sim.token, sim.base_url) in keys
        assert not [key for key in keys if sim.token in key]
        values = store.hgetall(shared_key(sim.token, sim.base_url))
        assert not [v for v in values.values() if sim.token.encode() in v]
    finally:
        store.close()


async def test_an_unreachable_redis_degrades_to_the_local_limit_with_one_warning(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"redis://:hunter2@127.0.0.1:{_free_port()}/0"  # nothing listens there
    limit = vpsorg.RateLimit(per_second=200, redis_url=dead, key="k")
    caplog.set_level(logging.WARNING, logger="vpsorg")
    async with _client(sim, limit) as client:
        result = await client.servers.get_many([12345] * 30, concurrency=10)
        assert (len(result.succeeded), len(result.failed)) == (30, 0)
    warnings = [r.getMessage() for r in caplog.records if r.name == "vpsorg"]
    assert len(warnings) == 1, warnings
    assert "unreachable" in warnings[0] and "in this process only" in warnings[0]
    assert "hunter2" not in warnings[0]


async def test_a_redis_that_goes_away_mid_run_never_fails_a_call(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.redis_server import redis_server

    caplog.set_level(logging.WARNING, logger="vpsorg")
    with redis_server() as url:
        limit = _limit(url, per_second=500)
        client = _client(sim, limit)
        await client.servers.get_many([12345] * 5)
    try:  # the server is gone now
        result = await client.servers.get_many([12345] * 20, concurrency=5)
        assert (len(result.succeeded), len(result.failed)) == (20, 0)
    finally:
        await client.aclose()
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


def _worker(base_url: str, token: str, redis_url: str | None, key: str, count: int) -> int:
    """One worker process: ``count`` gets under the shared limit; returns the successes."""
    limit: vpsorg.RateLimit | str
    if redis_url is None:
        limit = vpsorg.RateLimit(per_second=20, adaptive=False)
    else:
        limit = vpsorg.RateLimit(per_second=20, adaptive=False, redis_url=redis_url, key=key)
    retry = vpsorg.RetryPolicy(max_rate_limited_attempts=50)
    with vpsorg.Client(token=token, base_url=base_url, retry=retry, rate_limit=limit) as client:
        return len(client.servers.get_many([12345] * count, concurrency=5).succeeded)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "local-control"])
def test_worker_processes_share_one_limit(redis_url: str, shared: bool) -> None:
    """Three processes at 20/s between them meet no 429 from an API allowing 20/s (burst
    10); the control, each process limited to 20/s on its own, does meet 429s."""
    faults = FaultConfig(rate_limit=20, rate_limit_burst=10)
    with serve_in_thread(port=0, faults=faults) as sim:
        key = f"vpsorg-test:{uuid.uuid4().hex}"
        context = multiprocessing.get_context("spawn")
        with context.Pool(3) as pool:
            args = (sim.base_url, sim.token, redis_url if shared else None, key, 20)
            results = pool.starmap(_worker, [args] * 3, chunksize=1)
        assert results == [20, 20, 20]  # nothing lost either way
        throttled = sim.fault_counts["rate_limited"]
        if shared:
            assert throttled == 0
        else:
            assert throttled > 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_client_inherited_through_fork_shares_the_limit_on_its_own_connection(
    redis_url: str,
) -> None:
    from tests.sync.test_fork import in_child

    limit = _limit(redis_url, per_second=200)
    with (
        serve_in_thread(port=0) as sim,
        vpsorg.Client(token=sim.token, base_url=sim.base_url, rate_limit=limit) as client,
    ):
        assert client.servers.get(12345).id == 12345  # the parent's Redis connection is open
        limiter = client._async._pipeline.limiter
        assert isinstance(limiter, SharedLimiter)
        parents = limiter._redis
        assert parents is not None

        def child() -> int:
            ok = client.servers.get_many([12345] * 5).succeeded
            # Through Redis on a connection of its own (the parent's set aside, never
            # used), not degraded to the local limit.
            own = limiter._redis is not None and limiter._redis is not parents
            return 0 if len(ok) == 5 and own and not limiter._warned else 1

        assert in_child(child) == 0
        assert client.servers.get(12346).id == 12346  # the parent's still works
    store = redis.Redis.from_url(redis_url)
    try:
        assert store.exists(limit.key) == 1
    finally:
        store.close()
