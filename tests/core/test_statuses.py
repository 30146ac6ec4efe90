"""ServerStatus members are accepted wherever a status is; an unknown status is sent as
given with one warning (issue 11, item 8). Both clients, against the simulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import Simulator

ACTIVE = vpsorg.ServerStatus.ACTIVE


def run(kind: str, sim: Simulator, call: Callable[[Any], Any]) -> Any:
    """``call(servers)`` on the blocking or the async client; awaits what needs it."""
    if kind == "blocking":
        with vpsorg.Client(token=sim.token, base_url=sim.base_url) as api:
            result = call(api.servers)
            return result.to_list() if isinstance(result, vpsorg.ServerIterator) else result

    async def go() -> Any:
        async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
            return await call(client.servers)

    return asyncio.run(go())


def vpsorg_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "vpsorg" and r.levelno == logging.WARNING
    ]


KINDS = pytest.mark.parametrize("kind", ["async", "blocking"])


@KINDS
def test_list_accepts_a_status_member(
    vpsorg_simulator: Simulator, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    servers = run(kind, vpsorg_simulator, lambda s: s.list(status=ACTIVE))
    assert servers
    assert {server.status for server in servers} == {"active"}
    assert vpsorg_warnings(caplog) == []


@KINDS
def test_wait_for_and_wait_for_many_accept_status_members(
    vpsorg_simulator: Simulator, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = run(kind, vpsorg_simulator, lambda s: s.wait_for(12345, ACTIVE, timeout=5))
    assert server.id == 12345
    server = run(
        kind,
        vpsorg_simulator,
        lambda s: s.wait_for(12345, [vpsorg.ServerStatus.STOPPED, ACTIVE], timeout=5),
    )
    assert server.id == 12345
    result = run(
        kind, vpsorg_simulator, lambda s: s.wait_for_many([12345, 12346], ACTIVE, timeout=5)
    )
    assert [o.item for o in result.succeeded] == [12345, 12346]
    assert vpsorg_warnings(caplog) == []


@KINDS
def test_an_unknown_status_is_sent_as_given_with_one_warning(
    vpsorg_simulator: Simulator, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vpsorg")
    # Sent as given: the simulator filters on it, so nothing matches.
    assert run(kind, vpsorg_simulator, lambda s: s.list(status="actve")) == []
    assert vpsorg_simulator.request_count == 1
    warnings = vpsorg_warnings(caplog)
    assert len(warnings) == 1
    assert "'actve'" in warnings[0]
    assert all(member.value in warnings[0] for member in vpsorg.ServerStatus)


@KINDS
@pytest.mark.parametrize("method", ["wait_for", "wait_for_many"])
def test_waiting_for_an_unknown_status_warns_once(
    vpsorg_simulator: Simulator, kind: str, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vpsorg")
    if method == "wait_for":
        with pytest.raises(vpsorg.WaitTimeoutError):
            run(
                kind,
                vpsorg_simulator,
                lambda s: s.wait_for(12345, "actve", timeout=0.3, interval=0.05),
            )
    else:
        result = run(
            kind,
            vpsorg_simulator,
            lambda s: s.wait_for_many([12345], ["actve", "stoped"], timeout=0.3, interval=0.05),
        )
        assert isinstance(result[0].error, vpsorg.WaitTimeoutError)
    warnings = vpsorg_warnings(caplog)
    assert len(warnings) == 1
    assert "'actve'" in warnings[0]
    assert "active" in warnings[0]
