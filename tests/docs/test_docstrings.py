"""Every docstring of the package is written in the one style the API reference renders.

Google style with markdown: ``Args:``/``Returns:``/``Raises:``/``Examples:`` sections,
fenced code with a language, markdown cross-references (``[`Server`][vpsorg.Server]``).
No reST: no ``::`` literal blocks, no roles such as ``:class:``, no ``>>>`` sessions
outside an ``Examples:`` section. Read from the source (the generated blocking client
included), so it runs without the docs extra; tests/docs/test_site.py checks the built
pages themselves.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vpsorg"

ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|ref|doc):`")
LITERAL_BLOCK = re.compile(r"::[ \t]*$", re.M)
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[^\n`]*)\n(?P<code>.*?)^(?P=indent)```", re.M | re.S
)
SECTION = re.compile(r"^(?P<indent>[ \t]*)(?P<title>[A-Z][A-Za-z ]*):[ \t]*$", re.M)


def _docstrings() -> Iterator[tuple[str, str]]:
    """(file:line, text) of every docstring and attribute docstring in the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                where = f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
                yield where, inspect.cleandoc(node.value.value)


DOCSTRINGS = list(_docstrings())


def test_the_package_has_docstrings() -> None:
    assert len(DOCSTRINGS) > 300


def test_no_rest_roles() -> None:
    found = [where for where, text in DOCSTRINGS if ROLE.search(text)]
    assert not found, "write [`Name`][vpsorg.Name] or `name`, not a reST role: " + ", ".join(found)


def test_no_rest_literal_blocks() -> None:
    found = [where for where, text in DOCSTRINGS if LITERAL_BLOCK.search(FENCE.sub("", text))]
    assert not found, "use a fenced block (```python) in an Examples: section: " + ", ".join(found)


def _sections(text: str) -> Iterator[tuple[str, str]]:
    """(title, body) of each top-level ``Title:`` section of a cleaned docstring."""
    matches = [m for m in SECTION.finditer(text) if m.group("indent") == ""]
    if not matches:
        return
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        yield match.group("title"), text[match.end() : end]


def test_doctest_sessions_only_in_examples_sections() -> None:
    found = []
    for where, text in DOCSTRINGS:
        outside = text
        for title, body in _sections(text):
            if title == "Examples":
                outside = outside.replace(body, "")
        if re.search(r"^\s*>>> ", FENCE.sub("", outside), re.M):
            found.append(where)
    assert not found, "put >>> examples in an Examples: section: " + ", ".join(found)


#: The modules whose docstrings hold ``>>>`` sessions, as importable names.
DOCTEST_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_doctest_sessions_are_true(module: str) -> None:
    """A ``>>>`` example shows what the code returns (``+SKIP`` ones are not run)."""
    import doctest
    import importlib

    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(importlib.import_module(module))
    assert tests, f"{module}: no doctests found, though its source has '>>> '"
    for test in tests:
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0
    assert failed == 0, f"{module}: {failed} of {attempted} examples did not print what they show"


def test_every_fence_names_its_language() -> None:
    found = [
        where
        for where, text in DOCSTRINGS
        for match in FENCE.finditer(text)
        if not match.group("lang").strip()
    ]
    assert not found, "say the language of the fence (```python, ```sh): " + ", ".join(found)


@pytest.mark.parametrize(
    ("where", "code"),
    [
        (where, match.group("code"))
        for where, text in DOCSTRINGS
        for match in FENCE.finditer(text)
        if match.group("lang").strip() == "python"
    ],
)
def test_python_examples_compile(where: str, code: str) -> None:
    """The blocking twin's examples too: the generator's rewrites leave valid Python."""
    import textwrap

    compile(textwrap.dedent(code), where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_returns_sections_are_one_entry() -> None:
    """A Returns: body is one item: continuation lines are indented under its first line.

    griffe reads each line at the item's indentation as another returned value.
    """
    found = []
    for where, text in DOCSTRINGS:
        for title, body in _sections(text):
            if title not in ("Returns", "Yields"):
                continue
            lines = [line for line in body.strip("\n").splitlines() if line.strip()]
            items = [line for line in lines if len(line) - len(line.lstrip()) == 4]
            if len(items) > 1:
                found.append(where)
    assert not found, "indent the continuation lines of a Returns: entry: " + ", ".join(found)
