"""URL resolution for the simulator, by hand: a few string operations per request.

Every path ends with ``/`` as in the reference; ``/api/v1/servers/abc/`` resolves to the
detail route with no id, so it answers ``404`` like Django's ``<int:pk>`` pattern would.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "ACTION",
    "API_PREFIX",
    "COLLECTION",
    "DETAIL",
    "OPENAPI",
    "OPENAPI_PATH",
    "UNKNOWN",
    "Route",
    "resolve",
]

API_PREFIX: Final = "/api/v1/"
SERVERS_PREFIX: Final = "/api/v1/servers/"
OPENAPI_PATH: Final = "/api/v1/openapi.json"

UNKNOWN: Final = 0
COLLECTION: Final = 1
DETAIL: Final = 2
ACTION: Final = 3
OPENAPI: Final = 4

_ACTIONS: Final = frozenset({"start", "stop", "reboot"})
_PREFIX_LENGTH: Final = len(SERVERS_PREFIX)


class Route(NamedTuple):
    """A resolved path: its kind, its template (for counting) and its parameters."""

    kind: int
    template: str
    server_id: int | None = None
    action: str = ""


_COLLECTION_ROUTE: Final = Route(COLLECTION, SERVERS_PREFIX)
_OPENAPI_ROUTE: Final = Route(OPENAPI, OPENAPI_PATH)
_DETAIL_TEMPLATE: Final = SERVERS_PREFIX + "{id}/"
_ACTION_TEMPLATES: Final = {name: f"{SERVERS_PREFIX}{{id}}/{name}/" for name in _ACTIONS}


def _server_id(text: str) -> int | None:
    # Only ASCII digits: int() would also accept "+1", " 1" or other scripts' digits.
    return int(text) if text.isascii() and text.isdigit() else None


def resolve(path: str) -> Route:
    """Resolve a request path.

    Examples:
        >>> resolve("/api/v1/servers/12345/start/")
        Route(kind=3, template='/api/v1/servers/{id}/start/', server_id=12345, action='start')
        >>> resolve("/api/v1/servers/abc/").server_id is None
        True
    """
    if path == SERVERS_PREFIX:
        return _COLLECTION_ROUTE
    if path.startswith(SERVERS_PREFIX):
        parts = path[_PREFIX_LENGTH:].split("/")
        if len(parts) == 2 and not parts[1] and parts[0]:
            return Route(DETAIL, _DETAIL_TEMPLATE, _server_id(parts[0]))
        if len(parts) == 3 and not parts[2] and parts[1] in _ACTIONS and parts[0]:
            return Route(ACTION, _ACTION_TEMPLATES[parts[1]], _server_id(parts[0]), parts[1])
    elif path == OPENAPI_PATH:
        return _OPENAPI_ROUTE
    return Route(UNKNOWN, path)
