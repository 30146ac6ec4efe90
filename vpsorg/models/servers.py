"""Servers and what comes with them, as the VPS.org API describes them.

Annotations are evaluated at runtime (no ``from __future__ import annotations``) so the
private converter can read them without resolving strings.

What the API sends is a `Model`: a frozen msgspec Struct that
attrs' functions understand (``attrs.fields``, ``attrs.asdict``, ``attrs.evolve``); see
that module for why. What you send, [`ServerSpec`][vpsorg.ServerSpec], is a frozen attrs class.

Two rules hold on every way of building one (decoding, the detailed converter, or a
user's own call), so each gives the same object: a known status string becomes its
[`ServerStatus`][vpsorg.ServerStatus] member, and a naive timestamp is taken as UTC. The
decoder reads a status as a ``ServerStatus`` and requires a timestamp's offset, in C with
no Python code per model; the converter decodes what that refuses (a status vpsorg does
not know, kept as a plain ``str``; a naive time) with lenient twins and applies the
rules; a call applies them through the models' metaclass (see ``._base``).
"""

import enum
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated

import attrs
import msgspec

from ._base import Model, Rule

if TYPE_CHECKING:
    from typing import TypeAlias

    # Type checkers see attrs classes, so attrs' mypy plugin accepts the models in
    # ``attrs.evolve`` and the like; at runtime each stays a Struct (see ._base).
    from attrs import frozen as attrs_compatible
else:
    from ._base import attrs_compatible

__all__ = [
    "ActionResult",
    "OperatingSystem",
    "Plan",
    "ResourceUsage",
    "Server",
    "ServerPage",
    "ServerRef",
    "ServerSpec",
    "ServerStatus",
]


class ServerStatus(str, enum.Enum):
    """The server statuses vpsorg knows.

    It is a ``str`` enum, so ``server.status == "active"`` holds. The API may add values
    at any time: a status vpsorg does not know is kept as a plain ``str`` and never raises,
    so compare with strings or these members, and keep a default branch.
    """

    PROVISIONING = "provisioning"
    ACTIVE = "active"
    STARTING = "starting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    REBOOTING = "rebooting"
    SUSPENDED = "suspended"

    def __str__(self) -> str:
        return self.value

    def __format__(self, format_spec: str) -> str:
        return self.value.__format__(format_spec)


_STATUS_BY_VALUE: "dict[str, ServerStatus]" = {s.value: s for s in ServerStatus}

# The rules of a call (see ._base): the decoder takes only what they would produce.
_status_member = _STATUS_BY_VALUE.get
_UTC = timezone.utc


def _member_if_known(value: object) -> object:
    try:
        return _status_member(value, value)  # type: ignore[call-overload]
    except TypeError:
        return value  # unhashable, so not a str: kept as given, as attrs itself would


def _utc_if_naive(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value


if TYPE_CHECKING:
    #: A status as returned by the API: a known `ServerStatus` or any other string.
    StatusValue: TypeAlias = ServerStatus | str
    #: A timezone-aware time.
    AwareDatetime: TypeAlias = datetime
else:
    # At runtime the decoder reads a known status straight into its member and requires
    # an offset on a timestamp, in C (msgspec refuses a union of a str enum and str). The
    # converter decodes what they refuse (a new status, a naive time) with a lenient twin
    # whose fields are the rules' ``accepts`` types, then applies the rules.
    StatusValue = Annotated[ServerStatus, Rule(str, _member_if_known)]
    AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True), Rule(datetime, _utc_if_naive)]


@attrs_compatible
class Plan(Model, gc=False):
    """A VPS plan: the size of a server.

    Attributes:
        id: the plan id (``plan_id`` when creating).
        name: e.g. ``"Standard VPS"``.
        vcpus: virtual CPUs.
        memory: memory in MB.
        storage: disk in GB.
        bandwidth: monthly transfer in GB; only in the detail view, else ``None``.
    """

    id: int
    name: str
    vcpus: int
    memory: int
    storage: int
    bandwidth: int | None = None


@attrs_compatible
class OperatingSystem(Model, gc=False):
    """An operating system image, e.g. ``OperatingSystem(id=5, name="Ubuntu 22.04 LTS")``."""

    id: int
    name: str


@attrs_compatible
class ResourceUsage(Model, gc=False):
    """Current resource use of a server (detail view only).

    Attributes:
        cpu_percent: CPU use in percent.
        memory_used: memory in MB.
        disk_used: disk in GB.
        bandwidth_used: transfer this month in GB.
    """

    cpu_percent: float
    memory_used: int
    disk_used: int
    bandwidth_used: int


@attrs_compatible
class Server(Model, gc=False):
    """A virtual private server.

    The list view carries a subset of the detail view: fields only the detail view has
    (``ipv6_address``, ``backups_enabled``, ``resource_usage``, ``plan.bandwidth``) are
    ``None`` on servers that came from [`servers.list()`][vpsorg.AsyncServers.list].
    Fields the API adds later are ignored.

    Attributes:
        id: the unique server id.
        name: letters, digits and hyphens.
        status: a [`ServerStatus`][vpsorg.ServerStatus], or a plain ``str`` for a value
            vpsorg does not know.
        hostname: the server's FQDN.
        ip_address: the public IPv4 address; ``None`` while provisioning.
        location: the data-center code, e.g. ``"us-west"``.
        plan: the [`Plan`][vpsorg.Plan].
        os: the [`OperatingSystem`][vpsorg.OperatingSystem].
        created_at: timezone-aware creation time.
        updated_at: timezone-aware time of the last change.
        ipv6_address: the public IPv6 address (detail view).
        backups_enabled: whether automatic backups are on (detail and create views).
        resource_usage: current [`ResourceUsage`][vpsorg.ResourceUsage] (detail view).
        message: the API's note in a create response, e.g. how long provisioning takes.
    """

    id: int
    name: str
    status: StatusValue
    hostname: str | None
    ip_address: str | None
    location: str
    plan: Plan
    os: OperatingSystem
    created_at: AwareDatetime
    updated_at: AwareDatetime
    ipv6_address: str | None = None
    backups_enabled: bool | None = None
    resource_usage: ResourceUsage | None = None
    message: str | None = None


@attrs_compatible
class ServerRef(Model, gc=False):
    """The short form of a server inside an [`ActionResult`][vpsorg.ActionResult]: id, name
    and status."""

    id: int
    name: str
    status: StatusValue


@attrs_compatible
class ActionResult(Model, gc=False):
    """The answer to start, stop or reboot.

    Attributes:
        status: ``"success"`` when the command was accepted.
        message: e.g. ``"Server is starting"``.
        server: the server's id, name and new transitional status.
    """

    status: str
    message: str
    server: ServerRef


@attrs_compatible
class ServerPage(Model):
    """One page of a server list, as the API sent it.

    Attributes:
        count: the total number of matching servers, when the API says.
        next: the absolute URL of the next page, or ``None`` on the last page.
        previous: the absolute URL of the previous page, or ``None``.
        results: the servers on this page (list view).
    """

    count: int | None
    next: str | None
    previous: str | None
    results: "list[Server]"


@attrs.frozen(slots=True)
class ServerSpec:
    """What to create: the arguments of ``servers.create``, as one value for ``create_many``.

    ``create_many`` also accepts plain mappings with these keys.
    """

    name: str
    plan_id: int
    os_id: int
    location: str
    hostname: str | None = None
    ssh_key_id: int | None = None
    backups_enabled: bool | None = None
