"""Generated, inline-checking structure functions for the hot models.

cattrs' own generated code calls one hook per field; for a server that is some 27 calls,
most of the cost of decoding a response. This module writes, from the attrs field
definitions themselves (so there is no second list of fields to keep in step), one
function per model that checks each field's type inline (``type(v) is int``) and builds
the object in one call. The private converter registers these as its fast hooks; when one
raises, the converter's detailed path explains which field is wrong, so the rules here
must only be at least as strict as the detailed converter's, never looser.

Supported field types: ``int``, ``float``, ``str``, ``bool``, ``datetime``, the
``ServerStatus | str`` status, another attrs model in the same set, and ``X | None`` of
any of these.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = ["make_structure_functions"]

StructureFn = Callable[[Any, Any], Any]


def make_structure_functions(
    models: tuple[type[Any], ...],
    *,
    status_type: object,
    parse_status: Callable[[Any, Any], object],
    parse_datetime: Callable[[Any, Any], datetime],
) -> Mapping[type[Any], StructureFn]:
    """One ``fn(data, cls)`` per model; models must come after the models they contain."""
    namespace: dict[str, Any] = {
        "_status": parse_status,
        "_datetime": parse_datetime,
        "_dict": dict,
        "_int": int,
        "_float": float,
        "_str": str,
    }
    out: dict[type[Any], StructureFn] = {}
    for model in models:
        namespace[f"_cls_{model.__name__}"] = model
        source = _function_source(model, status_type, set(out))
        exec(compile(source, f"<vpsorg fast structure {model.__name__}>", "exec"), namespace)
        out[model] = namespace[f"structure_{model.__name__}"]
    return out


def _function_source(model: type[Any], status_type: object, known: set[type[Any]]) -> str:
    lines = [f"def structure_{model.__name__}(o, _=None):"]
    names = []
    for index, field in enumerate(attrs.fields(model)):
        var = f"v{index}"
        names.append(var)
        getter = (
            f"o[{field.name!r}]" if field.default is attrs.NOTHING else f"o.get({field.name!r})"
        )
        if field.default not in (attrs.NOTHING, None):
            raise TypeError(f"{model.__name__}.{field.name}: only None defaults are supported")
        lines.append(f"    {var} = {getter}")
        field_type, optional = _unwrap_optional(field.type)
        if optional or field.default is None:
            lines.append(f"    if {var} is not None:")
            lines += ["    " + line for line in _check(var, field_type, status_type, known)]
        else:
            lines += _check(var, field_type, status_type, known)
    lines.append(f"    return _cls_{model.__name__}({', '.join(names)})")
    return "\n".join(lines) + "\n"


def _unwrap_optional(type_: Any) -> tuple[Any, bool]:
    if isinstance(type_, types.UnionType) or typing.get_origin(type_) is typing.Union:
        args = typing.get_args(type_)
        if type(None) in args:
            rest = tuple(a for a in args if a is not type(None))
            if len(rest) == 1:
                return rest[0], True
    return type_, False


def _check(var: str, type_: Any, status_type: object, known: set[type[Any]]) -> list[str]:
    fail = "        raise TypeError"
    if type_ is int:
        return [f"    if type({var}) is not _int:", fail]
    if type_ is str:
        return [f"    if type({var}) is not _str:", fail]
    if type_ is bool:
        return [f"    if {var} is not True and {var} is not False:", fail]
    if type_ is float:
        return [
            f"    if type({var}) is _int:",
            f"        {var} = _float({var})",
            f"    elif type({var}) is not _float:",
            fail,
        ]
    if type_ is datetime:
        return [f"    {var} = _datetime({var}, None)"]
    if type_ == status_type:
        return [f"    {var} = _status({var}, None)"]
    if type_ in known:
        return [
            f"    if type({var}) is not _dict:",
            fail,
            f"    {var} = structure_{type_.__name__}({var})",
        ]
    raise TypeError(f"no inline check for {type_!r}")
