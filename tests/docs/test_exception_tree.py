"""The drawn exception trees match the exception classes vpsorg defines.

The tree is drawn three times: in the docstring of ``vpsorg/_exceptions.py``, in the
guide (``docs/errors.md``) and in the reference (``docs/reference/errors.md``). Each is
parsed into (class, parent, other bases) and compared with the classes themselves, found
by walking the subclasses of ``VPSOrgError`` and ``VPSOrgWarning`` after importing every
vpsorg module, so a class added anywhere in the package is caught. A failure names each
line to add, move or remove.
"""

from __future__ import annotations

import builtins
import importlib
import itertools
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest

import vpsorg
from vpsorg import _exceptions

ROOT = Path(__file__).resolve().parents[2]
ROOTS = (vpsorg.VPSOrgError, vpsorg.VPSOrgWarning)
# One tree line: the drawing, the class name, then optionally "(also A, B)".
LINE = re.compile(r"^(?P<lead>[ │├└─]*)(?P<name>[A-Z]\w*)(?:\s+(?P<rest>.*))?$")
ALSO = re.compile(r"\(also (?P<names>[^)]*)\)")
# What a root's bases need not spell out.
IMPLIED = {"Exception"}

Entry = tuple[str | None, frozenset[str]]  # parent (None for a root), the other bases


def _classes() -> dict[str, type[BaseException]]:
    """Every public exception and warning class defined in the vpsorg package."""
    for module in pkgutil.walk_packages(vpsorg.__path__, "vpsorg."):
        if module.name.endswith("__main__"):
            continue  # running it would start a program
        importlib.import_module(module.name)
    found: dict[str, type[BaseException]] = {}
    pending: list[type[BaseException]] = list(ROOTS)
    while pending:
        cls = pending.pop()
        if cls.__module__.split(".")[0] == "vpsorg" and not cls.__name__.startswith("_"):
            found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def _expected() -> dict[str, Entry]:
    expected: dict[str, Entry] = {}
    for name, cls in _classes().items():
        names = [base.__name__ for base in cls.__bases__]
        if cls in ROOTS:
            expected[name] = (None, frozenset(names) - IMPLIED)
        else:
            expected[name] = (names[0], frozenset(names[1:]))
    return expected


def parse_tree(text: str) -> dict[str, Entry]:
    """(parent, other bases) of every class of a drawn tree, by indentation."""
    drawn: dict[str, Entry] = {}
    stack: list[tuple[int, str]] = []  # (column of the name, name), outermost first
    for raw in text.splitlines():
        match = LINE.match(raw.rstrip())
        if not match or not match.group("name").endswith(("Error", "Warning")):
            continue
        column = len(match.group("lead"))
        while stack and stack[-1][0] >= column:
            stack.pop()
        parent = stack[-1][1] if stack else None
        also = ALSO.search(match.group("rest") or "")
        names = also.group("names").split(",") if also else []
        others = frozenset(name.strip() for name in names)
        drawn[match.group("name")] = (parent, others)
        stack.append((column, match.group("name")))
    return drawn


def _trees() -> dict[str, str]:
    fence = re.compile(r"```text\n(VPSOrgError\n.*?)```", re.S)
    trees = {}
    for page in ("docs/errors.md", "docs/reference/errors.md"):
        found = fence.findall((ROOT / page).read_text(encoding="utf-8"))
        assert len(found) == 1, f"{page} should draw the exception tree once"
        trees[page] = found[0]
    # The docstring's drawing (indented or fenced): its lines from the root on, up to the
    # first that is neither blank, nor a branch, nor another root.
    doc = (_exceptions.__doc__ or "").splitlines()
    start = next(i for i, line in enumerate(doc) if line.strip() == "VPSOrgError")
    in_tree = re.compile(r"^\s*(?:$|[│├└]|VPSOrg)")
    block = itertools.takewhile(in_tree.match, doc[start:])
    trees["vpsorg/_exceptions.py (module docstring)"] = textwrap.dedent("\n".join(block))
    return trees


def _describe(name: str, entry: Entry) -> str:
    parent, others = entry
    where = f"under {parent}" if parent else "as a root"
    also = f" (also {', '.join(sorted(others))})" if others else ""
    return f"{name} {where}{also}"


@pytest.mark.parametrize("where", sorted(_trees()))
def test_the_drawn_tree_is_the_class_tree(where: str) -> None:
    drawn, expected = parse_tree(_trees()[where]), _expected()
    problems = [
        f"add {_describe(name, entry)}"
        for name, entry in sorted(expected.items())
        if name not in drawn
    ]
    problems += [
        f"move {_describe(name, expected[name])} (drawn: {_describe(name, drawn[name])})"
        for name in sorted(drawn.keys() & expected.keys())
        if drawn[name] != expected[name]
    ]
    problems += [f"remove {name}: no such class" for name in sorted(drawn.keys() - expected.keys())]
    assert not problems, f"the exception tree in {where} is out of date:\n" + "\n".join(problems)


def test_every_exception_class_is_exported() -> None:
    """A class drawn in the tree can be caught as ``vpsorg.<Name>``."""
    missing = sorted(name for name in _classes() if name not in vpsorg.__all__)
    assert not missing, f"exported from vpsorg/__init__.py they should be: {missing}"


def test_the_parser_reads_nesting_and_other_bases() -> None:
    """The parser itself: a sibling after a nested branch goes back to its own parent."""
    tree = "\n".join(
        [
            "VPSOrgError",
            " ├── AError                (also ValueError)  text",
            " │    └── BError            (also KeyError, OSError)",
            " └── CError                ... words",
        ]
    )
    assert parse_tree(tree) == {
        "VPSOrgError": (None, frozenset()),
        "AError": ("VPSOrgError", frozenset({"ValueError"})),
        "BError": ("AError", frozenset({"KeyError", "OSError"})),
        "CError": ("VPSOrgError", frozenset()),
    }


def test_every_also_names_a_builtin_or_a_vpsorg_class() -> None:
    known = set(_classes()) | {n for n in dir(builtins) if n[0].isupper()}
    for where, text in _trees().items():
        for name, (_, others) in parse_tree(text).items():
            assert others <= known, f"{where}: {name} names unknown bases {others - known}"


def test_a_wait_error_catches_both_ways_a_wait_ends_short() -> None:
    assert issubclass(vpsorg.WaitTimeoutError, vpsorg.WaitError)
    assert issubclass(vpsorg.UnreachableStatusError, vpsorg.WaitError)
    # Existing except clauses keep working.
    assert issubclass(vpsorg.WaitTimeoutError, TimeoutError)
    assert issubclass(vpsorg.WaitError, vpsorg.VPSOrgError)
    assert not issubclass(vpsorg.UnreachableStatusError, TimeoutError)
