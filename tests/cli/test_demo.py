"""``vpsorg demo``: the whole fleet life on an in-process simulator, kept fast."""

from __future__ import annotations

from .conftest import Invoke, parse

FAST = ("--provision-delay", "0.1", "--action-delay", "0.05", "--latency", "0")
PHASES = [
    "create",
    "wait until active",
    "reboot",
    "wait until active",
    "stop",
    "wait until stopped",
    "delete",
    "list",
]


def test_demo_runs_every_phase_and_restores_the_account(run_cli: Invoke) -> None:
    result = run_cli("demo", "--servers", "5", "--concurrency", "3", *FAST)
    assert result.exit_code == 0, result.stderr
    report = parse(result)
    assert report["ok"] is True and report["restored"] is True
    assert (report["servers"], report["concurrency"]) == (5, 3)
    assert [p["phase"] for p in report["phases"]] == PHASES
    *fleet, listing = report["phases"]
    for phase in fleet:
        assert (phase["count"], phase["succeeded"], phase["failed"]) == (5, 5, 0)
        assert phase["seconds"] > 0 and phase["ops_per_second"] > 0
    assert (listing["count"], listing["succeeded"], listing["failed"]) == (2, 2, 0)
    assert [s["id"] for s in report["servers_at_end"]] == [12345, 12346]
    assert [s["id"] for s in report["servers_at_start"]] == [12345, 12346]
    assert report["requests"] >= 5 * 5  # five bulk phases of one request per server
    assert result.stderr == ""


def test_demo_table(run_cli: Invoke) -> None:
    result = run_cli("-o", "table", "demo", "--servers", "5", *FAST)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Fleet demo: 5 servers, concurrency 10" in out
    for header in ("PHASE", "COUNT", "OK", "FAILED", "WALL TIME", "OPS/S"):
        assert header in out
    for phase in set(PHASES):
        assert phase in out
    assert "The account at the end: 2 servers" in out
    assert "web-server-01" in out and "db-server-01" in out
    assert "The account is back to its 2 sample servers." in out


def test_demo_with_failed_creates_exits_1_and_still_cleans_up(run_cli: Invoke) -> None:
    result = run_cli("demo", "--servers", "5", "--credits", "3", *FAST)
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
        "--provision-delay SECONDS",
        "[default: 2.0;",
        "--action-delay SECONDS",
        "[default: 0.5;",
    ):
        assert default in help_text
