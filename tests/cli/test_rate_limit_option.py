"""The global ``--rate-limit`` option (and ``$VPSORG_RATE_LIMIT``)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import vpsorg
from vpsorg import RateLimit
from vpsorg.cli import cli
from vpsorg.simulator import Simulator

from .conftest import Invoke


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The ``rate_limit`` of every client the CLI builds."""
    limits: list[object] = []
    original = vpsorg.AsyncClient.__init__

    def recording(self: vpsorg.AsyncClient, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        limits.append(self.rate_limit)

    monkeypatch.setattr(vpsorg.AsyncClient, "__init__", recording)
    return limits


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", vpsorg.RateLimit(per_second=5.0)),
        ("20:4", vpsorg.RateLimit(per_second=20.0, burst=4)),
        ("adaptive", vpsorg.RateLimit()),
        ("off", None),
    ],
)
def test_the_option_reaches_the_client(
    vpsorg: Invoke, seen: list[object], value: str, expected: object
) -> None:
    result = vpsorg("--rate-limit", value, "servers", "get", "12345")
    assert result.exit_code == 0, result.output
    assert seen == [expected]


def test_the_environment_variable_sets_it(sim: Simulator, seen: list[object]) -> None:
    env = {"VPSORG_API_TOKEN": sim.token, "VPSORG_BASE_URL": sim.base_url}
    result = CliRunner(env={**env, "VPSORG_RATE_LIMIT": "7"}).invoke(
        cli, ["servers", "get", "12345"]
    )
    assert result.exit_code == 0, result.output
    assert seen == [vpsorg.RateLimit(per_second=7.0)]


def test_no_option_means_the_adaptive_default(vpsorg: Invoke, seen: list[object]) -> None:
    assert vpsorg("servers", "get", "12345").exit_code == 0
    assert seen == [RateLimit()]


@pytest.mark.parametrize("value", ["fast", "-1", "5:0"])
def test_a_bad_value_is_a_usage_error(vpsorg: Invoke, value: str) -> None:
    result = vpsorg("--rate-limit", value, "servers", "list")
    assert result.exit_code == 2
    assert "--rate-limit" in result.stderr
