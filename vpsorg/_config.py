"""Frozen client settings: timeouts, the retry policy, connection limits.

Values come from constructor arguments first, then from the environment
(``VPSORG_API_TOKEN``, ``VPSORG_BASE_URL``, ``VPSORG_RATE_LIMIT``), then from the
defaults documented here.
Nothing in this module performs I/O.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import ssl
import unicodedata
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import attrs

from ._exceptions import ConfigurationError
from ._ratelimit import RateLimit, coerce_rate_limit
from ._secrets import RedactedHeader, Secret, mask_credentials

__all__ = [  # RedactedHeader and Secret live in _secrets; importable from here too
    "RedactedHeader",
    "DEFAULT_BASE_URL",
    "ENV_BASE_URL",
    "ENV_TOKEN",
    "ClientConfig",
    "Limits",
    "Proxy",
    "RetryPolicy",
    "Secret",
    "Timeout",
    "resolve_config",
]

DEFAULT_BASE_URL = "https://admin.vps.org/api/v1/"
ENV_TOKEN = "VPSORG_API_TOKEN"
ENV_BASE_URL = "VPSORG_BASE_URL"
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_LONG_TOKEN = 12  # a token this long is never a word of a URL by chance
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@attrs.frozen
class Timeout:
    """How long a request may take, in seconds; ``None`` means no limit.

    Attributes:
        connect: to open a TCP (and TLS) connection.
        total: for one attempt, from sending the request to reading the whole body.
        deadline: for a whole call, including every retry and the waits between them.

    A plain number passed as ``timeout=`` sets ``total``.
    """

    connect: float | None = 10.0
    total: float | None = 60.0
    deadline: float | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "total", "deadline"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
            ):
                raise ConfigurationError(f"Timeout.{name} must be a positive number or None")


@attrs.frozen
class RetryPolicy:
    """When and how the client retries a failed request.

    Idempotent requests (GET, PUT, PATCH, DELETE) are retried on connection errors,
    timeouts and the statuses in ``retry_statuses``. A POST (create, start, stop, reboot)
    is retried only when the server provably did not act on it: a 429, or a connection
    that could not be opened. 400, 401, 402, 403, 404, 405, 409 and 422 are never
    retried, even when listed in ``retry_statuses``.

    Attributes:
        max_attempts: attempts in all, the first included (1 disables retries). Attempts
            answered 429 do not count: they have their own limit.
        max_rate_limited_attempts: attempts answered 429 ("too many requests") that are
            retried, after the ``Retry-After`` the server asks for (or a backoff when it
            names none), until the call's deadline or this many. Generous by default: a
            server asking for "later" is not failing, and such retries do not spend the
            retry budget.
        backoff_base: the first backoff ceiling in seconds; it doubles each attempt.
        backoff_cap: the largest backoff ceiling in seconds (full jitter below it).
        retry_after_cap: the longest ``Retry-After`` honoured; a longer one raises
            [`RateLimitError`][vpsorg.RateLimitError] at once with ``retry_after`` set.
        retry_statuses: the statuses that are retried for idempotent requests.
        budget: the size of the client's retry budget (see `RetryBudget`); ``None``
            disables the budget. A ``with_options`` copy whose policy names another size
            gets a budget of that size of its own.
        retry_cost: budget tokens one retry takes (``timeout_retry_cost`` after a timeout).
        success_refund: budget tokens a success gives back.
        settle_window: seconds, counted from when a create's outcome became unknown,
            during which the API may still be storing a server it accepted. Settling
            that create (``find_created``, ``reconcile=True``) lists again until the
            window has passed before it may answer "not created". 10 by default; a
            non-negative, finite number.
    """

    max_attempts: int = 4
    max_rate_limited_attempts: int = 30
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
    budget: int | None = 500
    retry_cost: int = 5
    timeout_retry_cost: int = 10
    success_refund: int = 1
    settle_window: float = 10.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ConfigurationError("RetryPolicy.max_attempts must be an int")
        if self.max_attempts < 1:
            raise ConfigurationError("RetryPolicy.max_attempts must be at least 1")
        limited = self.max_rate_limited_attempts
        if isinstance(limited, bool) or not isinstance(limited, int) or limited < 1:
            raise ConfigurationError("RetryPolicy.max_rate_limited_attempts must be an int >= 1")
        if self.backoff_base < 0 or self.backoff_cap < 0 or self.retry_after_cap < 0:
            raise ConfigurationError("RetryPolicy delays must not be negative")
        window = self.settle_window
        if (
            isinstance(window, bool)
            or not isinstance(window, (int, float))
            or not 0 <= window < float("inf")
        ):
            raise ConfigurationError(
                "RetryPolicy.settle_window must be a non-negative, finite number of seconds"
            )

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)


@attrs.frozen
class Limits:
    """Connection-pool and safety limits.

    Attributes:
        max_connections: open connections at most, across hosts (aiohttp's ``limit``).
        max_connections_per_host: per host; 0 means only ``max_connections`` applies.
        keepalive_timeout: seconds an idle connection is kept for reuse.
        max_response_bytes: the largest response body read; a larger one raises
            [`ResponseTooLargeError`][vpsorg.ResponseTooLargeError].
    """

    max_connections: int = 256
    max_connections_per_host: int = 0
    keepalive_timeout: float = 30.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


@attrs.frozen
class Proxy:
    """The HTTP proxy a client goes through, resolved once at construction.

    Attributes:
        url: the proxy URL without credentials (safe to print).
        authorization: the ``Proxy-Authorization`` header value when the proxy URL
            carried ``user:password@``; a `Secret`, so no repr shows it.
        source: where it came from: ``"proxy="`` or the environment variable's name.
    """

    url: str
    authorization: Secret | None
    source: str


@attrs.frozen
class ClientConfig:
    """Everything a client needs, resolved and checked once at construction."""

    token: Secret
    base_url: str
    timeout: Timeout
    retry: RetryPolicy
    limits: Limits
    user_agent_extra: str | None
    verify_ssl: bool
    ssl_context: ssl.SSLContext | None
    allow_insecure_http: bool
    proxy: Proxy | None = None
    #: The client-side rate limit (adaptive by default); ``None`` when turned off.
    rate_limit: RateLimit | None = attrs.field(factory=RateLimit)


def url_origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, lower-cased host, explicit-or-default port) of a URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def coerce_timeout(value: float | Timeout | None, default: Timeout) -> Timeout:
    """Accept a number (the per-attempt total), a [`Timeout`][vpsorg.Timeout], or ``None``."""
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            "timeout must be a number of seconds or a vpsorg.Timeout", setting="timeout"
        )
    return attrs.evolve(default, total=float(value))


def resolve_config(
    *,
    token: str | None,
    base_url: str | None,
    timeout: float | Timeout | None,
    retry: RetryPolicy | None,
    limits: Limits | None,
    user_agent: str | None,
    verify_ssl: bool,
    ssl_context: ssl.SSLContext | None,
    allow_insecure_http: bool,
    proxy: str | None = None,
    proxy_from_env: bool = False,
    environ: Mapping[str, str] | None = None,
    rate_limit: object = None,
) -> ClientConfig:
    """Resolve arguments, then environment, then defaults; raise on anything unusable.

    Every `vpsorg.ConfigurationError` names the setting at fault in its
    ``setting`` and never shows the token (not even when it was given in another
    setting's place).
    """
    env = os.environ if environ is None else environ
    token_setting = "token" if token is not None else ENV_TOKEN
    raw_token = token if token is not None else env.get(ENV_TOKEN)
    check_token(raw_token, token_setting)
    assert raw_token is not None
    try:
        return _resolve(
            raw_token,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            limits=limits,
            user_agent=user_agent,
            verify_ssl=verify_ssl,
            ssl_context=ssl_context,
            allow_insecure_http=allow_insecure_http,
            proxy=proxy,
            proxy_from_env=proxy_from_env,
            rate_limit=rate_limit,
            env=env,
        )
    except ConfigurationError as exc:
        # The token given where a URL or a User-Agent was expected: never echo it. (A
        # short token that is also a word of the URL, "example" in api.example.com, is
        # left alone unless it is that whole setting.)
        text = str(exc)
        given = (base_url, user_agent, proxy, env.get(ENV_BASE_URL))
        if raw_token not in text or (
            len(raw_token) < _LONG_TOKEN and all(raw_token != str(v).strip() for v in given)
        ):
            raise
        error = ConfigurationError(text.replace(raw_token, "***"), setting=exc.setting)
    raise error


def _resolve(
    raw_token: str,
    *,
    base_url: str | None,
    timeout: float | Timeout | None,
    retry: RetryPolicy | None,
    limits: Limits | None,
    user_agent: str | None,
    verify_ssl: bool,
    ssl_context: ssl.SSLContext | None,
    allow_insecure_http: bool,
    proxy: str | None,
    proxy_from_env: bool,
    rate_limit: object,
    env: Mapping[str, str],
) -> ClientConfig:
    url_setting = "base_url"
    if base_url is not None:
        url = _normalise_base_url(base_url, url_setting)
    elif env.get(ENV_BASE_URL):
        url_setting = ENV_BASE_URL
        url = _normalise_base_url(env[ENV_BASE_URL], url_setting)
    else:
        url = DEFAULT_BASE_URL
    scheme, host, port = url_origin(url)
    if scheme == "http" and host not in _LOOPBACK_HOSTS and not allow_insecure_http:
        raise ConfigurationError(
            f"refusing to send the API token over plain http:// to {host!r}; use https:// "
            "or pass allow_insecure_http=True if you really mean it",
            setting=url_setting,
        )
    check_user_agent(user_agent)
    if not isinstance(verify_ssl, bool):
        raise ConfigurationError("verify_ssl must be a bool", setting="verify_ssl")
    if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
        raise ConfigurationError("ssl_context must be an ssl.SSLContext", setting="ssl_context")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise ConfigurationError("retry must be a vpsorg.RetryPolicy", setting="retry")
    if limits is not None and not isinstance(limits, Limits):
        raise ConfigurationError("limits must be a vpsorg.Limits", setting="limits")
    if not isinstance(proxy_from_env, bool):
        raise ConfigurationError("proxy_from_env must be a bool", setting="proxy_from_env")
    resolved_proxy: Proxy | None = None
    if proxy is not None:
        resolved_proxy = parse_proxy(proxy, "proxy=")
    elif proxy_from_env:
        resolved_proxy = proxy_from_environment(env, scheme, host, port)
    return ClientConfig(
        token=Secret(raw_token),
        base_url=url,
        timeout=coerce_timeout(timeout, Timeout()),
        retry=retry or RetryPolicy(),
        limits=limits or Limits(),
        user_agent_extra=user_agent,
        verify_ssl=verify_ssl,
        ssl_context=ssl_context,
        allow_insecure_http=allow_insecure_http,
        proxy=resolved_proxy,
        rate_limit=coerce_rate_limit(rate_limit, env),
    )


def _unsafe_char(text: str, *, spaces: bool) -> str | None:
    """The first character of ``text`` that cannot go into a header value, else None.

    Refused: every Unicode control, format, surrogate, private-use or unassigned
    character (categories Cc, Cf, Cs, Co, Cn: CR, LF, NUL, DEL, a tab, a zero-width
    space, ...), line and paragraph separators (Zl, Zp: U+2028, U+2029), and, unless
    ``spaces``, every space (Zs) and anything else Python counts as whitespace.
    """
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return char
        if not spaces and (category == "Zs" or char.isspace()):
            return char
    return None


def check_token(token: object, setting: str) -> None:
    """Refuse a token that is missing, not a string, or unsafe in a header.

    The message names the setting and the offending character's code point, never
    the token itself.
    """
    if token is not None and not isinstance(token, str):
        raise ConfigurationError(
            f"the API token must be a string, not {type(token).__name__}", setting=setting
        )
    if token is None or not token.strip():
        raise ConfigurationError(
            f"no API token: pass token=... or set the {ENV_TOKEN} environment variable",
            setting=setting,
        )
    bad = _unsafe_char(token, spaces=False)
    if bad is not None:
        where = "" if setting == "token" else f" (from {setting})"
        raise ConfigurationError(
            f"the API token{where} contains whitespace or a control character "
            f"(U+{ord(bad):04X}); a token is one word: copy it again without spaces or "
            "line breaks",
            setting=setting,
        )


def check_user_agent(user_agent: object) -> None:
    """Refuse a ``user_agent`` suffix that is not a string or holds a control character
    (CR or LF would split the header; aiohttp would refuse every request)."""
    if user_agent is None:
        return
    if not isinstance(user_agent, str):
        raise ConfigurationError(
            f"user_agent must be a string, not {type(user_agent).__name__}",
            setting="user_agent",
        )
    bad = _unsafe_char(user_agent, spaces=True)
    if bad is not None:
        raise ConfigurationError(
            f"user_agent {user_agent!r} contains a control character (U+{ord(bad):04X}); "
            "a User-Agent is one line of printable text",
            setting="user_agent",
        )


def _shown(url: str) -> str:
    """A URL for an error message: any ``user:password@`` is masked, scheme or not."""
    return repr(mask_credentials(url))


def _url_error(url: str, exc: ValueError) -> str:
    """Why ``urlsplit`` refused ``url``, with the URL's credentials masked out of it."""
    text = str(exc)
    head, sep, _ = url.rpartition("@")
    if sep:
        userinfo = head.partition("://")[2] or head
        for part in (userinfo, *userinfo.split(":")):
            if part:
                text = text.replace(part, "***")
    return text


def _normalise_base_url(url: str, name: str) -> str:
    """Check and normalise a base URL; ``name`` says where it came from, for errors."""
    if not isinstance(url, str):
        raise ConfigurationError(f"{name} must be a string, not {type(url).__name__}", setting=name)
    where = f"{name}={_shown(url)}"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(
            f"{where} is not a valid URL: {_url_error(url, exc)}", setting=name
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{where} is not an absolute http:// or https:// URL "
            "(expected e.g. https://admin.vps.org/api/v1/)",
            setting=name,
        )
    if parts.username or parts.password:
        raise ConfigurationError(f"{where} must not contain credentials", setting=name)
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{where} must not have a query or fragment", setting=name)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_proxy(url: str, source: str) -> Proxy:
    """Check a proxy URL (``http://[user:password@]host:port``) and split off credentials.

    The credentials become a ``Proxy-Authorization: Basic ...`` header held as a
    `Secret`; they never appear in the URL kept for display, in logs or in errors,
    also when the URL has no scheme (``alice:pw@proxy:3128``, which curl accepts and
    vpsorg refuses: it asks for the explicit ``http://``).
    """
    setting = source.rstrip("=")
    if not isinstance(url, str):
        raise ConfigurationError(
            f"{source} must be a string, not {type(url).__name__}", setting=setting
        )
    where = f"proxy {_shown(url)} (from {source})"
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(
            f"{where} is not a valid URL: {_url_error(url, exc)}", setting=setting
        ) from None
    if "://" not in text:
        raise ConfigurationError(
            f"{where} has no scheme: write it as http://host:port (with any "
            "user:password@ after the http://)",
            setting=setting,
        )
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigurationError(
            f"{where} is not an http:// URL (e.g. http://proxy.example:3128); "
            "the proxy itself is reached over plain HTTP, https:// APIs go through a "
            "CONNECT tunnel",
            setting=setting,
        )
    if (parts.path not in ("", "/")) or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{where} must not have a path, query or fragment", setting=setting
        )
    authorization: Secret | None = None
    if parts.username is not None or parts.password is not None:
        user = unquote(parts.username or "")
        password = unquote(parts.password or "")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        authorization = Secret("Basic " + encoded)
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return Proxy(url=f"http://{host}:{port or 80}", authorization=authorization, source=source)


def proxy_from_environment(
    env: Mapping[str, str], scheme: str, host: str, port: int | None
) -> Proxy | None:
    """The proxy the environment asks for, for an API at ``scheme://host:port``.

    ``https_proxy``/``HTTPS_PROXY`` for an https:// API, ``http_proxy``/``HTTP_PROXY``
    for an http:// one, then ``all_proxy``/``ALL_PROXY`` (the lower-case name wins when
    both are set, as curl and urllib do); ``None`` when none is set or ``no_proxy``/
    ``NO_PROXY`` matches the host.
    """
    for name in (f"{scheme}_proxy", "all_proxy"):
        for variable in (name, name.upper()):
            value = env.get(variable)
            if value:
                if _bypassed(env, host, port):
                    return None
                return parse_proxy(value, variable)
    return None


def _bypassed(env: Mapping[str, str], host: str, port: int | None) -> bool:
    """Whether ``no_proxy``/``NO_PROXY`` exempts the host (curl's rules)."""
    raw = env.get("no_proxy") or env.get("NO_PROXY") or ""
    host = host.strip("[]").lower()
    for entry in (e.strip().lower() for e in raw.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port.isdigit() and port != int(entry_port):
            continue
        name = name.strip("[]").lstrip(".")
        if "/" in name:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == name or host.endswith("." + name):
            return True
    return False
