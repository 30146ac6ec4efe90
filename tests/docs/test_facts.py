"""What the pages say about the project agrees with pyproject.toml, its one source.

- The supported Pythons are the ``Programming Language :: Python :: 3.N`` classifiers:
  every "Python 3.A to 3.B" on a page names their first and last, and no page promises
  more ("3.10+", "3.10 or newer").
- "depends on ..." lists exactly ``[project] dependencies``.
- While vpsorg is not on the package index (``PUBLISHED``), no page tells the reader
  to ``pip install vpsorg`` by name: the install lines go through a git URL or a clone.
  Set ``PUBLISHED = True`` with the first upload (RELEASING.md says when).
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: True once ``pip install vpsorg`` works (the first release is on PyPI).
PUBLISHED = False


def _pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _where(page: Path, text: str, offset: int) -> str:
    return f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"


def _pythons() -> list[str]:
    classifiers = importlib.metadata.metadata("vpsorg").get_all("Classifier") or []
    found = [c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)]
    return sorted(found, key=lambda v: int(v.split(".")[1]))


def _dependencies() -> set[str]:
    requires = importlib.metadata.requires("vpsorg") or []
    names = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r}
    return {name.lower().replace("-", "_") for name in names}


def test_the_classifiers_are_a_contiguous_range_from_requires_python() -> None:
    pythons = _pythons()
    minors = [int(v.split(".")[1]) for v in pythons]
    assert minors == list(range(minors[0], minors[-1] + 1)), pythons
    requires = importlib.metadata.metadata("vpsorg")["Requires-Python"]
    assert requires == f">={pythons[0]}"


def test_every_supported_range_on_a_page_is_the_classifiers() -> None:
    pythons = _pythons()
    wanted = (pythons[0], pythons[-1])
    wrong, stated = [], []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"Python (3\.\d+) to (3\.\d+)", text):
            stated.append(page.name)
            if match.groups() != wanted:
                wrong.append(f"{_where(page, text, match.start())}: {match.group()}")
        for match in re.finditer(rf"Python {re.escape(pythons[0])}(\+| or newer| or later)", text):
            wrong.append(f"{_where(page, text, match.start())}: {match.group()} (say the range)")
    assert not wrong, f"the classifiers say Python {wanted[0]} to {wanted[1]}:\n" + "\n".join(wrong)
    assert {"README.md", "index.md", "getting-started.md", "CONTRIBUTING.md"} <= set(stated)


def test_every_dependency_list_is_pyproject_s() -> None:
    wanted = _dependencies()
    assert "msgspec" in wanted
    lists = 0
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"depends on ((?:[\w-]+,\s+)*[\w-]+\s+and\s+[\w-]+)\.", text):
            lists += 1
            words = re.split(r",\s+|\s+and\s+", match.group(1))
            named = {word.lower().replace("-", "_") for word in words}
            assert named == wanted, (
                f"{_where(page, text, match.start())}: lacks {sorted(wanted - named)}, "
                f"names {sorted(named - wanted)} that pyproject.toml does not depend on"
            )
    assert lists >= 1, "the home page should say what vpsorg depends on"


def _install_targets(line: str) -> list[str]:
    command = line.split("pip install", 1)[1].split("#", 1)[0].split("&&", 1)[0]
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote inside inline code: take the words as they are
        words = command.split()
    return [w.strip("`") for w in words if not w.startswith("-")]


@pytest.mark.skipif(PUBLISHED, reason="vpsorg is on the package index")
def test_no_page_installs_vpsorg_from_the_index_before_it_is_there() -> None:
    by_name = re.compile(r"vpsorg(\[[\w,]+\])?")
    offenders = []
    for page in [*_pages(), ROOT / "SECURITY.md"]:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"pip install [^\n]*", text):
            targets = _install_targets(match.group())
            if any(by_name.fullmatch(t) for t in targets):
                offenders.append(f"{_where(page, text, match.start())}: {match.group()}")
    assert not offenders, (
        "vpsorg is not on PyPI yet: install from git+https://github.com/vpsorg/vpsorg-python "
        "or a clone:\n" + "\n".join(offenders)
    )


def test_the_readme_says_it_is_a_pre_release() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if PUBLISHED:
        assert "not on PyPI yet" not in readme
    else:
        assert "**Pre-release.**" in readme
        assert "not on PyPI yet" in readme


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ('pip install "vpsorg[cli]"', True),
        ("python -m pip install vpsorg", True),
        ("pip install 'vpsorg[otel]' opentelemetry-sdk", True),
        ('pip install "vpsorg[cli] @ git+https://github.com/vpsorg/vpsorg-python"', False),
        ('pip install -e ".[dev,docs]"', False),
        ("pip install opentelemetry-sdk", False),
    ],
)
def test_the_install_check_reads_install_lines(line: str, flagged: bool) -> None:
    by_name = re.compile(r"vpsorg(\[[\w,]+\])?")
    assert any(by_name.fullmatch(t) for t in _install_targets(line)) is flagged


def test_the_tools_test_the_supported_pythons() -> None:
    """nox's matrix is the classifiers; .ci/run's extra suites are the oldest and newest."""
    pythons = _pythons()
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    matrix = re.search(r"^PYTHON = \[(.*?)\]", noxfile, re.M)
    assert matrix, "noxfile.py should list its Pythons as PYTHON = [...]"
    assert re.findall(r'"(3\.\d+)"', matrix.group(1)) == pythons
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extra = re.search(r"^EXTRA_PYTHONS=\$\{EXTRA_PYTHONS-(.*?)\}", ci, re.M)
    assert extra, ".ci/run should default EXTRA_PYTHONS"
    assert extra.group(1).split() == [pythons[0], pythons[-1]]
