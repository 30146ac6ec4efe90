"""``--max-errors``, ``--rolling``, ``--journal`` and ``servers create --from``."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest

from vpsorg.simulator import Simulator

from .conftest import Invoke, Watched, parse


def test_max_errors_stops_early_and_exits_3(vpsorg: Invoke, sim: Simulator) -> None:
    before = sim.request_count
    result = vpsorg(
        "servers", "reboot", "--max-errors", "0", "--concurrency", "1", "99998", "12345", "12346"
    )
    assert result.exit_code == 3, result.stderr
    rows = parse(result)
    assert [r["error_type"] for r in rows] == [
        "NotFoundError",
        "NotStartedError",
        "NotStartedError",
    ]
    assert "stopped early" in result.stderr and "2 not started" in result.stderr
    assert sim.request_count - before == 1  # nothing sent for the others


def test_failures_within_the_budget_still_exit_1(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "reboot", "--max-errors", "50%", "99998", "12345")
    assert result.exit_code == 1, result.stderr
    assert [r["ok"] for r in parse(result)] == [False, True]


@pytest.mark.parametrize("bad", ["-1", "x", "150%", "1.5"])
def test_a_bad_max_errors_is_a_usage_error(vpsorg: Invoke, bad: str) -> None:
    result = vpsorg("servers", "stop", "--max-errors", bad, "12345")
    assert result.exit_code == 2
    assert "--max-errors" in result.stderr


def test_rolling_reboot_in_batches_waits_for_each(vpsorg: Invoke) -> None:
    result = vpsorg("servers", "reboot", "--rolling", "1", "--timeout", "30", "12345", "12346")
    assert result.exit_code == 0, result.stderr
    rows = parse(result)
    assert [(r["id"], r["status"]) for r in rows] == [(12345, "active"), (12346, "active")]
    assert rows[0]["server"]["status"] == "active"


def test_rolling_with_max_errors_stops_at_the_batch(vpsorg: Invoke) -> None:
    result = vpsorg(
        "servers", "reboot", "--rolling", "25%", "--max-errors", "0", "99998", "12345", "12346"
    )
    assert result.exit_code == 3, result.stderr
    assert [r["error_type"] for r in parse(result)] == [
        "NotFoundError",
        "NotStartedError",
        "NotStartedError",
    ]


@pytest.mark.parametrize("bad", ["0", "1,,2", "x%"])
def test_a_bad_rolling_size_is_a_usage_error(vpsorg: Invoke, bad: str) -> None:
    result = vpsorg("servers", "reboot", "--rolling", bad, "12345")
    assert result.exit_code == 2
    assert "--rolling" in result.stderr


def _specs(path: Path, count: int, prefix: str = "cli") -> Path:
    lines = [
        json.dumps({"name": f"{prefix}-{i}", "plan_id": 1, "os_id": 5, "location": "us-east"})
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n\n")
    return path


def test_create_from_a_file_with_a_journal_resumes(
    vpsorg: Invoke, sim: Simulator, tmp_path: Path
) -> None:
    specs = _specs(tmp_path / "specs.jsonl", 4)
    journal = tmp_path / "run.jsonl"
    first = vpsorg("servers", "create", "--from", str(specs), "--journal", str(journal))
    assert first.exit_code == 0, first.stderr
    rows = parse(first)
    assert [r["name"] for r in rows] == ["cli-0", "cli-1", "cli-2", "cli-3"]
    assert all(r["ok"] and r["id"] == r["server"]["id"] for r in rows)
    before = sim.request_count
    again = vpsorg("servers", "create", "--from", str(specs), "--journal", str(journal))
    assert again.exit_code == 0 and parse(again) == rows
    assert sim.request_count == before  # nothing was sent again
    assert sim.count_by_name("cli-0") == 1


def test_create_from_refuses_a_journal_of_another_file(vpsorg: Invoke, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    vpsorg(
        "servers",
        "create",
        "--from",
        str(_specs(tmp_path / "a.jsonl", 2)),
        "--journal",
        str(journal),
    )
    result = vpsorg(
        "servers",
        "create",
        "--from",
        str(_specs(tmp_path / "b.jsonl", 3)),
        "--journal",
        str(journal),
    )
    assert result.exit_code == 2
    assert "other items" in result.stderr


def test_create_from_reports_bad_lines_and_bad_specs(vpsorg: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "ok-1", "plan_id": 1, "os_id": 5, "location": "us-east"}\n[1]\n')
    result = vpsorg("servers", "create", "--from", str(bad))
    assert result.exit_code == 2 and "line 2: not a JSON object" in result.stderr
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        '{"name": "fine-1", "plan_id": 1, "os_id": 5, "location": "us-east"}\n'
        '{"name": "bad name", "plan_id": 1, "os_id": 5, "location": "us-east"}\n'
    )
    result = vpsorg("servers", "create", "--from", str(mixed))
    assert result.exit_code == 1
    assert [r["ok"] for r in parse(result)] == [True, False]
    assert "error: spec 2 (bad name): name:" in result.stderr


def test_create_needs_either_the_options_or_from(vpsorg: Invoke, tmp_path: Path) -> None:
    result = vpsorg("servers", "create", "--name", "x")
    assert result.exit_code == 2 and "--plan-id" in result.stderr
    result = vpsorg(
        "servers", "create", "--from", str(_specs(tmp_path / "s.jsonl", 1)), "--name", "x"
    )
    assert result.exit_code == 2 and "give no other spec" in result.stderr


def _succeeded(journal: Path) -> set[int]:
    """The items a journal records as created (a line being written is skipped)."""
    if not journal.exists():
        return set()
    made = set()
    for line in journal.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("state") == "succeeded":
            made.add(record["i"])
    return made


def test_ctrl_c_during_create_from_says_what_was_made(sim: Simulator, tmp_path: Path) -> None:
    specs = _specs(tmp_path / "specs.jsonl", 5, prefix="intr")
    journal = tmp_path / "run.jsonl"
    sim.script(path="/api/v1/servers/", method="POST", delay=30, times=1)  # one hangs
    command = [
        sys.executable,
        "-m",
        "vpsorg.cli",
        "--base-url",
        sim.base_url,
        "--token",
        sim.token,
        "servers",
        "create",
        "--from",
        str(specs),
        "--journal",
        str(journal),
        "--concurrency",
        "2",
    ]
    with Watched(command) as running:
        # Wait for the client's own record of four answers, not for the simulator's store:
        # a server is stored before its answer reaches the client.
        deadline = time.monotonic() + 30
        while len(made := _succeeded(journal)) < 4:  # bounded below
            assert time.monotonic() < deadline, running.seen
            assert running.process.poll() is None, running.finish()
            time.sleep(0.02)
        running.process.send_signal(signal.SIGINT)
        code, stderr = running.finish()
    assert code == 130
    assert "created before the interrupt: 4 (" in stderr
    (hung,) = set(range(5)) - made
    assert f"outcome unknown (may have been created): intr-{hung}" in stderr
    assert f"rerun with --journal {journal}" in stderr
    assert stderr.rstrip().endswith("interrupted")
