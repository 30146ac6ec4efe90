"""The request pipeline: counting, request ids, faults, authentication, then the API.

One coroutine handles every request (aiohttp's low-level server, no router or
middleware chain), so the hot path is a handful of dictionary look-ups.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from importlib import resources
from typing import Final

from aiohttp import web

from vpsorg.simulator._faults import FaultConfig, FaultInjector, FaultPlan
from vpsorg.simulator._handlers import ServersApi
from vpsorg.simulator._http import detail_error, fault_response
from vpsorg.simulator._routes import ACTION, DETAIL, OPENAPI, UNKNOWN, Route, resolve
from vpsorg.simulator._store import ServerStore

__all__ = ["SimulatorApp", "load_openapi"]

_NOT_PROVIDED: Final = "Authentication credentials were not provided."
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="api"'}


def load_openapi() -> bytes:
    """The OpenAPI 3.1 document shipped beside this module, as bytes."""
    return resources.files("vpsorg.simulator").joinpath("openapi.json").read_bytes()


def _caller(authorization: str) -> str:
    """Whose rate-limit bucket a request draws from: its bearer token (as
    authentication reads it), else the whole header (each refused caller its own)."""
    parts = authorization.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return authorization


def _drops(plan: FaultPlan) -> bool:
    script = plan.script
    return plan.kind == "dropped" or (script is not None and script.drop)


def _replaces_response(plan: FaultPlan) -> bool:
    script = plan.script
    if script is not None:
        return script.drop or script.status is not None
    return plan.kind is not None


class SimulatorApp:
    """Everything one simulator instance knows, and the handler that serves it."""

    def __init__(
        self,
        *,
        token: str,
        extra_tokens: Sequence[str] = (),
        provision_delay: float,
        action_delay: float,
        credits: int | None,
        seed: int | None,
        faults: FaultConfig | None,
        page_size: int,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size!r}")
        if credits is not None and credits < 0:
            raise ValueError(f"credits must not be negative, got {credits!r}")
        if isinstance(extra_tokens, str):
            raise ValueError("extra_tokens must be a sequence of tokens, not one string")
        self.token = token
        #: Every token accepted: ``token`` first, then the extra ones.
        for extra in extra_tokens:
            if not isinstance(extra, str) or len(extra.split()) != 1 or extra != extra.strip():
                raise ValueError("each extra token must be a non-empty string without spaces")
        self.tokens: tuple[str, ...] = tuple(dict.fromkeys((token, *extra_tokens)))
        self._expected_authorization = f"Bearer {token}"
        self._accepted = frozenset(self.tokens)
        self.store: ServerStore = ServerStore(
            provision_delay=provision_delay, action_delay=action_delay, credits=credits
        )
        self.injector: FaultInjector = FaultInjector(faults or FaultConfig(), seed)
        self.api: ServersApi = ServersApi(self.store, page_size)
        self.request_count: int = 0
        self.request_counts: dict[str, int] = {}
        #: Responses sent, by status code (a dropped connection sends none).
        self.status_counts: dict[int, int] = {}
        self._openapi = load_openapi()
        # Handlers running now, so that shutting down can finish them off (see serve()).
        self._in_flight: set[asyncio.Task[object]] = set()

    def reset(self) -> None:
        """Back to the sample servers, with fresh counters, scripts and random sequence."""
        self.store.reset()
        self.injector.reset()
        self.request_count = 0
        self.request_counts = {}
        self.status_counts = {}

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Serve one request (the aiohttp low-level server calls this)."""
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - aiohttp always runs handlers in a task
            return await self._handle(request)
        self._in_flight.add(task)
        try:
            return await self._handle(request)
        finally:
            self._in_flight.discard(task)

    def _running(self) -> list[asyncio.Task[object]]:
        return [task for task in self._in_flight if not task.done()]

    def in_flight(self) -> int:
        """How many request handlers are still running."""
        return len(self._running())

    async def cancel_in_flight(self) -> None:
        """Cancel handlers still running (e.g. sleeping through a delay) and await them.

        aiohttp's shutdown cancels them without waiting; awaiting them here means no
        task is left pending when the event loop closes.
        """
        pending = self._running()
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            await asyncio.sleep(0)  # let aiohttp's connection tasks see them finish

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        method = request.method
        path = request.path
        route = resolve(path)
        self.request_count += 1
        key = f"{method} {route.template}"
        counts = self.request_counts
        counts[key] = counts.get(key, 0) + 1
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex

        injector = self.injector
        if not injector.active:
            response = await self._respond(request, route)
        else:
            caller = _caller(request.headers.get("Authorization", ""))
            identity = None
            if injector.draws_faults:
                body = await request.read() if request.can_read_body else b""
                sid = route.server_id
                record = None if sid is None else self.store.get(sid)
                server = None if sid is None else (sid, record.name if record else None)
                identity = injector.identity(method, request.path_qs, server, body)
            plan = injector.plan(
                method, path, caller, exempt=route.kind == OPENAPI, identity=identity
            )
            if plan.delay:
                await asyncio.sleep(plan.delay)
            if not _replaces_response(plan):
                response = await self._respond(request, route)
            else:
                if plan.after_action:
                    # The request takes effect; only its answer is lost or replaced.
                    await self._respond(request, route)
                response = fault_response(request, plan)
                if _drops(plan):
                    return response  # never sent: aiohttp cannot write to the aborted socket
        response.headers["X-Request-ID"] = request_id
        statuses = self.status_counts
        statuses[response.status] = statuses.get(response.status, 0) + 1
        return response

    async def _respond(self, request: web.BaseRequest, route: Route) -> web.Response:
        kind = route.kind
        # Unknown paths and non-integer ids fail URL resolution, before authentication.
        if kind == UNKNOWN or (route.server_id is None and kind in (DETAIL, ACTION)):
            return detail_error(404, "Not found.")
        if kind == OPENAPI:
            if request.method not in ("GET", "HEAD"):
                return detail_error(
                    405, f'Method "{request.method}" not allowed.', {"Allow": "GET, HEAD"}
                )
            return web.Response(body=self._openapi, content_type="application/json")
        refusal = self._authenticate(request.headers.get("Authorization"))
        if refusal is not None:
            return detail_error(401, refusal, _CHALLENGE)
        self.store.settle()
        return await self.api.dispatch(request, route)

    def _authenticate(self, header: str | None) -> str | None:
        """``None`` when the bearer token is one accepted, else DRF's reason for refusing."""
        if header == self._expected_authorization:
            return None
        parts = header.split() if header else []
        if not parts or parts[0].lower() != "bearer":
            return _NOT_PROVIDED
        if len(parts) == 1:
            return "Invalid token header. No credentials provided."
        if len(parts) > 2:
            return "Invalid token header. Token string should not contain spaces."
        if parts[1] not in self._accepted:
            return "Invalid token."
        return None
