"""How big each case is in the full, ``--quick`` and ``--smoke`` runs.

The quick run keeps every case, client and concurrency of the full run and only does
less work per measurement, so its ratios estimate the same things with more noise.
"""

from __future__ import annotations

import attrs

__all__ = ["PLANS", "Plan"]


@attrs.frozen
class Plan:
    """The sizes of one run."""

    name: str
    rounds: int
    #: GET calls per measurement in cases 1 and 3 ...
    calls: int
    #: ... and for the clients that manage under 2,000 calls/s (httpx, requests), whose
    #: rate settles within a few hundred calls; the full run uses the same number.
    slow_calls: int
    #: Full reads of the server list (4 pages of 50) per measurement in case 2; at least
    #: the concurrency, so every worker has a listing to do.
    listings: int
    concurrencies: tuple[int, ...]
    decode_iterations: int
    #: Case 5: items per bulk call, the shapes measured, and rounds (one process each).
    memory_sizes: tuple[int, ...]
    memory_shapes: tuple[str, ...]
    memory_rounds: int
    #: Case 6: GET calls and listings per workload in each subprocess.
    speedup_calls: int
    speedup_listings: int
    #: Seconds one measurement may take before the run is abandoned.
    timeout: float

    def listings_at(self, concurrency: int) -> int:
        return max(self.listings, concurrency)


_ALL_SHAPES = ("pool_keep", "tasks_keep", "pool_discard", "tasks_discard", "imap_stream")

PLANS = {
    "full": Plan(
        name="full",
        rounds=3,
        calls=20_000,
        slow_calls=20_000,
        listings=1_000,
        concurrencies=(10, 100, 1000),
        decode_iterations=100_000,
        memory_sizes=(1_000, 10_000, 100_000),
        memory_shapes=_ALL_SHAPES,
        memory_rounds=3,
        speedup_calls=20_000,
        speedup_listings=1_000,
        timeout=600.0,
    ),
    "quick": Plan(
        name="quick",
        rounds=3,
        calls=2_000,
        slow_calls=200,
        listings=150,
        concurrencies=(10, 100, 1000),
        decode_iterations=20_000,
        memory_sizes=(1_000, 10_000, 100_000),
        memory_shapes=("pool_keep", "tasks_keep", "pool_discard", "imap_stream"),
        memory_rounds=1,
        speedup_calls=2_000,
        speedup_listings=150,
        timeout=120.0,
    ),
    "smoke": Plan(
        name="smoke",
        rounds=1,
        calls=200,
        slow_calls=100,
        listings=10,
        concurrencies=(10, 100),
        decode_iterations=500,
        memory_sizes=(100, 1_000),
        memory_shapes=_ALL_SHAPES,
        memory_rounds=1,
        speedup_calls=200,
        speedup_listings=10,
        timeout=60.0,
    ),
}
