"""The one private cattrs converter that turns API JSON into vpsorg models.

Rules kept here, out of the models:

- unknown keys are ignored (the API may add fields at any time);
- a status vpsorg does not know stays a plain ``str``;
- timestamps become timezone-aware ``datetime`` objects (naive ones are taken as UTC);
- primitives are strict: ``"12"`` is not an int, ``True`` is not an int, ``1`` is not a
  bool, so a wrong shape is reported instead of silently converted.

Decoding runs a fast converter first (no detailed validation). Only when that fails is the
same data run through a detailed converter, to build a message that names the bad field.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import cattrs
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn

from .models import (
    ActionResult,
    OperatingSystem,
    Plan,
    ResourceUsage,
    Server,
    ServerRef,
    ServerStatus,
)
from .models.servers import StatusValue

__all__ = ["DecodeError", "structure", "structure_many"]

T = TypeVar("T")

_STATUS_BY_VALUE: dict[str, ServerStatus] = {s.value: s for s in ServerStatus}
_PY311 = sys.version_info >= (3, 11)


class DecodeError(ValueError):
    """Data did not match the model; the message names the field that is wrong."""


def _strict_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _strict_float(value: Any, _: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _strict_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _strict_bool(value: Any, _: Any) -> bool:
    if value is True or value is False:
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _status(value: Any, _: Any) -> StatusValue:
    if type(value) is str:
        return _STATUS_BY_VALUE.get(value, value)
    raise TypeError(f"expected a status string, got {type(value).__name__}")


def _datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    text = value if _PY311 or not value.endswith(("Z", "z")) else value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _optional(hook: Callable[[Any, Any], T]) -> Callable[[Any, Any], T | None]:
    def structure(value: Any, type_: Any) -> T | None:
        return None if value is None else hook(value, type_)

    return structure


_MODELS = (Plan, OperatingSystem, ResourceUsage, ServerRef, ActionResult, Server)


def _make_converter(detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    for type_, hook in (
        (int, _strict_int),
        (float, _strict_float),
        (str, _strict_str),
        (bool, _strict_bool),
        (datetime, _datetime),
    ):
        conv.register_structure_hook(type_, hook)
        conv.register_structure_hook(type_ | None, _optional(hook))
    conv.register_structure_hook(StatusValue, _status)
    for model in _MODELS:
        conv.register_structure_hook(
            model,
            make_dict_structure_fn(model, conv, _cattrs_detailed_validation=detailed),
        )
    # Optional nested models use the generated hooks above, with None passed through.
    conv.register_structure_hook(
        ResourceUsage | None, _optional(conv.get_structure_hook(ResourceUsage))
    )
    conv.register_structure_hook(Plan | None, _optional(conv.get_structure_hook(Plan)))
    return conv


_fast = _make_converter(detailed=False)
_detailed = _make_converter(detailed=True)


def _describe(exc: BaseException, type_: type[Any] | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, (TypeError, ValueError)) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


def _explain(data: object, cls: type[Any]) -> DecodeError:
    """Run the detailed converter over data that failed, to name what is wrong."""
    try:
        _detailed.structure(data, cls)
    except BaseValidationError as exc:
        messages = cattrs.transform_error(exc, path=cls.__name__, format_exception=_describe)
        return DecodeError("; ".join(messages[:5]))
    except Exception as exc:  # pragma: no cover - defensive: any other decoding failure
        return DecodeError(f"{cls.__name__}: {type(exc).__name__}: {exc}")
    return DecodeError(f"{cls.__name__}: could not be decoded")  # pragma: no cover


def structure(data: object, cls: type[T]) -> T:
    """Build a model from decoded JSON, or raise :class:`DecodeError`."""
    if type(data) is not dict:
        raise DecodeError(f"{cls.__name__}: expected a JSON object, got {_json_type(data)}")
    try:
        return _fast.structure(data, cls)
    except Exception:
        raise _explain(data, cls) from None


def structure_many(items: object, cls: type[T]) -> list[T]:
    """Build a list of models from a decoded JSON array, or raise :class:`DecodeError`."""
    if type(items) is not list:
        raise DecodeError(f"expected a JSON array of {cls.__name__}, got {_json_type(items)}")
    hook = _fast.get_structure_hook(cls)
    out: list[T] = []
    append = out.append
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise DecodeError(f"[{index}]: expected a JSON object, got {_json_type(item)}")
        try:
            append(hook(item, cls))
        except Exception:
            raise DecodeError(f"[{index}]: {_explain(item, cls)}") from None
    return out


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
    }.get(type(value), type(value).__name__)
