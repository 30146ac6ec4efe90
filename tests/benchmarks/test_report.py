"""The benchmark report's target table survives what a smoke run can measure.

Run in a subprocess from the repository root: inside pytest, ``benchmarks`` names this
test package (``tests/benchmarks``), not the benchmark suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import json
from benchmarks._report import evaluate_targets

def memory(shape, items, cpu_us):
    return {"shape": shape, "items": items, "cpu_us_per_item": cpu_us,
            "peak_rss_mb": 50.0, "baseline_rss_mb": 45.0}

# A smoke run's child can finish within one tick of the CPU clock: 0 us per item.
rows = [memory(shape, items, 0.0 if items == 10 else 150.0)
        for shape in ("pool_keep", "imap_stream") for items in (10, 100)]
cases = {"get_fanout": [], "list_pages": [], "blocking": [], "memory": rows, "decode": []}
targets = evaluate_targets(cases, 100)
print(json.dumps({row["target"]: [row["pass"], row["shown"]] for row in targets}))
"""


def test_a_run_with_no_measurable_cpu_time_is_not_measured_rather_than_a_crash() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    targets = json.loads(done.stdout)
    not_measured = [None, "not measured"]
    assert targets["get_many client CPU time per item, largest ÷ smallest over the sizes"] == (
        not_measured
    )
    assert targets["fleet.imap client CPU per item, 100 ÷ 10 items"] == not_measured
    assert targets["fleet.imap over 100 items: peak RSS - RSS before"][0] is True
