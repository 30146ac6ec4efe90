"""Client-side rate limits: the public `RateLimit` setting and the pacing arithmetic.

Everything here is pure: times are monotonic seconds handed in by the caller, and nothing
sleeps or performs I/O. The async limiter (``vpsorg/_async/_limiter.py``) does the
waiting; the Redis limiter keeps the same state in Redis.

- `TokenBucket` hands out send times (reservations): a request that finds the
  bucket empty is told how long to wait, and the next one is told to wait one interval
  more, so a crowd of waiters goes out evenly paced, never all at once.
- `AdaptiveRate` is the rate the bucket fills at when the limit is learned: cut
  multiplicatively when the API answers 429, then grown back along a cubic curve (CUBIC,
  as botocore's ``adaptive`` retry mode does). Before the first 429 it is not engaged at
  all, so a client that is never throttled pays one attribute test per request.
"""

from __future__ import annotations

import collections
import hashlib
import math
from collections.abc import Mapping
from typing import Literal, TypeAlias

import attrs

from ._exceptions import ConfigurationError

__all__ = [
    "ENV_RATE_LIMIT",
    "AdaptiveRate",
    "RateLimit",
    "RateLimitSetting",
    "TokenBucket",
    "coerce_rate_limit",
    "header_hint",
    "shared_key",
]

ENV_RATE_LIMIT = "VPSORG_RATE_LIMIT"
"""The environment variable a client reads when ``rate_limit=`` is not given: ``50``
(requests per second), ``50:10`` (and a burst of 10), ``adaptive`` or ``off``."""

#: The multiplicative decrease after a 429 (CUBIC's beta).
BETA = 0.7
#: CUBIC's scaling constant: how fast the rate grows back (requests/s per s cubed).
CUBIC_C = 0.4
#: The lowest rate a 429 can push the limit to, in requests per second.
MIN_RATE = 0.5
#: The rate a learned limit starts at when the first 429 tells nothing about the rate
#: (no successes measured, no rate-limit headers): it then doubles every second without
#: a 429, like TCP's slow start, until a 429 shows where the limit is.
PROBE_RATE = 10.0
#: The window over which successful requests are counted to measure the rate reached.
METER_WINDOW = 1.0
#: The furthest ahead (seconds) a send slot is handed out; a waiter beyond it is told to
#: ask again then, so a rate that grows meanwhile serves it sooner.
HORIZON = 0.25


@attrs.frozen
class RateLimit:
    """A client-side rate limit: requests per second with a burst, applied before sending.

    Pass one as ``rate_limit=`` to `vpsorg.AsyncClient` or `vpsorg.Client`. A plain
    number is ``RateLimit(per_second=number)``; ``"adaptive"`` is ``RateLimit()`` (the
    default when nothing is set); ``"off"`` turns client-side limiting off.

    With ``adaptive`` on (the default), a 429 from the API lowers the rate (to 70% of the
    rate that was reached) and the rate then grows back gradually; ``per_second`` is the
    ceiling it never exceeds. Without ``per_second``, nothing is limited until the first
    429. With ``adaptive=False`` the rate is fixed at ``per_second``.

    With ``redis_url``, every client on the same key (every process and machine using the
    same token, by default) shares one budget of requests per second and one 429 pause:
    a 429 seen by one pauses all. It needs the ``vpsorg[redis]`` extra. If Redis cannot
    be reached, the client warns once and limits locally instead; calls do not fail.

    Attributes:
        per_second: the most requests per second; ``None`` for no fixed ceiling (then
            ``adaptive`` must be on).
        burst: how many requests may go out at once before the pacing applies; defaults
            to 1 (evenly spaced), which leaves the API's own burst as headroom.
        adaptive: learn the API's rate from 429s, ``Retry-After`` and ``RateLimit-*`` /
            ``X-RateLimit-*`` headers (read when sent, never required).
        redis_url: share the limit through this Redis server, e.g.
            ``"redis://127.0.0.1:6379/0"``.
        key: the Redis key of the shared limit; by default derived from a hash of the
            token and the base URL (the token is never stored in clear).

    Examples:
        ```python
        import vpsorg

        fixed = vpsorg.RateLimit(per_second=50, burst=10, adaptive=False)
        learned = vpsorg.RateLimit(per_second=50)  # at most 50/s, less after a 429
        print(fixed.per_second, learned.adaptive)  # 50 True
        ```
    """

    per_second: float | None = None
    burst: int | None = None
    adaptive: bool = True
    redis_url: str | None = None
    key: str | None = None

    def __attrs_post_init__(self) -> None:
        rate = self.per_second
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not math.isfinite(rate)
            or rate <= 0
        ):
            raise ConfigurationError("RateLimit.per_second must be a positive number or None")
        burst = self.burst
        if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int)):
            raise ConfigurationError("RateLimit.burst must be an int or None")
        if burst is not None and burst < 1:
            raise ConfigurationError("RateLimit.burst must be at least 1")
        if not isinstance(self.adaptive, bool):
            raise ConfigurationError("RateLimit.adaptive must be a bool")
        if rate is None and not self.adaptive:
            raise ConfigurationError(
                "RateLimit needs per_second, or adaptive=True to learn the rate from 429s"
            )
        if self.redis_url is not None and (
            not isinstance(self.redis_url, str) or "://" not in self.redis_url
        ):
            raise ConfigurationError(
                "RateLimit.redis_url must be a Redis URL such as redis://127.0.0.1:6379/0"
            )
        if self.key is not None and (not isinstance(self.key, str) or not self.key.strip()):
            raise ConfigurationError("RateLimit.key must be a non-empty string or None")

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """Read the spelling of ``$VPSORG_RATE_LIMIT`` and the CLI's ``--rate-limit``.

        Args:
            text: ``"50"`` (requests per second), ``"50:10"`` (per second and burst),
                ``"adaptive"``, or ``"off"``.

        Returns:
            The rate limit, or ``None`` for ``"off"``.

        Raises:
            ConfigurationError: the text is none of these.

        Examples:
            ```python
            import vpsorg

            limit = vpsorg.RateLimit.parse("50:10")
            print(limit.per_second, limit.burst)  # 50.0 10
            print(vpsorg.RateLimit.parse("off"))  # None
            ```
        """
        return parse_rate_limit(text, "")

    @property
    def capacity(self) -> int:
        """The bucket size in force: ``burst``, or 1 when it is not set."""
        return self.burst if self.burst is not None else 1

    def __repr__(self) -> str:
        # The Redis URL may carry a password: show only that one is set.
        redis = "" if self.redis_url is None else ", redis_url='<set>'"
        key = "" if self.key is None else f", key={self.key!r}"
        return (
            f"RateLimit(per_second={self.per_second!r}, burst={self.burst!r}, "
            f"adaptive={self.adaptive!r}{redis}{key})"
        )


RateLimitSetting: TypeAlias = RateLimit | float | Literal["adaptive", "off"] | None
"""What ``rate_limit=`` accepts: a `RateLimit`, a number of requests per second,
``"adaptive"`` (the default), ``"off"``, or ``None`` (take ``$VPSORG_RATE_LIMIT``, else
``"adaptive"``)."""


def parse_rate_limit(text: str, source: str) -> RateLimit | None:
    """Read ``"50"``, ``"50:10"`` (per second, burst), ``"adaptive"`` or ``"off"``.

    ``source`` names where the text came from, for the error message (``""``: nowhere).
    """
    value = text.strip().lower()
    if value == "adaptive":
        return RateLimit()
    if value in ("off", "none", "0"):
        return None
    rate, sep, burst = value.partition(":")
    try:
        per_second = float(rate)
        burst_count = int(burst) if sep else None
    except ValueError:
        where = f"{source}={text!r}" if source else repr(text)
        raise ConfigurationError(
            f"{where} is not a rate limit: use a number of requests per second "
            "('50'), per second and burst ('50:10'), 'adaptive' or 'off'"
        ) from None
    return RateLimit(per_second=per_second, burst=burst_count)


def coerce_rate_limit(value: object, environ: Mapping[str, str]) -> RateLimit | None:
    """The `RateLimit` for ``rate_limit=`` (then ``$VPSORG_RATE_LIMIT``), or None."""
    if value is None:
        text = environ.get(ENV_RATE_LIMIT)
        if text is None or not text.strip():
            return RateLimit()
        return parse_rate_limit(text, ENV_RATE_LIMIT)
    if isinstance(value, RateLimit):
        return value
    if isinstance(value, str):
        return parse_rate_limit(value, "rate_limit")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            "rate_limit must be a vpsorg.RateLimit, a number of requests per second, "
            f"'adaptive' or 'off', not {type(value).__name__}"
        )
    return RateLimit(per_second=float(value))


def shared_key(token: str, base_url: str) -> str:
    """The default Redis key of a shared limit: a hash of the token and the API root."""
    digest = hashlib.sha256(f"{base_url}\0{token}".encode()).hexdigest()[:32]
    return f"vpsorg:ratelimit:{digest}"


def header_hint(headers: Mapping[str, str]) -> float | None:
    """The rate in requests per second the API's rate-limit headers state, if any.

    Reads ``RateLimit-Policy``/``X-RateLimit-Policy`` (``"50;w=1"``: 50 per 1 second)
    and, failing that, ``RateLimit-Limit``/``X-RateLimit-Limit`` together with a window
    in ``RateLimit-Policy``-less form (``"50, 50;w=1"``). Absent or unreadable headers
    give ``None``: they are read when sent, never required.
    """
    for name in ("RateLimit-Policy", "X-RateLimit-Policy", "RateLimit-Limit", "X-RateLimit-Limit"):
        raw = headers.get(name)
        if not raw:
            continue
        for item in raw.split(","):
            quota, _, params = item.strip().partition(";")
            window = 1.0 if not params else None
            for param in params.split(";"):
                key, _, number = param.strip().partition("=")
                if key.strip().lower() == "w":
                    window = _positive(number)
            count = _positive(quota)
            if count is not None and window is not None:
                return count / window
    return None


def _positive(text: str) -> float | None:
    try:
        value = float(text.strip().strip('"'))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


class TokenBucket:
    """A token bucket that hands out send times (a reservation per request).

    ``tokens`` may go below zero: each reservation beyond the burst is told to wait one
    more interval (``1 / rate``), so waiters leave evenly spaced. Slots are handed out
    at most ``HORIZON`` ahead, so a rate raised meanwhile applies to those still asking.
    A small ``capacity`` (the burst) bounds what accumulates during a pause, so the
    requests held back by a 429 leave one interval apart once it ends.
    """

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        #: Tokens added per second.
        self.rate: float = rate
        #: The most tokens the bucket holds (the burst).
        self.capacity: int = capacity
        #: Tokens in the bucket at ``stamp``; negative when reservations are queued.
        self.tokens: float = float(capacity)
        #: When ``tokens`` was last brought up to date (may be in the future: a pause).
        self.stamp: float = now

    def reserve(self, now: float) -> tuple[float, bool]:
        """Take a send slot if it is within ``HORIZON``; return ``(wait, granted)``.

        Granted: send after ``wait`` seconds (0: now). Not granted: nothing was taken;
        ask again after ``wait`` seconds.
        """
        if now > self.stamp:
            refilled = self.tokens + (now - self.stamp) * self.rate
            self.tokens = refilled if refilled < self.capacity else float(self.capacity)
            self.stamp = now
        tokens = self.tokens - 1.0
        wait = self.stamp - now
        if tokens < 0:
            wait += -tokens / self.rate
        if wait > HORIZON:
            return HORIZON, False
        self.tokens = tokens
        return (wait if wait > 0 else 0.0), True

    def set_rate(self, rate: float, now: float) -> None:
        """Fill at ``rate`` from now on (the tokens gained so far are kept)."""
        if now > self.stamp:
            self.tokens = min(float(self.capacity), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        self.rate = rate


class AdaptiveRate:
    """The learned sending rate: cut by 429s, grown back along a cubic curve.

    ``rate`` is ``None`` until the first 429 (nothing is limited). A 429 sets the rate to
    ``BETA`` times the rate reached (the successes of the last second, or a rate the
    headers state), never above ``ceiling``; a 429 when nothing succeeded in the last
    second cuts nothing more (the pause, not the rate, is holding requests back).
    Between 429s the rate follows CUBIC: ``C * (t - K) ** 3 + w_max`` with
    ``K = cbrt(w_max * (1 - BETA) / C)``, so it comes back to the old maximum in ``K``
    seconds and probes beyond it slowly.
    A 429 to a request sent before the last cut is ignored: it was sent at the old rate.
    """

    __slots__ = ("ceiling", "changed", "k", "rate", "successes", "w_max")

    def __init__(self, ceiling: float | None) -> None:
        #: The most requests per second (the user's ``per_second``), or None.
        self.ceiling: float | None = ceiling
        #: The current rate, or None before the first 429 (and then no limit).
        self.rate: float | None = None
        #: The rate at the last 429 (CUBIC's W_max); None while probing.
        self.w_max: float | None = None
        #: CUBIC's K: seconds from the last cut back to ``w_max``.
        self.k: float = 0.0
        #: When the rate was last cut (monotonic seconds).
        self.changed: float = -math.inf
        #: Send times of recent successes, to measure the rate reached.
        self.successes: collections.deque[float] = collections.deque()

    def measured(self, now: float) -> float | None:
        """Successes per second over the last ``METER_WINDOW`` seconds (None: none)."""
        successes = self.successes
        horizon = now - METER_WINDOW
        while successes and successes[0] < horizon:
            successes.popleft()
        return len(successes) / METER_WINDOW if successes else None

    def on_throttle(self, now: float, sent: float, hint: float | None = None) -> float | None:
        """A 429 to a request sent at ``sent``: cut the rate; return it (None: ignored)."""
        if sent < self.changed:
            return None
        reached = hint if hint is not None else self.measured(now)
        if reached is None:
            if self.rate is not None:
                # Nothing succeeded in the last second: the rate is not what the API is
                # refusing (the pause holds every request back); no new cut.
                return None
            # The first 429, and nothing is known: probe upwards (see PROBE_RATE).
            self.w_max = None
            rate = PROBE_RATE
        else:
            if self.rate is not None and hint is None:
                reached = min(reached, self.rate)
            self.w_max = reached
            self.k = (reached * (1.0 - BETA) / CUBIC_C) ** (1.0 / 3.0)
            rate = max(MIN_RATE, reached * BETA)
        ceiling = self.ceiling
        self.rate = rate if ceiling is None or rate < ceiling else ceiling
        self.changed = now
        return self.rate

    def on_success(self, now: float) -> float | None:
        """A success: count it (for the next cut) and return the rate in force."""
        self.successes.append(now)
        if len(self.successes) > 4096:  # bounded whatever the rate
            self.successes.popleft()
        return self.at(now)

    def at(self, now: float) -> float | None:
        """The rate in force at ``now``: it grows with the time since the last cut.

        It grows by the clock, not only with successes, so that during a run of 429s
        (nothing succeeds, each one a pause) each pause lets out a few more requests
        than the last, instead of one request per pause for as long as it lasts.
        """
        if self.rate is None:
            return None
        elapsed = now - self.changed
        w_max = self.w_max
        if w_max is None:
            rate = PROBE_RATE * 2.0 ** min(elapsed, 30.0)
        else:
            rate = CUBIC_C * (elapsed - self.k) ** 3 + w_max
            rate = rate if rate > MIN_RATE else MIN_RATE
        ceiling = self.ceiling
        self.rate = rate if ceiling is None or rate < ceiling else ceiling
        return self.rate
