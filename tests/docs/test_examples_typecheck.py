"""Every ```python block of README.md and docs/ passes ``mypy --strict``, as a reader's file.

Each block is written to its own module (named after its page and line) and all of them
are checked in one ``mypy.api.run`` call with ``--strict``, exactly as a user who pastes
the example into their project and runs ``mypy --strict`` would see it. Top-level
``await`` (allowed by the docs' run harness, as in ``python -m asyncio``) is the one
thing not checked.

A block known not to pass yet is listed in ``EXPECTED_TO_FAIL`` (its page, a piece of
its code, and why); it is still checked, and the test fails once it passes, so the entry
is removed as soon as the page or the SDK's types are fixed.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

from .test_examples import BLOCKS

mypy_api = pytest.importorskip("mypy.api")

#: (page, a piece of the block's code, why it fails today). Keep it empty where possible.
EXPECTED_TO_FAIL: list[tuple[str, str, str]] = [
    (
        "docs/async-client.md",
        "server.resource_usage.cpu_percent",
        "Server.resource_usage is typed ResourceUsage | None; the example needs a guard",
    ),
]


def _expected_failure(where: str, code: str) -> str | None:
    page = where.rpartition(":")[0]
    for expected_page, snippet, reason in EXPECTED_TO_FAIL:
        if page == expected_page and snippet in code:
            return reason
    return None


_ERROR = re.compile(r"^(?P<module>[^:]+)\.py:(?P<line>\d+): error: (?P<message>.*)$")


def _as_module(code: str) -> tuple[str, int]:
    """The block as a module, and how many lines were added above it.

    A block with top-level ``await``/``async with``/``async for`` runs (in the docs
    harness) as the body of a coroutine; it is checked as one too.
    """
    compiled = compile(code, "<example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if not compiled.co_flags & inspect.CO_COROUTINE:
        return code, 0
    return "async def _example() -> None:\n" + textwrap.indent(code, "    "), 1


def _module_name(where: str) -> str:
    return "example_" + re.sub(r"\W", "_", where)


def test_every_example_passes_mypy_strict(tmp_path: Path) -> None:
    names: dict[str, tuple[str, int]] = {}
    expected = {where for where, code in BLOCKS if _expected_failure(where, code)}
    for where, code in BLOCKS:
        name = _module_name(where)
        module, offset = _as_module(code)
        names[name] = (where, offset)
        (tmp_path / f"{name}.py").write_text(module, encoding="utf-8")
    assert len(names) >= 20
    stdout, stderr, _status = mypy_api.run(
        [
            "--strict",
            "--disable-error-code=top-level-await",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--explicit-package-bases",
            str(tmp_path),
        ]
    )
    assert stderr == "", stderr
    problems = []
    failing: set[str] = set()
    for line in stdout.splitlines():
        match = _ERROR.match(Path(line).name if line.startswith(str(tmp_path)) else line)
        if match is None:
            problems.append(line)
            continue
        where, offset = names.get(Path(match["module"]).name, (match["module"] + ":0", 0))
        failing.add(where)
        if where in expected:
            continue
        page, _, start = where.rpartition(":")
        # The fence line, plus the line inside the block (the block starts after it).
        line_no = int(start) + int(match["line"]) - offset
        problems.append(f"{page}:{line_no}: {match['message']}")
    assert not problems, "mypy --strict on the docs' examples:\n" + "\n".join(problems)
    fixed = sorted(expected - failing)
    assert not fixed, f"these examples pass now: remove them from EXPECTED_TO_FAIL: {fixed}"


def test_every_expected_failure_names_an_example() -> None:
    for page, snippet, reason in EXPECTED_TO_FAIL:
        assert any(
            where.rpartition(":")[0] == page and snippet in code for where, code in BLOCKS
        ), f"no example in {page} contains {snippet!r}: remove it from EXPECTED_TO_FAIL"
        assert len(reason) > 20
