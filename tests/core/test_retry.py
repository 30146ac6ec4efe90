"""Retry rules: the pure decisions, and the pipeline's behaviour under failures."""

from __future__ import annotations

import asyncio
import email.utils
import re
import time

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import BASE, CREATED_12347, DETAIL_12345, FAST_RETRY, TOKEN, requests_of
from vpsorg._retry import (
    NEVER_RETRIED_STATUSES,
    Failure,
    RateGate,
    RetryBudget,
    backoff_delay,
    decide,
    parse_retry_after,
)

POLICY = vpsorg.RetryPolicy()
URL = BASE + "servers/12345/"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_idempotent_methods_retry_on_transient_statuses(method: str, status: int) -> None:
    assert decide(POLICY, method=method, attempt=1, failure=Failure.STATUS, status=status).retry


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("status", [400, 401, 402, 404])
def test_client_errors_are_never_retried(method: str, status: int) -> None:
    assert not decide(POLICY, method=method, attempt=1, failure=Failure.STATUS, status=status).retry


@pytest.mark.parametrize("failure", [Failure.CONNECT, Failure.SENT, Failure.TIMEOUT])
def test_idempotent_methods_retry_on_network_failures(failure: Failure) -> None:
    assert decide(POLICY, method="GET", attempt=1, failure=failure).retry


def test_post_is_retried_only_when_the_server_provably_did_not_act() -> None:
    assert decide(POLICY, method="POST", attempt=1, failure=Failure.CONNECT).retry
    assert decide(POLICY, method="POST", attempt=1, failure=Failure.STATUS, status=429).retry
    for failure in (Failure.SENT, Failure.TIMEOUT):
        decision = decide(POLICY, method="POST", attempt=1, failure=failure)
        assert (decision.retry, decision.reason) == (False, "outcome unknown")
    for status in (500, 502, 503, 504):
        decision = decide(POLICY, method="POST", attempt=1, failure=Failure.STATUS, status=status)
        assert (decision.retry, decision.reason) == (False, "outcome unknown")


def test_attempts_are_bounded() -> None:
    last = POLICY.max_attempts
    assert decide(POLICY, method="GET", attempt=last - 1, failure=Failure.SENT).retry
    assert not decide(POLICY, method="GET", attempt=last, failure=Failure.SENT).retry


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    assert backoff_delay(POLICY, 1, lambda: 1.0) == 0.5
    assert backoff_delay(POLICY, 2, lambda: 1.0) == 1.0
    assert backoff_delay(POLICY, 3, lambda: 1.0) == 2.0
    assert backoff_delay(POLICY, 30, lambda: 1.0) == POLICY.backoff_cap == 8.0
    assert backoff_delay(POLICY, 3, lambda: 0.0) == 0.0


def test_retry_after_is_honoured_and_capped() -> None:
    ok = decide(
        POLICY,
        method="GET",
        attempt=1,
        failure=Failure.STATUS,
        status=429,
        retry_after=3,
        rand=lambda: 0.0,
    )
    assert (ok.retry, ok.delay) == (True, 3.0)
    too_long = decide(
        POLICY, method="GET", attempt=1, failure=Failure.STATUS, status=429, retry_after=3600
    )
    assert not too_long.retry


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-4") == 0.0
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31


def test_budget_runs_dry_and_refills() -> None:
    budget = RetryBudget(10)
    assert budget.try_acquire(5)
    assert budget.try_acquire(5)
    assert not budget.try_acquire(5)
    budget.refund(1)
    assert budget.available == 1
    for _ in range(100):
        budget.refund(1)
    assert budget.available == 10


def test_gate_only_ever_extends() -> None:
    gate = RateGate()
    gate.close_for(5, now=100)
    gate.close_for(1, now=100)
    assert gate.wait_time(101) == 4
    assert gate.wait_time(200) == 0


async def test_get_is_retried_after_503_then_succeeds(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(URL, status=503, body="<html>busy</html>")
    mocked.get(URL, status=502, body="")
    mocked.get(URL, payload=DETAIL_12345)
    assert (await client.servers.get(12345)).id == 12345
    assert len(requests_of(mocked)) == 3


async def test_retries_stop_after_max_attempts(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(URL, status=500, payload={"detail": "boom"}, repeat=True)
    with pytest.raises(vpsorg.InternalServerError):
        await client.servers.get(12345)
    assert len(requests_of(mocked)) == FAST_RETRY.max_attempts


async def test_404_is_never_retried(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.get(URL, status=404, payload={"detail": "Not found."}, repeat=True)
    with pytest.raises(vpsorg.NotFoundError):
        await client.servers.get(12345)
    assert len(requests_of(mocked)) == 1


async def test_create_is_never_resent_after_a_500(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(BASE + "servers/", status=500, payload={"detail": "boom"}, repeat=True)
    with pytest.raises(vpsorg.OutcomeUnknownError) as info:
        await client.servers.create(name="a", plan_id=1, os_id=5, location="us-west")
    error: object = info.value  # checked against both branches of the tree
    assert isinstance(error, vpsorg.APIConnectionError)
    assert isinstance(error, vpsorg.InternalServerError)
    assert error.status_code == 500
    assert "outcome unknown" in str(error)
    assert "list" in str(error)
    assert len(requests_of(mocked)) == 1


async def test_create_is_retried_after_429(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(BASE + "servers/", status=429, headers={"Retry-After": "0"}, payload={})
    mocked.post(BASE + "servers/", status=201, payload=CREATED_12347)
    server = await client.servers.create(name="a", plan_id=1, os_id=5, location="us-west")
    assert server.id == 12347
    assert len(requests_of(mocked)) == 2


async def test_power_action_is_not_resent_after_a_dropped_connection(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    import aiohttp

    mocked.post(
        BASE + "servers/12345/reboot/", exception=aiohttp.ServerDisconnectedError(), repeat=True
    )
    with pytest.raises(vpsorg.OutcomeUnknownError) as info:
        await client.servers.reboot(12345)
    error: object = info.value
    assert not isinstance(error, vpsorg.APIStatusError)
    assert len(requests_of(mocked)) == 1


async def test_create_is_retried_when_the_connection_could_not_be_opened(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    import aiohttp

    refused = aiohttp.ClientConnectorError(
        connection_key=None,  # type: ignore[arg-type]
        os_error=ConnectionRefusedError(111, "refused"),
    )
    mocked.post(BASE + "servers/", exception=refused)
    mocked.post(BASE + "servers/", status=201, payload=CREATED_12347)
    assert (await client.servers.create("a", 1, 5, "us-west")).id == 12347


async def test_a_retried_delete_that_then_gets_404_counts_as_deleted(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.delete(URL, status=502, body="")
    mocked.delete(URL, status=404, payload={"detail": "Not found."})
    assert await client.servers.delete(12345) is None  # type: ignore[func-returns-value]


async def test_a_plain_delete_of_a_missing_server_is_not_found(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.delete(URL, status=404, payload={"detail": "Not found."})
    with pytest.raises(vpsorg.NotFoundError):
        await client.servers.delete(12345)


async def test_retry_after_beyond_the_cap_raises_rate_limit_error(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(URL, status=429, headers={"Retry-After": "3600"}, payload={"detail": "slow down"})
    with pytest.raises(vpsorg.RateLimitError) as info:
        await client.servers.get(12345)
    assert info.value.retry_after == 3600
    assert "3600" in str(info.value)
    assert len(requests_of(mocked)) == 1


async def test_a_429_closes_the_gate_for_every_request_of_the_client(
    client: vpsorg.AsyncClient, mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def record_wait(seconds: float, *args: object) -> None:
        waits.append(seconds)
        other._pipeline.gate.until = 0.0  # as if the time had passed

    other = client.with_options(timeout=5)  # a copy shares the gate
    monkeypatch.setattr(other._pipeline, "_sleep", record_wait)
    mocked.get(URL, status=429, headers={"Retry-After": "3"}, payload={})
    mocked.get(URL, payload=DETAIL_12345, repeat=True)
    task = asyncio.create_task(client.servers.get(12345))
    for _ in range(100):  # until the 429 has been seen; bounded
        await asyncio.sleep(0)
        if client._pipeline.gate.wait_time(asyncio.get_running_loop().time()) > 0:
            break
    await other.servers.get(12345)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(waits) == 1
    assert 2.9 < waits[0] <= 3


async def test_the_budget_stops_retries_when_it_runs_dry(mocked: aioresponses) -> None:
    policy = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.001, budget=10, retry_cost=5)
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=policy) as client:
        mocked.get(URL, status=503, body="", repeat=True)
        for _ in range(3):
            with pytest.raises(vpsorg.InternalServerError):
                await client.servers.get(12345)
    # 2 retries were affordable in all: 3 first attempts + 2 retries.
    assert len(requests_of(mocked)) == 5


async def test_the_deadline_bounds_the_whole_call(mocked: aioresponses) -> None:
    policy = vpsorg.RetryPolicy(max_attempts=50, backoff_base=0.05, backoff_cap=0.05, budget=None)
    timeout = vpsorg.Timeout(deadline=0.3)
    async with vpsorg.AsyncClient(token=TOKEN, base_url=BASE, retry=policy, timeout=timeout) as c:
        mocked.get(URL, status=503, body="", repeat=True)
        with pytest.raises((vpsorg.InternalServerError, vpsorg.APITimeoutError)):
            await c.servers.get(12345)
    assert len(requests_of(mocked)) < 50


def test_the_policy_docstring_names_every_status_never_retried() -> None:
    doc = " ".join((vpsorg.RetryPolicy.__doc__ or "").split())
    (sentence,) = [s for s in doc.split(". ") if "never retried" in s]
    named = {int(code) for code in re.findall(r"\b[1-5]\d\d\b", sentence)}
    assert named == NEVER_RETRIED_STATUSES
