"""The transport's fast paths give what the general paths give.

A URL under the base URL made only of unreserved characters goes to yarl as already
encoded, and a plain body of known size that arrived with the headers is taken from
aiohttp's buffer without ``read()``; every other URL and body takes the general path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp import web

import vpsorg
from tests.conftest import TOKEN
from tests.core.conftest import loopback_site
from vpsorg._async._transport import AiohttpTransport, _plain_base

_TIMEOUT = vpsorg.Timeout(total=5.0, connect=5.0)


class Server:
    """A loopback server recording the raw path of each request."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.queries: list[str] = []
        self.body = b'{"ok": true}'
        self.base_url = ""
        self.gate = asyncio.Event()
        self.split = False

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.raw_path.split("?")[0])
        self.queries.append(request.query_string)
        if not self.split:
            return web.Response(body=self.body, content_type="application/json")
        # Headers and half the body now, the rest only once the client asks to read.
        half = len(self.body) // 2
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(self.body)
        await response.prepare(request)
        await response.write(self.body[:half])
        await self.gate.wait()
        await response.write(self.body[half:])
        await response.write_eof()
        return response


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    recorder = Server()
    async with loopback_site(recorder.dispatch) as (_, recorder.base_url):
        try:
            yield recorder
        finally:
            recorder.gate.set()  # release a split response before the server is cleaned up


def _transport(base_url: str) -> AiohttpTransport:
    transport = vpsorg.AsyncClient(token=TOKEN, base_url=base_url)._pipeline.transport
    assert isinstance(transport, AiohttpTransport)
    return transport


@pytest.mark.parametrize(
    ("base_url", "plain"),
    [
        ("http://127.0.0.1:8000/api/v1/", True),
        ("https://api.vps.org/api/v1.2/", True),
        ("http://API.vps.org/api/v1/", False),  # yarl lowercases the host
        ("http://api.vps.org/a b/", False),  # yarl quotes the space
        ("http://api.vps.org/caf\u00e9/", False),
        ("http://api.vps.org/a/./b/", False),  # yarl removes the dot segment
        ("http://api.vps.org/api/?x=1", False),
        ("http://user@api.vps.org/api/", False),
    ],
)
def test_only_a_base_url_yarl_leaves_unchanged_is_passed_as_encoded(
    base_url: str, plain: bool
) -> None:
    assert (_plain_base(base_url) == base_url) is plain
    if plain:
        assert yarl.URL(base_url, encoded=True) == yarl.URL(base_url)


@pytest.mark.parametrize(
    "tail",
    [
        "servers/12345/",
        "servers/12345/reboot/",
        "servers/a%20b/",  # already quoted: kept as it is
        "servers/a b/",  # quoted by yarl
        "servers/caf\u00e9/",
        "servers/x/../12/",  # a dot segment, normalised by yarl
        "servers/;x=1/",
    ],
)
async def test_every_url_reaches_the_server_as_yarl_sends_it(server: Server, tail: str) -> None:
    transport = _transport(server.base_url)
    try:
        url = server.base_url + tail
        response = await transport.request(
            "GET", url, params={"page_size": "50"}, body=None, timeout=_TIMEOUT
        )
    finally:
        await transport.aclose()
    assert response.status == 200
    assert server.paths == [yarl.URL(url).raw_path]
    assert server.queries == ["page_size=50"]


async def test_a_url_outside_the_base_url_takes_the_general_path(server: Server) -> None:
    transport = _transport(server.base_url)
    try:
        other = server.base_url.replace("/api/v1/", "/other/") + "servers/1/"
        response = await transport.request("GET", other, params=None, body=None, timeout=_TIMEOUT)
    finally:
        await transport.aclose()
    assert response.status == 200
    assert server.paths == ["/other/servers/1/"]


async def test_a_small_plain_body_is_taken_from_the_buffer_without_read(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[object] = []
    original = aiohttp.ClientResponse.read

    async def counting_read(self: aiohttp.ClientResponse) -> bytes:
        reads.append(self)
        return await original(self)

    monkeypatch.setattr(aiohttp.ClientResponse, "read", counting_read)
    transport = _transport(server.base_url)
    try:
        first = await transport.request(
            "GET", server.base_url + "servers/1/", params=None, body=None, timeout=_TIMEOUT
        )
        second = await transport.request(
            "POST", server.base_url + "servers/", params=None, body=b'{"a":1}', timeout=_TIMEOUT
        )
    finally:
        await transport.aclose()
    assert first.body == second.body == server.body
    # Both bodies arrived with their headers on loopback (a few bytes each).
    assert reads == []


@pytest.mark.parametrize("size", [10, 300_000, 3_000_000])
async def test_a_body_still_arriving_is_read_whole(
    server: Server, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Headers and half the body first; the rest is sent only once the client reads."""
    server.split = True
    server.body = b'{"x": "' + b"y" * size + b'"}'
    original = aiohttp.ClientResponse.read

    async def read_opens_the_gate(self: aiohttp.ClientResponse) -> bytes:
        server.gate.set()
        return await original(self)

    monkeypatch.setattr(aiohttp.ClientResponse, "read", read_opens_the_gate)
    transport = _transport(server.base_url)
    try:
        # Were the half body taken as the whole, the equality below fails; were the
        # transport to wait for the rest without read(), the 5 s timeout would end it.
        response = await transport.request(
            "GET", server.base_url + "servers/1/", params=None, body=None, timeout=_TIMEOUT
        )
    finally:
        await transport.aclose()
    assert response.body == server.body
    assert server.gate.is_set()


async def test_the_connection_is_reused_after_a_body_taken_from_the_buffer(
    server: Server,
) -> None:
    transport = _transport(server.base_url)
    opened: list[Any] = []
    try:
        for _ in range(5):
            await transport.request(
                "GET", server.base_url + "servers/1/", params=None, body=None, timeout=_TIMEOUT
            )
            session: Any = transport._session
            opened.append(len(session.connector._conns))
    finally:
        await transport.aclose()
    assert len(server.paths) == 5
    # One idle connection in the pool after every call: released, then reused.
    assert opened == [1, 1, 1, 1, 1]
