"""The blocking client's life: construction, copies, threads, running loops, closing."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest

import vpsorg
from tests.conftest import client_sockets_to
from vpsorg.simulator import Simulator

from .conftest import FAST, loop_threads
from .slow_server import slow_server


def test_a_configuration_error_raises_at_construction_in_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VPSORG_API_TOKEN", raising=False)
    before = loop_threads()
    with pytest.raises(vpsorg.ConfigurationError):
        vpsorg.Client()
    with pytest.raises(vpsorg.ConfigurationError):
        vpsorg.Client(token="t", base_url="ftp://example.com/")
    assert loop_threads() == before  # no thread was started


def test_constructor_reads_the_environment(monkeypatch: pytest.MonkeyPatch, sim: Simulator) -> None:
    monkeypatch.setenv("VPSORG_API_TOKEN", sim.token)
    monkeypatch.setenv("VPSORG_BASE_URL", sim.base_url)
    with vpsorg.Client() as client:
        assert client.base_url == sim.base_url
        assert client.servers.get(12345).id == 12345


def test_properties_mirror_the_async_client(sim: Simulator) -> None:
    with vpsorg.Client(token=sim.token, base_url=sim.base_url, timeout=7, retry=FAST) as client:
        assert client.timeout.total == 7
        assert client.retry_policy is FAST
        assert repr(client) == f"Client(base_url={sim.base_url!r})"
        assert repr(client.servers) == f"Servers(base_url={sim.base_url!r})"
        assert repr(client.servers.list(status="active")) == (
            "ServerIterator(params={'status': 'active'})"
        )


def test_with_options_shares_the_loop_thread_and_the_pool(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    quick = client.with_options(timeout=5, retry=FAST)
    assert isinstance(quick, vpsorg.Client)
    assert quick.timeout.total == 5
    assert quick.retry_policy is FAST
    assert client.timeout.total != 5
    assert quick._runner is client._runner
    assert quick._async._pipeline.transport is client._async._pipeline.transport
    assert quick.servers.get(12345).id == 12345
    quick.close()  # closing a copy does nothing
    assert client.servers.get(12346).id == 12346
    with quick.with_options(timeout=3) as nested:
        assert nested._runner is client._runner
    assert client.servers.get(12346).id == 12346
    client.close()
    with pytest.raises(vpsorg.ConfigurationError, match="the client is closed"):
        quick.servers.get(12345)


def test_a_copy_keeps_the_loop_open_after_its_root_is_gone(sim: Simulator) -> None:
    copy = vpsorg.Client(token=sim.token, base_url=sim.base_url).with_options(timeout=5)
    gc.collect()
    assert copy.servers.get(12345).id == 12345
    thread = copy._runner._thread
    del copy
    gc.collect()
    assert not thread.is_alive()


def test_a_resource_and_an_iterator_keep_the_loop_open(sim: Simulator) -> None:
    servers = vpsorg.Client(token=sim.token, base_url=sim.base_url).servers
    listing = vpsorg.Client(token=sim.token, base_url=sim.base_url).servers.list()
    gc.collect()
    assert servers.get(12345).id == 12345
    assert [s.id for s in listing] == [12345, 12346]
    threads = [servers._runner._thread, listing._runner._thread]
    del servers, listing
    gc.collect()
    assert not any(t.is_alive() for t in threads)


def test_an_unused_client_closes_as_soon_as_it_is_dropped(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    client.servers.get(12345)
    thread = client._runner._thread
    del client  # no reference cycle: closed at once, without the cycle collector
    assert not thread.is_alive()
    assert client_sockets_to(sim.port) == 0


def test_many_threads_share_one_client(api: vpsorg.Client, sim: Simulator) -> None:
    def work(n: int) -> list[int]:
        ids = []
        for i in range(50):
            server_id = 12345 + (n + i) % 2
            ids.append(api.servers.get(server_id).id)
        return ids

    before = sim.request_count
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert [len(r) for r in results] == [50] * 8
    assert all(r == [12345 + (n + i) % 2 for i in range(50)] for n, r in enumerate(results))
    assert sim.request_count - before == 400
    assert len(loop_threads()) == 1


def test_errors_from_many_threads_reach_their_own_caller(api: vpsorg.Client) -> None:
    def work(n: int) -> str:
        try:
            api.servers.get(999000 + n if n % 2 else 12345)
        except vpsorg.NotFoundError as exc:
            return f"404:{exc.url.rstrip('/').rsplit('/', 1)[1]}"
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    assert results == [("ok" if n % 2 == 0 else f"404:{999000 + n}") for n in range(16)]


async def test_works_inside_a_running_event_loop(sim: Simulator) -> None:
    running = asyncio.get_running_loop()
    with vpsorg.Client(token=sim.token, base_url=sim.base_url) as client:
        assert client.servers.get(12345).name == "web-server-01"
        assert [s.id for s in client.servers.list()] == [12345, 12346]
        assert client._runner.loop is not running
    assert asyncio.get_running_loop() is running


def test_works_from_sync_code_called_by_async_code(sim: Simulator) -> None:
    def blocking_helper() -> str:
        with vpsorg.Client(token=sim.token, base_url=sim.base_url) as client:
            return client.servers.get(12346).name

    async def main() -> str:
        return blocking_helper()

    assert asyncio.run(main()) == "db-server-01"


def test_close_leaves_no_thread_and_no_connection(sim: Simulator) -> None:
    before = set(threading.enumerate())
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    thread = client._runner._thread
    assert thread.daemon
    assert thread in threading.enumerate()
    client.servers.get_many([12345, 12346] * 5, concurrency=5)
    assert client_sockets_to(sim.port) >= 1
    client.close()
    assert not thread.is_alive()
    assert set(threading.enumerate()) <= before
    assert client_sockets_to(sim.port) == 0
    assert client._runner.loop.is_closed()
    client.close()  # idempotent
    with pytest.raises(vpsorg.ConfigurationError, match="the client is closed"):
        client.servers.get(12345)
    with pytest.raises(vpsorg.ConfigurationError, match="the client is closed"):
        list(client.servers.list())


def test_close_before_any_call(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    client.close()
    assert not client._runner._thread.is_alive()


def test_close_from_several_threads_at_once(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    client.servers.get(12345)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: client.close(), range(4)))
    assert not client._runner._thread.is_alive()


def test_close_ends_calls_still_running_in_other_threads() -> None:
    errors: list[BaseException] = []
    with slow_server() as slow:
        client = vpsorg.Client(token="t", base_url=slow.base_url)

        def slow_call() -> None:
            try:
                client.servers.get(12345)
            except BaseException as exc:
                errors.append(exc)

        caller = threading.Thread(target=slow_call)
        caller.start()
        assert slow.arrived.wait(10)
        client.close()
        caller.join(10)
        assert not caller.is_alive()
        assert slow.cancelled.wait(10)  # the request's connection was closed
    assert len(errors) == 1
    assert isinstance(errors[0], vpsorg.ConfigurationError)
    assert "closed during the call" in str(errors[0])


def test_an_unclosed_client_is_closed_when_collected(sim: Simulator) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    client.servers.get(12345)
    thread = client._runner._thread
    ref = weakref.ref(client)
    del client
    gc.collect()
    assert ref() is None
    assert not thread.is_alive()
    assert client_sockets_to(sim.port) == 0


def test_call_from_the_loop_thread_is_refused(api: vpsorg.Client) -> None:
    async def inside() -> str:
        try:
            api.servers.get(12345)
        except vpsorg.ConfigurationError as exc:
            return str(exc)
        return "no error"

    assert "own event loop thread" in api._runner.call(inside)
