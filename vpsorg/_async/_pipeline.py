"""The request pipeline: one request in, a 2xx response or a vpsorg error out.

A :class:`Pipeline` applies the retry rules of :mod:`vpsorg._retry`, the rate-limit gate,
the retry budget, the timeouts and the deadline of the config, and turns error statuses
into the exception tree. Resources are handed a pipeline; they never reach into the
client. One pipeline per client and per ``with_options`` copy; copies share the
transport (the connection pool), the gate and the budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import attrs

from .. import _json
from .._config import ClientConfig
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    OutcomeUnknownError,
    OutcomeUnknownStatusError,
    RateLimitError,
    error_message,
    status_error_class,
)
from .._retry import Decision, Failure, RateGate, RetryBudget, decide, parse_retry_after
from ._decoding import decode_json
from ._transport import AsyncTransport, Response

__all__ = ["Pipeline"]

logger = logging.getLogger("vpsorg")

_SAFE_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "X-Request-ID", "Retry-After")
_CHECK_HINT = {
    "POST": "check the server list (for a create) or the server's status before retrying",
}


class Pipeline:
    """Sends requests for the resources of one client (private)."""

    def __init__(
        self,
        config: ClientConfig,
        transport: AsyncTransport,
        gate: RateGate | None = None,
        budget: RetryBudget | None = None,
    ) -> None:
        self.config = config
        self.transport = transport
        self.gate = gate or RateGate()
        if budget is None and config.retry.budget is not None:
            budget = RetryBudget(config.retry.budget)
        self.budget = budget
        self.base_url = config.base_url

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` under the base URL."""
        return self.base_url + path

    def with_config(self, config: ClientConfig) -> Pipeline:
        """A pipeline with other settings sharing this one's transport, gate and budget."""
        return Pipeline(config, self.transport, self.gate, self.budget)

    async def aclose(self) -> None:
        """Close the transport."""
        await self.transport.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        missing_ok_after_retry: bool = False,
    ) -> Response:
        """Send a request with retries; return a 2xx response or raise a vpsorg error.

        ``missing_ok_after_retry``: a 404 that follows an attempt whose outcome is unknown
        counts as success (a retried DELETE whose first attempt did delete).
        """
        config = self.config
        policy = config.retry
        body = None if json is None else _json.dumps(json)
        loop_time = asyncio.get_running_loop().time
        deadline = (
            None if config.timeout.deadline is None else loop_time() + config.timeout.deadline
        )
        timeout = config.timeout
        attempt = 0
        ambiguous = False
        while True:
            attempt += 1
            wait = self.gate.wait_time(loop_time())
            if wait:
                await self._sleep(wait, deadline, method, url)
            if deadline is not None:
                remaining = deadline - loop_time()
                if remaining <= 0:
                    raise APITimeoutError("the call's deadline passed", method=method, url=url)
                if timeout.total is None or remaining < timeout.total:
                    timeout = attrs.evolve(config.timeout, total=remaining)
            started = time.perf_counter()
            try:
                response = await self.transport.request(
                    method, url, params=params, body=body, timeout=timeout
                )
            except APIConnectionError as exc:
                elapsed = time.perf_counter() - started
                failure = _failure_of(exc)
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "%s %s -> %s after %.1f ms (attempt %d)",
                        method,
                        url,
                        type(exc).__name__,
                        elapsed * 1e3,
                        attempt,
                    )
                decision = decide(policy, method=method, attempt=attempt, failure=failure)
                if failure is not Failure.CONNECT:
                    ambiguous = True
                if await self._should_retry(decision, failure, deadline, exc, method, url):
                    continue
                if decision.reason == "outcome unknown":
                    raise _outcome_unknown(method, url, exc, None) from exc
                raise
            status = response.status
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %d in %.1f ms (attempt %d)%s",
                    method,
                    url,
                    status,
                    (time.perf_counter() - started) * 1e3,
                    attempt,
                    _safe_headers(response.headers),
                )
            if 200 <= status < 300:
                if self.budget is not None:
                    self.budget.refund(policy.success_refund)
                return response
            if status == 404 and missing_ok_after_retry and ambiguous:
                return Response(204, response.headers, b"")
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 and retry_after is not None and retry_after <= policy.retry_after_cap:
                self.gate.close_for(retry_after, loop_time())
            decision = decide(
                policy,
                method=method,
                attempt=attempt,
                failure=Failure.STATUS,
                status=status,
                retry_after=retry_after,
            )
            if status >= 500:
                ambiguous = True
            error = self.status_error(response, method, url, retry_after)
            if await self._should_retry(decision, Failure.STATUS, deadline, error, method, url):
                continue
            if decision.reason == "outcome unknown":
                raise _outcome_unknown(method, url, error, status) from error
            raise error

    async def _should_retry(
        self,
        decision: Decision,
        failure: Failure,
        deadline: float | None,
        error: BaseException,
        method: str,
        url: str,
    ) -> bool:
        if not decision.retry:
            return False
        loop_time = asyncio.get_running_loop().time
        if deadline is not None and loop_time() + decision.delay >= deadline:
            return False
        budget = self.budget
        if budget is not None:
            policy = self.config.retry
            cost = policy.timeout_retry_cost if failure is Failure.TIMEOUT else policy.retry_cost
            if not budget.try_acquire(cost):
                logger.warning("retry budget exhausted; not retrying %s %s", method, url)
                return False
        logger.info("retrying %s %s in %.2fs after %s", method, url, decision.delay, _short(error))
        if decision.delay > 0:
            await asyncio.sleep(decision.delay)
        return True

    async def _sleep(self, seconds: float, deadline: float | None, method: str, url: str) -> None:
        if deadline is not None:
            remaining = deadline - asyncio.get_running_loop().time()
            if seconds >= remaining:
                raise APITimeoutError(
                    f"the call's deadline passes before the rate limit lifts ({seconds:.1f}s)",
                    method=method,
                    url=url,
                )
        await asyncio.sleep(seconds)

    def status_error(
        self, response: Response, method: str, url: str, retry_after: float | None
    ) -> APIStatusError:
        raw = response.body
        body: object = None
        if raw:
            try:
                body = _json.loads(raw)
            except _json.JSONDecodeError:
                body = raw.decode("utf-8", errors="replace")
        status = response.status
        cls = status_error_class(status)
        kwargs: dict[str, Any] = {
            "status_code": status,
            "body": body,
            "request_id": _request_id(response.headers),
            "method": method,
            "url": url,
        }
        message = error_message(body if not isinstance(body, str) else None, raw)
        if cls is RateLimitError:
            return RateLimitError(message, retry_after=retry_after, **kwargs)
        return cls(message, **kwargs)

    async def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
    ) -> object:
        """Send a request and decode its JSON body."""
        response = await self.request(method, url, params=params, json=json)
        return decode_json(response, method, url)


def _failure_of(exc: APIConnectionError) -> Failure:
    if exc.request_sent is False:
        return Failure.CONNECT
    if isinstance(exc, APITimeoutError):
        return Failure.TIMEOUT
    return Failure.SENT


def _outcome_unknown(
    method: str, url: str, cause: BaseException, status: int | None
) -> OutcomeUnknownError:
    what = f"the server answered HTTP {status}" if status else f"{_short(cause)}"
    hint = _CHECK_HINT.get(method, "check the server's state before retrying")
    message = (
        f"outcome unknown: {what} after the request may have reached the server, so it "
        f"was not resent (it is not idempotent); {hint}"
    )
    if isinstance(cause, APIStatusError):
        return OutcomeUnknownStatusError(message, error=cause)
    return OutcomeUnknownError(message, method=method, url=url, status_code=status, cause=cause)


def _request_id(headers: Mapping[str, str]) -> str | None:
    return headers.get("X-Request-ID") or headers.get("X-Request-Id") or headers.get("Request-Id")


def _safe_headers(headers: Mapping[str, str]) -> str:
    shown = [f"{name}={headers[name]}" for name in _SAFE_RESPONSE_HEADERS if name in headers]
    return f" [{', '.join(shown)}]" if shown else ""


def _short(error: BaseException) -> str:
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}"
    return type(error).__name__
