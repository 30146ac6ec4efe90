"""Request-body validation with Django REST Framework's error shapes and messages.

Validation is stricter than DRF's coercion in one respect, on purpose: a JSON string is
never accepted where an integer is expected, nor a number where a string is, nor anything
but ``true``/``false`` for a boolean, so an SDK that sends the wrong types is caught.
Unknown fields on create are ignored, as DRF does; on PUT and PATCH any field other than
``name``, ``hostname`` and ``backups_enabled`` is refused.
"""

from __future__ import annotations

import re
from typing import Any

from vpsorg.simulator._catalog import LOCATIONS, OPERATING_SYSTEMS, PLANS

__all__ = ["Errors", "validate_create", "validate_update"]

#: DRF-style per-field errors: ``{"name": ["This field is required."]}``.
Errors = dict[str, list[str]]

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NOT_INTEGER = "A valid integer is required."
NOT_BOOLEAN = "Must be a valid boolean."
NOT_UPDATABLE = "This field cannot be updated."
BAD_NAME = "Server name may contain only letters, digits and hyphens."
BAD_HOSTNAME = "Enter a valid hostname."

NAME_MAX = 63
HOSTNAME_MAX = 253
_NAME_RE = re.compile(r"[A-Za-z0-9-]+")
_HOSTNAME_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?"
)
UPDATABLE = ("name", "hostname", "backups_enabled")


def _string(value: Any, max_length: int) -> str | None:
    """Return an error message for a bad string value, or ``None`` when it is fine."""
    if value is None:
        return NOT_NULL
    if not isinstance(value, str):
        return NOT_STRING
    if not value.strip():
        return NOT_BLANK
    if len(value) > max_length:
        return f"Ensure this field has no more than {max_length} characters."
    return None


def _check_name(value: Any) -> str | None:
    problem = _string(value, NAME_MAX)
    if problem is None and not _NAME_RE.fullmatch(value):
        problem = BAD_NAME
    return problem


def _check_hostname(value: Any) -> str | None:
    problem = _string(value, HOSTNAME_MAX)
    if problem is None and not _HOSTNAME_RE.fullmatch(value):
        problem = BAD_HOSTNAME
    return problem


def _check_integer(value: Any) -> str | None:
    if value is None:
        return NOT_NULL
    # bool is a subclass of int in Python, but true is not an id in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        return NOT_INTEGER
    return None


def _check_boolean(value: Any) -> str | None:
    if value is None:
        return NOT_NULL
    return None if isinstance(value, bool) else NOT_BOOLEAN


def _not_an_object(data: Any) -> Errors:
    kind = type(data).__name__
    return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}


def validate_create(data: Any) -> tuple[dict[str, Any], Errors]:
    """Check a create body; return ``(fields, errors)`` with exactly one of them non-empty.

    Examples:
        >>> validate_create({"name": "web-1", "plan_id": 1, "os_id": 5, "location": "us-west"})
        ({'name': 'web-1', 'plan_id': 1, 'os_id': 5, 'location': 'us-west'}, {})
        >>> bad = {"name": "web 1", "plan_id": True, "os_id": 5, "location": "us-west"}
        >>> validate_create(bad)[1]
        {'name': ['Server name may contain only letters, digits and hyphens.'], \
'plan_id': ['A valid integer is required.']}
    """
    if not isinstance(data, dict):
        return {}, _not_an_object(data)
    errors: Errors = {}
    fields: dict[str, Any] = {}
    required = (
        ("name", _check_name),
        ("plan_id", _check_integer),
        ("os_id", _check_integer),
        ("location", lambda v: _string(v, 64)),
    )
    optional = (
        ("hostname", _check_hostname),
        ("ssh_key_id", _check_integer),
        ("backups_enabled", _check_boolean),
    )
    for key, check in required:
        if key not in data:
            errors[key] = [REQUIRED]
        elif (problem := check(data[key])) is not None:
            errors[key] = [problem]
        else:
            fields[key] = data[key]
    for key, check in optional:
        if key in data:
            if (problem := check(data[key])) is not None:
                errors[key] = [problem]
            else:
                fields[key] = data[key]
    if "plan_id" in fields and fields["plan_id"] not in PLANS:
        errors["plan_id"] = [f'Invalid pk "{fields["plan_id"]}" - object does not exist.']
    if "os_id" in fields and fields["os_id"] not in OPERATING_SYSTEMS:
        errors["os_id"] = [f'Invalid pk "{fields["os_id"]}" - object does not exist.']
    if "location" in fields and fields["location"] not in LOCATIONS:
        errors["location"] = [f'"{fields["location"]}" is not a valid choice.']
    if errors:
        return {}, errors
    return fields, {}


def validate_update(data: Any, *, partial: bool) -> tuple[dict[str, Any], Errors]:
    """Check a PUT (``partial=False``: all three fields required) or PATCH body.

    Examples:
        >>> validate_update({"status": "active"}, partial=True)[1]
        {'status': ['This field cannot be updated.']}
    """
    if not isinstance(data, dict):
        return {}, _not_an_object(data)
    errors: Errors = {}
    changes: dict[str, Any] = {}
    checks = (
        ("name", _check_name),
        ("hostname", _check_hostname),
        ("backups_enabled", _check_boolean),
    )
    for key, check in checks:
        if key not in data:
            if not partial:
                errors[key] = [REQUIRED]
        elif (problem := check(data[key])) is not None:
            errors[key] = [problem]
        else:
            changes[key] = data[key]
    for key in data:
        if key not in UPDATABLE:
            errors[key] = [NOT_UPDATABLE]
    if errors:
        return {}, errors
    return changes, {}
