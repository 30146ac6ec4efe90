"""Typed events about each call and each attempt, for the client's ``event_hooks``.

Examples:
    Give a client one or more hooks, callables taking one event:

    ```python
    def show(event: vpsorg.Event) -> None:
        print(event)

    client = vpsorg.AsyncClient(event_hooks=[show])
    ```

A call (one method such as ``servers.get``, one request with its retries) emits, in
order: [`CallStarted`][vpsorg.CallStarted]; for each attempt an
[`AttemptStarted`][vpsorg.AttemptStarted] and an [`AttemptEnded`][vpsorg.AttemptEnded],
with a [`RetryScheduled`][vpsorg.RetryScheduled] between two attempts; and always
[`CallEnded`][vpsorg.CallEnded], whatever ends the call (success, error, deadline,
cancellation). Every event of one call carries the same ``call_id``.

Events are frozen attrs classes. None of them carries the API token: the token travels
only in the ``Authorization`` header, URLs never hold it, and the response headers an
event shows are an allow-list ([`EVENT_HEADERS`][vpsorg.EVENT_HEADERS]). There are no
request headers or bodies in events.

Hooks run synchronously, in the task making the call (for the blocking
[`Client`][vpsorg.Client]: in the client's event-loop thread, not the calling thread), so
keep them quick and never block in them. A hook that raises does not break the call:
the error is logged once per hook (logger ``"vpsorg"``, with its traceback) and the hook
keeps being called. With no hooks, a client builds no events at all.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal
from urllib.parse import urlencode, urlsplit

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._secrets import redact, redact_headers

__all__ = [
    "EVENT_HEADERS",
    "AttemptEnded",
    "AttemptStarted",
    "CallEnded",
    "CallStarted",
    "Event",
    "EventHook",
    "RetryScheduled",
]

logger = logging.getLogger("vpsorg")

EVENT_HEADERS: tuple[str, ...] = (
    "Content-Type",
    "Content-Length",
    "X-Request-ID",
    "Retry-After",
    "Deprecation",
    "Sunset",
    "Date",
    "Server",
)
"""The response headers an [`AttemptEnded`][vpsorg.AttemptEnded] (and a raw response's
``request_id``) may show; every other header is left out.
"""

_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


@attrs.frozen(kw_only=True)
class CallStarted:
    """A call begins: nothing has been sent yet (the rate-limit gate may still hold it)."""

    call_id: int
    """Identifies the call: every event of the call carries it (unique in the process)."""
    method: str
    """The HTTP method, e.g. ``"POST"``."""
    url_template: str
    """The path under the base URL with ids replaced, e.g. ``"/servers/{id}/start/"``."""
    url: str
    """The full URL, with the query string (never the token)."""


@attrs.frozen(kw_only=True)
class AttemptStarted:
    """One attempt is about to be sent."""

    call_id: int
    """The call this attempt belongs to."""
    method: str
    """The HTTP method."""
    url_template: str
    """The path under the base URL with ids replaced, e.g. ``"/servers/{id}/"``."""
    url: str
    """The full URL, with the query string (never the token)."""
    attempt: int
    """1 for the first attempt, 2 for the first retry, ..."""


@attrs.frozen(kw_only=True)
class AttemptEnded:
    """One attempt ended: with a response (``status_code``) or an ``error``.

    An error response (a 503, a 404) is a response here: ``status_code`` is set and
    ``error`` is None. ``error`` is set when no response came: a
    [`APIConnectionError`][vpsorg.APIConnectionError] (connection failure, timeout), or the
    ``CancelledError`` of a cancelled call.
    """

    call_id: int
    """The call this attempt belongs to."""
    method: str
    """The HTTP method."""
    url_template: str
    """The path under the base URL with ids replaced."""
    url: str
    """The full URL, with the query string (never the token)."""
    attempt: int
    """The attempt's number, from 1."""
    status_code: int | None
    """The response's status, or None when there was no response."""
    error: BaseException | None
    """Why there was no response, or None."""
    elapsed: float
    """Seconds from sending to the whole response read (or to the error)."""
    request_id: str | None
    """The response's ``X-Request-ID``, when it has one (quote it to support)."""
    headers: CIMultiDictProxy[str] = attrs.field(default=_NO_HEADERS, eq=False)
    """The response headers named in `EVENT_HEADERS`, every value of each, scrubbed
    of the client's secrets: read-only and case-insensitive (``multidict.CIMultiDictProxy``,
    so ``headers.get("retry-after")`` works); empty without a response.
    """


@attrs.frozen(kw_only=True)
class RetryScheduled:
    """The last attempt failed and another will be made after ``delay`` seconds."""

    call_id: int
    """The call being retried."""
    method: str
    """The HTTP method."""
    url_template: str
    """The path under the base URL with ids replaced."""
    url: str
    """The full URL, with the query string (never the token)."""
    attempt: int
    """The number of the attempt that failed (the next one is ``attempt + 1``)."""
    delay: float
    """Seconds until the next attempt (a rate-limit gate may add to it)."""
    reason: str
    """Why: ``"HTTP 503"``, ``"HTTP 429"``, or the error's class name, e.g.
    ``"APITimeoutError"``.
    """


@attrs.frozen(kw_only=True)
class CallEnded:
    """The call ended; always the last event of a call."""

    call_id: int
    """The call that ended."""
    method: str
    """The HTTP method."""
    url_template: str
    """The path under the base URL with ids replaced."""
    url: str
    """The full URL, with the query string (never the token)."""
    attempts: int
    """How many attempts were sent (0 when it ended before the first one)."""
    elapsed: float
    """Seconds from [`CallStarted`][vpsorg.CallStarted] to now, retries and waits included."""
    outcome: Literal["success", "error", "cancelled"]
    """``"success"`` (a 2xx response), ``"error"`` (an exception from the vpsorg tree)
    or ``"cancelled"`` (the task was cancelled, or the deadline's scope fired).
    """
    status_code: int | None
    """The final response's status, or None when the call ended without one."""
    error: BaseException | None
    """The exception the call raised, or None on success."""


Event = CallStarted | AttemptStarted | AttemptEnded | RetryScheduled | CallEnded
"""Any event a hook can receive."""
EventHook = Callable[[Event], object]
"""A hook: called with each event; its return value is ignored."""

_call_ids = itertools.count(1)
_ID_SEGMENT = re.compile(r"(?<=/)\d+(?=/|$)")


def next_call_id() -> int:
    """A new call id (private)."""
    return next(_call_ids)


def url_template(url: str, base_url: str) -> str:
    """The path of ``url`` under ``base_url``, with numeric segments as ``{id}`` (private)."""
    path = urlsplit(url).path
    base_path = urlsplit(base_url).path.rstrip("/")
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :]
    return _ID_SEGMENT.sub("{id}", path) or "/"


def full_url(url: str, params: Mapping[str, str] | None) -> str:
    """``url`` with ``params`` as its query string, as the transport sends it (private)."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def event_headers(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """The allow-listed headers of a response, read-only (private)."""
    if not headers:
        return _NO_HEADERS
    # As is from AiohttpTransport, which scrubbed them; a custom transport's are not.
    headers = redact_headers(headers)
    shown: CIMultiDict[str] | None = None
    for name in EVENT_HEADERS:
        values = headers.getall(name, ())
        if values:
            if shown is None:
                shown = CIMultiDict()
            for value in values:
                shown.add(name, value)
    return _NO_HEADERS if shown is None else CIMultiDictProxy(shown)


def request_id(headers: Mapping[str, str]) -> str | None:
    """The request id a response carries (``X-Request-ID`` or ``Request-Id``), scrubbed
    of the client's secrets, or None (private)."""
    value = headers.get("X-Request-ID") or headers.get("X-Request-Id") or headers.get("Request-Id")
    return None if value is None else redact(value)


class Emitter:
    """Calls every hook with an event; a hook that raises is logged once (private)."""

    __slots__ = ("_failed", "hooks")

    def __init__(self, hooks: Sequence[EventHook]) -> None:
        #: The hooks, in the order they are called.
        self.hooks: tuple[EventHook, ...] = tuple(hooks)
        self._failed: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.hooks)

    def emit(self, event: Event) -> None:
        """Give ``event`` to every hook, in order; never raises an ``Exception``."""
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                key = id(hook)
                if key not in self._failed:
                    self._failed.add(key)
                    logger.warning(
                        "event hook %r raised on %s; the call goes on (logged once per hook)",
                        hook,
                        type(event).__name__,
                        exc_info=True,
                    )
