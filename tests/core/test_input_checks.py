"""Every public call checks all its arguments before its first request (issue 11, item 1).

One table of bad calls, run on both clients against the simulator: each must raise
InvalidInputError and the simulator must have seen no request at all.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import Simulator

GOOD_CREATE: dict[str, Any] = {"name": "web-1", "plan_id": 1, "os_id": 5, "location": "us-west"}

#: (method, args, kwargs): each call is wrong in exactly one argument.
BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("list", (), {"status": 123}),
    ("list", (), {"status": ""}),
    ("list", (), {"location": 5}),
    ("list", (), {"page_size": 0}),
    ("list", (), {"page_size": "10"}),
    ("create", (), {**GOOD_CREATE, "name": "no spaces"}),
    ("create", (), {**GOOD_CREATE, "plan_id": "1"}),
    ("create", (), {**GOOD_CREATE, "wait": "yes"}),
    ("create", (), {**GOOD_CREATE, "wait": True, "wait_timeout": 0}),
    ("create", (), {**GOOD_CREATE, "wait": True, "wait_timeout": -1}),
    ("create", (), {**GOOD_CREATE, "wait": True, "wait_timeout": "10"}),
    ("create", (), {**GOOD_CREATE, "wait": True, "wait_timeout": math.nan}),
    ("create", (), {**GOOD_CREATE, "wait": True, "wait_timeout": math.inf}),
    ("create", (), {**GOOD_CREATE, "wait": True, "wait_timeout": True}),
    ("create", (), {**GOOD_CREATE, "wait_timeout": 0}),
    ("get", ("12345",), {}),
    ("get", (True,), {}),
    ("get", (0,), {}),
    ("update", (12345, "ok-name", "bad host!", True), {}),
    ("update", (12345, "ok-name", "h.example.com", 1), {}),
    ("update", ("12345", "ok-name", "h.example.com", True), {}),
    ("patch", (12345,), {}),
    ("patch", (12345,), {"backups_enabled": "no"}),
    ("patch", (-1,), {"name": "ok"}),
    ("delete", (0,), {}),
    ("start", ("1",), {}),
    ("stop", (None,), {}),
    ("reboot", (1.5,), {}),
    ("wait_for", ("12345",), {}),
    ("wait_for", (12345,), {"timeout": 0}),
    ("wait_for", (12345,), {"timeout": math.nan}),
    ("wait_for", (12345,), {"timeout": math.inf}),
    ("wait_for", (12345,), {"timeout": "10"}),
    ("wait_for", (12345,), {"interval": 0}),
    ("wait_for", (12345,), {"max_interval": -2}),
    ("wait_for", (12345, 5), {}),
    ("wait_for", (12345, []), {}),
    ("wait_for", (12345, ["active", ""]), {}),
    ("wait_for", (12345, b"active"), {}),
    ("wait_for_many", (12345,), {}),
    ("wait_for_many", ("abc",), {}),
    ("wait_for_many", ([12345],), {"timeout": math.nan}),
    ("wait_for_many", ([12345],), {"status": []}),
    ("wait_for_many", ([12345],), {"concurrency": 0}),
    ("wait_for_many", ([12345],), {"progress": "print"}),
    ("get_many", (12345,), {}),
    ("get_many", ("abc",), {}),
    ("get_many", (b"12",), {}),
    ("get_many", (None,), {}),
    ("get_many", ([12345],), {"concurrency": 0}),
    ("get_many", ([12345],), {"concurrency": True}),
    ("get_many", ([12345],), {"progress": 3}),
    ("create_many", ("abc",), {}),
    ("create_many", (5,), {}),
    ("create_many", ([GOOD_CREATE],), {"concurrency": -1}),
    ("delete_many", (12345,), {}),
    ("delete_many", ("12345",), {}),
    ("start_many", (bytearray(b"1"),), {}),
    ("stop_many", (12345,), {}),
    ("reboot_many", ([12345],), {"progress": object()}),
    # issue 14 (items 6 and 7), added by helper "safety"
    ("create", (), {**GOOD_CREATE, "reconcile": "yes"}),
    ("create_many", ([GOOD_CREATE],), {"reconcile": 1}),
    ("find_created", (ValueError("not an OutcomeUnknownError"),), {}),
    ("find_created", (vpsorg.OutcomeUnknownError("not from a create"),), {}),
    ("wait_for", (12345,), {"fail_on": 5}),
    ("wait_for", (12345,), {"fail_on": ["suspended", ""]}),
    ("wait_for", (12345,), {"progress": "print"}),
    ("wait_for_many", ([12345],), {"fail_on": b"suspended"}),
    # issue 21: error budgets, rolling operations, journals
    ("get_many", ([12345],), {"max_errors": "ten"}),
    ("create_many", ([GOOD_CREATE],), {"max_errors": -1}),
    ("reboot_many", ([12345],), {"max_errors": 2.5}),
    ("wait_for_many", ([12345],), {"max_errors": "200%"}),
    ("stop_many", ([12345],), {"journal": 7}),
    ("rolling", ("delete", [12345]), {}),
    ("rolling", ("reboot", [12345]), {"batches": 0}),
    ("rolling", ("reboot", [12345]), {"batches": []}),
    ("rolling", ("reboot", [12345]), {"pause": -1}),
    ("rolling", ("reboot", [12345]), {"max_errors": True}),
    ("rolling", ("reboot", [12345]), {"timeout": 0}),
    ("rolling", ("restart", [12345]), {"status": ""}),
    ("rolling", ("start", [12345]), {"concurrency": 0}),
]


def _call_async(sim: Simulator, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    async def run() -> None:
        async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
            result = getattr(client.servers, method)(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

    asyncio.run(run())


def _call_blocking(
    sim: Simulator, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    client = vpsorg.Client(token=sim.token, base_url=sim.base_url)
    try:
        getattr(client.servers, method)(*args, **kwargs)
    finally:
        client.close()


@pytest.mark.parametrize("kind", ["async", "blocking"])
@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    BAD_CALLS,
    ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD_CALLS)],
)
def test_a_bad_argument_raises_before_any_request(
    vpsorg_simulator: Simulator,
    kind: str,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    servers_before = len(vpsorg_simulator.servers())
    call = _call_async if kind == "async" else _call_blocking
    with pytest.raises(vpsorg.InvalidInputError):
        call(vpsorg_simulator, method, args, kwargs)
    assert vpsorg_simulator.request_count == 0
    assert len(vpsorg_simulator.servers()) == servers_before


def test_the_table_covers_every_public_method() -> None:
    public = {
        name
        for name, member in inspect.getmembers(vpsorg.AsyncServers)
        if not name.startswith("_") and callable(member)
    }
    assert public == {method for method, _, _ in BAD_CALLS}


@pytest.mark.parametrize("kind", ["async", "blocking"])
def test_a_bad_item_of_a_bulk_call_is_its_outcome_and_is_never_sent(
    vpsorg_simulator: Simulator, kind: str
) -> None:
    """Items are data, not arguments: a bad one fails alone, without a request."""
    ids: list[Any] = ["x", True, 0]
    if kind == "async":

        async def run() -> vpsorg.BulkResult[int, vpsorg.Server]:
            async with vpsorg.AsyncClient(
                token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url
            ) as client:
                return await client.servers.get_many(ids)

        result = asyncio.run(run())
    else:
        with vpsorg.Client(
            token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url
        ) as client:
            result = client.servers.get_many(ids)
    assert all(isinstance(o.error, vpsorg.InvalidInputError) for o in result)
    assert vpsorg_simulator.request_count == 0
