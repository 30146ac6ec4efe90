"""Responses of every operation validated against the shipped OpenAPI document."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import aiohttp
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate

from vpsorg.simulator import FaultConfig, Simulator

from .helpers import VALID_CREATE, wait_for_status

OPERATIONS = {
    ("get", "/api/v1/servers/"),
    ("post", "/api/v1/servers/"),
    ("get", "/api/v1/servers/{server_id}/"),
    ("put", "/api/v1/servers/{server_id}/"),
    ("patch", "/api/v1/servers/{server_id}/"),
    ("delete", "/api/v1/servers/{server_id}/"),
    ("post", "/api/v1/servers/{server_id}/start/"),
    ("post", "/api/v1/servers/{server_id}/stop/"),
    ("post", "/api/v1/servers/{server_id}/reboot/"),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    text = resources.files("vpsorg.simulator").joinpath("openapi.json").read_text()
    return dict(json.loads(text))


@pytest.fixture(scope="module")
def openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(spec)


def test_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    operations = {
        (method, "/api/v1" + path)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert operations == OPERATIONS
    schemas = set(spec["components"]["schemas"])
    assert {"ServerSummary", "ServerDetail", "ServerCreateResponse", "ServerList"} <= schemas
    assert {"ActionResult", "Error", "ValidationError"} <= schemas


class Checker:
    """Sends a request and validates both it and the response against the document."""

    def __init__(self, openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.openapi = openapi
        self.sim = sim
        self.http = http
        self.host_url = f"http://127.0.0.1:{sim.port}"
        self.checked: list[tuple[str, str, int]] = []

    async def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: int,
        params: dict[str, str] | None = None,
        validate_request: bool = True,
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.sim.token}"}
        async with self.http.request(
            method, self.host_url + path, data=data, headers=headers, params=params
        ) as response:
            raw = await response.read()
            status = response.status
            content_type = response.headers.get("Content-Type", "application/json")
            response_headers = dict(response.headers)
        assert status == expect, raw
        request = MockRequest(
            self.host_url,
            method,
            path,
            args=params,
            headers=headers,
            data=data,
        )
        if validate_request:
            self.openapi.validate_request(request)
        self.openapi.validate_response(
            request,
            MockResponse(
                raw, status_code=status, headers=response_headers, content_type=content_type
            ),
        )
        self.checked.append((method, path, status))
        return json.loads(raw) if raw and content_type.startswith("application/json") else raw


async def test_every_operation_and_status_matches_the_document(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    check = Checker(openapi, sim, http)
    await check("GET", "/api/v1/servers/", expect=200)
    await check("GET", "/api/v1/servers/", expect=200, params={"page_size": "1", "page": "2"})
    await check("GET", "/api/v1/servers/", expect=200, params={"status": "active"})
    created = await check("POST", "/api/v1/servers/", VALID_CREATE, expect=201)
    await check("GET", f"/api/v1/servers/{created['id']}/", expect=200)  # provisioning
    await wait_for_status(http, f"{sim.base_url}servers/{created['id']}/", "active")
    await check("GET", f"/api/v1/servers/{created['id']}/", expect=200)  # active
    await check("GET", "/api/v1/servers/12345/", expect=200)
    await check(
        "PUT",
        "/api/v1/servers/12345/",
        {"name": "web-1", "hostname": "web1.example.com", "backups_enabled": False},
        expect=200,
    )
    await check("PATCH", "/api/v1/servers/12345/", {"name": "web-2"}, expect=200)
    await check("POST", "/api/v1/servers/12345/stop/", expect=200)
    await check("POST", "/api/v1/servers/12345/stop/", expect=400)
    await wait_for_status(http, f"{sim.base_url}servers/12345/", "stopped")
    await check("GET", "/api/v1/servers/12345/", expect=200)  # stopped
    await check("POST", "/api/v1/servers/12345/start/", expect=200)
    await check("POST", "/api/v1/servers/12346/reboot/", expect=200)
    await check("DELETE", "/api/v1/servers/12346/", expect=204)
    await check("GET", "/api/v1/servers/12346/", expect=404)
    await check("GET", "/api/v1/servers/", expect=404, params={"page": "9"})
    await check("POST", "/api/v1/servers/", {"name": "x"}, expect=400, validate_request=False)
    await check(
        "PATCH", "/api/v1/servers/12345/", {"status": "x"}, expect=400, validate_request=False
    )
    sim.suspend(12345)
    await check("GET", "/api/v1/servers/12345/", expect=200)  # suspended
    await check("GET", "/api/v1/servers/", expect=200, params={"status": "suspended"})
    sim.set_faults(FaultConfig(rate_limit=1.0, rate_limit_burst=1))
    await check("GET", "/api/v1/servers/", expect=200)
    await check("GET", "/api/v1/servers/", expect=429)
    sim.set_faults(FaultConfig(error_rate_500=1.0))
    await check("GET", "/api/v1/servers/", expect=500)
    sim.set_faults(FaultConfig(error_rate_503=1.0))
    await check("GET", "/api/v1/servers/", expect=503)
    sim.set_faults(FaultConfig())
    covered = {(m.lower(), re.sub(r"/\d+/", "/{server_id}/", p)) for m, p, _ in check.checked}
    assert covered == OPERATIONS
    assert {status for _, _, status in check.checked} == {200, 201, 204, 400, 404, 429, 500, 503}


@pytest.mark.parametrize("sim_options", [{"credits": 0}])
async def test_401_and_402_match_the_document(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    check = Checker(openapi, sim, http)
    await check("POST", "/api/v1/servers/", VALID_CREATE, expect=402)
    host_url = f"http://127.0.0.1:{sim.port}"
    async with http.get(host_url + "/api/v1/servers/", headers={"Authorization": ""}) as response:
        raw = await response.read()
        assert response.status == 401
        request = MockRequest(host_url, "GET", "/api/v1/servers/")
        openapi.validate_response(
            request,
            MockResponse(raw, status_code=401, headers=dict(response.headers)),
        )
