"""Lazy pagination over DRF-style pages (``count``, ``next``, ``previous``, ``results``).

`AsyncPaginator` is the one paginator of every resource: a resource hands it the
pipeline, the list URL with its query parameters, the item type and the page type, and
the paginator fetches, decodes and follows pages under the same safety rules for all:

* a ``next`` link may be absolute or relative (``?page=2``, ``/api/v1/servers/?page=2``);
  a relative one is resolved against the URL of the page that carried it;
* a link to another origin (scheme, host, port) is refused, so the API token never leaves
  the API; a link that cannot be parsed (a bad port, a broken IPv6 host) is refused too;
* a link seen before in the same listing (a loop) stops it, and so does a listing longer
  than `MAX_PAGES` pages.

Each refusal is an [`APIResponseValidationError`][vpsorg.APIResponseValidationError].

Iterating never yields the same item twice: page-number pages shift when items are
created or deleted during a listing, so an item can reappear on the next page. Each
iteration keeps the ids it has yielded (a set of ints: about 66 bytes per item, some
66 MB for a million) and skips an item whose ``id`` it has already yielded; see
`unseen()`. `AsyncPaginator.pages()` yields the pages as the API sent them.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import AsyncIterator, Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar, cast
from urllib.parse import urlencode, urljoin, urlsplit

from .._config import url_origin
from .._converter import DecodeError, structure_page
from .._exceptions import APIResponseValidationError
from ..models import Server, ServerPage

if TYPE_CHECKING:
    from ._pipeline import Pipeline
    from ._transport import Response

__all__ = ["MAX_PAGES", "AsyncPaginator", "AsyncServerList", "Page", "PageFactory", "unseen"]

logger = logging.getLogger("vpsorg")

#: A safety bound: no real account has this many pages, a looping ``next`` would.
MAX_PAGES = 100_000

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Page(Protocol[T_co]):
    """What a page type offers (as [`ServerPage`][vpsorg.ServerPage] does for servers)."""

    @property
    def count(self) -> int | None:
        """The total number of matching items, when the API says."""

    @property
    def next(self) -> str | None:
        """The URL of the next page, or ``None`` on the last page."""

    @property
    def previous(self) -> str | None:
        """The URL of the previous page, or ``None``."""

    @property
    def results(self) -> Sequence[T_co]:
        """The items on this page."""


class PageFactory(Protocol[T]):
    """Builds a page from its decoded parts: a page class such as ``ServerPage``."""

    def __call__(
        self, *, count: int | None, next: str | None, previous: str | None, results: list[T]
    ) -> Page[T]:
        """Build the page."""


class AsyncPaginator(Generic[T]):
    """Every item of a listing, fetched page by page as you iterate.

    Examples:
        It is both async-iterable and awaitable:

        ```python
        async for server in client.servers.list(location="us-west"):
            ...
        servers = await client.servers.list()          # a list of every server
        ```

    Pages are requested lazily: breaking out of the loop stops fetching. ``next`` links
    are followed until there are none; a response with only ``count`` and ``results``,
    or a bare JSON array, is one page. Each iteration (and each `to_list()` or
    `pages()`) starts again from the first page. See the module docstring for the
    rules ``next`` links must follow.

    Within one iteration (or one `to_list()`) no item is yielded twice: an item whose
    ``id`` was already yielded, moved onto a later page by a create or delete during the
    listing, is skipped. Items without an ``id`` are yielded as they come.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        url: str,
        params: Mapping[str, str],
        *,
        item_type: type[T],
        page_type: PageFactory[T],
    ) -> None:
        self._pipeline = pipeline
        self._url = url
        self._params = dict(params)
        self._item_type = item_type
        self._page_type = page_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}(params={self._params!r})"

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        seen: set[object] = set()
        async for page in self.pages():
            results = page.results
            del page
            for item in unseen(results, seen):
                yield item
            # Hold nothing of this page while the next one is fetched: items the caller
            # has let go of are freed by their reference counts then, instead of
            # surviving into the garbage collector's older generations.
            del results

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self.to_list().__await__()

    async def to_list(self) -> list[T]:
        """Fetch every page and return all the items in one list."""
        return [item async for item in self]

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield each page as it arrives, from the first."""
        pipeline = self._pipeline
        # The filters go into the first URL as its query, as the API's own next links
        # carry them: the transport then reuses that URL's object on the next listing.
        first = f"{self._url}?{urlencode(self._params)}" if self._params else self._url
        origin = _origin(pipeline.base_url)
        seen: set[str] = {first}
        url: str | None = first
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = await pipeline.request("GET", url)
            page = self._decode(response, url)
            yield page
            url = _follow(page.next, url, origin, seen, response)
            del page, response  # not held while the next page is fetched (see _iterate)
        raise _bad_page(f"more than {MAX_PAGES} pages", url or "", None)

    def _decode(self, response: Response, url: str) -> Page[T]:
        count, next_url, previous, results = _structure_page(response, url, self._item_type)
        return self._page_type(count=count, next=next_url, previous=previous, results=results)


class AsyncServerList(AsyncPaginator[Server]):
    """Every server matching a filter, fetched page by page as you iterate.

    Examples:
        What ``client.servers.list()`` returns: an `AsyncPaginator` of
        [`Server`][vpsorg.Server] whose pages are [`ServerPage`][vpsorg.ServerPage]:

        ```python
        async for server in client.servers.list(location="us-west"):
            ...
        servers = await client.servers.list()          # a list of every server
        ```
    """

    def __init__(self, pipeline: Pipeline, params: Mapping[str, str]) -> None:
        super().__init__(
            pipeline, pipeline.url("servers/"), params, item_type=Server, page_type=ServerPage
        )

    def pages(self) -> AsyncIterator[ServerPage]:
        """Yield each [`ServerPage`][vpsorg.ServerPage] as it arrives, from the first."""
        return cast("AsyncIterator[ServerPage]", super().pages())


def unseen(items: Iterable[T], seen: set[object]) -> Iterator[T]:
    """The items whose ``id`` is not in ``seen``, adding each one's ``id`` to it.

    One listing passes the same ``seen`` set for every page, so an item moved onto a
    later page by a create or delete during the listing is not yielded twice. An item
    without an ``id`` attribute (or with ``id`` ``None``) is always yielded. The blocking
    paginator uses this too.
    """
    for item in items:
        key = getattr(item, "id", None)
        if key is None:
            yield item
        elif key not in seen:
            seen.add(key)
            yield item
        else:
            logger.debug("skipped item %r: already yielded earlier in this listing", key)


class _Origin(NamedTuple):
    """The base URL's origin, and the prefix every absolute link to it starts with."""

    scheme: str
    host: str
    port: int | None
    prefix: str  # "scheme://netloc/", spelled as in the base URL


@functools.lru_cache(maxsize=32)
def _origin(base_url: str) -> _Origin:
    parts = urlsplit(base_url)
    return _Origin(*url_origin(base_url), f"{parts.scheme}://{parts.netloc}/")


def _follow(
    link: str | None,
    url: str,
    origin: _Origin,
    seen: set[str],
    response: Response,
) -> str | None:
    """The absolute URL of the next page, after the origin and loop checks; or ``None``."""
    if link is None:
        return None
    if link.startswith(origin.prefix) and link.isprintable():
        # The usual link: absolute, to the base URL's own scheme and host:port, spelled as
        # the base URL spells them. The netloc ends at the prefix's "/", so the origin is
        # the base URL's, and a printable absolute URL is what urljoin would return.
        # Parsing it (~8 µs a page) would only say so again.
        target = link
    else:
        target = _resolve(link, url, origin, response)
    if target in seen:
        raise _bad_page("the next-page links loop", url, response.body)
    seen.add(target)
    return target


def _resolve(link: str, url: str, origin: _Origin, response: Response) -> str:
    """A link made absolute against the page's URL, after the origin check."""
    try:
        target = urljoin(url, link)
        _check_host(target)
        target_origin = url_origin(target)
    except ValueError as exc:
        raise _bad_page(
            f"the next-page link {link!r} is not a valid URL ({exc})", url, response.body
        ) from None
    if target_origin != origin[:3]:
        raise _bad_page(
            f"the next-page link points to another origin ({target!r}); "
            "not following it, so the API token stays with the API",
            url,
            response.body,
        )
    return target


def _check_host(url: str) -> None:
    """Raise ValueError for a bracketed host that is not an IPv6 address followed by
    nothing or a port (``urlsplit`` lets ``[::1]x`` through on some Pythons)."""
    host = urlsplit(url).netloc.rpartition("@")[2]
    if host.startswith("["):
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"broken IPv6 host {host!r}")
        ipaddress.IPv6Address(inside.partition("%")[0])


def _structure_page(
    response: Response, url: str, item_type: type[T]
) -> tuple[int | None, str | None, str | None, list[T]]:
    """(count, next, previous, results) of a list response, decoded from its bytes in one
    pass, or [`APIResponseValidationError`][vpsorg.APIResponseValidationError] naming the
    problem."""
    try:
        return structure_page(response.body, item_type)
    except DecodeError as exc:
        raise _bad_page(str(exc), url, response.body, response.status) from None


def _bad_page(
    message: str, url: str, body: bytes | None, status: int = 200
) -> APIResponseValidationError:
    return APIResponseValidationError(
        message, status_code=status, body=body or b"", method="GET", url=url
    )
