"""OpenTelemetry tracing for vpsorg calls, built on the client's event hooks.

Examples:
    Install the extra (``pip install 'vpsorg[otel]'``, which brings
    ``opentelemetry-api``), configure a tracer provider as usual, and give the client an
    [`OTelHooks`][vpsorg.otel.OTelHooks]:

    ```python
    import vpsorg
    from vpsorg.otel import OTelHooks

    client = vpsorg.AsyncClient(event_hooks=[OTelHooks()])
    ```

Each call makes one span (kind ``INTERNAL``, named like ``"GET /servers/{id}/"``) and,
under it, one span per attempt (kind ``CLIENT``, same name) carrying the HTTP
semantic-convention attributes: ``http.request.method``, ``url.full`` (never the token),
``url.template``, ``server.address``, ``server.port``, ``http.response.status_code``,
``error.type`` and, from the first retry on, ``http.request.resend_count``. A scheduled
retry is an event (``"retry"``, with its delay and reason) on the call span. A failed
call records its exception on the call span and sets its status to ``ERROR``; an attempt
with a 4xx/5xx or no response sets its own status to ``ERROR``.

The call span is a child of whatever span is current where the call is made (for the
blocking [`Client`][vpsorg.Client] too: its loop thread runs each call in a copy of the
caller's context).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from ._events import AttemptEnded, AttemptStarted, CallEnded, CallStarted, Event, RetryScheduled
from ._version import __version__

__all__ = ["OTelHooks"]

_INSTRUMENTATION = "vpsorg"


class OTelHooks:
    """An event hook that turns a client's events into OpenTelemetry spans.

    Args:
        tracer_provider: where to get the tracer; the global provider by default.

    Examples:
        Use one per client (or share one between clients: spans are keyed by call id):

        ```python
        client = vpsorg.Client(event_hooks=[vpsorg.otel.OTelHooks()])
        ```
    """

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracer: Tracer = trace.get_tracer(
            _INSTRUMENTATION, __version__, tracer_provider=tracer_provider
        )
        self._calls: dict[int, Span] = {}
        self._attempts: dict[int, Span] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(open_calls={len(self._calls)})"

    def __call__(self, event: Event) -> None:
        """Start or end the span ``event`` is about."""
        if isinstance(event, AttemptStarted):
            self._attempt_started(event)
        elif isinstance(event, AttemptEnded):
            self._attempt_ended(event)
        elif isinstance(event, RetryScheduled):
            span = self._calls.get(event.call_id)
            if span is not None:
                span.add_event(
                    "retry",
                    {
                        "vpsorg.retry.attempt": event.attempt,
                        "vpsorg.retry.delay": event.delay,
                        "vpsorg.retry.reason": event.reason,
                    },
                )
        elif isinstance(event, CallStarted):
            self._calls[event.call_id] = self._tracer.start_span(
                f"{event.method} {event.url_template}",
                kind=SpanKind.INTERNAL,
                attributes={
                    "http.request.method": event.method,
                    "url.full": event.url,
                    "url.template": event.url_template,
                },
            )
        elif isinstance(event, CallEnded):
            self._call_ended(event)

    def _attempt_started(self, event: AttemptStarted) -> None:
        parent = self._calls.get(event.call_id)
        context = trace.set_span_in_context(parent) if parent is not None else None
        parts = urlsplit(event.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        attributes: dict[str, str | int] = {
            "http.request.method": event.method,
            "url.full": event.url,
            "url.template": event.url_template,
            "server.address": parts.hostname or "",
            "server.port": port,
        }
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        self._attempts[event.call_id] = self._tracer.start_span(
            f"{event.method} {event.url_template}",
            context=context if context is not None else otel_context.get_current(),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )

    def _attempt_ended(self, event: AttemptEnded) -> None:
        span = self._attempts.pop(event.call_id, None)
        if span is None:
            return
        if event.status_code is not None:
            span.set_attribute("http.response.status_code", event.status_code)
            if event.status_code >= 400:
                span.set_attribute("error.type", str(event.status_code))
                span.set_status(Status(StatusCode.ERROR))
        if event.request_id is not None:
            span.set_attribute("vpsorg.request_id", event.request_id)
        if event.error is not None:
            span.set_attribute("error.type", type(event.error).__name__)
            span.set_status(Status(StatusCode.ERROR, type(event.error).__name__))
        span.end()

    def _call_ended(self, event: CallEnded) -> None:
        attempt = self._attempts.pop(event.call_id, None)
        if attempt is not None:  # the call ended inside an attempt (cancelled)
            attempt.end()
        span = self._calls.pop(event.call_id, None)
        if span is None:
            return
        span.set_attribute("vpsorg.attempts", event.attempts)
        span.set_attribute("vpsorg.outcome", event.outcome)
        if event.status_code is not None:
            span.set_attribute("http.response.status_code", event.status_code)
        if event.error is not None:
            span.set_attribute("error.type", type(event.error).__name__)
            if isinstance(event.error, Exception):
                span.record_exception(event.error)
            span.set_status(Status(StatusCode.ERROR, str(event.error)))
        span.end()
