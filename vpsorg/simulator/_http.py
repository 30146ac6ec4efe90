"""Building the simulator's HTTP responses: JSON bodies, DRF errors and injected faults."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web

from vpsorg.simulator._faults import FaultPlan, ScriptedFault
from vpsorg.simulator._json import dumps

__all__ = [
    "detail_error",
    "drop_connection",
    "fault_response",
    "json_response",
    "scripted_response",
]

_JSON: Final = "application/json"

SERVICE_UNAVAILABLE_HTML: Final = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
    b"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

_GATEWAY_HTML: Final = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n"
    "<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def json_response(status: int, body: bytes | Mapping[str, Any] | list[Any]) -> web.Response:
    """A JSON response; ``body`` may already be encoded."""
    encoded = body if isinstance(body, bytes) else dumps(body)
    return web.Response(status=status, body=encoded, content_type=_JSON)


def detail_error(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A DRF-style error: ``{"detail": "..."}``."""
    response = web.Response(status=status, body=dumps({"detail": detail}), content_type=_JSON)
    if headers:
        response.headers.update(headers)
    return response


def drop_connection(request: web.BaseRequest) -> web.Response:
    """Abort the connection so the client gets no response at all.

    The returned response is never sent: aiohttp fails to write it to the aborted
    transport and quietly forgets the connection.
    """
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _default_scripted_body(status: int) -> tuple[bytes, str]:
    if status in (502, 503, 504):
        text = _GATEWAY_HTML.format(status=status, reason=_phrase(status))
        return text.encode(), "text/html"
    if status in (204, 304):
        return b"", _JSON
    if status == 429:
        return dumps({"detail": "Request was throttled. Expected available in 1 seconds."}), _JSON
    return dumps({"detail": f"{_phrase(status)}."}), _JSON


def scripted_response(script: ScriptedFault) -> web.Response:
    """The response a scripted fault with a ``status`` asks for.

    ``body``: a mapping is sent as JSON; ``str`` as text (``text/html`` when it starts
    with ``<``, else ``text/plain``); ``bytes`` as-is, labelled ``application/json``.
    ``None`` picks a default: an nginx-style HTML page for 502/503/504, DRF's throttle
    body (and ``Retry-After: 1``) for 429, nothing for 204, ``{"detail": ...}`` otherwise.
    A ``Content-Type`` in ``headers`` always wins.
    """
    status = script.status if script.status is not None else 200
    body = script.body
    if body is None:
        encoded, content_type = _default_scripted_body(status)
    elif isinstance(body, bytes):
        encoded, content_type = body, _JSON
    elif isinstance(body, str):
        encoded = body.encode()
        content_type = "text/html" if body.lstrip().startswith("<") else "text/plain"
    else:
        encoded, content_type = dumps(dict(body)), _JSON
    response = web.Response(status=status, body=encoded)
    if encoded or status not in (204, 304):
        response.headers["Content-Type"] = content_type
    if status == 429 and body is None:
        response.headers["Retry-After"] = "1"
    if script.headers:
        response.headers.update(script.headers)
    return response


def fault_response(request: web.BaseRequest, plan: FaultPlan) -> web.Response:
    """The response (or dropped connection) that replaces a request's real answer."""
    kind = plan.kind
    if kind == "scripted":
        assert plan.script is not None
        if plan.script.drop:
            return drop_connection(request)
        return scripted_response(plan.script)
    if kind == "dropped":
        return drop_connection(request)
    if kind == "error_503":
        return web.Response(status=503, body=SERVICE_UNAVAILABLE_HTML, content_type="text/html")
    if kind == "rate_limited":
        wait = plan.retry_after
        return detail_error(
            429,
            f"Request was throttled. Expected available in {wait} seconds.",
            {"Retry-After": str(wait)},
        )
    return detail_error(500, "A server error occurred.")
