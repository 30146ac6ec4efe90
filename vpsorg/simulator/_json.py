"""JSON encoding for the simulator: orjson when importable, the standard library otherwise.

Responses are encoded with `dumps()` (compact bytes). Request bodies are always
decoded with the standard library through `loads_body()`, because its error messages
are the ones Django REST Framework puts into ``{"detail": "JSON parse error - ..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["BodyParseError", "dumps", "loads_body"]


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


dumps: Callable[[Any], bytes]
try:
    import orjson

    dumps = orjson.dumps
except ImportError:  # pragma: no cover - orjson is an optional speed-up
    dumps = _stdlib_dumps


class BodyParseError(ValueError):
    """A request body that is not valid JSON; ``str()`` is the DRF-style reason."""


def _reject_constant(name: str) -> Any:
    # DRF parses strictly: NaN and the infinities are not JSON.
    raise ValueError("Out of range float values are not JSON compliant")


def loads_body(raw: bytes) -> Any:
    """Decode a request body as DRF's JSONParser would, raising `BodyParseError`.

    Examples:
        >>> loads_body(b'{"name": "web-1"}')
        {'name': 'web-1'}
    """
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BodyParseError(f"JSON parse error - {exc}") from None
