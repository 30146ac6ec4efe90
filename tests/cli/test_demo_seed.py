"""``vpsorg demo --seed N``: the fault counts repeat from run to run.

The demo's creates, reads and deletes run ten at a time, so they reach the simulator in
a different order each run, after fleet phases whose number of status polls depends on
the clock. The simulator draws each request's fault from the seed and the request
itself (see ``vpsorg/simulator/_faults.py``), so neither changes what is injected.

Two counts are the clock's, not the seed's: the 429s of the simulator's rate limit
(how many requests arrive within a second) and the latency injected (one per request,
and the number of status polls depends on the clock). Those are left out.
"""

from __future__ import annotations

from typing import Any

from .conftest import Invoke, parse

FAST = ("--provision-delay", "0.1", "--action-delay", "0.05", "--latency", "0.005")


def _counts(run_cli: Invoke, seed: str) -> dict[str, Any]:
    result = run_cli("-o", "json", "demo", "--servers", "12", "--seed", seed, *FAST)
    assert result.exit_code == 0, result.stderr
    faults: dict[str, Any] = parse(result)["faults"]
    # The one line that names a port (different every run) is not a count.
    faults.pop("example_outcome_unknown")
    faults.pop("rate_limited")
    injected = faults["faults_injected"]
    for clocked in ("rate_limited", "latency"):
        injected.pop(clocked, None)
    return faults


def test_the_same_seed_gives_the_same_counts(run_cli: Invoke) -> None:
    first = _counts(run_cli, "3")
    assert first == _counts(run_cli, "3")
    injected = first["faults_injected"]
    assert injected["error_500"] + injected["error_503"] + injected["dropped"] > 0
