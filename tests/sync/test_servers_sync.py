"""Every method of ``vpsorg.Client().servers`` against the simulator, as the async tests
check ``AsyncClient``: the nine endpoints, waiting, the bulk methods and their errors."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import Simulator, serve_in_thread

from .conftest import spec

LIST = "GET /api/v1/servers/"


def test_list_returns_every_server_as_a_plain_iterator(api: vpsorg.Client) -> None:
    servers = api.servers.list()
    assert isinstance(servers, vpsorg.ServerIterator)
    assert iter(servers) is servers
    assert [(s.id, s.name) for s in servers] == [(12345, "web-server-01"), (12346, "db-server-01")]
    assert list(servers) == []  # an iterator: consumed once


def test_list_filters_by_status_and_location(api: vpsorg.Client) -> None:
    assert [s.id for s in api.servers.list(location="us-east")] == [12346]
    assert [s.id for s in api.servers.list(status="stopped")] == []
    assert api.servers.list(status="active", location="us-west").to_list()[0].id == 12345


def test_list_pulls_pages_lazily_one_at_a_time(api: vpsorg.Client, sim: Simulator) -> None:
    api.servers.create_many([spec(f"page-{i}") for i in range(3)])
    before = sim.request_counts.get(LIST, 0)
    servers = api.servers.list(page_size=2)
    assert sim.request_counts.get(LIST, 0) == before  # nothing sent yet
    first = next(servers)
    assert first.id == 12345
    assert sim.request_counts[LIST] == before + 1
    next(servers)
    assert sim.request_counts[LIST] == before + 1  # still the first page
    third = next(servers)
    assert sim.request_counts[LIST] == before + 2
    rest = list(servers)
    names = [third.name, *(s.name for s in rest)]
    assert sorted(names) == ["page-0", "page-1", "page-2"]  # created concurrently
    assert sim.request_counts[LIST] == before + 3  # 5 servers in pages of 2


def test_list_stops_fetching_when_the_loop_breaks(api: vpsorg.Client, sim: Simulator) -> None:
    api.servers.create_many([spec(f"brk-{i}") for i in range(3)])
    before = sim.request_counts.get(LIST, 0)
    for server in api.servers.list(page_size=1):
        if server.id == 12346:
            break
    assert sim.request_counts[LIST] == before + 2


def test_list_pages_and_to_list_start_from_the_first_page(
    api: vpsorg.Client, sim: Simulator
) -> None:
    api.servers.create_many([spec(f"pg-{i}") for i in range(3)])
    listing = api.servers.list(page_size=2)
    pages = list(listing.pages())
    assert [len(p.results) for p in pages] == [2, 2, 1]
    assert pages[0].count == 5
    assert pages[0].next is not None
    assert pages[-1].next is None
    assert [s.id for s in listing.to_list()] == [s.id for p in pages for s in p.results]
    assert len(list(listing.pages())) == 3


def test_list_iterator_close_stops_early(api: vpsorg.Client, sim: Simulator) -> None:
    servers = api.servers.list(page_size=1)
    next(servers)
    servers.close()
    assert list(servers) == []
    assert sim.request_counts[LIST] == 1


def test_list_rejects_bad_filters_before_sending(api: vpsorg.Client, sim: Simulator) -> None:
    with pytest.raises(vpsorg.InvalidInputError):
        api.servers.list(page_size=0)
    assert sim.request_count == 0


def test_create_makes_one_server(api: vpsorg.Client, sim: Simulator) -> None:
    server = api.servers.create("web-02", 1, 5, "us-west", hostname="web02.example.com")
    assert server.status == "provisioning"
    assert server.hostname == "web02.example.com"
    assert server.id == 12347
    assert sim.count_by_name("web-02") == 1


def test_create_with_wait_returns_an_active_server(api: vpsorg.Client) -> None:
    server = api.servers.create("web-03", 1, 5, "us-west", wait=True, wait_timeout=10)
    assert server.status == "active"
    assert server.ip_address is not None


def test_create_validates_before_sending(api: vpsorg.Client, sim: Simulator) -> None:
    with pytest.raises(vpsorg.InvalidInputError) as info:
        api.servers.create("bad name", 1, 5, "us-west")
    assert info.value.field == "name"
    assert sim.request_count == 0


def test_create_rejected_by_the_api_raises_bad_request(api: vpsorg.Client) -> None:
    with pytest.raises(vpsorg.BadRequestError) as info:
        api.servers.create("web-04", 99, 5, "us-west")
    assert info.value.status_code == 400


def test_get_returns_the_detail_view(api: vpsorg.Client) -> None:
    server = api.servers.get(12345)
    assert server.name == "web-server-01"
    assert server.resource_usage is not None
    assert server.ipv6_address is not None


def test_get_of_a_missing_server_raises_not_found(api: vpsorg.Client) -> None:
    with pytest.raises(vpsorg.NotFoundError) as info:
        api.servers.get(999999)
    assert type(info.value) is vpsorg.NotFoundError
    assert info.value.status_code == 404


def test_update_replaces_all_three_fields(api: vpsorg.Client) -> None:
    server = api.servers.update(12346, "db-primary", "db.example.com", False)
    assert (server.name, server.hostname, server.backups_enabled) == (
        "db-primary",
        "db.example.com",
        False,
    )
    assert api.servers.get(12346).name == "db-primary"


def test_patch_changes_only_the_fields_given(api: vpsorg.Client, sim: Simulator) -> None:
    server = api.servers.patch(12345, backups_enabled=True)
    assert server.backups_enabled is True
    assert server.name == "web-server-01"
    sent = sim.request_count
    with pytest.raises(vpsorg.InvalidInputError):
        api.servers.patch(12345)
    assert sim.request_count == sent


def test_delete_removes_the_server(api: vpsorg.Client) -> None:
    assert api.servers.delete(12346) is None  # type: ignore[func-returns-value]
    with pytest.raises(vpsorg.NotFoundError):
        api.servers.get(12346)
    with pytest.raises(vpsorg.NotFoundError):
        api.servers.delete(12346)


def test_stop_start_and_reboot_change_the_power_state(api: vpsorg.Client) -> None:
    stopped = api.servers.stop(12345)
    assert stopped.server.status == "stopping"
    assert api.servers.wait_for(12345, "stopped", timeout=10, interval=0.01).status == "stopped"
    with pytest.raises(vpsorg.BadRequestError):
        api.servers.stop(12345)
    started = api.servers.start(12345)
    assert started.message == "Server is starting"
    api.servers.wait_for(12345, timeout=10, interval=0.01)
    rebooted = api.servers.reboot(12345)
    assert rebooted.server.status == "rebooting"


def test_start_of_a_running_server_raises_bad_request(api: vpsorg.Client) -> None:
    with pytest.raises(vpsorg.BadRequestError):
        api.servers.start(12345)


def test_reboot_of_a_stopped_server_raises_bad_request(api: vpsorg.Client) -> None:
    api.servers.stop(12346)
    api.servers.wait_for(12346, "stopped", timeout=10, interval=0.01)
    with pytest.raises(vpsorg.BadRequestError):
        api.servers.reboot(12346)


def test_wait_for_accepts_several_statuses(api: vpsorg.Client) -> None:
    assert api.servers.wait_for(12345, ["stopped", "active"], timeout=5).id == 12345


def test_wait_for_raises_not_found_at_once(api: vpsorg.Client, sim: Simulator) -> None:
    with pytest.raises(vpsorg.NotFoundError):
        api.servers.wait_for(999999, timeout=30)
    assert sim.request_count == 1


def test_wait_for_times_out_with_the_last_server_seen() -> None:
    with (
        serve_in_thread(provision_delay=60) as slow,
        vpsorg.Client(token=slow.token, base_url=slow.base_url) as api,
    ):
        created = api.servers.create("slow-1", 1, 5, "us-west")
        with pytest.raises(vpsorg.WaitTimeoutError) as info:
            api.servers.wait_for(created.id, timeout=0.2, interval=0.02)
    assert isinstance(info.value, TimeoutError)
    assert info.value.last_seen is not None
    assert info.value.last_seen.status == "provisioning"


def test_get_many_keeps_input_order_and_every_outcome(api: vpsorg.Client) -> None:
    ids: list[Any] = [12346, 999999, 12345, "x", 12346]
    result = api.servers.get_many(ids, concurrency=3)
    assert [o.item for o in result] == ids
    assert [o.ok for o in result] == [True, False, True, False, True]
    assert isinstance(result[1].error, vpsorg.NotFoundError)
    assert isinstance(result[3].error, vpsorg.InvalidInputError)
    with pytest.raises(vpsorg.BulkOperationError):
        result.raise_for_failures()


def test_get_many_consumes_a_generator_of_ids(api: vpsorg.Client) -> None:
    result = api.servers.get_many(i for i in (12345, 12346))
    assert [o.value.id for o in result if o.value] == [12345, 12346]


def test_create_many_accepts_specs_and_mappings(api: vpsorg.Client, sim: Simulator) -> None:
    items: list[Any] = [
        spec("c-1"),
        {"name": "c-2", "plan_id": 2, "os_id": 3, "location": "us-east"},
        {"name": "c-3"},
        spec("bad name"),
    ]
    seen: list[vpsorg.BulkProgress] = []
    result = api.servers.create_many(items, concurrency=2, progress=seen.append)
    assert [o.ok for o in result] == [True, True, False, False]
    assert sorted(p.completed for p in seen) == [1, 2, 3, 4]
    assert sim.count_by_name("c-1") == 1
    assert sim.count_by_name("c-2") == 1


def test_progress_callbacks_run_in_the_loop_thread(api: vpsorg.Client) -> None:
    threads: set[str] = set()
    refused: list[BaseException] = []

    def on_progress(progress: vpsorg.BulkProgress) -> None:
        threads.add(threading.current_thread().name)
        try:
            api.servers.get(12345)  # would wait on its own thread: refused instead
        except vpsorg.ConfigurationError as exc:
            refused.append(exc)

    api.servers.get_many([12345, 12346], progress=on_progress)
    assert len(threads) == 1
    assert threads.pop().startswith("vpsorg-loop-")
    assert len(refused) == 2
    assert "progress callback" in str(refused[0])


def test_start_many_stop_many_reboot_many_and_delete_many(api: vpsorg.Client) -> None:
    created = api.servers.create_many([spec(f"p-{i}") for i in range(4)])
    ids = [o.value.id for o in created if o.value is not None]
    assert api.servers.wait_for_many(ids, timeout=10, interval=0.01).ok

    rebooted = api.servers.reboot_many(ids)
    assert {o.value.server.status for o in rebooted if o.value} == {"rebooting"}
    api.servers.wait_for_many(ids, "active", timeout=10, interval=0.01)

    stopped = api.servers.stop_many([*ids, 999999])
    assert [o.ok for o in stopped] == [True] * 4 + [False]
    assert isinstance(stopped[4].error, vpsorg.NotFoundError)
    assert api.servers.wait_for_many(ids, "stopped", timeout=10, interval=0.01).ok

    started = api.servers.start_many(ids)
    assert started.ok
    again = api.servers.start_many(ids)
    assert all(isinstance(o.error, vpsorg.BadRequestError) for o in again)

    deleted = api.servers.delete_many(ids)
    assert deleted.ok
    assert deleted.values() == [None] * 4
    assert {s.id for s in api.servers.list()} == {12345, 12346}


def test_wait_for_many_reports_missing_and_timed_out_servers() -> None:
    with (
        serve_in_thread(provision_delay=60) as slow,
        vpsorg.Client(token=slow.token, base_url=slow.base_url) as api,
    ):
        pending = api.servers.create("slow-2", 1, 5, "us-west")
        result = api.servers.wait_for_many(
            [12345, 999999, pending.id], "active", timeout=0.3, interval=0.05
        )
    assert result[0].ok
    assert isinstance(result[1].error, vpsorg.NotFoundError)
    assert isinstance(result[2].error, vpsorg.WaitTimeoutError)


def test_errors_are_the_async_clients_exception_classes(api: vpsorg.Client, sim: Simulator) -> None:
    sim.script(path="/api/v1/servers/12345/", method="GET", status=500, times=10)
    with pytest.raises(vpsorg.InternalServerError) as info:
        api.servers.get(12345)
    assert info.value.status_code == 500
    bad = vpsorg.Client(token="wrong", base_url=sim.base_url)
    try:
        with pytest.raises(vpsorg.AuthenticationError):
            bad.servers.get(12346)
    finally:
        bad.close()
