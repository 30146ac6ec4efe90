"""The journal's proof: a process creating 200 servers, SIGKILLed again and again, rerun.

A real child process (``_journal_child.py``, the blocking client) creates 200 servers
with a journal against the simulator (served here on 127.0.0.1, with the commit-then-drop
fault: a share of requests acts and then loses its answer). It kills itself with SIGKILL
at a chosen point: right after the n-th ``sent`` line (that create not yet sent, others in
flight), instead of recording the n-th answer (the API acted, nothing written down), or
after the n-th line of any kind. Each time it is rerun with the same journal; at the end
the simulator's own list of servers must hold exactly 200 of them, each name once, and
the last run must report every item's outcome, matching that list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from vpsorg.simulator import FaultConfig, Simulator, serve_in_thread

CHILD = Path(__file__).with_name("_journal_child.py")
COUNT = 200

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: The kill points of the default suite: every kind, early, late and repeated.
QUICK = ["sent:1", "answer:1", "any:2", "sent:37", "answer:64", "any:151", "sent:120", "answer:9"]
#: The longer sweep (``-m exhaustive``): every kind at many points of a run.
LONG = [
    f"{kind}:{n}"
    for n in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144)
    for kind in ("sent", "answer", "any")
]


def _run(sim: Simulator, journal: Path, kill: str | None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(CHILD), sim.base_url, sim.token, str(journal), str(COUNT)]
    if kill is not None:
        args.append(kill)
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _sweep(tmp_path: Path, kills: list[str]) -> None:
    journal = tmp_path / "run.jsonl"
    faults = FaultConfig(drop_rate=0.03, after_action_ratio=1.0)  # commit, then drop
    with serve_in_thread(provision_delay=0.5, action_delay=0.1, faults=faults, seed=21) as sim:
        killed = 0
        for kill in kills:
            done = _run(sim, journal, kill)
            if done.returncode == -9:
                killed += 1
            else:  # nothing was left to do by the time the kill point came
                assert done.returncode == 0, done.stderr
        assert killed >= len(kills) // 2, "the kill points must mostly be reached"
        outcomes: list[list[object]] = []
        for _ in range(5):  # bounded: each run settles what the one before could not know
            done = _run(sim, journal, None)
            assert done.returncode == 0, done.stderr
            outcomes = json.loads(done.stdout)
            if all(error is None for _, error in outcomes):
                break
        names = Counter(s["name"] for s in sim.servers() if str(s["name"]).startswith("crash-"))
        assert sum(names.values()) == COUNT  # exactly 200 servers
        assert max(names.values()) == 1  # no duplicates
        assert set(names) == {f"crash-{i}" for i in range(COUNT)}
        errors = [error for _, error in outcomes if error is not None]
        assert len(outcomes) == COUNT and not errors, (errors, done.stderr[-2000:])
        by_name = {s["name"]: s["id"] for s in sim.servers()}
        assert [server_id for server_id, _ in outcomes] == [
            by_name[f"crash-{i}"] for i in range(COUNT)
        ]
        assert sim.fault_counts["dropped"] > 0  # the commit-then-drop fault was in the mix


def test_a_journaled_create_many_killed_at_many_points_makes_each_server_once(
    tmp_path: Path,
) -> None:
    _sweep(tmp_path, QUICK)


@pytest.mark.exhaustive
def test_the_long_kill_sweep_makes_each_server_once(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if "exhaustive" not in (request.config.option.markexpr or ""):
        pytest.skip("the long sweep runs with -m exhaustive")
    _sweep(tmp_path, LONG)
