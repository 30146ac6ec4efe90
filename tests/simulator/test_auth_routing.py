"""Authentication, routing, 404/405 and the headers every response carries."""

from __future__ import annotations

import json

import aiohttp
import pytest

from vpsorg.simulator import Simulator

from .helpers import call


async def test_missing_token_is_401(sim: Simulator, anonymous: aiohttp.ClientSession) -> None:
    status, body, headers = await call(anonymous, "GET", sim.base_url + "servers/")
    assert status == 401
    assert body == {"detail": "Authentication credentials were not provided."}
    assert headers["WWW-Authenticate"].startswith("Bearer")


async def test_wrong_token_is_401(sim: Simulator, anonymous: aiohttp.ClientSession) -> None:
    headers = {"Authorization": "Bearer not-the-token"}
    status, body, _ = await call(anonymous, "GET", sim.base_url + "servers/", headers=headers)
    assert (status, body) == (401, {"detail": "Invalid token."})


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token vpsorg-demo-token", "Authentication credentials were not provided."),
        ("Bearer", "Invalid token header. No credentials provided."),
        ("Bearer a b", "Invalid token header. Token string should not contain spaces."),
    ],
)
async def test_malformed_authorization_is_401(
    sim: Simulator, anonymous: aiohttp.ClientSession, header: str, detail: str
) -> None:
    headers = {"Authorization": header}
    status, body, _ = await call(anonymous, "GET", sim.base_url + "servers/", headers=headers)
    assert (status, body) == (401, {"detail": detail})


async def test_every_operation_needs_the_token(
    sim: Simulator, anonymous: aiohttp.ClientSession
) -> None:
    base = sim.base_url + "servers/"
    for method, url in [
        ("POST", base),
        ("GET", base + "12345/"),
        ("PUT", base + "12345/"),
        ("PATCH", base + "12345/"),
        ("DELETE", base + "12345/"),
        ("POST", base + "12345/start/"),
        ("POST", base + "12345/stop/"),
        ("POST", base + "12345/reboot/"),
    ]:
        status, _, _ = await call(anonymous, method, url, json={})
        assert status == 401, (method, url)
    assert len(sim.servers()) == 2


async def test_custom_token(anonymous: aiohttp.ClientSession) -> None:
    from vpsorg.simulator import serve

    async with serve(token="s3cret") as other:
        assert other.token == "s3cret"
        ok = {"Authorization": "Bearer s3cret"}
        status, _, _ = await call(anonymous, "GET", other.base_url + "servers/", headers=ok)
        assert status == 200


@pytest.mark.parametrize("path", ["servers/99999/", "servers/99999/start/"])
async def test_unknown_server_is_404(
    sim: Simulator, http: aiohttp.ClientSession, path: str
) -> None:
    method = "POST" if path.endswith("start/") else "GET"
    status, body, _ = await call(http, method, sim.base_url + path)
    assert (status, body) == (404, {"detail": "Not found."})


@pytest.mark.parametrize(
    "path", ["servers/abc/", "servers/-1/", "servers/1.5/", "servers/abc/stop/"]
)
async def test_non_integer_id_is_404(
    sim: Simulator, http: aiohttp.ClientSession, path: str
) -> None:
    method = "POST" if path.endswith("stop/") else "GET"
    status, body, _ = await call(http, method, sim.base_url + path)
    assert (status, body) == (404, {"detail": "Not found."})


@pytest.mark.parametrize(
    "path", ["servers", "servers/12345", "servers/12345/explode/", "nothing/", "servers/1/2/3/"]
)
async def test_unknown_path_is_404(sim: Simulator, http: aiohttp.ClientSession, path: str) -> None:
    status, body, _ = await call(http, "GET", sim.base_url + path)
    assert (status, body) == (404, {"detail": "Not found."})


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "servers/", "GET, POST, HEAD, OPTIONS"),
        ("DELETE", "servers/", "GET, POST, HEAD, OPTIONS"),
        ("POST", "servers/12345/", "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"),
        ("GET", "servers/12345/start/", "POST, OPTIONS"),
        ("DELETE", "servers/12345/reboot/", "POST, OPTIONS"),
    ],
)
async def test_unsupported_method_is_405(
    sim: Simulator, http: aiohttp.ClientSession, method: str, path: str, allow: str
) -> None:
    status, body, headers = await call(http, method, sim.base_url + path)
    assert status == 405
    assert body == {"detail": f'Method "{method}" not allowed.'}
    assert headers["Allow"] == allow


async def test_options_lists_allowed_methods(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, _, headers = await call(http, "OPTIONS", sim.base_url + "servers/12345/stop/")
    assert (status, headers["Allow"]) == (200, "POST, OPTIONS")


async def test_head_is_get_without_a_body(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, body, headers = await call(http, "HEAD", sim.base_url + "servers/12345/")
    assert (status, body) == (200, None)
    assert headers["Content-Type"].startswith("application/json")


async def test_every_response_has_a_request_id(
    sim: Simulator, http: aiohttp.ClientSession, anonymous: aiohttp.ClientSession
) -> None:
    seen = set()
    for session, method, path in [
        (http, "GET", "servers/"),
        (http, "GET", "servers/12345/"),
        (http, "DELETE", "servers/12346/"),
        (http, "GET", "servers/nope/"),
        (http, "PUT", "servers/"),
        (anonymous, "GET", "servers/"),
        (anonymous, "GET", "openapi.json"),
    ]:
        _, _, headers = await call(session, method, sim.base_url + path)
        seen.add(headers["X-Request-ID"])
    assert len(seen) == 7


async def test_incoming_request_id_is_echoed(sim: Simulator, http: aiohttp.ClientSession) -> None:
    headers = {"X-Request-ID": "trace-me-42"}
    _, _, response_headers = await call(http, "GET", sim.base_url + "servers/", headers=headers)
    assert response_headers["X-Request-ID"] == "trace-me-42"


async def test_openapi_document_is_public(sim: Simulator, anonymous: aiohttp.ClientSession) -> None:
    status, body, _ = await call(anonymous, "GET", sim.base_url + "openapi.json")
    assert status == 200
    assert body["openapi"].startswith("3.1")
    from importlib import resources

    shipped = resources.files("vpsorg.simulator").joinpath("openapi.json").read_text()
    assert body == json.loads(shipped)


async def test_request_counts_use_path_templates(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    await call(http, "GET", sim.base_url + "servers/")
    await call(http, "GET", sim.base_url + "servers/12345/")
    await call(http, "GET", sim.base_url + "servers/12346/")
    await call(http, "POST", sim.base_url + "servers/12345/stop/")
    assert sim.request_count == 4
    assert sim.request_counts == {
        "GET /api/v1/servers/": 1,
        "GET /api/v1/servers/{id}/": 2,
        "POST /api/v1/servers/{id}/stop/": 1,
    }
