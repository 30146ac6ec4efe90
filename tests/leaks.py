"""``assert_no_secret``: no secret in an exception, its arguments, its chain or its traceback.

Shared by the tests of issue 19's invariant 2 (no secret leaves the process in anything
vpsorg builds). The walk covers what a logger, Sentry or ``OTelHooks`` would render.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator, Mapping

__all__ = ["assert_no_secret"]

_MAX_DEPTH = 6


def assert_no_secret(value: object, secrets: Iterable[str]) -> None:
    """Fail if any of ``secrets`` appears anywhere in ``value``.

    For an exception: its ``str`` and ``repr``, its ``args``, the public attributes it
    carries (``body``, ``message``, ``headers``, ``cause``, ...), every exception of its
    ``__cause__``/``__context__`` chain (and their ``args``), and the text of
    ``traceback.format_exception``. For anything else: its ``str`` and ``repr``, and
    the items of a mapping or sequence, recursively.

    Args:
        value: the exception (or any object) to inspect.
        secrets: the texts that must not appear (empty strings are ignored).

    Raises:
        AssertionError: naming where a secret was found (the secret itself is not shown).
    """
    wanted = [secret for secret in secrets if secret]
    if not wanted:
        return
    for where, text in _texts(value):
        for number, secret in enumerate(wanted):
            if secret in text:
                raise AssertionError(f"secret #{number} found in {where}")


def _texts(value: object) -> Iterator[tuple[str, str]]:
    seen: set[int] = set()
    yield from _walk(value, "value", seen, 0)
    if isinstance(value, BaseException):
        rendered = "".join(traceback.format_exception(type(value), value, value.__traceback__))
        yield "traceback.format_exception(value)", rendered


def _walk(value: object, where: str, seen: set[int], depth: int) -> Iterator[tuple[str, str]]:
    if id(value) in seen or depth > _MAX_DEPTH or value is None:
        return
    seen.add(id(value))
    if isinstance(value, (bytes, bytearray)):
        yield where, bytes(value).decode("utf-8", errors="replace")
        return
    if isinstance(value, str):
        yield where, value
        return
    yield f"str({where})", _safe(str, value)
    yield f"repr({where})", _safe(repr, value)
    if isinstance(value, BaseException):
        for index, arg in enumerate(value.args):
            yield from _walk(arg, f"{where}.args[{index}]", seen, depth + 1)
        for name, attribute in list(vars(value).items()):
            if not name.startswith("__"):
                yield from _walk(attribute, f"{where}.{name}", seen, depth + 1)
        yield from _walk(value.__cause__, f"{where}.__cause__", seen, depth + 1)
        yield from _walk(value.__context__, f"{where}.__context__", seen, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in list(value.items()):
            yield from _walk(key, f"{where} key", seen, depth + 1)
            yield from _walk(item, f"{where}[{key!r}]", seen, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]", seen, depth + 1)


def _safe(render: object, value: object) -> str:
    try:
        return str(render(value))  # type: ignore[operator]
    except Exception as exc:  # a broken __repr__ is not a leak
        return f"<{type(exc).__name__}>"
