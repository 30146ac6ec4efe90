"""The nine operations of the VPS.org server API, served from the in-memory store."""

from __future__ import annotations

from itertools import islice
from typing import Any, Final

from aiohttp import web

from vpsorg.simulator._http import detail_error, json_response
from vpsorg.simulator._json import BodyParseError, dumps, loads_body
from vpsorg.simulator._routes import ACTION, COLLECTION, Route
from vpsorg.simulator._store import ActionRefused, InsufficientCredits, ServerStore
from vpsorg.simulator._validation import validate_create, validate_update
from vpsorg.simulator._views import (
    action_result,
    create_response,
    detail_json,
    list_json,
)

__all__ = ["MAX_PAGE_SIZE", "ServersApi"]

#: The largest ``page_size`` a client may ask for; larger values are capped.
MAX_PAGE_SIZE: Final = 1000

_ALLOW: Final = {
    COLLECTION: "GET, POST, HEAD, OPTIONS",
    ACTION: "POST, OPTIONS",
}
_DETAIL_ALLOW: Final = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
_NO_CONTENT: Final = b""


def _positive_int(text: str | None) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value > 0 else None


class ServersApi:
    """Routes a resolved, authenticated request to its operation."""

    def __init__(self, store: ServerStore, page_size: int) -> None:
        self.store = store
        self.page_size = page_size

    async def dispatch(self, request: web.BaseRequest, route: Route) -> web.Response:
        """Answer one API request (the route is known and the caller authenticated)."""
        method = request.method
        if method == "OPTIONS":
            allow = _ALLOW.get(route.kind, _DETAIL_ALLOW)
            return web.Response(status=200, headers={"Allow": allow})
        if route.kind == COLLECTION:
            if method in ("GET", "HEAD"):
                return self.list(request)
            if method == "POST":
                return await self.create(request)
            return self._not_allowed(method, route)
        allowed = (
            method == "POST"
            if route.kind == ACTION
            else method in ("GET", "HEAD", "PUT", "PATCH", "DELETE")
        )
        if not allowed:
            return self._not_allowed(method, route)
        record = self.store.get(route.server_id) if route.server_id is not None else None
        if record is None:
            return detail_error(404, "Not found.")
        if route.kind == ACTION:
            try:
                message = self.store.act(record, route.action)
            except ActionRefused as refused:
                return detail_error(400, str(refused))
            return json_response(200, action_result(record, message))
        if method in ("GET", "HEAD"):
            return json_response(200, detail_json(record))
        if method == "DELETE":
            self.store.delete(record.id)
            return web.Response(status=204, body=_NO_CONTENT)
        data = await self._read_body(request)
        if isinstance(data, web.Response):
            return data
        changes, errors = validate_update(data, partial=method == "PATCH")
        if errors:
            return json_response(400, errors)
        self.store.update(record, changes)
        return json_response(200, detail_json(record))

    @staticmethod
    def _not_allowed(method: str, route: Route) -> web.Response:
        allow = _ALLOW.get(route.kind, _DETAIL_ALLOW)
        return detail_error(405, f'Method "{method}" not allowed.', {"Allow": allow})

    @staticmethod
    async def _read_body(request: web.BaseRequest) -> Any:
        """The decoded JSON body (``{}`` when empty, as DRF), or a 400 response."""
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            return loads_body(raw)
        except BodyParseError as exc:
            return detail_error(400, str(exc))

    def list(self, request: web.BaseRequest) -> web.Response:
        """``GET /servers/``: filters, DRF page-number pagination with absolute URLs."""
        query = request.query
        size = _positive_int(query.get("page_size")) or self.page_size
        size = min(size, MAX_PAGE_SIZE)
        records = self.store.filtered(query.get("status"), query.get("location"))
        count = len(records) if isinstance(records, list) else len(self.store.servers)
        pages = max(1, -(-count // size))
        page_text = query.get("page")
        page = 1 if page_text is None else _positive_int(page_text)
        if page_text == "last":
            page = pages
        if page is None or page > pages:
            return detail_error(404, "Invalid page.")
        start = (page - 1) * size
        results = b",".join([list_json(r) for r in islice(records, start, start + size)])
        url = request.url
        next_url = dumps(str(url.update_query(page=page + 1))) if page < pages else b"null"
        if page == 1:
            previous_url = b"null"
        elif page == 2:
            previous_url = dumps(str(url.without_query_params("page")))
        else:
            previous_url = dumps(str(url.update_query(page=page - 1)))
        body = b'{"count":%d,"next":%s,"previous":%s,"results":[%s]}' % (
            count,
            next_url,
            previous_url,
            results,
        )
        return json_response(200, body)

    async def create(self, request: web.BaseRequest) -> web.Response:
        """``POST /servers/``: validate, charge one credit, start provisioning."""
        data = await self._read_body(request)
        if isinstance(data, web.Response):
            return data
        fields, errors = validate_create(data)
        if errors:
            return json_response(400, errors)
        try:
            record = self.store.create(fields)
        except InsufficientCredits:
            return detail_error(402, "Insufficient credits.")
        return json_response(201, create_response(record))
