"""Every ```python example in the README runs against the simulator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vpsorg
from vpsorg.simulator import serve_in_thread

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with serve_in_thread(port=0, provision_delay=0.05, action_delay=0.05) as sim:
        monkeypatch.setenv("VPSORG_API_TOKEN", sim.token)
        monkeypatch.setenv("VPSORG_BASE_URL", sim.base_url)
        yield sim


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(
    index: int, simulator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {"__name__": f"readme_example_{index}"}
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            with vpsorg.Client(token=simulator.token, base_url=simulator.base_url) as client:
                value(client)
    out = capsys.readouterr().out
    # A print(...) line whose comment shows its output: that output must appear.
    for expected in re.findall(r"print\(.*\)\s+# (.+)$", BLOCKS[index], flags=re.M):
        assert expected.removesuffix("...").rstrip(" ,") in out
