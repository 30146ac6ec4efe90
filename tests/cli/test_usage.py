"""The group: help, version, configuration, usage errors and the token's secrecy."""

from __future__ import annotations

import pytest

import vpsorg
from vpsorg.simulator import Simulator

from .conftest import Invoke, parse


def test_help_lists_the_commands(run_cli: Invoke) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("demo", "servers", "simulator", "--token", "VPSORG_API_TOKEN", "--output"):
        assert command in result.stdout
    servers_help = run_cli("servers", "--help").stdout
    for command in ("list", "get", "create", "update", "patch", "delete", "start", "wait"):
        assert command in servers_help


def test_version(run_cli: Invoke) -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"vpsorg, version {vpsorg.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["servers", "get", "not-a-number"],
        ["servers", "get", "0"],
        ["servers", "frobnicate"],
        ["servers", "create", "--name", "x"],
        ["--output", "yaml", "servers", "list"],
        ["servers", "start"],
        ["demo", "--servers", "0"],
    ],
)
def test_usage_errors_exit_2(vpsorg: Invoke, args: list[str]) -> None:
    result = vpsorg(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stderr or "Error:" in result.stderr


def test_no_token_is_a_usage_error(run_cli: Invoke, sim: Simulator) -> None:
    result = run_cli("--base-url", sim.base_url, "servers", "list")
    assert result.exit_code == 2
    assert "no API token" in result.stderr and "--token" in result.stderr


def test_settings_come_from_the_environment(run_cli: Invoke, sim: Simulator) -> None:
    from click.testing import CliRunner

    from vpsorg.cli import cli

    env = {"VPSORG_API_TOKEN": sim.token, "VPSORG_BASE_URL": sim.base_url}
    result = CliRunner(env=env).invoke(cli, ["servers", "get", "12345"])
    assert result.exit_code == 0, result.output
    assert parse(result)["id"] == 12345


def test_a_wrong_token_exits_1(run_cli: Invoke, sim: Simulator) -> None:
    result = run_cli("--base-url", sim.base_url, "--token", "wrong", "servers", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: HTTP 401 for GET ")
    assert "wrong" not in result.stderr


def test_no_server_listening_exits_1(run_cli: Invoke) -> None:
    from vpsorg.simulator import serve_in_thread

    with serve_in_thread() as gone:  # a port that was just free, and is again
        url = gone.base_url
    result = run_cli("--base-url", url, "--token", "t", "servers", "get", "12345")
    assert result.exit_code == 1
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: ")
    assert hint == (
        f"hint: could not reach {url}: is the simulator running? "
        f"Start it with `vpsorg simulator --port {gone.port}`."
    )
    assert "Traceback" not in result.output


def test_a_bulk_command_with_no_server_listening_gives_the_hint_once(run_cli: Invoke) -> None:
    from vpsorg.simulator import serve_in_thread

    with serve_in_thread() as gone:
        url = gone.base_url
    result = run_cli("--base-url", url, "--token", "t", "servers", "stop", "1", "2")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:2]] == ["server 1", "server 2"]
    assert lines[2:] == [
        f"hint: could not reach {url}: is the simulator running? "
        f"Start it with `vpsorg simulator --port {gone.port}`."
    ]


def test_an_unreachable_remote_api_hints_at_the_base_url() -> None:
    from vpsorg.cli._runtime import connection_hint

    hint = connection_hint("https://api.example.test/api/v1/")
    assert hint == (
        "could not reach https://api.example.test/api/v1/: is the API up, and is "
        "--base-url ($VPSORG_BASE_URL) right?"
    )


def test_a_bad_base_url_in_the_environment_names_the_variable(run_cli: Invoke) -> None:
    from click.testing import CliRunner

    from vpsorg.cli import cli

    runner = CliRunner(env={"VPSORG_API_TOKEN": "t", "VPSORG_BASE_URL": "ftp://nowhere"})
    result = runner.invoke(cli, ["servers", "list"], catch_exceptions=False)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()  # one line, no usage banner
    assert line.startswith("error: $VPSORG_BASE_URL='ftp://nowhere': ")
    assert "http:// or https://" in line
    assert "Usage" not in result.output


def test_a_bad_base_url_option_names_the_option(run_cli: Invoke) -> None:
    result = run_cli("--token", "t", "--base-url", "nowhere", "servers", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --base-url='nowhere': ")
    assert "Usage" not in result.output


def test_allow_insecure_http(run_cli: Invoke) -> None:
    url = "http://192.0.2.1:9/api/v1/"  # not loopback (and never contacted here)
    refused = run_cli("--token", "t", "--base-url", url, "servers", "list")
    assert refused.exit_code == 2
    assert "--allow-insecure-http" in refused.stderr
    assert "allow_insecure_http=True" not in refused.stderr
    help_text = run_cli("--help").stdout
    assert "--allow-insecure-http" in help_text


def test_allow_insecure_http_reaches_the_client() -> None:
    from vpsorg.cli._runtime import Settings

    async def build() -> str:
        settings = Settings(token="t", base_url="http://192.0.2.1:9/api/v1/")
        settings.allow_insecure_http = True
        async with settings.client() as client:
            return client.base_url

    import asyncio

    assert asyncio.run(build()) == "http://192.0.2.1:9/api/v1/"


def test_a_token_that_is_not_a_string_says_so(sim: Simulator) -> None:
    from vpsorg.cli import main

    with pytest.raises(vpsorg.ConfigurationError, match="must be a string, not int"):
        vpsorg.Client(token=12345, base_url=sim.base_url)  # type: ignore[arg-type]
    # The command line takes the int as the text "12345": a wrong token, not "no token".
    code = main(["--token", 12345, "--base-url", sim.base_url, "servers", "list"])  # type: ignore[list-item]
    assert code == 1


def test_the_token_is_never_printed(vpsorg: Invoke, sim: Simulator) -> None:
    outputs = [
        vpsorg("-vv", "servers", "list"),
        vpsorg("-vv", "servers", "get", "99999"),
        vpsorg("-vv", "-o", "table", "servers", "start", "12345", "99999"),
    ]
    assert any("GET" in r.stderr for r in outputs)  # -vv logs every request
    for result in outputs:
        assert sim.token not in result.output


def test_verbose_logging_is_removed_after_the_command(vpsorg: Invoke) -> None:
    import logging

    logger = logging.getLogger("vpsorg")
    handlers, level = list(logger.handlers), logger.level
    vpsorg("-vv", "servers", "list")
    assert logger.handlers == handlers and logger.level == level


def test_the_sigint_handler_is_handed_back(vpsorg: Invoke) -> None:
    import signal

    before = signal.getsignal(signal.SIGINT)
    assert vpsorg("servers", "list").exit_code == 0
    assert signal.getsignal(signal.SIGINT) is before
