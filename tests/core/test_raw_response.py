"""``client.servers.with_raw_response.<method>(...)``, in both clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import vpsorg
from tests.core._harness import Harness, kind, make, sim
from vpsorg.simulator._server import Simulator

__all__ = ["kind", "make", "sim"]

SERVER = 12345


def _check(raw: vpsorg.RawResponse[Any], sim: Simulator, method: str, status: int) -> None:
    assert isinstance(raw, vpsorg.RawResponse)
    assert raw.method == method and raw.status_code == status
    assert raw.url.startswith(sim.base_url)
    assert raw.request_id and raw.headers["X-Request-ID"] == raw.request_id
    assert "Authorization" not in raw.headers
    assert raw.attempts == 1 and raw.retries_taken == 0 and raw.elapsed > 0
    assert sim.token not in repr(raw)


def test_raw_get_and_list(make: Callable[..., Harness], sim: Simulator) -> None:
    harness = make()
    raw = harness.run(lambda c: c.servers.with_raw_response.get(SERVER))
    _check(raw, sim, "GET", 200)
    assert isinstance(raw.parsed, vpsorg.Server) and raw.parsed.id == SERVER
    page = harness.run(lambda c: c.servers.with_raw_response.list(status="active", page_size=1))
    _check(page, sim, "GET", 200)
    assert isinstance(page.parsed, vpsorg.ServerPage)
    assert len(page.parsed.results) == 1 and page.parsed.next is not None


def test_raw_create_update_patch_and_delete(make: Callable[..., Harness], sim: Simulator) -> None:
    harness = make()
    raws = harness.run(lambda c: c.servers.with_raw_response)
    created = harness.run(lambda c: raws.create("raw-1", 1, 5, "us-west"))
    _check(created, sim, "POST", 201)
    new_id = created.parsed.id
    assert created.parsed.name == "raw-1"
    updated = harness.run(lambda c: raws.update(new_id, "raw-2", "raw2.example.com", False))
    _check(updated, sim, "PUT", 200)
    assert updated.parsed.name == "raw-2"
    patched = harness.run(lambda c: raws.patch(new_id, name="raw-3"))
    _check(patched, sim, "PATCH", 200)
    assert patched.parsed.name == "raw-3"
    deleted = harness.run(lambda c: raws.delete(new_id))
    _check(deleted, sim, "DELETE", 204)
    assert deleted.parsed is None


def test_raw_stop_start_and_reboot(make: Callable[..., Harness], sim: Simulator) -> None:
    harness = make()
    raw = harness.run(lambda c: c.servers.with_raw_response.stop(SERVER))
    _check(raw, sim, "POST", 200)
    assert isinstance(raw.parsed, vpsorg.ActionResult)
    harness.run(lambda c: c.servers.wait_for(SERVER, "stopped", timeout=10))
    raw = harness.run(lambda c: c.servers.with_raw_response.start(SERVER))
    _check(raw, sim, "POST", 200)
    harness.run(lambda c: c.servers.wait_for(SERVER, "active", timeout=10))
    raw = harness.run(lambda c: c.servers.with_raw_response.reboot(SERVER))
    _check(raw, sim, "POST", 200)
    assert isinstance(raw.parsed, vpsorg.ActionResult)


def test_a_retried_raw_call_counts_its_attempts(
    make: Callable[..., Harness], sim: Simulator
) -> None:
    harness = make()
    sim.script(path=f"/api/v1/servers/{SERVER}/", method="GET", status=503, times=2)
    raw = harness.run(lambda c: c.servers.with_raw_response.get(SERVER))
    assert (raw.status_code, raw.attempts, raw.retries_taken) == (200, 3, 2)


def test_a_raw_call_raises_the_usual_errors(make: Callable[..., Harness]) -> None:
    harness = make()
    with pytest.raises(vpsorg.NotFoundError):
        harness.run(lambda c: c.servers.with_raw_response.get(999999))
    with pytest.raises(vpsorg.InvalidInputError):
        harness.run(lambda c: c.servers.with_raw_response.get(-1))
    # The ordinary resource is untouched by raw calls.
    assert harness.run(lambda c: c.servers.get(SERVER)).id == SERVER


def test_raw_calls_emit_events_too(make: Callable[..., Harness]) -> None:
    events: list[vpsorg.Event] = []
    harness = make(event_hooks=[events.append])
    raw = harness.run(lambda c: c.servers.with_raw_response.get(SERVER))
    ended = [e for e in events if isinstance(e, vpsorg.AttemptEnded)]
    assert [e.request_id for e in ended] == [raw.request_id]


def test_raw_response_reprs_name_their_class(make: Callable[..., Harness], kind: str) -> None:
    harness = make()
    raws = harness.run(lambda c: c.servers.with_raw_response)
    expected = "AsyncServersWithRawResponse" if kind == "async" else "ServersWithRawResponse"
    assert repr(raws).startswith(expected + "(")
