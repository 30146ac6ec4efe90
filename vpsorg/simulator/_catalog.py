"""The simulator's fixed catalogue: plans, operating systems, locations and sample servers.

Everything here is plain data. The first entries of each table are the ones the VPS.org
reference shows in its samples; the rest are documented extras in the package docstring.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "DEMO_TOKEN",
    "FIRST_NEW_ID",
    "LOCATIONS",
    "OPERATING_SYSTEMS",
    "PLANS",
    "SAMPLE_SERVERS",
    "ipv4_for",
    "ipv6_for",
    "resource_usage_for",
]

#: The bearer token the simulator accepts unless told otherwise.
DEMO_TOKEN: Final = "vpsorg-demo-token"

#: Plans by id: ``(name, vcpus, memory MB, storage GB, bandwidth GB)``.
PLANS: Final[dict[int, tuple[str, int, int, int, int]]] = {
    1: ("Standard VPS", 2, 4096, 80, 2048),
    2: ("Performance VPS", 4, 8192, 160, 4096),
    3: ("Starter VPS", 1, 2048, 40, 1024),
    4: ("High Memory VPS", 8, 32768, 320, 8192),
}

#: Operating systems by id.
OPERATING_SYSTEMS: Final[dict[int, str]] = {
    3: "Debian 12",
    5: "Ubuntu 22.04 LTS",
    6: "Ubuntu 24.04 LTS",
    7: "Rocky Linux 9",
}

#: Data-center location codes.
LOCATIONS: Final[frozenset[str]] = frozenset({"us-west", "us-east", "eu-central", "ap-southeast"})

#: The id given to the first server created after start (or after a reset).
FIRST_NEW_ID: Final = 12347

#: The reference's two sample servers, as stored records (see ``_store.ServerRecord``).
SAMPLE_SERVERS: Final[tuple[dict[str, Any], ...]] = (
    {
        "id": 12345,
        "name": "web-server-01",
        "hostname": "web01.example.com",
        "location": "us-west",
        "plan_id": 1,
        "os_id": 5,
        "backups_enabled": True,
        "created_at": "2025-01-10T14:30:00Z",
        "updated_at": "2025-01-15T10:20:00Z",
    },
    {
        "id": 12346,
        "name": "db-server-01",
        "hostname": "db01.example.com",
        "location": "us-east",
        "plan_id": 2,
        "os_id": 3,
        "backups_enabled": False,
        "created_at": "2025-01-12T09:15:00Z",
        "updated_at": "2025-01-16T08:45:00Z",
    },
)

_SAMPLE_BASE_ID: Final = 12345


def ipv4_for(server_id: int) -> str:
    """The IPv4 address a server gets once active, derived from its id alone.

    The samples sit in TEST-NET-3 (12345 → 203.0.113.10); once that range is used up the
    addresses continue in 10.0.0.0/8.

    Examples:
        >>> ipv4_for(12345), ipv4_for(12346)
        ('203.0.113.10', '203.0.113.11')
    """
    n = server_id - _SAMPLE_BASE_ID + 10
    if 0 <= n < 255:
        return f"203.0.113.{n}"
    n &= 0xFFFFFF
    return f"10.{n >> 16}.{(n >> 8) & 0xFF}.{n & 0xFF}"


def ipv6_for(server_id: int) -> str:
    """The IPv6 address a server gets once active (12345 → ``2001:0db8::1``, as sampled).

    Examples:
        >>> ipv6_for(12345), ipv6_for(12347)
        ('2001:0db8::1', '2001:0db8::3')
    """
    n = (server_id - _SAMPLE_BASE_ID + 1) & 0xFFFF_FFFF
    return f"2001:0db8::{n >> 16:x}:{n & 0xFFFF:x}" if n > 0xFFFF else f"2001:0db8::{n:x}"


def resource_usage_for(server_id: int, plan_id: int, status: str) -> dict[str, Any]:
    """Deterministic resource usage for a server (the detail sample's values for 12345).

    A server that is not running uses no CPU or memory; one still provisioning uses nothing.
    """
    if server_id == _SAMPLE_BASE_ID:
        usage: dict[str, Any] = {
            "cpu_percent": 23.5,
            "memory_used": 2048,
            "disk_used": 35,
            "bandwidth_used": 450,
        }
    else:
        _, _, memory, storage, bandwidth = PLANS[plan_id]
        usage = {
            "cpu_percent": (server_id * 37 % 900) / 10,
            "memory_used": memory * (25 + server_id % 50) // 100,
            "disk_used": storage * (10 + server_id % 60) // 100,
            "bandwidth_used": bandwidth * (server_id % 40) // 100,
        }
    if status == "provisioning":
        return {"cpu_percent": 0.0, "memory_used": 0, "disk_used": 0, "bandwidth_used": 0}
    if status not in ("active", "rebooting"):
        usage["cpu_percent"] = 0.0
        usage["memory_used"] = 0
    return usage
