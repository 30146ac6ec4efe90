"""The asynchronous client and its request pipeline.

One :class:`AsyncClient` owns one transport (one aiohttp session), one rate-limit gate
and one retry budget, shared with every copy made by :meth:`AsyncClient.with_options`.
Every request of every resource goes through :meth:`AsyncClient._request`, which applies
the retry rules of :mod:`vpsorg._retry`, the timeouts and deadline of the config, and
turns statuses and bodies into models or errors.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import attrs
from typing_extensions import Self

from .. import _json
from .._config import ClientConfig, Limits, RetryPolicy, Timeout, coerce_timeout, resolve_config
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
from ._servers import AsyncServers
from ._transport import AiohttpTransport, AsyncTransport, Response

__all__ = ["AsyncClient"]

logger = logging.getLogger("vpsorg")

_SAFE_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "X-Request-ID", "Retry-After")
_CHECK_HINT = {
    "POST": "check the server list (for a create) or the server's status before retrying",
}


class _Shared:
    """State shared by a client and every copy made by ``with_options``."""

    def __init__(self, transport: AsyncTransport, budget: RetryBudget | None) -> None:
        self.transport = transport
        self.gate = RateGate()
        self.budget = budget
        self.closed = False


class AsyncClient:
    """The asynchronous VPS.org client.

    Use it as an async context manager, or call :meth:`aclose` when done::

        async with vpsorg.AsyncClient() as client:
            async for server in client.servers.list(status="active"):
                print(server.id, server.name, server.status)

    Args:
        token: the API token; defaults to ``$VPSORG_API_TOKEN``. Required.
        base_url: the API root; defaults to ``$VPSORG_BASE_URL``, then
            ``https://admin.vps.org/api/v1/``.
        timeout: seconds per attempt, or a :class:`vpsorg.Timeout` for connect, per-attempt
            and whole-call limits.
        retry: the :class:`vpsorg.RetryPolicy` (defaults documented there).
        limits: the :class:`vpsorg.Limits` for the connection pool and body size.
        user_agent: text appended to the User-Agent header.
        verify_ssl: verify TLS certificates (default). ``False`` logs a warning.
        ssl_context: a custom ``ssl.SSLContext`` (a private CA, client certificates).
        allow_insecure_http: allow ``http://`` to a host that is not loopback; without
            it, the token is never sent in clear text.
        transport: a custom transport (for tests); by default one aiohttp session.

    Raises:
        ConfigurationError: no token, or an unusable base URL or setting.
    """

    servers: AsyncServers
    """The servers resource: list, create, get, update, patch, delete, power actions,
    waiting and bulk operations."""

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        user_agent: str | None = None,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        allow_insecure_http: bool = False,
        transport: AsyncTransport | None = None,
    ) -> None:
        config = resolve_config(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            limits=limits,
            user_agent=user_agent,
            verify_ssl=verify_ssl,
            ssl_context=ssl_context,
            allow_insecure_http=allow_insecure_http,
        )
        budget = RetryBudget(config.retry.budget) if config.retry.budget is not None else None
        self._init(config, _Shared(transport or AiohttpTransport(config), budget))

    def _init(self, config: ClientConfig, shared: _Shared) -> None:
        self._config = config
        self._shared = shared
        self._servers_url = config.base_url + "servers/"
        self.servers = AsyncServers(self)

    @property
    def base_url(self) -> str:
        """The API root every request goes to (always ends with ``/``)."""
        return self._config.base_url

    @property
    def timeout(self) -> Timeout:
        """The :class:`vpsorg.Timeout` in force for this client."""
        return self._config.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        """The :class:`vpsorg.RetryPolicy` in force for this client."""
        return self._config.retry

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> Self:
        """A copy of this client with other timeouts or retry policy, for some calls.

        The copy shares the connection pool, the rate-limit gate and the retry budget, so
        it costs nothing to make per call::

            server = await client.with_options(timeout=5).servers.get(12345)

        Closing the copy does nothing; close the original.
        """
        changes: dict[str, Any] = {"timeout": coerce_timeout(timeout, self._config.timeout)}
        if retry is not None:
            changes["retry"] = retry
        clone = object.__new__(type(self))
        clone._init(attrs.evolve(self._config, **changes), self._shared)
        clone._is_copy = True
        return clone

    _is_copy = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. Safe to call more than once."""
        if self._is_copy:
            return
        self._shared.closed = True
        await self._shared.transport.aclose()

    # ------------------------------------------------------------------ pipeline

    async def _request(
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
        config = self._config
        policy = config.retry
        shared = self._shared
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
            wait = shared.gate.wait_time(loop_time())
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
                response = await shared.transport.request(
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
                if shared.budget is not None:
                    shared.budget.refund(policy.success_refund)
                return response
            if status == 404 and missing_ok_after_retry and ambiguous:
                return Response(204, response.headers, b"")
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 and retry_after is not None and retry_after <= policy.retry_after_cap:
                shared.gate.close_for(retry_after, loop_time())
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
            error = self._status_error(response, method, url, retry_after)
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
        budget = self._shared.budget
        if budget is not None:
            policy = self._config.retry
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

    def _status_error(
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

    async def _request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
    ) -> object:
        """Send a request and decode its JSON body."""
        response = await self._request(method, url, params=params, json=json)
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
