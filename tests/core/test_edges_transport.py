"""The transport at its edges, against real servers on 127.0.0.1: compression bombs, a
server that echoes the token, TLS that never completes, https:// to a plain port, a
client reused across event loops, Deprecation/Sunset headers."""

from __future__ import annotations

import asyncio
import gc
import gzip
import logging
import traceback
import tracemalloc
import warnings
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import vpsorg
from tests.conftest import DETAIL_12345, client_sockets_to
from tests.core.conftest import loopback_site
from vpsorg import _deprecation

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# "/" and "+" so that JSON (\/), percent (%2F) and HTML forms differ from the raw token.
TOKEN = "tk/3f9a+edges-secret"


class Loopback:
    """A loopback aiohttp.web server whose one route runs a test-chosen handler."""

    def __init__(self) -> None:
        self.handler: Handler = self.ok
        self.base_url = ""
        self.port = 0
        self.calls = 0

    async def ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(DETAIL_12345)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        await request.read()
        return await self.handler(request)


@pytest.fixture
async def server() -> AsyncIterator[Loopback]:
    loopback = Loopback()
    async with loopback_site(loopback.dispatch) as (loopback.port, loopback.base_url):
        yield loopback


def make_client(base_url: str, **kwargs: Any) -> vpsorg.AsyncClient:
    kwargs.setdefault("retry", vpsorg.RetryPolicy.disabled())
    return vpsorg.AsyncClient(token=TOKEN, base_url=base_url, **kwargs)


# ----------------------------------------------------------------- the decoded body cap


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """~50 KB of gzip that inflates to 50 MB."""
    return gzip.compress(b'{"pad": "' + b"0" * 50_000_000 + b'"}', 9)


async def test_a_gzip_bomb_is_refused_at_the_cap_with_bounded_memory(
    server: Loopback, bomb: bytes
) -> None:
    assert len(bomb) < 100_000
    cap = 1_000_000

    async def send_bomb(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    server.handler = send_bomb
    async with make_client(server.base_url, limits=vpsorg.Limits(max_response_bytes=cap)) as c:
        tracemalloc.start()
        try:
            with pytest.raises(vpsorg.ResponseTooLargeError, match="1000000-byte cap") as info:
                await c.servers.get(12345)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 3 * cap, f"peak {peak} bytes while reading a bomb against a {cap}-byte cap"
    assert info.value.status_code == 200
    assert len(info.value.body) <= 1024


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda b: ("gzip", gzip.compress(b)), id="gzip"),
        pytest.param(
            lambda b: ("gzip", gzip.compress(b[:100]) + gzip.compress(b[100:])), id="gzip-2-members"
        ),
        pytest.param(lambda b: ("deflate", zlib.compress(b)), id="deflate-zlib"),
        pytest.param(
            lambda b: ("deflate", zlib.compressobj(wbits=-15).compress(b) + b""), id="deflate-raw"
        ),
    ],
)
async def test_a_compressed_body_under_the_cap_is_decoded(
    server: Loopback, encode: Callable[[bytes], tuple[str, bytes]]
) -> None:
    import json

    raw = json.dumps(DETAIL_12345).encode()
    name, body = encode(raw)
    if name == "deflate" and body[:1] != b"x":  # finish the raw stream
        obj = zlib.compressobj(wbits=-15)
        body = obj.compress(raw) + obj.flush()

    async def send(request: web.Request) -> web.StreamResponse:
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        return web.Response(body=body, headers={"Content-Encoding": name})

    server.handler = send
    async with make_client(server.base_url) as client:
        assert (await client.servers.get(12345)).name == "web-server-01"


async def test_an_unrequested_or_corrupt_encoding_is_a_validation_error(server: Loopback) -> None:
    async def brotli(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x0b\x02\x80", headers={"Content-Encoding": "br"})

    async def corrupt(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})

    async with make_client(server.base_url) as client:
        server.handler = brotli
        with pytest.raises(vpsorg.APIResponseValidationError, match="unsupported Content-Enc"):
            await client.servers.get(12345)
        server.handler = corrupt
        with pytest.raises(vpsorg.APIResponseValidationError, match="corrupt"):
            await client.servers.get(12345)


# --------------------------------------------------------------- the token is scrubbed


def _assert_scrubbed(error: BaseException, records: list[logging.LogRecord]) -> None:
    forms = (TOKEN, TOKEN.replace("/", "\\/"), "tk%2F3f9a%2Bedges-secret")
    texts = [
        str(error),
        repr(error),
        repr(getattr(error, "body", None)),
        str(getattr(error, "message", "")),
        "".join(traceback.format_exception(error)),
        *(r.getMessage() for r in records),
    ]
    for text in texts:
        for form in forms:
            assert form not in text, text


@pytest.mark.parametrize(
    ("status", "body", "content_type", "cls"),
    [
        (
            401,
            f'{{"detail": "Invalid token: Bearer {TOKEN}"}}',
            "application/json",
            vpsorg.AuthenticationError,
        ),
        (
            400,
            '{"name": ["Authorization: Bearer ' + TOKEN.replace("/", "\\/") + ' is not a name"]}',
            "application/json",
            vpsorg.BadRequestError,
        ),
        (
            401,
            f'{{"detail": "Token {TOKEN} / tk%2F3f9a%2Bedges-secret"}}',
            "application/json",
            vpsorg.AuthenticationError,
        ),
        (
            503,
            f"<html><body><pre>Authorization: Bearer {TOKEN}</pre></body></html>",
            "text/html",
            vpsorg.InternalServerError,
        ),
    ],
    ids=["401-detail", "400-field-json-escaped", "401-token-and-percent", "503-html"],
)
async def test_the_token_echoed_by_the_server_appears_nowhere(
    server: Loopback,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: str,
    content_type: str,
    cls: type[vpsorg.APIStatusError],
) -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        return web.Response(
            status=status,
            body=body.encode(),
            content_type=content_type,
            headers={"X-Request-ID": f"rq Bearer {TOKEN}"},
        )

    server.handler = echo
    caplog.set_level(logging.DEBUG, logger="vpsorg")
    async with make_client(server.base_url) as client:
        with pytest.raises(cls) as info:
            await client.servers.get(12345)
    error = info.value
    _assert_scrubbed(error, caplog.records)
    assert "[REDACTED]" in str(error.body)
    if status == 400:
        assert isinstance(error, vpsorg.BadRequestError)
        assert error.field_errors == {"name": ["Authorization: Bearer [REDACTED] is not a name"]}
    if status == 401:
        assert isinstance(error.body, dict) and "[REDACTED]" in error.body["detail"]


async def test_a_2xx_body_that_fails_to_decode_does_not_show_the_token(server: Loopback) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(body=f"<p>hello Bearer {TOKEN}</p>".encode(), content_type="text/html")

    server.handler = page
    async with make_client(server.base_url) as client:
        with pytest.raises(vpsorg.APIResponseValidationError) as info:
            await client.servers.get(12345)
    _assert_scrubbed(info.value, [])


# ------------------------------------------------------------------ field errors


def test_status_and_detail_are_field_errors_when_they_hold_a_list() -> None:
    body = {"status": ["Select a valid choice. bogus is not one of the available choices."]}
    error = vpsorg.BadRequestError("x", status_code=400, body=body)
    assert error.field_errors == body
    both = {"detail": "Invalid input.", "code": ["bad"], "status": "error", "name": "taken"}
    error = vpsorg.BadRequestError("x", status_code=400, body=both)
    assert error.field_errors == {"code": ["bad"], "name": ["taken"]}


# --------------------------------------------------------------- timeouts while connecting


@pytest.fixture
async def tls_that_never_answers() -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server that accepts connections and never says a word (no TLS handshake)."""
    release = asyncio.Event()
    accepted: list[int] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await release.wait()
        finally:
            writer.close()

    listener = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/api/v1/", accepted
    finally:
        release.set()
        listener.close()
        await listener.wait_closed()


@pytest.mark.parametrize(
    "timeout",
    [
        vpsorg.Timeout(connect=None, total=0.3),  # the attempt's total fires in the handshake
        vpsorg.Timeout(connect=0.3, total=30),  # the connect timeout fires
    ],
    ids=["total", "connect"],
)
async def test_a_timeout_in_the_tls_handshake_is_not_sent(
    tls_that_never_answers: tuple[str, list[int]], timeout: vpsorg.Timeout
) -> None:
    url, accepted = tls_that_never_answers
    async with make_client(url, timeout=timeout) as client:
        with pytest.raises(vpsorg.APITimeoutError) as info:
            await client.servers.create("web-1", 1, 5, "us-west")
    assert not isinstance(info.value, vpsorg.OutcomeUnknownError)
    assert info.value.request_sent is False
    assert "timed out connecting" in str(info.value)
    assert accepted == [1]


async def test_a_timeout_after_the_request_left_is_sent(server: Loopback) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    server.handler = slow
    try:
        async with make_client(server.base_url, timeout=0.3) as client:
            with pytest.raises(vpsorg.OutcomeUnknownError):
                await client.servers.create("web-1", 1, 5, "us-west")
    finally:
        release.set()


async def test_a_connection_opened_for_one_request_is_not_credited_to_the_next(
    server: Loopback, tls_that_never_answers: tuple[str, list[int]]
) -> None:
    # The transport remembers per task that a request's connection is open; the mark must
    # end with the request, or this task's next request, stuck in a TLS handshake, would
    # be reported as possibly sent.
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    server.handler = slow
    url, _ = tls_that_never_answers
    try:
        async with make_client(server.base_url, timeout=0.3) as sent_to:
            with pytest.raises(vpsorg.OutcomeUnknownError):
                await sent_to.servers.create("web-1", 1, 5, "us-west")
            assert sent_to._pipeline.transport._connected == set()  # type: ignore[attr-defined]
            async with make_client(url, timeout=0.3) as stuck:
                with pytest.raises(vpsorg.APITimeoutError) as info:
                    await stuck.servers.create("web-2", 1, 5, "us-west")
            assert info.value.request_sent is False
    finally:
        release.set()


# ------------------------------------------------------------ errors a person can act on


async def test_https_to_a_plain_http_port_says_so_and_is_not_retried() -> None:
    connections: list[int] = []

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        writer.close()

    listener = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    policy = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.002)
    try:
        async with make_client(f"https://127.0.0.1:{port}/api/v1/", retry=policy) as client:
            with pytest.raises(vpsorg.APIConnectionError) as info:
                await client.servers.get(12345)
    finally:
        listener.close()
        await listener.wait_closed()
    error = info.value
    assert error.retryable is False
    assert error.request_sent is False
    assert f"127.0.0.1:{port} does not speak TLS" in str(error)
    assert "SSL" not in error.reason
    assert connections == [1]


async def test_connection_refused_reads_plainly() -> None:
    async with make_client("http://127.0.0.1:1/api/v1/") as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.get(12345)
    assert info.value.reason == "connection refused by 127.0.0.1:1"
    assert "Connect call failed" not in str(info.value)
    assert info.value.retryable is True


# ------------------------------------------------------------------ closing across loops


def _about_connections(warning: warnings.WarningMessage) -> bool:
    text = str(warning.message).lower()
    return any(word in text for word in ("socket", "transport", "session", "connector"))


def _use(client: vpsorg.AsyncClient) -> None:
    asyncio.run(client.servers.get(12345))


def test_a_client_reused_across_asyncio_run_closes_cleanly_with_aclose(
    vpsorg_simulator: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    sim = vpsorg_simulator
    client = vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url)
    gc.collect()  # only what this test leaves behind is judged below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _use(client)
            assert client_sockets_to(sim.port) == 1
            with pytest.raises(vpsorg.ConfigurationError, match="another event loop"):
                _use(client)
        finally:
            asyncio.run(client.aclose())
        assert client_sockets_to(sim.port) == 0
        del client
        gc.collect()
    assert [str(w.message) for w in caught if _about_connections(w)] == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert capfd.readouterr().err == ""


def test_a_client_dropped_after_its_loop_ended_closes_its_socket_silently(
    vpsorg_simulator: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    sim = vpsorg_simulator
    gc.collect()  # only what this test leaves behind is judged below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url)
        _use(client)
        assert client_sockets_to(sim.port) == 1
        del client
        gc.collect()
        assert client_sockets_to(sim.port) == 0
    assert [str(w.message) for w in caught if _about_connections(w)] == []
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------- Deprecation and Sunset


@pytest.fixture
def fresh_deprecations() -> Any:
    saved = set(_deprecation._seen)
    _deprecation._seen.clear()
    try:
        yield
    finally:
        _deprecation._seen.clear()
        _deprecation._seen.update(saved)


async def test_deprecation_and_sunset_warn_once_per_endpoint(
    server: Loopback, fresh_deprecations: None, caplog: pytest.LogCaptureFixture
) -> None:
    async def deprecated(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            DETAIL_12345,
            headers={
                "Deprecation": "@1735689600",
                "Sunset": "Wed, 01 Jul 2026 00:00:00 GMT",
                "Link": '<https://docs.vps.test/migrate>; rel="deprecation"',
            },
        )

    server.handler = deprecated
    async with make_client(server.base_url) as client:
        with pytest.warns(vpsorg.VPSOrgDeprecationWarning) as record:
            await asyncio.gather(client.servers.get(12345), client.servers.get(12346))
        assert len(record) == 1  # the same endpoint twice: one warning
        message = str(record[0].message)
        assert f"GET {server.base_url}servers/{{id}}/" in message
        assert "deprecated since 2025-01-01 00:00:00 UTC" in message
        assert "to stop working after 2026-07-01 00:00:00 UTC" in message
        assert "https://docs.vps.test/migrate" in message
        assert issubclass(vpsorg.VPSOrgDeprecationWarning, DeprecationWarning)
        assert issubclass(vpsorg.VPSOrgDeprecationWarning, vpsorg.VPSOrgWarning)
        assert [r.getMessage() for r in caplog.records if r.name == "vpsorg"] == [message]

        async def sunset_only(request: web.Request) -> web.StreamResponse:
            page: dict[str, object] = {"count": 0, "next": None, "previous": None, "results": []}
            return web.json_response(page, headers={"Sunset": "Thu, 01 Jan 2027 00:00:00 GMT"})

        server.handler = sunset_only
        with pytest.warns(vpsorg.VPSOrgDeprecationWarning, match="stop working after 2027"):
            assert [s async for s in client.servers.list()] == []


def test_deprecation_header_forms() -> None:
    assert _deprecation.parse_deprecation("true") is True
    assert _deprecation.parse_deprecation("false") is None
    when = _deprecation.parse_deprecation("Sun, 11 Nov 2018 23:59:59 GMT")
    assert not isinstance(when, bool) and when is not None and when.year == 2018
    assert _deprecation.parse_deprecation("@bogus") is True
    assert _deprecation.endpoint_template("post", "https://h/api/v1/servers/12/start/?x=1") == (
        "POST https://h/api/v1/servers/{id}/start/"
    )
