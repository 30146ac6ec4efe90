"""mkdocs hook: turn the Sphinx roles of vpsorg's docstrings into cross-references.

The docstrings use roles such as ``:class:`~vpsorg.Outcome``` (they read well in a
terminal and in ``help()``). mkdocstrings renders them as the role name followed by
inline code; this hook replaces each with an autorefs link. A role naming a public
``vpsorg.`` object must resolve, so a renamed or removed object breaks the strict build;
a short or private name is linked when it resolves and left as code otherwise.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|mod|data|attr|exc|obj):<code>(~?)([A-Za-z_][\w.]*)</code>")
_CALLABLE_ROLES = (":meth:", ":func:")


def _replace(match: re.Match[str]) -> str:
    short, target = match.group(1) == "~", match.group(2)
    text = target.rsplit(".", 1)[-1] if short else target
    if match.group(0).startswith(_CALLABLE_ROLES):
        text += "()"
    public = target.startswith("vpsorg.") and not any(
        part.startswith("_") for part in target.split(".")
    )
    if public:
        return f'<autoref identifier="{target}"><code>{text}</code></autoref>'
    identifier = target if target.startswith("vpsorg.") else f"vpsorg.{target}"
    return f'<autoref identifier="{identifier}" optional><code>{text}</code></autoref>'


def on_page_content(html: str, **kwargs: Any) -> str:
    """Replace every role in a rendered page (autorefs resolves the links later)."""
    return _ROLE.sub(_replace, html)
