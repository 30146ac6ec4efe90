"""Turn a 2xx response into JSON or a model, or into an APIResponseValidationError."""

from __future__ import annotations

from typing import TypeVar

from .. import _json
from .._converter import DecodeError, structure
from .._exceptions import APIResponseValidationError
from ._transport import Response

__all__ = ["decode_json", "decode_model"]

T = TypeVar("T")


def decode_json(response: Response, method: str, url: str) -> object:
    """Decode a response body as JSON, or raise :class:`APIResponseValidationError`."""
    if not response.body:
        raise APIResponseValidationError(
            "expected a JSON body, got an empty one",
            status_code=response.status,
            body=response.body,
            method=method,
            url=url,
        )
    try:
        return _json.loads(response.body)
    except _json.JSONDecodeError:
        raise APIResponseValidationError(
            "the response is not valid JSON",
            status_code=response.status,
            body=response.body,
            method=method,
            url=url,
        ) from None


def decode_model(response: Response, cls: type[T], method: str, url: str) -> T:
    """Decode a response body into ``cls``, naming the bad field when it does not fit."""
    data = decode_json(response, method, url)
    try:
        return structure(data, cls)
    except DecodeError as exc:
        raise APIResponseValidationError(
            f"the response does not match {cls.__name__}: {exc}",
            status_code=response.status,
            body=response.body,
            method=method,
            url=url,
        ) from None
