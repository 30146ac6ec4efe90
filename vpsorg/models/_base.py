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
- they take weak references, as attrs' slotted classes do.
"""

from typing import Any, ClassVar, TypeVar

import attrs
import msgspec
from attrs.exceptions import FrozenInstanceError

__all__ = ["Model", "attrs_compatible"]


T = TypeVar("T", bound="Model")


class Model(msgspec.Struct, weakref=True):
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

    The attributes are those of an attrs class with the same fields, defaults and types,
    built with `attrs.make_class()`; the model itself stays a Struct.
    """
    spec = {
        field.name: attrs.field(
            default=attrs.NOTHING if field.required else field.default, type=field.type
        )
        for field in msgspec.structs.fields(cls)
    }
    twin = attrs.make_class(cls.__name__, spec, frozen=True, slots=True)
    type.__setattr__(cls, "__attrs_attrs__", attrs.fields(twin))
    return cls
