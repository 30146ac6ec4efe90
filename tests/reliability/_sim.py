"""What the reliability tests ask the simulator: the servers it really made, and when it
has finished every request it received."""

from __future__ import annotations

import time

from vpsorg.simulator import Simulator

__all__ = ["made", "quiesce"]


def made(sim: Simulator, name: str) -> list[int]:
    """The ids of the servers called ``name`` that the simulator really has."""
    return [server["id"] for server in sim.servers() if server["name"] == name]


def quiesce(sim: Simulator, seconds: float = 2.0) -> None:
    """Wait (bounded by ``seconds``) until the simulator has finished every request it
    received: a request cut short on the client side may still be acting on the server
    side (sleeping through a scripted delay, say)."""
    for _ in range(int(seconds * 1000)):
        if not sim.in_flight:
            return
        time.sleep(0.001)
    raise AssertionError(f"the simulator kept handling requests for {seconds:g} s")
