"""mkdocs hook: leave out the note that each page's markdown source opens with.

A page's source (read on GitHub) opens with a blockquote pointing at its built page,
``> Built page: <https://...>. This is its markdown source; ...``. On the site that note
would point at itself, so the build drops it: the first blockquote of a page, when it
starts with ``Built page:``, and nothing else.
"""

from __future__ import annotations

import re
from typing import Any

# After an optional title line: "> Built page: ..." and any "> ..." lines that continue it.
_NOTE = re.compile(r"\A((?:#[^\n]*\n)?\s*)> Built page:[^\n]*\n(?:>[^\n]*\n)*\n?")


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """The page's markdown without its source-only note."""
    return _NOTE.sub(r"\1", markdown, count=1)
