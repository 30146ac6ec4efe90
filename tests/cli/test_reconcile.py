"""``vpsorg servers create --reconcile`` settles a create whose answer was lost (issue 14,
item 6), against the simulator's scripted "commit, then drop" fault."""

from __future__ import annotations

import json

from vpsorg.simulator import Simulator

from .conftest import Invoke

CREATE = ("servers", "create", "--name", "web-42", "--plan-id", "1", "--os-id", "5")


def test_create_reconcile_shows_the_server_the_lost_create_made(
    vpsorg: Invoke, sim: Simulator
) -> None:
    sim.script(path="/api/v1/servers/", method="POST", drop=True, after_action=True)
    result = vpsorg(*CREATE, "--location", "us-west", "--reconcile")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["name"] == "web-42"
    assert [s["id"] for s in sim.servers() if s["name"] == "web-42"] == [shown["id"]]


def test_create_reconcile_says_when_nothing_was_created(vpsorg: Invoke, sim: Simulator) -> None:
    sim.script(path="/api/v1/servers/", method="POST", drop=True)
    result = vpsorg(*CREATE, "--location", "us-west", "--reconcile")
    assert result.exit_code == 1
    assert "creating it again is safe" in result.stderr
    assert not [s for s in sim.servers() if s["name"] == "web-42"]


def test_create_without_reconcile_reports_the_unknown_outcome(
    vpsorg: Invoke, sim: Simulator
) -> None:
    sim.script(path="/api/v1/servers/", method="POST", drop=True, after_action=True)
    result = vpsorg(*CREATE, "--location", "us-west")
    assert result.exit_code == 1
    assert "outcome unknown" in result.stderr
