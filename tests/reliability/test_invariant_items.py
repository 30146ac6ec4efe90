"""Issue 19, invariant 1: one regression test per counterexample (items 1-4, 6, 7) and
the decoding rule (a body nested 100,000 deep is a vpsorg error, not a RecursionError).

Every test checks the simulator's ground truth: what it really created.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest

import vpsorg
from tests.reliability._sim import made, quiesce
from vpsorg import _deprecation
from vpsorg._async._transport import AiohttpTransport, Response
from vpsorg._config import Timeout, resolve_config
from vpsorg.simulator import Simulator

CREATE = "/api/v1/servers/"
FAST = vpsorg.RetryPolicy(backoff_base=0.0, backoff_cap=0.0, settle_window=0.0)


@pytest.fixture(autouse=True)
def _fresh_deprecation_notices() -> Iterator[None]:
    """Each test sees the once-per-endpoint notices afresh."""
    saved = set(_deprecation._seen)
    _deprecation._seen.clear()
    yield
    _deprecation._seen.clear()
    _deprecation._seen.update(saved)


@pytest.fixture
async def client(vpsorg_simulator: Simulator) -> AsyncIterator[vpsorg.AsyncClient]:
    async with vpsorg.AsyncClient(
        token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url, retry=FAST
    ) as client:
        yield client


def next_body(sim: Simulator, name: str, **changes: Any) -> dict[str, Any]:
    """A create's answer for the next server the simulator will make, with ``changes``."""
    body = {**sim.servers()[-1], "name": name, "status": "provisioning", "ip_address": None}
    body["id"] = max(server["id"] for server in sim.servers()) + 1
    body.update(changes)
    return body


# -- item 1: a 5xx outside retry_statuses is an unknown outcome -------------------------


@pytest.mark.parametrize("status", [507, 522, 524, 599, 501, 505])
async def test_a_5xx_outside_retry_statuses_is_outcome_unknown(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator, status: int
) -> None:
    vpsorg_simulator.script(path=CREATE, method="POST", status=status, after_action=True)
    with pytest.raises(vpsorg.OutcomeUnknownStatusError) as caught:
        await client.servers.create(f"i1-{status}", 1, 5, "us-west")
    assert caught.value.status_code == status
    assert caught.value.spec is not None and caught.value.spec.name == f"i1-{status}"
    assert await client.servers.find_created(caught.value) is not None
    assert len(made(vpsorg_simulator, f"i1-{status}")) == 1


async def test_a_narrowed_retry_statuses_does_not_decide_a_posts_outcome(
    vpsorg_simulator: Simulator,
) -> None:
    policy = vpsorg.RetryPolicy(retry_statuses=frozenset({429}), settle_window=0.0)
    vpsorg_simulator.script(path=CREATE, method="POST", status=500, after_action=True)
    async with vpsorg.AsyncClient(
        token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url, retry=policy
    ) as client:
        server = await client.servers.create("i1-narrow", 1, 5, "us-west", reconcile=True)
    assert made(vpsorg_simulator, "i1-narrow") == [server.id]


@pytest.mark.parametrize("status", [303, 307, 408, 410, 413, 418, 499])
async def test_other_answers_to_a_post_are_outcome_unknown(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator, status: int
) -> None:
    vpsorg_simulator.script(path="/api/v1/servers/12345/reboot/", status=status, after_action=True)
    with pytest.raises(vpsorg.OutcomeUnknownError) as caught:
        await client.servers.reboot(12345)
    assert caught.value.status_code == status
    assert caught.value.server_id == 12345
    assert isinstance(caught.value.cause, vpsorg.APIStatusError)


# -- item 2: a 2xx whose body does not decode, or is too large -------------------------


async def test_a_created_server_whose_answer_does_not_decode_is_found(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    body = next_body(vpsorg_simulator, "i2-drift", os=None)  # API drift: os is null
    vpsorg_simulator.script(path=CREATE, method="POST", status=201, body=body, after_action=True)
    with pytest.raises(vpsorg.UnreadableSuccessError) as caught:
        await client.servers.create("i2-drift", 1, 5, "us-west")
    error = caught.value
    assert isinstance(error, vpsorg.OutcomeUnknownError)
    assert isinstance(error, vpsorg.APIResponseValidationError)
    assert "the server was created" in str(error)
    assert error.server_id == body["id"] == made(vpsorg_simulator, "i2-drift")[0]
    assert error.spec is not None and error.started_at is not None
    found = await client.servers.find_created(error)
    assert found is not None and found.id == body["id"]


async def test_a_created_server_whose_answer_is_too_large_is_found(
    vpsorg_simulator: Simulator,
) -> None:
    huge = b" " * 200_000 + json.dumps(next_body(vpsorg_simulator, "i2-big")).encode()
    async with vpsorg.AsyncClient(
        token=vpsorg_simulator.token,
        base_url=vpsorg_simulator.base_url,
        retry=FAST,
        limits=vpsorg.Limits(max_response_bytes=100_000),
    ) as client:
        vpsorg_simulator.script(
            path=CREATE, method="POST", status=201, body=huge, after_action=True
        )
        with pytest.raises(vpsorg.UnreadableSuccessError) as caught:
            await client.servers.create("i2-big", 1, 5, "us-west")
        assert isinstance(caught.value.cause, vpsorg.ResponseTooLargeError)
        assert caught.value.server_id is None
        found = await client.servers.find_created(caught.value)
        assert found is not None and made(vpsorg_simulator, "i2-big") == [found.id]
        vpsorg_simulator.script(
            path=CREATE, method="POST", status=201, body=huge, after_action=True
        )
        server = await client.servers.create("i2-big2", 1, 5, "us-west", reconcile=True)
    assert made(vpsorg_simulator, "i2-big2") == [server.id]


async def test_an_unreadable_success_is_never_settled_as_not_created(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    # A 201 the simulator did not act on: the API said "created", so vpsorg keeps saying
    # the outcome is unknown rather than "not created, safe to create again".
    vpsorg_simulator.script(path=CREATE, method="POST", status=201, body=b"[" * 100_000)
    with pytest.raises(vpsorg.UnreadableSuccessError) as caught:
        await client.servers.create("i2-ghost", 1, 5, "us-west", reconcile=True)
    assert not isinstance(caught.value, vpsorg.NotCreatedError)
    assert "not valid JSON" in str(caught.value)


# -- item 3: a Deprecation header under warnings-as-errors -----------------------------


async def test_a_deprecation_warning_raised_as_an_error_carries_the_created_server(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    body = next_body(vpsorg_simulator, "i3-dep")
    vpsorg_simulator.script(
        path=CREATE,
        method="POST",
        status=201,
        body=body,
        headers={"Deprecation": "true"},
        after_action=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(vpsorg.VPSOrgDeprecationWarning) as caught:
            await client.servers.create("i3-dep", 1, 5, "us-west")
    created = caught.value.created_server
    assert created is not None and created.id == body["id"]
    assert caught.value.result is created
    assert made(vpsorg_simulator, "i3-dep") == [body["id"]]


async def test_a_deprecation_header_on_an_error_never_hides_the_outcome(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    vpsorg_simulator.script(
        path=CREATE, method="POST", status=502, headers={"Sunset": "true"}, after_action=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(vpsorg.OutcomeUnknownStatusError):
            await client.servers.create("i3-err", 1, 5, "us-west")
    assert len(made(vpsorg_simulator, "i3-err")) == 1


async def test_a_deprecated_power_action_under_warnings_as_errors_keeps_its_result(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    answer: dict[str, Any] = {"status": "success", "message": "Server is rebooting"}
    answer["server"] = {"id": 12345, "name": "web-server-01", "status": "rebooting"}
    vpsorg_simulator.script(
        path="/api/v1/servers/12345/reboot/",
        status=200,
        body=answer,
        headers={"Deprecation": "@1735689600"},
        after_action=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(vpsorg.VPSOrgDeprecationWarning) as caught:
            await client.servers.reboot(12345)
    assert isinstance(caught.value.result, vpsorg.ActionResult)
    assert caught.value.result.server.id == 12345


# -- item 4: the settle window ---------------------------------------------------------


class LateCommit:
    """A transport whose create is lost in flight, and which the API stores a bit later."""

    def __init__(self, inner: AiohttpTransport, later: float) -> None:
        self.inner = inner
        self.later = later
        self.pending: list[asyncio.Task[Response]] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        if method == "POST" and url.endswith("/servers/") and not self.pending:

            async def commit() -> Response:
                await asyncio.sleep(self.later)
                return await self.inner.request(
                    method, url, params=params, body=body, timeout=timeout
                )

            self.pending.append(asyncio.create_task(commit()))
            error = vpsorg.APIConnectionError("the server closed the connection", method=method)
            error.request_sent = True
            raise error
        return await self.inner.request(method, url, params=params, body=body, timeout=timeout)

    async def aclose(self) -> None:
        await asyncio.gather(*self.pending, return_exceptions=True)
        await self.inner.aclose()


def late_client(sim: Simulator, window: float, later: float) -> vpsorg.AsyncClient:
    policy = vpsorg.RetryPolicy(settle_window=window)
    config = resolve_config(
        token=sim.token,
        base_url=sim.base_url,
        timeout=None,
        retry=policy,
        limits=None,
        user_agent=None,
        verify_ssl=True,
        ssl_context=None,
        allow_insecure_http=False,
    )
    transport = LateCommit(AiohttpTransport(config), later)
    return vpsorg.AsyncClient(
        token=sim.token, base_url=sim.base_url, retry=policy, transport=transport
    )


async def test_reconcile_waits_out_the_settle_window_for_a_create_stored_late(
    vpsorg_simulator: Simulator,
) -> None:
    async with late_client(vpsorg_simulator, window=3.0, later=1.0) as client:
        server = await client.servers.create("i4-late", 1, 5, "us-west", reconcile=True)
    assert made(vpsorg_simulator, "i4-late") == [server.id]


async def test_not_created_comes_only_after_the_settle_window(
    vpsorg_simulator: Simulator,
) -> None:
    async with late_client(vpsorg_simulator, window=1.0, later=30.0) as client:
        began = time.monotonic()
        with pytest.raises(vpsorg.NotCreatedError) as caught:
            await client.servers.create("i4-never", 1, 5, "us-west", reconcile=True)
        assert time.monotonic() - began >= 1.0
        for task in client._pipeline.transport.pending:  # type: ignore[attr-defined]
            task.cancel()
    error = caught.value
    assert error.listings >= 2 and error.waited >= 1.0
    assert f"in {error.listings} listings" in str(error)
    assert "so it was not created" not in str(error)
    assert made(vpsorg_simulator, "i4-never") == []


def test_the_default_settle_window_is_at_least_five_seconds() -> None:
    assert vpsorg.RetryPolicy().settle_window >= 5.0
    with pytest.raises(vpsorg.ConfigurationError, match="settle_window"):
        vpsorg.RetryPolicy(settle_window=float("nan"))
    with pytest.raises(vpsorg.ConfigurationError, match="settle_window"):
        vpsorg.RetryPolicy(settle_window=-1)


# -- item 6: Client.close() from another thread during a create -------------------------


def test_close_from_another_thread_during_a_create_is_outcome_unknown(
    vpsorg_simulator: Simulator,
) -> None:
    vpsorg_simulator.script(path=CREATE, method="POST", delay=2.0)
    client = vpsorg.Client(token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url)
    errors: list[BaseException] = []

    def create() -> None:
        try:
            client.servers.create("i6-close", 1, 5, "us-west")
        except BaseException as exc:  # recorded for the main thread
            errors.append(exc)

    worker = threading.Thread(target=create)
    worker.start()
    deadline = time.monotonic() + 10
    while vpsorg_simulator.request_counts.get("POST /api/v1/servers/", 0) == 0:
        assert time.monotonic() < deadline, "the create never reached the simulator"
        time.sleep(0.01)
    client.close()
    worker.join(10)
    assert not worker.is_alive()
    [error] = errors
    assert isinstance(error, vpsorg.OutcomeUnknownError), repr(error)
    assert not isinstance(error, vpsorg.ConfigurationError)
    assert error.spec is not None and error.spec.name == "i6-close"
    assert error.request_sent is True
    quiesce(vpsorg_simulator, seconds=10)  # the simulator's handler finishes its delay
    assert len(made(vpsorg_simulator, "i6-close")) <= 1


async def test_a_cancelled_create_carries_its_unknown_outcome(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    vpsorg_simulator.script(path=CREATE, method="POST", delay=5.0)
    seen: list[BaseException] = []

    async def create() -> None:
        try:
            await client.servers.create("i6-cancel", 1, 5, "us-west")
        except asyncio.CancelledError as exc:
            seen.append(exc)
            raise

    task = asyncio.create_task(create())
    for _ in range(500):
        if vpsorg_simulator.request_counts.get("POST /api/v1/servers/", 0):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    unknown = getattr(seen[0], "outcome_unknown", None)
    assert isinstance(unknown, vpsorg.OutcomeUnknownError)
    assert unknown.spec is not None and unknown.spec.name == "i6-cancel"
    assert unknown.started_at is not None


# -- item 7: one truth for request_sent -----------------------------------------------


async def test_request_sent_is_the_same_on_every_unknown_outcome(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator
) -> None:
    vpsorg_simulator.script(path=CREATE, method="POST", drop=True, after_action=True)
    with pytest.raises(vpsorg.OutcomeUnknownError) as dropped:
        await client.servers.create("i7-drop", 1, 5, "us-west")
    assert dropped.value.request_sent is True
    assert isinstance(dropped.value.cause, vpsorg.APIConnectionError)
    assert dropped.value.cause.request_sent is True
    vpsorg_simulator.script(path=CREATE, method="POST", status=500)
    with pytest.raises(vpsorg.OutcomeUnknownStatusError) as answered:
        await client.servers.create("i7-500", 1, 5, "us-west")
    assert answered.value.request_sent is True
    vpsorg_simulator.script(path=CREATE, method="POST", status=500)
    with pytest.raises(vpsorg.NotCreatedError) as settled:
        await client.servers.create("i7-none", 1, 5, "us-west", reconcile=True)
    assert settled.value.request_sent is True
    assert vpsorg.OutcomeUnknownError("built by hand").request_sent is True


# -- decoding: whatever the Python type of the failure ---------------------------------


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b"\xff\xfe"])
async def test_a_body_nested_too_deep_is_a_vpsorg_error(
    client: vpsorg.AsyncClient, vpsorg_simulator: Simulator, body: bytes
) -> None:
    vpsorg_simulator.script(path="/api/v1/servers/12345/", method="GET", status=200, body=body)
    with pytest.raises(vpsorg.APIResponseValidationError):
        await client.servers.get(12345)
    vpsorg_simulator.script(path="/api/v1/servers/", method="GET", status=200, body=body)
    with pytest.raises(vpsorg.APIResponseValidationError):
        await client.servers.list().to_list()
    vpsorg_simulator.script(path="/api/v1/servers/12345/", method="GET", status=404, body=body)
    with pytest.raises(vpsorg.NotFoundError):
        await client.servers.get(12345)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_ctrl_c_during_a_blocking_create_carries_its_unknown_outcome(
    vpsorg_simulator: Simulator,
) -> None:
    vpsorg_simulator.script(path=CREATE, method="POST", delay=5.0)
    main = threading.main_thread()
    assert threading.current_thread() is main

    def interrupt() -> None:
        for _ in range(1000):
            if vpsorg_simulator.request_counts.get("POST /api/v1/servers/", 0):
                signal.pthread_kill(main.ident or 0, signal.SIGINT)
                return
            time.sleep(0.01)

    with vpsorg.Client(token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url) as c:
        sender = threading.Thread(target=interrupt)
        sender.start()
        try:
            with pytest.raises(KeyboardInterrupt) as caught:
                c.servers.create("i6-ctrl-c", 1, 5, "us-west")
        finally:
            sender.join(15)
    unknown = getattr(caught.value, "outcome_unknown", None)
    assert isinstance(unknown, vpsorg.OutcomeUnknownError)
    assert unknown.spec is not None and unknown.spec.name == "i6-ctrl-c"
