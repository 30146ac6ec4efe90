"""Typed per-call and per-attempt events (``event_hooks=``), in both clients."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import attrs
import pytest

import vpsorg
from tests.core._harness import FAST, Harness, kind, make, sim
from vpsorg._async import _pipeline
from vpsorg.simulator._server import Simulator

__all__ = ["kind", "make", "sim"]

SERVER = 12345
PATH = f"/api/v1/servers/{SERVER}/"


def _kinds(events: list[vpsorg.Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def _no_token(events: list[vpsorg.Event], token: str) -> None:
    for event in events:
        assert token not in repr(event)
        for field in attrs.fields(type(event)):
            assert token not in str(getattr(event, field.name))


def test_a_successful_get_emits_four_events_with_one_call_id(
    make: Callable[..., Harness], sim: Simulator
) -> None:
    events: list[vpsorg.Event] = []
    harness = make(event_hooks=[events.append])
    server = harness.run(lambda c: c.servers.get(SERVER))
    assert server.id == SERVER
    assert _kinds(events) == ["CallStarted", "AttemptStarted", "AttemptEnded", "CallEnded"]
    assert len({e.call_id for e in events}) == 1
    started, attempt, ended, call = events
    assert isinstance(started, vpsorg.CallStarted)
    assert started.url_template == "/servers/{id}/"
    assert started.url == sim.base_url + f"servers/{SERVER}/"
    assert isinstance(attempt, vpsorg.AttemptStarted) and attempt.attempt == 1
    assert isinstance(ended, vpsorg.AttemptEnded)
    assert ended.status_code == 200 and ended.error is None and ended.elapsed > 0
    assert ended.request_id and ended.headers["X-Request-ID"] == ended.request_id
    assert set(ended.headers) <= set(vpsorg.EVENT_HEADERS)
    assert isinstance(call, vpsorg.CallEnded)
    assert (call.outcome, call.attempts, call.status_code, call.error) == ("success", 1, 200, None)
    assert call.elapsed >= ended.elapsed
    _no_token(events, sim.token)


def test_a_retried_call_shows_every_attempt_and_the_retry(
    make: Callable[..., Harness], sim: Simulator
) -> None:
    events: list[vpsorg.Event] = []
    harness = make(event_hooks=[events.append])
    sim.script(path=PATH, method="GET", status=503)
    sim.script(path=PATH, method="GET", drop=True)
    harness.run(lambda c: c.servers.get(SERVER))
    assert _kinds(events) == [
        "CallStarted",
        "AttemptStarted",
        "AttemptEnded",
        "RetryScheduled",
        "AttemptStarted",
        "AttemptEnded",
        "RetryScheduled",
        "AttemptStarted",
        "AttemptEnded",
        "CallEnded",
    ]
    ends = [e for e in events if isinstance(e, vpsorg.AttemptEnded)]
    assert [e.attempt for e in ends] == [1, 2, 3]
    assert [e.status_code for e in ends] == [503, None, 200]
    assert isinstance(ends[1].error, vpsorg.APIConnectionError)
    retries = [e for e in events if isinstance(e, vpsorg.RetryScheduled)]
    assert retries[0].reason == "HTTP 503" and retries[0].attempt == 1
    assert retries[1].reason == type(ends[1].error).__name__
    assert all(r.delay >= 0 for r in retries)
    call = events[-1]
    assert isinstance(call, vpsorg.CallEnded)
    assert (call.outcome, call.attempts) == ("success", 3)
    _no_token(events, sim.token)


def test_a_failed_call_ends_with_its_error(make: Callable[..., Harness], sim: Simulator) -> None:
    events: list[vpsorg.Event] = []
    harness = make(event_hooks=[events.append])
    with pytest.raises(vpsorg.NotFoundError) as caught:
        harness.run(lambda c: c.servers.get(999999))
    call = events[-1]
    assert isinstance(call, vpsorg.CallEnded)
    assert (call.outcome, call.status_code, call.attempts) == ("error", 404, 1)
    assert call.error is caught.value


def test_a_hook_that_raises_does_not_break_the_call_and_is_logged_once(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[vpsorg.Event] = []

    def broken(event: vpsorg.Event) -> None:
        raise RuntimeError("hook bug")

    harness = make(event_hooks=[broken, seen.append])
    with caplog.at_level(logging.WARNING, logger="vpsorg"):
        for _ in range(2):
            assert harness.run(lambda c: c.servers.get(SERVER)).id == SERVER
    logged = [r for r in caplog.records if "event hook" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert len(seen) == 8  # the next hook still got every event


def test_hooks_of_the_blocking_client_run_in_its_loop_thread(
    make: Callable[..., Harness], kind: str
) -> None:
    threads: set[int] = set()
    harness = make(event_hooks=[lambda e: threads.add(threading.get_ident())])
    harness.run(lambda c: c.servers.get(SERVER))
    assert len(threads) == 1
    assert (threading.get_ident() in threads) is (kind == "async")


def test_copies_made_by_with_options_keep_the_hooks(make: Callable[..., Harness]) -> None:
    events: list[vpsorg.Event] = []
    harness = make(event_hooks=[events.append])
    harness.run(lambda c: c.with_options(timeout=5).servers.get(SERVER))
    assert _kinds(events)[-1] == "CallEnded"


def test_list_events_carry_the_query_string_and_template(make: Callable[..., Harness]) -> None:
    events: list[vpsorg.Event] = []
    harness = make(event_hooks=[events.append])
    harness.run(lambda c: c.servers.list(status="active").to_list())
    assert events[0].url.endswith("servers/?status=active")
    assert events[0].url_template == "/servers/"


@pytest.mark.parametrize("hooks", ["not a list", [1], print])
def test_event_hooks_must_be_a_list_of_callables(hooks: Any) -> None:
    with pytest.raises(vpsorg.ConfigurationError, match="event"):
        vpsorg.AsyncClient(token="t" * 20, base_url="http://127.0.0.1:1/", event_hooks=hooks)


async def test_a_cancelled_call_ends_cancelled(sim: Simulator) -> None:
    sim.reset()
    events: list[vpsorg.Event] = []
    sim.script(path=PATH, method="GET", delay=5.0)
    async with vpsorg.AsyncClient(
        token=sim.token, base_url=sim.base_url, retry=FAST, event_hooks=[events.append]
    ) as client:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.servers.get(SERVER), 0.2)
    assert _kinds(events) == ["CallStarted", "AttemptStarted", "AttemptEnded", "CallEnded"]
    ended, call = events[2], events[3]
    assert isinstance(ended, vpsorg.AttemptEnded)
    assert isinstance(ended.error, asyncio.CancelledError)
    assert isinstance(call, vpsorg.CallEnded) and call.outcome == "cancelled"


async def test_without_hooks_no_event_is_built_and_the_fast_path_is_kept(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.reset()

    def no_call(*args: object, **kwargs: object) -> None:
        raise AssertionError("built without hooks")

    for name in ("CallStarted", "AttemptStarted", "AttemptEnded", "CallEnded", "_Call"):
        monkeypatch.setattr(_pipeline, name, no_call)
    async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
        assert (await client.servers.get(SERVER)).id == SERVER
