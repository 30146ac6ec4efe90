"""Fault injection decisions: random faults, scripted faults, rate limiting and counters.

This module decides *what* goes wrong with a request and counts it; it does no I/O.
``_app`` carries the decision out (sleeps, replaces the response, aborts the connection).

A random fault is drawn per request *identity*, not per arrival: the draw is a hash of
the seed, the request's method, path and query, the name of the server it addresses
(rather than its id, which depends on the order creates arrived in), its body, and how
many identical requests came before it (so a retry draws afresh). Concurrent requests
that arrive in another order therefore meet the same faults, and a seeded run that
sends the same requests sees the same faults and counts. Latency jitter is drawn from
one ``random.Random(seed)`` in arrival order: it moves timing, never outcomes.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import time
from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = ["COUNTER_NAMES", "FaultConfig", "FaultInjector", "FaultPlan", "ScriptedFault"]

#: The keys of ``Simulator.fault_counts``.
COUNTER_NAMES: Final = ("latency", "error_500", "error_503", "rate_limited", "dropped", "scripted")


def _fraction(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _non_negative(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


def _positive_or_none(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class FaultConfig:
    """Random faults the simulator injects; all off by default.

    Attributes:
        latency: extra seconds added to every response.
        latency_jitter: up to this many further seconds, drawn uniformly per request.
        error_rate_500: share of requests answered ``500`` with a JSON body.
        error_rate_503: share answered ``503`` with an HTML page, as a proxy would send.
        drop_rate: share whose connection is closed without any response.
        rate_limit: requests per second allowed per token (a token bucket); ``None`` is
            unlimited. Throttled requests get ``429`` with ``Retry-After``.
        rate_limit_burst: the bucket size, how many requests a token may send at once
            (``--burst``); defaults to ``ceil(rate_limit)``. Each token has its own bucket.
        after_action_ratio: share of injected 500s and drops that happen *after* the
            request took effect (state changed, then the response is lost), versus before.

    Examples:
        ```python
        faults = FaultConfig(error_rate_503=0.1, latency=0.05)
        print(faults.drop_rate)  # 0.0
        ```
    """

    latency: float = attrs.field(default=0.0, validator=_non_negative)
    latency_jitter: float = attrs.field(default=0.0, validator=_non_negative)
    error_rate_500: float = attrs.field(default=0.0, validator=_fraction)
    error_rate_503: float = attrs.field(default=0.0, validator=_fraction)
    drop_rate: float = attrs.field(default=0.0, validator=_fraction)
    rate_limit: float | None = attrs.field(default=None, validator=_positive_or_none)
    rate_limit_burst: int | None = attrs.field(default=None, validator=_positive_or_none)
    after_action_ratio: float = attrs.field(default=0.5, validator=_fraction)

    def __attrs_post_init__(self) -> None:
        if self.error_rate_500 + self.error_rate_503 + self.drop_rate > 1.0:
            raise ValueError("error_rate_500 + error_rate_503 + drop_rate must not exceed 1")


@attrs.define(kw_only=True)
class ScriptedFault:
    """One entry made by ``Simulator.script()``: answer the next matching requests so."""

    path: str
    method: str | None
    remaining: int
    status: int | None
    body: bytes | str | Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    drop: bool
    delay: float
    after_action: bool

    def __attrs_post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        if self.remaining < 1:
            raise ValueError(f"times must be at least 1, got {self.remaining!r}")
        if self.status is not None and not 200 <= self.status <= 599:
            raise ValueError(f"status must be a final HTTP status (200-599), got {self.status!r}")
        if self.drop and self.status is not None:
            raise ValueError("a scripted fault either drops the connection or sets a status")
        if self.delay < 0:
            raise ValueError(f"delay must not be negative, got {self.delay!r}")
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one this entry is for (``*`` at the end: a prefix)."""
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@attrs.frozen
class FaultPlan:
    """What happens to one request: ``kind`` is a counter name, or ``None`` (delay only)."""

    delay: float = 0.0
    kind: str | None = None
    after_action: bool = False
    retry_after: int = 0
    script: ScriptedFault | None = None


_NOTHING: Final = FaultPlan()
#: Identities remembered for their repeat counts; past this many, the counts start over.
_MAX_IDENTITIES: Final = 1_000_000


class FaultInjector:
    """Decides per request which fault, if any, applies, and counts every one."""

    def __init__(self, config: FaultConfig, seed: int | None) -> None:
        self._seed = seed
        # The key of every fault draw: from the seed, or fresh randomness without one.
        material = os.urandom(32) if seed is None else str(seed).encode()
        self._key = hashlib.sha256(material).digest()
        self.config: FaultConfig = config
        self.rng: random.Random = random.Random(seed)
        self.scripts: list[ScriptedFault] = []
        self.counts: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._seen: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self.active: bool = False
        self._refresh()

    @property
    def draws_faults(self) -> bool:
        """Whether random errors are on, so that `identity` matters."""
        return self._random_errors

    def identity(
        self, method: str, path_qs: str, server: tuple[int, str | None] | None, body: bytes
    ) -> str:
        """What a request's fault draw is keyed on (see the module docstring).

        ``server`` is the id the path addresses and that server's name (``None`` once it
        is gone: the name first seen for the id is remembered, so a retried delete keeps
        the identity of its first attempt).
        """
        if server is not None:
            server_id, name = server
            name = self._names.setdefault(server_id, name) if name else self._names.get(server_id)
            if name is not None:
                path_qs = path_qs.replace(f"/{server_id}/", f"/name={name}/", 1)
        digest = hashlib.blake2b(body, digest_size=8).hexdigest() if body else "-"
        return f"{method} {path_qs} {digest}"

    def _draw(self, identity: str) -> tuple[float, float]:
        """Two uniform numbers in [0, 1) for the next request with this identity."""
        if len(self._seen) >= _MAX_IDENTITIES:  # a long-running simulator: start over
            self._seen.clear()
        seen = self._seen.get(identity, 0)
        self._seen[identity] = seen + 1
        digest = hashlib.blake2b(
            f"{seen} {identity}".encode(), key=self._key, digest_size=16
        ).digest()
        return (
            int.from_bytes(digest[:8], "big") / 2**64,
            int.from_bytes(digest[8:], "big") / 2**64,
        )

    def _refresh(self) -> None:
        c = self.config
        self._random_errors = c.error_rate_500 + c.error_rate_503 + c.drop_rate > 0
        self._latency = c.latency > 0 or c.latency_jitter > 0
        self.active = bool(
            self.scripts or self._random_errors or self._latency or c.rate_limit is not None
        )

    def set_config(self, config: FaultConfig) -> None:
        """Replace the random-fault settings (the random sequence continues)."""
        self.config = config
        self._buckets.clear()
        self._refresh()

    def add_script(self, script: ScriptedFault) -> None:
        """Queue a scripted fault behind any earlier ones."""
        self.scripts.append(script)
        self._refresh()

    def reset(self) -> None:
        """Forget scripts, counters and rate-limit state; restart the seeded draws."""
        self.rng = random.Random(self._seed)
        self.scripts.clear()
        self.counts = dict.fromkeys(COUNTER_NAMES, 0)
        self._buckets.clear()
        self._seen.clear()
        self._names.clear()
        self._refresh()

    def plan(
        self, method: str, path: str, token: str, *, exempt: bool, identity: str | None = None
    ) -> FaultPlan:
        """Decide the fate of one request. ``exempt`` requests only meet scripted faults.

        ``identity`` (from `identity`) keys the random-error draw; without it, the
        method and path do.
        """
        config = self.config
        delay = 0.0
        if self._latency and not exempt:
            delay = config.latency
            if config.latency_jitter > 0:
                delay += self.rng.uniform(0.0, config.latency_jitter)
            self.counts["latency"] += 1
        for index, script in enumerate(self.scripts):
            if script.matches(method, path):
                script.remaining -= 1
                if script.remaining <= 0:
                    del self.scripts[index]
                    self._refresh()
                self.counts["scripted"] += 1
                return FaultPlan(delay + script.delay, "scripted", script.after_action, 0, script)
        if exempt:
            return _NOTHING
        if config.rate_limit is not None:
            retry_after = self._throttle(token, config.rate_limit, config.rate_limit_burst)
            if retry_after:
                self.counts["rate_limited"] += 1
                return FaultPlan(delay, "rate_limited", False, retry_after)
        if self._random_errors:
            roll, after_roll = self._draw(identity or f"{method} {path} -")
            after = after_roll < config.after_action_ratio
            kind = None
            if roll < config.error_rate_500:
                kind = "error_500"
            elif roll < config.error_rate_500 + config.error_rate_503:
                kind, after = "error_503", False
            elif roll < config.error_rate_500 + config.error_rate_503 + config.drop_rate:
                kind = "dropped"
            if kind is not None:
                self.counts[kind] += 1
                return FaultPlan(delay, kind, after)
        return FaultPlan(delay) if delay else _NOTHING

    def _throttle(self, token: str, rate: float, burst: int | None) -> int:
        """Take one token from this caller's bucket; return seconds to wait, 0 if allowed."""
        capacity = float(burst if burst is not None else max(1, math.ceil(rate)))
        now = time.monotonic()
        state = self._buckets.get(token)
        tokens = capacity if state is None else min(capacity, state[0] + (now - state[1]) * rate)
        if tokens >= 1.0:
            self._buckets[token] = (tokens - 1.0, now)
            return 0
        self._buckets[token] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / rate))
