"""The data vpsorg hands back: frozen attrs classes, with no I/O and no decoding code."""

from .bulk import BulkOperationError, BulkResult, Failed, Outcome, Succeeded
from .servers import (
    ActionResult,
    OperatingSystem,
    Plan,
    ResourceUsage,
    Server,
    ServerPage,
    ServerRef,
    ServerSpec,
    ServerStatus,
)

__all__ = [
    "ActionResult",
    "BulkOperationError",
    "BulkResult",
    "Failed",
    "OperatingSystem",
    "Outcome",
    "Plan",
    "ResourceUsage",
    "Server",
    "ServerPage",
    "ServerRef",
    "ServerSpec",
    "ServerStatus",
    "Succeeded",
]
