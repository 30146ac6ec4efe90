"""Lazy pagination over DRF-style pages (``count``, ``next``, ``previous``, ``results``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Mapping
from typing import TYPE_CHECKING, Any

from .._config import url_origin
from .._converter import DecodeError, structure_many
from .._exceptions import APIResponseValidationError
from ..models import Server, ServerPage

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = ["AsyncServerList"]

#: A safety bound: no real account has this many pages, a looping ``next`` would.
MAX_PAGES = 100_000


class AsyncServerList:
    """Every server matching a filter, fetched page by page as you iterate.

    It is both async-iterable and awaitable::

        async for server in client.servers.list(location="us-west"):
            ...
        servers = await client.servers.list()          # a list of every server

    Pages are requested lazily: breaking out of the loop stops fetching. ``next`` links
    are followed until there are none; a response with only ``count`` and ``results`` is
    one page. A ``next`` link to another host is refused, so the token never leaves the
    API's origin.
    """

    def __init__(self, pipeline: Pipeline, params: Mapping[str, str]) -> None:
        self._pipeline = pipeline
        self._params = dict(params)

    def __repr__(self) -> str:
        return f"AsyncServerList(params={self._params!r})"

    def __aiter__(self) -> AsyncIterator[Server]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Server]:
        async for page in self.pages():
            for server in page.results:
                yield server

    def __await__(self) -> Generator[Any, None, list[Server]]:
        return self.to_list().__await__()

    async def to_list(self) -> list[Server]:
        """Fetch every page and return all the servers in one list."""
        return [server async for server in self]

    async def pages(self) -> AsyncIterator[ServerPage]:
        """Yield each :class:`~vpsorg.ServerPage` as it arrives."""
        pipeline = self._pipeline
        url: str | None = pipeline.url("servers/")
        params: Mapping[str, str] | None = self._params or None
        origin = url_origin(pipeline.base_url)
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if url is None:
                return
            data = await pipeline.request_json("GET", url, params=params)
            page = _parse_page(data, url)
            yield page
            url, params = page.next, None
            if url is not None:
                if url_origin(url) != origin:
                    raise _bad_page(
                        f"the next-page link points to another origin ({url!r}); "
                        "not following it, so the API token stays with the API",
                        url,
                        data,
                    )
                if url in seen:
                    raise _bad_page("the next-page links loop", url, data)
                seen.add(url)
        raise _bad_page(f"more than {MAX_PAGES} pages", url or "", None)


def _parse_page(data: object, url: str) -> ServerPage:
    if type(data) is list:  # a server that does not paginate at all
        results_raw: object = data
        count = next_url = previous = None
    elif type(data) is dict:
        if "results" not in data:
            raise _bad_page("the list response has no 'results'", url, data)
        results_raw = data["results"]
        count, next_url, previous = data.get("count"), data.get("next"), data.get("previous")
        if count is not None and type(count) is not int:
            raise _bad_page("'count' is not an integer", url, data)
        for name, value in (("next", next_url), ("previous", previous)):
            if value is not None and (type(value) is not str):
                raise _bad_page(f"{name!r} is not a URL string", url, data)
        next_url = next_url or None
    else:
        raise _bad_page("the list response is not a JSON object", url, data)
    try:
        results = structure_many(results_raw, Server)
    except DecodeError as exc:
        raise _bad_page(f"bad server in 'results': {exc}", url, data) from None
    return ServerPage(count=count, next=next_url, previous=previous or None, results=results)


def _bad_page(message: str, url: str, data: object) -> APIResponseValidationError:
    body = repr(data).encode() if data is not None else b""
    return APIResponseValidationError(message, status_code=200, body=body, method="GET", url=url)
