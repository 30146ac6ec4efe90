"""A rate limit shared by many processes through Redis, and the choice of limiter (private).

Every client on one key (by default: one token on one API root) keeps one state in one
Redis hash: the token bucket, the learned rate, and the 429 pause. Each send takes its
slot with one atomic Lua script that reads Redis's own clock (``TIME``), so processes on
several machines agree on the time; a 429 seen by one process closes the pause for all.

Why a Lua script over redis-py rather than a rate-limiting library: ``limits`` (moving
and fixed windows over Redis) answers only "allowed or not" for a hit, so a waiter would
have to poll, and it has no notion of a shared pause or of a rate that changes;
``aiolimiter`` is in-process only; ``pyrate-limiter``'s Redis bucket keeps fixed rates
and has no pause either. The three need a second mechanism beside them for the 429
signal and the adaptive rate, which is most of the work; one script of thirty lines
does all of it atomically, and its arithmetic is the one of `vpsorg._ratelimit`.

If Redis cannot be reached, the limiter logs one warning and limits in this process
(a `vpsorg._async._limiter.Limiter`) until Redis answers again: a Redis outage
never fails a call.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .. import _runtime
from .._config import ClientConfig
from .._exceptions import ConfigurationError
from .._ratelimit import (
    BETA,
    CUBIC_C,
    HORIZON,
    METER_WINDOW,
    MIN_RATE,
    PROBE_RATE,
    RateLimit,
    header_hint,
    shared_key,
)
from ._limiter import Limiter

__all__ = ["SharedLimiter", "build_limiter"]

logger = logging.getLogger("vpsorg")

#: Seconds an outage is assumed to last before Redis is tried again.
RETRY_REDIS_AFTER = 5.0
#: Seconds a Redis command may take (connect included) before the local limiter is used.
REDIS_TIMEOUT = 0.5
#: Seconds the state outlives the last request (it then starts afresh).
STATE_TTL_MS = 600_000

# KEYS[1]: the hash. ARGV: op ("acquire" | "throttle"), ceiling (0: none), burst,
# adaptive (0/1), pause seconds (throttle), hint rate (throttle, 0: none), constants.
# Returns, as a string, the pause in force (throttle), or (acquire) the seconds to wait
# before sending, negated when no slot was taken (ask again after that long).
_SCRIPT = """
local key = KEYS[1]
local op, ceiling, burst, adaptive = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local beta, c, min_rate, probe, window = tonumber(ARGV[7]), tonumber(ARGV[8]),
  tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local horizon = tonumber(ARGV[13])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local s = redis.call('HMGET', key, 'tokens', 'stamp', 'w_max', 'k', 'changed', 'until',
  'wstart', 'wcount', 'wprev', 'cut')
local tokens, stamp = tonumber(s[1]), tonumber(s[2])
local w_max, k, changed = tonumber(s[3]), tonumber(s[4]) or 0, tonumber(s[5])
local untl = tonumber(s[6]) or 0
local wstart, wcount, wprev = tonumber(s[7]) or now, tonumber(s[8]) or 0, tonumber(s[9]) or 0
local cut = s[10] == '1'
if ceiling <= 0 then ceiling = nil end
local function current_rate()
  if not (adaptive and cut) then return ceiling end
  local elapsed, rate = now - changed, nil
  if w_max then
    rate = c * (elapsed - k) ^ 3 + w_max
    if rate < min_rate then rate = min_rate end
  else
    rate = probe * 2 ^ math.min(elapsed, 30)
  end
  if ceiling and rate > ceiling then rate = ceiling end
  return rate
end
if now - wstart >= window then
  if now - wstart < 2 * window then wprev = wcount else wprev = 0 end
  wstart, wcount = now, 0
end
local rate = current_rate()
local result
if op == 'acquire' then
  wcount = wcount + 1
  if not rate then
    result = math.max(0, untl - now)
  else
    if not tokens then tokens, stamp = burst, now end
    if now > stamp then
      tokens = math.min(burst, tokens + (now - stamp) * rate)
      stamp = now
    end
    local left = tokens - 1
    local wait = stamp - now
    if left < 0 then wait = wait - left / rate end
    if wait > horizon then
      result = -math.max(horizon, untl - now)
    else
      tokens = left
      result = math.max(0, wait)
    end
  end
else
  local pause, hint = tonumber(ARGV[5]), tonumber(ARGV[6])
  if adaptive and now >= math.max(untl, (changed or -1e18) + 0.5) then
    local reached = hint
    if hint <= 0 then
      reached = math.max(wprev, wcount) / window
      if reached <= 0 then reached = nil end
      if rate and reached and reached > rate then reached = rate end
    end
    if reached or not rate then
      if reached then
        w_max = reached
        k = (reached * (1 - beta) / c) ^ (1 / 3)
      else
        w_max = nil
      end
      changed, cut = now, true
      rate = current_rate()
      if not tokens then tokens, stamp = 1, now end
    end
  end
  if pause > 0 and now + pause > untl then untl = now + pause end
  if tokens and untl > stamp then stamp, tokens = untl, math.min(tokens, 1) end
  result = math.max(0, untl - now)
end
redis.call('HSET', key, 'until', untl, 'wstart', wstart, 'wcount', wcount, 'wprev', wprev,
  'cut', cut and '1' or '0', 'k', k)
if tokens then redis.call('HSET', key, 'tokens', tokens, 'stamp', stamp) end
if changed then redis.call('HSET', key, 'changed', changed) end
if w_max then redis.call('HSET', key, 'w_max', w_max) else redis.call('HDEL', key, 'w_max') end
redis.call('PEXPIRE', key, tonumber(ARGV[12]))
return tostring(result)
"""


def build_limiter(config: ClientConfig) -> Limiter:
    """The limiter a client with ``config`` uses: shared over Redis, or local."""
    setting = config.rate_limit
    if setting is None or setting.redis_url is None:
        return Limiter(setting)
    key = setting.key or shared_key(config.token.reveal(), config.base_url)
    return SharedLimiter(setting, key)


class SharedLimiter(Limiter):
    """A limiter whose state lives in Redis, shared by every client on its key (private).

    Args:
        setting: the rate limit; its ``redis_url`` names the server.
        key: the Redis key of the shared state.

    Raises:
        ConfigurationError: the ``vpsorg[redis]`` extra (redis-py) is not installed.
    """

    __slots__ = (
        "_arguments",
        "_down_until",
        "_pid",
        "_redis",
        "_script",
        "_warned",
        "fallback",
        "key",
        "url",
    )

    def __init__(self, setting: RateLimit, key: str) -> None:
        try:
            import redis.asyncio  # noqa: F401 - checked here, used when connecting
        except ImportError:  # pragma: no cover - the extra is installed in the tests
            raise ConfigurationError(
                "RateLimit(redis_url=...) needs redis-py: pip install 'vpsorg[redis]'"
            ) from None
        super().__init__(setting)
        #: Requests always go through reserve: the shared state decides.
        self.active = True
        #: The local limiter used while Redis is down; it learns from 429s meanwhile.
        self.fallback: Limiter = Limiter(setting)
        #: The Redis key of the shared state.
        self.key: str = key
        #: The Redis URL (never shown: it may hold a password).
        self.url: str = setting.redis_url or ""
        ceiling = setting.per_second or 0.0
        self._arguments: tuple[Any, ...] = (
            ceiling,
            setting.capacity,
            1 if setting.adaptive else 0,
        )
        self._redis: Any = None
        self._script: Any = None
        self._pid: int = _runtime.current_pid
        self._down_until: float = -math.inf
        self._warned: bool = False

    def _where(self) -> str:
        """The Redis server for messages: host and port only (never a password)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname or '?'}:{parts.port or 6379}"

    async def _run(self, now: float, op: str, *extra: float) -> float | None:
        """Run the script; None when Redis is down (then the local limiter decides)."""
        if self._pid != _runtime.current_pid:
            # A forked child: the parent's connections are not ours to use or close.
            self._pid = _runtime.current_pid
            inherited, self._redis, self._script = self._redis, None, None
            if inherited is not None:
                _runtime.set_aside(inherited)
        if now < self._down_until:
            return None
        try:
            if self._redis is None:
                import redis.asyncio as aioredis

                self._redis = aioredis.Redis.from_url(
                    self.url,
                    socket_timeout=REDIS_TIMEOUT,
                    socket_connect_timeout=REDIS_TIMEOUT,
                )
                self._script = self._redis.register_script(_SCRIPT)
            args = (op, *self._arguments, *extra, BETA, CUBIC_C, MIN_RATE, PROBE_RATE)
            result = await self._script(
                keys=[self.key], args=[*args, METER_WINDOW, STATE_TTL_MS, HORIZON]
            )
        except Exception as exc:  # any Redis or network failure: degrade, never fail
            self._down_until = now + RETRY_REDIS_AFTER
            if not self._warned:
                self._warned = True
                logger.warning(
                    "rate limit: the shared limit in Redis at %s is unreachable (%s); "
                    "limiting in this process only until it answers again",
                    self._where(),
                    type(exc).__name__,
                )
            return None
        if self._warned:
            self._warned = False
            logger.warning("rate limit: Redis at %s answers again; limit shared", self._where())
        return float(result)

    async def reserve(self, now: float) -> tuple[float, bool]:
        """Take a send slot from the shared bucket (or the local one while Redis is down).

        The shared pause, when one is in force, is part of the wait.
        """
        wait = await self._run(now, "acquire", 0.0, 0.0)
        if wait is None:
            fallback = self.fallback
            return await fallback.reserve(now) if fallback.active else (0.0, True)
        return (-wait, False) if wait < 0 else (wait, True)

    async def throttled(
        self, now: float, sent: float, pause: float | None, headers: Mapping[str, str]
    ) -> None:
        """A 429: pause every process on the key, and cut the shared rate."""
        hint = header_hint(headers)
        await self.fallback.throttled(now, sent, pause, headers)  # kept current
        await self._run(now, "throttle", pause or 0.0, hint or 0.0)

    def succeeded(self, now: float) -> None:
        """A success: the local fallback learns; the shared rate grows by the clock."""
        fallback = self.fallback
        if fallback.active:
            fallback.succeeded(now)

    async def aclose(self) -> None:
        """Close the connections to Redis."""
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()
