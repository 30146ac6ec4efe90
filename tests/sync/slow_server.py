"""A one-route HTTP server whose answer never comes, and that says when a request
arrives and when its connection goes away: for interrupt and close tests, which need to
act while a request is in flight without sleeping to guess when it is."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from aiohttp import web

#: How long the handler holds a request before answering (far longer than any test).
HOLD = 60.0


class SlowServer:
    """The running server: ``base_url``, and events set from its thread."""

    def __init__(self) -> None:
        self.base_url = ""
        self.arrived = threading.Event()  # a request reached the handler
        self.cancelled = threading.Event()  # its client went away before the answer


@contextlib.contextmanager
def slow_server() -> Iterator[SlowServer]:
    """Serve ``GET /api/v1/servers/<id>/`` on 127.0.0.1 (a free port) in a thread."""
    state = SlowServer()
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        state.arrived.set()
        try:
            await asyncio.sleep(HOLD)
        except asyncio.CancelledError:
            state.cancelled.set()
            raise
        return web.json_response({})

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/api/v1/servers/{id}/", hold)
        # handler_cancellation: a client that disconnects cancels its handler.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            state.base_url = f"http://127.0.0.1:{port}/api/v1/"
            ready.set()
            await stop.wait()
        finally:
            await runner.cleanup()

    def main() -> None:
        try:
            loop.run_until_complete(serve())
        finally:
            ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=main, name="slow-server", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        assert state.base_url, "the slow server did not start"
        yield state
    finally:
        if not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        thread.join(10)
