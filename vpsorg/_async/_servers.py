"""The servers resource: the nine endpoints of the API, waiting, and bulk operations.

This class is the single source of the servers API: ``vpsorg._sync`` is generated from
it, so every public method here gets a blocking twin with the same signature and
docstring. Keep public methods ``async def`` (or, like ``list``, plain methods returning
an async iterable) with fully annotated signatures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from .._converter import SharedParts
from .._exceptions import (
    AmbiguousCreateError,
    InvalidInputError,
    NotCreatedError,
    OutcomeUnknownError,
    UnreadableSuccessError,
    VPSOrgDeprecationWarning,
    VPSOrgError,
)
from .._journal import JournalAction, JournalLike, journal_run
from .._validation import (
    check_bool,
    check_callable,
    check_hostname,
    check_id,
    check_items,
    check_name,
    check_optional_str,
    check_pause_seconds,
    check_positive_int,
    check_seconds,
    check_status,
    check_statuses,
    warn_unknown_statuses,
)
from ..models import ActionResult, BulkResult, Server, ServerPage, ServerSpec, ServerStatus
from ._decoding import decode_model
from ._fleet import (
    DEFAULT_CONCURRENCY,
    MaxErrors,
    ProgressCallback,
    check_concurrency,
    error_allowance,
    run_bulk,
    within_budget,
)
from ._pagination import AsyncServerList
from ._raw import AsyncServersWithRawResponse
from ._rolling import Batches, run_rolling
from ._waiting import (
    FIRST_INTERVAL,
    MAX_INTERVAL,
    SWEEP_PAGE_SIZE,
    WaitProgressCallback,
    fail_statuses,
    wait_for_all,
    wait_for_one,
)

if TYPE_CHECKING:
    from ._pipeline import Pipeline
    from ._transport import Response

__all__ = ["AsyncServers"]

logger = logging.getLogger("vpsorg")

T = TypeVar("T")
U = TypeVar("U")

#: What ``create_many`` accepts for each server: a ServerSpec or a mapping of its fields.
SpecLike = ServerSpec | Mapping[str, Any]
#: The spec type of one ``create_many`` call, kept in its outcomes' ``item``.
SpecT = TypeVar("SpecT", bound=SpecLike)

#: The fields of a ServerSpec (the parameters of ``create``), and those without a default.
_SPEC_FIELDS = tuple(field.name for field in attrs.fields(ServerSpec))
_REQUIRED_SPEC_FIELDS = tuple(
    field.name for field in attrs.fields(ServerSpec) if field.default is attrs.NOTHING
)
_WAIT_FIRST_INTERVAL = FIRST_INTERVAL
_WAIT_MAX_INTERVAL = MAX_INTERVAL
#: Seconds ``find_created`` allows by default for the API's clock differing from ours.
_CLOCK_SKEW = 60.0
#: The longest pause between two listings while the settle window runs.
_SETTLE_POLL = 1.0
#: A bound on the listings of one settle (the window is finite; this bounds the loop).
_MAX_SETTLE_LISTINGS = 10_000

RollingAction = Literal["reboot", "start", "stop", "restart"]
"""What ``servers.rolling`` does to each server; ``"restart"`` is stop, wait, start."""

#: How each bulk action is journaled (``create`` is built per call: it settles creates).
_JOURNALED: dict[str, JournalAction[int, Any]] = {
    "get": JournalAction("get", Server, sends=False),
    "delete": JournalAction("delete", None, sends=False),
    "start": JournalAction("start", ActionResult, sends=True),
    "stop": JournalAction("stop", ActionResult, sends=True),
    "reboot": JournalAction("reboot", ActionResult, sends=True),
}


def _decode_server(response: Response, method: str, url: str) -> Server:
    return decode_model(response, Server, method, url)


def _decode_action_result(response: Response, method: str, url: str) -> ActionResult:
    return decode_model(response, ActionResult, method, url)


#: How ``_send`` decodes each model: a function made once, not a closure per call.
_MODEL_DECODERS: dict[type[Any], Callable[[Response, str, str], Any]] = {
    Server: _decode_server,
    ActionResult: _decode_action_result,
}


class AsyncServers:
    """Everything you can do with servers. Reach it as ``client.servers``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._pipeline.base_url!r})"

    @property
    def with_raw_response(self) -> AsyncServersWithRawResponse:
        """The endpoints again, each returning a [`RawResponse`][vpsorg.RawResponse].

        Examples:
            The status, headers, request id, attempts and elapsed time of the call, with
            the parsed model in ``parsed``:

            ```python
            raw = await client.servers.with_raw_response.get(12345)
            print(raw.status_code, raw.request_id, raw.retries_taken, raw.parsed.name)
            ```
        """
        return AsyncServersWithRawResponse(type(self)(self._pipeline.raw()))

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
            status: only servers with this status: a [`ServerStatus`][vpsorg.ServerStatus] or its
                string (e.g. ``"active"``). A status vpsorg does not know is sent as given,
                with one warning logged (the API may have added it; it may be a typo).
            location: only servers in this data center (e.g. ``"us-west"``).
            page_size: ask the API for pages of this size (it may ignore it).

        Returns:
            An [`AsyncServerList`][vpsorg.AsyncServerList]: ``async for`` over it, or
                ``await`` it for a list. Nothing is requested until you do.

        Examples:
            ```python
            async for server in client.servers.list(status="active"):
                print(server.name)
            ```
        """
        params: dict[str, str] = {}
        if status is not None:
            params["status"] = check_status(status)
            warn_unknown_statuses((params["status"],), "servers.list(status=...)")
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
        reconcile: bool = False,
    ) -> Server:
        """Create (deploy) a server.

        A create is never retried once the request may have reached the API, so it can
        never make two servers; if the outcome is unknown it raises
        [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError], carrying what was asked
        (``spec``) and when (``started_at``):
        [`find_created()`][vpsorg.AsyncServers.find_created] settles it. With
        ``reconcile=True`` this method settles it itself: it returns the server the create
        made, or raises [`NotCreatedError`][vpsorg.NotCreatedError] (none was made: creating
        again is safe; vpsorg does not resend) or
        [`AmbiguousCreateError`][vpsorg.AmbiguousCreateError] (several could be it).

        Args:
            name: letters, digits and hyphens.
            plan_id: the plan (size) id.
            os_id: the operating system id.
            location: the data-center code, e.g. ``"us-west"``.
            hostname: the FQDN; the API picks one when omitted.
            ssh_key_id: the id of an SSH key to install.
            backups_enabled: turn automatic backups on (the API's default is off).
            wait: also wait until the server is ``active`` and return it then.
            wait_timeout: seconds to wait when ``wait`` is true: a positive, finite
                number (checked before anything is sent, whatever ``wait`` is).
            reconcile: when the outcome is unknown, look for the server the create may
                have made (see [`find_created()`][vpsorg.AsyncServers.find_created] for the
                rules) instead of raising
                [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError]. If that look-up fails
                too, the ``OutcomeUnknownError`` is raised.

        Returns:
            The new server (``status`` ``"provisioning"``, or ``"active"`` with ``wait``).
                A server found by ``reconcile`` is returned as listed (the list view).

        Raises:
            InvalidInputError: a bad argument (``wait`` and ``wait_timeout`` included);
                nothing was sent.
            BadRequestError: the API rejected the parameters.
            PaymentRequiredError: not enough credits.
            OutcomeUnknownError: the create may or may not have happened: any answer but
                a success or one of the API's refusals, a dropped connection, a
                cancellation or close while the request was in flight (a cancellation
                propagates, carrying this error as ``outcome_unknown``).
            UnreadableSuccessError: the API made the server but its answer could not
                be read (an ``OutcomeUnknownError``, with ``server_id`` when readable).
            NotCreatedError: with ``reconcile``, no server appeared within the settle
                window (``RetryPolicy.settle_window``).
            AmbiguousCreateError: with ``reconcile``, several servers could be the one.

        With ``wait``, the server exists once the create succeeded, so whatever ends the
        wait early (a [`WaitTimeoutError`][vpsorg.WaitTimeoutError], a
        [`NotFoundError`][vpsorg.NotFoundError], a network error, cancellation, Ctrl-C in
        the blocking client) propagates as it is, carrying the new server in its
        ``created_server`` attribute: delete it, or wait for it again with
        [`wait_for()`][vpsorg.AsyncServers.wait_for]. See "Waiting for states" in the docs.
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
        check_seconds(wait_timeout, "wait_timeout")
        check_bool(reconcile, "reconcile")
        started_at = datetime.now(timezone.utc)
        try:
            server = await self._send(
                "POST", self._pipeline.url("servers/"), Server, json=body, creates=True
            )
        except OutcomeUnknownError as error:
            _of_create(error, _spec_of(body), started_at)
            if not reconcile:
                raise
            server = await self._settle(error)
        except VPSOrgDeprecationWarning as warning:  # warnings are errors: the server exists
            if isinstance(warning.result, Server):
                _attach_created_server(warning, warning.result)
            raise
        except BaseException as interrupt:  # cancelled, closed, Ctrl-C: the create may be made
            unknown = getattr(interrupt, "outcome_unknown", None)
            if isinstance(unknown, OutcomeUnknownError):
                _of_create(unknown, _spec_of(body), started_at)
            raise
        if not wait:
            return server
        try:
            return await self.wait_for(server.id, ServerStatus.ACTIVE, timeout=wait_timeout)
        except BaseException as exc:
            _attach_created_server(exc, server)
            raise

    async def get(self, server_id: int) -> Server:
        """Get one server's details (the detail view, with usage and IPv6).

        Raises:
            NotFoundError: there is no such server.
        """
        return await self._pipeline.fetch("GET", self._url(server_id), _decode_server)

    async def update(
        self, server_id: int, name: str, hostname: str, backups_enabled: bool
    ) -> Server:
        """Replace a server's settings (PUT): all three fields are required.

        Use [`patch()`][vpsorg.AsyncServers.patch] to change only some of them.
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
        fail_on: str | Sequence[str] | None = None,
        progress: WaitProgressCallback | None = None,
    ) -> Server:
        """Wait until a server has the given status (or one of several), and return it.

        The first check is immediate; then the pause grows by half each round, with
        jitter, up to ``max_interval``. ``timeout`` bounds the whole wait, the status
        checks included: one still running when the time is up is cancelled. The wait
        stops early when the server reaches a status from which the wanted one cannot
        come without another action (``fail_on``), e.g. ``suspended`` for ``active``.

        Args:
            server_id: the server to watch.
            status: a [`ServerStatus`][vpsorg.ServerStatus] or its string, or a list of them (the
                wait ends at the first). A status vpsorg does not know is waited for as
                given, with one warning logged (it may be a typo).
            timeout: seconds the whole wait may take (positive and finite).
            interval: seconds of the first pause between checks.
            max_interval: the longest pause between checks, in seconds.
            fail_on: the statuses that end the wait at once with
                [`UnreachableStatusError`][vpsorg.UnreachableStatusError]: a status or a
                list of them, ``[]`` for none. ``None`` (the default) takes the defaults of
                the status waited for: for ``active``, ``suspended``, ``stopping`` and
                ``stopped``; for ``stopped``, ``suspended``, ``provisioning``, ``starting``
                and ``rebooting``; for the other known statuses but ``suspended``,
                ``suspended``; for several statuses, those all of them fail on.
            progress: called after each status check with a
                [`WaitProgress`][vpsorg.WaitProgress] (the server as seen, the checks made, the
                seconds elapsed); an exception it raises is logged, not propagated.

        Raises:
            InvalidInputError: a bad argument; nothing was sent.
            WaitTimeoutError: not reached within ``timeout`` seconds (it carries
                ``last_seen``, the last server observed).
            UnreachableStatusError: the server reached a status of ``fail_on`` (it
                carries ``last_seen``).
            NotFoundError: the server does not exist or disappeared.
        """
        check_id(server_id)
        wanted = check_statuses(status)
        timeout, interval, max_interval = _wait_times(timeout, interval, max_interval)
        failing = fail_statuses(wanted, fail_on)
        check_callable(progress, "progress")
        warn_unknown_statuses(wanted, "servers.wait_for")
        return await wait_for_one(
            self.get,
            server_id,
            wanted,
            within=timeout,
            interval=interval,
            max_interval=max_interval,
            fail_on=failing,
            progress=progress,
        )

    # ------------------------------------------------------------------ settling creates

    async def find_created(
        self,
        error: OutcomeUnknownError,
        *,
        clock_skew: float = _CLOCK_SKEW,
        settle_window: float | None = None,
    ) -> Server | None:
        """Find the server a create whose outcome is unknown may have made.

        The API has no idempotency key, but a server's name, location, plan, operating
        system and creation time identify it. This lists the servers of the create's
        location and keeps those whose ``name``, ``plan.id``, ``os.id`` (and
        ``hostname``, if the create gave one) are the create's and whose ``created_at``
        lies in the window from ``error.started_at - clock_skew`` (just before the first
        attempt was sent; rounded down to the whole second) to now ``+ clock_skew``. When
        nothing matches, it lists again (at least once more, so a server moved across a
        page boundary by a concurrent delete is not missed, and then about once a
        second) until the settle window has passed since the outcome became unknown:
        an API may still be storing a create it accepted. An error that read the new
        server's id (an `UnreadableSuccessError`) is settled by getting
        that server.

        Args:
            error: the [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError] a ``create``
                raised (or held in a ``create_many`` outcome); it carries ``spec`` and
                ``started_at``.
            clock_skew: seconds by which the API's clock may differ from this
                machine's (non-negative, finite; 60 by default).
            settle_window: seconds from when the outcome became unknown before "no
                server" may be answered (non-negative, finite); ``None`` takes the
                client's ``RetryPolicy.settle_window`` (10 by default).

        Returns:
            The one matching server (as listed), or ``None`` when none was listed up to
                the end of the settle window: the create did not happen, and creating
                again is safe.

        Raises:
            InvalidInputError: ``error`` is not an ``OutcomeUnknownError`` from a create,
                or ``clock_skew`` is bad; nothing was sent.
            AmbiguousCreateError: several servers match; they are in its
                ``candidates``.
            NotFoundError: ``error`` named the new server's id (``server_id``), and
                that server no longer exists.

        Examples:
            ```python
            try:
                server = await client.servers.create("web-1", 1, 5, "us-west")
            except vpsorg.OutcomeUnknownError as error:
                server = await client.servers.find_created(error)
            ```
        """
        found, _, _ = await self._find(error, clock_skew, settle_window)
        return found

    async def _find(
        self, error: OutcomeUnknownError, clock_skew: float, settle_window: float | None
    ) -> tuple[Server | None, int, float]:
        """``find_created``, also saying how many listings it made and until when."""
        spec, started_at = _create_attempt(error)
        skew = _check_skew(clock_skew)
        window = (
            self._pipeline.policy.settle_window
            if settle_window is None
            else check_pause_seconds(settle_window, "settle_window")
        )
        if error.server_id is not None:
            return await self.get(error.server_id), 0, 0.0
        since = error.unknown_since or started_at.timestamp()
        matches: tuple[Server, ...] = ()
        listings = 0
        waited = 0.0
        for listings in range(1, _MAX_SETTLE_LISTINGS + 1):
            matches = await self._matching(spec, started_at, skew)
            waited = time.time() - since
            if matches or (listings >= 2 and waited >= window):
                break
            await asyncio.sleep(min(max(window - waited, 0.0), _SETTLE_POLL))
        if len(matches) > 1:
            raise AmbiguousCreateError(error, matches) from error
        return (matches[0] if matches else None), listings, waited

    # ------------------------------------------------------------------ bulk

    async def get_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
        max_errors: MaxErrors = None,
        journal: JournalLike | None = None,
    ) -> BulkResult[int, Server]:
        """Get many servers, at most ``concurrency`` requests at a time.

        Args:
            server_ids: the servers to get.
            concurrency: how many requests run at once.
            progress: called with a [`BulkProgress`][vpsorg.BulkProgress] after each
                item.
            max_errors: the error budget: a count (``3``), a fraction of the items
                (``0.1``) or a percentage (``"10%"``). Once more items than that have
                failed, no new item starts; each item not started holds a
                [`NotStartedError`][vpsorg.NotStartedError] and ``stop_reason`` is
                ``"max_errors"``. ``None`` (the default): no budget.
            journal: a path or a [`Journal`][vpsorg.Journal] recording each item's
                state, so a rerun with it returns what was done (see "Fleet roll-outs").

        Returns:
            A [`BulkResult`][vpsorg.BulkResult] with one [`Outcome`][vpsorg.Outcome] per
                id, in input order. A failing id never raises and never hides another's
                result.

        Raises:
            InvalidInputError: a bad argument; nothing was sent.
            JournalError: the journal was written by another call.
        """
        items = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        return await self._run_bulk(
            self.get,
            items,
            _JOURNALED["get"],
            concurrency,
            progress,
            max_errors,
            journal,
            keep=SharedParts(),  # the servers kept share their equal plans, images, places
        )

    async def create_many(
        self,
        specs: Iterable[SpecT],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
        reconcile: bool = False,
        max_errors: MaxErrors = None,
        journal: JournalLike | None = None,
    ) -> BulkResult[SpecT, Server]:
        """Create many servers; each spec is a [`ServerSpec`][vpsorg.ServerSpec] or a mapping.

        Creates are never retried after they may have reached the API, so none is ever
        made twice; an item whose outcome is unknown holds an
        [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError]. With ``reconcile=True`` each
        such item is settled as ``create(..., reconcile=True)`` settles it: it holds the
        server the create made, or a [`NotCreatedError`][vpsorg.NotCreatedError] (safe to
        create again) or an [`AmbiguousCreateError`][vpsorg.AmbiguousCreateError].

        With a ``journal``, each create is recorded as ``sent`` (with its spec and the
        time) before it is sent, and its answer once known. Rerun the same call with the
        same journal after a crash or a kill: the servers already made are returned as
        recorded, a create sent without a recorded answer is settled with
        [`find_created`][vpsorg.AsyncServers.find_created] (never sent again unless that
        proves it made nothing), and only the creates that surely did not happen are
        sent.

        If the call is cancelled or interrupted (Ctrl-C in the blocking client), the
        exception carries the partial result in ``partial_result`` (see
        [`vpsorg.partial_result`][vpsorg.partial_result]): a create in flight holds an
        ``OutcomeUnknownError`` with ``spec`` and ``started_at``, for ``find_created``.

        Args:
            specs: the servers to create.
            concurrency: how many creates run at once.
            progress: called with a [`BulkProgress`][vpsorg.BulkProgress] after each
                item.
            reconcile: settle each create of unknown outcome (see above).
            max_errors: the error budget, as for
                [`get_many`][vpsorg.AsyncServers.get_many].
            journal: a path or a [`Journal`][vpsorg.Journal] (see above).

        Returns:
            A [`BulkResult`][vpsorg.BulkResult]: one outcome per spec, in input order.

        Raises:
            InvalidInputError: a bad argument; nothing was sent.
            JournalError: the journal was written by another call.
        """
        items = _bulk_items(specs, "specs", concurrency, progress, max_errors)
        check_bool(reconcile, "reconcile")
        create = self._create_from_spec if not reconcile else self._create_reconciled
        started_at = datetime.now(timezone.utc)

        def in_flight(spec: SpecT) -> Exception:
            error = OutcomeUnknownError(
                "create_many was interrupted while this create was in flight: it may or "
                "may not have made a server; servers.find_created(error) settles it"
            )
            return _of_create(error, ServerSpec(**_spec_fields(spec)), started_at)

        async def settle(spec: SpecT, sent_at: datetime, window: float | None) -> Server | None:
            error = OutcomeUnknownError(
                "a previous run sent this create (its journal has no answer for it) and "
                "settling it failed: it may or may not have made a server; it is not sent "
                "again, servers.find_created(error) settles it"
            )
            _of_create(error, ServerSpec(**_spec_fields(spec)), sent_at)
            try:
                # The server, or why it cannot be known.
                return await self._settle(error, settle_window=window)
            except NotCreatedError:
                return None  # surely not made: the journal sends it again

        action: JournalAction[SpecT, Server] = JournalAction(
            "create", Server, sends=True, describe=_spec_record, settle=settle
        )
        return await self._run_bulk(
            create, items, action, concurrency, progress, max_errors, journal, in_flight
        )

    async def delete_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
        max_errors: MaxErrors = None,
        journal: JournalLike | None = None,
    ) -> BulkResult[int, None]:
        """Delete many servers permanently; one outcome per id, in input order.

        ``max_errors`` and ``journal`` are as for
        [`get_many`][vpsorg.AsyncServers.get_many].
        """
        items = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        return await self._run_bulk(
            self.delete, items, _JOURNALED["delete"], concurrency, progress, max_errors, journal
        )

    async def start_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
        max_errors: MaxErrors = None,
        journal: JournalLike | None = None,
    ) -> BulkResult[int, ActionResult]:
        """Start many servers; one outcome per id, in input order.

        ``max_errors`` and ``journal`` are as for
        [`get_many`][vpsorg.AsyncServers.get_many]; with a journal, a start sent without
        a recorded answer is not sent again by a rerun (its outcome is an
        [`OutcomeUnknownError`][vpsorg.OutcomeUnknownError]: look at the server's
        status).
        """
        items = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        return await self._run_bulk(
            self.start, items, _JOURNALED["start"], concurrency, progress, max_errors, journal
        )

    async def stop_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
        max_errors: MaxErrors = None,
        journal: JournalLike | None = None,
    ) -> BulkResult[int, ActionResult]:
        """Stop many servers; one outcome per id, in input order.

        ``max_errors`` and ``journal`` are as for
        [`start_many`][vpsorg.AsyncServers.start_many].
        """
        items = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        return await self._run_bulk(
            self.stop, items, _JOURNALED["stop"], concurrency, progress, max_errors, journal
        )

    async def reboot_many(
        self,
        server_ids: Iterable[int],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
        max_errors: MaxErrors = None,
        journal: JournalLike | None = None,
    ) -> BulkResult[int, ActionResult]:
        """Reboot many servers; one outcome per id, in input order.

        ``max_errors`` and ``journal`` are as for
        [`start_many`][vpsorg.AsyncServers.start_many]. For a reboot in batches, each
        waited healthy before the next, see [`rolling`][vpsorg.AsyncServers.rolling].
        """
        items = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        return await self._run_bulk(
            self.reboot, items, _JOURNALED["reboot"], concurrency, progress, max_errors, journal
        )

    async def rolling(
        self,
        action: RollingAction,
        server_ids: Iterable[int],
        *,
        batches: Batches = 1,
        status: str | Sequence[str] | None = None,
        fail_on: str | Sequence[str] | None = None,
        timeout: float = 600.0,
        pause: float = 0.0,
        max_errors: MaxErrors = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> BulkResult[int, Server]:
        """Reboot, start, stop or restart servers batch by batch, each waited healthy.

        The servers are cut into batches (``batches``, as Ansible's ``serial``). Each
        batch is acted on (as [`reboot_many`][vpsorg.AsyncServers.reboot_many] does),
        then the servers whose action was accepted are waited for until they have
        ``status`` (as [`wait_for_many`][vpsorg.AsyncServers.wait_for_many] does, with
        its ``fail_on`` rules); after ``pause`` seconds the next batch starts. The error
        budget counts the failures of every batch so far, action or wait: the batch in
        which it is exceeded finishes and no later batch starts (their servers hold a
        [`NotStartedError`][vpsorg.NotStartedError], and ``stop_reason`` is
        ``"max_errors"``).

        Args:
            action: ``"reboot"``, ``"start"``, ``"stop"``, or ``"restart"`` (stop, wait
                until stopped, then start).
            server_ids: the servers, in the order they are rolled.
            batches: one batch size or a list of sizes, the last repeating: a count
                (``5``), a fraction (``0.25``) or a percentage (``"25%"``) of the
                servers, e.g. ``[1, 5, "25%"]``. One server at a time by default.
            status: the status a server must reach to be healthy: ``"stopped"`` for
                ``stop``, else ``"active"``.
            fail_on: as [`wait_for`][vpsorg.AsyncServers.wait_for]'s: the statuses that
                fail a server's wait at once.
            timeout: seconds each batch's wait may take (per step, for ``restart``).
            pause: seconds between batches.
            max_errors: the error budget, across batches (as for
                [`get_many`][vpsorg.AsyncServers.get_many]).
            concurrency: how many requests run at once within a batch.
            progress: called with a [`BulkProgress`][vpsorg.BulkProgress] (with
                ``batch`` and ``batches``) as each server's outcome is known.

        Returns:
            A [`BulkResult`][vpsorg.BulkResult]: for each server, the server as seen
                healthy, or the error of its action or wait, or a ``NotStartedError``.

        Raises:
            InvalidInputError: a bad argument; nothing was sent.

        Examples:
            ```python
            result = await client.servers.rolling(
                "reboot", ids, batches=[1, "25%"], max_errors=1
            )
            print(result.stopped_early)
            ```
        """
        if action not in ("reboot", "start", "stop", "restart"):
            raise InvalidInputError(
                "action", f"must be 'reboot', 'start', 'stop' or 'restart', got {action!r}"
            )
        target = status if status is not None else ("stopped" if action == "stop" else "active")
        wanted = check_statuses(target)
        timeout = check_seconds(timeout, "timeout")
        fail_statuses(wanted, fail_on)
        items = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        one = self._power_cycle(timeout) if action == "restart" else getattr(self, action)

        async def act(
            batch: list[int], *, max_errors: int, progress: ProgressCallback
        ) -> BulkResult[int, Any]:
            return await run_bulk(
                one, batch, concurrency=concurrency, progress=progress, max_errors=max_errors
            )

        async def check(batch: list[int], *, progress: ProgressCallback) -> BulkResult[int, Server]:
            return await self.wait_for_many(
                batch,
                target,
                timeout=timeout,
                fail_on=fail_on,
                concurrency=concurrency,
                progress=progress,
            )

        return await run_rolling(
            act,
            check,
            items,
            batches=batches,
            pause=pause,
            max_errors=max_errors,
            progress=progress,
        )

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
        fail_on: str | Sequence[str] | None = None,
        max_errors: MaxErrors = None,
    ) -> BulkResult[int, Server]:
        """Wait until every server has the given status; one outcome per id.

        Each round checks every pending server once by whichever costs fewer requests:
        one GET per server (``concurrency`` at a time) or a sweep of paged list calls, so
        waiting on a thousand servers costs a few requests a round, and on five servers
        of a 50,000-server account five (docs/waiting.md has the rule). A server missing
        from a sweep is checked with a GET: if it is gone, its outcome is a
        [`NotFoundError`][vpsorg.NotFoundError] at once. Servers still not there at
        ``timeout`` get a [`WaitTimeoutError`][vpsorg.WaitTimeoutError] carrying the last
        server seen: ``timeout`` bounds the whole call, the requests of a sweep included.

        ``status`` and ``fail_on`` take what [`wait_for`][vpsorg.AsyncServers.wait_for]'s
        do (a status vpsorg does not know logs one warning): a server seen in a
        ``fail_on`` status gets an [`UnreachableStatusError`][vpsorg.UnreachableStatusError]
        at once. ``progress`` is called with a [`BulkProgress`][vpsorg.BulkProgress] as
        each server finishes. Every argument is checked before the first request; an id
        that is not a positive integer becomes that item's
        [`InvalidInputError`][vpsorg.InvalidInputError].

        With ``max_errors`` (as for [`get_many`][vpsorg.AsyncServers.get_many]), the wait
        ends once more servers than that have failed; each server still waited for then
        holds a [`NotStartedError`][vpsorg.NotStartedError] (``"max_errors"``).
        """
        wanted = check_statuses(status)
        timeout, interval, max_interval = _wait_times(timeout, interval, max_interval)
        failing = fail_statuses(wanted, fail_on)
        ids = _bulk_items(server_ids, "server_ids", concurrency, progress, max_errors)
        warn_unknown_statuses(wanted, "servers.wait_for_many")

        async def wait(progress: ProgressCallback | None) -> BulkResult[int, Server]:
            return await wait_for_all(
                self.get,
                self._sweep_pages,
                ids,
                wanted,
                within=timeout,
                interval=interval,
                max_interval=max_interval,
                concurrency=concurrency,
                progress=progress,
                fail_on=failing,
            )

        if max_errors is None:
            return await wait(progress)
        return await within_budget(wait, ids, max_errors, progress)

    # ------------------------------------------------------------------ helpers

    async def _run_bulk(
        self,
        fn: Callable[[T], Awaitable[U]],
        items: Sequence[T],
        action: JournalAction[T, U],
        concurrency: int,
        progress: ProgressCallback | None,
        max_errors: MaxErrors,
        journal: JournalLike | None,
        in_flight_error: Callable[[T], Exception] | None = None,
        keep: Callable[[U], U] | None = None,
    ) -> BulkResult[T, U]:
        """One bulk call over ``items``, through its journal when one is given."""
        with journal_run(journal, action, items) as run:
            return await run_bulk(
                fn,
                items,
                concurrency=concurrency,
                progress=progress,
                max_errors=max_errors,
                journal=run,
                in_flight_error=in_flight_error,
                keep=keep,
            )

    def _power_cycle(self, timeout: float) -> Callable[[int], Awaitable[ActionResult]]:
        """Stop a server, wait until it is stopped, start it: one item of a restart."""

        async def restart(server_id: int) -> ActionResult:
            await self.stop(server_id)
            await self.wait_for(server_id, ServerStatus.STOPPED, timeout=timeout)
            return await self.start(server_id)

        return restart

    def _sweep_pages(self, status: str | None) -> AsyncIterator[ServerPage]:
        return self.list(status=status, page_size=SWEEP_PAGE_SIZE).pages()

    def _url(self, server_id: int) -> str:
        return self._pipeline.url(f"servers/{check_id(server_id)}/")

    async def _action(self, server_id: int, action: str) -> ActionResult:
        url = f"{self._url(server_id)}{action}/"
        return await self._send("POST", url, ActionResult)

    async def _send(
        self, method: str, url: str, cls: type[T], *, json: object = None, creates: bool = False
    ) -> T:
        decode: Callable[[Response, str, str], T] = _MODEL_DECODERS[cls]
        return await self._pipeline.fetch(method, url, decode, json=json, creates=creates)

    async def _settle(
        self, error: OutcomeUnknownError, *, settle_window: float | None = None
    ) -> Server:
        """The server an unknown-outcome create made, or the error that says why not."""
        try:
            found, listings, waited = await self._find(error, _CLOCK_SKEW, settle_window)
        except AmbiguousCreateError:
            raise
        except (VPSOrgError, VPSOrgDeprecationWarning) as lookup_error:
            logger.warning(
                "could not settle the create (%s); its outcome stays unknown", lookup_error
            )
            raise error from error.__cause__  # keep the original chain
        if found is None and isinstance(error, UnreadableSuccessError):
            # The API said it made the server: not listing it proves nothing.
            logger.warning("the server the create made is not listed yet; it stays unknown")
            raise error from error.__cause__
        if found is None:
            raise NotCreatedError(error, listings=listings, waited=waited) from error
        logger.info("settled a create of unknown outcome: it made server %s", found.id)
        return found

    async def _matching(
        self, spec: ServerSpec, started_at: datetime, skew: timedelta
    ) -> tuple[Server, ...]:
        earliest = (started_at - skew).replace(microsecond=0)  # API times may be whole seconds
        latest = datetime.now(timezone.utc) + skew
        found = [
            server
            async for server in self.list(location=spec.location, page_size=SWEEP_PAGE_SIZE)
            if server.name == spec.name
            and server.location == spec.location
            and server.plan.id == spec.plan_id
            and server.os.id == spec.os_id
            and (spec.hostname is None or server.hostname == spec.hostname)
            and earliest <= server.created_at <= latest
        ]
        return tuple(sorted(found, key=lambda server: (server.created_at, server.id)))

    async def _create_reconciled(self, spec: SpecLike) -> Server:
        return await self._create_from_spec(spec, reconcile=True)

    async def _create_from_spec(self, spec: SpecLike, *, reconcile: bool = False) -> Server:
        return await self.create(**_spec_fields(spec), reconcile=reconcile)


def _spec_fields(spec: object) -> dict[str, Any]:
    """The fields of a ``create_many`` spec (a ServerSpec or a mapping), checked."""
    if isinstance(spec, ServerSpec):
        fields = {name: getattr(spec, name) for name in _SPEC_FIELDS}
    elif isinstance(spec, Mapping):
        unknown = set(spec) - set(_SPEC_FIELDS)
        if unknown:
            raise InvalidInputError("spec", f"unknown fields {sorted(map(str, unknown))}")
        fields = dict(spec)
    else:
        raise InvalidInputError("spec", "must be a vpsorg.ServerSpec or a mapping")
    missing = [f for f in _REQUIRED_SPEC_FIELDS if f not in fields]
    if missing:
        raise InvalidInputError("spec", f"missing required fields {missing}")
    return fields


def _spec_record(spec: object) -> object:
    """A create's spec as its journal line keeps it (no secret: a spec holds none)."""
    try:
        return {k: v for k, v in _spec_fields(spec).items() if v is not None}
    except InvalidInputError:
        return repr(spec)


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


def _spec_of(body: Mapping[str, Any]) -> ServerSpec:
    """The ServerSpec of a checked create body."""
    return ServerSpec(**{name: body[name] for name in _SPEC_FIELDS if name in body})


def _of_create(
    error: OutcomeUnknownError, spec: ServerSpec, started_at: datetime
) -> OutcomeUnknownError:
    """Mark ``error`` as the unknown outcome of the create of ``spec`` sent at
    ``started_at``: what ``find_created`` needs to settle it."""
    error.spec = spec
    error.started_at = started_at
    return error


def _create_attempt(error: object) -> tuple[ServerSpec, datetime]:
    """The spec and start time of the create an OutcomeUnknownError came from."""
    if not isinstance(error, OutcomeUnknownError):
        raise InvalidInputError(
            "error", f"must be a vpsorg.OutcomeUnknownError, got {type(error).__name__}"
        )
    if error.spec is None or error.started_at is None:
        raise InvalidInputError(
            "error", "is not from servers.create or create_many: it carries no spec"
        )
    return error.spec, error.started_at


def _check_skew(clock_skew: object) -> timedelta:
    return timedelta(seconds=check_pause_seconds(clock_skew, "clock_skew"))


def _wait_times(
    timeout: object, interval: object, max_interval: object
) -> tuple[float, float, float]:
    return (
        check_seconds(timeout, "timeout"),
        check_seconds(interval, "interval"),
        check_seconds(max_interval, "max_interval"),
    )


def _bulk_items(
    items: Iterable[T], field: str, concurrency: object, progress: object, max_errors: object
) -> list[T]:
    """A bulk call's items as a list, after checking every argument of the call."""
    check_concurrency(concurrency)
    check_callable(progress, "progress")
    listed = check_items(items, field)
    error_allowance(max_errors, len(listed))
    return listed


def _attach_created_server(error: BaseException, server: Server) -> None:
    """Record on the error ending a ``create(..., wait=True)`` the server it created."""
    with contextlib.suppress(AttributeError, TypeError):  # an exception with __slots__
        error.created_server = server  # type: ignore[attr-defined]
