"""vpsorg: the async-first Python SDK for the VPS.org server API.

Examples:
    ```python
    import vpsorg

    async with vpsorg.AsyncClient() as client:      # token from $VPSORG_API_TOKEN
        async for server in client.servers.list(status="active"):
            print(server.id, server.name, server.ip_address)
    ```

``vpsorg.Client`` is the blocking twin with the same methods. Every error is a
[`VPSOrgError`][vpsorg.VPSOrgError]; see `vpsorg._exceptions` for the tree.
"""

from . import fleet
from ._async._client import AsyncClient
from ._async._fleet import BulkProgress, MaxErrors, ProgressCallback
from ._async._pagination import AsyncServerList
from ._async._raw import AsyncServersWithRawResponse, RawResponse
from ._async._rolling import Batches, BatchSize
from ._async._servers import AsyncServers, RollingAction
from ._async._transport import AsyncTransport, Response
from ._async._waiting import WaitProgress, WaitProgressCallback
from ._config import DEFAULT_BASE_URL, Limits, RetryPolicy, Timeout
from ._events import (
    EVENT_HEADERS,
    AttemptEnded,
    AttemptStarted,
    CallEnded,
    CallStarted,
    Event,
    EventHook,
    RetryScheduled,
)
from ._exceptions import (
    AmbiguousCreateError,
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    InvalidInputError,
    NotCreatedError,
    NotFoundError,
    OutcomeUnknownError,
    OutcomeUnknownStatusError,
    PaymentRequiredError,
    RateLimitError,
    ResponseTooLargeError,
    UnreachableStatusError,
    UnreadableSuccessError,
    VPSOrgDeprecationWarning,
    VPSOrgError,
    VPSOrgWarning,
    WaitError,
    WaitTimeoutError,
)
from ._journal import Journal, JournalError, JournalLike
from ._ratelimit import ENV_RATE_LIMIT, RateLimit, RateLimitSetting
from ._sync import ServerIterator
from ._sync._client import Client
from ._sync._raw import ServersWithRawResponse
from ._sync._servers import Servers
from ._version import __version__
from .models import (
    ActionResult,
    BulkOperationError,
    BulkResult,
    Failed,
    NotStartedError,
    OperatingSystem,
    Outcome,
    Plan,
    ResourceUsage,
    Server,
    ServerPage,
    ServerRef,
    ServerSpec,
    ServerStatus,
    StopReason,
    Succeeded,
    partial_result,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_RATE_LIMIT",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ActionResult",
    "AsyncClient",
    "AsyncServerList",
    "AsyncServers",
    "AsyncServersWithRawResponse",
    "AttemptEnded",
    "AttemptStarted",
    "AsyncTransport",
    "AmbiguousCreateError",
    "AuthenticationError",
    "BadRequestError",
    "Batches",
    "BatchSize",
    "BulkOperationError",
    "BulkProgress",
    "BulkResult",
    "CallEnded",
    "CallStarted",
    "Client",
    "ConfigurationError",
    "EVENT_HEADERS",
    "Event",
    "EventHook",
    "Failed",
    "InternalServerError",
    "InvalidInputError",
    "Journal",
    "JournalError",
    "JournalLike",
    "Limits",
    "MaxErrors",
    "NotCreatedError",
    "NotFoundError",
    "NotStartedError",
    "OperatingSystem",
    "Outcome",
    "OutcomeUnknownError",
    "OutcomeUnknownStatusError",
    "PaymentRequiredError",
    "Plan",
    "ProgressCallback",
    "RateLimit",
    "RateLimitError",
    "RateLimitSetting",
    "RawResponse",
    "ResourceUsage",
    "Response",
    "ResponseTooLargeError",
    "RetryPolicy",
    "RetryScheduled",
    "RollingAction",
    "Server",
    "ServerIterator",
    "ServerPage",
    "ServerRef",
    "ServerSpec",
    "ServerStatus",
    "Servers",
    "StopReason",
    "ServersWithRawResponse",
    "Succeeded",
    "Timeout",
    "UnreachableStatusError",
    "UnreadableSuccessError",
    "VPSOrgDeprecationWarning",
    "VPSOrgError",
    "VPSOrgWarning",
    "WaitError",
    "WaitTimeoutError",
    "WaitProgress",
    "WaitProgressCallback",
    "__version__",
    "fleet",
    "partial_result",
]
