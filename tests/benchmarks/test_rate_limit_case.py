"""``python -m benchmarks --case rate-limit`` runs and prints its table (speed never asserted).

Only the quickest case runs here: the wave of 150 gets each first answered 429.
"""

from __future__ import annotations

from tests.benchmarks.test_smoke import _python


def test_the_rate_limit_case_runs_the_wave_and_prints_its_row() -> None:
    out = _python("-m", "benchmarks", "--case", "rate-limit", "--skip", "1,3,4,5,6", timeout=170)
    [row] = [line for line in out.splitlines() if line.startswith("| 150 concurrent gets")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "150/150"  # nothing lost
    assert cells[3] == "1"  # one pause
    assert cells[4] == "1"  # one log line
    assert "Machine:" in out
