"""JSON encoding and decoding, with orjson when the ``speedups`` extra is installed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["JSONDecodeError", "dumps", "loads"]

JSONDecodeError: tuple[type[Exception], ...]

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson

    dumps: Callable[[Any], bytes] = orjson.dumps

    def loads(data: bytes) -> Any:
        """Decode JSON bytes (orjson)."""
        return orjson.loads(data)

    JSONDecodeError = (orjson.JSONDecodeError, ValueError, TypeError, RecursionError)
except ImportError:  # pragma: no cover

    def dumps(obj: Any) -> bytes:
        """Encode an object as compact UTF-8 JSON bytes."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(data: bytes) -> Any:
        """Decode JSON bytes (the standard library)."""
        return json.loads(data)

    JSONDecodeError = (ValueError, TypeError, RecursionError)
