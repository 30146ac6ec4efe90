"""Every error vpsorg raises, in one tree.

```text
    VPSOrgError
     ├── ConfigurationError          (also ValueError)  bad client settings, e.g. no token
     ├── InvalidInputError           (also ValueError)  rejected before any request was sent
     │    └── JournalError                              a journal from another call
     ├── APIResponseValidationError                     the body is not what the API promises
     │    └── ResponseTooLargeError                     the body is larger than the cap
     ├── APIStatusError                                 the API answered with an error status
     │    ├── BadRequestError            400
     │    ├── AuthenticationError        401
     │    ├── PaymentRequiredError       402
     │    ├── NotFoundError              404
     │    ├── RateLimitError             429
     │    └── InternalServerError        5xx
     ├── APIConnectionError                             no usable answer from the network
     │    ├── APITimeoutError                           the request took too long
     │    └── OutcomeUnknownError                       a non-idempotent request may have acted
     │         ├── OutcomeUnknownStatusError (also InternalServerError) ... after a 5xx answer
     │         ├── UnreadableSuccessError (also APIResponseValidationError) it acted (2xx),
     │         │                                        but its answer could not be read
     │         ├── NotCreatedError                      a reconciled create made no server
     │         └── AmbiguousCreateError                 ... and several servers could be it
     ├── WaitError                                      a wait ended without the status
     │    ├── WaitTimeoutError       (also TimeoutError) ... because the time ran out
     │    └── UnreachableStatusError                    ... because it cannot come by itself
     ├── BulkOperationError                             one or more items of a bulk call failed
     └── NotStartedError                                a bulk item never started

    VPSOrgWarning                   (also UserWarning)
     └── VPSOrgDeprecationWarning    (also DeprecationWarning)  the API deprecated an endpoint
```

Nothing here holds the API token: messages are built from status codes, URLs without
credentials and the first bytes of response bodies, and every error scrubs the tokens of
the live clients from its message, ``repr``, ``body`` and ``message`` (a server may echo
the ``Authorization`` header back), replacing them with ``[REDACTED]``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _secrets

# The scrubbing lives in _secrets; these names stay importable from here.
from ._secrets import REDACTED as REDACTED
from ._secrets import redact as redact
from ._secrets import redact_bytes as redact_bytes
from ._secrets import redact_object as redact_object
from ._secrets import register_secret as register_secret
from ._secrets import unregister_secret as unregister_secret

if TYPE_CHECKING:
    from datetime import datetime

    from .models.servers import Server, ServerSpec

__all__ = [
    "VPSOrgError",
    "ConfigurationError",
    "InvalidInputError",
    "APIResponseValidationError",
    "ResponseTooLargeError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PaymentRequiredError",
    "NotFoundError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "OutcomeUnknownError",
    "OutcomeUnknownStatusError",
    "WaitError",
    "UnreadableSuccessError",
    "WaitTimeoutError",
    "NotCreatedError",
    "AmbiguousCreateError",
    "UnreachableStatusError",
    "VPSOrgWarning",
    "VPSOrgDeprecationWarning",
    "status_error_class",
]

_SNIPPET_CHARS = 200


def body_snippet(body: object, limit: int = _SNIPPET_CHARS) -> str:
    """Return a short, single-line rendering of a response body for messages."""
    if body is None or body == b"" or body == "":
        return "<empty body>"
    if isinstance(body, bytes):
        text = body[: limit * 4].decode("utf-8", errors="replace")
    elif isinstance(body, str):
        text = body
    else:
        text = repr(body)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return text


class VPSOrgError(Exception):
    """The root of every error raised by vpsorg.

    Catch this to handle anything the SDK can raise, from bad input to network failures.
    Its message never contains the API token of a live client: it is replaced by
    ``[REDACTED]`` when a server echoes it.
    """

    #: The server a ``create(..., wait=True)`` made before the wait that followed it
    #: failed (the error is what the wait raised); ``None`` on every other error. See
    #: "Waiting for states" in the docs for how to recover.
    created_server: Server | None = None

    def __init__(self, *args: object) -> None:
        if _secrets.active():
            args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        super().__init__(*args)


class VPSOrgWarning(UserWarning):
    """The root of every warning vpsorg emits."""


class VPSOrgDeprecationWarning(VPSOrgWarning, DeprecationWarning):
    """The API marked an endpoint deprecated (``Deprecation`` header) or gave it an end
    date (``Sunset`` header).

    Emitted once per endpoint (method and URL, with numeric ids as ``{id}``) per process;
    the message says what is deprecated, since when, and when it stops working.
    Python hides `DeprecationWarning` outside ``__main__`` by default, so vpsorg
    also logs the same message once at WARNING on the ``vpsorg`` logger.

    The warning is issued once the call's result is built. When warnings are errors
    (``-W error``, pytest's ``filterwarnings = error``) it is raised instead of the
    result, and carries that result, so nothing the call did is lost: ``result`` holds
    it (the created `Server` of a create, the `ActionResult` of a power action), and a
    create also sets ``created_server``. A call that ends in a vpsorg error raises that
    error; its notice is then only logged if the warning cannot be shown.

    Attributes:
        result: the result of the call that raised this warning as an error, else
            ``None``.
        created_server: the server a create made, when this warning was raised as an
            error after it; else ``None``.
    """

    result: object = None
    created_server: Server | None = None


class ConfigurationError(VPSOrgError, ValueError):
    """The client was configured in a way that cannot work (no token, a bad URL, ...).

    The message never shows the token, and shows a URL's ``user:password@`` as ``***@``.

    Attributes:
        setting: the setting whose value is refused, under the name it was given:
            an argument (``"token"``, ``"base_url"``, ``"proxy"``, ``"user_agent"``) or an
            environment variable (``"VPSORG_API_TOKEN"``, ``"HTTPS_PROXY"``, ...);
            ``None`` when no single setting is at fault (a closed client, say).
    """

    def __init__(self, *args: object, setting: str | None = None) -> None:
        super().__init__(*args)
        self.setting = setting


class InvalidInputError(VPSOrgError, ValueError):
    """An argument was rejected before any request left the machine.

    Attributes:
        field: the name of the offending parameter.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class APIResponseValidationError(VPSOrgError):
    """The API answered, but the body is not what the reference promises.

    Raised for an HTML page where JSON was due, truncated JSON, a wrong shape or an empty
    body. The message names the HTTP status and the start of the body.

    Attributes:
        status_code: the HTTP status of the response.
        body: the raw body (bytes), possibly cut at the size cap.
        method: the HTTP method of the request.
        url: the URL of the request.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: bytes,
        method: str = "",
        url: str = "",
    ) -> None:
        if _secrets.active():
            body = redact_bytes(body) if isinstance(body, bytes) else body
        where = f" for {method} {url}" if method else ""
        super().__init__(
            f"{message}{where} (HTTP {status_code}; body starts: {body_snippet(body)!r})"
        )
        self.status_code = status_code
        self.body = body
        self.method = method
        self.url = url


class ResponseTooLargeError(APIResponseValidationError):
    """The response body exceeded the client's size cap and was not read further."""


class APIStatusError(VPSOrgError):
    """The API answered with an error status (4xx or 5xx).

    Attributes:
        status_code: the HTTP status.
        message: the server's explanation (from ``detail``, ``message`` or ``error``), or
            a summary of per-field errors, or the start of a non-JSON body.
        body: the decoded JSON body when there was one, else the raw text.
        request_id: the server's request id header (``X-Request-ID``) when sent.
        method: the HTTP method of the request.
        url: the URL of the request.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        if _secrets.active():
            message, body = redact(message), redact_object(body)
            request_id = None if request_id is None else redact(request_id)
        self.status_code = status_code
        self.message = message
        self.body = body
        self.request_id = request_id
        self.method = method
        self.url = url
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"HTTP {self.status_code}"]
        if self.method:
            parts.append(f"for {self.method} {self.url}")
        text = " ".join(parts) + f": {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class BadRequestError(APIStatusError):
    """400: the API rejected the parameters.

    Attributes:
        field_errors: per-field messages, e.g. ``{"name": ["This field is required."]}``;
            empty when the server sent none. Every field is named in ``str(error)``.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field_errors: Mapping[str, Sequence[str]] = _field_errors(self.body)


class AuthenticationError(APIStatusError):
    """401: the API token is missing, wrong or revoked."""


class PaymentRequiredError(APIStatusError):
    """402: the account has insufficient credits for this operation."""


class NotFoundError(APIStatusError):
    """404: the server (or page) does not exist."""


class RateLimitError(APIStatusError):
    """429: too many requests.

    Attributes:
        retry_after: seconds the server asked us to wait, or ``None`` if it did not say.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    def _render(self) -> str:
        text = super()._render()
        if self.retry_after is not None:
            text += f"; retry after {self.retry_after:g}s"
        return text


class InternalServerError(APIStatusError):
    """5xx: the API or a proxy in front of it failed."""


class APIConnectionError(VPSOrgError):
    """The request got no usable answer: DNS, refused or dropped connection, TLS failure.

    Attributes:
        method: the HTTP method of the request.
        url: the URL of the request.
        reason: the plain reason, without method and URL (e.g. ``"connection refused by
            127.0.0.1:1"``), for composing messages such as "... after 4 attempts".
        request_sent: ``False`` when the request provably never reached the server (the
            connection, its TLS handshake or the proxy tunnel could not be opened), ``True``
            when it may have, ``None`` if unknown.
        retryable: ``False`` when trying again cannot help (a TLS or protocol mismatch,
            such as ``https://`` to a port that speaks plain HTTP, or a failed certificate
            check); the client then does not retry.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        message = redact(message) if _secrets.active() else message
        where = f"{method} {url}: " if method else ""
        super().__init__(f"{where}{message}")
        self.method = method
        self.url = url
        self.reason = message
        self.request_sent: bool | None = None
        self.retryable = True


class APITimeoutError(APIConnectionError):
    """The request did not complete within its timeout or the call's deadline."""


class OutcomeUnknownError(APIConnectionError):
    """A non-idempotent request (create, start, stop, reboot) may have reached the server.

    The SDK never resends such a request, because the server may already have acted on it
    (a second create would be a second, billed server). Check the state before retrying:
    for a create, ``servers.find_created(error)`` finds the server it may have made (or
    create with ``reconcile=True``); for a power action, get the server and look at its
    status.

    A call cancelled (or its blocking client closed, or interrupted with Ctrl-C) while
    such a request was in flight propagates its ``CancelledError`` or
    ``KeyboardInterrupt``, carrying this error in an ``outcome_unknown`` attribute
    (read it with ``getattr(exc, "outcome_unknown", None)``); a blocking client closed
    from another thread during the call raises this error itself.

    Attributes:
        request_sent: always ``True``: the request may have reached the API (the same on
            every subclass and on the error's cause).
        status_code: the HTTP status when the server answered (a 5xx, a 3xx, a 4xx that
            is not one of the API's refusals), else ``None``.
        cause: the underlying error.
        spec: for a create, what it asked for (a [`ServerSpec`][vpsorg.ServerSpec]; no token),
            else ``None``. ``servers.find_created(error)`` uses it.
        started_at: for a create, the time (timezone-aware, UTC, this machine's clock)
            taken just before its first attempt was sent, else ``None``.
        server_id: the id of the server the request made or acted on, when known (a
            power action's id; a create's id read from an answer that could not be
            decoded whole), else ``None``.
        unknown_since: when the outcome became unknown (``time.time()``, this machine's
            clock): the settle window of ``find_created`` counts from it.
    """

    spec: ServerSpec | None = None
    started_at: datetime | None = None
    server_id: int | None = None
    unknown_since: float = 0.0

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status_code: int | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.cause = cause
        self.request_sent: bool | None = True
        self.unknown_since: float = time.time()


class OutcomeUnknownStatusError(OutcomeUnknownError, InternalServerError):
    """A create, start, stop or reboot was answered with a 5xx status.

    The server may have acted before failing, so the request was not resent. This error is
    both an [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError] (an
    [`APIConnectionError`][vpsorg.APIConnectionError]) and an
    [`InternalServerError`][vpsorg.InternalServerError], so either ``except`` clause catches
    it. It carries the attributes of both (``status_code``, ``body``, ``request_id``,
    ``cause``, ...).
    """

    def __init__(self, message: str, *, error: APIStatusError) -> None:
        VPSOrgError.__init__(self, f"{error.method} {error.url}: {message}")
        self.reason: str = redact(message) if _secrets.active() else message
        self.retryable: bool = True
        self.method: str = error.method
        self.url: str = error.url
        self.request_sent: bool | None = True
        self.status_code: int = error.status_code
        self.message: str = error.message
        self.body: object = error.body
        self.request_id: str | None = error.request_id
        self.cause: BaseException | None = error
        self.unknown_since: float = time.time()


class UnreadableSuccessError(OutcomeUnknownError, APIResponseValidationError):
    """The API accepted a create, start, stop or reboot (2xx), but its answer is unreadable.

    The request acted: a create made a server, a power action was accepted. But the body
    could not be read (it does not decode, the API changed a field's type, or it is over
    the size cap), so the result is unknown. It is an `OutcomeUnknownError`
    carrying ``spec`` and ``started_at`` for a create, so ``servers.find_created(error)``
    and ``create(..., reconcile=True)`` find the server (by ``server_id`` when the id
    could be read); settling it never says "not created". It is also an
    `APIResponseValidationError` (``status_code``, ``body``).

    Attributes:
        server_id: the id read from the body, when there was one, else ``None``.
        body: the raw body (bytes), possibly cut at the size cap.
        cause: the error reading the body raised.
    """

    def __init__(
        self, error: APIResponseValidationError, *, server_id: int | None, created: bool
    ) -> None:
        what = "the server was created" if created else "the API accepted the request"
        known = f" (id {server_id})" if server_id is not None else " (no id could be read)"
        message = f"{what}{known}, but its answer could not be read: {error}; " + (
            "servers.find_created(error) finds it"
            if created
            else "get the server to see its status"
        )
        VPSOrgError.__init__(self, message)
        self.reason: str = self.args[0]
        self.retryable: bool = False
        self.method: str = error.method
        self.url: str = error.url
        self.request_sent: bool | None = True
        self.status_code: int = error.status_code
        self.body: bytes = error.body
        self.cause: BaseException | None = error
        self.server_id: int | None = server_id
        self.unknown_since: float = time.time()


class WaitError(VPSOrgError):
    """A wait for a status ended without the server reaching it.

    The common base of [`WaitTimeoutError`][vpsorg.WaitTimeoutError] (the time ran out)
    and [`UnreachableStatusError`][vpsorg.UnreachableStatusError] (the server is in a
    status the one waited for cannot come from by itself). Catch it around `wait_for`
    (or `create(..., wait=True)`) to handle every way a wait can end short of its
    status; errors of the status checks themselves (a `NotFoundError`, an
    `APIConnectionError`) are not `WaitError`s.

    Attributes:
        server_id: the id waited on.
        status: the status waited for (a string, or a list of them).
        last_seen: the last [`Server`][vpsorg.Server] observed, or `None` if no status
            check answered.

    Examples:
        ```python
        import vpsorg

        async with vpsorg.AsyncClient() as client:
            await client.servers.stop(12345)
            try:
                await client.servers.wait_for(12345, "active", timeout=5)
            except vpsorg.WaitError as error:
                print(type(error).__name__, error.last_seen)
        ```
    """

    def __init__(
        self,
        message: str,
        *,
        server_id: int,
        status: str | Sequence[str],
        last_seen: Server | None,
    ) -> None:
        super().__init__(message)
        self.server_id = server_id
        self.status = status
        self.last_seen = last_seen


class WaitTimeoutError(WaitError, TimeoutError):
    """A server did not reach the wanted status in time.

    Attributes:
        server_id: the id waited on.
        status: the status waited for.
        timeout: the time allowed, in seconds.
        last_seen: the last [`Server`][vpsorg.Server] observed, or ``None``.
    """

    def __init__(
        self,
        server_id: int,
        status: str | Sequence[str],
        timeout: float,
        last_seen: Server | None,
    ) -> None:
        wanted = status if isinstance(status, str) else " or ".join(status)
        seen = f"last seen {str(last_seen.status)!r}" if last_seen else "never seen"
        super().__init__(
            f"server {server_id} did not reach {wanted!r} within {timeout:g}s ({seen})",
            server_id=server_id,
            status=status,
            last_seen=last_seen,
        )
        self.timeout = timeout


def _field_errors(body: object) -> dict[str, list[str]]:
    """Pull DRF-style per-field errors out of a decoded error body."""
    if not isinstance(body, Mapping):
        return {}
    out: dict[str, list[str]] = {}
    for key, value in body.items():
        # These keys hold a message when their value is a string ({"detail": "..."},
        # {"status": "error"}); a list under them is a field's errors (DRF answers
        # ?status=bogus with {"status": ["Select a valid choice. ..."]}).
        if key in ("detail", "message", "error", "status", "code") and not isinstance(value, list):
            continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[str(key)] = list(value)
        elif isinstance(value, str):
            out[str(key)] = [value]
    return out


def error_message(body: object, raw: bytes) -> str:
    """The most useful human message in an error body, whatever its shape."""
    if isinstance(body, Mapping):
        for key in ("detail", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping):
                inner = value.get("message")
                if isinstance(inner, str) and inner:
                    return inner
        fields = _field_errors(body)
        if fields:
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        if body:
            return body_snippet(repr(dict(body)))
    elif isinstance(body, list) and body and all(isinstance(v, str) for v in body):
        return "; ".join(body)
    return body_snippet(raw)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    404: NotFoundError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The most specific [`APIStatusError`][vpsorg.APIStatusError] subclass for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


def _copy_create_attempt(error: OutcomeUnknownError, source: OutcomeUnknownError) -> None:
    """Give ``error`` the request attributes of ``source``, the error it settles."""
    error.method, error.url = source.method, source.url
    error.request_sent = True
    error.status_code = source.status_code
    error.cause = source
    error.spec, error.started_at = source.spec, source.started_at
    error.server_id, error.unknown_since = source.server_id, source.unknown_since


class NotCreatedError(OutcomeUnknownError):
    """A create's outcome was unknown, and no server it could have made was found.

    Raised by ``servers.create(..., reconcile=True)`` (and held by ``create_many``'s
    outcomes) when `AsyncServers.find_created` found no matching server in
    any listing up to the end of the settle window (``RetryPolicy.settle_window``, 10
    seconds by default, counted from when the outcome became unknown). An API that
    accepted a create shows the server well within that, so creating again is safe;
    vpsorg does not resend it for you. It is an `OutcomeUnknownError`, so code
    written for that keeps working. See "Settling an ambiguous create" in the docs.

    Attributes:
        cause: the [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError] the create raised.
        spec: what the create asked for.
        started_at: when its first attempt was about to be sent.
        listings: how many times the servers were listed.
        waited: seconds from when the outcome became unknown to the last listing.
    """

    def __init__(
        self, error: OutcomeUnknownError, *, listings: int = 0, waited: float = 0.0
    ) -> None:
        what = f"server {error.spec.name!r}" if error.spec is not None else "server"
        checked = (
            f" in {listings} listings up to {waited:.1f}s after its outcome became unknown"
            if listings
            else ""
        )
        super().__init__(
            f"the create of {what} had an unknown outcome, and no server matching it was "
            f"found{checked}: an API that accepted it would show it by then, so creating "
            "it again is safe",
            method=error.method,
            url=error.url,
        )
        _copy_create_attempt(self, error)
        self.listings = listings
        self.waited = waited


class AmbiguousCreateError(OutcomeUnknownError):
    """A create's outcome was unknown, and several servers could be the one it made.

    Raised by ``servers.find_created(error)`` and ``servers.create(..., reconcile=True)``
    when more than one server matches the create's name, location, plan, operating
    system (and hostname, if given) and was created in its time window. vpsorg cannot
    tell which is yours; look at ``candidates`` and delete the ones you do not want.

    Attributes:
        candidates: the matching [`Server`][vpsorg.Server] objects, oldest first.
        cause: the [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError] the create raised.
        spec: what the create asked for.
        started_at: when its first attempt was about to be sent.
    """

    def __init__(self, error: OutcomeUnknownError, candidates: Sequence[Server]) -> None:
        ids = ", ".join(str(server.id) for server in candidates)
        super().__init__(
            f"the create had an unknown outcome, and {len(candidates)} servers could be "
            f"the one it made (ids {ids}); vpsorg cannot tell which",
            method=error.method,
            url=error.url,
        )
        _copy_create_attempt(self, error)
        self.candidates: list[Server] = list(candidates)


class UnreachableStatusError(WaitError):
    """A server reached a status from which the one waited for cannot come by itself.

    ``servers.wait_for`` raises it (and ``wait_for_many`` holds it in that server's
    outcome) as soon as the server is seen in one of the wait's ``fail_on`` statuses,
    e.g. ``suspended`` while waiting for ``active``: only another action (yours or the
    provider's) could bring the server to the status waited for, so waiting on is
    pointless. See "Waiting for states" in the docs for the defaults.

    Attributes:
        server_id: the id waited on.
        status: the status waited for (a string, or a list of them).
        last_seen: the [`Server`][vpsorg.Server] seen in the failing status.
        fail_on: the statuses that end the wait this way.
    """

    def __init__(
        self,
        server_id: int,
        status: str | Sequence[str],
        last_seen: Server,
        fail_on: Sequence[str],
    ) -> None:
        wanted = status if isinstance(status, str) else " or ".join(status)
        super().__init__(
            f"server {server_id} is {str(last_seen.status)!r}, from which {wanted!r} cannot "
            "come without another action; not waiting any longer",
            server_id=server_id,
            status=status,
            last_seen=last_seen,
        )
        self.last_seen: Server = last_seen
        self.fail_on: list[str] = list(fail_on)
