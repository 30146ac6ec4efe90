"""Turn a 2xx response into JSON, a model or a page, or into an APIResponseValidationError.

Models and pages are decoded straight from the body's bytes (see :mod:`vpsorg._converter`):
no intermediate ``dict`` is built on the way.
"""

from __future__ import annotations

from typing import TypeVar

from .. import _json
from .._converter import DecodeError, NotJSONError, structure_json, structure_page
from .._exceptions import APIResponseValidationError
from ._transport import Response

__all__ = ["decode_json", "decode_model", "decode_page"]

T = TypeVar("T")


def _invalid(message: str, response: Response, method: str, url: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        message, status_code=response.status, body=response.body, method=method, url=url
    )


def decode_json(response: Response, method: str, url: str) -> object:
    """Decode a response body as JSON, or raise :class:`APIResponseValidationError`."""
    if not response.body:
        raise _invalid("expected a JSON body, got an empty one", response, method, url)
    try:
        return _json.loads(response.body)
    except _json.JSONDecodeError:
        raise _invalid("the response is not valid JSON", response, method, url) from None


def decode_model(response: Response, cls: type[T], method: str, url: str) -> T:
    """Decode a response body into ``cls``, naming the bad field when it does not fit."""
    if not response.body:
        raise _invalid("expected a JSON body, got an empty one", response, method, url)
    try:
        return structure_json(response.body, cls)
    except NotJSONError:
        raise _invalid("the response is not valid JSON", response, method, url) from None
    except DecodeError as exc:
        message = f"the response does not match {cls.__name__}: {exc}"
        raise _invalid(message, response, method, url) from None


def decode_page(
    response: Response, item_type: type[T], method: str, url: str
) -> tuple[int | None, str | None, str | None, list[T]]:
    """Decode a list response in one pass: ``(count, next, previous, results)``.

    The DRF envelope, an envelope with only ``count`` and ``results``, or a bare JSON
    array; an empty ``next``/``previous`` becomes ``None``. Anything else raises
    :class:`APIResponseValidationError` naming the problem.
    """
    if not response.body:
        raise _invalid("expected a JSON body, got an empty one", response, method, url)
    try:
        return structure_page(response.body, item_type)
    except NotJSONError:
        raise _invalid("the response is not valid JSON", response, method, url) from None
    except DecodeError as exc:
        raise _invalid(str(exc), response, method, url) from None
