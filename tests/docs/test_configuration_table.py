"""docs/configuration.md's "Every setting" table matches the clients' constructors.

Each keyword of ``AsyncClient.__init__`` and ``Client.__init__`` has one row, named in the
``argument`` column as ``name=`` (marked "`AsyncClient` only" where the blocking client
lacks it); the table names no argument the constructors lack; a
default written as a literal (``True``, ``False``) is the signature's default; every
``VPSORG_*`` variable the settings read is in the ``environment`` column. A failure names
the rows to add or remove.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import vpsorg
from vpsorg import _config

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
ARGUMENT = re.compile(r"`(\w+)=`")


def _table() -> dict[str, dict[str, str]]:
    """The rows of the "Every setting" table, by the argument each names."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Every setting", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["setting", "argument", "environment", "default"], header
    rows: dict[str, dict[str, str]] = {}
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        names = ARGUMENT.findall(cells["argument"])
        assert len(names) == 1, f"a row names one argument as `name=`: {line}"
        assert names[0] not in rows, f"two rows for {names[0]}="
        rows[names[0]] = cells
    return rows


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    signature = inspect.signature(cls)
    return dict(signature.parameters)


@pytest.mark.parametrize("cls", [vpsorg.AsyncClient, vpsorg.Client], ids=lambda c: c.__name__)
def test_every_constructor_argument_has_a_row(cls: type) -> None:
    rows, parameters = _table(), _parameters(cls)
    if cls is vpsorg.Client:
        rows = {k: v for k, v in rows.items() if "`AsyncClient` only" not in v["argument"]}
    missing = [f"`{name}=`" for name in parameters if name not in rows]
    stale = [f"`{name}=`" for name in rows if name not in parameters]
    assert not missing, f"docs/configuration.md 'Every setting' lacks rows for {missing}"
    assert not stale, f"docs/configuration.md 'Every setting' has rows for no argument: {stale}"


def test_only_the_rows_marked_async_only_differ_between_the_clients() -> None:
    only_async = set(_parameters(vpsorg.AsyncClient)) - set(_parameters(vpsorg.Client))
    marked = {k for k, v in _table().items() if "`AsyncClient` only" in v["argument"]}
    assert only_async == marked
    assert set(_parameters(vpsorg.Client)) <= set(_parameters(vpsorg.AsyncClient))


def test_a_literal_default_is_the_signature_default() -> None:
    parameters = _parameters(vpsorg.AsyncClient)
    for name, row in _table().items():
        literal = re.match(r"`(True|False)`", row["default"])
        if literal and name in parameters:
            assert repr(parameters[name].default) == literal.group(1), (
                f"{name}=: the table says {literal.group(1)}, the signature "
                f"{parameters[name].default!r}"
            )


def test_every_environment_variable_is_in_the_table() -> None:
    variables = {
        value
        for name, value in vars(_config).items()
        if name.startswith("ENV_") and isinstance(value, str)
    }
    assert variables >= {"VPSORG_API_TOKEN", "VPSORG_BASE_URL"}
    documented = " ".join(row["environment"] for row in _table().values())
    missing = sorted(v for v in variables if f"`{v}`" not in documented)
    assert not missing, f"docs/configuration.md 'Every setting' does not name {missing}"
