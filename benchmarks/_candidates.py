"""Single steps of the SDK's hot path in tight loops, for ``benchmarks.instructions``.

Each candidate of issue 23 is one step the SDK takes per call (or per page), run ``n``
times inside :func:`benchmarks._cg.labelled`, next to the cheaper way a prototype here
does it. Instructions per step are the dump's count minus the same loop doing nothing,
divided by ``n``. The prototypes live here, never in ``vpsorg``: they measure what a
change would save, they do not make it.

It reaches into private parts of the SDK on purpose: they are the steps measured.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import timezone
from typing import Any

import aiohttp
import msgspec
import yarl
from multidict import CIMultiDict

import vpsorg
from benchmarks import _cg, _env, _tuned
from benchmarks._target import Target
from vpsorg import _runtime
from vpsorg._async import _pagination, _transport
from vpsorg._async._decoding import decode_model
from vpsorg._async._transport import Response
from vpsorg.models import servers as server_models

__all__ = ["render", "run"]

#: (label, what it is, the label it is compared with or "")
CANDIDATES: tuple[tuple[str, str, str], ...] = (
    ("url_sdk", "`servers._url(id)`: `check_id`, f-string, base URL joined", ""),
    ("url_prebuilt", "prototype: a URL built once, looked up per call", "url_sdk"),
    ("url_encode", "transport: plain-tail regex + `yarl.URL(url, encoded=True)`", ""),
    ("yarl_str", "aiohttp's `URL(str)` of a next link (regex refuses '?', '=', '&')", ""),
    ("yarl_next", "prototype: `yarl.URL(next_link, encoded=True)`", "yarl_str"),
    ("params_extend", "first page: aiohttp's `url.extend_query({'page_size': '50'})`", ""),
    ("session_checks", "transport: session, pid, loop, closed checks", ""),
    ("timeout", "transport: the `Timeout` identity lookup", ""),
    ("task_discard", "transport: `current_task()` + `_connected.discard(task)`", ""),
    ("coroutine", "one more coroutine layer (`await f()` of an `async def`)", ""),
    ("connector_add", "`_Connector.connect`: a coroutine layer + `current_task` + set add", ""),
    ("length_encoding", "transport: Content-Length and Content-Encoding header reads", ""),
    ("deprecation", "transport: `'Deprecation' in headers or 'Sunset' in headers`", ""),
    ("response_attrs", "transport: `Response(...)` (a frozen msgspec Struct)", ""),
    ("response_tuple", "prototype: a plain tuple instead", "response_attrs"),
    ("headers_sdk", "aiohttp per request: `CIMultiDict(session headers)`, the SDK's 5", ""),
    ("headers_tuned", "the same with the hand-tuned session's 2", "headers_sdk"),
    ("pipeline_checks", "pipeline common path: json, plain, gate, log level, status, budget", ""),
    ("is_enabled_for", "`logger.isEnabledFor(DEBUG)` alone", ""),
    ("decode_model", "`decode_model(response, Server, ...)` on a detail body", ""),
    ("decode_direct", "prototype: `Decoder(vpsorg.Server).decode(body)` direct", "decode_model"),
    ("decode_tuned", "prototype: the same fields, `status` a plain str", "decode_direct"),
    ("decode_postinit", "prototype: the same fields, the old `__post_init__`", "decode_tuned"),
    ("page_sdk", "page: `AsyncPaginator._decode` (structure_page, then ServerPage)", ""),
    ("page_direct", "prototype: `Decoder(vpsorg.ServerPage).decode`: one object", "page_sdk"),
    ("page_tuned", "prototype: page of Structs without `__post_init__`", "page_direct"),
    ("follow", "page: `_follow(next)`: prefix, printable, loop set", ""),
    ("unseen", "items: `unseen()` over a page of 50 new ids", ""),
    ("unseen_fast", "prototype: one `isdisjoint` check, then the page as is", "unseen"),
)


class _PostInitServer(_tuned.Server):
    """The hand-tuned Struct with the SDK's ``Server.__post_init__``, to isolate its cost."""

    def __post_init__(self) -> None:
        try:
            status = server_models._status_member(self.status)
            if status is not None:
                msgspec.structs.force_setattr(self, "status", status)
            if self.created_at.tzinfo is None:
                msgspec.structs.force_setattr(
                    self, "created_at", self.created_at.replace(tzinfo=timezone.utc)
                )
            if self.updated_at.tzinfo is None:
                msgspec.structs.force_setattr(
                    self, "updated_at", self.updated_at.replace(tzinfo=timezone.utc)
                )
        except (TypeError, AttributeError):
            pass


def _unseen_fast(items: list[Any], seen: set[object]) -> Iterator[Any]:
    """A prototype of ``unseen`` for the common page: no id seen before."""
    ids = [getattr(item, "id", None) for item in items]
    if None not in ids and seen.isdisjoint(ids) and len(set(ids)) == len(ids):
        seen.update(ids)
        yield from items
        return
    yield from _pagination.unseen(items, seen)


def _loop(label: str, n: int, step: Callable[[], object]) -> None:
    with _cg.labelled(label):
        for _ in range(n):
            step()


async def _candidates(target: Target, n: int) -> None:
    client = target.sdk()
    try:
        servers: Any = client.servers
        pipeline: Any = client._pipeline
        transport: Any = pipeline.transport
        server_id = target.server_ids[0]
        url = servers._url(server_id)
        detail = await transport.request("GET", url, params=None, body=None, timeout=client.timeout)
        page_url = pipeline.url("servers/")
        page = await transport.request(
            "GET", page_url, params={"page_size": "50"}, body=None, timeout=client.timeout
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers=target.headers) as answer,
        ):
            headers = answer.headers
            await answer.read()
        next_link = msgspec.json.decode(page.body)["next"]
        base = _transport._plain_base(pipeline.base_url) or ""
        plain_tail = _transport._PLAIN_TAIL
        prebuilt = {server_id: yarl.URL(url, encoded=True)}
        list_url = yarl.URL(page_url, encoded=True)
        params = {"page_size": "50"}
        timeout = client.timeout
        body = detail.body
        decoder = msgspec.json.Decoder(vpsorg.Server)
        tuned_decoder = msgspec.json.Decoder(_tuned.Server)
        post_init_decoder = msgspec.json.Decoder(_PostInitServer)
        page_decoder = msgspec.json.Decoder(vpsorg.ServerPage)
        tuned_page_decoder = msgspec.json.Decoder(_tuned.ServerPage)
        paginator: Any = client.servers.list(page_size=50)
        origin = _pagination._origin(pipeline.base_url)
        results = list(page_decoder.decode(page.body).results)
        task = asyncio.current_task()
        connected: set[Any] = set()
        sdk_headers = dict(transport._headers)
        tuned_headers = target.headers
        log = logging.getLogger("vpsorg")
        debug = logging.DEBUG

        def url_encode() -> object:
            if url.startswith(base) and plain_tail.fullmatch(url, len(base)):
                return yarl.URL(url, encoded=True)
            return url

        def session_checks() -> object:
            session = transport._session
            return (
                session is None
                or transport._pid != _runtime.current_pid
                or transport._loop is not asyncio.get_running_loop()
                or session.closed
            )

        def timeout_lookup() -> object:
            return (
                transport._last_client_timeout
                if timeout is transport._last_timeout
                else transport._client_timeout(timeout)
            )

        def task_discard() -> None:
            t = asyncio.current_task()
            connected.discard(t)

        def length_encoding() -> object:
            length = headers.get("Content-Length")
            return (None if length is None else int(length)), headers.get("Content-Encoding")

        def pipeline_checks() -> object:
            json_body = None
            ok = (
                json_body is None
                and pipeline._plain
                and not pipeline.gate.until
                and not log.isEnabledFor(debug)
            )
            if ok and 200 <= detail.status < 300:
                budget = pipeline.budget
                return budget is not None and budget.available < budget.capacity
            return ok

        def unseen_all() -> object:
            return sum(1 for _ in _pagination.unseen(results, set()))

        def unseen_fast() -> object:
            return sum(1 for _ in _unseen_fast(results, set()))

        steps: dict[str, Callable[[], object]] = {
            "empty": lambda: None,
            "url_sdk": lambda: servers._url(server_id),
            "url_prebuilt": lambda: prebuilt[server_id],
            "url_encode": url_encode,
            "yarl_str": lambda: yarl.URL(next_link),
            "yarl_next": lambda: yarl.URL(next_link, encoded=True),
            "params_extend": lambda: list_url.extend_query(params),
            "session_checks": session_checks,
            "timeout": timeout_lookup,
            "task_discard": task_discard,
            "length_encoding": length_encoding,
            "deprecation": lambda: "Deprecation" in headers or "Sunset" in headers,
            "response_attrs": lambda: Response(200, headers, body),
            "response_tuple": lambda: (200, headers, body),
            "headers_sdk": lambda: CIMultiDict(sdk_headers),
            "headers_tuned": lambda: CIMultiDict(tuned_headers),
            "pipeline_checks": pipeline_checks,
            "is_enabled_for": lambda: log.isEnabledFor(debug),
            "decode_model": lambda: decode_model(detail, vpsorg.Server, "GET", url),
            "decode_direct": lambda: decoder.decode(body),
            "decode_tuned": lambda: tuned_decoder.decode(body),
            "decode_postinit": lambda: post_init_decoder.decode(body),
            "page_sdk": lambda: paginator._decode(page, page_url),
            "page_direct": lambda: page_decoder.decode(page.body),
            "page_tuned": lambda: tuned_page_decoder.decode(page.body),
            "follow": lambda: _pagination._follow(next_link, page_url, origin, set(), page),
            "unseen": unseen_all,
            "unseen_fast": unseen_fast,
        }
        for label, step in steps.items():
            step()  # warm: caches, lazily built decoders
            _loop(label, n, step)

        async def leaf() -> int:
            return 1

        async def layer() -> int:
            return await leaf()

        async def connect() -> int:
            value = await leaf()
            t = asyncio.current_task()
            if t is not None:
                connected.add(t)
            return value

        for label, outer in (("coroutine_base", leaf), ("coroutine", layer)):
            await outer()
            with _cg.labelled(label):
                for _ in range(n):
                    await outer()
        await connect()
        with _cg.labelled("connector_add"):
            for _ in range(n):
                await connect()
        del task
    finally:
        await client.aclose()


def run(target: Target, n: int) -> None:
    """Run every candidate ``n`` times, each in its own callgrind dump."""
    _env.run_async(_candidates(target, n), timeout=3600)


def render(dumps: dict[str, int], n: int) -> str:
    """The table: instructions per step, and what each prototype saves."""
    empty = dumps["empty"]
    per = {label: (total - empty) / n for label, total in dumps.items()}
    # An awaited layer is counted against awaiting the leaf coroutine alone.
    base = per.get("coroutine_base", 0.0)
    for label in ("coroutine", "connector_add"):
        if label in per:
            per[label] -= base
    lines = [
        f"# Single steps of the hot path ({n:,} times each, callgrind)\n",
        "| step | instructions per step | saves against |",
        "|---|---|---|",
    ]
    for label, what, against in CANDIDATES:
        if label not in per:
            continue
        saves = f"{per[against] - per[label]:+,.0f} vs `{against}`" if against in per else ""
        lines.append(f"| {what} | {per[label]:,.0f} | {saves} |")
    return "\n".join(lines) + "\n"
