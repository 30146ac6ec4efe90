"""The base of the models the API sends: msgspec Structs that attrs' functions understand.

A list page of 50 servers is 150 model objects built per request, so how a model is built
is on the SDK's hottest path. Measured on a page of the simulator's list view
(``python -m benchmarks.list_layers``, docs/performance.md): msgspec builds a frozen,
slotted attrs class at 1.8 to 2.1 µs per server in a tight loop and about twice that in
the request path, where each object is also tracked by the garbage collector; it builds
these Structs at 0.9 to 1.1 µs, the nested ``Plan`` and ``OperatingSystem`` untracked
(``orjson.loads`` into dicts: 0.8 to 0.9 µs). List pages of attrs models ran at 0.54x to
0.82x raw aiohttp decoding dicts; pages of these models at 0.91x to 1.31x.

So these models are `msgspec.Struct` classes, and attrs stays what users see:

- each class carries ``__attrs_attrs__`` (see `attrs_compatible()`), so
  ``attrs.has``, ``attrs.fields``, ``attrs.asdict``, ``attrs.astuple`` and ``attrs.evolve``
  work on them, and so do cattrs' converters;
- they are frozen as attrs' frozen classes are: assigning or deleting an attribute raises
  `attrs.exceptions.FrozenInstanceError`, and equal models hash alike;
- unlike attrs' slotted classes they take no weak references (see "Garbage collection").

Decoding runs no Python code per model: a field's type says exactly what the decoder
accepts (``ServerStatus``, an aware ``datetime``), so msgspec builds the final object in
C. A field whose constructor takes more than that carries a `Rule` in its ``Annotated``
type: what the constructor also accepts (any ``str``, a naive ``datetime``) and how such
a value becomes the field's (a known status its member, a naive time UTC). `ModelMeta`
applies the rules when a model is built by a call, ``Server(...)``, ``attrs.evolve``,
pickle or cattrs; msgspec's decoding does not go through the metaclass. The converter
builds the models it could not decode strictly by such a call (see `vpsorg._converter`).
``msgspec.structs.replace()`` copies a model without a call, so it applies no rule:
``attrs.evolve()`` is the way to change a field.

Garbage collection: the models of what one server holds are declared ``gc=False``, so
the collector never tracks them (a decoded ``Server`` would otherwise be tracked, because
its ``ServerStatus`` member is a tracked object). None of these frozen models of scalars
and other models can form a cycle by decoding; one built by hand around an object that
refers back to it would never be collected. Measured under callgrind, it cuts a list page
of 50 from 934,000 to 870,000 instructions (the collector's share from 38,000 to 7,400)
and a decoded detail body from 380,000 to 364,000, and 24 bytes off each server. msgspec
allows ``gc=False`` only without weak references, so the models do not take weak
references. `ServerPage` holds a mutable list a user could make a cycle with: it stays
tracked.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import attrs
import msgspec
from attrs.exceptions import FrozenInstanceError

__all__ = ["Model", "ModelMeta", "Rule", "accepted_type", "attrs_compatible"]


T = TypeVar("T", bound="Model")

_set = msgspec.structs.force_setattr


@attrs.frozen
class Rule:
    """``Annotated`` metadata of a field whose constructor accepts more than its decoder.

    Attributes:
        accepts: the type a call (and the lenient decoder) takes for the field.
        apply: turns such a value into the field's value; any other value is returned
            as given, as attrs itself would keep it.
    """

    accepts: Any
    apply: Callable[[Any], Any]


def _rule(type_: object) -> Rule | None:
    """The `Rule` in ``Annotated[type, ..., Rule(...)]``, or ``None``."""
    if typing.get_origin(type_) is typing.Annotated:
        for meta in type_.__metadata__:  # type: ignore[attr-defined]
            if isinstance(meta, Rule):
                return meta
    return None


def accepted_type(type_: object) -> Any:
    """What a call takes for a field of ``type_``: its rule's type, or ``type_`` itself."""
    rule = _rule(type_)
    return type_ if rule is None else rule.accepts


class ModelMeta(msgspec.StructMeta):
    """The metaclass of the models: a call applies the fields' rules (see the module
    docstring); decoding, which does not call it, has already checked them."""

    __vpsorg_rules__: tuple[tuple[str, Callable[[Any], Any]], ...]

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], /, **options: Any
    ) -> ModelMeta:
        cls = super().__new__(mcls, name, bases, namespace, **options)
        ruled = ((f.name, _rule(f.type)) for f in msgspec.structs.fields(cls))  # type: ignore[arg-type]
        cls.__vpsorg_rules__ = tuple((field, rule.apply) for field, rule in ruled if rule)
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        model = super().__call__(*args, **kwargs)
        for name, apply in cls.__vpsorg_rules__:
            value = getattr(model, name)
            ruled = apply(value)
            if ruled is not value:
                _set(model, name, ruled)
        return model


class Model(msgspec.Struct, metaclass=ModelMeta):
    """A frozen model of what the API sends (see the module docstring)."""

    #: attrs' metadata of the fields, set by `attrs_compatible()`.
    __attrs_attrs__: ClassVar[Any]

    # Frozen here rather than with msgspec's ``frozen=True``, whose plain AttributeError
    # is not the FrozenInstanceError attrs users catch. msgspec fills fields (decoding,
    # ``__init__``, ``force_setattr``) without calling ``__setattr__``.
    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError

    def __hash__(self) -> int:
        return hash(msgspec.structs.astuple(self))


def attrs_compatible(cls: type[T]) -> type[T]:
    """Give a `Model` class the ``__attrs_attrs__`` that attrs' functions read.

    The attributes are those of an attrs class with the same fields and defaults, each
    typed as what a call accepts (`accepted_type()`: ``str`` for a status, ``datetime``
    for a timestamp), built with `attrs.make_class()`; the model itself stays a Struct.
    """
    spec = {
        field.name: attrs.field(
            default=attrs.NOTHING if field.required else field.default,
            type=accepted_type(field.type),
        )
        for field in msgspec.structs.fields(cls)
    }
    twin = attrs.make_class(cls.__name__, spec, frozen=True, slots=True)
    type.__setattr__(cls, "__attrs_attrs__", attrs.fields(twin))
    # Marked resolved, so `attrs.resolve_types()` (cattrs calls it) keeps these types
    # instead of reading the class's own annotations, the decoder's ``Annotated`` ones.
    type.__setattr__(cls, "__attrs_types_resolved__", cls)
    return cls
