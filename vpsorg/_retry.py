"""Pure retry decisions: whether to retry, and how long to wait. No I/O here.

The async request pipeline asks `decide()` after each failed attempt and sleeps for
the delay it returns. Keeping these rules as small pure functions makes them easy to
test exhaustively and identical for the async and blocking clients.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
import time
from collections.abc import Callable

import attrs

from ._config import RetryPolicy

__all__ = [
    "IDEMPOTENT_METHODS",
    "NEVER_RETRIED_STATUSES",
    "Decision",
    "Failure",
    "REFUSAL_STATUSES",
    "RateGate",
    "RetryBudget",
    "Verdict",
    "backoff_delay",
    "decide",
    "parse_retry_after",
    "verdict",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
NEVER_RETRIED_STATUSES = frozenset({400, 401, 402, 403, 404, 405, 409, 422})
#: The answers by which the API says it did not act on a request: its refusals, and 429.
#: Every other answer to a non-idempotent request (1xx, 3xx, any other 4xx, every 5xx)
#: may come after the request acted (a proxy's 504 after the backend made the server).
REFUSAL_STATUSES = NEVER_RETRIED_STATUSES | {429}


class Failure(enum.Enum):
    """What kind of failure an attempt ended in."""

    #: The connection could not be opened: the server never saw the request.
    CONNECT = "connect"
    #: The request may have reached the server (dropped connection, bad response).
    SENT = "sent"
    #: The attempt timed out after the request may have been sent.
    TIMEOUT = "timeout"
    #: The server answered with an HTTP status (a 2xx whose body could not be read too).
    STATUS = "status"
    #: The call was cancelled, or its client closed, while the request was in flight.
    CANCELLED = "cancelled"


class Verdict(enum.Enum):
    """What an attempt of a non-idempotent request says the API did (see `verdict`)."""

    #: The API did not act: the request never reached it, or the API refused it.
    NOT_ACTED = "not acted"
    #: The API acted and said so (a 2xx answer), whether or not its body can be read.
    ACTED = "acted"
    #: The API may or may not have acted.
    UNKNOWN = "unknown"


def verdict(failure: Failure, status: int | None = None) -> Verdict:
    """The one rule for what a non-idempotent request (POST) did on the API.

    Args:
        failure: how the attempt ended.
        status: the HTTP status, when the API answered.

    Returns:
        What the attempt says the API did.

    Rules:

    - a connection that could not be opened sent nothing: `Verdict.NOT_ACTED`;
    - a 2xx answer says the API acted: `Verdict.ACTED`, even when its body cannot
      be read (undecodable, over the size cap);
    - the API's refusals (`REFUSAL_STATUSES`) say it did not act;
    - everything else (any other status from 100 to 599, a dropped connection, a
      timeout after the request may have been written, a cancellation or a close while
      it was in flight) is `Verdict.UNKNOWN`.

    The retry policy's ``retry_statuses`` play no part: they say which reads are worth
    retrying, not what a POST did.
    """
    if failure is Failure.CONNECT:
        return Verdict.NOT_ACTED
    if failure is Failure.STATUS and status is not None:
        if 200 <= status < 300:
            return Verdict.ACTED
        if status in REFUSAL_STATUSES:
            return Verdict.NOT_ACTED
    return Verdict.UNKNOWN


@attrs.frozen
class Decision:
    """The outcome of `decide()`: retry after ``delay`` seconds, or stop."""

    retry: bool
    delay: float = 0.0
    #: why the request is not retried, for messages (e.g. "outcome unknown").
    reason: str = ""


STOP = Decision(False)
OUTCOME_UNKNOWN = Decision(False, reason="outcome unknown")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Returns ``None`` when the header is absent or unparsable; never a negative number.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(
    policy: RetryPolicy, retry_number: int, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter for the ``retry_number``-th retry (1-based).

    The ceiling is ``backoff_base * 2 ** (retry_number - 1)``, capped at ``backoff_cap``;
    the delay is uniform between 0 and the ceiling.
    """
    exponent = min(max(retry_number - 1, 0), 62)
    ceiling = min(policy.backoff_cap, policy.backoff_base * (2**exponent))
    return float(ceiling * rand())


def decide(
    policy: RetryPolicy,
    *,
    method: str,
    attempt: int,
    failure: Failure,
    status: int | None = None,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> Decision:
    """Decide whether attempt number ``attempt`` (1-based) should be followed by another.

    Rules, in order:

    - A non-idempotent method (POST) goes by `verdict` alone: when the API may have
      acted, it stops with reason ``"outcome unknown"``, whatever the status and whatever
      ``policy.retry_statuses`` says; a refusal other than 429 stops; a 429 (when in
      ``policy.retry_statuses``) or a failure to connect may be retried.
    - 400, 401, 402, 403, 404, 405, 409, 422 are never retried.
    - Idempotent methods are retried on connection failures, timeouts and
      ``policy.retry_statuses``.
    - A ``Retry-After`` longer than ``policy.retry_after_cap`` stops at once.
    - No more than ``policy.max_attempts`` attempts that failed otherwise than with a 429,
      and no more than ``policy.max_rate_limited_attempts`` answered 429: the caller
      passes as ``attempt`` the count of the kind that just failed.
    """
    if method.upper() not in IDEMPOTENT_METHODS:
        done = verdict(failure, status)
        if done is Verdict.UNKNOWN:
            return OUTCOME_UNKNOWN
        if done is Verdict.ACTED or (failure is Failure.STATUS and status != 429):
            return STOP
    if failure is Failure.CANCELLED:
        return STOP
    if failure is Failure.STATUS:
        if status is None or status in NEVER_RETRIED_STATUSES:
            return STOP
        if status not in policy.retry_statuses:
            return STOP
    if retry_after is not None and retry_after > policy.retry_after_cap:
        return Decision(False, reason="retry-after too long")
    limit = policy.max_rate_limited_attempts if status == 429 else policy.max_attempts
    if attempt >= limit:
        return Decision(False, reason="attempts exhausted")
    if retry_after is not None:
        # Honour the server's wish, with a little jitter so that a crowd of clients
        # told the same second does not come back in the same millisecond.
        return Decision(True, retry_after + 0.1 * rand())
    return Decision(True, backoff_delay(policy, attempt, rand))


class RetryBudget:
    """A retry quota shared by every request of one client.

    Each retry takes ``cost`` tokens from a bucket of ``capacity``; each success gives
    ``refund`` back. When the bucket is empty, failures are raised instead of retried, so
    a failing API never receives a multiple of the normal traffic (the idea of botocore's
    retry quota). No I/O.

    It takes no lock, and needs none: a client sends only from its own event loop (its
    transport refuses any other), and the copies made by ``with_options`` share that
    loop, so every read and write of a budget happens in one thread, between awaits.
    """

    __slots__ = ("available", "capacity")

    #: The size of the bucket.
    capacity: int
    #: Tokens left in the bucket.
    available: int

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.available = capacity

    def try_acquire(self, cost: int) -> bool:
        """Take ``cost`` tokens if there are enough; return whether a retry may go ahead."""
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def refund(self, amount: int) -> None:
        """Give back ``amount`` tokens after a success, up to the capacity."""
        available = self.available + amount
        self.available = available if available < self.capacity else self.capacity


class RateGate:
    """One gate per client: after a 429 with ``Retry-After``, every request waits.

    Instead of each in-flight request retrying on its own schedule (a retry storm), the
    first 429 closes the gate until the time the server named, and every request of the
    client, new or retrying, waits for it. When it opens, the client's rate limiter (see
    ``vpsorg/_async/_limiter.py``) lets the waiters out paced, not all at once. Times are
    monotonic seconds; no I/O here.
    """

    __slots__ = ("pauses", "until")

    #: When the gate opens (monotonic seconds); 0.0 once it is known to be open, so the
    #: request pipeline can skip the clock when ``until`` is falsy.
    until: float

    #: How many times the gate closed while it was open (each one a pause of the client).
    pauses: int

    def __init__(self) -> None:
        self.until = 0.0
        self.pauses = 0

    def close_for(self, seconds: float, now: float) -> bool:
        """Keep the gate closed until ``now + seconds`` (never shortens a closure).

        Returns whether this closed an open gate (a new pause, worth one log line), as
        opposed to extending or leaving a closure already in force.
        """
        opened = self.until <= now
        until = now + seconds
        if until > self.until:
            self.until = until
        if opened and seconds > 0:
            self.pauses += 1
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until the gate opens (0 when it is open)."""
        remaining = self.until - now
        if remaining > 0:
            return remaining
        self.until = 0.0
        return 0.0
