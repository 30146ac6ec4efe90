"""Proxies, through a real forward proxy on 127.0.0.1 written here: CONNECT tunnels for
https://, absolute-URI requests for http://, Proxy-Authorization required."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import traceback
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from aiohttp import web

import vpsorg
from tests.conftest import DETAIL_12345, TOKEN
from vpsorg._config import _bypassed, resolve_config

USER, PASSWORD = "alice", "pr0xy-s3cret"


class ForwardProxy:
    """A minimal HTTP forward proxy: CONNECT, and GET/POST with an absolute URI."""

    def __init__(self, password: str = PASSWORD) -> None:
        self.expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()
        self.seen: list[tuple[str, str]] = []
        self.refused = 0
        self.heads: list[str] = []
        self.url = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            self.heads.append(head.decode("latin-1"))
            if headers.get("proxy-authorization") != self.expected:
                self.refused += 1
                writer.write(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                return
            self.seen.append((method, target))
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                parts = urlsplit(target)
                up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                kept = [
                    line
                    for line in lines[1:]
                    if line
                    and not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
                ]
                request = [f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]
                up_writer.write("\r\n".join(request).encode("latin-1"))
                length = int(headers.get("content-length", "0"))
                if length:
                    up_writer.write(await reader.readexactly(length))
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await source.read(65536)
            if not data:
                break
            sink.write(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.close()


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    forward = ForwardProxy()
    listener = await asyncio.start_server(forward.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    forward.url = f"http://127.0.0.1:{port}"
    try:
        yield forward
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def _api(ssl_context: ssl.SSLContext | None) -> tuple[web.AppRunner, str]:
    async def detail(request: web.Request) -> web.StreamResponse:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "Proxy-Authorization" not in request.headers
        return web.json_response(DETAIL_12345)

    app = web.Application()
    app.router.add_get("/api/v1/servers/{id}/", detail)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    scheme = "https" if ssl_context else "http"
    return runner, f"{scheme}://127.0.0.1:{port}/api/v1/"


@pytest.fixture
async def https_api(ca: trustme.CA) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    runner, url = await _api(server_context)
    try:
        yield url, client_context
    finally:
        await runner.cleanup()


@pytest.fixture
async def http_api() -> AsyncIterator[str]:
    runner, url = await _api(None)
    try:
        yield url
    finally:
        await runner.cleanup()


def _with_credentials(url: str, password: str = PASSWORD) -> str:
    return url.replace("http://", f"http://{USER}:{password}@")


async def test_https_goes_through_a_connect_tunnel_with_proxy_credentials(
    proxy: ForwardProxy, https_api: tuple[str, ssl.SSLContext], caplog: pytest.LogCaptureFixture
) -> None:
    url, context = https_api
    caplog.set_level(logging.DEBUG, logger="vpsorg")
    async with vpsorg.AsyncClient(
        token=TOKEN, base_url=url, ssl_context=context, proxy=_with_credentials(proxy.url)
    ) as client:
        assert (await client.servers.get(12345)).id == 12345
        assert (await client.servers.get(12345)).id == 12345  # the tunnel is reused
        assert PASSWORD not in repr(client) + repr(client._pipeline.transport)
    assert proxy.seen == [("CONNECT", urlsplit(url).netloc)]
    assert TOKEN not in "".join(proxy.heads)  # the token goes only inside the tunnel
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


async def test_http_goes_through_the_proxy_as_an_absolute_uri(
    proxy: ForwardProxy, http_api: str
) -> None:
    async with vpsorg.AsyncClient(
        token=TOKEN, base_url=http_api, proxy=_with_credentials(proxy.url)
    ) as client:
        assert (await client.servers.get(12345)).id == 12345
    assert proxy.seen == [("GET", http_api + "servers/12345/")]


async def test_wrong_proxy_credentials_are_a_clear_error_without_the_password(
    proxy: ForwardProxy, https_api: tuple[str, ssl.SSLContext]
) -> None:
    url, context = https_api
    wrong = "wr0ng-s3cret"
    policy = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.002)
    async with vpsorg.AsyncClient(
        token=TOKEN,
        base_url=url,
        ssl_context=context,
        retry=policy,
        proxy=_with_credentials(proxy.url, wrong),
    ) as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.create("web-1", 1, 5, "us-west")
    error = info.value
    assert "proxy" in error.reason and "407" in error.reason
    assert error.request_sent is False
    assert error.retryable is False
    assert proxy.refused == 1  # not retried: the same credentials cannot start working
    text = str(error) + repr(error) + "".join(traceback.format_exception(error))
    assert wrong not in text
    assert base64.b64encode(f"{USER}:{wrong}".encode()).decode() not in text


async def test_proxy_from_env_honours_https_proxy_and_no_proxy(
    proxy: ForwardProxy, https_api: tuple[str, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, context = https_api
    for name in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", _with_credentials(proxy.url))
    async with vpsorg.AsyncClient(token=TOKEN, base_url=url, ssl_context=context) as client:
        await client.servers.get(12345)  # not opted in: direct
    assert proxy.seen == []
    kwargs: dict[str, Any] = {"token": TOKEN, "base_url": url, "ssl_context": context}
    async with vpsorg.AsyncClient(**kwargs, proxy_from_env=True) as client:
        await client.servers.get(12345)
    assert [method for method, _ in proxy.seen] == ["CONNECT"]
    monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.1")
    async with vpsorg.AsyncClient(**kwargs, proxy_from_env=True) as client:
        await client.servers.get(12345)
    assert len(proxy.seen) == 1


def test_proxy_settings_are_checked_and_never_shown() -> None:
    config = resolve_config(
        token=TOKEN,
        base_url="https://api.vps.test/api/v1/",
        timeout=None,
        retry=None,
        limits=None,
        user_agent=None,
        verify_ssl=True,
        ssl_context=None,
        allow_insecure_http=False,
        proxy="http://bob:hunter2@proxy.corp:3128",
    )
    assert config.proxy is not None
    assert config.proxy.url == "http://proxy.corp:3128"
    assert "hunter2" not in repr(config)
    with pytest.raises(vpsorg.ConfigurationError, match="not an http:// URL") as info:
        vpsorg.AsyncClient(token=TOKEN, proxy="socks5://bob:hunter2@proxy.corp:1080")
    assert "hunter2" not in str(info.value)
    with pytest.raises(vpsorg.ConfigurationError, match="HTTPS_PROXY"):
        resolve_config(
            token=TOKEN,
            base_url=None,
            timeout=None,
            retry=None,
            limits=None,
            user_agent=None,
            verify_ssl=True,
            ssl_context=None,
            allow_insecure_http=False,
            proxy_from_env=True,
            environ={"HTTPS_PROXY": "proxy.corp:3128"},
        )


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "api.vps.test", 443, True),
        ("vps.test", "api.vps.test", 443, True),
        (".vps.test", "api.vps.test", 443, True),
        ("vps.test", "notvps.test", 443, False),
        ("api.vps.test:8443", "api.vps.test", 443, False),
        ("api.vps.test:443", "api.vps.test", 443, True),
        ("10.0.0.0/8", "10.1.2.3", 443, True),
        ("", "api.vps.test", 443, False),
    ],
)
def test_no_proxy_rules(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    assert _bypassed({"NO_PROXY": no_proxy}, host, port) is bypassed
