"""``assert_no_secret``: fail when a secret shows anywhere in what a test got back.

A secret can leave in many forms (a server echoes it JSON-escaped, in a percent-encoded
redirect, in base64), and through many doors (an exception's message, its ``args``, an
attribute, its chain, its rendered traceback). This helper looks through all of them
and names the door and the form, never printing the secret itself.
"""

from __future__ import annotations

import base64
import html
import json
import traceback
from collections.abc import Iterable, Mapping
from urllib.parse import quote

__all__ = ["FRAGMENT", "assert_no_secret", "secret_forms"]

_MAX_DEPTH = 12
_MAX_OBJECTS = 5_000


def secret_forms(secret: str) -> dict[str, str]:
    """The forms ``secret`` can take in text, by name (shorter than 4 characters: none)."""
    forms = {
        "raw": secret,
        "JSON-escaped": json.dumps(secret)[1:-1],
        "JSON-escaped (non-ASCII kept)": json.dumps(secret, ensure_ascii=False)[1:-1],
        "JSON-escaped (with \\/)": json.dumps(secret)[1:-1].replace("/", "\\/"),
        "percent-encoded": quote(secret, safe="", errors="surrogatepass"),
        "percent-encoded (/ kept)": quote(secret, errors="surrogatepass"),
        "HTML-escaped": html.escape(secret),
        "repr-escaped": repr(secret)[1:-1],
        "base64": base64.b64encode(secret.encode("utf-8", "surrogatepass")).decode(),
        "base64 of 'Bearer <secret>'": base64.b64encode(
            f"Bearer {secret}".encode("utf-8", "surrogatepass")
        ).decode(),
    }
    return {name: form for name, form in forms.items() if len(form) >= 4}


#: A run this long of a secret's characters counts as showing it (a message cut short).
FRAGMENT = 8


def assert_no_secret(value: object, secrets: Iterable[str]) -> None:
    """Fail if any of ``secrets``, in any of its forms, appears in ``value``.

    An exception is searched in its ``str``, ``repr``, ``args``, attributes, its
    ``__cause__`` and ``__context__`` (recursively, suppressed ones included) and the
    text of ``traceback.format_exception``; a mapping or a sequence in its items; any
    other object in its ``str`` and ``repr``. A run of eight or more consecutive
    characters of a secret counts too (a library that cut the secret short, as aiohttp
    does with a 100-byte excerpt of an over-long line). The failure names where and in
    which form the secret was found, with the secret itself replaced by ``<SECRET>``.
    """
    wanted = [secret for secret in secrets if secret]  # an iterator is read once
    forms = [(name, form) for secret in wanted for name, form in secret_forms(secret).items()]
    for secret in wanted:
        for start in range(len(secret) - FRAGMENT + 1):
            forms.append((f"a {FRAGMENT}-character fragment", secret[start : start + FRAGMENT]))
    if not forms:
        return
    _Search(forms).visit(value, "value", 0)


class _Search:
    def __init__(self, forms: list[tuple[str, str]]) -> None:
        self.forms = forms
        self.seen: set[int] = set()

    def check(self, text: str, where: str) -> None:
        for name, form in self.forms:
            index = text.find(form)
            if index >= 0:
                excerpt = text[max(0, index - 80) : index + len(form) + 80]
                for _, other in self.forms:
                    excerpt = excerpt.replace(other, "<SECRET>")
                raise AssertionError(f"a secret ({name}) appears in {where}: ...{excerpt}...")

    def text_of(self, value: object, where: str) -> None:
        for render, label in ((str, "str"), (repr, "repr")):
            try:
                text = render(value)
            except Exception as exc:  # a broken __str__ is not this helper's business
                text = f"<{label} raised {type(exc).__name__}>"
            self.check(text, f"{label}({where})")

    def visit(self, value: object, where: str, depth: int) -> None:
        if value is None or isinstance(value, (bool, int, float)):
            return
        if isinstance(value, str):
            self.check(value, where)
            return
        if isinstance(value, (bytes, bytearray, memoryview)):
            self.check(bytes(value).decode("utf-8", "surrogateescape"), where)
            return
        if id(value) in self.seen or depth > _MAX_DEPTH or len(self.seen) > _MAX_OBJECTS:
            return
        self.seen.add(id(value))
        self.text_of(value, where)
        if isinstance(value, BaseException):
            self.exception(value, where, depth)
        elif isinstance(value, Mapping):
            for key, item in list(value.items()):
                self.visit(key, f"{where} key", depth + 1)
                self.visit(item, f"{where}[{key!r}]", depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for index, item in enumerate(list(value)):
                self.visit(item, f"{where}[{index}]", depth + 1)

    def exception(self, error: BaseException, where: str, depth: int) -> None:
        rendered = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.check(rendered, f"the rendered traceback of {where}")
        for index, arg in enumerate(error.args):
            self.visit(arg, f"{where}.args[{index}]", depth + 1)
        for name, attribute in list(getattr(error, "__dict__", {}).items()):
            self.visit(attribute, f"{where}.{name}", depth + 1)
        notes = getattr(error, "__notes__", None)
        if notes is not None:
            self.visit(notes, f"{where}.__notes__", depth + 1)
        self.visit(error.__cause__, f"{where}.__cause__", depth + 1)
        self.visit(error.__context__, f"{where}.__context__", depth + 1)
