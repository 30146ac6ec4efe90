"""The HTTP transport: the only module that imports aiohttp's client.

A transport sends one request and returns the status, headers and body, or raises an
:class:`~vpsorg.APIConnectionError` whose ``request_sent`` says whether the request may
have reached the server. Retries, decoding and errors by status live above it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import ssl
from collections.abc import Mapping
from typing import Protocol

import aiohttp
import attrs

from .. import _runtime
from .._config import ClientConfig, RedactedHeader, Timeout
from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    ResponseTooLargeError,
)
from .._version import __version__

__all__ = ["AiohttpTransport", "AsyncTransport", "Response", "user_agent"]

logger = logging.getLogger("vpsorg")


@attrs.frozen(slots=True)
class Response:
    """One HTTP response, read whole."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class AsyncTransport(Protocol):
    """What the client needs from an HTTP transport."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        """Send one request and read the whole response."""
        ...

    async def aclose(self) -> None:
        """Close every connection."""
        ...


def user_agent(extra: str | None = None) -> str:
    """The User-Agent: vpsorg, Python and aiohttp versions (and the caller's suffix)."""
    agent = f"vpsorg/{__version__} Python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
    return f"{agent} {extra}" if extra else agent


def _mark(exc: APIConnectionError, *, sent: bool) -> APIConnectionError:
    exc.request_sent = sent
    return exc


class AiohttpTransport:
    """An :class:`AsyncTransport` on one ``aiohttp.ClientSession``.

    The session is created lazily inside the running event loop, on the first request,
    and closed by :meth:`aclose`.
    """

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()  # the process the session belongs to
        self._closed = False
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}
        self._last_timeout: Timeout | None = None
        self._last_client_timeout = aiohttp.ClientTimeout()
        self._max_bytes = config.limits.max_response_bytes
        self._headers = {
            "Authorization": RedactedHeader("Bearer " + config.token.reveal()),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent(config.user_agent_extra),
        }
        self._ssl: ssl.SSLContext | bool = True
        if config.ssl_context is not None:
            self._ssl = config.ssl_context
        elif not config.verify_ssl:
            self._ssl = False
            logger.warning(
                "TLS certificate verification is disabled for %s; "
                "anyone on the network path can read the API token",
                config.base_url,
            )

    def __repr__(self) -> str:
        return f"AiohttpTransport(base_url={self._config.base_url!r})"

    def _forked_away(self) -> None:
        """In a forked child: set the parent's session aside, never use or close it.

        Its sockets and its event loop's epoll instance are shared with the parent;
        closing them here would break the parent's connections. The child opens its own.
        """
        if self._pid != os.getpid():
            self._pid = os.getpid()
            session, self._session, self._loop = self._session, None, None
            if session is not None:
                _runtime.set_aside(session)

    def _get_session(self) -> aiohttp.ClientSession:
        self._forked_away()
        session = self._session
        if session is not None and not session.closed:
            if self._loop is not asyncio.get_running_loop():
                raise ConfigurationError(
                    "this client belongs to another event loop; create one client per loop"
                )
            return session
        if self._closed:
            raise ConfigurationError("the client is closed")
        limits = self._config.limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections,
            limit_per_host=limits.max_connections_per_host,
            keepalive_timeout=limits.keepalive_timeout,
            ssl=self._ssl,
        )
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            trust_env=False,
            auto_decompress=True,
            raise_for_status=False,
        )
        # aiohttp silently resends GET, PUT and DELETE once after a dropped connection.
        # Every attempt must go through the SDK's own retry policy instead: its budget
        # counts it, and a DELETE that acted before the drop then sees 404 as "deleted".
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False
        return self._session

    def _client_timeout(self, timeout: Timeout) -> aiohttp.ClientTimeout:
        # Identity first: the client passes the same Timeout object on every call
        # unless a deadline shortens it, and hashing an attrs instance is not free.
        if timeout is self._last_timeout:
            return self._last_client_timeout
        cached = self._timeouts.get(timeout)
        if cached is None:
            cached = aiohttp.ClientTimeout(total=timeout.total, sock_connect=timeout.connect)
            if len(self._timeouts) < 64:
                self._timeouts[timeout] = cached
        self._last_timeout, self._last_client_timeout = timeout, cached
        return cached

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        """Send one request; map every aiohttp failure to a vpsorg error."""
        session = self._get_session()
        response: aiohttp.ClientResponse | None = None
        try:
            response = await session.request(
                method,
                url,
                params=params,
                data=body,
                allow_redirects=False,
                timeout=self._client_timeout(timeout),
            )
            length = response.content_length
            if length is not None and length <= self._max_bytes:
                body = await response.read()  # the common case, without another coroutine
            else:
                body = await self._read(response, method, url)
            return Response(response.status, response.headers, body)
        except (APIConnectionError, ResponseTooLargeError):
            raise
        except BaseException as exc:
            mapped = _map_exception(exc, method, url, got_response=response is not None)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            if response is not None:
                response.release()

    async def _read(self, response: aiohttp.ClientResponse, method: str, url: str) -> bytes:
        """Read a body of unknown length, or refuse one known to be over the cap."""
        limit = self._max_bytes
        length = response.content_length
        if length is not None:
            response.close()
            raise ResponseTooLargeError(
                f"response of {length} bytes is larger than the {limit}-byte cap",
                status_code=response.status,
                body=b"",
                method=method,
                url=url,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                response.close()
                raise ResponseTooLargeError(
                    f"response is larger than the {limit}-byte cap",
                    status_code=response.status,
                    body=b"".join(chunks)[:1024],
                    method=method,
                    url=url,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the session and its connector; safe to call twice."""
        self._closed = True
        self._forked_away()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def _map_exception(
    exc: BaseException, method: str, url: str, *, got_response: bool
) -> APIConnectionError | None:
    """The most specific vpsorg error for an aiohttp or OS failure (None: not ours)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return _mark(
            APITimeoutError(f"timed out connecting: {exc}", method=method, url=url), sent=False
        )
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        detail = "reading the response" if got_response else "waiting for the response"
        return _mark(APITimeoutError(f"timed out {detail}", method=method, url=url), sent=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _mark(
            APIConnectionError(f"could not connect: {_describe(exc)}", method=method, url=url),
            sent=False,
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return _mark(
            APIConnectionError("the server closed the connection", method=method, url=url),
            sent=True,
        )
    if isinstance(exc, (aiohttp.ClientError, OSError, EOFError)):
        return _mark(
            APIConnectionError(f"connection failed: {_describe(exc)}", method=method, url=url),
            sent=True,
        )
    return None


def _describe(exc: BaseException) -> str:
    """A short description of an exception; never raises, whatever the exception."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        text = ""
    if not text:
        return name
    return text if name in text else f"{name}: {text}"
