"""The asynchronous client: the facade users hold.

One [`AsyncClient`][vpsorg.AsyncClient] owns one request pipeline (`vpsorg._async._pipeline`): one
transport (one aiohttp session), one rate-limit gate and one retry budget, shared with
every copy made by [`AsyncClient.with_options()`][vpsorg.AsyncClient.with_options]. The
client resolves the settings, hands its pipeline to each resource, and closes the transport;
it sends nothing itself.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import attrs
from typing_extensions import Self

from .._config import Limits, RetryPolicy, Timeout, coerce_timeout, resolve_config
from .._events import Emitter, EventHook
from .._exceptions import ConfigurationError
from .._ratelimit import RateLimit, RateLimitSetting
from ._pipeline import Pipeline
from ._servers import AsyncServers
from ._shared_limiter import build_limiter
from ._transport import AiohttpTransport, AsyncTransport

__all__ = ["AsyncClient"]


class AsyncClient:
    """The asynchronous VPS.org client.

    Examples:
        Use it as an async context manager, or call
        [`aclose()`][vpsorg.AsyncClient.aclose] when done:

        ```python
        async with vpsorg.AsyncClient() as client:
            async for server in client.servers.list(status="active"):
                print(server.id, server.name, server.status)
        ```

    Args:
        token: the API token; defaults to ``$VPSORG_API_TOKEN``. Required.
        base_url: the API root; defaults to ``$VPSORG_BASE_URL``, then
            ``https://admin.vps.org/api/v1/``.
        timeout: seconds per attempt, or a [`vpsorg.Timeout`][vpsorg.Timeout] for connect,
            per-attempt and whole-call limits.
        retry: the [`vpsorg.RetryPolicy`][vpsorg.RetryPolicy] (defaults documented there).
        limits: the [`vpsorg.Limits`][vpsorg.Limits] for the connection pool and body size.
        user_agent: text appended to the User-Agent header.
        verify_ssl: verify TLS certificates (default). ``False`` logs a warning.
        ssl_context: a custom ``ssl.SSLContext`` (a private CA, client certificates).
        allow_insecure_http: allow ``http://`` to a host that is not loopback; without
            it, the token is never sent in clear text.
        proxy: an HTTP proxy URL, ``http://[user:password@]host:port``; https:// APIs
            go through it in a ``CONNECT`` tunnel. The credentials are sent as
            ``Proxy-Authorization`` and never appear in a repr, log line or error.
        proxy_from_env: take the proxy from ``HTTPS_PROXY``/``HTTP_PROXY``/
            ``ALL_PROXY``, honouring ``NO_PROXY`` (off by default; ``proxy=`` wins).
        event_hooks: callables each given every [`vpsorg.Event`][vpsorg.Event] of every call:
            [`CallStarted`][vpsorg.CallStarted], [`AttemptStarted`][vpsorg.AttemptStarted],
            [`AttemptEnded`][vpsorg.AttemptEnded], [`RetryScheduled`][vpsorg.RetryScheduled],
            [`CallEnded`][vpsorg.CallEnded] (none carries the token). They are called
            synchronously during the call, in its event loop; one that raises is logged
            once and the call goes on.
            ``vpsorg.otel.OTelHooks()`` turns them into OpenTelemetry spans. Copies
            made by [`with_options()`][vpsorg.AsyncClient.with_options] keep them. See
            "Observability" in the docs.
        rate_limit: the client-side rate limit, applied before each request is sent: a
            [`vpsorg.RateLimit`][vpsorg.RateLimit], a number of requests per second, ``"adaptive"``
            (learn the API's rate from its 429s; the default) or ``"off"``. ``None``
            takes ``$VPSORG_RATE_LIMIT`` (``50``, ``50:10`` for a burst of 10,
            ``adaptive``, ``off``), else ``"adaptive"``. See "Rate limits" in the docs.
        transport: a custom transport (for tests); by default one aiohttp session.

    Raises:
        ConfigurationError: no token, or an unusable base URL or setting.
    """

    servers: AsyncServers
    """The servers resource: list, create, get, update, patch, delete, power actions,
    waiting and bulk operations."""

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        user_agent: str | None = None,
        verify_ssl: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        allow_insecure_http: bool = False,
        proxy: str | None = None,
        proxy_from_env: bool = False,
        event_hooks: Sequence[EventHook] | None = None,
        rate_limit: RateLimitSetting = None,
        transport: AsyncTransport | None = None,
    ) -> None:
        config = resolve_config(
            token=token,
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
        )
        hooks = _check_hooks(event_hooks)
        limiter = build_limiter(config)
        self._init(
            Pipeline(config, transport or AiohttpTransport(config), limiter=limiter, events=hooks)
        )

    def _init(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._config = pipeline.config
        self.servers = AsyncServers(pipeline)

    @property
    def base_url(self) -> str:
        """The API root every request goes to (always ends with ``/``)."""
        return self._config.base_url

    @property
    def timeout(self) -> Timeout:
        """The [`vpsorg.Timeout`][vpsorg.Timeout] in force for this client."""
        return self._config.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        """The [`vpsorg.RetryPolicy`][vpsorg.RetryPolicy] in force for this client."""
        return self._config.retry

    @property
    def rate_limit(self) -> RateLimit | None:
        """The client-side [`vpsorg.RateLimit`][vpsorg.RateLimit] in force (`None`: off)."""
        return self._config.rate_limit

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> Self:
        """A copy of this client with other timeouts or retry policy, for some calls.

        The copy shares the connection pool and the rate-limit gate, so it costs nothing
        to make per call:

        ```python
        server = await client.with_options(timeout=5).servers.get(12345)
        ```

        It shares the retry budget too, unless its policy asks for a budget of another
        size (``RetryPolicy(budget=...)``): that size gets a budget of its own, shared by
        every copy asking for it. Closing the copy does nothing; close the original.
        """
        changes: dict[str, Any] = {"timeout": coerce_timeout(timeout, self._config.timeout)}
        if retry is not None:
            changes["retry"] = retry
        clone = object.__new__(type(self))
        clone._init(self._pipeline.with_config(attrs.evolve(self._config, **changes)))
        clone._is_copy = True
        return clone

    _is_copy = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. Safe to call more than once."""
        if self._is_copy:
            return
        await self._pipeline.aclose()


def _check_hooks(hooks: object) -> Emitter | None:
    """The emitter for ``event_hooks``, or None without hooks; checked before anything."""
    if hooks is None:
        return None
    if isinstance(hooks, (str, bytes)) or not isinstance(hooks, Sequence) or callable(hooks):
        raise ConfigurationError(
            f"event_hooks must be a list of callables, not {type(hooks).__name__}"
        )
    for hook in hooks:
        if not callable(hook):
            raise ConfigurationError(
                f"every event hook must be callable; got {type(hook).__name__}"
            )
    return Emitter(hooks) if hooks else None
