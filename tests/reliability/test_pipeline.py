"""The request pipeline: its lean common case, the whole-call deadline, and its messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import BASE, DETAIL_12345, FAST_RETRY, TOKEN, requests_of
from vpsorg._async import _pipeline
from vpsorg._async._transport import Response
from vpsorg._config import Timeout

URL = BASE + "servers/12345/"
OK = Response(200, {"Content-Type": "application/json"}, b"{}")


class StuckTransport:
    """A transport whose requests never answer and ignore their own timeout.

    Only the pipeline's cancel scope can end such a call: it stands for any part of an
    attempt the transport's timeout does not cover.
    """

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        self.started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        pass


class CountingTransport:
    """A transport answering every request at once with a canned response."""

    def __init__(self, response: Response = OK) -> None:
        self.response = response
        self.calls = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        self.calls += 1
        return self.response

    async def aclose(self) -> None:
        pass


def _client(transport: Any, **options: Any) -> vpsorg.AsyncClient:
    return vpsorg.AsyncClient(token=TOKEN, base_url=BASE, transport=transport, **options)


# ---------------------------------------------------------------- the whole-call deadline


async def test_the_deadline_ends_one_slow_attempt_with_api_timeout_error() -> None:
    transport = StuckTransport()
    async with _client(transport, timeout=Timeout(total=None, deadline=0.2)) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(vpsorg.APITimeoutError) as info:
            await client.servers.get(12345)
        elapsed = loop.time() - started
    assert "deadline (0.2s) passed" in str(info.value)
    assert info.value.method == "GET"
    assert transport.started == 1 and transport.cancelled == 1
    assert 0.2 <= elapsed < 2.0  # bounded by the deadline (plus the scope's grace), not hung


async def test_a_post_cut_by_the_deadline_mid_flight_is_outcome_unknown() -> None:
    transport = StuckTransport()
    async with _client(transport, timeout=Timeout(total=None, deadline=0.1)) as client:
        with pytest.raises(vpsorg.OutcomeUnknownError) as info:
            await client.servers.reboot(12345)
    assert isinstance(info.value.cause, vpsorg.APITimeoutError)
    assert "outcome unknown" in str(info.value)


async def test_an_outer_cancellation_stays_a_cancellation_under_a_deadline() -> None:
    transport = StuckTransport()
    async with _client(transport, timeout=Timeout(deadline=30)) as client:
        task = asyncio.create_task(client.servers.get(12345))
        for _ in range(100):  # until the attempt is in flight; bounded
            await asyncio.sleep(0)
            if transport.started:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert transport.cancelled == 1


async def test_an_outer_timeout_around_a_call_with_a_deadline_is_the_outer_one() -> None:
    transport = StuckTransport()
    async with _client(transport, timeout=Timeout(deadline=30)) as client:
        # asyncio.TimeoutError is the builtin TimeoutError only from Python 3.11 on.
        with pytest.raises((TimeoutError, asyncio.TimeoutError)) as info:
            await asyncio.wait_for(client.servers.get(12345), 0.05)
    assert not isinstance(info.value, vpsorg.VPSOrgError)


async def test_the_deadline_bounds_retries_and_their_backoff(mocked: aioresponses) -> None:
    policy = vpsorg.RetryPolicy(max_attempts=50, backoff_base=0.05, backoff_cap=0.05, budget=None)
    timeout = vpsorg.Timeout(deadline=0.3)
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=policy, timeout=timeout) as c:
        mocked.get(URL, status=503, body="", repeat=True)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises((vpsorg.InternalServerError, vpsorg.APITimeoutError)):
            await c.servers.get(12345)
        assert loop.time() - started < 0.3 + 0.5
    assert 1 < len(requests_of(mocked)) < 50


async def test_a_call_within_its_deadline_succeeds(mocked: aioresponses) -> None:
    mocked.get(URL, payload=DETAIL_12345)
    timeout = vpsorg.Timeout(deadline=5)
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, timeout=timeout) as client:
        server = await client.servers.get(12345)
    assert server.id == 12345


# ---------------------------------------------------------------- the lean common case


async def test_a_first_attempt_that_succeeds_never_enters_the_retry_machinery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_call(*args: object, **kwargs: object) -> None:
        raise AssertionError("the retry machinery was entered on the common path")

    monkeypatch.setattr(_pipeline, "_Call", no_call)
    monkeypatch.setattr(_pipeline, "decide", no_call)
    transport = CountingTransport()
    async with _client(transport) as client:
        for _ in range(3):
            assert await client._pipeline.request("GET", URL) is OK
    assert transport.calls == 3


async def test_debug_logging_still_reports_every_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = CountingTransport()
    async with _client(transport) as client:
        with caplog.at_level(logging.DEBUG, logger="vpsorg"):
            await client._pipeline.request("GET", URL)
    assert any(f"GET {URL} -> 200 in" in r.getMessage() for r in caplog.records)


async def test_a_success_refunds_the_budget_on_the_common_path(mocked: aioresponses) -> None:
    policy = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.001, budget=10, retry_cost=5)
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=policy) as client:
        budget = client._pipeline.budget
        assert budget is not None
        mocked.get(URL, status=503, body="")
        mocked.get(URL, payload=DETAIL_12345)
        await client.servers.get(12345)
        assert budget.available == 10 - 5 + 1  # one retry, then the success's refund
        mocked.get(URL, payload=DETAIL_12345)
        await client.servers.get(12345)  # the common path
        assert budget.available == 7


async def test_a_closed_gate_holds_new_calls_then_opens_for_the_common_path(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=FAST_RETRY) as client:
        gate = client._pipeline.gate
        loop = asyncio.get_running_loop()
        gate.close_for(0.05, loop.time())  # as a 429 with Retry-After: 0.05 would
        mocked.get(URL, payload=DETAIL_12345, repeat=True)
        started = loop.time()
        await client.servers.get(12345)  # waits for the gate
        assert loop.time() - started >= 0.04
        assert gate.until == 0.0  # open again, so the next call needs no clock

        def no_call(*args: object, **kwargs: object) -> None:
            raise AssertionError("the retry machinery was entered with the gate open")

        monkeypatch.setattr(_pipeline, "_Call", no_call)
        await client.servers.get(12345)
    assert len(requests_of(mocked)) == 2


# ---------------------------------------------------------------- with_options and budgets


def test_a_copy_with_another_budget_size_gets_its_own_budget() -> None:
    client = vpsorg.AsyncClient(token=TOKEN, base_url=BASE)
    same = client.with_options(retry=vpsorg.RetryPolicy(max_attempts=2))
    small = client.with_options(retry=vpsorg.RetryPolicy(budget=3))
    small_again = client.with_options(retry=vpsorg.RetryPolicy(budget=3, max_attempts=2))
    none = client.with_options(retry=vpsorg.RetryPolicy(budget=None))
    original = client._pipeline.budget
    assert original is not None and original.capacity == 500
    assert same._pipeline.budget is original
    assert small._pipeline.budget is not None and small._pipeline.budget.capacity == 3
    assert small_again._pipeline.budget is small._pipeline.budget
    assert none._pipeline.budget is None
    assert small._pipeline.gate is client._pipeline.gate


async def test_a_copy_s_small_budget_limits_its_retries(mocked: aioresponses) -> None:
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=FAST_RETRY) as client:
        strict = client.with_options(
            retry=vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.001, budget=5)
        )
        mocked.get(URL, status=503, body="", repeat=True)
        with pytest.raises(vpsorg.InternalServerError):
            await strict.servers.get(12345)
    assert len(requests_of(mocked)) == 2  # one retry costs 5: the budget of 5 allows one


# ---------------------------------------------------------------- messages a person can act on


async def test_connection_errors_say_how_many_attempts_were_made() -> None:
    async with vpsorg.AsyncClient(
        token=TOKEN, base_url="http://127.0.0.1:1/api/v1/", retry=FAST_RETRY
    ) as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.get(1)
    message = str(info.value)
    assert message.endswith(" after 4 attempts"), message
    assert "127.0.0.1:1" in message
    assert info.value.request_sent is False


async def test_a_single_attempt_does_not_count_attempts() -> None:
    async with vpsorg.AsyncClient(
        token=TOKEN, base_url="http://127.0.0.1:1/api/v1/", retry=vpsorg.RetryPolicy.disabled()
    ) as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.get(1)
    assert "attempts" not in str(info.value)


async def test_a_404_on_the_list_endpoint_hints_at_the_base_url(mocked: aioresponses) -> None:
    mocked.get(BASE + "servers/", status=404, body="<h1>Not Found</h1>")
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE) as client:
        with pytest.raises(vpsorg.NotFoundError) as info:
            await client.servers.list()
    assert "is base_url right? it should end with /api/v1/" in str(info.value)


async def test_a_404_on_a_filtered_list_hints_at_the_base_url_and_a_later_page_does_not(
    mocked: aioresponses,
) -> None:
    # The filters travel in the first page's URL, as the API's next links carry them.
    mocked.get(BASE + "servers/?status=active&page_size=50", status=404, body="<h1>Nope</h1>")
    mocked.get(
        BASE + "servers/",
        payload={"count": 60, "next": BASE + "servers/?page=2", "previous": None, "results": []},
    )
    mocked.get(BASE + "servers/?page=2", status=404, payload={"detail": "Invalid page."})
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE) as client:
        with pytest.raises(vpsorg.NotFoundError) as info:
            await client.servers.list(status="active", page_size=50)
        assert "is base_url right?" in str(info.value)
        pages = client.servers.list().pages()
        with pytest.raises(vpsorg.NotFoundError) as later:
            async for _ in pages:
                pass
    assert "base_url" not in str(later.value)


async def test_a_404_on_one_server_does_not_hint_at_the_base_url(mocked: aioresponses) -> None:
    mocked.get(URL, status=404, payload={"detail": "Not found."})
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE) as client:
        with pytest.raises(vpsorg.NotFoundError) as info:
            await client.servers.get(12345)
    assert "base_url" not in str(info.value)
