"""The servers resource: the nine endpoints of the API, waiting, and bulk operations.

This class is the single source of the servers API: ``vpsorg._sync`` is generated from
it, so every public method here gets a blocking twin with the same signature and
docstring. Keep public methods ``async def`` (or, like ``list``, plain methods returning
an async iterable) with fully annotated signatures.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import (
    InvalidInputError,
    NotFoundError,
    VPSOrgError,
    WaitTimeoutError,
)
from .._validation import (
    check_bool,
    check_hostname,
    check_id,
    check_name,
    check_optional_str,
    check_positive_int,
)
from ..models import ActionResult, BulkResult, Outcome, Server, ServerSpec, ServerStatus
from ._decoding import decode_model
from ._fleet import (
    DEFAULT_CONCURRENCY,
    ProgressCallback,
    check_concurrency,
    report_progress,
    run_bulk,
)
from ._pagination import AsyncServerList

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = ["AsyncServers"]

T = TypeVar("T")

#: What ``create_many`` accepts for each server: a ServerSpec or a mapping of its fields.
SpecLike = ServerSpec | Mapping[str, Any]

_SPEC_FIELDS = ("name", "plan_id", "os_id", "location", "hostname", "ssh_key_id", "backups_enabled")
_WAIT_FIRST_INTERVAL = 1.0
_WAIT_MAX_INTERVAL = 10.0
_WAIT_SWEEP_PAGE_SIZE = 500


class AsyncServers:
    """Everything you can do with servers. Reach it as ``client.servers``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._pipeline.base_url!r})"

    # ------------------------------------------------------------------ endpoints

    def list(
        self,
        status: str | None = None,
        location: str | None = None,
        *,
        page_size: int | None = None,
    ) -> AsyncServerList:
        """List every server in the account, following pages lazily.

        Args:
            status: only servers with this status (e.g. ``"active"``, ``"stopped"``).
            location: only servers in this data center (e.g. ``"us-west"``).
            page_size: ask the API for pages of this size (it may ignore it).

        Returns:
            An :class:`~vpsorg.AsyncServerList`: ``async for`` over it, or ``await`` it for
            a list. Nothing is requested until you do.

        Example::

            async for server in client.servers.list(status="active"):
                print(server.name)
        """
        params: dict[str, str] = {}
        if check_optional_str(status, "status") is not None:
            params["status"] = str(status)
        if check_optional_str(location, "location") is not None:
            params["location"] = str(location)
        if page_size is not None:
            params["page_size"] = str(check_positive_int(page_size, "page_size"))
        return AsyncServerList(self._pipeline, params)

    async def create(
        self,
        name: str,
        plan_id: int,
        os_id: int,
        location: str,
        hostname: str | None = None,
        ssh_key_id: int | None = None,
        backups_enabled: bool | None = None,
        *,
        wait: bool = False,
        wait_timeout: float = 600.0,
    ) -> Server:
        """Create (deploy) a server.

        A create is never retried once the request may have reached the API, so it can
        never make two servers; if the outcome is unknown it raises
        :class:`~vpsorg.OutcomeUnknownError` (list the servers to check).

        Args:
            name: letters, digits and hyphens.
            plan_id: the plan (size) id.
            os_id: the operating system id.
            location: the data-center code, e.g. ``"us-west"``.
            hostname: the FQDN; the API picks one when omitted.
            ssh_key_id: the id of an SSH key to install.
            backups_enabled: turn automatic backups on (the API's default is off).
            wait: also wait until the server is ``active`` and return it then.
            wait_timeout: seconds to wait when ``wait`` is true.

        Returns:
            The new server (``status`` ``"provisioning"``, or ``"active"`` with ``wait``).

        Raises:
            InvalidInputError: a bad argument; nothing was sent.
            BadRequestError: the API rejected the parameters.
            PaymentRequiredError: not enough credits.
        """
        body = _create_body(
            name=name,
            plan_id=plan_id,
            os_id=os_id,
            location=location,
            hostname=hostname,
            ssh_key_id=ssh_key_id,
            backups_enabled=backups_enabled,
        )
        check_bool(wait, "wait")
        server = await self._send("POST", self._pipeline.url("servers/"), Server, json=body)
        if wait:
            return await self.wait_for(server.id, ServerStatus.ACTIVE, timeout=wait_timeout)
        return server

    async def get(self, server_id: int) -> Server:
        """Get one server's details (the detail view, with usage and IPv6).

        Raises:
            NotFoundError: there is no such server.
        """
        return await self._send("GET", self._url(server_id), Server)

    async def update(
        self, server_id: int, name: str, hostname: str, backups_enabled: bool
    ) -> Server:
        """Replace a server's settings (PUT): all three fields are required.

        Use :meth:`patch` to change only some of them.
        """
        url = self._url(server_id)
        body = {
            "name": check_name(name),
            "hostname": check_hostname(hostname),
            "backups_enabled": check_bool(backups_enabled, "backups_enabled"),
        }
        return await self._send("PUT", url, Server, json=body)

    async def patch(
        self,
        server_id: int,
        name: str | None = None,
        hostname: str | None = None,
        backups_enabled: bool | None = None,
    ) -> Server:
        """Change some of a server's settings (PATCH): only the fields given are sent.

        Raises:
            InvalidInputError: no field given, or a bad value; nothing was sent.
        """
        url = self._url(server_id)
        body: dict[str, object] = {}
        if name is not None:
            body["name"] = check_name(name)
        if hostname is not None:
            body["hostname"] = check_hostname(hostname)
        if backups_enabled is not None:
            body["backups_enabled"] = check_bool(backups_enabled, "backups_enabled")
        if not body:
            raise InvalidInputError("patch", "give at least one of name, hostname, backups_enabled")
        return await self._send("PATCH", url, Server, json=body)

    async def delete(self, server_id: int) -> None:
        """Delete a server permanently. This cannot be undone.

        A retried delete whose earlier attempt may have succeeded treats the final 404 as
        success.

        Raises:
            NotFoundError: there is no such server.
        """
        await self._pipeline.request("DELETE", self._url(server_id), missing_ok_after_retry=True)

    async def start(self, server_id: int) -> ActionResult:
        """Power on a stopped server.

        Raises:
            BadRequestError: the server is already running.
        """
        return await self._action(server_id, "start")

    async def stop(self, server_id: int) -> ActionResult:
        """Shut down a running server gracefully.

        Raises:
            BadRequestError: the server is not running.
        """
        return await self._action(server_id, "stop")

    async def reboot(self, server_id: int) -> ActionResult:
        """Restart a running server gracefully.

        Raises:
            BadRequestError: the server is not running.
        """
        return await self._action(server_id, "reboot")

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        server_id: int,
        status: str | Sequence[str] = "active",
        *,
        timeout: float = 600.0,
        interval: float = _WAIT_FIRST_INTERVAL,
        max_interval: float = _WAIT_MAX_INTERVAL,
    ) -> Server:
        """Wait until a server has the given status (or one of several), and return it.

        The first check is immediate; then the pause grows by half each round, with
        jitter, up to ``max_interval``.

        Raises:
            WaitTimeoutError: not reached within ``timeout`` seconds (it carries
                ``last_seen``, the last server observed).
            NotFoundError: the server does not exist or disappeared.
        """
        check_id(server_id)
        wanted = _wanted(status)
        _check_wait_times(timeout, interval, max_interval)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pause = interval
        last: Server | None = None
        while True:
            last = await self.get(server_id)
            if last.status in wanted:
                return last
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeoutError(server_id, status, timeout, last)
            await asyncio.sleep(min(remaining, pause * (0.5 + random.random() / 2)))
            pause = min(pause * 1.5, max_interval)

    # ------------------------------------------------------------------ bulk

    async def get_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, Server]:
        """Get many servers, at most ``concurrency`` requests at a time.

        Returns:
            A :class:`~vpsorg.BulkResult` with one :class:`~vpsorg.Outcome` per id, in
            input order. A failing id never raises and never hides another's result.
        """
        return await run_bulk(self.get, server_ids, concurrency=concurrency, progress=progress)

    async def create_many(
        self,
        specs: Iterable[SpecLike],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[SpecLike, Server]:
        """Create many servers; each spec is a :class:`~vpsorg.ServerSpec` or a mapping.

        Creates are never retried after they may have reached the API, so none is ever
        made twice; an item whose outcome is unknown holds an
        :class:`~vpsorg.OutcomeUnknownError`.
        """
        return await run_bulk(
            self._create_from_spec, specs, concurrency=concurrency, progress=progress
        )

    async def delete_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, None]:
        """Delete many servers permanently; one outcome per id, in input order."""
        return await run_bulk(self.delete, server_ids, concurrency=concurrency, progress=progress)

    async def start_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, ActionResult]:
        """Start many servers; one outcome per id, in input order."""
        return await run_bulk(self.start, server_ids, concurrency=concurrency, progress=progress)

    async def stop_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, ActionResult]:
        """Stop many servers; one outcome per id, in input order."""
        return await run_bulk(self.stop, server_ids, concurrency=concurrency, progress=progress)

    async def reboot_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, ActionResult]:
        """Reboot many servers; one outcome per id, in input order."""
        return await run_bulk(self.reboot, server_ids, concurrency=concurrency, progress=progress)

    async def wait_for_many(
        self,
        server_ids: Iterable[int],
        status: str | Sequence[str] = "active",
        *,
        timeout: float = 600.0,
        interval: float = _WAIT_FIRST_INTERVAL,
        max_interval: float = _WAIT_MAX_INTERVAL,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, Server]:
        """Wait until every server has the given status; one outcome per id.

        Each round is one sweep of paged list calls, not one GET per server, so waiting
        on a thousand servers costs a few requests a round. A server missing from a sweep
        is checked with a GET (``concurrency`` at a time): if it is gone, its outcome is a
        :class:`~vpsorg.NotFoundError` at once. Servers still not there at ``timeout``
        get a :class:`~vpsorg.WaitTimeoutError` carrying the last server seen.
        """
        wanted = _wanted(status)
        _check_wait_times(timeout, interval, max_interval)
        check_concurrency(concurrency)
        ids = list(server_ids)
        sweeper = _Sweeper(self, ids, wanted, status, timeout, concurrency, progress)
        return await sweeper.run(interval, max_interval)

    # ------------------------------------------------------------------ helpers

    def _url(self, server_id: int) -> str:
        return self._pipeline.url(f"servers/{check_id(server_id)}/")

    async def _action(self, server_id: int, action: str) -> ActionResult:
        url = f"{self._url(server_id)}{action}/"
        return await self._send("POST", url, ActionResult)

    async def _send(self, method: str, url: str, cls: type[T], *, json: object = None) -> T:
        response = await self._pipeline.request(method, url, json=json)
        return decode_model(response, cls, method, url)

    async def _create_from_spec(self, spec: SpecLike) -> Server:
        if isinstance(spec, ServerSpec):
            fields = {name: getattr(spec, name) for name in _SPEC_FIELDS}
        elif isinstance(spec, Mapping):
            unknown = set(spec) - set(_SPEC_FIELDS)
            if unknown:
                raise InvalidInputError("spec", f"unknown fields {sorted(map(str, unknown))}")
            fields = dict(spec)
        else:
            raise InvalidInputError("spec", "must be a vpsorg.ServerSpec or a mapping")
        missing = [f for f in _SPEC_FIELDS[:4] if f not in fields]
        if missing:
            raise InvalidInputError("spec", f"missing required fields {missing}")
        return await self.create(**fields)


def _create_body(
    *,
    name: object,
    plan_id: object,
    os_id: object,
    location: object,
    hostname: object,
    ssh_key_id: object,
    backups_enabled: object,
) -> dict[str, object]:
    body: dict[str, object] = {
        "name": check_name(name),
        "plan_id": check_positive_int(plan_id, "plan_id"),
        "os_id": check_positive_int(os_id, "os_id"),
        "location": check_optional_str(location, "location"),
    }
    if location is None:
        raise InvalidInputError("location", "is required")
    if hostname is not None:
        body["hostname"] = check_hostname(hostname)
    if ssh_key_id is not None:
        body["ssh_key_id"] = check_positive_int(ssh_key_id, "ssh_key_id")
    if backups_enabled is not None:
        body["backups_enabled"] = check_bool(backups_enabled, "backups_enabled")
    return body


def _wanted(status: object) -> frozenset[str]:
    if isinstance(status, str):
        values = [status]
    elif isinstance(status, Sequence) and status and all(isinstance(s, str) for s in status):
        values = list(status)
    else:
        raise InvalidInputError("status", "must be a status string or a list of them")
    if not all(values):
        raise InvalidInputError("status", "must not be empty")
    return frozenset(str(v) for v in values)


def _check_wait_times(timeout: object, interval: object, max_interval: object) -> None:
    for name, value in (
        ("timeout", timeout),
        ("interval", interval),
        ("max_interval", max_interval),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise InvalidInputError(name, f"must be a positive number of seconds, got {value!r}")


class _Sweeper:
    """The state of one ``wait_for_many`` call: which ids are still pending."""

    def __init__(
        self,
        servers: AsyncServers,
        ids: list[int],
        wanted: frozenset[str],
        status: str | Sequence[str],
        timeout: float,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.servers = servers
        self.ids = ids
        self.wanted = wanted
        self.status = status
        self.timeout = timeout
        self.concurrency = concurrency
        self.progress = progress
        self.done: dict[int, Server | BaseException] = {}
        self.last: dict[int, Server] = {}
        self.counts = [0, 0]  # succeeded, failed

    async def run(self, interval: float, max_interval: float) -> BulkResult[int, Server]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        pending: set[int] = set()
        for server_id in self.ids:
            try:
                pending.add(check_id(server_id))
            except InvalidInputError as exc:
                self._finish(server_id, exc)
        pause = interval
        while pending:
            try:
                await self._sweep(pending)
            except VPSOrgError as exc:
                if not isinstance(exc, NotFoundError):
                    for server_id in pending:
                        self._finish(server_id, exc)
                    break
            pending = {i for i in pending if i not in self.done}
            remaining = deadline - loop.time()
            if not pending:
                break
            if remaining <= 0:
                for server_id in pending:
                    error = WaitTimeoutError(
                        server_id, self.status, self.timeout, self.last.get(server_id)
                    )
                    self._finish(server_id, error)
                break
            await asyncio.sleep(min(remaining, pause * (0.5 + random.random() / 2)))
            pause = min(pause * 1.5, max_interval)
        return self._result()

    async def _sweep(self, pending: set[int]) -> None:
        seen: set[int] = set()
        listing = self.servers.list(page_size=_WAIT_SWEEP_PAGE_SIZE)
        async for server in listing:
            if server.id in pending:
                seen.add(server.id)
                self.last[server.id] = server
                if server.status in self.wanted:
                    self._finish(server.id, server)
        missing = sorted(pending - seen)
        if missing:
            checked = await run_bulk(self.servers.get, missing, concurrency=self.concurrency)
            for outcome in checked:
                if isinstance(outcome.error, NotFoundError):
                    self._finish(outcome.item, outcome.error)
                elif outcome.value is not None:
                    self.last[outcome.item] = outcome.value
                    if outcome.value.status in self.wanted:
                        self._finish(outcome.item, outcome.value)

    def _finish(self, server_id: int, result: Server | BaseException) -> None:
        if server_id in self.done:
            return
        self.done[server_id] = result
        self.counts[0 if isinstance(result, Server) else 1] += 1
        if self.progress is not None:
            report_progress(self.progress, self.counts, len(self.ids), _outcome(server_id, result))

    def _result(self) -> BulkResult[int, Server]:
        return BulkResult(tuple(_outcome(i, self.done[i]) for i in self.ids))


def _outcome(server_id: int, result: Server | BaseException) -> Outcome[int, Server]:
    if isinstance(result, BaseException):
        return Outcome(server_id, None, result)
    return Outcome(server_id, result)
