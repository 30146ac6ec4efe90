"""The API reference covers the whole public surface, and the site's nav reaches every page."""

from __future__ import annotations

import re
from pathlib import Path

import vpsorg

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
DIRECTIVE = re.compile(r"^::: (\S+)", re.M)
# Described in prose on the reference's index page rather than by a directive.
IN_PROSE = {"__version__", "DEFAULT_BASE_URL"}


def _documented() -> set[str]:
    names: set[str] = set()
    for page in REFERENCE.glob("*.md"):
        names.update(DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return names


def test_every_public_name_has_a_reference_entry() -> None:
    documented = _documented()
    missing = [
        name
        for name in vpsorg.__all__
        if name not in IN_PROSE
        and f"vpsorg.{name}" not in documented
        # A module (vpsorg.fleet) is covered by directives for its members.
        and not any(d.startswith(f"vpsorg.{name}.") for d in documented)
    ]
    assert missing == []


def test_every_reference_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in REFERENCE.glob("*.md"))
    assert [p for p in pages if f"reference/{p}" not in nav] == []
