"""The transport against a real HTTP server on 127.0.0.1: what goes on the wire."""

from __future__ import annotations

import asyncio
import platform
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

import vpsorg
from tests.conftest import DETAIL_12345, TOKEN
from tests.core.conftest import loopback_site

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Recorder:
    """A loopback server whose single route answers with a test-chosen handler."""

    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.bodies: list[bytes] = []
        self.handler: Handler = self.ok
        self.base_url = ""

    async def ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(DETAIL_12345, headers={"X-Request-ID": "abc"})

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.bodies.append(await request.read())
        return await self.handler(request)


@pytest.fixture
async def server() -> AsyncIterator[Recorder]:
    recorder = Recorder()
    async with loopback_site(recorder.dispatch) as (_, recorder.base_url):
        yield recorder


def make_client(server: Recorder, **kwargs: object) -> vpsorg.AsyncClient:
    kwargs.setdefault("retry", vpsorg.RetryPolicy.disabled())
    return vpsorg.AsyncClient(token=TOKEN, base_url=server.base_url, **kwargs)  # type: ignore[arg-type]


async def test_every_request_sends_auth_content_type_and_user_agent(server: Recorder) -> None:
    async with make_client(server) as client:
        await client.servers.get(12345)
        server.handler = lambda r: _json(201, {**DETAIL_12345, "status": "provisioning"})
        await client.servers.create("web-1", 1, 5, "us-west")
    for request in server.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Content-Type"] == "application/json"
        agent = request.headers["User-Agent"]
        assert agent.startswith(f"vpsorg/{vpsorg.__version__} ")
        assert f"Python/{platform.python_version()}" in agent
        assert f"aiohttp/{aiohttp.__version__}" in agent
    assert server.requests[0].path == "/api/v1/servers/12345/"
    assert server.bodies[1] == b'{"name":"web-1","plan_id":1,"os_id":5,"location":"us-west"}'


async def _json(status: int, body: object) -> web.Response:
    return web.json_response(body, status=status)


async def test_a_redirect_is_not_followed_so_the_token_stays(server: Recorder) -> None:
    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://203.0.113.99/steal")

    server.handler = redirect
    async with make_client(server) as client:
        with pytest.raises(vpsorg.APIStatusError) as info:
            await client.servers.get(12345)
    assert info.value.status_code == 302
    assert len(server.requests) == 1


async def test_a_body_over_the_cap_is_refused(server: Recorder) -> None:
    big = b'{"id": 1, "pad": "' + b"x" * 5000 + b'"}'
    server.handler = lambda r: _raw(big, chunked=False)
    limits = vpsorg.Limits(max_response_bytes=1024)
    async with make_client(server, limits=limits) as client:
        with pytest.raises(vpsorg.ResponseTooLargeError, match="1024"):
            await client.servers.get(1)
        server.handler = lambda r: _raw(big, chunked=True)
        with pytest.raises(vpsorg.ResponseTooLargeError):
            await client.servers.get(1)


async def _raw(body: bytes, *, chunked: bool) -> web.Response:
    response = web.Response(body=body, content_type="application/json")
    if chunked:
        response.enable_chunked_encoding()
    return response


async def test_a_dropped_connection_is_an_api_connection_error(server: Recorder) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    server.handler = drop
    async with make_client(server) as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.get(12345)
        assert info.value.request_sent is True
        with pytest.raises(vpsorg.OutcomeUnknownError):
            await client.servers.start(12345)


async def test_a_slow_answer_is_a_timeout(server: Recorder) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    server.handler = slow
    try:
        async with make_client(server, timeout=0.2) as client:
            with pytest.raises(vpsorg.APITimeoutError) as info:
                await client.servers.get(12345)
            assert info.value.request_sent is True
    finally:
        release.set()


async def test_a_retried_get_survives_a_drop(server: Recorder) -> None:
    calls = 0

    async def flaky(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            assert request.transport is not None
            request.transport.abort()
        return web.json_response(DETAIL_12345)

    server.handler = flaky
    policy = vpsorg.RetryPolicy(backoff_base=0.001)
    async with make_client(server, retry=policy) as client:
        assert (await client.servers.get(12345)).id == 12345
    assert calls == 2


async def test_a_delete_that_acted_before_the_drop_counts_as_deleted(server: Recorder) -> None:
    deleted: list[str] = []

    async def delete_then_drop(request: web.Request) -> web.StreamResponse:
        if deleted:
            return web.json_response({"detail": "Not found."}, status=404)
        deleted.append(request.path)
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    server.handler = delete_then_drop
    policy = vpsorg.RetryPolicy(backoff_base=0.001)
    async with make_client(server, retry=policy) as client:
        assert await client.servers.delete(12345) is None  # type: ignore[func-returns-value]
    assert len(server.requests) == 2
    assert deleted == ["/api/v1/servers/12345/"]


async def test_the_session_is_closed_and_reuse_after_close_is_an_error(server: Recorder) -> None:
    client = make_client(server)
    await client.servers.get(12345)
    await client.aclose()
    await client.aclose()
    with pytest.raises(vpsorg.ConfigurationError, match="closed"):
        await client.servers.get(12345)
