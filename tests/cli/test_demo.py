"""``vpsorg demo``: the whole fleet life on an in-process simulator, then again under faults."""

from __future__ import annotations

import pytest

from .conftest import Invoke, parse

FAST = ("--provision-delay", "0.1", "--action-delay", "0.05", "--latency", "0")
FLEET = [
    "create",
    "wait until active",
    "reboot",
    "wait until active",
    "stop",
    "wait until stopped",
    "delete",
]
UNDER_FAULTS = ["create (faults on)", "get (faults on)", "delete (faults on)"]


def test_demo_without_faults_runs_every_phase_and_restores_the_account(run_cli: Invoke) -> None:
    result = run_cli(
        "-o", "json", "demo", "--no-faults", "--servers", "5", "--concurrency", "3", *FAST
    )
    assert result.exit_code == 0, result.stderr
    report = parse(result)
    assert report["ok"] is True and report["restored"] is True
    assert report["faults"] is None
    assert (report["servers"], report["concurrency"]) == (5, 3)
    assert [p["phase"] for p in report["phases"]] == [*FLEET, "list"]
    *fleet, listing = report["phases"]
    for phase in fleet:
        assert (phase["count"], phase["succeeded"], phase["failed"]) == (5, 5, 0)
        assert phase["seconds"] > 0 and phase["ops_per_second"] > 0
    # The list phase counts servers (as its bar does), not calls.
    assert (listing["count"], listing["succeeded"], listing["failed"]) == (2, 2, 0)
    assert [s["id"] for s in report["servers_at_end"]] == [12345, 12346]
    assert [s["id"] for s in report["servers_at_start"]] == [12345, 12346]
    assert report["requests"] >= 5 * 5  # five bulk phases of one request per server
    assert result.stderr == ""


def test_demo_under_faults_keeps_every_promise(run_cli: Invoke) -> None:
    result = run_cli("-o", "json", "demo", "--servers", "20", *FAST)
    assert result.exit_code == 0, result.stderr
    report = parse(result)
    assert report["ok"] is True and report["restored"] is True
    names = [p["phase"] for p in report["phases"]]
    assert names[: len(FLEET)] == FLEET
    assert names[len(FLEET) : len(FLEET) + 3] == UNDER_FAULTS
    assert names[-3:] == ["settle unknown (faults off)", "clean up (faults off)", "list"]
    faults = report["faults"]
    injected = faults["faults_injected"]
    assert injected["error_500"] + injected["error_503"] + injected["dropped"] > 0
    # Idempotent requests were retried; no create was ever resent.
    assert faults["retries"] > 0
    assert "POST" not in faults["retries_by_method"]
    # Every create is accounted for: created, unknown, or another error.
    created, unknown = faults["created"], faults["outcome_unknown"]
    assert created + unknown + faults["other_errors"] == faults["creates_sent"] == 20
    # find_created settled every unknown create, and what it found is what the
    # simulator counted: every reported create, plus the unknown ones that had acted.
    found, not_created = faults["ambiguous_found"], faults["ambiguous_not_created"]
    assert (found + not_created, faults["ambiguous_unsettled"]) == (unknown, 0)
    assert faults["servers_on_simulator"] == created + found
    assert faults["duplicated_creates"] == 0
    assert faults["items_lost_to_rate_limit"] == 0
    assert faults["rate_limited"] >= 0 and faults["rate_limit_pauses"] >= 0
    assert faults["items_accounted_for"] == faults["items"] == 20 + 2 * created + unknown
    # A failed delete may have deleted its server all the same (an attempt acted, then
    # every answer was lost), so only the others leave one behind.
    [delete] = [p for p in report["phases"] if p["phase"] == "delete (faults on)"]
    assert faults["deletes_failed"] == delete["failed"]
    left_by_deletes = faults["deletes_failed"] - faults["deletes_failed_server_gone"]
    assert faults["cleaned_up_afterwards"] == found + left_by_deletes
    assert faults["stray_servers"] == 0
    [cleanup] = [p for p in report["phases"] if p["phase"] == "clean up (faults off)"]
    assert (cleanup["count"], cleanup["failed"]) == (found + left_by_deletes, 0)
    create = report["phases"][len(FLEET)]
    assert (create["count"], create["succeeded"], create["failed"]) == (
        20,
        created,
        20 - created,
    )
    assert all(p["under_faults"] for p in report["phases"][len(FLEET) : len(FLEET) + 3])
    if unknown:
        assert faults["example_outcome_unknown"].startswith("chaos-0")
        assert "OutcomeUnknown" in faults["example_outcome_unknown"]
    # Failures under faults are the point: they are counted, not printed one by one.
    assert result.stderr == ""


def test_demo_piped_prints_a_short_summary(run_cli: Invoke) -> None:
    result = run_cli("demo", "--servers", "5", *FAST)  # CliRunner's stdout is not a terminal
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) < 45
    assert max(len(line) for line in lines) <= 80
    assert "{" not in result.stdout  # not JSON
    assert "\x1b[" not in result.stdout  # no colour codes in a file
    text = result.stdout
    assert "Fleet demo: 5 servers, concurrency 10" in text
    for phase in [*FLEET, *UNDER_FAULTS, "settle unknown (faults off)", "list"]:
        assert phase in text
    for fact in (
        "faults injected",
        "retries taken",
        "creates sent         5:",
        "ambiguous creates settled:",
        "duplicated creates   0",
        "rate limited ",
        "items accounted for",
    ):
        assert fact in text
    assert text.rstrip().splitlines()[-1].startswith("The account is back to its 2 sample servers.")
    assert "The account at the end" not in text  # the server table is for terminals


def test_demo_table_fits_80_columns(run_cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vpsorg.cli._render.stream_is_terminal", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("-o", "table", "demo", "--servers", "3", "--no-faults", *FAST)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "The account at the end: 2 servers" in out
    for whole in ("web-server-01", "Standard VPS", "Performance VPS", "Ubuntu 22.04 LTS"):
        assert whole in out  # no name cut or wrapped
    for header in ("PHASE", "COUNT", "OK", "FAILED", "WALL TIME", "OPS/S"):
        assert header in out
    assert "The account is back to its 2 sample servers." in out


def test_the_list_bar_counts_servers() -> None:
    from rich.progress import Progress

    from vpsorg.cli._progress import Phases

    with Phases() as phases:
        bar = phases.add("list", None)
        bar.finish(succeeded=2)
        progress: Progress = phases._progress
        [task] = progress.tasks
    assert (task.total, task.completed, task.fields["ok"], task.fields["failed"]) == (2, 2, 2, 0)


def test_demo_with_failed_creates_exits_1_and_still_cleans_up(run_cli: Invoke) -> None:
    result = run_cli("-o", "json", "demo", "--no-faults", "--servers", "5", "--credits", "3", *FAST)
    assert result.exit_code == 1
    report = parse(result)
    assert report["ok"] is False and report["restored"] is True
    create = report["phases"][0]
    assert (create["count"], create["succeeded"], create["failed"]) == (5, 3, 2)
    assert all(p["count"] == 3 and p["failed"] == 0 for p in report["phases"][1:-1])
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert all(e.startswith("error: create: demo-00") and "HTTP 402" in e for e in errors)


def test_demo_defaults_are_real(run_cli: Invoke) -> None:
    help_text = run_cli("demo", "--help").stdout
    for default in (
        "--servers INTEGER RANGE",
        "[default: 25;",
        "--faults / --no-faults",
        "[default: faults]",
        "--provision-delay SECONDS",
        "[default: 2.0;",
        "--action-delay SECONDS",
        "[default: 0.5;",
    ):
        assert default in help_text


async def test_fault_phase_accounts_for_a_failed_delete_that_acted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race behind a once-failing ``cleaned_up_afterwards``: a delete whose attempts
    all fail can still have deleted its server (the first acted, then its answer was
    lost), so it must not be counted as a leftover. Scripted, so it happens every time."""
    import vpsorg
    from vpsorg.cli import _demo_faults
    from vpsorg.cli._demo import DemoReport, Runner
    from vpsorg.cli._progress import Phases
    from vpsorg.simulator import FaultConfig, serve

    monkeypatch.setattr(_demo_faults, "FAULTS", FaultConfig())  # only the scripted faults
    async with serve(port=0, provision_delay=0.05, action_delay=0.05) as sim:
        servers = "/api/v1/servers/"
        sim.script(path=servers, method="POST", drop=True, after_action=True)  # made
        sim.script(path=servers, method="POST", drop=True)  # not made
        # Every attempt of the first delete answers 500; the first one deleted.
        sim.script(path=f"{servers}*", method="DELETE", status=500, after_action=True, times=4)
        async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
            before = {s.id for s in await client.servers.list()}
            with Phases() as phases:
                runner = Runner(DemoReport(4, 1), phases)
                report = await _demo_faults.fault_phase(client, sim, runner, 4, 1)
            after = {s.id for s in await client.servers.list()}
    assert (report.created, report.outcome_unknown) == (2, 2)
    assert (report.found, report.not_created, report.unsettled) == (1, 1, 0)
    assert (report.servers_made, report.duplicated) == (3, 0)
    assert (report.deletes_failed, report.deletes_failed_but_gone) == (1, 1)
    assert (report.leftovers, report.stray) == (1, 0)  # only the server reconcile found
    assert report.ok and after == before
    text = "\n".join(report.lines())
    assert "ambiguous creates settled: 1 found on the API, 1 not created" in text
    assert "deletes failed       1: 0 left the server, 1 had deleted it" in text


async def test_fault_phase_under_a_tight_rate_limit_loses_nothing() -> None:
    """The rate limit of the fault phase, made tight and alone: 429s are met, the client
    pauses, and every item still succeeds; the report says so."""
    from unittest import mock

    import vpsorg
    from vpsorg.cli import _demo_faults
    from vpsorg.cli._demo import DemoReport, Runner
    from vpsorg.cli._progress import Phases
    from vpsorg.simulator import FaultConfig, serve

    tight = FaultConfig(rate_limit=20, rate_limit_burst=2)
    async with (
        serve(port=0, provision_delay=0.05, action_delay=0.05) as sim,
        vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client,
    ):
        with mock.patch.object(_demo_faults, "FAULTS", tight), Phases() as phases:
            runner = Runner(DemoReport(10, 10), phases)
            report = await _demo_faults.fault_phase(client, sim, runner, 10, 10)
    assert report.injected["rate_limited"] > 0 and report.pauses >= 1
    assert (report.created, report.lost_to_rate_limit, report.other_errors) == (10, 0, 0)
    assert report.ok and report.accounted == report.items == 30
    text = "\n".join(report.lines())
    assert "and a rate limit" in text and "of 20 requests/s (burst 2)." in text
    assert (
        f"{report.injected['rate_limited']} 429s met, {report.pauses} pauses taken, 0 items" in text
    )
