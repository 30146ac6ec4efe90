"""The shared-Redis recipe of docs/distributed-workers.md, run as written, as a script.

Against a simulator allowing 20 requests a second (a burst of 5) and a real redis-server
(the ``redis_url`` fixture): the four worker processes between them meet no 429. The
control, the same script with Redis unreachable, still fetches everything (each process
limits itself alone after one warning) and does meet 429s, so the first assertion can fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.redis_server import _free_port
from vpsorg.simulator import FaultConfig, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## One rate limit for every worker (Redis)"


def _recipe() -> str:
    text = (ROOT / "docs" / "distributed-workers.md").read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the Redis section has no python block"
    return match.group(1)


def _run(tmp_path: Path, redis_url: str) -> tuple[str, str, int]:
    script = tmp_path / "shared_limit.py"
    script.write_text(_recipe(), encoding="utf-8")
    faults = FaultConfig(rate_limit=20, rate_limit_burst=5)
    with serve_in_thread(port=0, faults=faults) as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VPSORG_")}
        env.update(
            VPSORG_BASE_URL=sim.base_url,
            VPSORG_API_TOKEN=sim.token,
            REDIS_URL=redis_url,
            PYTHONPATH=str(ROOT),
        )
        done = subprocess.run(
            [sys.executable, str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        throttled = sim.fault_counts["rate_limited"]
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr, throttled


@pytest.mark.skipif(sys.platform == "win32", reason="the recipe uses the fork start method")
def test_the_recipe_shares_one_limit_between_its_workers(redis_url: str, tmp_path: Path) -> None:
    out, _, throttled = _run(tmp_path, redis_url)
    assert "40 servers from 4 processes" in out
    assert throttled == 0


@pytest.mark.skipif(sys.platform == "win32", reason="the recipe uses the fork start method")
def test_without_redis_the_recipe_still_fetches_everything(tmp_path: Path) -> None:
    out, err, throttled = _run(tmp_path, f"redis://127.0.0.1:{_free_port()}/0")
    assert "40 servers from 4 processes" in out
    assert err.count("unreachable") == 4  # one warning per process, not per call
    assert throttled > 0
