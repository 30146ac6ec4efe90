"""What every command shares: the group's settings, and running a command's coroutine.

`run()` is the one place where the SDK's errors become exit codes:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     success
1     an API or network error (one line on stderr), or some items of a bulk call
      failed (one line per failed item, printed by the command)
2     a usage error: click's own, a missing token, or input the SDK rejected
      before sending anything
130   interrupted by Ctrl-C, after the work in flight was cancelled
====  ==========================================================================
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import click

import vpsorg
from vpsorg import _runtime as _loop_runtime
from vpsorg._config import ENV_BASE_URL, ENV_TOKEN
from vpsorg._secrets import mask_credentials

__all__ = [
    "ENV_BASE_URL",
    "ENV_TOKEN",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "OutputFormat",
    "Settings",
    "call",
    "connection_hint",
    "enable_logging",
    "error_hint",
    "is_unreachable",
    "one_line",
    "run",
    "stdin_is_interactive",
    "stream_is_terminal",
]

T = TypeVar("T")


EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})

OutputFormat = Literal["table", "json"]


def stream_is_terminal(stream: object) -> bool:
    """True when ``stream`` is an interactive terminal (False for pipes, files, CliRunner)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


def stdin_is_interactive() -> bool:
    """True when someone can answer a question on stdin (a terminal)."""
    return stream_is_terminal(sys.stdin)


@dataclass
class Settings:
    """The group-level options every command reads (``ctx.obj``).

    The token is held here only to hand it to [`vpsorg.AsyncClient`][vpsorg.AsyncClient];
    it is never printed, and a base URL is shown with any ``user:password@`` masked.
    ``token_source`` and ``base_url_source`` name where each came from (``--token`` or
    ``$VPSORG_API_TOKEN``, ``--base-url`` or ``$VPSORG_BASE_URL``), so an unusable one is
    reported under the name the user gave it.
    """

    token: str | None = None
    base_url: str | None = None
    output: OutputFormat | None = None
    allow_insecure_http: bool = False
    base_url_source: str = "--base-url"
    token_source: str = "--token"
    #: ``--rate-limit`` / ``$VPSORG_RATE_LIMIT`` when given (``"off"``: turned off).
    rate_limit: vpsorg.RateLimit | Literal["off"] | None = None

    def __repr__(self) -> str:
        # Keep the token, and a base URL's credentials, out of any debug print.
        token = "set" if self.token else "unset"
        base_url = None if self.base_url is None else mask_credentials(self.base_url)
        return f"Settings(token=<{token}>, base_url={base_url!r}, output={self.output!r})"

    @property
    def output_format(self) -> OutputFormat:
        """``--output`` when given; else tables on a terminal and JSON otherwise."""
        if self.output is not None:
            return self.output
        return "table" if stream_is_terminal(sys.stdout) else "json"

    @property
    def effective_base_url(self) -> str:
        """The API root the commands talk to: the one given, else the SDK's default."""
        return self.base_url or os.environ.get(ENV_BASE_URL) or vpsorg.DEFAULT_BASE_URL

    def client(self) -> vpsorg.AsyncClient:
        """A new client for these settings; call it inside the running event loop.

        A missing token is a usage error (exit 2). A setting the SDK refuses is reported
        under the option (or variable) it came from, without a usage banner (exit 2):
        ``error: $VPSORG_BASE_URL='...': ...`` for a base URL (its credentials masked),
        ``error: --token: ...`` for a token (never shown).
        """
        if not self.token:
            raise click.UsageError(
                f"no API token: pass --token or set ${ENV_TOKEN}",
                click.get_current_context(silent=True),
            )
        try:
            return vpsorg.AsyncClient(
                token=self.token,
                base_url=self.base_url,
                allow_insecure_http=self.allow_insecure_http,
                rate_limit=self.rate_limit,
            )
        except vpsorg.ConfigurationError as exc:
            message = one_line(exc).replace("allow_insecure_http=True", "--allow-insecure-http")
            click.echo(f"error: {self._blame(exc.setting)}{message}", err=True)
            raise click.exceptions.Exit(EXIT_USAGE) from None

    def _blame(self, setting: str | None) -> str:
        """``"<option>: "`` for the SDK setting at fault (``""`` when it is none of ours)."""
        if setting in ("token", ENV_TOKEN):
            return f"{self.token_source}: "
        if setting in ("base_url", ENV_BASE_URL):
            shown = mask_credentials(self.base_url or os.environ.get(ENV_BASE_URL) or "")
            return f"{self.base_url_source}={shown!r}: "
        return ""


def connection_hint(base_url: str) -> str:
    """What to check when ``base_url`` cannot be reached: the simulator, or the API.

    On this machine the hint names the port of ``base_url``, so the command it suggests
    starts a simulator where this command looked for one.
    """
    parts = urllib.parse.urlsplit(base_url)
    base_url = mask_credentials(base_url)
    if (parts.hostname or "") in _LOCAL_HOSTS:
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # a port that is not a number: the URL names no usable port
            port = None
        start = f"`vpsorg simulator --port {port}`" if port else "`vpsorg simulator`"
        return f"could not reach {base_url}: is the simulator running? Start it with {start}."
    return f"could not reach {base_url}: is the API up, and is --base-url (${ENV_BASE_URL}) right?"


def error_hint(error: BaseException | None, base_url: str) -> str | None:
    """The ``hint:`` line for an error the command reports, or ``None`` when none helps.

    Nothing answered: check the simulator or the API (`connection_hint`); a 401:
    check the token, named by where the command reads it.
    """
    if is_unreachable(error):
        return connection_hint(base_url)
    if isinstance(error, vpsorg.AuthenticationError):
        return (
            f"the API refused the token: check --token (${ENV_TOKEN}), and that it belongs "
            f"to the API at {base_url}"
        )
    return None


def is_unreachable(error: BaseException | None) -> bool:
    """True for a connection error where no answer came back (not an ambiguous write)."""
    return isinstance(error, vpsorg.APIConnectionError) and not isinstance(
        error, vpsorg.OutcomeUnknownError
    )


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run ``factory()`` in a fresh event loop and return its result.

    SDK errors are reported here: input and configuration errors as usage errors (exit 2),
    every other [`vpsorg.VPSOrgError`][vpsorg.VPSOrgError] as ``error: ...`` on stderr (exit
    1). Ctrl-C cancels the coroutine, waits for it to unwind (closing the client), then exits 130.
    """
    ctx = click.get_current_context(silent=True)
    try:
        return _run_interruptibly(factory)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except (vpsorg.ConfigurationError, vpsorg.InvalidInputError) as exc:
        raise click.UsageError(str(exc), ctx) from None
    except vpsorg.VPSOrgError as exc:
        click.echo(f"error: {one_line(exc)}", err=True)
        settings = ctx.find_object(Settings) if ctx is not None else None
        hint = error_hint(exc, settings.effective_base_url) if settings is not None else None
        if hint is not None:
            click.echo(f"hint: {hint}", err=True)
        raise click.exceptions.Exit(EXIT_FAILURE) from None


def call(settings: Settings, fn: Callable[[vpsorg.AsyncServers], Awaitable[T]]) -> T:
    """Open a client, await ``fn(client.servers)``, close the client: all inside `run()`."""

    async def go() -> T:
        async with settings.client() as client:
            return await fn(client.servers)

    return run(go)


def one_line(error: BaseException) -> str:
    """An error's message on a single line."""
    return " ".join(str(error).split()) or type(error).__name__


def _run_interruptibly(factory: Callable[[], Awaitable[T]]) -> T:
    """Run ``factory()`` with `vpsorg._runtime.run()` (``anyio.run``, uvloop if installed).

    On Ctrl-C the coroutine is cancelled and unwinds (bulk workers are cancelled, the
    client's session closed), then `KeyboardInterrupt` is raised to the caller, on
    Python 3.10 as on 3.11 and later.
    """
    return _loop_runtime.run(factory)


class _LevelPrefix(logging.Formatter):
    """``warning: <message>``, like the command's own ``error:`` lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {super().format(record)}"


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (CliRunner swaps it)."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self.setFormatter(formatter or logging.Formatter("vpsorg: %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def enable_logging(ctx: click.Context, verbose: int) -> None:
    """The SDK's warnings on stderr as ``warning: ...``; ``-v``: its retries too (each
    line ``vpsorg: LEVEL: ...``); ``-vv``: every request too."""
    logger = logging.getLogger("vpsorg")
    previous = logger.level
    if verbose <= 0:
        handler = _StderrHandler(_LevelPrefix("%(message)s"))
        handler.setLevel(logging.WARNING)
    else:
        handler = _StderrHandler()
        logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    logger.addHandler(handler)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(restore)
