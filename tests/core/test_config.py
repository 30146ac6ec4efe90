"""Token and base URL resolution, insecure-URL refusal, and secrets never shown."""

from __future__ import annotations

import logging

import pytest
from aioresponses import aioresponses

import vpsorg
from tests.conftest import BASE, DETAIL_12345, TOKEN


def test_token_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSORG_API_TOKEN", "from-env")
    monkeypatch.delenv("VPSORG_BASE_URL", raising=False)
    client = vpsorg.AsyncClient()
    assert client._config.token.reveal() == "from-env"
    assert client.base_url == "https://admin.vps.org/api/v1/"


def test_base_url_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSORG_BASE_URL", "https://api.example.net/api/v1")
    assert vpsorg.AsyncClient(token=TOKEN).base_url == "https://api.example.net/api/v1/"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSORG_API_TOKEN", "from-env")
    monkeypatch.setenv("VPSORG_BASE_URL", "https://env.example/api/v1/")
    client = vpsorg.AsyncClient(token="arg", base_url=BASE)
    assert client._config.token.reveal() == "arg"
    assert client.base_url == BASE


@pytest.mark.parametrize("token", [None, "", "   "])
def test_no_token_anywhere_is_a_clear_error_at_construction(
    monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    monkeypatch.delenv("VPSORG_API_TOKEN", raising=False)
    with pytest.raises(vpsorg.ConfigurationError, match="VPSORG_API_TOKEN"):
        vpsorg.AsyncClient(token=token)


@pytest.mark.parametrize(
    "url",
    ["ftp://x/api/", "not a url", "https://user:pw@host/api/", "https://host/api/?q=1", "http://"],
)
def test_unusable_base_urls_are_refused(url: str) -> None:
    with pytest.raises(vpsorg.ConfigurationError):
        vpsorg.AsyncClient(token=TOKEN, base_url=url)


def test_plain_http_to_a_remote_host_is_refused_unless_allowed() -> None:
    with pytest.raises(vpsorg.ConfigurationError, match="http://") as info:
        vpsorg.AsyncClient(token=TOKEN, base_url="http://api.example.com/api/v1/")
    assert TOKEN not in str(info.value)
    client = vpsorg.AsyncClient(
        token=TOKEN, base_url="http://api.example.com/api/v1/", allow_insecure_http=True
    )
    assert client.base_url.startswith("http://")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_to_loopback_is_allowed(host: str) -> None:
    assert vpsorg.AsyncClient(token=TOKEN, base_url=f"http://{host}:8080/api/v1/")


def test_disabling_tls_verification_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vpsorg"):
        vpsorg.AsyncClient(token=TOKEN, base_url=BASE, verify_ssl=False)
    assert "verification is disabled" in caplog.text
    assert TOKEN not in caplog.text


def test_timeout_accepts_a_number_or_a_timeout() -> None:
    assert vpsorg.AsyncClient(token=TOKEN, timeout=5).timeout.total == 5
    custom = vpsorg.Timeout(connect=1, total=2, deadline=3)
    assert vpsorg.AsyncClient(token=TOKEN, timeout=custom).timeout == custom
    with pytest.raises(vpsorg.ConfigurationError):
        vpsorg.AsyncClient(token=TOKEN, timeout="5")  # type: ignore[arg-type]
    with pytest.raises(vpsorg.ConfigurationError):
        vpsorg.Timeout(total=-1)


def test_with_options_shares_the_pool_and_changes_only_what_is_asked() -> None:
    client = vpsorg.AsyncClient(token=TOKEN, base_url=BASE)
    quick = client.with_options(timeout=2, retry=vpsorg.RetryPolicy.disabled())
    assert quick.timeout.total == 2
    assert quick.retry_policy.max_attempts == 1
    assert client.timeout.total == 60
    assert quick._pipeline.transport is client._pipeline.transport
    assert quick._pipeline.gate is client._pipeline.gate


def test_the_token_is_in_no_repr_or_str() -> None:
    client = vpsorg.AsyncClient(token=TOKEN, base_url=BASE)
    texts = [repr(client), str(client), repr(client.servers), repr(client._config)]
    texts.append(repr(client._pipeline.transport._headers))  # type: ignore[attr-defined]
    texts.append(str(client._config.token))
    assert all(TOKEN not in text for text in texts)


async def test_the_token_is_in_no_log_line_or_error(
    client: vpsorg.AsyncClient, mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(BASE + "servers/12345/", payload=DETAIL_12345)
    mocked.get(BASE + "servers/1/", status=401, payload={"detail": f"bad token {TOKEN[:3]}"})
    with caplog.at_level(logging.DEBUG, logger="vpsorg"):
        await client.servers.get(12345)
        with pytest.raises(vpsorg.AuthenticationError) as info:
            await client.servers.get(1)
    assert "GET " + BASE + "servers/12345/ -> 200" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)


def test_a_secret_cannot_be_pickled() -> None:
    import pickle

    client = vpsorg.AsyncClient(token=TOKEN, base_url=BASE)
    with pytest.raises(TypeError):
        pickle.dumps(client._config.token)
