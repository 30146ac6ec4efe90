"""Turn a 2xx response into JSON, a model or a page, or into an APIResponseValidationError.

Models and pages are decoded straight from the body's bytes (see `vpsorg._converter`):
no intermediate ``dict`` is built on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .. import _json
from .._converter import DecodeError, NotJSONError, structure_json, structure_page
from .._exceptions import APIResponseValidationError
from .._secrets import redact
from ._transport import Response

__all__ = ["decode_json", "decode_model", "decode_page"]

T = TypeVar("T")
R = TypeVar("R")


def _invalid(message: str, response: Response, method: str, url: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        message, status_code=response.status, body=response.body, method=method, url=url
    )


def decode_json(response: Response, method: str, url: str) -> object:
    """Decode a response body as JSON, or raise `APIResponseValidationError`."""
    if not response.body:
        raise _invalid("expected a JSON body, got an empty one", response, method, url)
    try:
        return _json.loads(response.body)
    except Exception:
        raise _invalid("the response is not valid JSON", response, method, url) from None


def decode_model(response: Response, cls: type[T], method: str, url: str) -> T:
    """Decode a response body into ``cls``, naming the bad field when it does not fit."""
    return _structured(response, structure_json, cls, method, url, name_the_type=True)


def decode_page(
    response: Response, item_type: type[T], method: str, url: str
) -> tuple[int | None, str | None, str | None, list[T]]:
    """Decode a list response in one pass: ``(count, next, previous, results)``.

    The DRF envelope, an envelope with only ``count`` and ``results``, or a bare JSON
    array; an empty ``next``/``previous`` becomes ``None``. Anything else raises
    [`APIResponseValidationError`][vpsorg.APIResponseValidationError] naming the problem.
    """
    return _structured(response, structure_page, item_type, method, url, name_the_type=False)


def _structured(
    response: Response,
    decode: Callable[[bytes, type[T]], R],
    cls: type[T],
    method: str,
    url: str,
    *,
    name_the_type: bool,
) -> R:
    """``decode(body, cls)``, with every way it can fail turned into one error."""
    if not response.body:
        raise _invalid("expected a JSON body, got an empty one", response, method, url)
    try:
        return decode(response.body, cls)
    except NotJSONError:
        message = "the response is not valid JSON"
    except DecodeError as exc:
        message = redact(  # scrubbed here too: this frame's locals outlive the raise
            f"the response does not match {cls.__name__}: {exc}" if name_the_type else str(exc)
        )
    # Raised outside the except clauses: the decoder's error quotes values of the body
    # (which a server may have echoed the token into), so it must not be the __context__
    # of this error, whose message is scrubbed.
    raise _invalid(message, response, method, url)
