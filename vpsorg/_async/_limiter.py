"""The client-side rate limiter the request pipeline consults before each send (private).

One `Limiter` per client, shared by every ``with_options`` copy. It is built from
the client's `vpsorg.RateLimit` (see `vpsorg._ratelimit` for the arithmetic)
and does three things for the pipeline:

- `Limiter.reserve`: how long the next request must wait before it is sent;
- `Limiter.throttled`: a 429 came back (cut a learned rate, pause the bucket);
- `Limiter.succeeded`: a request succeeded (grow a learned rate back).

``active`` is the one attribute the pipeline's common case tests: an adaptive limiter
that has never met a 429 is inactive and costs nothing more. The shared limiter over
Redis (``vpsorg/_async/_redis_limiter.py``) has the same methods.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._ratelimit import PROBE_RATE, AdaptiveRate, RateLimit, TokenBucket, header_hint

__all__ = ["Limiter"]


class Limiter:
    """A rate limiter local to one client (private).

    Args:
        setting: the client's rate limit, or ``None`` for none at all.
    """

    __slots__ = ("active", "adaptive", "bucket", "setting")

    def __init__(self, setting: RateLimit | None) -> None:
        self.setting: RateLimit | None = setting
        ceiling = setting.per_second if setting is not None else None
        #: Whether requests go through `reserve` (a fixed rate, or one learned).
        self.active: bool = ceiling is not None
        #: The learned rate, when the limit is adaptive.
        self.adaptive: AdaptiveRate | None = (
            AdaptiveRate(ceiling) if setting is not None and setting.adaptive else None
        )
        capacity = setting.capacity if setting is not None else 1
        self.bucket: TokenBucket = TokenBucket(ceiling or PROBE_RATE, capacity, 0.0)

    async def reserve(self, now: float) -> tuple[float, bool]:
        """Take a send slot: ``(wait, granted)``, as `TokenBucket.reserve`."""
        adaptive = self.adaptive
        if adaptive is not None:
            rate = adaptive.at(now)
            if rate is not None:
                self.bucket.set_rate(rate, now)
        return self.bucket.reserve(now)

    async def throttled(
        self, now: float, sent: float, pause: float | None, headers: Mapping[str, str]
    ) -> None:
        """A 429 to a request sent at ``sent``; ``pause`` is its accepted ``Retry-After``.

        A local limiter leaves the pause to the pipeline's gate; the shared one also
        pauses every other process on its key.
        """
        adaptive = self.adaptive
        if adaptive is not None:
            rate = adaptive.on_throttle(now, sent, header_hint(headers))
            if rate is not None:
                if not self.active:
                    self.bucket = TokenBucket(rate, self.bucket.capacity, now)
                    self.active = True
                self.bucket.set_rate(rate, now)
        # The pause itself is the pipeline's gate: its waiters reserve slots only once
        # it opens, so they leave paced from then on.

    def succeeded(self, now: float) -> None:
        """A request succeeded: counted, to measure the rate reached at the next 429."""
        adaptive = self.adaptive
        if adaptive is not None:
            adaptive.on_success(now)

    async def aclose(self) -> None:
        """Release what the limiter holds (nothing, for a local one)."""
