"""Rate limits: the pure pacing arithmetic, the settings, and the pipeline under 429s."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import re
import textwrap
from typing import Any

import pytest

import vpsorg
from tests.core.conftest import FAST
from vpsorg._ratelimit import (
    BETA,
    HORIZON,
    MIN_RATE,
    PROBE_RATE,
    AdaptiveRate,
    TokenBucket,
    coerce_rate_limit,
    header_hint,
    shared_key,
)
from vpsorg._retry import Failure, RateGate, decide
from vpsorg.simulator import FaultConfig, Simulator

# ---------------------------------------------------------------- the pure parts


def test_a_bucket_hands_out_evenly_spaced_send_times_up_to_its_horizon() -> None:
    bucket = TokenBucket(rate=10.0, capacity=1, now=100.0)
    slots = [bucket.reserve(100.0) for _ in range(5)]
    assert [wait for wait, _ in slots] == pytest.approx([0.0, 0.1, 0.2, HORIZON, HORIZON])
    # Slots beyond the horizon are not taken: those waiters ask again later.
    assert [granted for _, granted in slots] == [True, True, True, False, False]
    # Time passing pays the queue off; an idle bucket holds no more than its burst.
    assert bucket.reserve(200.0) == (0.0, True)
    wait, granted = bucket.reserve(200.0)
    assert granted and wait == pytest.approx(0.1)


def test_a_burst_goes_out_at_once_then_the_rest_is_paced() -> None:
    bucket = TokenBucket(rate=50.0, capacity=5, now=0.0)
    waits = [bucket.reserve(0.0)[0] for _ in range(7)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.02, 0.04])


def test_a_rate_raised_meanwhile_serves_the_waiters_still_asking() -> None:
    bucket = TokenBucket(rate=1.0, capacity=1, now=0.0)
    bucket.reserve(0.0)
    assert bucket.reserve(0.0) == (HORIZON, False)
    bucket.set_rate(100.0, 0.0)
    wait, granted = bucket.reserve(0.0)
    assert granted and wait == pytest.approx(0.01)


def test_the_first_429_with_nothing_known_starts_a_probe_that_doubles() -> None:
    rate = AdaptiveRate(ceiling=None)
    assert rate.on_success(0.0) is None  # nothing is limited before a 429
    rate.successes.clear()
    assert rate.on_throttle(10.0, sent=10.0) == PROBE_RATE
    assert rate.on_success(11.0) == pytest.approx(2 * PROBE_RATE)
    assert rate.on_success(12.0) == pytest.approx(4 * PROBE_RATE)


def test_a_429_cuts_to_beta_times_the_rate_reached_and_cubic_recovers_it() -> None:
    rate = AdaptiveRate(ceiling=None)
    for i in range(50):  # 50 successes in the last second
        rate.on_success(0.5 + i / 100)
    assert rate.on_throttle(1.0, sent=1.0) == pytest.approx(50 * BETA)
    k = rate.k
    assert k == pytest.approx((50 * (1 - BETA) / 0.4) ** (1 / 3))
    # Back to the old maximum after K seconds, and beyond it afterwards, gradually.
    assert rate.on_success(1.0 + k) == pytest.approx(50.0)
    assert 50.0 < rate.on_success(1.0 + k + 1.0) < 51.0  # type: ignore[operator]


def test_a_429_to_a_request_sent_before_the_cut_cuts_nothing_more() -> None:
    rate = AdaptiveRate(ceiling=None)
    for i in range(20):
        rate.on_success(i / 20)
    first = rate.on_throttle(1.0, sent=0.99)
    assert first is not None
    for _ in range(49):  # the rest of a wave already in flight
        assert rate.on_throttle(1.001, sent=0.999) is None
    assert rate.rate == first


def test_a_429_without_a_success_in_the_last_second_cuts_nothing_more() -> None:
    rate = AdaptiveRate(ceiling=None)
    rate.on_throttle(0.0, sent=0.0)
    assert rate.on_throttle(5.0, sent=4.0) is None  # a storm of 429s: the pause holds
    assert rate.rate == PROBE_RATE


def test_the_learned_rate_never_exceeds_the_ceiling_nor_falls_below_the_floor() -> None:
    rate = AdaptiveRate(ceiling=20.0)
    for i in range(100):
        rate.on_success(i / 100)
    assert rate.on_throttle(1.0, sent=1.0) == 20.0  # 0.7 * 100 > 20
    assert rate.on_success(100.0) == 20.0
    low = AdaptiveRate(ceiling=None)
    assert low.on_throttle(1.0, sent=1.0, hint=0.5) == MIN_RATE


def test_a_rate_the_headers_state_wins_over_the_measurement() -> None:
    assert header_hint({"RateLimit-Policy": "100;w=60"}) == pytest.approx(100 / 60)
    assert header_hint({"X-RateLimit-Limit": "50"}) == 50.0
    assert header_hint({"RateLimit-Limit": "50, 50;w=1"}) == 50.0
    assert header_hint({"X-RateLimit-Limit": "many"}) is None
    assert header_hint({}) is None
    rate = AdaptiveRate(ceiling=None)
    assert rate.on_throttle(0.0, sent=0.0, hint=40.0) == pytest.approx(40 * BETA)


def test_a_429_has_its_own_attempt_limit() -> None:
    policy = vpsorg.RetryPolicy(max_attempts=2, max_rate_limited_attempts=6)
    for attempt in range(1, 6):
        assert decide(
            policy, method="GET", attempt=attempt, failure=Failure.STATUS, status=429
        ).retry
    assert not decide(policy, method="GET", attempt=6, failure=Failure.STATUS, status=429).retry
    assert not decide(policy, method="GET", attempt=2, failure=Failure.STATUS, status=503).retry


def test_the_gate_counts_pauses_not_the_429s_of_one_pause() -> None:
    gate = RateGate()
    assert gate.close_for(1.0, now=10.0)
    assert not any(gate.close_for(1.0, now=10.001) for _ in range(149))
    assert gate.pauses == 1
    assert gate.wait_time(11.5) == 0.0
    assert gate.close_for(1.0, now=11.5)
    assert gate.pauses == 2


# ---------------------------------------------------------------- the settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, vpsorg.RateLimit()),
        ("adaptive", vpsorg.RateLimit()),
        ("off", None),
        (50, vpsorg.RateLimit(per_second=50.0)),
        (2.5, vpsorg.RateLimit(per_second=2.5)),
        ("50:10", vpsorg.RateLimit(per_second=50.0, burst=10)),
        (vpsorg.RateLimit(per_second=3, adaptive=False), vpsorg.RateLimit(3, adaptive=False)),
    ],
)
def test_rate_limit_spellings(value: object, expected: vpsorg.RateLimit | None) -> None:
    assert coerce_rate_limit(value, {}) == expected


def test_the_environment_variable_applies_when_the_argument_is_unset() -> None:
    env = {vpsorg.ENV_RATE_LIMIT: "20:4"}
    assert coerce_rate_limit(None, env) == vpsorg.RateLimit(per_second=20.0, burst=4)
    assert coerce_rate_limit(None, {vpsorg.ENV_RATE_LIMIT: "off"}) is None
    assert coerce_rate_limit(7, env) == vpsorg.RateLimit(per_second=7.0)
    with pytest.raises(vpsorg.ConfigurationError, match="VPSORG_RATE_LIMIT='fast'"):
        coerce_rate_limit(None, {vpsorg.ENV_RATE_LIMIT: "fast"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"per_second": 0}, "per_second"),
        ({"per_second": -1}, "per_second"),
        ({"per_second": math.inf}, "per_second"),
        ({"per_second": True}, "per_second"),
        ({"per_second": 5, "burst": 0}, "burst"),
        ({"per_second": 5, "burst": 1.5}, "burst"),
        ({"adaptive": False}, "needs per_second"),
        ({"redis_url": "localhost"}, "redis_url"),
        ({"key": " "}, "key"),
    ],
)
def test_a_bad_rate_limit_is_a_configuration_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(vpsorg.ConfigurationError, match=message):
        vpsorg.RateLimit(**kwargs)


@pytest.mark.parametrize("value", [[50], {"per_second": 5}, True])
def test_a_rate_limit_of_the_wrong_type_is_a_configuration_error(value: object) -> None:
    with pytest.raises(vpsorg.ConfigurationError, match="rate_limit must be"):
        vpsorg.AsyncClient(token="t", rate_limit=value)  # type: ignore[arg-type]


def test_the_redis_url_and_the_token_never_show() -> None:
    limit = vpsorg.RateLimit(per_second=5, redis_url="redis://:hunter2@10.0.0.1:6379/0")
    assert "hunter2" not in repr(limit) and "<set>" in repr(limit)
    key = shared_key("tok-3f9a-very-secret", "https://api.vps.test/api/v1/")
    assert key.startswith("vpsorg:ratelimit:") and "tok-3f9a" not in key
    assert key != shared_key("another-token", "https://api.vps.test/api/v1/")


@pytest.mark.parametrize("blocking", [False, True], ids=["AsyncClient", "Client"])
def test_both_clients_take_rate_limit(blocking: bool) -> None:
    if blocking:
        with vpsorg.Client(token="t", rate_limit=25) as client:
            assert client.rate_limit == vpsorg.RateLimit(per_second=25.0)
        with vpsorg.Client(token="t", rate_limit="off") as client:
            assert client.rate_limit is None
    else:
        assert vpsorg.AsyncClient(token="t", rate_limit=25).rate_limit == vpsorg.RateLimit(25)
        assert vpsorg.AsyncClient(token="t").rate_limit == vpsorg.RateLimit()


# ---------------------------------------------------------------- the pipeline


def _client(sim: Simulator, **options: Any) -> vpsorg.AsyncClient:
    return vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, retry=FAST, **options)


async def test_the_default_adaptive_limit_stays_off_the_hot_path_until_a_429(
    sim: Simulator,
) -> None:
    async with _client(sim) as client:
        await client.servers.get_many([12345] * 20)
        assert client._pipeline.limiter.active is False
        sim.script(path="/api/v1/servers/12345/", status=429, headers={"Retry-After": "0"})
        await client.servers.get(12345)
        assert client._pipeline.limiter.active is True


async def test_a_wave_of_429s_is_one_pause_one_log_line_and_loses_nothing(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """150 concurrent gets, each first answered 429 with Retry-After: 1, on a client whose
    retry budget could pay for only two failure retries: every one succeeds."""
    sim.script(path="/api/v1/servers/12345/", status=429, times=150)  # Retry-After: 1
    starts: list[tuple[int, float]] = []

    def hook(event: vpsorg.Event) -> None:
        if isinstance(event, vpsorg.AttemptStarted) and event.attempt == 2:
            starts.append((event.call_id, asyncio.get_running_loop().time()))

    policy = vpsorg.RetryPolicy(backoff_base=0.001, budget=10, retry_cost=5)
    caplog.set_level(logging.INFO, logger="vpsorg")
    async with vpsorg.AsyncClient(
        token=sim.token,
        base_url=sim.base_url,
        retry=policy,
        event_hooks=[hook],
        limits=vpsorg.Limits(max_connections=200),
    ) as client:
        result = await client.servers.get_many([12345] * 150, concurrency=150)
        pipeline = client._pipeline
        assert (len(result.succeeded), len(result.failed)) == (150, 0)
        assert pipeline.gate.pauses == 1
        assert pipeline.budget is not None and pipeline.budget.available == 10
    vpsorg_lines = [r for r in caplog.records if r.name == "vpsorg"]
    assert [r.getMessage() for r in vpsorg_lines if r.levelno >= logging.INFO] == [
        vpsorg_lines[0].getMessage()
    ]
    assert "pausing this client's requests for 1.0s" in vpsorg_lines[0].getMessage()
    # Paced after the pause: the retries went out over time, not all in one instant
    # (the probe rate starts at PROBE_RATE a second: 150 cannot leave within 1 s).
    times = sorted(t for _, t in starts)
    assert len(times) == 150
    assert times[-1] - times[0] >= 1.0


async def test_a_fixed_limit_paces_requests_before_they_are_sent(sim: Simulator) -> None:
    async with _client(sim, rate_limit=vpsorg.RateLimit(per_second=20, adaptive=False)) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.servers.get_many([12345] * 11, concurrency=11)
        # 11 requests at 20 a second with a burst of 1: the last leaves 0.5 s after the first.
        assert loop.time() - started >= 0.5 - 0.01
        assert sim.fault_counts["rate_limited"] == 0


async def test_an_adaptive_limit_under_the_simulators_rate_limit_loses_nothing(
    sim: Simulator,
) -> None:
    sim.set_faults(FaultConfig(rate_limit=40, rate_limit_burst=10))
    async with _client(sim, limits=vpsorg.Limits(max_connections=100)) as client:
        result = await client.servers.get_many([12345] * 120, concurrency=50)
        assert (len(result.succeeded), len(result.failed)) == (120, 0)
        limiter = client._pipeline.limiter
        assert limiter.active and limiter.adaptive is not None
        assert limiter.adaptive.rate is not None and limiter.adaptive.rate <= 40 * 2


async def test_429s_beyond_their_own_limit_raise_rate_limit_error(sim: Simulator) -> None:
    sim.script(path="/api/v1/servers/12345/", status=429, times=3, headers={"Retry-After": "0"})
    policy = vpsorg.RetryPolicy(backoff_base=0.001, max_rate_limited_attempts=3)
    async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, retry=policy) as client:
        with pytest.raises(vpsorg.RateLimitError):
            await client.servers.get(12345)
        assert (await client.servers.get(12345)).id == 12345


@pytest.mark.parametrize("failure", ["status", "connection"])
async def test_429s_do_not_use_up_the_attempts_of_other_failures(
    sim: Simulator, failure: str
) -> None:
    path = "/api/v1/servers/12345/"
    sim.script(path=path, status=429, times=3, headers={"Retry-After": "0"})
    if failure == "status":
        sim.script(path=path, status=503)
    else:
        sim.script(path=path, drop=True)
    policy = vpsorg.RetryPolicy(backoff_base=0.001, max_attempts=2)
    async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url, retry=policy) as client:
        # Three 429s, one other failure (the first of the two max_attempts allows), success.
        assert (await client.servers.get(12345)).id == 12345
    assert sim.request_count == 5


@pytest.mark.parametrize("documented", [vpsorg.RateLimit, vpsorg.RateLimit.parse])
def test_the_docstring_examples_run_and_print_what_they_promise(
    documented: object, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = inspect.getdoc(documented) or ""
    [code] = re.findall(r"```python\n(.*?)```", doc, re.S)
    exec(compile(textwrap.dedent(code), "<docstring>", "exec"), {})
    out = capsys.readouterr().out
    for promised in re.findall(r"print\(.*\)\s+# (.+)$", code, re.M):
        assert promised.removesuffix("...").strip() in out
