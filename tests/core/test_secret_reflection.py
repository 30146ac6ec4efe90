"""Invariant 2 against a hostile server: no secret leaves the process, whatever is echoed.

A raw asyncio server on 127.0.0.1 reflects the request's ``Authorization`` header (and,
through a proxy, its ``Proxy-Authorization``) into every part of an HTTP answer: a
malformed status line, a reason phrase, valid and malformed headers, a chunk-size line,
error and success bodies (raw, JSON-escaped, percent-encoded, HTML), a redirect's
``Location``. Each reflection is swept over every surface a user of vpsorg sees: the
exception of the async and the blocking client (its message, repr, args, attributes,
``__cause__``/``__context__`` chain and rendered traceback), raw responses, events, the
OpenTelemetry spans (``exception.stacktrace`` included), the ``vpsorg`` logger at DEBUG
and ``logging.exception``, and the command line's output. ``tests.leaks`` does the
looking, in every form the secret can take.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import vpsorg
from tests.conftest import DETAIL_12345
from tests.leaks import assert_no_secret
from vpsorg.cli import cli
from vpsorg.otel import OTelHooks

# "/" and "+" so that the JSON, percent, HTML and base64 forms all differ from the raw one.
TOKEN = "tk/3f9a+hostile-Secret"
PROXY_PASSWORD = "pr0xy/pw+hostile"
FAST = vpsorg.RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_cap=0.002)
SERVER_JSON = json.dumps(DETAIL_12345).encode()


def _answer(status_line: bytes, headers: list[bytes], body: bytes = b"") -> bytes:
    head = [status_line, *headers]
    if not any(h.lower().startswith((b"content-length:", b"transfer-encoding:")) for h in head):
        head.append(b"Content-Length: %d" % len(body))
    head.append(b"Connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _json_escaped(auth: bytes) -> bytes:
    return json.dumps(auth.decode()).encode()[1:-1].replace(b"/", b"\\/")


def _percent(auth: bytes) -> bytes:
    return quote(auth.decode(), safe="").encode()


JSON = b"Content-Type: application/json"

#: How the server reflects the header value ``auth`` (bytes) into its answer.
REFLECTIONS: dict[str, Callable[[bytes], bytes]] = {
    "status-line-bad-code": lambda a: _answer(b"HTTP/1.1 2x0 " + a, []),
    "status-line-no-code": lambda a: _answer(b"HTTP/1.1 " + a, []),
    # aiohttp quotes the first 100 bytes of an over-long line, cutting the token short.
    "status-line-too-long": lambda a: _answer(b"HTTP/1.1 200 " + b"x" * 60 + a + b"y" * 9000, []),
    "header-line-too-long": lambda a: _answer(
        b"HTTP/1.1 200 OK", [b"X-Long: " + b"x" * 70 + a + b"y" * 9000], SERVER_JSON
    ),
    "status-line-reason-500": lambda a: _answer(b"HTTP/1.1 500 " + a, [JSON], b"{}"),
    "header-200": lambda a: _answer(
        b"HTTP/1.1 200 OK",
        [JSON, b"X-Request-ID: " + a, b"Server: " + a, b"X-Echo: " + a, b"Set-Cookie: s=" + a],
        SERVER_JSON,
    ),
    "header-503": lambda a: _answer(
        b"HTTP/1.1 503 Service Unavailable",
        [JSON, b"X-Request-ID: " + a, b"Retry-After: 0", b"Date: " + a],
        b'{"detail": "busy"}',
    ),
    "header-line-malformed": lambda a: _answer(b"HTTP/1.1 200 OK", [a], SERVER_JSON),
    "header-content-length": lambda a: _answer(
        b"HTTP/1.1 200 OK", [b"Content-Length: " + a], SERVER_JSON
    ),
    "header-content-encoding": lambda a: _answer(
        b"HTTP/1.1 200 OK", [JSON, b"Content-Encoding: x" + a.replace(b" ", b"")], b"{}"
    ),
    "chunk-size-line": lambda a: _answer(
        b"HTTP/1.1 200 OK", [JSON, b"Transfer-Encoding: chunked"], a + b"\r\n{}\r\n0\r\n\r\n"
    ),
    "body-200-undecodable": lambda a: _answer(
        b"HTTP/1.1 200 OK", [JSON], b'{"id": "' + a + b'", "detail": "' + a + b'"}'
    ),
    "body-200-timestamp": lambda a: _answer(
        b"HTTP/1.1 200 OK", [JSON], SERVER_JSON.replace(b'"2025-01-10T14:30:00Z"', b'"' + a + b'"')
    ),
    "body-200-html": lambda a: _answer(
        b"HTTP/1.1 200 OK", [b"Content-Type: text/html"], b"<p>" + a + b"</p>"
    ),
    "body-401-json-escaped": lambda a: _answer(
        b"HTTP/1.1 401 Unauthorized", [JSON], b'{"detail": "bad ' + _json_escaped(a) + b'"}'
    ),
    "body-400-field": lambda a: _answer(
        b"HTTP/1.1 400 Bad Request", [JSON], b'{"name": ["' + a + b' is not a name"]}'
    ),
    "body-404-percent": lambda a: _answer(
        b"HTTP/1.1 404 Not Found", [b"Content-Type: text/plain"], b"no " + _percent(a)
    ),
    "body-502-html": lambda a: _answer(
        b"HTTP/1.1 502 Bad Gateway", [b"Content-Type: text/html"], b"<pre>" + a + b"</pre>"
    ),
    "body-truncated": lambda a: _answer(
        b"HTTP/1.1 200 OK", [JSON, b"Content-Length: 999"], b'{"detail": "' + a
    ),
    "redirect-location": lambda a: _answer(
        b"HTTP/1.1 302 Found", [b"Location: http://127.0.0.1:9/cb?auth=" + a], b""
    ),
    "redirect-location-percent": lambda a: _answer(
        b"HTTP/1.1 307 Temporary Redirect",
        [b"Location: http://127.0.0.1:9/cb?auth=" + _percent(a), JSON],
        b'{"detail": "moved"}',
    ),
}


class HostileServer:
    """Reflects a request header into the answer the path names (``/<reflection>/...``).

    It runs in a thread of its own, so the async and the blocking client both reach it.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def __enter__(self) -> HostileServer:
        self._thread.start()
        assert self._started.wait(10), "the hostile server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self._stop)
        self._thread.join(10)
        self.loop.close()

    def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self.loop.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

        self.loop.run_until_complete(start())
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())

    def base_url(self, reflection: str) -> str:
        return f"http://127.0.0.1:{self.port}/{reflection}/api/v1/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.split(b"\r\n")
            target = lines[0].split(b" ")[1]
            # Through a proxy the request line holds the absolute URL.
            path = target.split(b"://", 1)[-1].split(b"/", 1)[-1]
            reflection = path.split(b"/", 1)[0].decode()
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(b":") for line in lines[1:] if line)
            }
            length = int(fields.get(b"content-length", b"0"))
            if length:
                await asyncio.wait_for(reader.readexactly(length), 10)
            echoed = fields.get(b"proxy-authorization") or fields[b"authorization"]
            writer.write(REFLECTIONS[reflection](echoed))
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


class Surfaces:
    """Everything one call left behind that a user could print, log or export."""

    def __init__(self) -> None:
        self.events: list[vpsorg.Event] = []
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.otel = OTelHooks(tracer_provider=self.provider)
        self.logged = io.StringIO()
        self._handler = logging.StreamHandler(self.logged)
        self._handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def hooks(self) -> list[vpsorg.EventHook]:
        return [self.events.append, self.otel]

    def __enter__(self) -> Surfaces:
        logger = logging.getLogger("vpsorg")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("vpsorg")
        logger.removeHandler(self._handler)
        logger.setLevel(self._level)
        self.provider.shutdown()

    def check(self, outcome: object, secrets: list[str]) -> None:
        assert_no_secret(outcome, secrets)
        if isinstance(outcome, BaseException):
            # What logger.exception (and so Sentry's logging integration) prints.
            logging.getLogger("tests.leaks").exception("the call failed", exc_info=outcome)
            # The local variables of vpsorg's frames, as error trackers record them.
            assert_no_secret(_vpsorg_locals(outcome), secrets)
        for event in self.events:
            assert_no_secret(event, secrets)
        for span in self.exporter.get_finished_spans():
            assert_no_secret(span.to_json(), secrets)
            assert_no_secret(dict(span.attributes or {}), secrets)
            for span_event in span.events:
                assert_no_secret(dict(span_event.attributes or {}), secrets)
        assert self.exporter.get_finished_spans(), "the hooks made no span"
        assert_no_secret(self.logged.getvalue(), secrets)


#: The package's own directory: a checkout is itself often named ``vpsorg``, so a
#: "/vpsorg/" in a path would also take this test module's frames for the SDK's.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(vpsorg.__file__)) + os.sep


def _in_package(filename: str) -> bool:
    """Whether a code object's file is part of the installed vpsorg package."""
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def _vpsorg_locals(error: BaseException) -> list[str]:
    """``name = repr(value)`` for every local of every vpsorg frame in the tracebacks
    of ``error`` and of its chain (what Sentry's ``include_local_variables`` records)."""
    shown: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < 50:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        pending += [current.__cause__, current.__context__]
        tb = current.__traceback__
        while tb is not None:
            if _in_package(tb.tb_frame.f_code.co_filename):
                where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
                shown += [f"{where} {k} = {v!r}" for k, v in tb.tb_frame.f_locals.items()]
            tb = tb.tb_next
    return shown


def _exception_text(outcome: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.leaks.render")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("failed", exc_info=outcome if isinstance(outcome, BaseException) else None)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


CALLS: dict[str, Callable[[Any], Any]] = {
    "get": lambda servers: servers.get(12345),
    "create": lambda servers: servers.create("web-1", 1, 5, "us-west"),
    "raw-get": lambda servers: servers.with_raw_response.get(12345),
    "raw-start": lambda servers: servers.with_raw_response.start(12345),
}


def _options(surfaces: Surfaces, proxy: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {"retry": FAST, "event_hooks": surfaces.hooks()}
    if proxy is not None:
        options["proxy"] = proxy
    return options


async def _outcome_async(base_url: str, call: Callable[[Any], Any], **options: Any) -> object:
    async with vpsorg.AsyncClient(token=TOKEN, base_url=base_url, **options) as client:
        try:
            return await call(client.servers)
        except vpsorg.VPSOrgError as exc:
            return exc


def _outcome_blocking(base_url: str, call: Callable[[Any], Any], **options: Any) -> object:
    with vpsorg.Client(token=TOKEN, base_url=base_url, **options) as client:
        try:
            return call(client.servers)
        except vpsorg.VPSOrgError as exc:
            return exc


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("reflection", list(REFLECTIONS))
async def test_no_reflection_reaches_an_async_surface(
    hostile: HostileServer, reflection: str, call: str
) -> None:
    with Surfaces() as surfaces:
        outcome = await _outcome_async(
            hostile.base_url(reflection), CALLS[call], **_options(surfaces, None)
        )
        surfaces.check(outcome, [TOKEN])
        assert_no_secret(_exception_text(outcome), [TOKEN])


@pytest.mark.parametrize("call", ["get", "raw-start"])
@pytest.mark.parametrize("reflection", list(REFLECTIONS))
def test_no_reflection_reaches_a_blocking_surface(
    hostile: HostileServer, reflection: str, call: str
) -> None:
    with Surfaces() as surfaces:
        outcome = _outcome_blocking(
            hostile.base_url(reflection), CALLS[call], **_options(surfaces, None)
        )
        surfaces.check(outcome, [TOKEN])


@pytest.mark.parametrize("reflection", list(REFLECTIONS))
async def test_a_plain_http_proxy_echoing_its_credentials_shows_them_nowhere(
    hostile: HostileServer, reflection: str
) -> None:
    # A plain-http API through a proxy: the proxy sees Proxy-Authorization, and echoes it.
    proxy = f"http://alice:{quote(PROXY_PASSWORD, safe='')}@127.0.0.1:{hostile.port}"
    with Surfaces() as surfaces:
        outcome = await _outcome_async(
            hostile.base_url(reflection), CALLS["get"], **_options(surfaces, proxy)
        )
        surfaces.check(outcome, [TOKEN, PROXY_PASSWORD, f"alice:{PROXY_PASSWORD}"])


@pytest.mark.parametrize("reflection", list(REFLECTIONS))
def test_no_reflection_reaches_the_command_line(hostile: HostileServer, reflection: str) -> None:
    runner = CliRunner(env={"VPSORG_API_TOKEN": None, "VPSORG_BASE_URL": None})
    for command in (["servers", "get", "12345"], ["servers", "start", "12345"]):
        result = runner.invoke(
            cli,
            ["-vv", "--base-url", hostile.base_url(reflection), "--token", TOKEN, *command],
            catch_exceptions=True,
        )
        assert result.exit_code in (0, 1), result.output
        assert_no_secret(result.stdout, [TOKEN])
        assert_no_secret(result.stderr, [TOKEN])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            assert_no_secret(result.exception, [TOKEN])


async def test_the_chain_holds_a_scrubbed_stand_in_not_the_aiohttp_error(
    hostile: HostileServer,
) -> None:
    async with vpsorg.AsyncClient(
        token=TOKEN,
        base_url=hostile.base_url("status-line-bad-code"),
        retry=vpsorg.RetryPolicy.disabled(),
    ) as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.get(12345)
    error = info.value
    assert error.request_sent is True
    cause = error.__cause__
    assert cause is not None and type(cause).__name__ == "ScrubbedCause"
    assert "ClientResponseError" in str(cause) and "[REDACTED]" in str(cause)
    assert cause.__traceback__ is None  # no aiohttp frame (with its locals) is kept
    assert error.__context__ is None or isinstance(error.__context__, vpsorg.VPSOrgError)
    assert_no_secret(error, [TOKEN])


async def test_the_helper_finds_every_form(hostile: HostileServer) -> None:
    """The sweep above is only as good as its detector: check that it does detect."""
    with pytest.raises(AssertionError, match=r"JSON-escaped"):
        assert_no_secret(TOKEN.replace("/", "\\/"), [TOKEN])
    with pytest.raises(AssertionError, match=r"percent-encoded"):
        assert_no_secret(["x", quote(TOKEN, safe="")], [TOKEN])
    inner = ValueError(f"Bearer {TOKEN}")
    outer = vpsorg.APIConnectionError("wrapped")
    outer.__context__ = inner
    outer.__suppress_context__ = True  # not rendered by format_exception: still found
    with pytest.raises(AssertionError, match=r"__context__"):
        assert_no_secret(outer, [TOKEN])
    with pytest.raises(AssertionError, match=r"8-character fragment"):
        assert_no_secret(f"Bearer {TOKEN[:12]}...", iter([TOKEN]))  # any iterable
    with pytest.raises(AssertionError, match=r"base64"):
        assert_no_secret(base64.b64encode(f"Bearer {TOKEN}".encode()), [TOKEN])


async def test_no_vpsorg_frame_of_an_error_keeps_the_token_in_a_local(
    hostile: HostileServer,
) -> None:
    """An error tracker that records local variables (Sentry does by default) shows
    nothing either: no frame of vpsorg in the error's traceback holds an unscrubbed value."""
    for reflection, limits in (
        ("header-200", vpsorg.Limits(max_response_bytes=10)),  # too large, in _read
        ("header-content-encoding", vpsorg.Limits()),  # unsupported, in _read
        ("status-line-bad-code", vpsorg.Limits()),  # mapped from aiohttp's error
    ):
        async with vpsorg.AsyncClient(
            token=TOKEN,
            base_url=hostile.base_url(reflection),
            retry=vpsorg.RetryPolicy.disabled(),
            limits=limits,
        ) as client:
            with pytest.raises(vpsorg.VPSOrgError) as info:
                await client.servers.get(12345)
        traceback = info.value.__traceback__
        frames = 0
        while traceback is not None:
            frame = traceback.tb_frame
            if _in_package(frame.f_code.co_filename):
                frames += 1
                for name, value in frame.f_locals.items():
                    assert_no_secret(f"local {name} = {value!r}", [TOKEN])
            traceback = traceback.tb_next
        assert frames, reflection
