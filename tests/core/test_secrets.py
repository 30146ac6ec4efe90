"""Invariant 2 at construction and on the small surfaces: the token and credentials are
refused or masked before anything is sent, and never shown.

Tokens and User-Agents that cannot go into a header, credentials in URLs with or without
a scheme, the command line's attribution of a refused setting, a proxy's 407 to a
plain-http API, pickling, the scrubbing registry itself, and the case-insensitive,
multi-valued headers of raw responses and events.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from click.testing import CliRunner

import vpsorg
from tests.conftest import DETAIL_12345
from tests.core.conftest import loopback_site
from tests.core.test_edges_proxy import USER, ForwardProxy, http_api, proxy
from tests.leaks import assert_no_secret
from vpsorg import _secrets
from vpsorg._config import resolve_config
from vpsorg.cli import cli

__all__ = ["http_api", "proxy"]

TOKEN = "tok-3f9a-construction-secret"


def _resolve(**kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "token": TOKEN,
        "base_url": None,
        "timeout": None,
        "retry": None,
        "limits": None,
        "user_agent": None,
        "verify_ssl": True,
        "ssl_context": None,
        "allow_insecure_http": False,
        "environ": {},
    }
    options.update(kwargs)
    return resolve_config(**options)


# ------------------------------------------------------------- item 12: the token itself


BAD_CHARACTERS = {
    "inner space": " ",
    "tab": "\t",
    "SOH": "\x01",
    "DEL": "\x7f",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "no-break space": "\u00a0",
    "ideographic space": "\u3000",
    "zero-width space (Cf)": "\u200b",
    "right-to-left mark (Cf)": "\u200f",
    "BOM (Cf)": "\ufeff",
    "NUL": "\x00",
    "CR": "\r",
    "LF": "\n",
    "NEL (Cc)": "\x85",
    "lone surrogate": "\ud800",
}


@pytest.mark.parametrize("char", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
@pytest.mark.parametrize("where", ["inner", "leading", "trailing"])
def test_a_token_with_whitespace_or_a_control_character_is_refused(char: str, where: str) -> None:
    token = {"inner": f"tok{char}en-abcdef", "leading": f"{char}tok-abcdef"}.get(
        where, f"tok-abcdef{char}"
    )
    with pytest.raises(vpsorg.ConfigurationError, match="whitespace or a control") as info:
        vpsorg.AsyncClient(token=token, base_url="http://127.0.0.1:9/api/v1/")
    assert info.value.setting == "token"
    assert f"U+{ord(char):04X}" in str(info.value)
    # The message names the character, never the token or a part of it.
    assert_no_secret(info.value, ["tok" + char, "en-abcdef", "tok-abcdef"])


def test_a_token_from_the_environment_is_checked_and_named_so() -> None:
    with pytest.raises(vpsorg.ConfigurationError) as info:
        _resolve(token=None, environ={"VPSORG_API_TOKEN": "abc\u2028defgh"})
    assert info.value.setting == "VPSORG_API_TOKEN"
    assert "VPSORG_API_TOKEN" in str(info.value)


def test_an_ordinary_token_is_accepted() -> None:
    for token in ("tok-3f9a_x.y~z+/=", "a" * 200, "tøken-unicode-letters"):
        assert _resolve(token=token).token.reveal() == token


# ------------------------------------------------------------- item 12: the User-Agent


@pytest.mark.parametrize("agent", ["app/1.0\r\nX-Evil: 1", "app\n", "app\x00", "a\x7fb", "a\u2028"])
def test_a_user_agent_with_a_control_character_is_refused_at_construction(agent: str) -> None:
    with pytest.raises(vpsorg.ConfigurationError, match="user_agent") as info:
        vpsorg.Client(token=TOKEN, base_url="http://127.0.0.1:9/api/v1/", user_agent=agent)
    assert info.value.setting == "user_agent"


def test_a_user_agent_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(vpsorg.ConfigurationError, match="must be a string, not int"):
        _resolve(user_agent=3)


def test_an_ordinary_user_agent_is_accepted() -> None:
    config = _resolve(user_agent="inventory-sync/2.3 (ops@example.com)")
    assert config.user_agent_extra == "inventory-sync/2.3 (ops@example.com)"


# ---------------------------------------- item 10: credentials masked, with or without ://


@pytest.mark.parametrize(
    "value",
    [
        "alice:pw-s3cret@proxy:3128",  # curl's form without a scheme
        "alice:pw-s3cret@proxy:99999",
        "http://alice:pw-s3cret@proxy:notaport",
        "http://alice:pw-s3cret@proxy:3128/some/path",
        "socks5://alice:pw-s3cret@proxy:1080",
        "http://alice:pw/s3cret@proxy:3128",  # an unencoded "/" in the password
        "http://alice:p@ss-s3cret@proxy:3128/x",  # an unencoded "@"
    ],
)
def test_proxy_credentials_never_show_in_a_configuration_error(value: str) -> None:
    for kwargs in (
        {"proxy": value},
        {"proxy_from_env": True, "environ": {"HTTPS_PROXY": value}},
    ):
        with pytest.raises(vpsorg.ConfigurationError) as info:
            _resolve(**kwargs)
        assert info.value.setting in ("proxy", "HTTPS_PROXY")
        assert_no_secret(info.value, ["pw-s3cret", "s3cret", "pw/s3cret", "p@ss-s3cret"])
        assert "***@" in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        "alice:pw-s3cret@api.example.test/api/v1/",  # no scheme
        "https://alice:pw-s3cret@api.example.test/api/v1/",
        "https://alice:pw-s3cret@api.example.test:bad/api/v1/",
        "ftp://alice:pw-s3cret@api.example.test/",
        "//alice:pw-s3cret@api.example.test/api/v1/",
    ],
)
def test_base_url_credentials_never_show_in_a_configuration_error(value: str) -> None:
    for kwargs, setting in (
        ({"base_url": value}, "base_url"),
        ({"environ": {"VPSORG_BASE_URL": value}}, "VPSORG_BASE_URL"),
    ):
        with pytest.raises(vpsorg.ConfigurationError) as info:
            _resolve(**kwargs)
        assert info.value.setting == setting
        assert_no_secret(info.value, ["pw-s3cret", "alice:pw"])


def test_a_token_given_as_the_base_url_is_not_echoed() -> None:
    for token in (TOKEN, "shrt"):
        with pytest.raises(vpsorg.ConfigurationError) as info:
            _resolve(token=token, base_url=token)
        assert info.value.setting == "base_url"
        assert_no_secret(info.value, [token])
    # A short token that is only a word of the URL does not garble the message.
    with pytest.raises(vpsorg.ConfigurationError, match=r"'api\.example\.com'"):
        _resolve(token="example", base_url="http://api.example.com/api/v1/")


# ------------------------------------------------- item 11: the command line's attribution


def _cli(*args: str, env: dict[str, str | None] | None = None) -> Any:
    runner = CliRunner(env={"VPSORG_API_TOKEN": None, "VPSORG_BASE_URL": None, **(env or {})})
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_the_cli_never_echoes_base_url_credentials() -> None:
    for url in (
        "https://alice:pw-s3cret@api.example.test/api/v1/",
        "alice:pw-s3cret@api.example.test/api/v1/",
    ):
        result = _cli("--token", TOKEN, "--base-url", url, "servers", "list")
        assert result.exit_code == 2
        assert result.stderr.startswith("error: --base-url='")
        assert_no_secret(result.output + result.stderr, ["pw-s3cret", TOKEN])
        from_env = _cli("servers", "list", env={"VPSORG_API_TOKEN": TOKEN, "VPSORG_BASE_URL": url})
        assert from_env.exit_code == 2
        assert from_env.stderr.startswith("error: $VPSORG_BASE_URL='")
        assert_no_secret(from_env.output + from_env.stderr, ["pw-s3cret", TOKEN])


def test_the_cli_blames_a_bad_token_on_the_token_not_the_base_url() -> None:
    bad = "tok en-s3cret-value"
    result = _cli("--token", bad, "--base-url", "http://127.0.0.1:9/api/v1/", "servers", "list")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: --token: the API token contains whitespace")
    assert "--base-url" not in line
    assert_no_secret(line, [bad, "en-s3cret-value"])
    from_env = _cli(
        "--base-url", "http://127.0.0.1:9/api/v1/", "servers", "list",
        env={"VPSORG_API_TOKEN": "tok\ten-s3cret-value"},
    )  # fmt: skip
    assert from_env.stderr.startswith("error: $VPSORG_API_TOKEN: the API token contains")


def test_settings_repr_masks_base_url_credentials() -> None:
    from vpsorg.cli._runtime import Settings, connection_hint

    settings = Settings(token=TOKEN, base_url="https://alice:pw-s3cret@api.example.test/api/v1/")
    assert_no_secret(repr(settings), ["pw-s3cret", TOKEN])
    assert_no_secret(connection_hint(settings.base_url or ""), ["pw-s3cret"])


# ----------------------------------------- a proxy's 407 to a plain-http API through proxy=


async def test_a_proxy_407_to_a_plain_http_api_is_a_connection_error_naming_the_proxy(
    proxy: ForwardProxy, http_api: str
) -> None:
    wrong = "wr0ng-s3cret"
    policy = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.002)
    async with vpsorg.AsyncClient(
        token=TOKEN,
        base_url=http_api,
        retry=policy,
        proxy=proxy.url.replace("http://", f"http://{USER}:{wrong}@"),
    ) as client:
        for call in (client.servers.get(12345), client.servers.create("web-1", 1, 5, "us-west")):
            with pytest.raises(vpsorg.APIConnectionError) as info:
                await call
            error = info.value
            assert not isinstance(error, vpsorg.OutcomeUnknownError)
            assert proxy.url in error.reason and "HTTP 407" in error.reason
            assert "proxy authentication required" in error.reason
            assert error.request_sent is False
            assert error.retryable is False
            assert_no_secret(error, [TOKEN, wrong, f"{USER}:{wrong}"])
    assert proxy.refused == 2  # one attempt each: not retried


# ------------------------------------------------------------------------ pickling


def test_pickling_a_client_says_to_make_one_per_process() -> None:
    for make in (vpsorg.Client, vpsorg.AsyncClient):
        client = make(token=TOKEN, base_url="http://127.0.0.1:9/api/v1/")
        try:
            for held in (client, client.servers, client.servers.list()):
                with pytest.raises(TypeError, match="one client per process") as info:
                    pickle.dumps(held)
                assert "pass server ids" in str(info.value)
        finally:
            if isinstance(client, vpsorg.Client):
                client.close()
            else:
                asyncio.run(client.aclose())


# ---------------------------------------------------------------- the registry itself


def test_the_registry_scrubs_every_form_while_a_client_lives() -> None:
    secret = "reg/istry+secret-1"
    text = f"a {secret} b {quote(secret, safe='')} c {secret.replace('/', chr(92) + '/')}"
    assert _secrets.redact(text) == text  # not registered yet
    _secrets.register_secret(secret)
    _secrets.register_secret(secret)  # a second client with the same token
    try:
        scrubbed = _secrets.redact(text)
        assert_no_secret(scrubbed, [secret])
        assert scrubbed.count("[REDACTED]") == 3
        _secrets.unregister_secret(secret)
        assert _secrets.redact(text) == scrubbed  # the other client still lives
    finally:
        _secrets.unregister_secret(secret)
    assert _secrets.redact(text) == text


def test_a_scrubbed_cause_keeps_the_chain_and_never_raises() -> None:
    secret = "chain-secret-value"

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    _secrets.register_secret(secret)
    try:
        try:
            try:
                raise Broken
            except Broken as inner:
                raise ValueError(f"Bearer {secret}") from inner
        except ValueError as exc:
            stand_in = _secrets.scrubbed_cause(exc)
    finally:
        _secrets.unregister_secret(secret)
    assert str(stand_in) == "ValueError: Bearer [REDACTED]"
    assert stand_in.type_name == "ValueError"
    assert isinstance(stand_in.__cause__, _secrets.ScrubbedCause)
    assert stand_in.__cause__.type_name.endswith("Broken")
    assert stand_in.__traceback__ is None
    assert_no_secret(stand_in, [secret])


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://alice:pw@proxy:3128", "http://***@proxy:3128"),
        ("alice:pw@proxy:3128", "***@proxy:3128"),
        ("https://a:p@ss@host/x", "https://***@host/x"),
        ("al:x://y@host", "***@host"),
        ("https://host/api/v1/", "https://host/api/v1/"),
    ],
)
def test_mask_credentials(url: str, shown: str) -> None:
    assert _secrets.mask_credentials(url) == shown


# ------------------------------------------- headers: case-insensitive and multi-valued


@pytest.fixture
async def repeated_headers() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.json_response(DETAIL_12345, headers={"X-Request-ID": "rq-1"})
        response.headers.add("Link", "<a>; rel=one")
        response.headers.add("Link", "<b>; rel=two")
        response.headers.add("Date", "Thu, 03 Dec 2026 12:00:00 GMT")
        response.headers.add("Set-Cookie", "session=abc")
        return response

    async with loopback_site(answer) as (_, base_url):
        yield base_url


async def test_raw_and_event_headers_are_case_insensitive_and_keep_every_value(
    repeated_headers: str,
) -> None:
    events: list[vpsorg.Event] = []
    async with vpsorg.AsyncClient(
        token=TOKEN, base_url=repeated_headers, event_hooks=[events.append]
    ) as client:
        raw = await client.servers.with_raw_response.get(12345)
    assert raw.headers.get("content-type", "").startswith("application/json")
    assert raw.headers["CONTENT-TYPE"] == raw.headers["Content-Type"]
    assert raw.headers.getall("link") == ["<a>; rel=one", "<b>; rel=two"]
    assert "set-cookie" not in raw.headers
    assert raw.request_id == "rq-1"
    [ended] = [e for e in events if isinstance(e, vpsorg.AttemptEnded)]
    assert ended.headers.get("x-request-id") == "rq-1"
    assert ended.headers.get("content-type", "").startswith("application/json")
    assert "Link" not in ended.headers  # not on the allow-list
    with pytest.raises(TypeError):
        ended.headers["X-New"] = "read-only"  # type: ignore[index]


# ------------------------------------------------------------- Simulator.set_faults(None)


def test_set_faults_none_means_no_faults() -> None:
    from vpsorg.simulator import FaultConfig, serve_in_thread

    with serve_in_thread(faults=FaultConfig(error_rate_500=1.0)) as sim:
        sim.set_faults(None)
        assert sim.faults == FaultConfig()
        with vpsorg.Client(token=sim.token, base_url=sim.base_url) as client:
            assert client.servers.get(12345).id == 12345
        with pytest.raises(TypeError, match="FaultConfig or None, not dict"):
            sim.set_faults({"error_rate_500": 1.0})  # type: ignore[arg-type]
        assert sim.faults == FaultConfig()


def test_a_secret_cut_short_is_scrubbed_from_an_error_description() -> None:
    secret = "cut/short+secret-0123456789"
    _secrets.register_secret(secret)
    try:
        text = f"bytearray(b'xxxxBearer {secret[:15]}...') and {secret[-10:]} at the end"
        scrubbed = _secrets.redact_fragments(text)
    finally:
        _secrets.unregister_secret(secret)
    assert_no_secret(scrubbed, [secret])
    assert scrubbed == "bytearray(b'xxxxBearer [REDACTED]...') and [REDACTED] at the end"
    assert _secrets.redact_fragments(text) == text  # nothing registered any more


def test_clean_chain_replaces_every_foreign_link_on_both_paths() -> None:
    # Python 3.10 can attach an exception a library handled as an implicit __context__;
    # the pipeline's clean_chain must find such a link behind a vpsorg cause as well.
    secret = "tk-chain-0123456789"
    inner = vpsorg.APIConnectionError("inner")
    inner.__context__ = ValueError(f"bad status line: Bearer {secret}")
    outer = vpsorg.OutcomeUnknownError("outer")
    outer.__cause__ = inner
    other = vpsorg.APITimeoutError("other")  # a second vpsorg link, on the context path
    other.__context__ = KeyError(secret)
    outer.__context__ = other
    _secrets.register_secret(secret)  # as a live client's token is
    try:
        _secrets.clean_chain(outer, vpsorg.VPSOrgError)
        assert outer.__cause__ is inner and outer.__context__ is other  # ours are kept
        assert isinstance(inner.__context__, _secrets.ScrubbedCause)
        assert isinstance(other.__context__, _secrets.ScrubbedCause)
        assert_no_secret(outer, [secret])
    finally:
        _secrets.unregister_secret(secret)


def test_clean_chain_ends_on_a_chain_that_loops() -> None:
    first = vpsorg.APIConnectionError("first")
    second = vpsorg.APIConnectionError("second")
    first.__context__ = second
    second.__context__ = first
    _secrets.clean_chain(first, vpsorg.VPSOrgError)
    assert first.__context__ is second and second.__context__ is first
