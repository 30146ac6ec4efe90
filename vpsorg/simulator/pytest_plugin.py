"""pytest fixtures that run the VPS.org simulator for your tests.

Registered automatically (entry point ``pytest11: vpsorg``) once vpsorg is installed:

``vpsorg_simulator``
:   A fresh [`Simulator`][vpsorg.simulator.Simulator] per test, running in a background
    thread, with ``provision_delay=0.05`` and ``action_delay=0.05`` so tests are quick.
``vpsorg_simulator_options``
:   The keyword arguments for [`serve_in_thread()`][vpsorg.simulator.serve_in_thread], merged
    over those defaults. Override it in your ``conftest.py``:

    ```python
    @pytest.fixture
    def vpsorg_simulator_options():
        return {"credits": 3, "faults": FaultConfig(error_rate_503=0.1), "seed": 7}
    ```

    A rate limit of 50 requests a second, 50 at once, for each of two tokens:

    ```python
    @pytest.fixture
    def vpsorg_simulator_options():
        limit = FaultConfig(rate_limit=50, rate_limit_burst=50)
        return {"faults": limit, "extra_tokens": ["second-token"]}
    ```

``vpsorg_client``
:   A blocking ``vpsorg.Client`` pointed at the simulator, closed after the test.
``vpsorg_async_client``
:   A ``vpsorg.AsyncClient`` pointed at the simulator, closed after the test (only when
    pytest-asyncio is installed).

Annotate them as ``vpsorg.simulator.Simulator``, ``vpsorg.Client`` and
``vpsorg.AsyncClient`` (and the options as ``dict[str, Any]``) and an editor completes on
them:

```python
def test_cleanup(
    vpsorg_client: vpsorg.Client, vpsorg_simulator: Simulator
) -> None: ...
```

Importing this module is cheap: the simulator and the SDK load when a fixture is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from vpsorg import AsyncClient, Client
    from vpsorg.simulator._server import Simulator

__all__ = [
    "vpsorg_async_client",
    "vpsorg_client",
    "vpsorg_simulator",
    "vpsorg_simulator_options",
]

#: What ``vpsorg_simulator`` passes to ``serve_in_thread`` unless options override it.
DEFAULT_OPTIONS: dict[str, Any] = {"provision_delay": 0.05, "action_delay": 0.05}


@pytest.fixture
def vpsorg_simulator_options() -> dict[str, Any]:
    """Keyword arguments for ``serve_in_thread``; override this fixture to change them."""
    return {}


@pytest.fixture
def vpsorg_simulator(vpsorg_simulator_options: dict[str, Any]) -> Iterator[Simulator]:
    """A fresh simulator in a background thread for one test."""
    from vpsorg.simulator._server import serve_in_thread

    with serve_in_thread(**{**DEFAULT_OPTIONS, **vpsorg_simulator_options}) as sim:
        yield sim


@pytest.fixture
def vpsorg_client(vpsorg_simulator: Simulator) -> Iterator[Client]:
    """A blocking ``vpsorg.Client`` for the test's simulator."""
    from vpsorg import Client

    client = Client(token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url)
    try:
        yield client
    finally:
        client.close()


try:
    import pytest_asyncio
except ImportError:  # pytest-asyncio is optional: the async fixture is simply absent
    pass
else:

    @pytest_asyncio.fixture
    async def vpsorg_async_client(vpsorg_simulator: Simulator) -> AsyncIterator[AsyncClient]:
        """A ``vpsorg.AsyncClient`` for the test's simulator, closed with ``aclose()``."""
        from vpsorg import AsyncClient

        client = AsyncClient(token=vpsorg_simulator.token, base_url=vpsorg_simulator.base_url)
        try:
            yield client
        finally:
            await client.aclose()
