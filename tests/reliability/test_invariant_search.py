"""Invariant 1 (issue 19), proven by search: every create and power action that may have
reached the API is accounted for, whatever fails.

For every case of a fault model, one operation (``create``, ``reboot``, ``create_many``,
``reboot_many``; async and blocking) runs against a simulator that reflects the API
token in every faulted answer, and the outcome is judged against the simulator's own
ground truth (what it really created, which server it really rebooted). The caller must
get exactly one of:

- the result, and the simulator did it;
- an error proving nothing was done: one of the API's refusals (400-405, 409, 422, 429),
  or ``request_sent is False``, and the simulator did nothing;
- an ``OutcomeUnknownError`` (``request_sent is True`` on it and on its cause; ``spec``
  and ``started_at`` for a create), which ``find_created`` settles to the truth;
- with warnings as errors, a ``VPSOrgDeprecationWarning`` carrying the result;
- a cancellation carrying ``outcome_unknown`` whenever the simulator acted.

Invariant 2 is asserted on every error: the token appears nowhere in it, its chain or
its rendered traceback (``tests.leaks.assert_no_secret``).

The fault model:

- every status from 100 to 599, before the server acted and after it acted (the API's
  refusals only before: a refusal is trusted), with no body, an HTML page, an
  undecodable body, JSON nested 100,000 deep, a body over the size cap, a JSON body
  echoing the token, or (for 2xx) the real answer; statuses 200-599 go over the wire
  (the simulator's scripted faults), 100-199 are injected at the transport (HTTP cannot
  carry them as a final answer); every other answer also carries a ``Deprecation``
  header, and every case runs with ``VPSOrgDeprecationWarning`` as an error;
- connections dropped before and after the server acted;
- a create the API stores only after its connection dropped (reconcile must wait);
- cancellation (async) and ``Client.close()`` from another thread (blocking) at every
  await point of the call, counted deterministically by stepping the coroutine.

The default run covers every status once per operation and body in rotation (well under
a minute); ``VPSORG_EXHAUSTIVE=1`` or ``-m exhaustive`` runs the full product.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Generator, Iterator, Mapping
from typing import Any

import attrs
import pytest

import vpsorg
from tests.leaks import assert_no_secret
from tests.reliability._sim import made, quiesce
from vpsorg import _deprecation
from vpsorg._async._transport import Response
from vpsorg._config import Timeout
from vpsorg._retry import REFUSAL_STATUSES
from vpsorg.simulator import Simulator, serve_in_thread

TOKEN = "tok-search-3b9f2c71a8d04e56"
CAP = 64 * 1024
POLICY = vpsorg.RetryPolicy(backoff_base=0.0, backoff_cap=0.0, settle_window=0.0)
#: For the late commits (stored 0.3 s after the drop): a window that covers them.
LATE_POLICY = attrs.evolve(POLICY, settle_window=1.5)
CREATE_PATH = "/api/v1/servers/"
REBOOT_PATH = "/api/v1/servers/12345/reboot/"
EXHAUSTIVE = os.environ.get("VPSORG_EXHAUSTIVE", "") not in ("", "0")
#: Await points tried per operation at most (a bound; calls suspend far fewer times).
MAX_CHECKPOINTS = 80

BODIES = ("none", "html", "undecodable", "deep", "oversized", "echo", "real")
OPERATIONS = ("create", "reboot", "create_many", "reboot_many")
SURFACES = ("async", "blocking")


@attrs.frozen
class Case:
    """One point of the fault model."""

    operation: str
    surface: str
    fault: str  # "status", "drop", "late", "cancel", "close"
    status: int = 0
    body: str = ""
    after_action: bool = False
    checkpoint: int = -1

    def __str__(self) -> str:
        parts = [self.operation, self.surface, self.fault]
        if self.fault == "status":
            parts += [str(self.status), self.body, "after" if self.after_action else "before"]
        elif self.fault == "drop":
            parts.append("after" if self.after_action else "before")
        elif self.checkpoint >= 0:
            parts.append(f"await #{self.checkpoint}")
        return " ".join(parts)


def status_cases(exhaustive: bool) -> Iterator[Case]:
    """Every status 100-599, before and after acting, with the bodies in rotation."""
    rotation = itertools.count()
    for status in range(100, 600):
        whens = [False] if status in REFUSAL_STATUSES else [True, False]
        if 200 <= status < 300:
            whens = [True]  # a 2xx says the API acted: one before acting is not the API
        for after in whens:
            bodies = [b for b in BODIES if b != "real" or 200 <= status < 300]
            operations: tuple[str, ...] = OPERATIONS
            if not exhaustive:
                turn = next(rotation)
                bodies = [bodies[turn % len(bodies)]]
                operations = (OPERATIONS[turn % len(OPERATIONS)],)
            for operation, body in itertools.product(operations, bodies):
                surfaces = SURFACES if exhaustive else (SURFACES[turn // 4 % 2],)
                for surface in surfaces:
                    yield Case(operation, surface, "status", status, body, after)


def other_cases() -> Iterator[Case]:
    for operation, surface, after in itertools.product(OPERATIONS, SURFACES, (False, True)):
        yield Case(operation, surface, "drop", after_action=after)
    for operation, surface in itertools.product(("create", "create_many"), SURFACES):
        yield Case(operation, surface, "late")


# -- the simulator and the clients ------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """A simulator whose servers stay in transition: a reboot stays visible."""
    with serve_in_thread(token=TOKEN, provision_delay=3600, action_delay=3600) as sim:
        yield sim


def rebooted(sim: Simulator, server_id: int) -> bool:
    return any(s["id"] == server_id and s["status"] == "rebooting" for s in sim.servers())


def body_of(kind: str, sim: Simulator, status: int) -> bytes | dict[str, Any] | None:
    if kind == "none":
        return b""
    if kind == "html":
        return f"<html><body><h1>{status}</h1><pre>Authorization: Bearer {TOKEN}</pre>".encode()
    if kind == "undecodable":
        return b'\xff\xfe{"id": 1' + TOKEN.encode()
    if kind == "deep":
        return b"[" * 100_000
    if kind == "oversized":
        return b'{"detail": "' + TOKEN.encode() * (CAP // len(TOKEN) + 10) + b'"}'
    if kind == "echo":
        return {"detail": f"Invalid token: Bearer {TOKEN}", "token": TOKEN}
    return None  # "real": the simulator's own answer


class Injector:
    """A transport wrapper: 1xx answers, late commits, and an action at an await point.

    ``armed`` is set for the next create or power action only; everything else passes
    through to the real transport.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.armed: Case | None = None
        self.late: list[asyncio.Task[Any]] = []
        self.at_checkpoint: Callable[[], None] | None = None
        self.checkpoint = -1
        self.reached = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        timeout: Timeout,
    ) -> Response:
        case = self.armed
        send = self.inner.request(method, url, params=params, body=body, timeout=timeout)
        action = self.at_checkpoint
        if method == "POST" and action is not None:
            self.at_checkpoint = None  # the first create or power action of the call only
            return await Stepped(send, self.checkpoint, lambda: self._hit(action))  # type: ignore[no-any-return]
        if method != "POST" or case is None:
            return await send  # type: ignore[no-any-return]
        self.armed = None
        if case.fault == "status":  # a 1xx: HTTP cannot carry one as a final answer
            if case.after_action:
                await send
            else:
                send.close()
            return Response(case.status, {"Deprecation": "true"}, b"")
        if case.fault == "late":
            send.close()

            async def commit() -> None:
                await asyncio.sleep(0.3)
                await self.inner.request(method, url, params=params, body=body, timeout=timeout)

            self.late.append(asyncio.ensure_future(commit()))
            error = vpsorg.APIConnectionError("the server closed the connection", method=method)
            error.request_sent = True
            raise error
        return await send  # type: ignore[no-any-return]

    def _hit(self, action: Callable[[], None]) -> None:
        self.reached = True
        action()

    async def aclose(self) -> None:
        for task in self.late:
            task.cancel()
        await asyncio.gather(*self.late, return_exceptions=True)
        await self.inner.aclose()


class Stepped:
    """Await a coroutine, calling ``action`` in its task just before its ``n``-th
    suspension is handed to the event loop (counting from 0): a deterministic checkpoint.

    Cancelling the current task there makes asyncio cancel exactly the future awaited
    at that point, as a real cancellation arriving then would.
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], n: int, action: Callable[[], None]):
        self.coro, self.n, self.action = coro, n, action

    def __await__(self) -> Generator[Any, Any, Any]:
        inner = self.coro.__await__()
        sent: Any = None
        thrown: BaseException | None = None
        for index in itertools.count():
            try:
                yielded = inner.throw(thrown) if thrown is not None else inner.send(sent)
            except StopIteration as stop:
                return stop.value
            thrown = None
            if index == self.n:
                self.action()
            try:
                sent = yield yielded
            except BaseException as exc:  # handed to the coroutine at its await
                thrown = exc
        raise AssertionError("unreachable")  # pragma: no cover


# -- running one case -----------------------------------------------------------------


@attrs.define
class Run:
    """What one case produced: per item, a value or the exception raised."""

    outcomes: list[tuple[str | int, object, BaseException | None]]


def script_fault(sim: Simulator, case: Case) -> None:
    path = CREATE_PATH if case.operation.startswith("create") else REBOOT_PATH
    if case.fault == "drop":
        sim.script(path=path, method="POST", drop=True, after_action=case.after_action)
    elif case.fault == "status" and case.status >= 200:
        headers = {"X-Echo": f"Bearer {TOKEN}"}
        if case.status % 2 or case.body == "real":
            headers["Deprecation"] = "true"
        body = body_of(case.body, sim, case.status)
        if case.body == "real":
            # The simulator's own answer, and the Deprecation header on it: a delay-only
            # script keeps the answer, so the header comes from a scripted real body.
            sim.script(
                path=path,
                method="POST",
                status=case.status,
                body=_real_answer(sim, case),
                headers=headers,
                after_action=True,
            )
        else:
            sim.script(
                path=path,
                method="POST",
                status=case.status,
                body=body,
                headers=headers,
                after_action=case.after_action,
            )


def _real_answer(sim: Simulator, case: Case) -> dict[str, Any]:
    servers = sim.servers()
    if case.operation.startswith("create"):
        body = {**servers[-1], "name": "s-0", "status": "provisioning", "ip_address": None}
        body["id"] = max(server["id"] for server in servers) + 1
        return body
    return {
        "status": "success",
        "message": "Server is rebooting",
        "server": {"id": 12345, "name": "web-server-01", "status": "rebooting"},
    }


def names_of(case: Case) -> list[str]:
    return ["s-0", "s-1"] if case.operation == "create_many" else ["s-0"]


async def operate(servers: Any, case: Case) -> Run:
    """Run the case's operation on an async servers resource."""
    if case.operation == "create":
        return Run([("s-0", *await _capture(servers.create("s-0", 1, 5, "us-west")))])
    if case.operation == "reboot":
        return Run([(12345, *await _capture(servers.reboot(12345)))])
    if case.operation == "create_many":
        specs = [vpsorg.ServerSpec(name, 1, 5, "us-west") for name in names_of(case)]
        call = servers.create_many(specs, concurrency=1, reconcile=True)
    else:
        call = servers.reboot_many([12345, 12346], concurrency=1)
    return bulk_run(case, *await _capture(call))


def bulk_run(case: Case, value: object, error: BaseException | None) -> Run:
    """A bulk call's outcomes, one per item (or the error the whole call raised)."""
    if error is not None:
        return Run([("bulk", None, error)])
    assert isinstance(value, vpsorg.BulkResult)
    items: list[tuple[str | int, object, BaseException | None]] = []
    for outcome in value:
        item = outcome.item.name if case.operation == "create_many" else outcome.item
        items.append((item, outcome.value, outcome.error))
    return Run(items)


async def _capture(call: Coroutine[Any, Any, Any]) -> tuple[object, BaseException | None]:
    try:
        return await call, None
    except (Exception, asyncio.CancelledError) as exc:
        return None, exc


def blocking_operate(client: vpsorg.Client, case: Case) -> Run:
    """The same operations through the blocking client."""
    servers = client.servers

    def capture(fn: Callable[[], Any]) -> tuple[object, BaseException | None]:
        try:
            return fn(), None
        except Exception as exc:
            return None, exc

    if case.operation == "create":
        return Run([("s-0", *capture(lambda: servers.create("s-0", 1, 5, "us-west")))])
    if case.operation == "reboot":
        return Run([(12345, *capture(lambda: servers.reboot(12345)))])
    if case.operation == "create_many":
        specs = [vpsorg.ServerSpec(name, 1, 5, "us-west") for name in names_of(case)]
        return bulk_run(
            case, *capture(lambda: servers.create_many(specs, concurrency=1, reconcile=True))
        )
    return bulk_run(case, *capture(lambda: servers.reboot_many([12345, 12346], concurrency=1)))


# -- the judge ----------------------------------------------------------------------


def refusal(error: BaseException) -> bool:
    """An answer by which the API says it did not act."""
    if isinstance(error, vpsorg.OutcomeUnknownError):
        return False
    status = getattr(error, "status_code", None)
    if isinstance(error, (vpsorg.APIStatusError, vpsorg.APIResponseValidationError)):
        return status in REFUSAL_STATUSES
    return isinstance(error, vpsorg.APIConnectionError) and error.request_sent is False


async def judge(
    run: Run, case: Case, sim: Simulator, settle: Callable[[vpsorg.OutcomeUnknownError], Any]
) -> list[str]:
    """The violations of invariants 1 and 2 in one case's outcomes."""
    await asyncio.to_thread(quiesce, sim)
    problems: list[str] = []
    for item, value, error in run.outcomes:
        if item == "bulk":
            problems.append(f"the bulk call raised {error!r}")
            continue
        creates = isinstance(item, str)
        if isinstance(item, str):
            truth: list[Any] = made(sim, item)
        else:
            truth = [item] if rebooted(sim, item) else []
        if len(truth) > 1:
            problems.append(f"{item}: made {len(truth)} times")
        if error is not None:
            problems += _secret_problems(item, error)
        problems += await _judge_one(item, creates, truth, value, error, settle)
    return [f"[{case}] {problem}" for problem in problems]


def _secret_problems(item: object, error: BaseException) -> list[str]:
    try:
        assert_no_secret(error, [TOKEN])
    except AssertionError as leak:
        return [f"{item}: invariant 2: {leak} of {type(error).__name__}"]
    return []


async def _judge_one(
    item: object,
    creates: bool,
    truth: list[Any],
    value: object,
    error: BaseException | None,
    settle: Callable[[vpsorg.OutcomeUnknownError], Any],
) -> list[str]:
    if error is None:
        if creates:
            ok = isinstance(value, vpsorg.Server) and truth == [value.id]
        else:
            ok = isinstance(value, vpsorg.ActionResult) and truth == [item]
        return [] if ok else [f"{item}: returned {value!r} but the truth is {truth}"]
    if isinstance(error, vpsorg.VPSOrgDeprecationWarning):
        result = error.result
        if creates:
            ok = isinstance(result, vpsorg.Server) and truth == [result.id]
            ok = ok and error.created_server is result
        else:
            ok = isinstance(result, vpsorg.ActionResult) and truth == [item]
        return [] if ok else [f"{item}: a raised warning lost the result (truth {truth})"]
    if isinstance(error, asyncio.CancelledError):
        unknown = getattr(error, "outcome_unknown", None)
        if unknown is None:
            return [f"{item}: cancelled without outcome_unknown, truth {truth}"] if truth else []
        error = unknown
    if isinstance(error, vpsorg.NotCreatedError):
        return [f"{item}: NotCreatedError but it was made ({truth})"] if truth else []
    if isinstance(error, vpsorg.OutcomeUnknownError):
        return await _judge_unknown(item, creates, truth, error, settle)
    if refusal(error):
        return [f"{item}: refused ({error!r}) but the truth is {truth}"] if truth else []
    return [f"{item}: neither a result, a refusal nor an unknown outcome: {error!r}"]


async def _judge_unknown(
    item: object,
    creates: bool,
    truth: list[Any],
    error: vpsorg.OutcomeUnknownError,
    settle: Callable[[vpsorg.OutcomeUnknownError], Any],
) -> list[str]:
    problems = []
    cause_sent = getattr(error.cause, "request_sent", True)
    if error.request_sent is not True or cause_sent is False or cause_sent is None:
        problems.append(
            f"{item}: request_sent {error.request_sent!r} (cause {cause_sent!r}) on {error!r}"
        )
    if isinstance(error, vpsorg.UnreadableSuccessError) and not truth:
        problems.append(f"{item}: said it acted, but the truth is {truth}")
    if not creates:
        if error.server_id not in (None, item):
            problems.append(f"{item}: server_id {error.server_id}")
        return problems
    if error.spec is None or error.started_at is None:
        return [*problems, f"{item}: an unknown create without spec/started_at: {error!r}"]
    try:
        found = await settle(error)
    except vpsorg.VPSOrgError as exc:
        return [*problems, f"{item}: find_created failed: {exc!r}"]
    settled = [] if found is None else [found.id]
    if settled != truth:
        problems.append(f"{item}: find_created says {settled}, the truth is {truth}")
    return problems


# -- the search -----------------------------------------------------------------------


class Search:
    """Runs cases against one simulator, with reused clients; collects the violations."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.problems: list[str] = []
        self.cases = 0

    def client_options(self) -> dict[str, Any]:
        return {
            "token": TOKEN,
            "base_url": self.sim.base_url,
            "retry": POLICY,
            "limits": vpsorg.Limits(max_response_bytes=CAP),
        }

    async def run_async(self, cases: list[Case]) -> None:
        async with vpsorg.AsyncClient(**self.client_options()) as client:
            injector = Injector(client._pipeline.transport)
            client._pipeline.transport = injector
            for case in cases:
                await self._one_async(client, injector, case)

    async def _one_async(self, client: vpsorg.AsyncClient, injector: Injector, case: Case) -> None:
        self._prepare(case, injector)
        if case.fault == "late":
            client = client.with_options(retry=LATE_POLICY)
        with warnings.catch_warnings():
            warnings.simplefilter("error", vpsorg.VPSOrgDeprecationWarning)
            run = await operate(client.servers, case)
        await self._settle_late(injector)
        self.problems += await judge(run, case, self.sim, self._async_settle(client))
        self.cases += 1

    def _async_settle(self, client: vpsorg.AsyncClient) -> Callable[..., Any]:
        async def settle(error: vpsorg.OutcomeUnknownError) -> Any:
            return await client.servers.find_created(error, settle_window=0)

        return settle

    def run_blocking(self, cases: list[Case]) -> None:
        with vpsorg.Client(**self.client_options()) as client:
            pipeline = client._async._pipeline
            injector = Injector(pipeline.transport)
            pipeline.transport = injector
            for case in cases:
                self._prepare(case, injector)
                target = client.with_options(retry=LATE_POLICY) if case.fault == "late" else client
                with warnings.catch_warnings():
                    warnings.simplefilter("error", vpsorg.VPSOrgDeprecationWarning)
                    run = blocking_operate(target, case)
                # The late commit lands: await it in the client's own loop.
                client._runner.call(self._settle_late, injector)
                self._judge_blocking(client, run, case)

    def _judge_blocking(self, client: vpsorg.Client, run: Run, case: Case) -> None:
        async def settle(error: vpsorg.OutcomeUnknownError) -> Any:
            return client.servers.find_created(error, settle_window=0)

        self.problems += asyncio.run(judge(run, case, self.sim, settle))
        self.cases += 1

    def _prepare(self, case: Case, injector: Injector) -> None:
        self.sim.reset()
        _deprecation._seen.clear()
        injector.late = []
        if (case.fault == "status" and case.status < 200) or case.fault == "late":
            injector.armed = case
        else:
            script_fault(self.sim, case)

    async def _settle_late(self, injector: Injector) -> None:
        if injector.late:
            await asyncio.gather(*injector.late, return_exceptions=True)

    # -- interruptions at every await point ------------------------------------------

    async def cancel_everywhere(self, operation: str) -> None:
        """Cancel the call at its await point 0, 1, 2, ... (pipeline and transport alike),
        until the call ends before the point is reached."""
        for checkpoint in range(MAX_CHECKPOINTS):
            case = Case(operation, "async", "cancel", checkpoint=checkpoint)
            async with vpsorg.AsyncClient(**self.client_options()) as client:
                self._prepare(case, Injector(None))
                task = asyncio.current_task()
                assert task is not None
                reached: list[bool] = []
                cancel = functools.partial(_mark_and_cancel, reached, task)
                run = await Stepped(operate(client.servers, case), checkpoint, cancel)
                self.problems += await judge(run, case, self.sim, self._async_settle(client))
                self.cases += 1
                if not reached:
                    return
                uncancel = getattr(task, "uncancel", None)  # Python 3.11+
                if uncancel is not None:
                    while uncancel():
                        pass
        self.problems.append(f"{operation}: more than {MAX_CHECKPOINTS} await points")

    async def aclose_everywhere(self, operation: str) -> None:
        """``await client.aclose()`` from another task at each await point of the call."""
        for checkpoint in range(MAX_CHECKPOINTS):
            case = Case(operation, "async", "close", checkpoint=checkpoint)
            client = vpsorg.AsyncClient(**self.client_options())
            closing: list[asyncio.Future[None]] = []
            try:
                self._prepare(case, Injector(None))
                close = functools.partial(_aclose_soon, closing, client)
                run = await Stepped(operate(client.servers, case), checkpoint, close)
            finally:
                await asyncio.gather(*closing)
                await client.aclose()
            async with vpsorg.AsyncClient(**self.client_options()) as fresh:
                self.problems += await judge(run, case, self.sim, self._async_settle(fresh))
            self.cases += 1
            if not closing:
                return
        self.problems.append(f"{operation}: more than {MAX_CHECKPOINTS} await points")

    def close_everywhere(self, operation: str) -> None:
        """Close the blocking client from another thread at each await point of the call."""
        for checkpoint in range(MAX_CHECKPOINTS):
            case = Case(operation, "blocking", "close", checkpoint=checkpoint)
            client = vpsorg.Client(**self.client_options())
            try:
                pipeline = client._async._pipeline
                injector = Injector(pipeline.transport)
                pipeline.transport = injector
                self._prepare(case, injector)
                injector.checkpoint = checkpoint
                closer = threading.Thread(target=client.close)
                injector.at_checkpoint = functools.partial(_close_from, closer, client)
                run = blocking_operate(client, case)
                if injector.reached:
                    closer.join(10)
            finally:
                client.close()
            self._judge_closed(run, case)
            if not injector.reached:
                return
        self.problems.append(f"{operation}: more than {MAX_CHECKPOINTS} await points")

    def _judge_closed(self, run: Run, case: Case) -> None:
        with vpsorg.Client(**self.client_options()) as fresh:
            self._judge_blocking(fresh, run, case)


def _mark_and_cancel(reached: list[bool], task: asyncio.Task[Any]) -> None:
    reached.append(True)
    task.cancel()


def _aclose_soon(closing: list[asyncio.Future[None]], client: vpsorg.AsyncClient) -> None:
    closing.append(asyncio.ensure_future(client.aclose()))


def _close_from(closer: threading.Thread, client: vpsorg.Client) -> None:
    """Start ``client.close()`` in ``closer`` and return once it has begun (bounded)."""
    closer.start()
    for _ in range(1000):  # close() marks the runtime closed before anything else
        if client._runner.closed:
            return
        time.sleep(0.001)


def _selected(cases: Iterator[Case], surface: str) -> list[Case]:
    return [case for case in cases if case.surface == surface]


def _report(search: Search) -> None:
    shown = "\n".join(search.problems[:30])
    more = len(search.problems) - 30
    assert not search.problems, (
        f"{len(search.problems)} violations in {search.cases} cases:\n{shown}"
        + (f"\n... and {more} more" if more > 0 else "")
    )


def _exhaustive(request: pytest.FixtureRequest) -> bool:
    return EXHAUSTIVE


async def test_every_status_body_and_drop_is_accounted_for_async(
    sim: Simulator, request: pytest.FixtureRequest
) -> None:
    search = Search(sim)
    cases = [*status_cases(_exhaustive(request)), *other_cases()]
    await search.run_async(_selected(iter(cases), "async"))
    _report(search)


def test_every_status_body_and_drop_is_accounted_for_blocking(
    sim: Simulator, request: pytest.FixtureRequest
) -> None:
    search = Search(sim)
    cases = [*status_cases(_exhaustive(request)), *other_cases()]
    search.run_blocking(_selected(iter(cases), "blocking"))
    _report(search)


@pytest.mark.parametrize("operation", ["create", "reboot"])
async def test_cancellation_at_every_await_point_is_accounted_for(
    sim: Simulator, operation: str
) -> None:
    search = Search(sim)
    await search.cancel_everywhere(operation)
    assert search.cases > 3, "the call had too few await points to be a search"
    _report(search)


@pytest.mark.parametrize("operation", ["create", "reboot"])
async def test_aclose_at_every_await_point_is_accounted_for(sim: Simulator, operation: str) -> None:
    search = Search(sim)
    await search.aclose_everywhere(operation)
    assert search.cases > 3, "the call had too few await points to be a search"
    _report(search)


@pytest.mark.parametrize("operation", ["create", "reboot"])
def test_close_at_every_await_point_is_accounted_for(sim: Simulator, operation: str) -> None:
    search = Search(sim)
    search.close_everywhere(operation)
    assert search.cases > 3, "the call had too few await points to be a search"
    _report(search)


@pytest.mark.exhaustive
@pytest.mark.timeout(3600)
async def test_the_exhaustive_product_is_accounted_for(
    sim: Simulator, request: pytest.FixtureRequest
) -> None:
    """The full product of the fault model (``-m exhaustive``): every status with every
    body, before and after acting, for every operation on both surfaces."""
    if "exhaustive" not in (request.config.getoption("-m") or "") and not EXHAUSTIVE:
        pytest.skip("the full product runs with -m exhaustive (or VPSORG_EXHAUSTIVE=1)")
    search = Search(sim)
    cases = [*status_cases(True), *other_cases()]
    await search.run_async(_selected(iter(cases), "async"))
    await asyncio.to_thread(search.run_blocking, _selected(iter(cases), "blocking"))
    _report(search)


# -- a server that reflects the token in its status line ------------------------------

#: Answers a raw HTTP server sends, each reflecting the request's Authorization header.
REFLECTIONS = {
    "reason": b"HTTP/1.1 502 %s\r\nContent-Length: 0\r\n\r\n",
    "malformed": b"HTTP/1.1 5x2 %s\r\nContent-Length: 0\r\n\r\n",
    "header": b"HTTP/1.1 503 Unavailable\r\nX-Seen: %s\r\nContent-Length: 0\r\n\r\n",
    "body": b"HTTP/1.1 500 Oops\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s",
}


async def _reflecting_server(kind: str) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        authorization = b""
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"authorization:"):
                authorization = line.split(b":", 1)[1].strip()
        template = REFLECTIONS[kind]
        if kind == "body":
            page = b"<pre>" + authorization + b"</pre>"
            writer.write(template % (len(page), page))
        else:
            writer.write(template % authorization)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


@pytest.mark.parametrize("kind", sorted(REFLECTIONS))
@pytest.mark.parametrize("operation", ["create", "reboot"])
async def test_a_server_reflecting_the_token_gets_an_unknown_outcome_and_no_leak(
    kind: str, operation: str
) -> None:
    server = await _reflecting_server(kind)
    port = server.sockets[0].getsockname()[1]
    try:
        async with vpsorg.AsyncClient(
            token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/v1/", retry=POLICY
        ) as client:
            case = Case(operation, "async", "status")
            run = await operate(client.servers, case)
    finally:
        server.close()
        await server.wait_closed()
    [(_, value, error)] = run.outcomes
    assert value is None
    assert isinstance(error, vpsorg.OutcomeUnknownError), repr(error)
    assert error.request_sent is True
    assert _secret_problems(operation, error) == []
