"""A faithful local fake of the VPS.org server API, for demos, development and tests.

Examples:
    Run it from a shell:

    ```sh
    python -m vpsorg.simulator --port 8080    # or: vpsorg simulator --port 8080
    ```

    or in process:

    ```python
    async with vpsorg.simulator.serve(provision_delay=0.1) as sim:
        ...  # talk to sim.base_url with sim.token

    with vpsorg.simulator.serve_in_thread() as sim:  # for blocking code
        ...
    ```

It serves the nine operations of the reference under ``/api/v1/servers/`` (every path
ends with ``/``), authenticates ``Authorization: Bearer <token>`` (default
[`DEMO_TOKEN`][vpsorg.simulator.DEMO_TOKEN]), answers with Django REST Framework's status
codes and error shapes, paginates lists DRF-style (``page``, ``page_size`` up to 1000, absolute
``next``/``previous`` URLs) and serves its OpenAPI 3.1 document, unauthenticated, at
``/api/v1/openapi.json``. Every response has an ``X-Request-ID`` header.

State
:   Two sample servers exist at start (and after ``sim.reset()``), exactly as in the
    reference: 12345 ``web-server-01`` (us-west, plan 1, OS 5, 203.0.113.10) and 12346
    ``db-server-01`` (us-east, plan 2, OS 3, 203.0.113.11). New servers get ids from
    12347 up. Statuses change lazily as time passes: create → ``provisioning`` →
    ``active`` after ``provision_delay`` (IPv4 and IPv6 then assigned, derived from the
    id); stop: ``active`` → ``stopping`` → ``stopped``; start: ``stopped`` →
    ``starting`` → ``active``; reboot: ``active`` → ``rebooting`` → ``active``, each
    after ``action_delay``. ``sim.suspend(id)`` sets ``suspended``. Each create costs one
    credit when ``credits`` is set; at zero, creates answer ``402``.

Catalogue
:   | plan | name            | vcpus | memory (MB) | storage (GB) | bandwidth (GB) |
    |------|-----------------|-------|-------------|--------------|----------------|
    | 1    | Standard VPS    | 2     | 4096        | 80           | 2048           |
    | 2    | Performance VPS | 4     | 8192        | 160          | 4096           |
    | 3    | Starter VPS     | 1     | 2048        | 40           | 1024           |
    | 4    | High Memory VPS | 8     | 32768       | 320          | 8192           |

    Operating systems: 3 ``Debian 12``, 5 ``Ubuntu 22.04 LTS``, 6 ``Ubuntu 24.04 LTS``,
    7 ``Rocky Linux 9``. Locations: ``us-west``, ``us-east``, ``eu-central``,
    ``ap-southeast``. Plans 1 and 2, OSes 3 and 5 and the first two locations are the
    reference's; the others are extras.

Faults
:   [`FaultConfig`][vpsorg.simulator.FaultConfig] injects latency, 500s, HTML 503s, dropped
    connections and per-token rate limiting (429 with ``Retry-After``), deterministically under
    ``seed``; ``sim.set_faults()`` changes them at run time and ``sim.script()`` queues
    exact answers for the next matching requests. ``extra_tokens`` accepts more tokens
    than ``token``, each with a rate-limit bucket of its own. ``sim.fault_counts``,
    ``sim.request_count``, ``sim.request_counts`` and ``sim.status_counts`` count
    everything; ``sim.add_servers(50_000)`` seeds a large account at once.

A pytest plugin (``vpsorg.simulator.pytest_plugin``) provides the ``vpsorg_simulator``,
``vpsorg_client`` and ``vpsorg_async_client`` fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vpsorg.simulator._catalog import DEMO_TOKEN
from vpsorg.simulator._faults import FaultConfig

if TYPE_CHECKING:
    from vpsorg.simulator._server import Simulator, serve, serve_in_thread

__all__ = ["DEMO_TOKEN", "FaultConfig", "Simulator", "serve", "serve_in_thread"]

_LAZY = frozenset({"Simulator", "serve", "serve_in_thread"})


def __getattr__(name: str) -> Any:
    # The server (and aiohttp.web) loads on first use, so importing the package, e.g.
    # for the pytest plugin, stays cheap.
    if name in _LAZY:
        from vpsorg.simulator import _server

        return getattr(_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
