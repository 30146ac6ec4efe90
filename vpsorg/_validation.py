"""Checks on what callers pass, made before any request leaves the machine.

Each check raises :class:`~vpsorg.InvalidInputError` (a ``ValueError`` and a
``VPSOrgError``) naming the parameter.
"""

from __future__ import annotations

import re

from ._exceptions import InvalidInputError

__all__ = [
    "check_bool",
    "check_hostname",
    "check_id",
    "check_name",
    "check_optional_str",
    "check_positive_int",
]

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
