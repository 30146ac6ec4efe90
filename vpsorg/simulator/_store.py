"""In-memory server records and their lazily evaluated state machine.

There are no per-server timers. A transition (``provisioning → active``,
``stopping → stopped``, ...) is recorded with the moment it is due and pushed onto one
heap; `ServerStore.settle()` pops every due transition before each request is
served, so reads and writes always see the current status, nothing ever needs
cancelling, and idle servers cost nothing however many there are.

All methods run on the simulator's event loop thread; the store holds no locks.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from vpsorg.simulator._catalog import FIRST_NEW_ID, SAMPLE_SERVERS, ipv4_for, ipv6_for

__all__ = [
    "SEEDABLE_STATUSES",
    "ActionRefused",
    "InsufficientCredits",
    "ServerRecord",
    "ServerStore",
    "format_timestamp",
]

# action name -> (states it may start from, transient status, final status, message,
#                 refusal message)
ACTIONS: dict[str, tuple[frozenset[str], str, str, str, str]] = {
    "start": (
        frozenset({"stopped"}),
        "starting",
        "active",
        "Server is starting",
        "Server is already running.",
    ),
    "stop": (
        frozenset({"active"}),
        "stopping",
        "stopped",
        "Server is stopping",
        "Server is not running.",
    ),
    "reboot": (
        frozenset({"active"}),
        "rebooting",
        "active",
        "Server is rebooting",
        "Server is not running.",
    ),
}


#: The statuses :meth:`ServerStore.add_many` can seed: those no transition leaves.
SEEDABLE_STATUSES: frozenset[str] = frozenset({"active", "stopped", "suspended"})


def _now_us() -> int:
    return time.time_ns() // 1000


def format_timestamp(epoch_us: int) -> str:
    """Render microseconds since the epoch as ISO 8601 UTC with a ``Z``, as DRF does.

    Examples:
        >>> format_timestamp(1_736_519_400_000_000)
        '2025-01-10T14:30:00Z'
        >>> format_timestamp(1_736_519_400_000_001)
        '2025-01-10T14:30:00.000001Z'
    """
    seconds, micros = divmod(epoch_us, 1_000_000)
    text = _format_second(seconds)
    return f"{text}.{micros:06d}Z" if micros else f"{text}Z"


@functools.lru_cache(maxsize=4096)
def _format_second(seconds: int) -> str:
    # strftime is the slowest step of rendering a server; timestamps share seconds a lot.
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_timestamp(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000


class InsufficientCredits(Exception):
    """Raised by `ServerStore.create()` when the account has no credits left."""


class ActionRefused(Exception):
    """Raised by `ServerStore.act()` when the server's status forbids the action."""


class ServerRecord:
    """One server's stored state plus its cached JSON renderings (see ``_views``)."""

    __slots__ = (
        "backups_enabled",
        "created_us",
        "detail_json",
        "hostname",
        "id",
        "list_json",
        "location",
        "name",
        "os_id",
        "pending",
        "plan_id",
        "provisioned",
        "status",
        "updated_us",
    )

    def __init__(
        self,
        *,
        id: int,
        name: str,
        hostname: str,
        location: str,
        plan_id: int,
        os_id: int,
        backups_enabled: bool,
        status: str,
        created_us: int,
        updated_us: int,
        provisioned: bool,
    ) -> None:
        self.id: int = id
        self.name: str = name
        self.hostname: str = hostname
        self.location: str = location
        self.plan_id: int = plan_id
        self.os_id: int = os_id
        self.backups_enabled: bool = backups_enabled
        self.status: str = status
        self.created_us: int = created_us
        self.updated_us: int = updated_us
        self.provisioned: bool = provisioned
        # (due monotonic seconds, final status, due wall-clock µs) while transitioning.
        self.pending: tuple[float, str, int] | None = None
        self.list_json: bytes | None = None
        self.detail_json: bytes | None = None

    @property
    def ip_address(self) -> str | None:
        """The IPv4 address, or ``None`` until provisioning has finished."""
        return ipv4_for(self.id) if self.provisioned else None

    @property
    def ipv6_address(self) -> str | None:
        """The IPv6 address, or ``None`` until provisioning has finished."""
        return ipv6_for(self.id) if self.provisioned else None

    def touch(self, at_us: int) -> None:
        """Record a change: bump ``updated_at`` (strictly increasing) and drop the caches."""
        self.updated_us = max(at_us, self.updated_us + 1)
        self.list_json = None
        self.detail_json = None


class ServerStore:
    """Every server of the simulated account, the credit balance and pending transitions."""

    def __init__(self, *, provision_delay: float, action_delay: float, credits: int | None) -> None:
        self.provision_delay = provision_delay
        self.action_delay = action_delay
        self._initial_credits = credits
        self.credits = credits
        self.servers: dict[int, ServerRecord] = {}
        self._next_id = FIRST_NEW_ID
        self._due: list[tuple[float, int, ServerRecord, tuple[float, str, int]]] = []
        self._sequence = itertools.count()
        self.reset()

    def reset(self) -> None:
        """Return to the reference's two sample servers and the initial credit balance."""
        self.servers.clear()
        self._due.clear()
        self._next_id = FIRST_NEW_ID
        self.credits = self._initial_credits
        for sample in SAMPLE_SERVERS:
            fields = dict(sample)
            created = _parse_timestamp(fields.pop("created_at"))
            updated = _parse_timestamp(fields.pop("updated_at"))
            record = ServerRecord(
                **fields, status="active", created_us=created, updated_us=updated, provisioned=True
            )
            self.servers[record.id] = record

    # -- the lazy state machine -------------------------------------------------------

    def _schedule(self, record: ServerRecord, final_status: str, delay: float) -> None:
        due = time.monotonic() + delay
        pending = (due, final_status, _now_us() + int(delay * 1_000_000))
        record.pending = pending
        heapq.heappush(self._due, (due, next(self._sequence), record, pending))

    def settle(self) -> None:
        """Apply every transition that is due by now. Cheap when none is."""
        due = self._due
        if not due or due[0][0] > time.monotonic():
            return
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, record, pending = heapq.heappop(due)
            # A deleted or suspended server, or one whose transition was replaced,
            # no longer carries this exact pending tuple.
            if record.pending is not pending or self.servers.get(record.id) is not record:
                continue
            record.pending = None
            record.status = pending[1]
            record.provisioned = True
            record.touch(pending[2])

    # -- operations --------------------------------------------------------------------

    def get(self, server_id: int) -> ServerRecord | None:
        """The server with this id, or ``None``."""
        return self.servers.get(server_id)

    def filtered(self, status: str | None, location: str | None) -> Iterable[ServerRecord]:
        """Servers in id order, keeping only those matching the given filters."""
        records: Iterable[ServerRecord] = self.servers.values()
        if status is not None:
            records = [r for r in records if r.status == status]
        if location is not None:
            records = [r for r in records if r.location == location]
        return records

    def create(self, fields: dict[str, Any]) -> ServerRecord:
        """Create a server in ``provisioning`` from validated fields; costs one credit."""
        if self.credits is not None:
            if self.credits <= 0:
                raise InsufficientCredits
            self.credits -= 1
        now = _now_us()
        server_id = self._next_id
        self._next_id += 1
        record = ServerRecord(
            id=server_id,
            name=fields["name"],
            hostname=fields.get("hostname") or fields["name"],
            location=fields["location"],
            plan_id=fields["plan_id"],
            os_id=fields["os_id"],
            backups_enabled=fields.get("backups_enabled", False),
            status="provisioning",
            created_us=now,
            updated_us=now,
            provisioned=False,
        )
        self.servers[server_id] = record
        self._schedule(record, "active", self.provision_delay)
        return record

    def add_many(
        self,
        count: int,
        *,
        status: str,
        location: str,
        plan_id: int,
        os_id: int,
        name_prefix: str,
    ) -> range:
        """Add ``count`` provisioned servers in a settled ``status`` at once, for tests
        and benchmarks that need a large account; no credits are spent. Returns their ids.

        Each is named ``f"{name_prefix}-{n}"`` (``n`` from 1) and created now.
        """
        if status not in SEEDABLE_STATUSES:
            raise ValueError(f"status must be one of {sorted(SEEDABLE_STATUSES)}, got {status!r}")
        if count < 0:
            raise ValueError(f"count must not be negative, got {count!r}")
        now = _now_us()
        first = self._next_id
        self._next_id += count
        servers = self.servers
        for number, server_id in enumerate(range(first, first + count), start=1):
            name = f"{name_prefix}-{number}"
            servers[server_id] = ServerRecord(
                id=server_id,
                name=name,
                hostname=name,
                location=location,
                plan_id=plan_id,
                os_id=os_id,
                backups_enabled=False,
                status=status,
                created_us=now,
                updated_us=now,
                provisioned=True,
            )
        return range(first, first + count)

    def update(self, record: ServerRecord, changes: dict[str, Any]) -> None:
        """Apply validated PUT/PATCH changes; every save bumps ``updated_at``."""
        for key, value in changes.items():
            setattr(record, key, value)
        record.touch(_now_us())

    def delete(self, server_id: int) -> bool:
        """Remove a server for good; ``False`` if there was none."""
        return self.servers.pop(server_id, None) is not None

    def act(self, record: ServerRecord, action: str) -> str:
        """Begin ``start``/``stop``/``reboot``; return the message, or raise ActionRefused."""
        allowed_from, transient, final, message, refusal = ACTIONS[action]
        if record.status not in allowed_from:
            raise ActionRefused(refusal)
        record.status = transient
        record.touch(_now_us())
        self._schedule(record, final, self.action_delay)
        return message

    def suspend(self, server_id: int) -> bool:
        """Set a server ``suspended`` (as the provider would), dropping any transition."""
        record = self.servers.get(server_id)
        if record is None:
            return False
        record.pending = None
        record.status = "suspended"
        record.touch(_now_us())
        return True

    def __iter__(self) -> Iterator[ServerRecord]:
        return iter(self.servers.values())
