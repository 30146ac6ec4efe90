"""Every command of the tree has help, a docstring and a test named after it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from vpsorg.cli import cli

from .conftest import Invoke

HERE = Path(__file__).resolve().parent


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path


COMMANDS = list(_commands(cli))


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_the_promised_commands_exist() -> None:
    assert set(COMMANDS) == {
        ("demo",),
        ("simulator",),
        *(
            ("servers", name)
            for name in (
                "list",
                "get",
                "create",
                "update",
                "patch",
                "delete",
                "start",
                "stop",
                "reboot",
                "wait",
            )
        ),
    }


def test_every_command_has_a_test_named_after_it() -> None:
    names = _test_names()
    missing = [
        " ".join(path)
        for path in COMMANDS
        if not any(re.search(rf"_{path[-1]}(_|$)", name) for name in names)
    ]
    assert not missing, f"commands with no test_..._<command>_... test: {missing}"


@pytest.mark.parametrize("path", [p for p in COMMANDS if p != ("simulator",)], ids=" ".join)
def test_every_command_has_help(run_cli: Invoke, path: tuple[str, ...]) -> None:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help and command.help.strip()
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert f"Usage: vpsorg {' '.join(path)}" in result.stdout
