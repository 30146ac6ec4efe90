"""The built site shows the API reference as it was meant to read.

The site is built once for this module (``mkdocs build --strict``, exactly what CI and
``nox -s docs`` run) and every page's HTML is checked for what a reader would trip on:

* a ``Returns:``/``Yields:`` table with more rows than the function returns things
  (a description spread over several docstring lines, each taken for a value);
* reST left in rendered text: a ``::`` literal-block marker, a role such as
  ``:class:`` or ``:meth:``, a ``>>>`` session outside an ``Examples:`` section,
  a reST table rule (``=====  =====``);
* a code block in a docstring that is not highlighted (an indented block, a fence
  without a language, or a ``text`` one), or with a line wider than the column;
* a signature longer than the configured line length left on one line (no formatter);
* the note for readers of a page's markdown source ("Built page: ...").

Skipped, with the reason, when the docs extra is not installed; CI installs it.
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

for _module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "material"):
    pytest.importorskip(_module, reason="the docs extra is not installed: pip install -e '.[docs]'")


# ---------------------------------------------------------------------- the HTML, as a tree


@dataclass(eq=False)  # compared by identity: a tree with parent links
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self, skip: frozenset[str] = frozenset()) -> str:
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag not in skip:
                parts.append(child.text(skip))
        return "".join(parts)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self._open = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self._open)
        self._open.children.append(element)
        if tag not in _VOID:
            self._open = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.children.append(Element(tag, {k: v or "" for k, v in attrs}, self._open))

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self._open
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self._open = node.parent

    def handle_data(self, data: str) -> None:
        self._open.children.append(data)


def parse(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# ---------------------------------------------------------------------- the build


@dataclass
class Site:
    directory: Path
    log: str
    pages: dict[str, Element]
    sources: dict[str, str]


def _line_length() -> int:
    """mkdocstrings' ``line_length`` in mkdocs.yml (its default, 60, when not set)."""
    match = re.search(r"^\s*line_length:\s*(\d+)", (ROOT / "mkdocs.yml").read_text(), re.M)
    return int(match.group(1)) if match else 60


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    directory = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(directory)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    sources = {
        path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*.html"))
        if path.name != "404.html"
    }
    assert "reference/clients/index.html" in sources
    return Site(directory, log, {name: parse(text) for name, text in sources.items()}, sources)


def _article(page: Element) -> Element:
    for element in page.iter():
        if element.tag == "article":
            return element
    raise AssertionError("a page without an <article>")


def _docstrings(page: Element) -> Iterator[Element]:
    """The rendered docstrings (mkdocstrings' ``doc-contents``), outermost first."""
    for element in page.iter():
        if "doc-contents" in element.classes:
            yield element


def _owner(element: Element) -> str:
    """The identifier of the object whose docstring holds ``element``."""
    for ancestor in element.ancestors():
        if "doc-object" in ancestor.classes:
            for child in ancestor.iter():
                if re.fullmatch(r"h[1-6]", child.tag) and child.attrs.get("id"):
                    return child.attrs["id"]
    return "?"


# ---------------------------------------------------------------------- Returns tables


def _resolve(identifier: str) -> object:
    parts = identifier.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise LookupError(identifier)


def returned_things(identifier: str) -> int:
    """How many values the callable returns (or yields): a tuple's length, else one."""
    target = _resolve(identifier)
    if isinstance(target, property) and target.fget is not None:
        target = target.fget
    if not callable(target):
        return 1
    annotation = inspect.signature(target).return_annotation
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    text = re.sub(r"^(typing\.)?", "", text)
    match = re.fullmatch(r"(?:tuple|Tuple)\[(.*)\]", text)
    if match is None or match.group(1).rstrip().endswith("..."):
        return 1
    elements = ast.parse(f"({match.group(1)},)", mode="eval").body
    assert isinstance(elements, ast.Tuple)
    return len(elements.elts)


def _section_tables(page: Element, titles: tuple[str, ...]) -> Iterator[tuple[str, Element]]:
    """(title, the table after it) for every docstring section with one of ``titles``."""
    for element in page.iter():
        if "doc-section-title" not in element.classes or element.text().strip() not in titles:
            continue
        paragraph = element.parent
        assert paragraph is not None and paragraph.parent is not None
        siblings = [c for c in paragraph.parent.children if isinstance(c, Element)]
        following = siblings[siblings.index(paragraph) + 1 :]
        if following and following[0].tag == "table":
            yield element.text().strip(), following[0]


def test_returns_tables_have_one_row_per_returned_value(site: Site) -> None:
    problems = []
    checked = 0
    for name, page in site.pages.items():
        for title, table in _section_tables(page, ("Returns:", "Yields:")):
            rows = [e for e in table.iter() if e.tag == "tr" and "doc-section-item" in e.classes]
            owner = _owner(table)
            expected = returned_things(owner)
            checked += 1
            if len(rows) > expected:
                first = " | ".join(" ".join(rows[0].text().split()).split(" ")[:12])
                problems.append(
                    f"{name}: {owner}: {title} has {len(rows)} rows for {expected} value(s);"
                    f" first row: {first}"
                )
    assert checked >= 5, "no Returns sections found: has the rendering changed?"
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------- reST in the text

#: reST that a reader should never see: a literal-block marker, a role, a doctest
#: session outside an Examples section (rendered as nested quotes), a table rule.
_REST = {
    "a '::' literal-block marker": re.compile(r"\S::(?=\s|$)|(?:^|\s)::(?=\s|$)", re.M),
    "a reST role": re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|ref|doc|py:\w+):"),
    "a '>>>' session outside an Examples section": re.compile(r"^\s*>>>", re.M),
    "a reST table": re.compile(r"={3,} +={3,}"),
    "a reST directive": re.compile(r"^\s*\.\. [\w-]+::", re.M),
}
_CODE = frozenset({"code", "pre"})


def test_no_rest_markup_in_rendered_text(site: Site) -> None:
    problems = []
    for name, page in site.pages.items():
        text = html.unescape(_article(page).text(skip=_CODE))
        for what, pattern in _REST.items():
            # The first few of each kind on a page are enough to find them all.
            for match in list(pattern.finditer(text))[:5]:
                start = max(0, match.start() - 50)
                context = " ".join(text[start : match.end() + 30].split())
                problems.append(f"{name}: {what}: ...{context}...")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------- code blocks


#: Characters of code the content column shows (1280 px wide) before it scrolls.
CODE_COLUMN = 80


def test_every_code_block_in_a_docstring_is_highlighted(site: Site) -> None:
    problems = []
    checked = 0
    for name, page in site.pages.items():
        seen: set[int] = set()
        for docstring in _docstrings(page):
            for pre in docstring.iter():
                if pre.tag != "pre" or id(pre) in seen:
                    continue
                seen.add(id(pre))
                wrapper = pre.parent
                classes = wrapper.classes if wrapper is not None else set()
                if "doc-signature" in classes:
                    continue
                checked += 1
                # An indented block (a reST literal block, say) and a fence without a
                # language both come out as language-text: plain, not highlighted.
                languages = {c for c in classes if c.startswith("language-")}
                if not languages - {"language-text"}:
                    first = pre.text().strip().splitlines()[0][:60] if pre.text().strip() else ""
                    problems.append(f"{name}: {_owner(pre)}: a block without a language: {first}")
                wide = [line for line in pre.text().splitlines() if len(line) > CODE_COLUMN]
                if wide:
                    problems.append(f"{name}: {_owner(pre)}: a line scrolls sideways: {wide[0]}")
    assert checked >= 5, "no code blocks found in docstrings: has the rendering changed?"
    assert not problems, "use a fenced block with a language (```python):\n" + "\n".join(problems)


# ---------------------------------------------------------------------- signatures


def test_signatures_are_formatted(site: Site) -> None:
    assert "Formatting signatures requires" not in site.log, (
        "mkdocstrings found no formatter: the docs extra must bring ruff (or black)"
    )
    limit = _line_length()
    problems = []
    checked = 0
    for name, page in site.pages.items():
        for element in page.iter():
            if element.tag != "div" or "doc-signature" not in element.classes:
                continue
            lines = element.text().strip("\n").splitlines()
            checked += 1
            if len(lines) == 1 and len(lines[0]) > limit:
                problems.append(
                    f"{name}: {_owner(element)}: {len(lines[0])} characters: {lines[0]}"
                )
    assert checked >= 50, "no signatures found: has the rendering changed?"
    assert not problems, f"signatures longer than {limit} on one line:\n" + "\n".join(problems)


# ---------------------------------------------------------------------- the source-only note


def test_no_page_shows_the_note_for_its_markdown_source(site: Site) -> None:
    shown = [
        name
        for name, page in site.pages.items()
        if re.search(
            r"Built page:|This is its markdown source|This markdown holds only",
            _article(page).text(),
        )
    ]
    assert not shown, f"the markdown source's note is on the built page: {shown}"
