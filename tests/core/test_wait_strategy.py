"""``wait_for_many`` picks, each round, the checks that cost fewer requests.

Every test seeds a large account in the simulator (``Simulator.add_servers``) and
counts the requests the wait sends with an event hook, by kind: unfiltered list pages,
list pages filtered by status, and GETs of one server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import vpsorg
from vpsorg.simulator import Simulator, serve

from .conftest import FAST

#: The page size a wait asks for (the simulator honours it).
PAGE = 500


class Requests:
    """Counts the attempts a client sends: ``list``, ``list?status=...`` and ``get``."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.got: Counter[int] = Counter()
        self.on_list_page_end: Callable[[dict[str, list[str]]], None] | None = None
        self.on_get_end: Callable[[int], None] | None = None

    def __call__(self, event: vpsorg.Event) -> None:
        if isinstance(event, vpsorg.AttemptStarted) and event.method == "GET":
            parts = urlsplit(event.url)
            query = parse_qs(parts.query)
            if event.url_template == "/servers/":
                status = query.get("status")
                self.kinds["list" if status is None else f"list?status={status[0]}"] += 1
            elif event.url_template == "/servers/{id}/":
                self.kinds["get"] += 1
                self.got[int(parts.path.rstrip("/").rpartition("/")[2])] += 1
        elif isinstance(event, vpsorg.AttemptEnded):
            if event.url_template == "/servers/" and self.on_list_page_end is not None:
                self.on_list_page_end(parse_qs(urlsplit(event.url).query))
            elif event.url_template == "/servers/{id}/" and self.on_get_end is not None:
                self.on_get_end(int(urlsplit(event.url).path.rstrip("/").rpartition("/")[2]))


@pytest.fixture
async def big() -> AsyncIterator[Simulator]:
    """A simulator whose power actions take long enough for a wait to need rounds."""
    async with serve(port=0, provision_delay=0.05, action_delay=1.0) as simulator:
        yield simulator


@pytest.fixture
async def counted(big: Simulator) -> AsyncIterator[tuple[vpsorg.AsyncClient, Requests]]:
    requests = Requests()
    async with vpsorg.AsyncClient(
        token=big.token, base_url=big.base_url, retry=FAST, event_hooks=[requests]
    ) as client:
        yield client, requests


async def test_five_ids_in_a_50000_server_account_are_checked_by_get_not_by_sweeps(
    big: Simulator, counted: tuple[vpsorg.AsyncClient, Requests]
) -> None:
    api, requests = counted
    ids = big.add_servers(50_000)
    gone, suspended, *rebooting = five = [ids[7], ids[20_000], ids[-3], ids[-2], ids[-1]]
    await api.servers.reboot_many(rebooting)
    await api.servers.delete(gone)
    big.suspend(suspended)
    requests.kinds.clear()

    result = await api.servers.wait_for_many(
        five, "active", timeout=20, interval=0.05, max_interval=0.1
    )

    assert [o.item for o in result] == five
    assert isinstance(result[0].error, vpsorg.NotFoundError)
    assert isinstance(result[1].error, vpsorg.UnreachableStatusError)
    assert [o.value.status for o in result[2:] if o.value is not None] == ["active"] * 3
    # One first page tells the account's size (100 pages of 500); from then on each
    # round GETs the servers still pending instead of listing the whole account.
    assert requests.kinds["list"] == 1
    assert requests.kinds["list?status=active"] <= 1  # one look at the filtered size
    assert set(requests.got) <= set(five)
    rounds = requests.got[rebooting[0]]
    assert rounds >= 2  # the reboot took several rounds: GETs were chosen again and again
    assert requests.kinds["get"] <= 5 * rounds
    assert sum(requests.kinds.values()) < 50_000 // PAGE


async def test_many_ids_are_swept_not_checked_one_by_one(
    big: Simulator, counted: tuple[vpsorg.AsyncClient, Requests]
) -> None:
    api, requests = counted
    ids = big.add_servers(1_900)  # with the two samples: 4 pages of 500
    waited = ids[100:1_300]
    await api.servers.stop_many(waited, concurrency=100)
    requests.kinds.clear()

    result = await api.servers.wait_for_many(
        waited, "stopped", timeout=20, interval=0.05, max_interval=0.1
    )

    assert result.ok
    assert requests.kinds["get"] == 0  # 1,200 GETs a round would cost 300 times more
    assert requests.kinds["list"] >= 3  # the waited servers are on the first 3 pages
    # The filtered listing is looked at once, found not cheap enough, and given up.
    assert requests.kinds["list?status=stopped"] <= 1


async def test_the_status_filter_is_used_when_it_is_cheap_and_absence_proves_nothing(
    big: Simulator, counted: tuple[vpsorg.AsyncClient, Requests]
) -> None:
    api, requests = counted
    ids = big.add_servers(20_998)  # with the two samples: 42 pages of 500
    waited = ids[-1_000:]
    straggler = ids[5]  # active until its second GET: absent from the filtered listing

    def suspend_once_swept(query: dict[str, list[str]]) -> None:
        # The first sweep ends on its 42nd page: everything waited on becomes suspended
        # before the next round, which then needs only the filtered listing's 2 pages.
        if "status" not in query and query.get("page") == ["42"]:
            requests.on_list_page_end = None
            for server_id in waited:
                big.suspend(server_id)

    requests.on_list_page_end = suspend_once_swept

    def suspend_the_straggler_at_its_second_get(server_id: int) -> None:
        if server_id == straggler and requests.got[straggler] == 2:
            big.suspend(straggler)

    requests.on_get_end = suspend_the_straggler_at_its_second_get
    result = await api.servers.wait_for_many(
        [*waited, straggler], "suspended", timeout=60, interval=0.05, max_interval=0.05
    )

    assert result.ok, [o.error for o in result if o.error is not None][:3]
    assert requests.kinds["list"] == 42  # the first round's sweep, and no other
    assert requests.kinds["list?status=suspended"] == 2  # the whole filtered listing
    # Absent from the filtered listing, the straggler was not taken for gone: it was
    # checked alone by GET, round after round, until it too was suspended.
    assert requests.got == Counter({straggler: 3})
    last = result[-1].value
    assert last is not None
    assert last.status == "suspended"


async def test_a_404_for_a_list_page_falls_back_to_per_id_checks(
    big: Simulator, counted: tuple[vpsorg.AsyncClient, Requests]
) -> None:
    """Issue 19: a stale ``next`` link answered 404 used to end the sweep and skip the
    per-id checks, so the wait ran out its whole timeout, reporting "never seen"."""
    api, requests = counted
    ids = big.add_servers(600)  # 2 pages of 500
    waited = ids[-2:]  # both on the second page

    def stale_second_page(query: dict[str, list[str]]) -> None:
        if "page" not in query:  # every first page: the link it gives is stale
            big.script(
                path="/api/v1/servers/", method="GET", status=404, body={"detail": "Invalid page."}
            )

    requests.on_list_page_end = stale_second_page
    result = await api.servers.wait_for_many(waited, "active", timeout=5, interval=0.05)

    assert result.ok, [o.error for o in result]
    assert [o.value.id for o in result if o.value is not None] == waited
    assert requests.got == Counter(dict.fromkeys(waited, 1))


def test_seeding_a_large_account(vpsorg_simulator: Simulator) -> None:
    ids = vpsorg_simulator.add_servers(3, status="stopped", location="eu-central", plan_id=2)
    assert ids == [12347, 12348, 12349]
    seeded = [s for s in vpsorg_simulator.servers() if s["id"] in ids]
    assert [s["name"] for s in seeded] == ["seeded-1", "seeded-2", "seeded-3"]
    assert {(s["status"], s["location"], s["plan"]["id"]) for s in seeded} == {
        ("stopped", "eu-central", 2)
    }
    assert all(s["ip_address"] for s in seeded)
    assert vpsorg_simulator.credits is None
    bad: list[dict[str, Any]] = [
        {"status": "provisioning"},
        {"location": "mars"},
        {"plan_id": 99},
        {"os_id": 1},
    ]
    for options in bad:
        with pytest.raises(ValueError, match="must be one of"):
            vpsorg_simulator.add_servers(1, **options)
    with pytest.raises(ValueError, match="negative"):
        vpsorg_simulator.add_servers(-1)
    vpsorg_simulator.reset()
    assert len(vpsorg_simulator.servers()) == 2


async def test_an_api_that_refuses_the_status_filter_is_listed_without_it(
    big: Simulator, counted: tuple[vpsorg.AsyncClient, Requests]
) -> None:
    api, requests = counted
    ids = big.add_servers(1_900)  # 4 pages of 500
    waited = ids[100:1_300]
    await api.servers.stop_many(waited, concurrency=100)
    requests.kinds.clear()

    def refuse_the_next_listing(query: dict[str, list[str]]) -> None:
        # Once the first sweep has seen all it needed (page 3), the next list request,
        # the filtered one of round 2, is refused as an API without the filter would.
        if "status" not in query and query.get("page") == ["3"]:
            requests.on_list_page_end = None
            big.script(path="/api/v1/servers/", method="GET", status=400)

    requests.on_list_page_end = refuse_the_next_listing
    result = await api.servers.wait_for_many(
        waited, "stopped", timeout=30, interval=0.05, max_interval=0.1
    )

    assert result.ok, [o.error for o in result if o.error is not None][:3]
    assert requests.kinds["list?status=stopped"] == 1  # refused once, never asked again
    assert requests.kinds["get"] == 0


@pytest.mark.parametrize(
    ("count", "size", "next_url", "pages"),
    [
        (50_000, 500, "?page=2", 100),
        (50_000, 20, "?page=2", 2_500),  # the API ignored the page size asked for
        (50_001, 500, "?page=2", 101),
        (3, 3, None, 1),  # one page
        (None, 500, "?page=2", None),  # no count: unknown until a sweep is complete
        (10, 0, "?page=2", None),  # an empty page with a next link says nothing
        (None, 0, None, 1),
    ],
)
def test_the_size_of_a_listing_is_judged_from_its_first_page(
    count: int | None, size: int, next_url: str | None, pages: int | None
) -> None:
    from vpsorg._async._waiting import _page_estimate

    results: Any = [None] * size  # only the length counts
    page = vpsorg.ServerPage(count=count, next=next_url, previous=None, results=results)
    assert _page_estimate(page) == pages
