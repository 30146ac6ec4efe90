"""list() follows DRF next links lazily, and tolerates the one-page form."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import BASE, SUMMARY_12345, requests_of, sample
from vpsorg._async import _pagination
from vpsorg._converter import structure_page
from vpsorg.simulator import Simulator

SERVERS = BASE + "servers/"


def servers(first: int, n: int) -> list[dict[str, object]]:
    return [sample(SUMMARY_12345, id=i, name=f"s-{i}") for i in range(first, first + n)]


def three_pages(mocked: aioresponses, query: str = "") -> None:
    prefix = f"{SERVERS}?{query}&" if query else f"{SERVERS}?"
    first = f"{SERVERS}?{query}" if query else SERVERS
    page2, page3 = prefix + "page=2", prefix + "page=3"
    for url, nxt, prev, results in (
        (first, page2, None, servers(1, 2)),
        (page2, page3, first, servers(3, 2)),
        (page3, None, page2, servers(5, 1)),
    ):
        mocked.get(url, payload={"count": 5, "next": nxt, "previous": prev, "results": results})


async def test_three_pages_are_followed(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    three_pages(mocked)
    assert [s.id async for s in client.servers.list()] == [1, 2, 3, 4, 5]
    assert len(requests_of(mocked)) == 3


async def test_next_link_keeps_filters_and_params_are_not_sent_twice(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    three_pages(mocked, "status=active")
    assert len(await client.servers.list(status="active")) == 5
    for _, url, kwargs in requests_of(mocked)[1:]:
        assert "status=active" in url
        assert kwargs.get("params") is None


async def test_pages_are_fetched_lazily(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    three_pages(mocked)
    seen = []
    async for server in client.servers.list():
        seen.append(server.id)
        if server.id == 2:
            break
    assert seen == [1, 2]
    assert len(requests_of(mocked)) == 1


async def test_pages_exposes_count_and_links(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    three_pages(mocked)
    pages = [page async for page in client.servers.list().pages()]
    assert [p.count for p in pages] == [5, 5, 5]
    assert [len(p.results) for p in pages] == [2, 2, 1]
    assert pages[-1].next is None
    assert pages[1].previous == SERVERS


async def test_one_page_with_only_count_and_results(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(SERVERS, payload={"count": 2, "results": servers(1, 2)})
    assert [s.id for s in await client.servers.list()] == [1, 2]


async def test_a_bare_array_is_one_page(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.get(SERVERS, payload=servers(1, 3))
    assert len(await client.servers.list()) == 3


async def test_next_link_to_another_host_is_refused(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(
        SERVERS,
        payload={"count": 3, "next": "https://evil.example/steal?page=2", "results": servers(1, 2)},
    )
    with pytest.raises(vpsorg.APIResponseValidationError, match="another origin"):
        await client.servers.list()
    assert len(requests_of(mocked)) == 1


async def test_a_looping_next_link_is_detected(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    page2 = SERVERS + "?page=2"
    mocked.get(SERVERS, payload={"count": 9, "next": page2, "results": servers(1, 1)})
    mocked.get(page2, payload={"count": 9, "next": page2, "results": servers(2, 1)}, repeat=True)
    with pytest.raises(vpsorg.APIResponseValidationError, match="loop"):
        await client.servers.list()


@pytest.mark.parametrize(
    "payload",
    [
        {"count": 1},
        {"count": "two", "results": []},
        {"results": [{"id": 1}]},
        {"results": "nope"},
        {"next": 5, "results": []},
        "text",
    ],
)
async def test_malformed_pages_raise_a_vpsorg_error(
    client: vpsorg.AsyncClient, mocked: aioresponses, payload: object
) -> None:
    mocked.get(SERVERS, payload=payload)
    with pytest.raises(vpsorg.APIResponseValidationError):
        await client.servers.list()


async def test_page_size_is_sent_when_asked(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(SERVERS + "?page_size=50", payload={"count": 0, "results": []})
    assert await client.servers.list(page_size=50) == []
    with pytest.raises(vpsorg.InvalidInputError):
        client.servers.list(page_size=0)


# ---------------------------------------------------------------------- next links, both clients


def _list_ids(kind: str, sim: Simulator) -> list[int]:
    if kind == "blocking":
        with vpsorg.Client(token=sim.token, base_url=sim.base_url) as api:
            return [server.id for server in api.servers.list()]

    async def run() -> list[int]:
        async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
            return [server.id async for server in client.servers.list()]

    return asyncio.run(run())


def _first_page(sim: Simulator, next_link: str) -> None:
    body = {"count": 99, "next": next_link, "previous": None, "results": [SUMMARY_12345]}
    sim.script(path="/api/v1/servers/", method="GET", status=200, body=body)


@pytest.mark.parametrize("kind", ["async", "blocking"])
@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:99999/api/v1/servers/?page=2",
        "http://127.0.0.1:abc/api/v1/servers/?page=2",
        "http://[::1/api/v1/servers/?page=2",
        "http://[::1]x/api/v1/servers/?page=2",
    ],
)
def test_an_unparseable_next_link_is_a_validation_error(
    vpsorg_simulator: Simulator, kind: str, link: str
) -> None:
    _first_page(vpsorg_simulator, link)
    with pytest.raises(vpsorg.APIResponseValidationError, match="not a valid URL"):
        _list_ids(kind, vpsorg_simulator)
    assert vpsorg_simulator.request_count == 1


@pytest.mark.parametrize("kind", ["async", "blocking"])
@pytest.mark.parametrize(
    "link", ["?page=2&page_size=1", "/api/v1/servers/?page=2&page_size=1", "./?page=2&page_size=1"]
)
def test_a_relative_next_link_is_resolved_against_the_page_url(
    vpsorg_simulator: Simulator, kind: str, link: str
) -> None:
    _first_page(vpsorg_simulator, link)
    ids = _list_ids(kind, vpsorg_simulator)
    # The scripted first page, then the simulator's own pages of one from page 2 on.
    assert ids[:2] == [12345, 12346]
    assert len(ids) == len(vpsorg_simulator.servers())


@pytest.mark.parametrize("kind", ["async", "blocking"])
@pytest.mark.parametrize(
    "link", ["//evil.example/api/v1/servers/?page=2", "https://127.0.0.1/api/v1/servers/?page=2"]
)
def test_a_relative_next_link_to_another_origin_is_refused(
    vpsorg_simulator: Simulator, kind: str, link: str
) -> None:
    _first_page(vpsorg_simulator, link)
    with pytest.raises(vpsorg.APIResponseValidationError, match="another origin"):
        _list_ids(kind, vpsorg_simulator)
    assert vpsorg_simulator.request_count == 1


@pytest.mark.parametrize("kind", ["async", "blocking"])
@pytest.mark.parametrize(
    ("tail", "refusal"),
    [
        ("@evil.example/api/v1/servers/?page=2", "another origin"),
        (".evil.example/api/v1/servers/?page=2", "not a valid URL"),
    ],
)
def test_a_link_that_starts_like_the_api_but_names_another_host_is_refused(
    vpsorg_simulator: Simulator, kind: str, tail: str, refusal: str
) -> None:
    # "http://127.0.0.1:PORT@evil.example/..." begins with the API's scheme, host and
    # port: only the "/" that ends the netloc makes a link the API's own.
    origin = vpsorg_simulator.base_url.split("/api/")[0]
    _first_page(vpsorg_simulator, origin + tail)
    with pytest.raises(vpsorg.APIResponseValidationError, match=refusal):
        _list_ids(kind, vpsorg_simulator)
    assert vpsorg_simulator.request_count == 1


@pytest.mark.parametrize("kind", ["async", "blocking"])
def test_an_absolute_link_with_a_line_break_is_cleaned_as_urljoin_does(
    vpsorg_simulator: Simulator, kind: str
) -> None:
    link = vpsorg_simulator.base_url + "servers/?page=2\n&page_size=1"
    _first_page(vpsorg_simulator, link)
    ids = _list_ids(kind, vpsorg_simulator)
    assert ids[:2] == [12345, 12346]
    assert len(ids) == len(vpsorg_simulator.servers())


async def test_a_bad_item_names_the_field_the_status_and_the_url(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    bad = sample(SUMMARY_12345, status=7)
    mocked.get(SERVERS, payload={"count": 2, "results": [SUMMARY_12345, bad]})
    with pytest.raises(vpsorg.APIResponseValidationError) as info:
        await client.servers.list()
    error = info.value
    assert "results[1].status" in str(error)
    assert error.status_code == 200
    assert error.url == SERVERS


class _TrackedResults(list):  # type: ignore[type-arg]
    """A page's results as a list that takes weak references (the models take none)."""

    __slots__ = ("__weakref__",)


async def test_a_listing_holds_no_earlier_page_while_it_fetches_the_next_one(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The items of a page the caller has gone past must be freed by reference counting
    # before the next page's request, not kept by the paginator until the garbage
    # collector finds them. The models are not weak-referenceable (gc=False), so each
    # page's results list is watched: only it, the page and the caller hold the items.
    refs: list[weakref.ref[list[vpsorg.Server]]] = []
    alive_at_each_fetch: list[int] = []

    def watched(raw: bytes, item_type: type[Any]) -> tuple[Any, ...]:
        count, next_url, previous, results = structure_page(raw, item_type)
        tracked = _TrackedResults(results)
        refs.append(weakref.ref(tracked))
        return count, next_url, previous, tracked

    def hook(event: vpsorg.Event) -> None:
        if isinstance(event, vpsorg.CallStarted) and event.method == "GET":
            alive_at_each_fetch.append(sum(ref() is not None for ref in refs))

    monkeypatch.setattr(_pagination, "structure_page", watched)
    async with vpsorg.AsyncClient(
        token=sim.token, base_url=sim.base_url, event_hooks=[hook]
    ) as client:
        for n in range(4):
            await client.servers.create(name=f"extra-{n}", plan_id=1, os_id=5, location="us-west")
        gc.disable()  # so that only reference counting can free them
        try:
            seen = [server.id async for server in client.servers.list(page_size=2)]
        finally:
            gc.enable()
    assert len(seen) == len(sim.servers()) == 6 and len(refs) == 3
    # One call per page; at each, no earlier page's results are alive.
    assert alive_at_each_fetch == [0, 0, 0]
