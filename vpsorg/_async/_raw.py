"""Raw responses: ``client.servers.with_raw_response.<method>(...)``.

Each method of [`AsyncServersWithRawResponse`][vpsorg.AsyncServersWithRawResponse] runs the
servers method of the same name and returns a [`RawResponse`][vpsorg.RawResponse]: the HTTP
status, the response headers, the request id, how many attempts it took and how long, and
the parsed model (``parsed``).

How it works: the wrapper's servers resource runs on a copy of the client's request
pipeline with capture on (sharing the connection pool, rate-limit gate and retry budget);
the wrapper sets a context variable for the call, and the pipeline puts the final
response there. The ordinary ``client.servers`` pipeline never looks at it, so a client
that never asks for raw responses pays nothing for them.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Generic, Protocol, TypeVar

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from .._events import request_id
from .._exceptions import VPSOrgError
from .._secrets import redact_headers
from ..models import ActionResult, Server, ServerPage
from ._transport import Response

__all__ = ["CAPTURE", "AsyncServersWithRawResponse", "RawResponse"]

T = TypeVar("T")

_HIDDEN_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
"""Response headers a raw response never shows (credentials and cookies)."""


@attrs.frozen(kw_only=True)
class RawResponse(Generic[T]):
    """The HTTP side of one call, with its parsed result.

    Examples:
        What ``client.servers.with_raw_response.<method>(...)`` returns:

        ```python
        raw = await client.servers.with_raw_response.get(12345)
        print(raw.status_code, raw.request_id, raw.retries_taken)
        server = raw.parsed
        ```

    An error status raises as usual (the exception carries ``status_code`` and
    ``request_id``); a raw response is always that of a success.
    """

    method: str
    """The HTTP method of the call."""
    url: str
    """The URL requested, without the query string (never the token)."""
    status_code: int
    """The HTTP status of the final response (2xx). 204 for a delete; a retried delete
    whose first attempt did delete (the API then answers 404) shows 204 too.
    """
    headers: CIMultiDictProxy[str] = attrs.field(eq=False)
    """The final response's headers, read-only, without credentials or cookies, and
    scrubbed of the client's secrets: a case-insensitive multi-valued mapping
    (``multidict.CIMultiDictProxy``, as aiohttp's), so ``headers.get("content-type")``
    works whatever the server's spelling and ``headers.getall("Link")`` gives every
    value of a repeated header, in order.
    """
    request_id: str | None
    """The response's ``X-Request-ID``, or None: quote it in a support ticket."""
    attempts: int
    """How many attempts the call took (1 when no retry was needed)."""
    elapsed: float
    """Seconds from the first attempt to the final response, retries included."""
    parsed: T
    """The decoded result: the model the plain method returns (None for ``delete``)."""

    @property
    def retries_taken(self) -> int:
        """How many times the request was retried (``attempts - 1``)."""
        return self.attempts - 1


class _Capture:
    """Where the pipeline puts the final response of the call running in this context."""

    __slots__ = ("attempts", "elapsed", "method", "response", "url")

    def __init__(self) -> None:
        self.response: Response | None = None
        self.method = ""
        self.url = ""
        self.attempts = 0
        self.elapsed = 0.0

    def record(
        self, method: str, url: str, response: Response, attempts: int, elapsed: float
    ) -> None:
        """Keep ``response`` as the call's final one."""
        self.method = method
        self.url = url
        self.response = response
        self.attempts = attempts
        self.elapsed = elapsed


CAPTURE: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar(
    "vpsorg_raw_capture", default=None
)
"""The capture of the raw call running in this context, or None (private; the pipeline
reads it only when its capture flag is on).
"""


class _Listing(Protocol):
    def pages(self) -> AsyncIterator[ServerPage]: ...


class _ServerEndpoints(Protocol):
    """The methods of [`AsyncServers`][vpsorg.AsyncServers] the wrapper calls."""

    def list(
        self, status: str | None = ..., location: str | None = ..., *, page_size: int | None = ...
    ) -> _Listing: ...

    async def create(
        self,
        name: str,
        plan_id: int,
        os_id: int,
        location: str,
        hostname: str | None = ...,
        ssh_key_id: int | None = ...,
        backups_enabled: bool | None = ...,
    ) -> Server: ...

    async def get(self, server_id: int) -> Server: ...

    async def update(
        self, server_id: int, name: str, hostname: str, backups_enabled: bool
    ) -> Server: ...

    async def patch(
        self,
        server_id: int,
        name: str | None = ...,
        hostname: str | None = ...,
        backups_enabled: bool | None = ...,
    ) -> Server: ...

    async def delete(self, server_id: int) -> None: ...

    async def start(self, server_id: int) -> ActionResult: ...

    async def stop(self, server_id: int) -> ActionResult: ...

    async def reboot(self, server_id: int) -> ActionResult: ...


async def _raw(call: Awaitable[T]) -> RawResponse[T]:
    capture = _Capture()
    token = CAPTURE.set(capture)
    try:
        parsed = await call
    finally:
        CAPTURE.reset(token)
    response = capture.response
    if response is None:  # pragma: no cover - every method sends exactly one request
        raise VPSOrgError("no response was captured for the raw call")
    return RawResponse(
        method=capture.method,
        url=capture.url,
        status_code=response.status,
        headers=_shown_headers(response.headers),
        request_id=request_id(response.headers),
        attempts=capture.attempts,
        elapsed=capture.elapsed,
        parsed=parsed,
    )


class AsyncServersWithRawResponse:
    """The servers endpoints, each returning a [`RawResponse`][vpsorg.RawResponse].

    Reach it as ``client.servers.with_raw_response``; every method takes the arguments
    of the [`AsyncServers`][vpsorg.AsyncServers] method of the same name (the HTTP request
    itself: ``create`` has no ``wait`` or ``reconcile`` here) and raises the same
    errors:

    ```python
    raw = await client.servers.with_raw_response.start(12345)
    print(raw.status_code, raw.request_id, raw.attempts, raw.parsed.message)
    ```
    """

    def __init__(self, servers: _ServerEndpoints) -> None:
        self._servers = servers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._servers!r})"

    async def list(
        self,
        status: str | None = None,
        location: str | None = None,
        *,
        page_size: int | None = None,
    ) -> RawResponse[ServerPage]:
        """The first page of servers (``parsed``: a [`ServerPage`][vpsorg.ServerPage]).

        Takes the arguments of [`AsyncServers.list()`][vpsorg.AsyncServers.list]. Follow
        ``parsed.next`` with ``client.servers.list(...).pages()`` for the rest.
        """
        listing = self._servers.list(status, location, page_size=page_size)
        return await _raw(_first_page(listing))

    async def create(
        self,
        name: str,
        plan_id: int,
        os_id: int,
        location: str,
        hostname: str | None = None,
        ssh_key_id: int | None = None,
        backups_enabled: bool | None = None,
    ) -> RawResponse[Server]:
        """Create a server (see [`create()`][vpsorg.AsyncServers.create]); ``parsed`` is it."""
        return await _raw(
            self._servers.create(
                name, plan_id, os_id, location, hostname, ssh_key_id, backups_enabled
            )
        )

    async def get(self, server_id: int) -> RawResponse[Server]:
        """Get one server (see [`get()`][vpsorg.AsyncServers.get]); ``parsed`` is the server."""
        return await _raw(self._servers.get(server_id))

    async def update(
        self, server_id: int, name: str, hostname: str, backups_enabled: bool
    ) -> RawResponse[Server]:
        """Replace a server's settings (see [`update()`][vpsorg.AsyncServers.update])."""
        return await _raw(self._servers.update(server_id, name, hostname, backups_enabled))

    async def patch(
        self,
        server_id: int,
        name: str | None = None,
        hostname: str | None = None,
        backups_enabled: bool | None = None,
    ) -> RawResponse[Server]:
        """Change some of a server's settings (see [`patch()`][vpsorg.AsyncServers.patch])."""
        return await _raw(self._servers.patch(server_id, name, hostname, backups_enabled))

    async def delete(self, server_id: int) -> RawResponse[None]:
        """Delete a server (see [`delete()`][vpsorg.AsyncServers.delete]); ``parsed`` is None."""
        return await _raw(self._servers.delete(server_id))

    async def start(self, server_id: int) -> RawResponse[ActionResult]:
        """Power on a server (see [`AsyncServers.start()`][vpsorg.AsyncServers.start])."""
        return await _raw(self._servers.start(server_id))

    async def stop(self, server_id: int) -> RawResponse[ActionResult]:
        """Shut down a server (see [`AsyncServers.stop()`][vpsorg.AsyncServers.stop])."""
        return await _raw(self._servers.stop(server_id))

    async def reboot(self, server_id: int) -> RawResponse[ActionResult]:
        """Restart a server (see [`AsyncServers.reboot()`][vpsorg.AsyncServers.reboot])."""
        return await _raw(self._servers.reboot(server_id))


async def _first_page(listing: _Listing) -> ServerPage:
    pages = listing.pages()
    try:
        async for page in pages:
            return page
    finally:
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()
    raise VPSOrgError("the server list gave no page")  # pragma: no cover


def _shown_headers(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """The headers without credentials and cookies (every value of the others, in order)."""
    headers = redact_headers(headers)  # as is from AiohttpTransport, which scrubbed them
    if not any(name.lower() in _HIDDEN_HEADERS for name in headers):
        return headers
    shown: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        if name.lower() not in _HIDDEN_HEADERS:
            shown.add(name, value)
    return CIMultiDictProxy(shown)
