"""The bulk journal: what a rerun returns, settles, resends and refuses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import vpsorg
from vpsorg import _journal
from vpsorg.simulator import Simulator


def _specs(prefix: str, count: int) -> list[vpsorg.ServerSpec]:
    return [
        vpsorg.ServerSpec(name=f"{prefix}-{i}", plan_id=1, os_id=5, location="us-east")
        for i in range(count)
    ]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_a_rerun_returns_the_recorded_results_without_sending_anything(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    specs = _specs("j", 5)
    first = await api.servers.create_many(specs, journal=journal)
    before = sim.request_count
    again = await api.servers.create_many(specs, journal=str(journal))
    assert sim.request_count == before  # nothing sent
    assert [o.value for o in again] == [o.value for o in first]
    assert sim.count_by_name("j-0") == 1
    lines = _lines(journal)
    assert lines[0]["action"] == "create" and lines[0]["count"] == 5
    states = [(line["i"], line["state"]) for line in lines[1:]]
    assert sorted(states) == sorted(
        [(i, "sent") for i in range(5)] + [(i, "succeeded") for i in range(5)]
    )
    sent = next(line for line in lines[1:] if line["state"] == "sent")
    assert sent["spec"]["name"].startswith("j-") and datetime.fromisoformat(sent["at"])
    done = next(line for line in lines[1:] if line["state"] == "succeeded")
    assert done["id"] == done["value"]["id"]


async def test_every_bulk_method_takes_a_journal(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    got = await api.servers.get_many([12345, 999999], journal=tmp_path / "get.jsonl")
    before = sim.request_count
    again = await api.servers.get_many([12345, 999999], journal=tmp_path / "get.jsonl")
    assert again[0].value == got[0].value
    assert sim.request_count == before + 1  # only the failed id is asked again
    stopped = await api.servers.stop_many([12345], journal=tmp_path / "stop.jsonl")
    assert stopped.ok
    assert _lines(tmp_path / "stop.jsonl")[1]["state"] == "sent"  # a power action "sends"
    deleted = await api.servers.delete_many([12346], journal=tmp_path / "delete.jsonl")
    assert (
        deleted.ok
        and (await api.servers.delete_many([12346], journal=tmp_path / "delete.jsonl")).ok
    )


async def test_items_that_surely_did_not_happen_run_again(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    specs = _specs("retry", 3)
    sim.script(path="/api/v1/servers/", method="POST", status=402, times=1)  # refused
    first = await api.servers.create_many(specs, journal=journal, concurrency=1)
    assert type(first[0].error) is vpsorg.PaymentRequiredError
    again = await api.servers.create_many(specs, journal=journal, concurrency=1)
    assert again.ok
    assert all(sim.count_by_name(f"retry-{i}") == 1 for i in range(3))


async def test_an_unanswered_create_is_settled_never_resent(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    specs = _specs("drop", 2)
    sim.script(path="/api/v1/servers/", method="POST", drop=True, after_action=True, times=1)
    first = await api.servers.create_many(specs, journal=journal, concurrency=1)
    assert type(first[0].error) is vpsorg.OutcomeUnknownError
    assert _lines(journal)[2]["state"] == "unknown"
    again = await api.servers.create_many(
        specs, journal=vpsorg.Journal(journal, settle_window=0), concurrency=1
    )
    assert again.ok and again[0].value is not None and again[0].value.name == "drop-0"
    assert sim.count_by_name("drop-0") == 1  # found, not made again


def _write_sent(journal: Path, specs: list[vpsorg.ServerSpec], at: datetime) -> None:
    """A journal as a process killed right after its first "sent" line leaves it."""
    action: _journal.JournalAction[Any, Any] = _journal.JournalAction("create", None, sends=True)
    run = _journal.JournalRun(vpsorg.Journal(journal), action, specs)
    run._write({"i": 0, "state": "sent", "at": at.isoformat()})
    run.close()


async def test_a_create_sent_but_never_made_is_sent_after_the_settle_window(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    specs = _specs("lost", 1)
    sent_at = datetime.now(timezone.utc)
    _write_sent(journal, specs, sent_at)
    result = await api.servers.create_many(specs, journal=vpsorg.Journal(journal, settle_window=1))
    # find_created waited out the window, counted from the recorded send time, before it
    # concluded that nothing was made and the create was sent again.
    assert datetime.now(timezone.utc) - sent_at >= timedelta(seconds=1)
    assert result.ok and sim.count_by_name("lost-0") == 1


async def test_an_old_sent_create_is_settled_without_waiting(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    specs = _specs("old", 1)
    _write_sent(journal, specs, datetime.now(timezone.utc) - timedelta(seconds=30))
    result = await api.servers.create_many(specs, journal=journal)
    assert result.ok and sim.count_by_name("old-0") == 1


async def test_an_unanswered_power_action_is_never_sent_again(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "reboot.jsonl"
    sim.script(path="/api/v1/servers/12345/reboot/", drop=True, after_action=True, times=1)
    first = await api.servers.reboot_many([12345], journal=journal)
    assert type(first[0].error) is vpsorg.OutcomeUnknownError
    key = "POST /api/v1/servers/{id}/reboot/"
    before = sim.request_counts[key]
    assert before == 1
    again = await api.servers.reboot_many([12345], journal=journal)
    assert isinstance(again[0].error, vpsorg.OutcomeUnknownError)
    assert "not sent again" in str(again[0].error)
    assert sim.request_counts[key] == before


@pytest.mark.parametrize(
    ("method", "ids", "message"),
    [
        ("reboot_many", [12345, 12346], "'stop' call, not 'reboot'"),
        ("stop_many", [12346, 12345], "other items"),  # the same ids in another order
        ("stop_many", [12345], "other items"),
    ],
)
async def test_a_journal_from_another_call_is_refused(
    api: vpsorg.AsyncClient,
    sim: Simulator,
    tmp_path: Path,
    method: str,
    ids: list[int],
    message: str,
) -> None:
    journal = tmp_path / "run.jsonl"
    await api.servers.stop_many([12345, 12346], journal=journal)
    before = sim.request_count
    with pytest.raises(vpsorg.JournalError, match=message) as caught:
        await getattr(api.servers, method)(ids, journal=journal)
    assert isinstance(caught.value, vpsorg.InvalidInputError)  # refused before sending
    assert sim.request_count == before


async def test_a_damaged_journal_is_refused_but_a_torn_last_line_is_ignored(
    api: vpsorg.AsyncClient, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    await api.servers.get_many([12345], journal=journal)
    with journal.open("ab") as file:
        file.write(b'{"i": 0, "state": "succ')  # a crash cut the last line short
    again = await api.servers.get_many([12345], journal=journal)
    assert again.ok
    text = journal.read_bytes().replace(b'{"i": 0, "state": "succ', b"")
    journal.write_bytes(text.replace(b"\n", b"\nnot json\n", 1))
    with pytest.raises(vpsorg.JournalError, match="line 2"):
        await api.servers.get_many([12345], journal=journal)
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": "world"}\n')
    with pytest.raises(vpsorg.JournalError, match="not a vpsorg journal"):
        await api.servers.get_many([12345], journal=other)
    with pytest.raises(vpsorg.JournalError, match="cannot be used"):
        await api.servers.get_many([12345], journal=tmp_path / "missing" / "run.jsonl")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fsync": 1}, "fsync"),
        ({"settle_window": -1}, "settle_window"),
        ({"settle_window": "5"}, "settle_window"),
    ],
)
def test_journal_settings_are_checked(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(vpsorg.InvalidInputError, match=field):
        vpsorg.Journal("x.jsonl", **kwargs)


async def test_a_bad_journal_argument_is_refused(api: vpsorg.AsyncClient) -> None:
    with pytest.raises(vpsorg.InvalidInputError, match="journal"):
        await api.servers.get_many([12345], journal=42)  # type: ignore[arg-type]


async def test_fsync_syncs_every_line(
    api: vpsorg.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr("vpsorg._journal.os.fsync", synced.append)
    await api.servers.get_many([12345, 12346], journal=vpsorg.Journal(tmp_path / "j", fsync=True))
    assert len(synced) == len(_lines(tmp_path / "j")) == 5  # the header, then 2 per item


async def test_a_failed_journal_write_after_the_answer_keeps_the_result(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "run.jsonl"
    write = _journal.JournalRun._write

    def failing(self: Any, record: Any) -> None:
        if record.get("state") == "succeeded":
            raise vpsorg.JournalError(journal, "cannot be written: disk full")
        write(self, record)

    monkeypatch.setattr(_journal.JournalRun, "_write", failing)
    result = await api.servers.create_many(_specs("full", 1), journal=journal)
    assert result.ok  # the server made is returned; the journal keeps it as sent
    monkeypatch.setattr(_journal.JournalRun, "_write", write)
    again = await api.servers.create_many(
        _specs("full", 1), journal=vpsorg.Journal(journal, settle_window=0)
    )
    assert again[0].value is not None and again[0].value.id == result[0].value.id  # type: ignore[union-attr]
    assert sim.count_by_name("full-0") == 1


async def test_a_settle_that_cannot_list_keeps_the_create_unknown(
    api: vpsorg.AsyncClient, sim: Simulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    specs = _specs("unsettled", 1)
    _write_sent(journal, specs, datetime.now(timezone.utc) - timedelta(seconds=30))
    sim.script(path="/api/v1/servers/", method="GET", status=401)  # the list fails once
    result = await api.servers.create_many(specs, journal=journal)
    error = result[0].error
    assert isinstance(error, vpsorg.OutcomeUnknownError)  # not the list's error: unknown
    assert error.spec is not None and error.spec.name == "unsettled-0"
    assert sim.count_by_name("unsettled-0") == 0  # and not sent again
    again = await api.servers.create_many(specs, journal=journal)  # the API is back
    assert again.ok and sim.count_by_name("unsettled-0") == 1
