"""Fails when a public method of the servers resource has no test named after it.

A test covers ``method`` when its name contains ``_method`` followed by ``_`` or its end,
e.g. ``test_get_many_keeps_order`` or ``test_start_many_stop_many_and_delete_many``.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import vpsorg

TESTS = Path(__file__).resolve().parents[1]


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
    return names


def public_methods(cls: type) -> list[str]:
    return [
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(member)
    ]


def test_every_public_async_servers_method_has_a_test() -> None:
    names = _test_names()
    missing = [
        method
        for method in public_methods(vpsorg.AsyncServers)
        if not any(re.search(rf"_{method}(_|$)", n) for n in names)
    ]
    assert not missing, f"public AsyncServers methods with no test_<method>...: {missing}"


def test_the_resource_has_the_promised_methods() -> None:
    promised = {
        "list",
        "create",
        "get",
        "update",
        "patch",
        "delete",
        "start",
        "stop",
        "reboot",
        "wait_for",
        "get_many",
        "create_many",
        "delete_many",
        "start_many",
        "stop_many",
        "reboot_many",
        "wait_for_many",
    }
    assert promised <= set(public_methods(vpsorg.AsyncServers))
