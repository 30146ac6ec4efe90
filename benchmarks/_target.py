"""Where the server under test is and what it holds (imports nothing heavy)."""

from __future__ import annotations

import attrs

import vpsorg

__all__ = ["MAX_CONNECTIONS", "Target", "WorkloadError", "warm_calls"]

#: The SDK's default pool size; every baseline gets the same number of connections.
MAX_CONNECTIONS = vpsorg.Limits().max_connections


def warm_calls(concurrency: int) -> int:
    """Calls that warm a client up before the timing: enough to open every connection."""
    return min(concurrency, MAX_CONNECTIONS)


class WorkloadError(RuntimeError):
    """A measured run did not do what it should (a failed call, a short count)."""


@attrs.frozen
class Target:
    """Where the server is and what it holds."""

    base_url: str
    token: str
    server_ids: tuple[int, ...]
    page_size: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def detail_url(self, server_id: int) -> str:
        return f"{self.base_url}servers/{server_id}/"

    @property
    def list_url(self) -> str:
        return f"{self.base_url}servers/?page_size={self.page_size}"

    def ids(self, calls: int) -> list[int]:
        """``calls`` ids cycling over every server, so every record is read."""
        ids = self.server_ids
        return [ids[i % len(ids)] for i in range(calls)]

    def sdk(self) -> vpsorg.AsyncClient:
        return vpsorg.AsyncClient(token=self.token, base_url=self.base_url)
