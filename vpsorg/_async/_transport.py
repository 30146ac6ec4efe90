"""The HTTP transport: the only module that imports aiohttp's client.

A transport sends one request and returns the status, headers and body, or raises an
[`APIConnectionError`][vpsorg.APIConnectionError] whose ``request_sent`` says whether the
request may have reached the server. Retries, decoding and errors by status live above it.

What it guarantees, whatever the server does:

* the body read is bounded by ``Limits.max_response_bytes`` *after* decoding: a
  compressed body is inflated here, chunk by chunk, and refused with
  [`ResponseTooLargeError`][vpsorg.ResponseTooLargeError] as soon as it passes the cap;
* the headers of every answer, and the body of every non-2xx answer, are scrubbed of
  the client's secrets (its token, its proxy's credentials), so a server that echoes
  them cannot put them in an error, an event, a log line or a raw response;
* no aiohttp or OS exception is kept in the chain of the error raised: a scrubbed
  stand-in (`vpsorg._secrets.ScrubbedCause`) is its ``__cause__``, and it has no
  ``__context__`` (aiohttp quotes a malformed status line, and keeps the request's
  headers, in its exceptions);
* the request counts as sent only once a connection (TLS and proxy tunnel included)
  was open, so a timeout while connecting never makes a create ambiguous;
* the connections are closed by `AiohttpTransport.aclose()` from any event loop, or
  when the transport is garbage-collected, without a warning.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import platform
import re
import ssl
import threading
import weakref
import zlib
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import msgspec
import yarl

from .. import _runtime
from .._config import ClientConfig, Timeout
from .._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    ConfigurationError,
    ResponseTooLargeError,
)
from .._secrets import (
    RedactedHeader,
    Secret,
    raise_scrubbed,
    redact_bytes,
    redact_fragments,
    redact_headers,
    register_secret,
    scrubbed_cause,
    unregister_secret,
)
from .._version import __version__

__all__ = ["AiohttpTransport", "AsyncTransport", "Response", "user_agent"]

logger = logging.getLogger("vpsorg")

#: The oldest aiohttp with what this module needs: ``ConnectionTimeoutError`` (3.10) and
#: the ``_retry_connection`` switch that turns off aiohttp's hidden resend (3.11).
AIOHTTP_FLOOR = "3.11"

if "_retry_connection" not in getattr(aiohttp.ClientSession, "ATTRS", ()):  # pragma: no cover
    raise ImportError(
        f"vpsorg needs aiohttp>={AIOHTTP_FLOOR} (found {aiohttp.__version__}): older versions "
        "silently resend a GET, PUT or DELETE after a dropped connection, which vpsorg "
        "must control itself; upgrade with: pip install 'aiohttp>=" + AIOHTTP_FLOOR + "'"
    )


# What a URL may hold after the base URL to be handed to yarl as already encoded:
# characters that quoting leaves alone, no "." in the path (so no dot segment to
# normalise), and a query of such characters with "=" and "&" (a list page's link).
_PLAIN_TAIL = re.compile(r"[A-Za-z0-9_~/-]*(?:\?[A-Za-z0-9_.~=&-]*)?")

#: The most URLs whose ``yarl.URL`` the transport keeps for reuse (see ``_target``).
_MAX_TARGETS = 2048
_ACCEPT_ENCODING = "gzip, deflate"
_CHUNK = 65536
_TLS_MISMATCH_HINTS = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "HTTP_REQUEST",
    "http request",
    "PACKET_LENGTH_TOO_LONG",
    "packet length too long",
    "RECORD_LAYER_FAILURE",
    "record layer failure",
    "UNKNOWN_PROTOCOL",
)


class Response(msgspec.Struct, frozen=True, gc=False):
    """One HTTP response, read whole (its headers scrubbed of the client's secrets).

    Build one as ``Response(status, headers, body)`` (a custom transport does); it is
    frozen, and compares by its fields. Its repr shows sizes, not contents: a 2xx body is
    not scrubbed, and an error tracker that records the local variables of a traceback's
    frames prints their reprs.

    A frozen msgspec Struct, not an attrs class, because one is built per request:
    about 60 ns against 380 ns for a frozen attrs class (``timeit``, CPython 3.11). It is
    not tracked by the garbage collector: it holds only the headers and the body.
    """

    status: int
    headers: Mapping[str, str]  # aiohttp's CIMultiDictProxy from AiohttpTransport
    body: bytes

    def __repr__(self) -> str:
        return (
            f"Response(status={self.status}, headers=<{len(self.headers)} headers>, "
            f"body=<{len(self.body)} bytes>)"
        )


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


_tcp_connect = aiohttp.TCPConnector.connect
_current_task = asyncio.current_task


class _Connector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that records, per request, that its connection is open.

    The connector runs in the requesting task, so it adds that task to ``connected``
    once the connection (TCP, proxy tunnel and TLS) is up; the transport takes it out
    when the request ends. A set of tasks, not a ContextVar: two ``ContextVar.set`` per
    request kept enough context objects alive across the await that the garbage collector
    ran 40 % more often, some 10 µs per ``GET`` at concurrency 100 (``gc.callbacks``
    counts in ``python -m benchmarks.layers``' transport layer: 117 collections per
    20,000 calls without it, 160 to 173 with it).
    """

    def __init__(self, *args: Any, connected: set[asyncio.Task[Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connected = connected

    async def connect(self, req: Any, traces: Any, timeout: Any) -> aiohttp.connector.Connection:
        # The parameters spelled out and the base method called directly: ``*args,
        # **kwargs`` and ``super()`` cost some 4,000 instructions per request (callgrind).
        connection = await _tcp_connect(self, req, traces, timeout)
        task = _current_task()
        if task is not None:
            self.connected.add(task)
        return connection


class AiohttpTransport:
    """An [`AsyncTransport`][vpsorg.AsyncTransport] on one ``aiohttp.ClientSession``.

    The session is created lazily inside the running event loop, on the first request,
    and closed by `aclose()` (from any event loop) or when the transport is
    garbage-collected.
    """

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._send: Any = None  # the session's _request, bound once per session
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = _runtime.current_pid  # the process the session belongs to
        self._closed = False
        # The tasks whose request has its connection open (see _Connector).
        self._connected: set[asyncio.Task[Any]] = set()
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}
        self._last_timeout: Timeout | None = None
        self._last_client_timeout = aiohttp.ClientTimeout()
        self._max_bytes = config.limits.max_response_bytes
        self._plain_base = _plain_base(config.base_url)
        self._targets: dict[str, str | yarl.URL] = {}  # see _target
        token = config.token.reveal()
        self._token = token
        secrets = [token]
        if config.proxy is not None and config.proxy.authorization is not None:
            secrets.extend(_proxy_secrets(config.proxy.authorization))
        for secret in secrets:
            register_secret(secret)
        self._unregister = weakref.finalize(self, _unregister_all, tuple(secrets))
        # The reference asks for Content-Type on every request, GETs included.
        self._headers = {
            "Authorization": RedactedHeader("Bearer " + token),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Encoding": _ACCEPT_ENCODING,
            "User-Agent": user_agent(config.user_agent_extra),
        }
        self._proxy: str | None = None
        self._proxy_headers: dict[str, str] | None = None
        self._request_headers: dict[str, str] | None = None
        if config.proxy is not None:
            self._proxy = config.proxy.url
            # aiohttp builds the proxy's request (CONNECT) from the session's default
            # headers and turns an Authorization among them into Proxy-Authorization:
            # the API token would go to the proxy. So with a proxy the token is sent
            # per request, never as a session default.
            self._request_headers = {"Authorization": self._headers.pop("Authorization")}
            if config.proxy.authorization is not None:
                proxy_auth = RedactedHeader(config.proxy.authorization.reveal())
                if config.base_url.startswith("https:"):
                    self._proxy_headers = {"Proxy-Authorization": proxy_auth}
                else:  # plain http: the request itself goes to the proxy
                    self._request_headers["Proxy-Authorization"] = proxy_auth
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
        proxy = f", proxy={self._proxy!r}" if self._proxy else ""
        return f"AiohttpTransport(base_url={self._config.base_url!r}{proxy})"

    def _forked_away(self) -> None:
        """In a forked child: set the parent's session aside, never use or close it.

        Its sockets and its event loop's epoll instance are shared with the parent;
        closing them here would break the parent's connections. The child opens its own.
        """
        if self._pid != _runtime.current_pid:
            self._pid = _runtime.current_pid
            session, self._session, self._loop = self._session, None, None
            if session is not None:
                _runtime.set_aside(session)

    def _get_session(self) -> aiohttp.ClientSession:
        self._forked_away()
        session = self._session
        if session is not None and not session.closed:
            if self._loop is not asyncio.get_running_loop():
                raise ConfigurationError(
                    "this client belongs to another event loop; create one client per loop "
                    "(closing it with aclose() works from any loop)"
                )
            return session
        if self._closed:
            raise ConfigurationError("the client is closed")
        limits = self._config.limits
        connector = _Connector(
            limit=limits.max_connections,
            limit_per_host=limits.max_connections_per_host,
            keepalive_timeout=limits.keepalive_timeout,
            ssl=self._ssl,
            connected=self._connected,
        )
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            trust_env=False,
            # Decoding happens in _read, where the decoded size is counted against the cap.
            auto_decompress=False,
            raise_for_status=False,
        )
        # aiohttp silently resends GET, PUT and DELETE once after a dropped connection.
        # Every attempt must go through the SDK's own retry policy instead: its budget
        # counts it, and a DELETE that acted before the drop then sees 404 as "deleted".
        # (The import-time check above guarantees the attribute exists.)
        self._session._retry_connection = False
        # Awaiting ``_request`` itself skips the context-manager wrapper that ``request``
        # builds around it on every call (the response is released in ``request`` below).
        self._send = self._session._request
        return self._session

    def _target(self, url: str) -> str | yarl.URL:
        """What aiohttp is handed for ``url``, kept for the next request to the same URL.

        A URL under the base URL made of unreserved characters is already encoded: it is
        handed over as ``yarl.URL(url, encoded=True)``, which yarl only splits instead of
        requoting every part; any other is handed over as the string. The URL objects are
        kept (at most ``_MAX_TARGETS``, then the cache starts again), so polling the same
        servers reuses them and what aiohttp caches on them, as hand-written code that
        builds its URLs once does.
        """
        base = self._plain_base
        target: str | yarl.URL = url
        if base is not None and url.startswith(base) and _PLAIN_TAIL.fullmatch(url, len(base)):
            target = yarl.URL(url, encoded=True)
        targets = self._targets
        if len(targets) >= _MAX_TARGETS:
            targets.clear()
        targets[url] = target
        return target

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

    async def request(  # noqa: RET503 (raise_scrubbed never returns)
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        """Send one request; map every aiohttp failure to a vpsorg error."""
        # The checks of _get_session, inline for the common case (same process, same
        # loop, session open); anything else goes through it.
        session = self._session
        if (
            session is None
            or self._pid != _runtime.current_pid
            or self._loop is not asyncio.get_running_loop()
            or session.closed
        ):
            self._get_session()
        client_timeout = (
            self._last_client_timeout
            if timeout is self._last_timeout
            else self._client_timeout(timeout)
        )
        response: aiohttp.ClientResponse | None = None
        failure: APIConnectionError | None = None
        cause: BaseException | None = None
        task = asyncio.current_task()
        target = self._targets.get(url)
        if target is None:
            target = self._target(url)
        try:
            # Without a proxy the last three are None, aiohttp's own defaults.
            response = await self._send(
                method,
                target,
                params=params,
                data=body,
                allow_redirects=False,
                timeout=client_timeout,
                headers=self._request_headers,
                proxy=self._proxy,
                proxy_headers=self._proxy_headers,
            )
            # A server may echo the Authorization header back: in a header of any
            # answer (X-Request-ID, a Location), or in the body of an error. Scrubbed
            # first, so no frame local holds the raw headers if reading the body fails.
            headers = redact_headers(response.headers)
            length = response.content_length
            encoding = headers.get("Content-Encoding")
            if (
                length is not None
                and length <= self._max_bytes
                and (encoding is None or not _encoded(headers))
            ):
                # The common case: a plain body of a known size within the cap. A small
                # one has usually arrived with the headers; take it from aiohttp's buffer
                # without a coroutine (only once the request's writer is done, as read()
                # would wait for it).
                content = response.content
                if content.is_eof() and response._writer is None:
                    body = content.read_nowait()
                else:
                    body = await response.read()
            else:
                body = await self._read(response, method, url)
            status = response.status
            # Deprecation and Sunset headers are the pipeline's to announce, once the
            # call's result is safe (a warning raised as an error must not lose it).
            if not 200 <= status < 300:
                body = redact_bytes(body)
                if status == 407 and self._proxy is not None:
                    raise _proxy_refused(self._proxy, status, method, url)
            return Response(status, headers, body)
        except (APIConnectionError, APIResponseValidationError) as error:
            # From _read or _too_large: their frames hold aiohttp's response (whose repr
            # shows the raw headers) as a local, which an error tracker recording locals
            # would print; the traceback starts here instead.
            raise error.with_traceback(None) from error.__cause__
        except BaseException as exc:
            failure = _map_exception(
                exc,
                method,
                url,
                connected=task in self._connected,
                got_response=response is not None,
                via_proxy=self._proxy,
            )
            if failure is None:
                raise
            cause = scrubbed_cause(exc)
        finally:
            self._connected.discard(task)
            if response is not None:
                response.release()
                response = None  # no frame local keeps the unscrubbed answer
        # Raised here, outside the except clause, so that the aiohttp error (which may
        # quote what the server sent) is not its __context__: only the scrubbed stand-in.
        assert failure is not None  # every other way out of the try returns or raises
        raise_scrubbed(failure, cause)

    async def _read(self, response: aiohttp.ClientResponse, method: str, url: str) -> bytes:
        """Read and decode a body, refusing it once its decoded size passes the cap."""
        limit = self._max_bytes
        encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
        decoder = _decoder(encoding)
        length = response.content_length
        if decoder is None and encoding not in ("", "identity"):
            response.close()
            raise APIResponseValidationError(
                # The header as sent (the error scrubs it), not lower-cased: a token
                # echoed here must still be recognised.
                f"unsupported Content-Encoding {response.headers.get('Content-Encoding')!r} "
                f"(vpsorg asked for {_ACCEPT_ENCODING})",
                status_code=response.status,
                body=b"",
                method=method,
                url=url,
            )
        if decoder is None and length is not None:
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
        try:
            async for chunk in response.content.iter_chunked(_CHUNK):
                if decoder is None:
                    size += len(chunk)
                    if size > limit:
                        self._too_large(response, chunks, method, url)
                    chunks.append(chunk)
                    continue
                pending = chunk
                while pending:
                    # max_length bounds what one call inflates: a bomb is cut off after
                    # at most one chunk past the cap, whatever its ratio.
                    out = decoder.decompress(pending, _CHUNK)
                    pending = decoder.unconsumed_tail
                    if out:
                        size += len(out)
                        if size > limit:
                            self._too_large(response, chunks, method, url)
                        chunks.append(out)
                    if decoder.eof and decoder.unused_data:
                        # gzip allows several members one after the other.
                        pending = decoder.unused_data + pending
                        decoder = _decoder(encoding)
                        assert decoder is not None
                    elif not out and not pending:
                        break
            if decoder is not None:
                tail = decoder.flush()
                size += len(tail)
                if size > limit:
                    self._too_large(response, chunks, method, url)
                chunks.append(tail)
        except zlib.error as exc:
            corrupt = str(exc)
        else:
            return b"".join(chunks)
        # Raised outside the except clause: no foreign exception in the error's chain.
        response.close()
        raise APIResponseValidationError(
            f"the {encoding}-encoded body is corrupt ({corrupt})",
            status_code=response.status,
            body=b"".join(chunks)[:1024],
            method=method,
            url=url,
        )

    def _too_large(
        self, response: aiohttp.ClientResponse, chunks: list[bytes], method: str, url: str
    ) -> None:
        response.close()
        what = "decoded response" if response.headers.get("Content-Encoding") else "response"
        raise ResponseTooLargeError(
            f"{what} is larger than the {self._max_bytes}-byte cap",
            status_code=response.status,
            body=b"".join(chunks)[:1024],
            method=method,
            url=url,
        )

    async def aclose(self) -> None:
        """Close the session and its connections; safe to call twice, from any loop.

        From the loop that opened them, the session is closed gracefully. From another
        loop, when the first one has ended (``asyncio.run`` called twice), aiohttp cannot
        close them any more, so the sockets are closed here directly.
        """
        self._closed = True
        self._unregister()
        self._forked_away()
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        loop, self._loop = self._loop, None
        if loop is asyncio.get_running_loop():
            await session.close()
            return
        if loop is not None and loop.is_running() and not loop.is_closed():
            # The first loop runs in another thread: close there, where aiohttp can.
            future = asyncio.run_coroutine_threadsafe(session.close(), loop)
            try:
                await asyncio.wait_for(asyncio.wrap_future(future), 5.0)
                return
            except (asyncio.TimeoutError, RuntimeError):
                pass
        _abandon(session)

    def __del__(self) -> None:
        self._forked_away()
        session = self._session
        if session is None or session.closed:
            return
        loop = self._loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(_abandon, session)
                return
            except RuntimeError:  # the loop closed in between
                pass
        _abandon(session)


def _plain_base(base_url: str) -> str | None:
    """``base_url`` if yarl leaves it unchanged (so it can be passed as encoded), else None."""
    try:
        parsed = yarl.URL(base_url)
    except (ValueError, TypeError):
        return None
    if str(parsed) != base_url or parsed.query_string or parsed.fragment or parsed.user:
        return None
    return base_url


def _encoded(headers: Mapping[str, str]) -> bool:
    encoding = headers.get("Content-Encoding")
    return encoding is not None and encoding.strip().lower() not in ("", "identity")


def _decoder(encoding: str) -> Any:
    """A zlib decompressor for a Content-Encoding, or None for identity/unsupported."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        # RFC 9110's "deflate" is zlib-wrapped; some servers send raw deflate: accept both.
        return _DeflateDecoder()
    return None


class _DeflateDecoder:
    """zlib-wrapped or raw deflate, chosen from the first byte."""

    def __init__(self) -> None:
        self._inner: Any = None

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            raw = bool(data) and (data[0] & 0x0F) != 8
            self._inner = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        out: bytes = self._inner.decompress(data, max_length)
        return out

    @property
    def unconsumed_tail(self) -> bytes:
        return b"" if self._inner is None else self._inner.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return b""  # one deflate stream only

    @property
    def eof(self) -> bool:
        return self._inner is not None and bool(self._inner.eof)

    def flush(self) -> bytes:
        return b"" if self._inner is None else self._inner.flush()


def _proxy_secrets(authorization: Secret) -> list[str]:
    """What of a ``Basic`` proxy authorization a proxy could echo: the base64 blob, the
    ``user:password`` pair and the password."""
    blob = authorization.reveal().partition(" ")[2]
    secrets = [blob]
    try:
        pair = base64.b64decode(blob, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):  # pragma: no cover - parse_proxy made it
        return secrets
    secrets.append(pair)
    password = pair.partition(":")[2]
    if password:
        secrets.append(password)
    return secrets


def _unregister_all(secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        unregister_secret(secret)


_abandon_lock = threading.Lock()


def _abandon(session: aiohttp.ClientSession) -> None:
    """Close a session's sockets without its event loop, silently.

    aiohttp's own close needs the loop that opened the connections; when that loop has
    ended it does nothing and the sockets leak until exit, with a ResourceWarning. Here
    each transport's socket is closed directly and the session is marked closed.
    """
    connector = session.connector
    if connector is None:
        return
    with _abandon_lock:
        protocols: list[Any] = list(getattr(connector, "_acquired", ()))
        for entries in list(getattr(connector, "_conns", {}).values()):
            protocols.extend(entry[0] for entry in entries)
        for protocol in protocols:
            _close_transport(getattr(protocol, "transport", None))
            # aiohttp's protocol may hold the transport too; forget it so nothing touches it.
            with contextlib.suppress(AttributeError):
                protocol.transport = None
        for name in ("_acquired", "_conns"):
            container = getattr(connector, name, None)
            if container is not None:
                container.clear()
        connector._closed = True


def _close_transport(transport: Any) -> None:
    """Close an asyncio transport's socket now, even when its loop is closed."""
    while transport is not None:
        inner = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
        if inner is not None:  # an SSL transport over a socket transport
            transport._closed = True  # its __del__ then stays quiet
            transport = inner
            continue
        sock = getattr(transport, "_sock", None)
        if sock is None:
            with contextlib.suppress(Exception):  # best effort on an unknown transport type
                transport.abort()
            return
        loop = getattr(transport, "_loop", None)
        if loop is not None and not loop.is_closed():
            fd = getattr(transport, "_sock_fd", -1)
            for remove in ("_remove_reader", "_remove_writer"):
                with contextlib.suppress(Exception):  # not a selector loop, or removed
                    getattr(loop, remove)(fd)
        transport._closing = True
        transport._sock = None
        sock.close()
        return


def _map_exception(
    exc: BaseException,
    method: str,
    url: str,
    *,
    connected: bool,
    got_response: bool,
    via_proxy: str | None,
) -> APIConnectionError | None:
    """The most specific vpsorg error for an aiohttp or OS failure (None: not ours).

    ``connected``: whether a connection was open for this request. A timeout before
    that (while connecting, in the TLS handshake or the proxy tunnel) sent nothing.
    """
    error: APIConnectionError
    if isinstance(exc, aiohttp.InvalidURL):
        error = APIConnectionError(f"invalid URL: {_describe(exc)}", method=method, url=url)
        error.request_sent, error.retryable = False, False
        return error
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ClientHttpProxyError)):
        error = _connect_error(exc, method, url, via_proxy)
        error.request_sent = False
        return error
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        if not connected:
            where = f" to the proxy {via_proxy}" if via_proxy else ""
            error = APITimeoutError(f"timed out connecting{where}", method=method, url=url)
            error.request_sent = False
            return error
        detail = "reading the response" if got_response else "waiting for the response"
        error = APITimeoutError(f"timed out {detail}", method=method, url=url)
        error.request_sent = True
        return error
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        error = APIConnectionError("the server closed the connection", method=method, url=url)
    elif isinstance(exc, (aiohttp.ClientError, OSError, EOFError)):
        error = APIConnectionError(f"connection failed: {_describe(exc)}", method=method, url=url)
    else:
        return None
    error.request_sent = True
    return error


def _connect_error(
    exc: BaseException, method: str, url: str, via_proxy: str | None
) -> APIConnectionError:
    """A readable error for a connection that could not be opened."""
    host, port = _address(exc, url)
    where = f"{host}:{port}"
    os_error = getattr(exc, "os_error", None) or exc
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return _proxy_refused(via_proxy, exc.status, method, url, tunnel_to=where)
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return APIConnectionError(
            f"could not reach the proxy {via_proxy}: {_strerror(os_error)}", method=method, url=url
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        info = getattr(exc, "certificate_error", os_error)
        reason = getattr(info, "verify_message", None) or _strerror(info)
        error = APIConnectionError(
            f"TLS certificate verification failed for {where}: {reason}", method=method, url=url
        )
        error.retryable = False
        return error
    if isinstance(exc, ssl.SSLError) or isinstance(os_error, ssl.SSLError):
        text = f"{os_error}"
        if any(hint in text for hint in _TLS_MISMATCH_HINTS):
            reason = (
                f"{where} does not speak TLS (https://); is it a plain-HTTP port? "
                "use http:// for it, or the port that serves https://"
            )
        else:
            reason = f"the TLS handshake with {where} failed: {_strerror(os_error)}"
        error = APIConnectionError(reason, method=method, url=url)
        error.retryable = False
        return error
    dns_error = getattr(aiohttp, "ClientConnectorDNSError", ())
    if (dns_error and isinstance(exc, dns_error)) or type(os_error).__name__ == "gaierror":
        return APIConnectionError(
            f"could not resolve the host name {host!r}: {_strerror(os_error)}",
            method=method,
            url=url,
        )
    if isinstance(os_error, ConnectionRefusedError):
        reason = f"connection refused by {where}"
    elif isinstance(os_error, TimeoutError):
        reason = f"timed out connecting to {where}"
    else:
        reason = f"could not connect to {where}: {_strerror(os_error)}"
    return APIConnectionError(reason, method=method, url=url)


def _proxy_refused(
    via_proxy: str | None, status: int, method: str, url: str, *, tunnel_to: str | None = None
) -> APIConnectionError:
    """The error for a proxy that refused the request (plain http) or its tunnel (https).

    Nothing reached the API. A 403 or 407 is not retried: the proxy's policy or
    credentials must change first.
    """
    what = f"the tunnel to {tunnel_to}" if tunnel_to else "the request"
    reason = f"the proxy {via_proxy} refused {what}: HTTP {status}"
    if status == 407:
        reason += " (proxy authentication required or wrong credentials)"
    error = APIConnectionError(reason, method=method, url=url)
    error.request_sent = False
    error.retryable = status not in (403, 407)
    return error


def _address(exc: BaseException, url: str) -> tuple[str, int | str]:
    host = getattr(exc, "host", None)
    port = getattr(exc, "port", None)
    if host is None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        host = parts.hostname or "?"
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = "?"
    return str(host), port if port is not None else "?"


def _strerror(exc: BaseException) -> str:
    """The human part of an OS or SSL error ("Connection reset by peer")."""
    text = getattr(exc, "strerror", None) or getattr(exc, "reason", None)
    if isinstance(text, str) and text:
        return redact_fragments(text)
    return _describe(exc)


def _describe(exc: BaseException) -> str:
    """A short description of an exception, scrubbed of every secret even where the
    exception's message cut one short; never raises, whatever the exception."""
    name = type(exc).__name__
    try:
        text = redact_fragments(str(exc))
    except Exception:
        text = ""
    if not text:
        return name
    return text if name in text else f"{name}: {text}"
