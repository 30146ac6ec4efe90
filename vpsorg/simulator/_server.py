"""Running the simulator: [`serve()`][vpsorg.simulator.serve] (in the current event loop),
[`serve_in_thread()`][vpsorg.simulator.serve_in_thread] (in a background thread with its own
loop) and the [`Simulator`][vpsorg.simulator.Simulator] handle both yield.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

from aiohttp import web

from vpsorg._runtime import LoopThread, call_in_loop
from vpsorg.simulator._app import SimulatorApp
from vpsorg.simulator._catalog import DEMO_TOKEN, LOCATIONS, OPERATING_SYSTEMS, PLANS
from vpsorg.simulator._faults import FaultConfig, ScriptedFault
from vpsorg.simulator._views import detail_view

__all__ = ["DEMO_TOKEN", "Simulator", "serve", "serve_in_thread"]

#: Listen backlog: enough for thousands of clients connecting at once.
BACKLOG: Final = 4096

_T = TypeVar("_T")


class Simulator:
    """A handle to a running simulator. Every method is safe to call from any thread.

    Calls made from another thread than the simulator's are run on its event loop and
    waited for, so they never race with requests being served.

    Attributes:
        base_url: the API root, e.g. ``"http://127.0.0.1:8080/api/v1/"``.
        token: the bearer token the simulator accepts.
        tokens: every bearer token it accepts: ``token``, then the ``extra_tokens``. Each
            has a rate-limit bucket of its own.
        host: the address it listens on.
        port: the port it listens on (the real one when started with ``port=0``).
    """

    def __init__(
        self, app: SimulatorApp, loop: asyncio.AbstractEventLoop, host: str, port: int
    ) -> None:
        self._app = app
        self._loop = loop
        self.host = host
        self.port = port
        self.token: str = app.token
        self.tokens: tuple[str, ...] = app.tokens
        url_host = f"[{host}]" if ":" in host else host
        self.base_url: str = f"http://{url_host}:{port}/api/v1/"

    def __repr__(self) -> str:
        return f"<Simulator {self.base_url}>"

    def _call(self, function: Callable[[], _T]) -> _T:
        return call_in_loop(self._loop, function)

    # -- faults ------------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        """The random-fault settings in force."""
        return self._call(lambda: self._app.injector.config)

    def set_faults(self, faults: FaultConfig | None) -> None:
        """Replace the random-fault settings from now on.

        Args:
            faults: the new settings; ``None`` means no faults (as ``FaultConfig()``).

        Raises:
            TypeError: ``faults`` is neither a ``FaultConfig`` nor ``None`` (nothing
                is changed).

        Examples:
            ```python
            sim.set_faults(FaultConfig(error_rate_503=0.2))
            sim.set_faults(None)  # no faults any more
            ```
        """
        config = FaultConfig() if faults is None else faults
        if not isinstance(config, FaultConfig):
            raise TypeError(
                f"set_faults() takes a FaultConfig or None, not {type(faults).__name__}"
            )
        self._call(lambda: self._app.injector.set_config(config))

    def script(
        self,
        *,
        path: str,
        method: str | None = None,
        times: int = 1,
        status: int | None = None,
        body: bytes | str | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        drop: bool = False,
        delay: float = 0.0,
        after_action: bool = False,
    ) -> None:
        """Answer the next ``times`` requests to ``path`` (and ``method``) differently.

        ``path`` is the URL path, e.g. ``/api/v1/servers/12345/start/``; ending it with
        ``*`` makes it a prefix. The request is answered with ``status`` (and ``body``,
        ``headers``), or its connection dropped (``drop=True``), after ``delay`` seconds.
        With neither ``status`` nor ``drop`` the request is only delayed. With
        ``after_action=True`` the real handler runs first, so state changes, and only
        then is its response replaced. Entries are matched in the order they were made.

        Examples:
            ```python
            sim.script(path="/api/v1/servers/", method="POST", status=503)
            sim.script(path="/api/v1/servers/*", drop=True, after_action=True)
            ```
        """
        entry = ScriptedFault(
            path=path,
            method=method,
            remaining=times,
            status=status,
            body=body,
            headers=dict(headers) if headers is not None else None,
            drop=drop,
            delay=delay,
            after_action=after_action,
        )
        self._call(lambda: self._app.injector.add_script(entry))

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many of each fault were injected, as a snapshot.

        Keys: ``latency`` (requests delayed by random latency), ``error_500``,
        ``error_503``, ``rate_limited`` (429s sent by the rate limit), ``dropped``
        (random faults) and ``scripted`` (every request a
        [`script`][vpsorg.simulator.Simulator.script] entry applied to, whatever it did).
        """
        return self._call(lambda: dict(self._app.injector.counts))

    @property
    def status_counts(self) -> dict[int, int]:
        """Responses sent, by status code, as a snapshot: ``status_counts.get(429, 0)``
        is every 429 sent, by the rate limit or by a
        [`script`][vpsorg.simulator.Simulator.script] entry. A dropped connection sends no
        response and is not counted here."""
        return self._call(lambda: dict(self._app.status_counts))

    # -- counters ----------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """Every request received, faulted or not."""
        return self._call(lambda: self._app.request_count)

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests by ``"METHOD /path/template/"``, e.g. ``"GET /api/v1/servers/{id}/"``.

        Paths that match no route are counted under their literal path.
        """
        return self._call(lambda: dict(self._app.request_counts))

    @property
    def in_flight(self) -> int:
        """Requests being handled right now, one sleeping through a scripted delay included.

        A request the client gave up on (a timeout, a cancelled task, a closed client) may
        still be acting here: wait for this to reach 0 before judging what the server did.
        """
        return self._call(self._app.in_flight)

    # -- state -------------------------------------------------------------------------

    def servers(self) -> list[dict[str, Any]]:
        """Detail-view snapshots of every server, in id order."""

        def snapshot() -> list[dict[str, Any]]:
            self._app.store.settle()
            return [detail_view(record) for record in self._app.store]

        return self._call(snapshot)

    def count_by_name(self, name: str) -> int:
        """How many servers are called ``name`` (names need not be unique)."""
        return self._call(lambda: sum(1 for r in self._app.store if r.name == name))

    @property
    def credits(self) -> int | None:
        """Credits left (each create costs one), or ``None`` when unlimited."""
        return self._call(lambda: self._app.store.credits)

    def add_servers(
        self,
        count: int,
        *,
        status: str = "active",
        location: str = "us-west",
        plan_id: int = 1,
        os_id: int = 5,
        name_prefix: str = "seeded",
    ) -> list[int]:
        """Add ``count`` servers at once, already provisioned; return their ids in order.

        For tests and benchmarks that need a large account (50,000 servers take well
        under a second), without a create request each. They are named
        ``seeded-1``, ``seeded-2``, ... (``name_prefix``), cost no credits, and are in
        ``status``: ``"active"``, ``"stopped"`` or ``"suspended"``. ``reset()`` removes
        them.

        Raises:
            ValueError: another status, an unknown location, plan or operating system, or
                a negative count.

        Examples:
            ```python
            ids = sim.add_servers(50_000)
            ```
        """
        if location not in LOCATIONS:
            raise ValueError(f"location must be one of {sorted(LOCATIONS)}, got {location!r}")
        if plan_id not in PLANS:
            raise ValueError(f"plan_id must be one of {sorted(PLANS)}, got {plan_id!r}")
        if os_id not in OPERATING_SYSTEMS:
            raise ValueError(f"os_id must be one of {sorted(OPERATING_SYSTEMS)}, got {os_id!r}")
        added = self._call(
            lambda: self._app.store.add_many(
                count,
                status=status,
                location=location,
                plan_id=plan_id,
                os_id=os_id,
                name_prefix=name_prefix,
            )
        )
        return list(added)

    def suspend(self, server_id: int) -> None:
        """Suspend a server, as the provider would. Raises `KeyError` if unknown."""

        def apply() -> bool:
            self._app.store.settle()
            return self._app.store.suspend(server_id)

        if not self._call(apply):
            raise KeyError(server_id)

    def reset(self) -> None:
        """Back to the two sample servers, initial credits, no scripts, zeroed counters.

        The random-fault settings stay; the seeded random sequence starts over.
        """
        self._call(self._app.reset)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str = DEMO_TOKEN,
    extra_tokens: Sequence[str] = (),
    provision_delay: float = 3.0,
    action_delay: float = 1.0,
    credits: int | None = None,
    seed: int | None = None,
    faults: FaultConfig | None = None,
    page_size: int = 20,
) -> AsyncIterator[Simulator]:
    """Run a simulator in the current event loop for the duration of the block.

    ``port=0`` picks a free port; read it back from ``sim.port`` or ``sim.base_url``.
    ``extra_tokens`` are further bearer tokens accepted besides ``token``; with a rate
    limit (``faults=FaultConfig(rate_limit=50, rate_limit_burst=50)``) each token has a
    bucket of its own, as each API token of a real account would.

    Examples:
        ```python
        async with vpsorg.simulator.serve(provision_delay=0.1) as sim:
            print(sim.base_url)
        ```
    """
    app = SimulatorApp(
        token=token,
        extra_tokens=extra_tokens,
        provision_delay=provision_delay,
        action_delay=action_delay,
        credits=credits,
        seed=seed,
        faults=faults,
        page_size=page_size,
    )
    server = web.Server(app.handle, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=0.5)
    await runner.setup()
    try:
        sock = _bind(host, port)
        try:
            await web.SockSite(runner, sock, backlog=BACKLOG).start()
        except BaseException:
            sock.close()
            raise
        # From here the event loop's server owns the socket and closes it in cleanup().
        bound_port = sock.getsockname()[1]
        yield Simulator(app, asyncio.get_running_loop(), host, bound_port)
    finally:
        await runner.cleanup()
        await app.cancel_in_flight()


@contextlib.contextmanager
def serve_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str = DEMO_TOKEN,
    extra_tokens: Sequence[str] = (),
    provision_delay: float = 3.0,
    action_delay: float = 1.0,
    credits: int | None = None,
    seed: int | None = None,
    faults: FaultConfig | None = None,
    page_size: int = 20,
) -> Iterator[Simulator]:
    """Like [`serve()`][vpsorg.simulator.serve], for blocking code: the simulator runs on
    its own loop in a background thread, stopped and joined when the block ends.

    Examples:
        ```python
        with vpsorg.simulator.serve_in_thread() as sim:
            headers = {"Authorization": f"Bearer {sim.token}"}
            response = requests.get(sim.base_url + "servers/", headers=headers)
        ```
    """
    runtime = LoopThread(name="vpsorg-simulator", use_uvloop=False)
    try:
        context = serve(
            host=host,
            port=port,
            token=token,
            extra_tokens=extra_tokens,
            provision_delay=provision_delay,
            action_delay=action_delay,
            credits=credits,
            seed=seed,
            faults=faults,
            page_size=page_size,
        )
        sim = runtime.call(context.__aenter__)
        try:
            yield sim
        finally:
            runtime.call(context.__aexit__, None, None, None)
    finally:
        runtime.close()
