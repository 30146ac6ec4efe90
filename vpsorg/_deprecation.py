"""``Deprecation`` (RFC 9745) and ``Sunset`` (RFC 8594) response headers.

When the API answers with either header, vpsorg warns once per endpoint per process with
[`VPSOrgDeprecationWarning`][vpsorg.VPSOrgDeprecationWarning], and logs the same text once
at WARNING on the ``vpsorg`` logger (Python hides deprecation warnings outside ``__main__``
by default). An endpoint is the method and the URL without its query, numeric path segments written
``{id}``: ``GET https://admin.vps.org/api/v1/servers/{id}/``.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import re
import threading
import warnings
from collections.abc import Mapping

from ._exceptions import VPSOrgDeprecationWarning, redact

__all__ = ["endpoint_template", "notice", "parse_deprecation", "parse_sunset"]

logger = logging.getLogger("vpsorg")

_seen: set[str] = set()
_lock = threading.Lock()
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")
_LINK = re.compile(r'<([^>]*)>\s*;[^,]*?rel="?([^";,]+)"?', re.IGNORECASE)


def endpoint_template(method: str, url: str) -> str:
    """``GET https://host/api/v1/servers/{id}/`` for ``GET https://host/.../12345/?a=b``."""
    base = url.split("?", 1)[0].split("#", 1)[0]
    return f"{method.upper()} {_ID_SEGMENT.sub('/{id}', base)}"


def parse_deprecation(value: str) -> datetime.datetime | bool | None:
    """The date a ``Deprecation`` header gives, ``True`` when it gives none, ``None``
    when the header says the endpoint is *not* deprecated (legacy ``false``).

    Accepts RFC 9745's ``@<unix seconds>``, the drafts' ``true`` and an HTTP-date.
    """
    text = value.strip()
    if text.startswith("@"):
        try:
            return datetime.datetime.fromtimestamp(int(text[1:]), tz=datetime.timezone.utc)
        except (ValueError, OverflowError, OSError):
            return True
    if text.lower() == "false":
        return None
    if text.lower() in ("true", "?1", ""):
        return True
    return _http_date(text) or True


def parse_sunset(value: str) -> datetime.datetime | None:
    """The date a ``Sunset`` header (an HTTP-date) gives, or ``None`` if unreadable."""
    return _http_date(value.strip())


def _http_date(text: str) -> datetime.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def _iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def notice(method: str, url: str, headers: Mapping[str, str]) -> None:
    """Warn (once per endpoint per process) about a Deprecation or Sunset header."""
    endpoint = endpoint_template(method, url)
    if endpoint in _seen:
        return
    deprecation = headers.get("Deprecation")
    sunset_value = headers.get("Sunset")
    deprecated = parse_deprecation(deprecation) if deprecation is not None else None
    sunset = parse_sunset(sunset_value) if sunset_value is not None else None
    if deprecated is None and sunset_value is None:
        return
    with _lock:
        if endpoint in _seen:
            return
        _seen.add(endpoint)
    parts = [f"the API marks {endpoint}"]
    if isinstance(deprecated, datetime.datetime):
        now = datetime.datetime.now(datetime.timezone.utc)
        verb = "deprecated since" if deprecated <= now else "deprecated from"
        parts.append(f"{verb} {_iso(deprecated)}")
    elif deprecated is True:
        parts.append("deprecated")
    if sunset is not None:
        parts.append(f"{'and ' if len(parts) > 1 else ''}to stop working after {_iso(sunset)}")
    elif sunset_value is not None:
        parts.append(
            f"{'and ' if len(parts) > 1 else ''}to stop working (Sunset: {sunset_value!r})"
        )
    links = [
        f"{rel.lower()}: {target}"
        for target, rel in _LINK.findall(headers.get("Link", ""))
        if rel.lower() in ("deprecation", "sunset")
    ]
    message = " ".join(parts) + (f" ({'; '.join(links)})" if links else "")
    message = redact(message)
    logger.warning("%s", message)
    warnings.warn(message, VPSOrgDeprecationWarning, stacklevel=2)
