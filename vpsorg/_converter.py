"""Turning API JSON into vpsorg models: msgspec for speed, cattrs to explain failures.

Rules kept here, out of the models:

- unknown keys are ignored (the API may add fields at any time);
- primitives are strict: ``"12"`` is not an int, ``True`` is not an int, ``1`` is not a
  bool (an integer is accepted where a float is expected), so a wrong shape is reported
  instead of silently converted;
- timestamps are RFC 3339 strings.

Two more rules hold on every path: a status vpsorg does not know stays a plain ``str``
(known ones become [`ServerStatus`][vpsorg.ServerStatus] members), and a naive timestamp
is taken as UTC.

The fast path is msgspec decoding JSON bytes straight into the models, frozen msgspec
Structs that attrs' functions understand (``msgspec.json.Decoder(Server)``; see
``vpsorg/models/_base.py`` for why Structs): parse, type checks and object building in one
pass of C code, with no Python code per model. Its types are strict: a status must be a
``ServerStatus`` value and a timestamp must carry an offset, which is what the rules
produce. When it refuses the data, the same bytes are decoded with lenient twins of the
models (`_lenient()`: the same fields, a status any ``str``, a plain ``datetime``;
the nested models without a rule are shared), and the real models are built from them by
a call, which applies the rules (`vpsorg.models._base.ModelMeta`). A page the strict
types refuse is decoded again item by item, so only its refused items take the lenient
path. Only when the twins refuse too does a detailed cattrs converter run (built on
`cattrs.preconf.msgspec`, so timestamps are parsed by msgspec's own RFC 3339 parser and
both paths accept exactly the same strings), whose only job is a message naming the bad
field. The paths agree on every input; a property test holds
them to it.
"""

from __future__ import annotations

import contextlib
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs
import cattrs
import msgspec
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn
from cattrs.preconf.msgspec import make_converter

from .models import ActionResult, OperatingSystem, Plan, ResourceUsage, Server, ServerRef
from .models._base import Model, accepted_type

__all__ = [
    "DecodeError",
    "NotJSONError",
    "Page",
    "SharedParts",
    "raw_id",
    "structure",
    "structure_json",
    "structure_many",
    "structure_page",
]

T = TypeVar("T")


class DecodeError(ValueError):
    """Data did not match the model; the message names the field that is wrong."""


class NotJSONError(DecodeError):
    """The bytes are not valid JSON at all."""


@attrs.frozen(slots=True)
class Page(Generic[T]):
    """The DRF list envelope, decoded with its results in one pass."""

    results: list[T]
    count: int | None = None
    next: str | None = None
    previous: str | None = None


# -- the fast path: msgspec -------------------------------------------------------------

_decoders: dict[object, msgspec.json.Decoder[Any]] = {}


def _decoder(type_: object) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    return decoder


_page_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def _page_decoder(item_type: type[Any]) -> msgspec.json.Decoder[Any]:
    """The decoder of a list response of ``item_type``, keyed by the item type itself:
    spelling the union ``Page[T] | list[T]`` to look it up would cost ~1.2 µs a page."""
    decoder = _page_decoders.get(item_type)
    if decoder is None:
        page_type = Page[item_type] | list[item_type]  # type: ignore[valid-type]
        decoder = _page_decoders[item_type] = msgspec.json.Decoder(page_type)
    return decoder


def structure_json(raw: bytes, cls: type[T]) -> T:
    """Build a model from JSON bytes in one pass, or raise `DecodeError`."""
    try:
        try:  # the strict decode inlined, not `_strict_or_lenient()`: a frame less per GET
            model: T = _decoder(cls).decode(raw)
        except msgspec.ValidationError as refused:
            model = _leniently(lambda type_: _decoder(type_).decode(raw), cls, refused)
        return model
    except msgspec.ValidationError as exc:
        data = _parse(raw)  # the type was wrong before the end: is the rest JSON at all?
        if type(data) is not dict:
            raise DecodeError(
                f"{cls.__name__}: expected a JSON object, got {_json_type(data)}"
            ) from None
        raise _explain(data, cls, cls.__name__, exc) from None
    except msgspec.DecodeError:
        raise NotJSONError("not valid JSON") from None
    except Exception as exc:
        raise _undecodable(exc) from None


def _undecodable(exc: Exception) -> NotJSONError:
    """A decoding failure of another Python type (msgspec raises RecursionError for a
    body nested too deep, ``[[[[...``), as the one error every caller handles."""
    if isinstance(exc, RecursionError):
        return NotJSONError("not usable JSON: nested too deeply")
    return NotJSONError(f"not usable JSON ({type(exc).__name__})")


def _parse(raw: bytes) -> object:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise NotJSONError("not valid JSON") from None
    except Exception as exc:
        raise _undecodable(exc) from None


class _Identified(msgspec.Struct):
    id: int | None = None


class _ActionIdentified(msgspec.Struct):
    server: _Identified | None = None


def raw_id(raw: bytes) -> int | None:
    """The server id a create's or a power action's answer names, when it can be read.

    For an answer that did not decode as a whole (a field the API changed, say): the
    top-level ``id``, or the ``server.id`` of an action's answer. ``None`` when the body
    is not JSON, is cut off, or names no integer id.
    """
    value: int | None = None
    with contextlib.suppress(Exception):  # any failure: the body names no readable id
        value = msgspec.json.decode(raw, type=_Identified).id
    if value is None:
        with contextlib.suppress(Exception):
            server = msgspec.json.decode(raw, type=_ActionIdentified).server
            value = server.id if server is not None else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def structure(data: object, cls: type[T]) -> T:
    """Build a model from decoded JSON (a ``dict``), or raise `DecodeError`."""
    if type(data) is not dict:
        raise DecodeError(f"{cls.__name__}: expected a JSON object, got {_json_type(data)}")
    try:
        model: T = _convert(data, cls)
    except msgspec.ValidationError as exc:
        raise _explain(data, cls, cls.__name__, exc) from None
    return model


def structure_many(items: object, cls: type[T]) -> list[T]:
    """Build a list of models from a decoded JSON array, or raise `DecodeError`."""
    if type(items) is not list:
        raise DecodeError(f"expected a JSON array of {cls.__name__}, got {_json_type(items)}")
    try:
        models: list[T] = _convert(items, list[cls])  # type: ignore[valid-type]
    except msgspec.ValidationError as exc:
        raise _explain_results(items, cls, "", exc) from None
    return models


def structure_page(
    raw: bytes, item_type: type[T]
) -> tuple[int | None, str | None, str | None, list[T]]:
    """Decode a list response, envelope and items in one pass.

    Accepts the DRF envelope (``count``, ``next``, ``previous``, ``results``), one with
    only ``count`` and ``results``, or a bare JSON array. Returns ``(count, next,
    previous, results)``; an empty ``next`` or ``previous`` becomes ``None``. Raises
    `DecodeError` naming the problem.
    """
    try:
        try:
            page = _page_decoder(item_type).decode(raw)
        except msgspec.ValidationError:
            page = _item_by_item(raw, item_type)
    except msgspec.ValidationError as exc:
        raise _explain_page(_parse(raw), item_type, exc) from None
    except msgspec.DecodeError:
        raise NotJSONError("not valid JSON") from None
    except Exception as exc:
        raise _undecodable(exc) from None
    if type(page) is list:
        return None, None, None, page
    return page.count, page.next or None, page.previous or None, page.results


# -- the lenient path: twins of the models, when the strict types refuse ----------------


def _strict_or_lenient(raw: bytes | msgspec.Raw, type_: Any) -> Any:
    """Decode JSON into ``type_``, with its lenient twin when the strict types refuse."""
    try:
        return _decoder(type_).decode(raw)
    except msgspec.ValidationError as refused:
        return _leniently(lambda twin: _decoder(twin).decode(raw), type_, refused)


def _leniently(decode: Callable[[Any], Any], type_: Any, refused: msgspec.ValidationError) -> Any:
    """``decode(type_)`` refused the data: decode it into ``type_``'s lenient twin and
    build the real models from that, or raise the twin's `msgspec.ValidationError`
    (``refused`` itself when ``type_`` has no twin)."""
    twin = _lenient(type_)
    if twin is type_:
        raise refused
    return _promote(decode(twin))


_raw_page_decoder: msgspec.json.Decoder[Page[msgspec.Raw] | list[msgspec.Raw]] = (
    msgspec.json.Decoder(Page[msgspec.Raw] | list[msgspec.Raw])
)


def _item_by_item(raw: bytes, item_type: Any) -> Page[Any] | list[Any]:
    """A list response the strict types refused, decoded again one item at a time.

    The envelope is decoded with each item left as raw JSON, then each item strictly,
    and leniently only when that is refused: a page where one server has a status
    vpsorg does not know takes the lenient path for that server alone. Measured with
    ``python -m benchmarks --quick --cases 4`` on a page of 50: 1.06 µs a server, where
    it was 4.6 µs when the whole page took the lenient path, against 0.55 µs for a page
    of known statuses. Raises the
    `msgspec.ValidationError` of the envelope, or of the first item neither path takes.
    """
    page = _raw_page_decoder.decode(raw)
    if isinstance(page, list):
        return [_strict_or_lenient(item, item_type) for item in page]
    results = [_strict_or_lenient(item, item_type) for item in page.results]
    return Page(results, page.count, page.next, page.previous)


def _convert(data: object, type_: Any) -> Any:
    """`msgspec.convert()` of decoded JSON, with the lenient twins where it refuses."""
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as refused:
        return _leniently(lambda twin: msgspec.convert(data, twin), type_, refused)


#: each lenient twin and the model it stands for
_real: dict[type[Any], type[Any]] = {}
#: each lenient twin's fields whose values hold twins too (the others are kept as they are)
_nested: dict[type[Any], tuple[str, ...]] = {}


@functools.cache
def _lenient(type_: Any) -> Any:
    """``type_`` with every model in it that has a rule replaced by its lenient twin
    (`msgspec.defstruct()`: the same fields, each by the type its rule accepts); itself
    when nothing in it has a rule. ``Plan`` and the like are shared by both."""
    if isinstance(type_, type) and issubclass(type_, Model):
        fields = msgspec.structs.fields(type_)
        types_ = [_lenient(accepted_type(field.type)) for field in fields]
        if all(new == field.type for new, field in zip(types_, fields, strict=True)):
            return type_
        twin = msgspec.defstruct(
            f"Lenient{type_.__name__}",
            [
                (field.name, new) if field.required else (field.name, new, field.default)
                for new, field in zip(types_, fields, strict=True)
            ],
        )
        _real[twin] = type_
        _nested[twin] = tuple(
            field.name
            for new, field in zip(types_, fields, strict=True)
            if new != accepted_type(field.type)
        )
        return twin
    args = typing.get_args(type_)
    origin = typing.get_origin(type_)
    if origin not in (list, typing.Union, types.UnionType):
        return type_
    new_args = tuple(_lenient(arg) for arg in args)
    if new_args == args:
        return type_
    if origin is list:
        return types.GenericAlias(list, new_args)
    return typing.Union.__getitem__(new_args)


def _promote(value: Any) -> Any:
    """The real models of what a lenient twin decoded, each built by a call (so its
    rules apply); anything else as it is."""
    real = _real.get(type(value))
    if real is not None:
        nested = _nested[type(value)]
        if not nested:  # positional: a third of the cost of keywords
            return real(*msgspec.structs.astuple(value))
        fields = msgspec.structs.asdict(value)
        for name in nested:
            fields[name] = _promote(fields[name])
        return real(**fields)
    if type(value) is list:
        return [_promote(item) for item in value]
    return value


# -- sharing what many servers hold alike -----------------------------------------------

#: The most distinct plans, images or locations one `SharedParts` keeps.
_MAX_SHARED = 4096
_set_field = msgspec.structs.force_setattr


def _known(seen: dict[Any, Any], key: Any, part: Any) -> Any:
    """The part seen before under ``key`` when it equals ``part``, else ``part`` itself
    (recorded under ``key`` when nothing was, while ``seen`` has room)."""
    known = seen.get(key)
    if known is None:
        if len(seen) < _MAX_SHARED:
            seen[key] = part
        return part
    return known if known == part else part


class SharedParts:
    """Makes the servers one bulk call keeps share their equal parts.

    A fleet has a few plans, images and data centres, but each decoded `Server` holds
    its own `Plan`, `OperatingSystem` and ``location`` string: some 490 of the ~1,120
    bytes a detail-view server takes. ``get_many`` passes every server it keeps through
    one of these, which swaps each part for an equal one seen before in the same call
    (models are frozen, so sharing an equal part changes nothing a user can see). A part
    is looked up by its id and shared only when it is equal in every field. About 6,700
    instructions a server (2 % of a ``get_many`` item, under callgrind) buy ~470 bytes:
    ``python -m benchmarks`` case 5 measures the memory. Anything that is not a `Server`
    is returned as given.
    """

    __slots__ = ("_locations", "_plans", "_systems")

    def __init__(self) -> None:
        self._plans: dict[int, Plan] = {}
        self._systems: dict[int, OperatingSystem] = {}
        self._locations: dict[str, str] = {}

    def __call__(self, value: T) -> T:
        if type(value) is not Server:
            return value
        server: Server = value  # type: ignore[assignment]  # (no cast: a call per server)
        try:
            plan, system, location = server.plan, server.os, server.location
            if type(plan) is Plan and (shared := _known(self._plans, plan.id, plan)) is not plan:
                _set_field(server, "plan", shared)
            if (
                type(system) is OperatingSystem
                and (shared := _known(self._systems, system.id, system)) is not system
            ):
                _set_field(server, "os", shared)
            if (
                type(location) is str
                and (shared := _known(self._locations, location, location)) is not location
            ):
                _set_field(server, "location", shared)
        except TypeError:  # a user-built server whose part has an unhashable id
            pass
        return value


# -- the detailed path: cattrs, only to explain a failure -------------------------------


def _strict_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer, got {_json_type(value)}")


def _strict_float(value: Any, _: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise TypeError(f"expected a number, got {_json_type(value)}")


def _strict_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _strict_bool(value: Any, _: Any) -> bool:
    if value is True or value is False:
        return value
    raise TypeError(f"expected a boolean, got {_json_type(value)}")


def _datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an RFC 3339 timestamp, got {_json_type(value)}")
    try:
        return msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        raise ValueError(f"not an RFC 3339 timestamp: {value[:40]!r}") from None


def _optional(hook: Callable[[Any, Any], T]) -> Callable[[Any, Any], T | None]:
    def structure(value: Any, type_: Any) -> T | None:
        return None if value is None else hook(value, type_)

    return structure


_MODELS = (Plan, OperatingSystem, ResourceUsage, ServerRef, ActionResult, Server)


def _make_detailed_converter() -> cattrs.Converter:
    """cattrs' generated hooks with detailed validation, for naming the bad field."""
    conv = make_converter(detailed_validation=True, forbid_extra_keys=False)
    for type_, hook in (
        (int, _strict_int),
        (float, _strict_float),
        (str, _strict_str),
        (bool, _strict_bool),
        (datetime, _datetime),
    ):
        conv.register_structure_hook(type_, hook)
        conv.register_structure_hook(type_ | None, _optional(hook))
    for model in _MODELS:
        conv.register_structure_hook(
            model, make_dict_structure_fn(model, conv, _cattrs_detailed_validation=True)
        )
        conv.register_structure_hook(model | None, _optional(conv.get_structure_hook(model)))
    return conv


_detailed = _make_detailed_converter()


def _describe(exc: BaseException, type_: type[Any] | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, (TypeError, ValueError)) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


def _explain(data: object, cls: type[Any], path: str, fast: Exception) -> DecodeError:
    """Run the detailed converter over data msgspec refused, to name what is wrong."""
    try:
        _detailed.structure(data, cls)
    except BaseValidationError as exc:
        messages = cattrs.transform_error(exc, path=path, format_exception=_describe)
        return DecodeError("; ".join(_path_first(m) for m in messages[:5]))
    except Exception as exc:  # pragma: no cover - defensive: any other decoding failure
        return DecodeError(f"{path}: {type(exc).__name__}: {exc}")
    # Only JSON that the detailed path reads differently gets here (a key given twice,
    # say): msgspec's own message names the place.
    return DecodeError(f"{path}: {fast}")


def _path_first(message: str) -> str:
    """cattrs says ``"what @ where"``; vpsorg says ``"where: what"``."""
    what, at, where = message.rpartition(" @ ")
    return f"{where}: {what}" if at else message


def _explain_results(items: list[Any], cls: type[Any], prefix: str, fast: Exception) -> DecodeError:
    for index, item in enumerate(items):
        path = f"{prefix}[{index}]"
        if type(item) is not dict:
            return DecodeError(f"{path}: expected a JSON object, got {_json_type(item)}")
        try:
            _convert(item, cls)
        except msgspec.ValidationError as exc:
            return _explain(item, cls, path, exc)
    return DecodeError(f"{prefix or cls.__name__}: {fast}")  # pragma: no cover - defensive


def _explain_page(data: object, item_type: type[Any], fast: Exception) -> DecodeError:
    if type(data) is list:
        return _explain_results(data, item_type, "results", fast)
    if type(data) is not dict:
        return DecodeError(f"the list response is not a JSON object, got {_json_type(data)}")
    if "results" not in data:
        return DecodeError("the list response has no 'results'")
    count = data.get("count")
    if count is not None and type(count) is not int:
        return DecodeError("'count' is not an integer")
    for name in ("next", "previous"):
        value = data.get(name)
        if value is not None and type(value) is not str:
            return DecodeError(f"{name!r} is not a URL string")
    results = data["results"]
    if type(results) is not list:
        return DecodeError(f"'results' is not a JSON array, got {_json_type(results)}")
    return _explain_results(results, item_type, "results", fast)


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
