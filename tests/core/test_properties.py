"""Whatever bytes or JSON a server returns, only vpsorg's exceptions come out."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vpsorg
from tests.conftest import DETAIL_12345, SUMMARY_12345
from vpsorg._async._decoding import decode_model, decode_page
from vpsorg._async._transport import Response
from vpsorg._exceptions import error_message
from vpsorg.models import ActionResult, Server

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)

# Objects that look like servers, with any field replaced by any JSON value.
server_like = st.builds(
    lambda base, key, value: {**base, key: value},
    st.sampled_from([DETAIL_12345, SUMMARY_12345]),
    st.sampled_from([*DETAIL_12345.keys(), "extra"]),
    json_values,
)

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_all(body: bytes) -> None:
    response = Response(200, {}, body)
    for cls in (Server, ActionResult):
        with contextlib.suppress(vpsorg.VPSOrgError):
            decode_model(response, cls, "GET", "http://x/")
    with contextlib.suppress(vpsorg.VPSOrgError):
        decode_page(response, Server, "GET", "http://x/")
    error_message(None, body)


@PROPS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(body: bytes) -> None:
    _decode_all(body)


@PROPS
@given(json_values)
def test_arbitrary_json(value: object) -> None:
    _decode_all(json.dumps(value).encode())
    error_message(value, b"")


@PROPS
@given(server_like)
def test_server_shaped_json(value: dict[str, object]) -> None:
    _decode_all(json.dumps(value).encode())
    _decode_all(json.dumps({"count": 1, "next": None, "results": [value]}).encode())
    _decode_all(json.dumps({"status": "success", "message": "m", "server": value}).encode())


@PROPS
@given(st.integers(min_value=100, max_value=599), json_values)
def test_error_bodies_of_any_shape(status: int, value: object) -> None:
    from tests.conftest import BASE, TOKEN

    client = vpsorg.AsyncClient(token=TOKEN, base_url=BASE)
    error = client._pipeline.status_error(
        Response(status, {}, json.dumps(value).encode()), "GET", BASE, None
    )
    assert isinstance(error, vpsorg.APIStatusError)
    assert str(status) in str(error)


# The fast path and the detailed converter agreeing: tests/core/test_converter.py.
