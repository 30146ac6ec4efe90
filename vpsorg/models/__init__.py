"""The data vpsorg hands back: frozen classes with no I/O and no decoding code.

What the API sends is a msgspec Struct that attrs' functions understand (see ``_base``);
bulk outcomes and [`ServerSpec`][vpsorg.ServerSpec] are attrs classes.
"""

from .bulk import (
    BulkOperationError,
    BulkResult,
    Failed,
    NotStartedError,
    Outcome,
    StopReason,
    Succeeded,
    partial_result,
)
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
    "NotStartedError",
    "OperatingSystem",
    "Outcome",
    "Plan",
    "ResourceUsage",
    "Server",
    "ServerPage",
    "ServerRef",
    "ServerSpec",
    "ServerStatus",
    "StopReason",
    "Succeeded",
    "partial_result",
]
