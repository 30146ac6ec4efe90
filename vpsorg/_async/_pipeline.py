"""The request pipeline: one request in, a 2xx response or a vpsorg error out.

A `Pipeline` applies the retry rules of `vpsorg._retry`, the rate-limit gate,
the retry budget, the per-attempt timeouts and the whole-call deadline, and turns error
statuses into the exception tree. Resources are handed a pipeline; they never reach into
the client. There is one pipeline per client and per ``with_options`` copy; the copies
share the transport (the connection pool), the gate and the budgets.

The common case is kept lean on purpose: a first attempt that succeeds, with no deadline,
no event hooks, the gate open and debug logging off, runs one transport call and two
comparisons. The retry machinery (`_Call`: decisions, budget, sleeps, error
building, logging, events, raw-response capture) is entered only when that is not the
case, so a client without event hooks pays nothing for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import attrs

from .. import _deprecation, _json
from .._config import ClientConfig, RetryPolicy
from .._converter import raw_id
from .._events import (
    AttemptEnded,
    AttemptStarted,
    CallEnded,
    CallStarted,
    Emitter,
    RetryScheduled,
    event_headers,
    full_url,
    next_call_id,
    url_template,
)
from .._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    OutcomeUnknownError,
    OutcomeUnknownStatusError,
    RateLimitError,
    UnreadableSuccessError,
    VPSOrgDeprecationWarning,
    VPSOrgError,
    error_message,
    status_error_class,
)
from .._retry import (
    IDEMPOTENT_METHODS,
    Decision,
    Failure,
    RateGate,
    RetryBudget,
    Verdict,
    decide,
    parse_retry_after,
    verdict,
)
from .._secrets import clean_chain
from ._decoding import decode_json
from ._limiter import Limiter
from ._raw import CAPTURE
from ._transport import AsyncTransport, Response

__all__ = ["Pipeline"]

T = TypeVar("T")
#: What a failed attempt hands to the retry loop: the answer, or why there was none usable.
_Outcome = Response | APIConnectionError | APIResponseValidationError

logger = logging.getLogger("vpsorg")

_DEBUG = logging.DEBUG
_SAFE_RESPONSE_HEADERS = ("Content-Type", "Content-Length", "X-Request-ID", "Retry-After")
_CHECK_HINT = {
    "POST": "check the server list (for a create) or the server's status before retrying",
}
#: The most rounds of waiting for the gate and the limiter before one attempt (a round
#: sleeps at most a pause or the limiter's horizon: hours in all).
_MAX_WAITS = 100_000
_NOT_RETRYABLE = Decision(False, reason="not retryable")
_BASE_URL_HINT = "is base_url right? it should end with /api/v1/"
#: How long after the deadline the cancel scope fires. The attempt in flight is given the
#: time left as its own timeout, so the transport times out first and says truthfully
#: whether the request may have been sent; the scope is the backstop that bounds the call
#: whatever happens (a pool wait, a read the transport's timeout does not cover).
_DEADLINE_GRACE = 0.05


class Pipeline:
    """Sends the requests of one client's resources (private).

    Args:
        config: the client's resolved settings.
        transport: the transport every request goes through.
        gate: the rate-limit gate to share (a new one by default).
        budgets: the retry budgets to share, one per budget size (new ones by default).
        limiter: the client-side rate limiter to share (by default one local limiter
            built from ``config.rate_limit``).
        events: the event hooks to call (none by default).
        capture: fill the raw-response capture of the running call (see
            `vpsorg._async._raw`); only the pipeline of ``with_raw_response`` does.
    """

    def __init__(
        self,
        config: ClientConfig,
        transport: AsyncTransport,
        *,
        gate: RateGate | None = None,
        budgets: dict[int, RetryBudget] | None = None,
        limiter: Limiter | None = None,
        events: Emitter | None = None,
        capture: bool = False,
    ) -> None:
        self.config: ClientConfig = config
        self.transport: AsyncTransport = transport
        self.gate: RateGate = gate if gate is not None else RateGate()
        #: The client-side rate limiter, shared by every copy.
        self.limiter: Limiter = limiter if limiter is not None else Limiter(config.rate_limit)
        self._budgets = budgets if budgets is not None else {}
        policy = config.retry
        self.policy: RetryPolicy = policy
        budget: RetryBudget | None = None
        if policy.budget is not None:
            budget = self._budgets.get(policy.budget)
            if budget is None:
                budget = self._budgets[policy.budget] = RetryBudget(policy.budget)
        #: The retry budget of this pipeline: shared by every copy asking for its size.
        self.budget: RetryBudget | None = budget
        self.base_url: str = config.base_url
        self._timeout = config.timeout
        self._deadline = config.timeout.deadline
        self._refund = policy.success_refund
        #: The event hooks (an empty emitter when there are none).
        self.events: Emitter = events if events is not None else Emitter(())
        #: Whether raw-response capture is on (the ``with_raw_response`` pipeline).
        self.capture: bool = capture
        # The common case needs no _Call: no deadline, no hooks, no capture.
        self._plain = self._deadline is None and not self.events and not capture
        self._raw: Pipeline | None = None

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (relative, no leading ``/``) under the base URL."""
        return self.base_url + path

    def with_config(self, config: ClientConfig) -> Pipeline:
        """A pipeline with other settings, sharing this one's transport, gate and budgets.

        A retry policy with the same budget size shares the budget; another size gets a
        budget of its own, shared by every copy asking for that size.
        """
        return Pipeline(
            config,
            self.transport,
            gate=self.gate,
            budgets=self._budgets,
            limiter=self.limiter,
            events=self.events,
        )

    def raw(self) -> Pipeline:
        """This pipeline with raw-response capture on (made once, sharing everything)."""
        raw = self._raw
        if raw is None:
            raw = self._raw = Pipeline(
                self.config,
                self.transport,
                gate=self.gate,
                budgets=self._budgets,
                limiter=self.limiter,
                events=self.events,
                capture=True,
            )
        return raw

    async def aclose(self) -> None:
        """Close the transport (every connection) and the rate limiter's connections."""
        try:
            await self.transport.aclose()
        finally:
            await self.limiter.aclose()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        missing_ok_after_retry: bool = False,
    ) -> Coroutine[Any, Any, Response]:
        """Send a request with retries; return a 2xx response or raise a vpsorg error.

        ``missing_ok_after_retry``: a 404 that follows an attempt whose outcome is unknown
        counts as success (a retried DELETE whose first attempt did delete). Awaited like
        a coroutine method; it is `fetch` itself, without a coroutine frame of its own.
        """
        return self.fetch(
            method,
            url,
            _the_response,
            params=params,
            json=json,
            missing_ok_after_retry=missing_ok_after_retry,
        )

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
    ) -> Coroutine[Any, Any, object]:
        """Send a request and decode its JSON body (awaited like `request`)."""
        return self.fetch(method, url, decode_json, params=params, json=json)

    async def fetch(
        self,
        method: str,
        url: str,
        decode: Callable[[Response, str, str], T],
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        creates: bool = False,
        missing_ok_after_retry: bool = False,
    ) -> T:
        """Send a request with retries and decode its 2xx answer with ``decode(response,
        method, url)``; raise a vpsorg error for anything else.

        The common case (a first attempt that succeeds, with no deadline, no event hooks,
        the gate open, the rate limiter idle and debug logging off) runs one transport
        call and a few comparisons here; anything else goes through a `_Call`.

        For a non-idempotent request this is where a success becomes a result: an answer
        that says the API acted (2xx) but cannot be read (``decode`` fails, or the body
        is over the size cap) is an `UnreadableSuccessError`, never a
        plain validation error (``creates``: the request is a create, so the message
        says a server was made). A ``Deprecation`` or ``Sunset`` header is announced
        only after the result is built; a warning raised as an error carries it.
        ``missing_ok_after_retry``: as for `request`.
        """
        try:
            try:
                body = None if json is None else _json.dumps(json)
                if (
                    self._plain
                    and not self.gate.until
                    and not self.limiter.active
                    and not logger.isEnabledFor(_DEBUG)
                ):
                    try:
                        response = await self.transport.request(
                            method, url, params=params, body=body, timeout=self._timeout
                        )
                    except (APIConnectionError, APIResponseValidationError) as exc:
                        call = _Call(self, method, url, params, body, missing_ok_after_retry, 1)
                        response = await call.recover(exc)
                    except BaseException as interrupt:
                        _interrupted(method, url, interrupt)
                        raise
                    else:
                        if 200 <= response.status < 300:
                            budget = self.budget
                            if budget is not None and budget.available < budget.capacity:
                                budget.refund(self._refund)
                        else:
                            call = _Call(self, method, url, params, body, missing_ok_after_retry, 1)
                            response = await call.recover(response)
                else:
                    call = _Call(self, method, url, params, body, missing_ok_after_retry, 0)
                    if self.events:
                        response = await call.run_with_events()
                    elif self._deadline is None:
                        response = await call.run()
                    else:
                        response = await call.run_within(self._deadline)
                result = decode(response, method, url)
            except APIResponseValidationError as error:
                if method in IDEMPOTENT_METHODS or isinstance(error, UnreadableSuccessError):
                    raise
                if not 200 <= error.status_code < 300:
                    raise  # an unreadable refusal: what it refused is in its status
                server_id = raw_id(error.body) or _acted_on(url)
                raise UnreadableSuccessError(error, server_id=server_id, created=creates) from error
            headers = response.headers
            if "Deprecation" in headers or "Sunset" in headers:
                _warn_deprecated(method, url, headers, result)
            return result
        except VPSOrgError as error:
            # Whichever way it was raised, what leaves the pipeline chains only vpsorg
            # errors and scrubbed stand-ins (Python 3.10 can attach an exception that
            # aiohttp handled as an implicit __context__). A bare raise sets no new one.
            clean_chain(error, VPSOrgError)
            raise

    def status_error(
        self, response: Response, method: str, url: str, retry_after: float | None
    ) -> APIStatusError:
        """The [`APIStatusError`][vpsorg.APIStatusError] subclass for an error response."""
        raw = response.body
        body: object = None
        if raw:
            try:
                body = _json.loads(raw)
            except _json.JSONDecodeError:
                body = raw.decode("utf-8", errors="replace")
        status = response.status
        cls = status_error_class(status)
        kwargs: dict[str, Any] = {
            "status_code": status,
            "body": body,
            "request_id": _request_id(response.headers),
            "method": method,
            "url": url,
        }
        message = error_message(body if not isinstance(body, str) else None, raw)
        if status == 404 and self._is_collection(url):
            message = f"{message} ({_BASE_URL_HINT})"
        if cls is RateLimitError:
            return RateLimitError(message, retry_after=retry_after, **kwargs)
        return cls(message, **kwargs)

    def _is_collection(self, url: str) -> bool:
        """Whether ``url`` is a collection endpoint's first page (``<base_url>servers/``,
        with filters or none): not a later page, which DRF answers 404 when it is gone."""
        if not url.startswith(self.base_url):
            return False
        rest = urlsplit(url[len(self.base_url) :])
        path = rest.path
        if rest.query and "page" in parse_qs(rest.query):
            return False
        return path.endswith("/") and path.count("/") == 1 and len(path) > 1

    async def _sleep(self, seconds: float, deadline: float | None, method: str, url: str) -> None:
        """Wait for the rate-limit gate to open, unless the deadline passes first."""
        if deadline is not None:
            remaining = deadline - asyncio.get_running_loop().time()
            if seconds >= remaining:
                raise APITimeoutError(
                    f"the call's deadline passes before the rate limit lifts ({seconds:.1f}s)",
                    method=method,
                    url=url,
                )
        await asyncio.sleep(seconds)


class _Call:
    """One request beyond the common case: its attempts, retries, waits and final error."""

    __slots__ = (
        "ambiguous",
        "attempt",
        "body",
        "call_id",
        "deadline",
        "full_url",
        "in_flight",
        "method",
        "missing_ok",
        "params",
        "pipeline",
        "sent",
        "started",
        "template",
        "throttled",
        "url",
    )

    def __init__(
        self,
        pipeline: Pipeline,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        missing_ok: bool,
        attempt: int,
    ) -> None:
        self.pipeline = pipeline
        self.method = method
        self.url = url
        self.params = params
        self.body = body
        self.missing_ok = missing_ok
        #: the number of attempts made so far.
        self.attempt = attempt
        #: whether an attempt may have acted on the server without an answer saying so.
        self.ambiguous = False
        #: whether an attempt is between the transport's call and its answer.
        self.in_flight = False
        #: the loop time the call must end by, or None.
        self.deadline: float | None = None
        #: how many attempts were answered 429 (they have their own attempt limit).
        self.throttled = 0
        #: the loop time the last attempt was sent (0.0: before the limiter was engaged).
        self.sent = 0.0
        #: when the call began (perf_counter), for events and raw responses.
        self.started = time.perf_counter()
        #: set by run_with_events: what every event of the call carries.
        self.call_id = 0
        self.template = ""
        self.full_url = url

    async def run_with_events(self) -> Response:
        """Run the call, emitting CallStarted first and CallEnded whatever happens."""
        pipeline = self.pipeline
        emit = pipeline.events.emit
        self.call_id = next_call_id()
        self.template = url_template(self.url, pipeline.base_url)
        self.full_url = full_url(self.url, self.params)
        emit(
            CallStarted(
                call_id=self.call_id,
                method=self.method,
                url_template=self.template,
                url=self.full_url,
            )
        )
        try:
            if pipeline._deadline is None:
                response = await self.run()
            else:
                response = await self.run_within(pipeline._deadline)
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            self._call_ended("error", status if isinstance(status, int) else None, exc)
            raise
        except BaseException as exc:
            self._call_ended("cancelled", None, exc)
            raise
        self._call_ended("success", response.status, None)
        return response

    def _call_ended(
        self,
        outcome: Literal["success", "error", "cancelled"],
        status: int | None,
        error: BaseException | None,
    ) -> None:
        self.pipeline.events.emit(
            CallEnded(
                call_id=self.call_id,
                method=self.method,
                url_template=self.template,
                url=self.full_url,
                attempts=self.attempt,
                elapsed=time.perf_counter() - self.started,
                outcome=outcome,
                status_code=status,
                error=error,
            )
        )

    async def run_within(self, seconds: float) -> Response:
        """Run the call inside a cancel scope that ends it at the deadline."""
        self.deadline = asyncio.get_running_loop().time() + seconds
        with anyio.CancelScope(deadline=self.deadline + _DEADLINE_GRACE):
            return await self.run()
        # Only reached when the scope cancelled the call: an outer cancellation is not
        # swallowed by the scope, it propagates as CancelledError.
        raise self._deadline_error(seconds)

    async def run(self) -> Response:
        """Make attempts until one succeeds or the error is final."""
        outcome = await self._attempt()
        if type(outcome) is Response and 200 <= outcome.status < 300:
            self._succeeded(outcome)
            return outcome
        return await self.recover(outcome)

    async def recover(self, outcome: _Outcome) -> Response:
        """Go on from a failed attempt: retry while the rules allow, else raise."""
        policy = self.pipeline.policy
        # Bounded: decide() stops first, at either attempt limit.
        for _ in range(policy.max_attempts + policy.max_rate_limited_attempts + 1):
            done = await self._after_failure(outcome)
            if done is not None:
                if self.pipeline.capture:
                    self._capture(done)
                return done
            outcome = await self._attempt()
            if type(outcome) is Response and 200 <= outcome.status < 300:
                self._succeeded(outcome)
                return outcome
        raise AssertionError("unreachable: decide() bounds the attempts")  # pragma: no cover

    def _succeeded(self, response: Response) -> None:
        pipeline = self.pipeline
        budget = pipeline.budget
        if budget is not None:
            budget.refund(pipeline.policy.success_refund)
        limiter = pipeline.limiter
        if limiter.active:
            limiter.succeeded(asyncio.get_running_loop().time())
        if pipeline.capture:
            self._capture(response)

    def _capture(self, response: Response) -> None:
        """Hand the final response to the raw-response wrapper running this call."""
        capture = CAPTURE.get()
        if capture is not None:
            capture.record(
                self.method, self.url, response, self.attempt, time.perf_counter() - self.started
            )

    async def _attempt(self) -> _Outcome:
        pipeline = self.pipeline
        method, url = self.method, self.url
        self.attempt += 1
        loop_time = asyncio.get_running_loop().time
        deadline = self.deadline
        if pipeline.gate.until or pipeline.limiter.active:
            try:
                await self._wait_to_send()
            except APITimeoutError as late:
                late.request_sent = self.ambiguous  # this attempt was never sent
                raise
        timeout = pipeline._timeout
        if deadline is not None:
            remaining = deadline - loop_time()
            if remaining <= 0:
                passed = APITimeoutError("the call's deadline passed", method=method, url=url)
                passed.request_sent = self.ambiguous  # this attempt was never sent
                raise passed
            if timeout.total is None or remaining < timeout.total:
                timeout = attrs.evolve(timeout, total=remaining)
        debug = logger.isEnabledFor(_DEBUG)
        events = pipeline.events
        if events:
            events.emit(
                AttemptStarted(
                    call_id=self.call_id,
                    method=method,
                    url_template=self.template,
                    url=self.full_url,
                    attempt=self.attempt,
                )
            )
        started = time.perf_counter()
        self.sent = loop_time()
        self.in_flight = True
        try:
            response = await pipeline.transport.request(
                method, url, params=self.params, body=self.body, timeout=timeout
            )
        except APIConnectionError as exc:
            self.in_flight = False
            if events:
                self._attempt_ended(None, exc, started)
            if debug:
                logger.debug(
                    "%s %s -> %s after %.1f ms (attempt %d)",
                    method,
                    url,
                    type(exc).__name__,
                    (time.perf_counter() - started) * 1e3,
                    self.attempt,
                )
            return exc
        except APIResponseValidationError as exc:  # an answer whose body is unusable
            self.in_flight = False
            if events:
                self._attempt_ended(None, exc, started)
            return exc
        except BaseException as exc:  # cancelled: the call's CallEnded says so too
            _interrupted(method, url, exc)
            if events:
                self._attempt_ended(None, exc, started)
            raise
        self.in_flight = False
        if events:
            self._attempt_ended(response, None, started)
        if debug:
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)%s",
                method,
                url,
                response.status,
                (time.perf_counter() - started) * 1e3,
                self.attempt,
                _safe_headers(response.headers),
            )
        return response

    async def _wait_to_send(self) -> None:
        """Wait for the rate-limit gate to open, then for a send slot from the limiter.

        The gate's waiters leave paced, one slot apart, never all at once; a slot too far
        ahead is not taken but asked for again (the limiter says when), so a rate that
        grows meanwhile serves the waiters sooner.
        """
        pipeline = self.pipeline
        loop_time = asyncio.get_running_loop().time
        gate, limiter = pipeline.gate, pipeline.limiter
        for _ in range(_MAX_WAITS):  # bounded; every round sleeps or returns
            wait = gate.wait_time(loop_time())  # also marks the gate open once it is
            if wait:  # a 429 seen meanwhile may extend the closure
                await pipeline._sleep(wait, self.deadline, self.method, self.url)
                continue
            if not limiter.active:
                return
            wait, granted = await limiter.reserve(loop_time())
            if wait:
                await pipeline._sleep(wait, self.deadline, self.method, self.url)
            if granted and not gate.wait_time(loop_time()):
                return

    def _attempt_ended(
        self, response: Response | None, error: BaseException | None, started: float
    ) -> None:
        headers = event_headers(response.headers) if response is not None else event_headers({})
        self.pipeline.events.emit(
            AttemptEnded(
                call_id=self.call_id,
                method=self.method,
                url_template=self.template,
                url=self.full_url,
                attempt=self.attempt,
                status_code=response.status if response is not None else None,
                error=error,
                elapsed=time.perf_counter() - started,
                request_id=_request_id(response.headers) if response is not None else None,
                headers=headers,
            )
        )

    async def _after_failure(self, outcome: _Outcome) -> Response | None:
        """Sleep and return None to retry, return a response that counts, or raise."""
        pipeline = self.pipeline
        policy = pipeline.policy
        method, url = self.method, self.url
        if isinstance(outcome, APIResponseValidationError):
            # An answer whose body could not be read (over the size cap, a corrupt
            # encoding): its status says what happened, and a POST's goes by the rule.
            status = outcome.status_code
            decision = decide(
                policy, method=method, attempt=self.attempt, failure=Failure.STATUS, status=status
            )
            if decision.reason == "outcome unknown":
                self.ambiguous = True
                raise _outcome_unknown(method, url, outcome, status) from outcome
            raise outcome
        if isinstance(outcome, APIConnectionError):
            failure = _failure_of(outcome)
            attempts = self.attempt - self.throttled  # 429s have their own limit
            decision = decide(policy, method=method, attempt=attempts, failure=failure)
            if decision.retry and not getattr(outcome, "retryable", True):
                # A TLS or protocol mismatch, a failed certificate check: trying again
                # cannot help (the transport sets ``retryable``).
                decision = _NOT_RETRYABLE
            if failure is not Failure.CONNECT:
                self.ambiguous = True
            if await self._should_retry(decision, failure, outcome):
                return None
            if decision.reason == "outcome unknown":
                raise _outcome_unknown(method, url, outcome, None) from outcome
            if self.attempt > 1:
                _add_attempts(outcome, self.attempt)
            raise outcome
        status = outcome.status
        if status == 404 and self.missing_ok and self.ambiguous:
            return Response(204, outcome.headers, b"")
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(outcome.headers.get("Retry-After"))
        attempts = self.attempt - self.throttled
        if status == 429:
            self.throttled += 1
            attempts = self.throttled
            await self._throttled(retry_after, outcome.headers)
        decision = decide(
            policy,
            method=method,
            attempt=attempts,
            failure=Failure.STATUS,
            status=status,
            retry_after=retry_after,
        )
        if status >= 500:
            self.ambiguous = True
        error = pipeline.status_error(outcome, method, url, retry_after)
        if await self._should_retry(decision, Failure.STATUS, error):
            return None
        headers = outcome.headers
        if "Deprecation" in headers or "Sunset" in headers:
            # The error is the call's result: a warning raised as an error never hides it.
            with contextlib.suppress(VPSOrgDeprecationWarning):
                _deprecation.notice(method, url, headers)
        if decision.reason == "outcome unknown":
            raise _outcome_unknown(method, url, error, status) from error
        raise error

    async def _throttled(self, retry_after: float | None, headers: Mapping[str, str]) -> None:
        """A 429: close the gate for the ``Retry-After`` and tell the rate limiter.

        The pause is logged once, when it begins, not once per request it holds back.
        """
        pipeline = self.pipeline
        now = asyncio.get_running_loop().time()
        pause = retry_after
        if pause is not None and pause > pipeline.policy.retry_after_cap:
            pause = None
        if pause is not None and pipeline.gate.close_for(pause, now):
            logger.info(
                "rate limited (HTTP 429 on %s %s): pausing this client's requests for %.1fs",
                self.method,
                self.url,
                pause,
            )
        await pipeline.limiter.throttled(now, self.sent, pause, headers)

    async def _should_retry(
        self, decision: Decision, failure: Failure, error: BaseException
    ) -> bool:
        if not decision.retry:
            return False
        deadline = self.deadline
        if deadline is not None and asyncio.get_running_loop().time() + decision.delay >= deadline:
            return False
        pipeline = self.pipeline
        budget = pipeline.budget
        throttled = isinstance(error, RateLimitError)
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        if budget is not None and not throttled:
            # A 429 spends nothing: the budget stops retry storms against a failing API,
            # and a server asking for "later" is not failing.
            policy = pipeline.policy
            cost = policy.timeout_retry_cost if failure is Failure.TIMEOUT else policy.retry_cost
            if not budget.try_acquire(cost):
                logger.warning("retry budget exhausted; not retrying %s %s", self.method, self.url)
                return False
        logger.log(
            _DEBUG if throttled else logging.INFO,
            "retrying %s %s in %.2fs after %s",
            self.method,
            self.url,
            decision.delay,
            _short(error),
        )
        events = pipeline.events
        if events:
            events.emit(
                RetryScheduled(
                    call_id=self.call_id,
                    method=self.method,
                    url_template=self.template,
                    url=self.full_url,
                    attempt=self.attempt,
                    delay=decision.delay,
                    reason=_short(error),
                )
            )
        delay = decision.delay
        if retry_after is not None and pipeline.limiter.active:
            # The gate holds the retry back until the Retry-After ends, and the limiter
            # then paces it: sleeping here too would release every waiter at once.
            delay = 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        return True

    def _deadline_error(self, seconds: float) -> APIConnectionError:
        method, url = self.method, self.url
        error = APITimeoutError(
            f"the call's deadline ({seconds:g}s) passed"
            + (f" after {self.attempt} attempts" if self.attempt > 1 else ""),
            method=method,
            url=url,
        )
        if not self.in_flight:
            return error
        if method.upper() not in IDEMPOTENT_METHODS:
            error.request_sent = True
            return _outcome_unknown(method, url, error, None)
        return error


def _failure_of(exc: APIConnectionError) -> Failure:
    if exc.request_sent is False:
        return Failure.CONNECT
    if isinstance(exc, APITimeoutError):
        return Failure.TIMEOUT
    return Failure.SENT


def _add_attempts(error: APIConnectionError, attempts: int) -> None:
    """Say in ``error``'s message how many attempts were made ("... after 4 attempts").

    The message is ``"<method> <url>: <reason>"``; its ``reason`` attribute stays the
    plain reason of the last attempt.
    """
    if error.args and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]} after {attempts} attempts", *error.args[1:])


def _outcome_unknown(
    method: str, url: str, cause: BaseException, status: int | None, *, what: str = ""
) -> OutcomeUnknownError:
    """The error of a non-idempotent request whose outcome `verdict` says is unknown."""
    if not what:
        what = f"the server answered HTTP {status}" if status else f"{_short(cause)}"
        what += " after the request may have reached the server, so it was not resent"
    hint = _CHECK_HINT.get(method, "check the server's state before retrying")
    message = f"outcome unknown: {what} (it is not idempotent); {hint}"
    error: OutcomeUnknownError
    if isinstance(cause, APIStatusError) and status is not None and status >= 500:
        error = OutcomeUnknownStatusError(message, error=cause)
    else:
        error = OutcomeUnknownError(
            message, method=method, url=url, status_code=status, cause=cause
        )
    server_id = _acted_on(url)
    if server_id is not None:
        error.server_id = server_id
    return error


def _acted_on(url: str) -> int | None:
    """The server id of a power action's URL (``.../servers/<id>/<action>/``), or None."""
    parts = url.rstrip("/").rsplit("/", 3)
    if len(parts) == 4 and parts[1] == "servers" and parts[2].isdigit():
        return int(parts[2])
    return None


def _interrupted(method: str, url: str, interrupt: BaseException) -> None:
    """Record on a cancellation (a close, Ctrl-C) that cut a request short in flight
    that its outcome is unknown, when it is not idempotent: ``interrupt.outcome_unknown``.
    """
    if method in IDEMPOTENT_METHODS or verdict(Failure.CANCELLED) is not Verdict.UNKNOWN:
        return
    if isinstance(getattr(interrupt, "outcome_unknown", None), OutcomeUnknownError):
        return
    error = _outcome_unknown(
        method,
        url,
        interrupt,
        None,
        what=f"the call was interrupted ({type(interrupt).__name__}: cancelled, or its "
        "client closed) while the request was in flight, so it may have reached the server",
    )
    with contextlib.suppress(AttributeError, TypeError):  # an exception with __slots__
        interrupt.outcome_unknown = error  # type: ignore[attr-defined]


def _the_response(response: Response, method: str, url: str) -> Response:
    """The "decoding" of `Pipeline.request`: the response itself."""
    return response


def _warn_deprecated(method: str, url: str, headers: Mapping[str, str], result: object) -> None:
    """Announce a Deprecation or Sunset header, once the call's ``result`` is built.

    When warnings are errors the warning is raised in place of the result, so it
    carries the result: nothing the call did is lost.
    """
    try:
        _deprecation.notice(method, url, headers)
    except VPSOrgDeprecationWarning as warning:
        warning.result = result
        raise


def _request_id(headers: Mapping[str, str]) -> str | None:
    return headers.get("X-Request-ID") or headers.get("X-Request-Id") or headers.get("Request-Id")


def _safe_headers(headers: Mapping[str, str]) -> str:
    shown = [f"{name}={headers[name]}" for name in _SAFE_RESPONSE_HEADERS if name in headers]
    return f" [{', '.join(shown)}]" if shown else ""


def _short(error: BaseException) -> str:
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}"
    return type(error).__name__
