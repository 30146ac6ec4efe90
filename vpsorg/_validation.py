"""Checks on what callers pass, made before any request leaves the machine.

Each check raises [`InvalidInputError`][vpsorg.InvalidInputError] (a ``ValueError`` and a
``VPSOrgError``) naming the parameter.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from typing import TypeVar

from ._exceptions import InvalidInputError
from .models import ServerStatus

__all__ = [
    "check_bool",
    "check_callable",
    "check_hostname",
    "check_id",
    "check_items",
    "check_name",
    "check_optional_str",
    "check_pause_seconds",
    "check_positive_int",
    "check_seconds",
    "check_status",
    "check_statuses",
    "warn_unknown_statuses",
]

logger = logging.getLogger("vpsorg")

T = TypeVar("T")

#: The status values vpsorg knows, in the order the enum lists them.
KNOWN_STATUSES = tuple(member.value for member in ServerStatus)

_NAME = re.compile(r"[A-Za-z0-9-]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
MAX_NAME_LENGTH = 255


def check_id(value: object, field: str = "server_id") -> int:
    """A positive integer id (``True`` is not an id, nor is ``"12"``)."""
    if type(value) is not int:
        raise InvalidInputError(field, f"must be an integer, got {type(value).__name__}")
    if value < 1:
        raise InvalidInputError(field, f"must be a positive integer, got {value}")
    return value


def check_positive_int(value: object, field: str) -> int:
    """A positive integer parameter such as ``plan_id``."""
    return check_id(value, field)


def check_name(value: object, field: str = "name") -> str:
    """A server name: letters, digits and hyphens only."""
    if type(value) is not str:
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(field, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if not _NAME.fullmatch(value):
        raise InvalidInputError(
            field, f"may contain only letters, digits and hyphens, got {value!r}"
        )
    return value


def check_hostname(value: object, field: str = "hostname") -> str:
    """A fully qualified host name: dot-separated labels of letters, digits and hyphens."""
    if type(value) is not str:
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(p) for p in name.split(".")):
        raise InvalidInputError(field, f"is not a valid host name: {value!r}")
    return value


def check_bool(value: object, field: str) -> bool:
    """A real ``bool`` (``1`` and ``"true"`` are refused)."""
    if value is not True and value is not False:
        raise InvalidInputError(field, f"must be True or False, got {value!r}")
    return value


def check_optional_str(value: object, field: str) -> str | None:
    """``None`` or a non-empty string."""
    if value is None:
        return None
    if type(value) is not str or not value:
        raise InvalidInputError(field, f"must be a non-empty string, got {value!r}")
    return value


def check_seconds(value: object, field: str) -> float:
    """A positive, finite number of seconds (``True``, ``"10"``, ``nan`` and ``inf`` are
    refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(
            field, f"must be a positive number of seconds, got {type(value).__name__}"
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(
            field, f"must be a positive, finite number of seconds, got {value!r}"
        )
    return float(value)


def check_pause_seconds(value: object, field: str) -> float:
    """A non-negative, finite number of seconds: a pause or a window that may be zero."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidInputError(
            field, f"must be a non-negative, finite number of seconds, got {value!r}"
        )
    return float(value)


def check_callable(value: object, field: str) -> None:
    """``None`` or something callable."""
    if value is not None and not callable(value):
        raise InvalidInputError(field, f"must be a callable or None, got {type(value).__name__}")


def check_items(value: Iterable[T], field: str) -> list[T]:
    """The items of a bulk call, as a list: any iterable but a string or bytes.

    The items themselves are checked one by one as they run: a bad item becomes that
    item's outcome and never reaches the network.
    """
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        raise InvalidInputError(
            field, f"must be an iterable of items, not a single {type(value).__name__}"
        )
    if not isinstance(value, Iterable):
        raise InvalidInputError(field, f"must be an iterable, got {type(value).__name__}")
    return list(value)


def check_status(value: object, field: str = "status") -> str:
    """A status: a [`ServerStatus`][vpsorg.ServerStatus] member or a non-empty string, as a plain
    ``str`` (a status vpsorg does not know is kept as given: the API may add values)."""
    if isinstance(value, ServerStatus):
        return value.value
    if type(value) is not str or not value:
        raise InvalidInputError(
            field, f"must be a vpsorg.ServerStatus or a non-empty string, got {value!r}"
        )
    return value


def check_statuses(value: object, field: str = "status") -> tuple[str, ...]:
    """One status or a non-empty sequence of them, as plain strings in the given order."""
    if isinstance(value, str):
        return (check_status(value, field),)
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise InvalidInputError(field, f"must be a status or a list of them, got {value!r}")
    statuses = tuple(check_status(item, field) for item in value)
    if not statuses:
        raise InvalidInputError(field, "must name at least one status")
    return statuses


def warn_unknown_statuses(statuses: Iterable[str], what: str) -> None:
    """Log one warning naming the statuses vpsorg does not know (a typo such as
    ``"actve"`` would otherwise wait or filter in silence)."""
    unknown = [status for status in statuses if status not in KNOWN_STATUSES]
    if unknown:
        logger.warning(
            "%s: %s %s not a status vpsorg knows (known: %s); sent as given",
            what,
            ", ".join(map(repr, unknown)),
            "is" if len(unknown) == 1 else "are",
            ", ".join(KNOWN_STATUSES),
        )
