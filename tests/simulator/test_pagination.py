"""DRF page-number pagination: count, next/previous absolute URLs, filters kept, 404s."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from yarl import URL

from vpsorg.simulator import Simulator

from .helpers import VALID_CREATE, call


async def _create_many(http: aiohttp.ClientSession, sim: Simulator, count: int) -> None:
    for index in range(count):
        location = "us-east" if index % 2 else "us-west"
        body = {**VALID_CREATE, "name": f"node-{index}", "location": location}
        status, _, _ = await call(http, "POST", sim.base_url + "servers/", json=body)
        assert status == 201


@pytest.mark.parametrize("sim_options", [{"page_size": 3}])
async def test_three_pages_with_absolute_links(sim: Simulator, http: aiohttp.ClientSession) -> None:
    await _create_many(http, sim, 5)  # 7 servers in all: pages of 3, 3, 1
    url: str | None = sim.base_url + "servers/"
    pages: list[dict[str, Any]] = []
    for _ in range(10):
        if url is None:
            break
        status, body, _ = await call(http, "GET", url)
        assert status == 200
        pages.append(body)
        url = body["next"]
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert {p["count"] for p in pages} == {7}
    ids = [s["id"] for p in pages for s in p["results"]]
    assert ids == sorted(ids) == [12345, 12346, *range(12347, 12352)]
    first, second, third = pages
    assert first["previous"] is None
    assert first["next"] == f"http://127.0.0.1:{sim.port}/api/v1/servers/?page=2"
    assert second["previous"] == f"http://127.0.0.1:{sim.port}/api/v1/servers/"
    assert second["next"] == f"http://127.0.0.1:{sim.port}/api/v1/servers/?page=3"
    assert third["previous"] == f"http://127.0.0.1:{sim.port}/api/v1/servers/?page=2"
    assert third["next"] is None


async def test_links_keep_filters_and_page_size(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    await _create_many(http, sim, 8)  # us-west: 12345 + 4 new = 5 servers
    params = {"location": "us-west", "page_size": "2"}
    status, body, _ = await call(http, "GET", sim.base_url + "servers/", params=params)
    assert status == 200
    assert body["count"] == 5
    next_url = URL(body["next"])
    assert next_url.is_absolute()
    assert dict(next_url.query) == {"location": "us-west", "page_size": "2", "page": "2"}
    _, second, _ = await call(http, "GET", body["next"])
    assert all(s["location"] == "us-west" for s in second["results"])
    assert dict(URL(second["previous"]).query) == {"location": "us-west", "page_size": "2"}
    _, third, _ = await call(http, "GET", second["next"])
    assert len(third["results"]) == 1
    assert third["next"] is None


async def test_links_use_the_request_host(sim: Simulator, http: aiohttp.ClientSession) -> None:
    headers = {"Host": "api.example.test:8443"}
    params = {"page_size": "1"}
    _, body, _ = await call(http, "GET", sim.base_url + "servers/", params=params, headers=headers)
    assert body["next"] == "http://api.example.test:8443/api/v1/servers/?page_size=1&page=2"


@pytest.mark.parametrize("page", ["0", "3", "-1", "abc", "1.5"])
async def test_invalid_page_is_404(sim: Simulator, http: aiohttp.ClientSession, page: str) -> None:
    params = {"page": page}
    status, body, _ = await call(http, "GET", sim.base_url + "servers/", params=params)
    assert (status, body) == (404, {"detail": "Invalid page."})


async def test_last_page_and_empty_first_page(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_url + "servers/"
    _, body, _ = await call(http, "GET", url, params={"page": "last", "page_size": "1"})
    assert [s["id"] for s in body["results"]] == [12346]
    _, empty, _ = await call(http, "GET", url, params={"status": "stopped", "page": "1"})
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(("page_size", "expected"), [("0", 20), ("x", 20), ("5000", 1000)])
async def test_page_size_fallback_and_cap(
    sim: Simulator, http: aiohttp.ClientSession, page_size: str, expected: int
) -> None:
    # 1,001 servers would take a while over HTTP; check the effective size through links.
    await _create_many(http, sim, 19)  # 21 servers: two pages at the default size of 20
    _, body, _ = await call(http, "GET", sim.base_url + "servers/", params={"page_size": page_size})
    assert len(body["results"]) == min(21, expected)
    assert (body["next"] is not None) == (expected < 21)
