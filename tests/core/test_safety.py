"""Fleet safety (issue 14, items 6-8): settling an ambiguous create, waiters that stop
when the wanted status cannot come, and listings that never yield an id twice.

Everything runs against the bundled simulator; its scripted "commit, then drop" fault
(``after_action=True, drop=True``) makes the ambiguous create.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import BASE, SUMMARY_12345, sample
from tests.core.conftest import FAST
from vpsorg._async._waiting import DEFAULT_FAIL_ON, fail_statuses
from vpsorg.simulator import Simulator, serve_in_thread

CREATE: dict[str, Any] = {"path": "/api/v1/servers/", "method": "POST"}
SPEC: dict[str, Any] = {"name": "web-77", "plan_id": 1, "os_id": 5, "location": "us-east"}


@pytest.fixture
def blocking() -> Iterator[tuple[Simulator, vpsorg.Client]]:
    with (
        serve_in_thread(port=0, provision_delay=0.05, action_delay=0.05) as simulator,
        vpsorg.Client(token=simulator.token, base_url=simulator.base_url, retry=FAST) as client,
    ):
        yield simulator, client


async def named(api: vpsorg.AsyncClient, name: str) -> list[vpsorg.Server]:
    return [server async for server in api.servers.list() if server.name == name]


# ---------------------------------------------------------------- item 6: settle a create


async def test_unknown_create_carries_its_spec_and_start_time(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    sim.script(**CREATE, drop=True, after_action=True)
    before = time.time()
    with pytest.raises(vpsorg.OutcomeUnknownError) as caught:
        await api.servers.create(**SPEC, hostname="w77.example.com")
    error = caught.value
    assert type(error) is vpsorg.OutcomeUnknownError
    assert error.spec == vpsorg.ServerSpec(**SPEC, hostname="w77.example.com")
    assert error.started_at is not None and error.started_at.tzinfo is not None
    assert before - 1 <= error.started_at.timestamp() <= time.time()
    assert sim.token not in str(error) and sim.token not in repr(error)
    assert sim.token not in repr(error.spec)
    # The create did happen: find_created finds exactly that server.
    found = await api.servers.find_created(error)
    assert found is not None
    assert [s.id for s in await named(api, "web-77")] == [found.id]
    assert (found.name, found.hostname, found.location) == ("web-77", "w77.example.com", "us-east")


async def test_create_reconcile_returns_the_server_a_dropped_create_made(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    sim.script(**CREATE, drop=True, after_action=True)
    server = await api.servers.create(**SPEC, reconcile=True)
    assert server.name == "web-77"
    assert [s.id for s in await named(api, "web-77")] == [server.id]  # made once, not resent


async def test_create_reconcile_with_wait_waits_for_the_found_server(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    sim.script(**CREATE, drop=True, after_action=True)
    server = await api.servers.create(**SPEC, reconcile=True, wait=True, wait_timeout=30)
    assert server.status == "active"
    assert len(await named(api, "web-77")) == 1


async def test_a_create_dropped_before_acting_is_not_created_and_not_resent(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    sim.script(**CREATE, drop=True)  # dropped before the handler ran: nothing made
    with pytest.raises(vpsorg.NotCreatedError) as caught:
        await api.servers.create(**SPEC, reconcile=True)
    error = caught.value
    assert isinstance(error, vpsorg.OutcomeUnknownError)  # old handlers still catch it
    assert isinstance(error.cause, vpsorg.OutcomeUnknownError)
    assert error.spec == vpsorg.ServerSpec(**SPEC)
    assert "creating it again is safe" in str(error)
    assert await named(api, "web-77") == []
    assert await api.servers.find_created(error.cause) is None


async def test_a_5xx_after_acting_is_settled_too(sim: Simulator, api: vpsorg.AsyncClient) -> None:
    sim.script(**CREATE, status=500, after_action=True)
    server = await api.servers.create(**SPEC, reconcile=True)
    assert [s.id for s in await named(api, "web-77")] == [server.id]


async def test_several_matches_raise_ambiguous_with_the_candidates(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    first = await api.servers.create(**SPEC)
    second = await api.servers.create(**SPEC)
    sim.script(**CREATE, drop=True, after_action=True)
    with pytest.raises(vpsorg.AmbiguousCreateError) as caught:
        await api.servers.create(**SPEC, reconcile=True)
    candidates = caught.value.candidates
    assert len(candidates) == 3
    assert [c.id for c in candidates[:2]] == [first.id, second.id]  # oldest first
    assert isinstance(caught.value, vpsorg.OutcomeUnknownError)
    assert caught.value.spec == vpsorg.ServerSpec(**SPEC)


async def test_the_time_window_and_the_hostname_rule_out_other_servers(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    # The sample server web-server-01 (us-west, plan 1, os 5) was made in 2025: far
    # outside the window of a create made now.
    sample_spec: dict[str, Any] = {
        "name": "web-server-01",
        "plan_id": 1,
        "os_id": 5,
        "location": "us-west",
    }
    sim.script(**CREATE, drop=True)
    with pytest.raises(vpsorg.NotCreatedError):
        await api.servers.create(**sample_spec, reconcile=True)
    # A server made just now with another hostname is not the one asked for.
    await api.servers.create(**SPEC, hostname="other.example.com")
    sim.script(**CREATE, drop=True)
    with pytest.raises(vpsorg.NotCreatedError):
        await api.servers.create(**SPEC, hostname="mine.example.com", reconcile=True)
    # Without a hostname in the create, the hostname is not compared.
    sim.script(**CREATE, drop=True)
    found = await api.servers.create(**SPEC, reconcile=True)
    assert found.hostname == "other.example.com"


async def test_a_server_made_before_the_window_is_not_matched(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    await api.servers.create(**SPEC)
    sim.script(**CREATE, drop=True)
    with pytest.raises(vpsorg.OutcomeUnknownError) as caught:
        await api.servers.create(**SPEC)
    error = caught.value
    assert error.started_at is not None
    # Pretend the attempt started two minutes later than it did.
    from datetime import timedelta

    error.started_at += timedelta(seconds=120)
    assert await api.servers.find_created(error, clock_skew=0) is None
    assert await api.servers.find_created(error, clock_skew=300) is not None


async def test_a_failed_lookup_leaves_the_outcome_unknown(
    sim: Simulator, api: vpsorg.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    sim.script(**CREATE, drop=True, after_action=True)
    sim.script(path="/api/v1/servers/", method="GET", status=401, times=5)
    with (
        caplog.at_level(logging.WARNING, logger="vpsorg"),
        pytest.raises(vpsorg.OutcomeUnknownError) as caught,
    ):
        await api.servers.create(**SPEC, reconcile=True)
    assert type(caught.value) is vpsorg.OutcomeUnknownError
    assert isinstance(caught.value.__context__, vpsorg.AuthenticationError)
    assert "could not settle the create" in caplog.text


async def test_find_created_checks_its_arguments(api: vpsorg.AsyncClient) -> None:
    with pytest.raises(vpsorg.InvalidInputError, match="OutcomeUnknownError"):
        await api.servers.find_created(ValueError("x"))  # type: ignore[arg-type]
    not_a_create = vpsorg.OutcomeUnknownError("start failed", method="POST", url="u")
    with pytest.raises(vpsorg.InvalidInputError, match="carries no spec"):
        await api.servers.find_created(not_a_create)
    error = vpsorg.OutcomeUnknownError("x")
    error.spec = vpsorg.ServerSpec(**SPEC)
    from datetime import datetime, timezone

    error.started_at = datetime.now(timezone.utc)
    for bad in (-1, float("nan"), float("inf"), "5", True):
        with pytest.raises(vpsorg.InvalidInputError, match="clock_skew"):
            await api.servers.find_created(error, clock_skew=bad)  # type: ignore[arg-type]
    with pytest.raises(vpsorg.InvalidInputError, match="reconcile"):
        await api.servers.create(**SPEC, reconcile="yes")  # type: ignore[arg-type]


async def test_create_many_settles_each_item(sim: Simulator, api: vpsorg.AsyncClient) -> None:
    specs = [vpsorg.ServerSpec(**{**SPEC, "name": f"many-{i}"}) for i in range(4)]
    sim.script(**CREATE, drop=True, after_action=True, times=2)  # two made, answers lost
    result = await api.servers.create_many(specs, concurrency=1, reconcile=True)
    assert [o.error for o in result.failed] == []
    names = sorted([s.name async for s in api.servers.list() if s.name.startswith("many-")])
    assert names == [f"many-{i}" for i in range(4)]  # each made exactly once
    # Without reconcile, the same fault leaves two items unknown.
    sim.script(**CREATE, drop=True, after_action=True, times=2)
    plain = await api.servers.create_many(
        [vpsorg.ServerSpec(**{**SPEC, "name": f"more-{i}"}) for i in range(3)], concurrency=1
    )
    assert [type(o.error) for o in plain.failed] == [vpsorg.OutcomeUnknownError] * 2


async def test_create_many_reconcile_reports_not_created(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    sim.script(**CREATE, drop=True)
    result = await api.servers.create_many([SPEC], reconcile=True)
    assert isinstance(result.outcomes[0].error, vpsorg.NotCreatedError)


def test_blocking_client_settles_a_create(blocking: tuple[Simulator, vpsorg.Client]) -> None:
    sim, client = blocking
    sim.script(**CREATE, drop=True, after_action=True)
    server = client.servers.create(**SPEC, reconcile=True)
    assert [s.id for s in client.servers.list() if s.name == "web-77"] == [server.id]
    sim.script(**CREATE, drop=True, after_action=True)
    try:
        client.servers.create(**{**SPEC, "name": "web-78"})
    except vpsorg.OutcomeUnknownError as error:
        found = client.servers.find_created(error)
    assert found is not None and found.name == "web-78"


# ---------------------------------------------------------------- item 7: waiters that stop


async def test_waiting_for_active_on_a_suspended_server_fails_at_once(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    sim.suspend(12345)
    began = time.monotonic()
    with pytest.raises(vpsorg.UnreachableStatusError) as caught:
        await api.servers.wait_for(12345, "active", timeout=60)
    assert time.monotonic() - began < 10  # not the 60 s timeout
    error = caught.value
    assert error.last_seen.status == "suspended"
    assert (error.server_id, error.status) == (12345, "active")
    assert error.fail_on == ["stopped", "stopping", "suspended"]
    assert "'suspended'" in str(error) and "'active'" in str(error)
    assert type(error) is vpsorg.UnreachableStatusError  # not a WaitTimeoutError


async def test_a_server_suspended_during_the_wait_ends_it(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    checks: list[vpsorg.WaitProgress] = []

    def progress(report: vpsorg.WaitProgress) -> None:
        checks.append(report)
        if report.checks == 2:
            sim.suspend(report.server_id)

    await api.servers.stop(12345)
    await api.servers.wait_for(12345, "stopped", timeout=30, interval=0.01)
    # A start made elsewhere may come, so "stopped" is allowed; "suspended" is not.
    with pytest.raises(vpsorg.UnreachableStatusError):
        await api.servers.wait_for(
            12345, "active", timeout=60, interval=0.01, fail_on="suspended", progress=progress
        )
    assert [c.checks for c in checks] == [1, 2, 3]
    assert [c.server.status for c in checks] == ["stopped", "stopped", "suspended"]
    assert checks[0].status == "active" and checks[0].elapsed <= checks[-1].elapsed


async def test_defaults_per_target_and_fail_on(sim: Simulator, api: vpsorg.AsyncClient) -> None:
    await api.servers.stop(12345)
    stopped = await api.servers.wait_for(12345, "stopped", timeout=30, interval=0.01)
    assert stopped.status == "stopped"
    # stopped: only a start brings it to active
    with pytest.raises(vpsorg.UnreachableStatusError):
        await api.servers.wait_for(12345, "active", timeout=30)
    # ... unless fail_on says otherwise (a start made elsewhere may be on its way)
    with pytest.raises(vpsorg.WaitTimeoutError):
        await api.servers.wait_for(12345, "active", timeout=0.2, interval=0.01, fail_on=[])
    with pytest.raises(vpsorg.WaitTimeoutError):
        await api.servers.wait_for(12345, "active", timeout=0.2, interval=0.01, fail_on="suspended")
    # the transitions that do lead to the target are waited through
    await api.servers.start(12345)
    assert (await api.servers.wait_for(12345, "active", timeout=30, interval=0.01)).status == (
        "active"
    )
    await api.servers.reboot(12345)
    assert (await api.servers.wait_for(12345, "active", timeout=30, interval=0.01)).status == (
        "active"
    )
    created = await api.servers.create(**SPEC)
    assert (await api.servers.wait_for(created.id, timeout=30, interval=0.01)).status == "active"
    # a stop while waiting for "stopped" from rebooting: rebooting ends active
    await api.servers.reboot(12346)
    with pytest.raises(vpsorg.UnreachableStatusError) as caught:
        await api.servers.wait_for(12346, "stopped", timeout=30, interval=0.01)
    assert caught.value.last_seen.status == "rebooting"


def test_fail_statuses_rules() -> None:
    assert fail_statuses(("active",), None) == DEFAULT_FAIL_ON["active"]
    assert fail_statuses(("active", "stopped"), None) == {"suspended"}
    assert fail_statuses(("active", "suspended"), None) == set()
    assert fail_statuses(("suspended",), None) == set()
    assert fail_statuses(("brand-new",), None) == set()
    assert fail_statuses(("active",), []) == set()
    assert fail_statuses(("active",), ["stopped", "active"]) == {"stopped"}
    assert fail_statuses(("active",), vpsorg.ServerStatus.SUSPENDED) == {"suspended"}


async def test_bad_fail_on_and_progress_are_refused_before_sending(
    api: vpsorg.AsyncClient,
) -> None:
    for bad in (5, [5], b"suspended", [""]):
        with pytest.raises(vpsorg.InvalidInputError, match="fail_on"):
            await api.servers.wait_for(12345, fail_on=bad)  # type: ignore[arg-type]
        with pytest.raises(vpsorg.InvalidInputError, match="fail_on"):
            await api.servers.wait_for_many([12345], fail_on=bad)  # type: ignore[arg-type]
    with pytest.raises(vpsorg.InvalidInputError, match="progress"):
        await api.servers.wait_for(12345, progress=3)  # type: ignore[arg-type]


async def test_a_raising_progress_callback_does_not_end_the_wait(
    api: vpsorg.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    def progress(report: vpsorg.WaitProgress) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="vpsorg"):
        server = await api.servers.wait_for(12345, "active", progress=progress)
    assert server.status == "active"
    assert "progress callback raised" in caplog.text


async def test_wait_for_many_fails_the_unreachable_ones_at_once(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    created = await api.servers.create_many([{**SPEC, "name": f"w-{i}"} for i in range(3)])
    ids = [server.id for server in created.values()]
    sim.suspend(ids[1])
    reports: list[vpsorg.BulkProgress] = []
    began = time.monotonic()
    result = await api.servers.wait_for_many(
        ids, "active", timeout=60, interval=0.01, progress=reports.append
    )
    assert time.monotonic() - began < 10
    assert [o.ok for o in result.outcomes] == [True, False, True]
    error = result.outcomes[1].error
    assert isinstance(error, vpsorg.UnreachableStatusError)
    assert error.last_seen.status == "suspended"
    assert len(reports) == 3 and reports[-1].completed == 3
    # fail_on=[] waits it out instead
    timed = await api.servers.wait_for_many([ids[1]], timeout=0.2, interval=0.01, fail_on=[])
    assert isinstance(timed.outcomes[0].error, vpsorg.WaitTimeoutError)


def test_blocking_wait_for_stops_on_suspended(blocking: tuple[Simulator, vpsorg.Client]) -> None:
    sim, client = blocking
    sim.suspend(12346)
    seen: list[int] = []
    with pytest.raises(vpsorg.UnreachableStatusError):
        client.servers.wait_for(12346, timeout=60, progress=lambda r: seen.append(r.checks))
    assert seen == [1]
    result = client.servers.wait_for_many([12345, 12346], timeout=60)
    assert isinstance(result.outcomes[1].error, vpsorg.UnreachableStatusError)


# ---------------------------------------------------------------- item 8: no id twice

SERVERS = BASE + "servers/"


def _page(ids: list[int], nxt: str | None) -> dict[str, Any]:
    results = [sample(SUMMARY_12345, id=i, name=f"s-{i}") for i in ids]
    return {"count": 4, "next": nxt, "previous": None, "results": results}


async def test_an_id_shifted_onto_the_next_page_is_yielded_once(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    # Page 2 was read after a server was created ahead of the others (newest first):
    # 2 moved from page 1 to page 2.
    mocked.get(SERVERS, payload=_page([1, 2], SERVERS + "?page=2"), repeat=True)
    mocked.get(SERVERS + "?page=2", payload=_page([2, 3], None), repeat=True)
    assert [s.id async for s in client.servers.list()] == [1, 2, 3]
    assert [s.id for s in await client.servers.list()] == [1, 2, 3]
    listing = client.servers.list()
    assert [s.id async for s in listing] == [1, 2, 3]
    assert [s.id async for s in listing] == [1, 2, 3]  # each iteration has its own set
    pages = [[s.id for s in page.results] async for page in client.servers.list().pages()]
    assert pages == [[1, 2], [2, 3]]  # pages stay as the API sent them


def test_blocking_listing_yields_an_id_once(blocking: tuple[Simulator, vpsorg.Client]) -> None:
    sim, client = blocking
    # Page 1 (scripted) already holds 12346, which the real page 2 holds too.
    first = _page([12346], sim.base_url + "servers/?page=2&page_size=1")
    sim.script(path="/api/v1/servers/", method="GET", status=200, body=first)
    assert [s.id for s in client.servers.list(page_size=1)] == [12346]
    sim.script(path="/api/v1/servers/", method="GET", status=200, body=first)
    assert [s.id for s in client.servers.list(page_size=1).to_list()] == [12346]


async def test_deletes_during_a_listing_can_skip_but_never_repeat(
    sim: Simulator, api: vpsorg.AsyncClient
) -> None:
    made = await api.servers.create_many([{**SPEC, "name": f"p-{i}"} for i in range(4)])
    ids = sorted(server.id for server in made.values())
    seen: list[int] = []
    async for server in api.servers.list(page_size=2):
        seen.append(server.id)
        if server.id == 12346:  # end of page 1: delete one server seen already
            await api.servers.delete(12345)
    assert len(seen) == len(set(seen))
    assert ids[0] not in seen  # shifted back onto page 1 after it was read: missed
