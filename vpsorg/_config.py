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
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import attrs

from ._exceptions import ConfigurationError
from ._ratelimit import RateLimit, coerce_rate_limit

__all__ = [
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
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class Secret:
    """Holds the API token so that no repr, str or log line can show it.

    ``str(secret)`` and ``repr(secret)`` both print ``'***'``; only :meth:`reveal`
    returns the value, and only the transport calls it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a vpsorg Secret cannot be pickled")


class RedactedHeader(str):
    """A header value (the ``Authorization`` header) whose repr never shows it.

    It is a real ``str`` so the HTTP stack sends it unchanged, but any repr of a dict
    of headers, in a traceback's locals for example, prints ``'<redacted>'``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


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
            :class:`~vpsorg.RateLimitError` at once with ``retry_after`` set.
        retry_statuses: the statuses that are retried for idempotent requests.
        budget: the size of the client's retry budget (see :class:`RetryBudget`); ``None``
            disables the budget. A ``with_options`` copy whose policy names another size
            gets a budget of that size of its own.
        retry_cost: budget tokens one retry takes (``timeout_retry_cost`` after a timeout).
        success_refund: budget tokens a success gives back.
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
            :class:`~vpsorg.ResponseTooLargeError`.
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
            carried ``user:password@``; a :class:`Secret`, so no repr shows it.
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
    """Accept a number (the per-attempt total), a :class:`Timeout`, or ``None``."""
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError("timeout must be a number of seconds or a vpsorg.Timeout")
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
    """Resolve arguments, then environment, then defaults; raise on anything unusable."""
    env = os.environ if environ is None else environ
    raw_token = token if token is not None else env.get(ENV_TOKEN)
    if raw_token is not None and not isinstance(raw_token, str):
        raise ConfigurationError(f"the API token must be a string, not {type(raw_token).__name__}")
    if raw_token is None or not raw_token.strip():
        raise ConfigurationError(
            f"no API token: pass token=... or set the {ENV_TOKEN} environment variable"
        )
    if any(c in raw_token for c in "\r\n\0") or raw_token != raw_token.strip():
        raise ConfigurationError("the API token contains whitespace or control characters")
    if base_url is not None:
        url = _normalise_base_url(base_url, "base_url")
    elif env.get(ENV_BASE_URL):
        url = _normalise_base_url(env[ENV_BASE_URL], ENV_BASE_URL)
    else:
        url = DEFAULT_BASE_URL
    scheme, host, port = url_origin(url)
    if scheme == "http" and host not in _LOOPBACK_HOSTS and not allow_insecure_http:
        raise ConfigurationError(
            f"refusing to send the API token over plain http:// to {host!r}; use https:// "
            "or pass allow_insecure_http=True if you really mean it"
        )
    if not isinstance(verify_ssl, bool):
        raise ConfigurationError("verify_ssl must be a bool")
    if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
        raise ConfigurationError("ssl_context must be an ssl.SSLContext")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise ConfigurationError("retry must be a vpsorg.RetryPolicy")
    if limits is not None and not isinstance(limits, Limits):
        raise ConfigurationError("limits must be a vpsorg.Limits")
    if not isinstance(proxy_from_env, bool):
        raise ConfigurationError("proxy_from_env must be a bool")
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


def _shown(url: str) -> str:
    """A URL for an error message: any ``user:password@`` is masked."""
    head, sep, tail = url.rpartition("@")
    if not sep or "://" not in head:
        return repr(url)
    scheme, _, _ = head.partition("://")
    return repr(f"{scheme}://***@{tail}")


def _normalise_base_url(url: str, name: str) -> str:
    """Check and normalise a base URL; ``name`` says where it came from, for errors."""
    if not isinstance(url, str):
        raise ConfigurationError(f"{name} must be a string, not {type(url).__name__}")
    where = f"{name}={_shown(url)}"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{where} is not an absolute http:// or https:// URL "
            "(expected e.g. https://admin.vps.org/api/v1/)"
        )
    if parts.username or parts.password:
        raise ConfigurationError(f"{where} must not contain credentials")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{where} must not have a query or fragment")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_proxy(url: str, source: str) -> Proxy:
    """Check a proxy URL (``http://[user:password@]host:port``) and split off credentials.

    The credentials become a ``Proxy-Authorization: Basic ...`` header held as a
    :class:`Secret`; they never appear in the URL kept for display, in logs or in errors.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"{source} must be a string, not {type(url).__name__}")
    where = f"proxy {_shown(url)} (from {source})"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not a valid URL: {exc}") from None
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigurationError(
            f"{where} is not an http:// URL (e.g. http://proxy.example:3128); "
            "the proxy itself is reached over plain HTTP, https:// APIs go through a "
            "CONNECT tunnel"
        )
    if (parts.path not in ("", "/")) or parts.query or parts.fragment:
        raise ConfigurationError(f"{where} must not have a path, query or fragment")
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
