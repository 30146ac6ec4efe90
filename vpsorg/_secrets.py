"""The one place that knows the secrets and scrubs them.

A secret is the API token of a live client, or the credentials of its proxy. Everything
that could carry one out of the process goes through this module:

* `Secret` holds a credential so that no ``repr``, ``str`` or pickle shows it;
  `RedactedHeader` does the same for a header value on its way to the wire;
* the transport registers the secrets of each client while it lives
  (`register_secret`), and every text vpsorg builds from what a server sent
  (error messages, bodies, headers, request ids, the description of a network failure)
  passes through `redact`, `redact_bytes`, `redact_object` or
  `redact_headers`, which replace each registered secret, in each form a server
  could echo it, with ``[REDACTED]``;
* a foreign exception (aiohttp's, the operating system's) is never chained to a vpsorg
  error: `scrubbed_cause` builds the stand-in that is chained instead;
* `mask_credentials` masks the ``user:password@`` of a URL shown in a
  configuration error, with or without a scheme.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Mapping
from typing import NoReturn
from urllib.parse import quote

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "PICKLE_REFUSAL",
    "REDACTED",
    "RedactedHeader",
    "ScrubbedCause",
    "Secret",
    "mask_credentials",
    "redact",
    "redact_bytes",
    "redact_fragments",
    "redact_headers",
    "redact_object",
    "register_secret",
    "clean_chain",
    "raise_scrubbed",
    "scrubbed_cause",
    "unregister_secret",
]

REDACTED = "[REDACTED]"
_MIN_SECRET_CHARS = 4

PICKLE_REFUSAL = (
    "a vpsorg client cannot be pickled: it holds the API token and open connections. "
    "Create one client per process (in each worker, after it starts) and pass server "
    "ids, names or specs between processes instead"
)
"""Why pickling a client (or anything holding its token) fails."""


class Secret:
    """Holds a credential so that no repr, str, log line or pickle can show it.

    ``str(secret)`` and ``repr(secret)`` both print ``'***'``; only `reveal`
    returns the value, and only the transport calls it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError(PICKLE_REFUSAL)


class RedactedHeader(str):
    """A header value (the ``Authorization`` header) whose repr never shows it.

    It is a real ``str`` so the HTTP stack sends it unchanged, but any repr of a dict
    of headers, in a traceback's locals for example, prints ``'<redacted>'``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


# The live secrets, counted (two clients may share one token), and the forms each can
# take in what a server sends back: as is, JSON-escaped (with "/" as "\/" too, as PHP
# writes it), percent-encoded, HTML-escaped, escaped as a Python repr (aiohttp quotes
# a bad status line that way), and base64 (of the secret, and of "Bearer <secret>").
_secret_counts: dict[str, int] = {}
_forms: tuple[str, ...] = ()
_forms_bytes: tuple[bytes, ...] = ()
_lock = threading.Lock()


def _forms_of(secret: str) -> set[str]:
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),  # as PHP and others escape it
        quote(secret, safe="", errors="surrogatepass"),
        quote(secret, errors="surrogatepass"),
        html.escape(secret),
        repr(secret)[1:-1],
    }
    for value in (secret, "Bearer " + secret):
        forms.add(base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii"))
    return {form for form in forms if len(form) >= _MIN_SECRET_CHARS}


def _rebuild() -> None:
    global _forms, _forms_bytes
    forms: set[str] = set()
    for secret in _secret_counts:
        forms |= _forms_of(secret)
    # Longest first, so a form that contains another is replaced whole.
    _forms = tuple(sorted(forms, key=len, reverse=True))
    _forms_bytes = tuple(f.encode("utf-8", "surrogatepass") for f in _forms)


def register_secret(secret: str) -> None:
    """Scrub ``secret`` from everything built from now on (the transport calls this).

    Secrets shorter than four characters are not registered: replacing them would
    garble every message and they protect nothing.
    """
    if len(secret) < _MIN_SECRET_CHARS:
        return
    with _lock:
        _secret_counts[secret] = _secret_counts.get(secret, 0) + 1
        if _secret_counts[secret] == 1:
            _rebuild()


def unregister_secret(secret: str) -> None:
    """Undo one `register_secret` (the transport calls this when it is closed)."""
    with _lock:
        count = _secret_counts.get(secret)
        if count is None:
            return
        if count > 1:
            _secret_counts[secret] = count - 1
        else:
            del _secret_counts[secret]
            _rebuild()


def active() -> bool:
    """Whether any secret is registered (when none is, scrubbing is skipped)."""
    return bool(_forms)


def redact(text: str) -> str:
    """``text`` with every registered secret (in any of its forms) replaced."""
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


_MIN_FRAGMENT = 8


def redact_fragments(text: str) -> str:
    """``text`` with every secret replaced, and also every run of eight or more of its
    characters (in any form): for a library's message that may have cut a secret short.

    aiohttp quotes the first 100 bytes of an over-long status line and adds ``...``, so
    the token it echoed may appear only in part. Slower than `redact` (a search
    per eight-character piece of each form), so it is kept for error descriptions.
    """
    text = redact(text)
    # The runs of every form are found in the same text, then merged: replacing one
    # form's run first could leave another form's shorter than eight characters.
    spans: list[tuple[int, int]] = []
    for form in _forms:
        for start in range(len(form) - _MIN_FRAGMENT + 1):
            piece = form[start : start + _MIN_FRAGMENT]
            found = text.find(piece)
            while found >= 0:
                spans.append((found, found + _MIN_FRAGMENT))
                found = text.find(piece, found + 1)
    if not spans:
        return text
    spans.sort()
    merged = [spans[0]]
    for begin, end in spans[1:]:
        last_begin, last_end = merged[-1]
        if begin <= last_end:
            merged[-1] = (last_begin, max(last_end, end))
        else:
            merged.append((begin, end))
    for begin, end in reversed(merged):
        text = text[:begin] + REDACTED + text[end:]
    return text


def redact_bytes(data: bytes) -> bytes:
    """``data`` with every registered secret (in any of its forms) replaced."""
    for form in _forms_bytes:
        if form in data:
            data = data.replace(form, REDACTED.encode())
    return data


def redact_object(value: object) -> object:
    """A decoded JSON value with every registered secret replaced in keys and strings."""
    if not _forms:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact_bytes(value)
    if isinstance(value, Mapping):
        return {redact_object(k): redact_object(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_object(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_object(v) for v in value)
    return value


def redact_headers(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """The headers, read-only and case-insensitive, with every secret scrubbed from
    their values (a copy only when needed: a clean ``CIMultiDictProxy`` is returned as is).

    Cheap when nothing is found, as for nearly every response: the values are joined
    once and each form looked for in that (some 0.5 µs for five headers and a token's
    three forms, against 0.8 µs looking in each value).
    """
    if isinstance(headers, CIMultiDictProxy):
        text = "\n".join(headers.values())
        for form in _forms:
            if form in text:
                break
        else:
            return headers
    scrubbed: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        scrubbed.add(name, redact(value))
    return CIMultiDictProxy(scrubbed)


class ScrubbedCause(Exception):
    """Stands in for a foreign exception in the chain of a vpsorg error.

    A library's exception may quote what a server sent (aiohttp puts a malformed status
    line in ``ClientResponseError``'s message, and the request's headers in its
    ``request_info``), so it is never kept as a vpsorg error's ``__cause__`` or
    ``__context__``. This exception is kept instead: its message names the original's
    type and repeats its message with every secret scrubbed. It has no traceback of its
    own, because the original's frames hold local variables (request headers) that an
    error tracker recording locals would show.

    Attributes:
        type_name: the qualified name of the original exception's type, e.g.
            ``"aiohttp.client_exceptions.ClientResponseError"``.
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name


_MAX_CHAIN = 8


def clean_chain(error: BaseException, ours: type[BaseException]) -> None:
    """Replace every exception in ``error``'s chain that is not ``ours`` (vpsorg's base
    error) by its scrubbed stand-in.

    The chain of an error vpsorg raises holds only vpsorg errors and `ScrubbedCause`s:
    a library's exception may quote what a server sent (an echoed token), and Python can
    attach one as an implicit ``__context__`` where no code of ours named it (on 3.10, an
    exception an awaited aiohttp coroutine handled). The request pipeline calls this on
    every error leaving it, so what reaches a caller, a log or an error tracker is clean
    whichever way it was raised.
    """
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_CHAIN * 4:  # bounded: a chain may loop or fork
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for name in ("__cause__", "__context__"):
            link = getattr(current, name)
            if link is None or isinstance(link, ScrubbedCause):
                continue
            if isinstance(link, ours):
                pending.append(link)  # ours, but its own chain may hold a foreign one
            else:
                setattr(current, name, scrubbed_cause(link))


def raise_scrubbed(error: BaseException, cause: ScrubbedCause | None) -> NoReturn:
    """Raise ``error`` with ``cause`` as its only link: never an implicit ``__context__``.

    A raise outside any ``except`` clause is not enough on Python 3.10: an exception that
    an awaited library coroutine handled (aiohttp's ``HttpProcessingError``, quoting the
    status line a server sent) can still be the coroutine's current exception there, and
    becomes the ``__context__`` of whatever is raised next. So the context is dropped
    after the raise, and the error goes on by a bare re-raise, which sets no new one.
    """
    try:
        raise error from cause
    except BaseException as raised:
        raised.__context__ = None
        raise


def scrubbed_cause(exc: BaseException) -> ScrubbedCause:
    """A scrubbed stand-in for ``exc`` and its own chain (at most eight links).

    Never raises, whatever ``exc``'s ``str`` does.
    """
    links: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(links) < _MAX_CHAIN:
        seen.add(id(current))
        links.append(current)
        nxt = current.__cause__
        if nxt is None and not current.__suppress_context__:
            nxt = current.__context__
        current = nxt
    stand_in: ScrubbedCause | None = None
    for link in reversed(links):
        kind = type(link)
        module = kind.__module__
        name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
        try:
            text = str(link)
        except Exception:
            text = ""
        outer = ScrubbedCause(name, redact_fragments(text))
        outer.__cause__ = stand_in
        stand_in = outer
    assert stand_in is not None
    return stand_in


def mask_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` masked as ``***@``, with or without a scheme.

    Everything between the scheme (if any) and the last ``@`` is masked, so a password
    holding an unencoded ``@``, ``/`` or ``#`` is masked whole too.
    """
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, found, _ = head.partition("://")
    if found and _SCHEME.fullmatch(scheme):
        return f"{scheme}://***@{tail}"
    return f"***@{tail}"


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
