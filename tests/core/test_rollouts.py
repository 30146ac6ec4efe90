"""Error budgets, rolling operations and interrupted bulk calls (issue 21, issue 19 item 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest

import vpsorg
from vpsorg._async._rolling import batch_sizes
from vpsorg.simulator import Simulator


async def _odd_fails(n: int) -> int:
    if n % 2:
        raise ValueError(f"item {n} failed")
    return n


def _kinds(outcomes: Iterable[vpsorg.Outcome[Any, Any]]) -> list[str]:
    return ["ok" if o.ok else type(o.error).__name__ for o in outcomes]


# -- error budgets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [-1, 1.5, -0.1, "10", "x%", "101%", "-5%", True, float("nan"), [1], object()]
)
async def test_max_errors_rejects_what_is_not_a_count_a_fraction_or_a_percentage(
    bad: object,
) -> None:
    with pytest.raises(vpsorg.InvalidInputError, match="max_errors"):
        await vpsorg.fleet.map(_odd_fails, range(4), max_errors=bad)  # type: ignore[arg-type]


async def test_max_errors_stops_new_items_and_marks_the_rest_not_started() -> None:
    result = await vpsorg.fleet.map(_odd_fails, range(10), concurrency=1, max_errors=1)
    # Items 1 and 3 fail; the second failure exceeds the budget of 1: nothing after starts.
    assert _kinds(result) == ["ok", "ValueError", "ok", "ValueError"] + ["NotStartedError"] * 6
    assert result.stopped_early and result.stop_reason == "max_errors"
    assert [o.item for o in result.not_started] == [4, 5, 6, 7, 8, 9]
    errors = [o.error for o in result.not_started]
    assert all(isinstance(e, vpsorg.NotStartedError) and e.reason == "max_errors" for e in errors)
    assert all(isinstance(e, vpsorg.NotStartedError) and not e.request_sent for e in errors)
    assert "6 not started" in repr(result) and "stopped early" in repr(result)


@pytest.mark.parametrize("budget", [2, 0.2, "20%", " 20% "])
async def test_a_count_a_fraction_and_a_percentage_mean_the_same_budget(budget: object) -> None:
    result = await vpsorg.fleet.map(_odd_fails, range(10), concurrency=1, max_errors=budget)  # type: ignore[arg-type]
    assert len(result) == 10
    assert [o.item for o in result.failed if o not in result.not_started] == [1, 3, 5]
    assert len(result.not_started) == 4


async def test_a_budget_not_exceeded_changes_nothing() -> None:
    result = await vpsorg.fleet.map(_odd_fails, range(10), concurrency=3, max_errors=5)
    assert not result.stopped_early and result.stop_reason is None
    assert len(result.failed) == 5 and not result.not_started


async def test_in_flight_items_finish_when_the_budget_is_spent() -> None:
    fail, release = asyncio.Event(), asyncio.Event()
    started: list[int] = []
    finished: list[int] = []

    async def work(n: int) -> int:
        started.append(n)
        if n == 0:
            await fail.wait()
            raise ValueError("first")
        await release.wait()
        finished.append(n)
        return n

    task = asyncio.ensure_future(vpsorg.fleet.map(work, range(10), concurrency=3, max_errors=0))
    for _ in range(100):  # bounded: until the three workers are on their first items
        if len(started) == 3:
            break
        await asyncio.sleep(0)
    fail.set()
    for _ in range(10):
        await asyncio.sleep(0)
    release.set()
    result = await task
    assert sorted(finished) == [1, 2]  # in flight when the budget was spent: they finish
    assert started == [0, 1, 2]  # and nothing started after
    assert len(result.not_started) == 7 and result.stop_reason == "max_errors"


async def test_imap_stops_pulling_items_once_the_budget_is_spent() -> None:
    pulled: list[int] = []

    def numbers() -> Any:
        for n in range(100):
            pulled.append(n)
            yield n

    outcomes = [
        o async for o in vpsorg.fleet.imap(_odd_fails, numbers(), concurrency=1, max_errors=1)
    ]
    assert [o.item for o in outcomes] == [0, 1, 2, 3]
    assert pulled == [0, 1, 2, 3]


async def test_imap_over_a_list_gives_every_item_not_started_its_outcome() -> None:
    stream = vpsorg.fleet.imap(_odd_fails, list(range(8)), concurrency=1, max_errors="25%")
    outcomes = [o async for o in stream]
    assert [o.item for o in outcomes] == list(range(8))
    assert (
        _kinds(outcomes)
        == ["ok", "ValueError", "ok", "ValueError", "ok", "ValueError"] + ["NotStartedError"] * 2
    )


async def test_imap_refuses_a_share_of_an_input_of_unknown_length() -> None:
    with pytest.raises(vpsorg.InvalidInputError, match="number is unknown"):
        vpsorg.fleet.imap(_odd_fails, iter(range(3)), max_errors="10%")
    gen = vpsorg.fleet.imap(_odd_fails, [1, 2, 3], max_errors="10%")  # a list has a length
    await gen.aclose()


async def test_bulk_methods_take_max_errors(api: vpsorg.AsyncClient) -> None:
    result = await api.servers.get_many([999991, 999992, 12345, 12346], concurrency=1, max_errors=1)
    assert _kinds(result) == [
        "NotFoundError",
        "NotFoundError",
        "NotStartedError",
        "NotStartedError",
    ]
    with pytest.raises(vpsorg.InvalidInputError, match="max_errors"):
        await api.servers.reboot_many([12345], max_errors="lots")


async def test_wait_for_many_ends_once_more_servers_than_max_errors_failed(
    api: vpsorg.AsyncClient,
) -> None:
    result = await api.servers.wait_for_many(
        [999991, 12345], "stopped", timeout=30, max_errors=0, interval=0.01
    )
    assert type(result[0].error) is vpsorg.NotFoundError
    assert result.stop_reason == "max_errors"
    assert type(result[1].error) is vpsorg.NotStartedError  # no longer waited for


# -- interrupted bulk calls carry their partial result --------------------------------


async def test_a_cancelled_bulk_call_carries_every_outcome_in_its_exception() -> None:
    started = asyncio.Event()

    async def work(n: int) -> int:
        if n < 3:
            return n
        started.set()
        await asyncio.Event().wait()  # never finishes
        return n

    task = asyncio.ensure_future(vpsorg.fleet.map(work, range(10), concurrency=2))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    partial = vpsorg.partial_result(caught.value)
    assert partial is not None and partial.stop_reason == "interrupted"
    assert len(partial) == 10
    assert [o.value for o in partial[:3]] == [0, 1, 2]
    kinds = _kinds(partial)
    assert kinds[3:5] == ["OutcomeUnknownError", "OutcomeUnknownError"]  # in flight
    assert kinds[5:] == ["NotStartedError"] * 5
    errors = [o.error for o in partial.not_started]
    assert all(isinstance(e, vpsorg.NotStartedError) and e.reason == "interrupted" for e in errors)


async def test_a_deadline_leaves_the_partial_result_on_its_cause() -> None:
    async def slow(n: int) -> int:
        await asyncio.sleep(0 if n < 5 else 60)
        return n

    with pytest.raises(asyncio.TimeoutError) as caught:
        await asyncio.wait_for(vpsorg.fleet.map(slow, range(20), concurrency=5), 0.2)
    partial = vpsorg.partial_result(caught.value)
    assert partial is not None and len(partial) == 20
    assert [o.value for o in partial if o.ok] == [0, 1, 2, 3, 4]
    assert vpsorg.partial_result(ValueError("unrelated")) is None


async def test_create_many_interrupted_keeps_created_servers_and_settles_the_rest(
    api: vpsorg.AsyncClient, sim: Simulator
) -> None:
    specs = [
        vpsorg.ServerSpec(name=f"cut-{i}", plan_id=1, os_id=5, location="us-east") for i in range(6)
    ]
    sim.script(path="/api/v1/servers/", method="POST", delay=30, times=1)  # the 1st hangs
    task = asyncio.ensure_future(api.servers.create_many(specs, concurrency=2))
    for _ in range(200):
        if sim.count_by_name("cut-5") or sum(sim.count_by_name(f"cut-{i}") for i in range(6)) >= 5:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    partial = vpsorg.partial_result(caught.value)
    assert partial is not None and len(partial) == 6
    made = {o.value.id for o in partial if o.ok}
    assert len(made) == 5  # every created server is in the result
    (unknown,) = [o for o in partial if not o.ok]
    error = unknown.error
    assert isinstance(error, vpsorg.OutcomeUnknownError)
    assert error.spec is not None and error.spec.name == unknown.item.name
    assert error.started_at is not None
    found = await api.servers.find_created(error)  # the spec and time let it settle
    assert found is None or found.name == unknown.item.name


# -- rolling operations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batches", "total", "sizes"),
    [
        (1, 3, [1, 1, 1]),
        (4, 10, [4, 4, 2]),
        ("25%", 10, [2, 2, 2, 2, 2]),
        (0.5, 5, [2, 2, 1]),
        ([1, 5, "25%"], 20, [1, 5, 5, 5, 4]),
        ([1, "1%"], 10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),  # a share is at least 1
        (100, 3, [3]),
        (1, 0, []),
    ],
)
def test_batch_sizes_follow_ansible_serial(batches: Any, total: int, sizes: list[int]) -> None:
    assert batch_sizes(batches, total) == sizes


@pytest.mark.parametrize("bad", [0, -1, "0%", 1.5, 0.0, [], ["x"], True, None])
async def test_rolling_refuses_a_bad_batch_size(bad: object) -> None:
    with pytest.raises(vpsorg.InvalidInputError, match="batches"):
        await vpsorg.fleet.rolling(_odd_fails, [1, 2], batches=bad)  # type: ignore[call-overload]


async def test_fleet_rolling_checks_each_batch_before_the_next() -> None:
    log: list[str] = []

    async def act(n: int) -> int:
        log.append(f"act {n}")
        return n

    async def check(n: int) -> str:
        log.append(f"check {n}")
        return f"healthy {n}"

    seen: list[tuple[int | None, int | None, int]] = []
    result = await vpsorg.fleet.rolling(
        act,
        range(5),
        batches=[1, 2],
        check=check,
        progress=lambda p: seen.append((p.batch, p.batches, p.completed)),
    )
    assert result.values() == [f"healthy {n}" for n in range(5)]
    # No item of a batch is acted on before every item of the previous one was checked.
    assert log.index("check 0") < log.index("act 1")
    assert max(log.index("check 1"), log.index("check 2")) < log.index("act 3")
    assert seen == [(1, 3, 1), (2, 3, 2), (2, 3, 3), (3, 3, 4), (3, 3, 5)]


async def test_the_rolling_budget_counts_across_batches_and_stops_at_the_batch() -> None:
    async def check(n: int) -> int:
        if n == 4:
            raise RuntimeError("unhealthy")
        return n

    result = await vpsorg.fleet.rolling(_odd_fails, range(12), batches=3, check=check, max_errors=2)
    # Batch 1 (0, 1, 2): 1 failure; batch 2 (3, 4, 5): 3 fails, 4 unhealthy, 5 fails: 4 > 2.
    assert _kinds(result)[:6] == [
        "ok",
        "ValueError",
        "ok",
        "ValueError",
        "RuntimeError",
        "ValueError",
    ]
    assert _kinds(result)[6:] == ["NotStartedError"] * 6
    assert result.stop_reason == "max_errors"


async def test_rolling_pauses_between_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("vpsorg._async._rolling.asyncio.sleep", sleep)
    await vpsorg.fleet.rolling(_odd_fails, [0, 2, 4], batches=1, pause=7.5)
    assert pauses == [7.5, 7.5]


async def test_a_cancelled_rolling_operation_carries_the_whole_partial_result() -> None:
    gate = asyncio.Event()

    async def act(n: int) -> int:
        if n >= 2:
            gate.set()
            await asyncio.Event().wait()
        return n

    task = asyncio.ensure_future(vpsorg.fleet.rolling(act, range(6), batches=2))
    await gate.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    partial = vpsorg.partial_result(caught.value)
    assert partial is not None and partial.stop_reason == "interrupted"
    assert _kinds(partial) == ["ok", "ok"] + ["OutcomeUnknownError"] * 2 + ["NotStartedError"] * 2


async def test_rolling_reboots_servers_in_batches_waiting_for_each(
    api: vpsorg.AsyncClient, sim: Simulator
) -> None:
    created = await api.servers.create_many(
        [
            vpsorg.ServerSpec(name=f"roll-{i}", plan_id=1, os_id=5, location="us-east")
            for i in range(4)
        ]
    )
    ids = [s.id for s in created.values()]
    await api.servers.wait_for_many(ids, timeout=30, interval=0.01)
    batches: list[int | None] = []
    result = await api.servers.rolling(
        "reboot",
        [*ids, 999999],
        batches=[1, "50%"],
        timeout=30,
        progress=lambda p: batches.append(p.batch),
    )
    assert [o.item for o in result] == [*ids, 999999]
    assert (
        all(o.value.status == "active" for o in result[:4] if o.ok) and len(result.succeeded) == 4
    )
    assert type(result[4].error) is vpsorg.NotFoundError
    assert batches == [1, 2, 2, 3, 3]  # sizes 1, 2, 2 of five servers


async def test_rolling_stop_waits_for_stopped_and_restart_cycles_power(
    api: vpsorg.AsyncClient,
) -> None:
    stopped = await api.servers.rolling("stop", [12345], timeout=30)
    assert stopped[0].value is not None and stopped[0].value.status == "stopped"
    started = await api.servers.rolling("start", [12345], timeout=30)
    assert started[0].value is not None and started[0].value.status == "active"
    restarted = await api.servers.rolling("restart", [12345, 12346], batches=2, timeout=30)
    assert [o.value.status for o in restarted if o.ok] == ["active", "active"]


async def test_rolling_stops_at_the_batch_where_the_budget_is_exceeded(
    api: vpsorg.AsyncClient, sim: Simulator
) -> None:
    before = sim.request_count
    result = await api.servers.rolling(
        "reboot", [999991, 12345, 12346], batches=1, max_errors=0, timeout=30
    )
    assert _kinds(result) == ["NotFoundError", "NotStartedError", "NotStartedError"]
    assert result.stopped_early
    assert sim.request_count - before == 1  # nothing sent for the servers not started


async def test_rolling_refuses_an_unknown_action(api: vpsorg.AsyncClient) -> None:
    with pytest.raises(vpsorg.InvalidInputError, match="action"):
        await api.servers.rolling("delete", [12345])  # type: ignore[arg-type]
