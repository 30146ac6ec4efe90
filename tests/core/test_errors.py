"""Every documented error status, and every kind of body the reference leaves open."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import BASE, DETAIL_12345, TOKEN, sample

URL = BASE + "servers/12345/"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, vpsorg.BadRequestError),
        (401, vpsorg.AuthenticationError),
        (402, vpsorg.PaymentRequiredError),
        (404, vpsorg.NotFoundError),
        (409, vpsorg.APIStatusError),
        (418, vpsorg.APIStatusError),
        (500, vpsorg.InternalServerError),
        (501, vpsorg.InternalServerError),
    ],
)
async def test_each_status_maps_to_its_class(
    client: vpsorg.AsyncClient, mocked: aioresponses, status: int, cls: type[Exception]
) -> None:
    mocked.get(URL, status=status, payload={"detail": "went wrong"}, repeat=True)
    with pytest.raises(cls) as info:
        await client.with_options(retry=vpsorg.RetryPolicy.disabled()).servers.get(12345)
    error = info.value
    assert type(error) is cls
    assert isinstance(error, vpsorg.APIStatusError)
    assert error.status_code == status
    assert error.message == "went wrong"
    assert error.body == {"detail": "went wrong"}
    assert str(status) in str(error)


async def test_request_id_is_kept(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.get(URL, status=404, payload={"detail": "Not found."}, headers={"X-Request-ID": "rq-9"})
    with pytest.raises(vpsorg.NotFoundError) as info:
        await client.servers.get(12345)
    assert info.value.request_id == "rq-9"
    assert "rq-9" in str(info.value)


async def test_bad_request_keeps_and_names_every_field_error(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    body = {"name": ["This field is required."], "plan_id": ["Invalid plan."]}
    mocked.post(BASE + "servers/", status=400, payload=body)
    with pytest.raises(vpsorg.BadRequestError) as info:
        await client.servers.create(name="ok", plan_id=99, os_id=5, location="us-west")
    assert info.value.field_errors == body
    text = str(info.value)
    assert "name: This field is required." in text
    assert "plan_id: Invalid plan." in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "Server is already running."}, "Server is already running."),
        ({"error": "quota"}, "quota"),
        ({"message": "nope"}, "nope"),
        ({"error": {"message": "nested"}}, "nested"),
        (["first", "second"], "first; second"),
    ],
)
async def test_error_message_from_any_json_shape(
    client: vpsorg.AsyncClient, mocked: aioresponses, body: object, expected: str
) -> None:
    mocked.post(BASE + "servers/12345/start/", status=400, payload=body)
    with pytest.raises(vpsorg.BadRequestError) as info:
        await client.servers.start(12345)
    assert info.value.message == expected


async def test_html_error_page_from_a_proxy(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    mocked.get(URL, status=502, body=html, content_type="text/html", repeat=True)
    with pytest.raises(vpsorg.InternalServerError) as info:
        await client.servers.get(12345)
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in info.value.message
    assert info.value.body == html


async def test_empty_error_body(client: vpsorg.AsyncClient, mocked: aioresponses) -> None:
    mocked.get(URL, status=401, body=b"")
    with pytest.raises(vpsorg.AuthenticationError) as info:
        await client.servers.get(12345)
    assert info.value.message == "<empty body>"
    assert info.value.body is None


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        ("<html>maintenance</html>", "text/html", "not valid JSON"),
        ('{"id": 12345, "name": "web', "application/json", "not valid JSON"),
        ("", "application/json", "empty"),
        ("[1, 2, 3]", "application/json", "expected a JSON object"),
        ('"just a string"', "application/json", "expected a JSON object"),
        ('{"id": "12345"}', "application/json", "Server.id"),
        ("null", "application/json", "expected a JSON object"),
    ],
)
async def test_a_2xx_body_that_breaks_the_contract_names_status_and_body(
    client: vpsorg.AsyncClient,
    mocked: aioresponses,
    body: str,
    content_type: str,
    fragment: str,
) -> None:
    mocked.get(URL, status=200, body=body, content_type=content_type)
    with pytest.raises(vpsorg.APIResponseValidationError) as info:
        await client.servers.get(12345)
    text = str(info.value)
    assert fragment in text
    assert "HTTP 200" in text
    assert "body starts" in text
    assert info.value.status_code == 200


async def test_wrong_shape_of_a_nested_field(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    bad = sample(DETAIL_12345)
    bad["plan"] = {"id": 1, "name": "Standard VPS", "vcpus": "two", "memory": 1, "storage": 1}
    mocked.get(URL, payload=bad)
    with pytest.raises(vpsorg.APIResponseValidationError, match=r"Server\.plan\.vcpus"):
        await client.servers.get(12345)


async def test_action_response_of_the_wrong_shape(
    client: vpsorg.AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(BASE + "servers/12345/stop/", payload={"status": "success"})
    with pytest.raises(vpsorg.APIResponseValidationError, match="ActionResult"):
        await client.servers.stop(12345)


async def test_connection_refused_is_an_api_connection_error() -> None:
    async with vpsorg.AsyncClient(
        token=TOKEN, base_url="http://127.0.0.1:9/api/v1/", retry=vpsorg.RetryPolicy.disabled()
    ) as client:
        with pytest.raises(vpsorg.APIConnectionError) as info:
            await client.servers.get(1)
    assert info.value.request_sent is False
    assert info.value.reason == "connection refused by 127.0.0.1:9"
    assert str(info.value) == (
        "GET http://127.0.0.1:9/api/v1/servers/1/: connection refused by 127.0.0.1:9"
    )
    assert "ClientConnectorError" not in str(info.value)


def test_the_tree() -> None:
    for cls in (
        vpsorg.ConfigurationError,
        vpsorg.InvalidInputError,
        vpsorg.APIResponseValidationError,
        vpsorg.APIStatusError,
        vpsorg.APIConnectionError,
        vpsorg.WaitTimeoutError,
        vpsorg.BulkOperationError,
    ):
        assert issubclass(cls, vpsorg.VPSOrgError)
    for cls in (
        vpsorg.BadRequestError,
        vpsorg.AuthenticationError,
        vpsorg.PaymentRequiredError,
        vpsorg.NotFoundError,
        vpsorg.RateLimitError,
        vpsorg.InternalServerError,
    ):
        assert issubclass(cls, vpsorg.APIStatusError)
    assert issubclass(vpsorg.APITimeoutError, vpsorg.APIConnectionError)
    assert issubclass(vpsorg.OutcomeUnknownError, vpsorg.APIConnectionError)
    assert issubclass(vpsorg.OutcomeUnknownStatusError, vpsorg.InternalServerError)
    assert issubclass(vpsorg.WaitTimeoutError, TimeoutError)
    assert issubclass(vpsorg.InvalidInputError, ValueError)
    assert issubclass(vpsorg.ResponseTooLargeError, vpsorg.APIResponseValidationError)
