"""vpsorg: the async-first Python SDK for the VPS.org server API.

::

    import vpsorg

    async with vpsorg.AsyncClient() as client:      # token from $VPSORG_API_TOKEN
        async for server in client.servers.list(status="active"):
            print(server.id, server.name, server.ip_address)

``vpsorg.Client`` is the blocking twin with the same methods. Every error is a
:class:`VPSOrgError`; see :mod:`vpsorg._exceptions` for the tree.
"""

from . import fleet
from ._async._client import AsyncClient
from ._async._fleet import BulkProgress, ProgressCallback
from ._async._pagination import AsyncServerList
from ._async._servers import AsyncServers
from ._async._transport import AsyncTransport, Response
from ._config import DEFAULT_BASE_URL, Limits, RetryPolicy, Timeout
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkOperationError,
    ConfigurationError,
    InternalServerError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    OutcomeUnknownStatusError,
    PaymentRequiredError,
    RateLimitError,
    ResponseTooLargeError,
    VPSOrgDeprecationWarning,
    VPSOrgError,
    VPSOrgWarning,
    WaitTimeoutError,
)
from ._sync import ServerIterator
from ._sync._client import Client
from ._sync._servers import Servers
from ._version import __version__
from .models import (
    ActionResult,
    BulkResult,
    OperatingSystem,
    Outcome,
    Plan,
    ResourceUsage,
    Server,
    ServerPage,
    ServerRef,
    ServerSpec,
    ServerStatus,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ActionResult",
    "AsyncClient",
    "AsyncServerList",
    "AsyncServers",
    "AsyncTransport",
    "AuthenticationError",
    "BadRequestError",
    "BulkOperationError",
    "BulkProgress",
    "BulkResult",
    "Client",
    "ConfigurationError",
    "InternalServerError",
    "InvalidInputError",
    "Limits",
    "NotFoundError",
    "OperatingSystem",
    "Outcome",
    "OutcomeUnknownError",
    "OutcomeUnknownStatusError",
    "PaymentRequiredError",
    "Plan",
    "ProgressCallback",
    "RateLimitError",
    "ResourceUsage",
    "Response",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Server",
    "ServerIterator",
    "ServerPage",
    "ServerRef",
    "ServerSpec",
    "ServerStatus",
    "Servers",
    "Timeout",
    "VPSOrgDeprecationWarning",
    "VPSOrgError",
    "VPSOrgWarning",
    "WaitTimeoutError",
    "__version__",
    "fleet",
]
