"""The simulator's rate limit: ``--rate-limit``/``--burst``, a bucket per API token,
``Retry-After`` on every 429, and the counters that say how many 429s were sent."""

from __future__ import annotations

import signal
import sys
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from vpsorg.cli._simulator import simulator as simulator_command
from vpsorg.simulator import DEMO_TOKEN, FaultConfig, Simulator, serve
from vpsorg.simulator.__main__ import build_parser
from vpsorg.simulator._options import server_settings

from .helpers import call
from .test_cli import _read_banner, _start

SECOND = "second-token"


@pytest.mark.parametrize(
    "argv",
    [
        ["--rate-limit", "50", "--burst", "50"],
        ["--rate-limit=50", "--rate-limit-burst=50"],  # the older spelling still works
    ],
)
def test_both_command_lines_take_rate_limit_and_burst(argv: list[str]) -> None:
    from_argparse = server_settings(vars(build_parser().parse_args(argv)))
    context = simulator_command.make_context("simulator", list(argv))
    from_click = server_settings(context.params)
    for settings in (from_argparse, from_click):
        assert settings["faults"] == FaultConfig(rate_limit=50.0, rate_limit_burst=50)
        assert settings["extra_tokens"] == ()


def test_both_command_lines_take_several_extra_tokens() -> None:
    argv = ["--extra-token", "a", "--extra-token", "b"]
    from_argparse = server_settings(vars(build_parser().parse_args(argv)))
    from_click = server_settings(simulator_command.make_context("simulator", argv).params)
    assert from_argparse["extra_tokens"] == from_click["extra_tokens"] == ("a", "b")
    assert from_argparse["token"] == from_click["token"] == DEMO_TOKEN


@pytest.mark.parametrize("argv", [["--burst", "0"], ["--burst", "x"], ["--rate-limit", "-1"]])
def test_bad_burst_or_rate_is_refused_by_both(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    result = CliRunner().invoke(simulator_command, argv)
    assert result.exit_code == 2


def test_the_help_of_both_names_burst() -> None:
    # Python 3.13's argparse names the metavar once for all the spellings of an option.
    shown = build_parser().format_help()
    assert "--burst N, --rate-limit-burst N" in shown or "--burst, --rate-limit-burst N" in shown
    result = CliRunner().invoke(simulator_command, ["--help"])
    assert "--burst, --rate-limit-burst N" in result.output
    assert "--extra-token TOKEN" in result.output


def _limited(rate: float, burst: int) -> dict[str, Any]:
    return {"faults": FaultConfig(rate_limit=rate, rate_limit_burst=burst)}


async def _statuses(
    session: aiohttp.ClientSession, url: str, token: str, count: int
) -> list[tuple[int, str | None]]:
    answers = []
    for _ in range(count):
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            await response.read()
            answers.append((response.status, response.headers.get("Retry-After")))
    return answers


@pytest.mark.parametrize("sim_options", [{**_limited(0.01, 3), "extra_tokens": [SECOND, "third"]}])
async def test_each_token_has_a_bucket_of_its_own(
    sim: Simulator, anonymous: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    assert sim.tokens == (DEMO_TOKEN, SECOND, "third")
    first = await _statuses(anonymous, url, DEMO_TOKEN, 4)
    # The first token's bucket is empty; the second's is full: its own burst of 3.
    second = await _statuses(anonymous, url, SECOND, 4)
    for answers in (first, second):
        assert [status for status, _ in answers] == [200, 200, 200, 429]
        assert [after for _, after in answers[:3]] == [None] * 3
        retry_after = answers[3][1]
        assert retry_after is not None
        assert int(retry_after) >= 1
    # "bearer" in any case names the same token, so it draws from the same bucket.
    async with anonymous.get(url, headers={"Authorization": f"bearer {SECOND}"}) as response:
        assert response.status == 429
    assert sim.fault_counts["rate_limited"] == 3
    assert sim.status_counts == {200: 6, 429: 3}


@pytest.mark.parametrize("sim_options", [{"extra_tokens": [SECOND]}])
async def test_an_extra_token_authenticates_and_others_still_do_not(
    sim: Simulator, anonymous: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    for token, expected in ((SECOND, 200), (DEMO_TOKEN, 200), ("third", 401)):
        headers = {"Authorization": f"Bearer {token}"}
        status, _, _ = await call(anonymous, "GET", url, headers=headers)
        assert status == expected


@pytest.mark.parametrize("extra", ["two words", "", " padded", ["list"]])
async def test_a_bad_extra_token_is_refused(extra: object) -> None:
    with pytest.raises(ValueError, match="extra token"):
        async with serve(extra_tokens=[extra]):  # type: ignore[list-item]
            pass
    with pytest.raises(ValueError, match="not one string"):
        async with serve(extra_tokens="abc"):
            pass


async def test_status_counts_count_every_429_sent_scripted_ones_too(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    url = sim.base_url + "servers/"
    sim.script(path="/api/v1/servers/", method="GET", status=429, headers={"Retry-After": "1"})
    # POST: aiohttp's client would resend a GET once on a dropped connection.
    sim.script(path="/api/v1/servers/", method="POST", drop=True)
    assert (await call(http, "GET", url))[0] == 429
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", url, json={})
    assert (await call(http, "GET", url))[0] == 200
    assert sim.status_counts == {429: 1, 200: 1}  # the dropped connection sent nothing
    assert sim.fault_counts["rate_limited"] == 0  # not the rate limit's doing
    sim.reset()
    assert sim.status_counts == {}


def _get(url: str, token: str) -> str:
    """``"200"``, or the error status and its Retry-After, e.g. ``"429 after 1"``."""
    request = urllib.request.Request(url + "servers/", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.status)
    except urllib.error.HTTPError as error:
        answer = f"{error.code} after {error.headers['Retry-After']}"
        error.close()
        return answer


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_the_command_line_rate_limit_and_burst_apply_per_token() -> None:
    # A rate so low that no token refills during the test: each gets exactly its burst.
    process, lines = _start("--rate-limit", "0.01", "--burst", "5", "--extra-token", SECOND)
    try:
        url, token = _read_banner(lines)
        # Retry-After: 1 / 0.01 = 100 s until one request is allowed again.
        assert [_get(url, token) for _ in range(6)] == ["200"] * 5 + ["429 after 100"]
        assert [_get(url, SECOND) for _ in range(6)] == ["200"] * 5 + ["429 after 100"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    "vpsorg_simulator_options",
    [{"faults": FaultConfig(rate_limit=0.01, rate_limit_burst=2), "extra_tokens": [SECOND]}],
)
def test_the_pytest_fixture_takes_the_rate_limit_and_extra_tokens(
    vpsorg_simulator: Simulator,
) -> None:
    sim = vpsorg_simulator
    assert sim.tokens == (DEMO_TOKEN, SECOND)
    assert sim.faults == FaultConfig(rate_limit=0.01, rate_limit_burst=2)
    assert [_get(sim.base_url, SECOND) for _ in range(3)] == ["200", "200", "429 after 100"]
    assert [_get(sim.base_url, DEMO_TOKEN) for _ in range(3)] == ["200", "200", "429 after 100"]
    assert sim.status_counts == {200: 4, 429: 2}
    assert sim.fault_counts["rate_limited"] == 2
