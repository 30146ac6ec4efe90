"""Outcomes narrow for type checkers: the docs' bulk examples pass mypy --strict."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

# mypy comes with the dev extra, not the test one (the Python matrix installs only that).
api = pytest.importorskip("mypy.api")

SNIPPET = """
from __future__ import annotations

import contextlib
from typing import Any

import vpsorg
from vpsorg import Failed, Outcome, Server, Succeeded


async def main(client: vpsorg.AsyncClient) -> None:
    result = await client.servers.get_many([1, 2])
    ids: list[int] = [o.value.id for o in result.succeeded]
    errors: list[Exception] = [o.error for o in result.failed]
    for outcome in result:
        if outcome.ok:
            name: str = outcome.value.name
        else:
            error: Exception = outcome.error
    first: Outcome[int, Server] = result[0]
    if not first.ok:
        reveal_type(first)

    specs = [{"name": "api-1", "plan_id": 1, "os_id": 5, "location": "us-west"}]
    created = await client.servers.create_many(specs)
    unknown = [o.item for o in created.failed if isinstance(o.error, vpsorg.OutcomeUnknownError)]
    names = [spec["name"] for spec in unknown]
    retry = [spec for spec in unknown if spec["name"] not in set(names)]
    await client.servers.create_many(retry)
    typed = await client.servers.create_many(
        [vpsorg.ServerSpec(name="a", plan_id=1, os_id=5, location="us-west")]
    )
    spec_names: list[str] = [o.item.name for o in typed.succeeded]

    async def double(item: int) -> int:
        return item * 2

    async with contextlib.aclosing(vpsorg.fleet.imap(double, range(10))) as outcomes:
        async for streamed in outcomes:
            if streamed.ok:
                doubled: int = streamed.value
    mapped = await vpsorg.fleet.map(double, range(3))
    total: int = sum(o.value for o in mapped.succeeded)
    succeeded: list[Succeeded[int, int]] = mapped.succeeded
    failed: list[Failed[int]] = mapped.failed
"""

BROKEN = """
import vpsorg


async def main(client: vpsorg.AsyncClient) -> None:
    result = await client.servers.get_many([1, 2])
    for outcome in result:
        outcome.value.id
"""


def _mypy(tmp_path: Path, source: str) -> tuple[str, int]:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    stdout, stderr, status = api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(path)]
    )
    return stdout + stderr, status


@pytest.mark.timeout(300)
def test_outcomes_narrow_under_mypy_strict(tmp_path: Path) -> None:
    output, status = _mypy(tmp_path, SNIPPET + "\n" + BROKEN.replace("def main", "def broken"))
    lines = [line for line in output.splitlines() if "snippet.py" in line]
    errors = [line for line in lines if ": error:" in line]
    # The only error is in the broken function: value may be None until `ok` is checked.
    assert len(errors) == 1, output
    assert 'Item "None" of "Server | None" has no attribute "id"' in errors[0], output
    assert status == 1
    assert any('Revealed type is "vpsorg.models.bulk.Failed[int]"' in line for line in lines)
