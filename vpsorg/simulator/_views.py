"""How a server record is rendered: list item, detail view, create and action responses.

The list and detail renderings are encoded once and cached on the record until it changes,
so serving a page of a large fleet is mostly joining cached bytes.
"""

from __future__ import annotations

from typing import Any

from vpsorg.simulator._catalog import OPERATING_SYSTEMS, PLANS, resource_usage_for
from vpsorg.simulator._json import dumps
from vpsorg.simulator._store import ServerRecord, format_timestamp

__all__ = [
    "CREATE_MESSAGE",
    "action_result",
    "create_response",
    "detail_json",
    "detail_view",
    "list_json",
    "list_view",
]

#: The ``message`` of a create response, word for word from the reference.
CREATE_MESSAGE = "Server is being provisioned. This may take 2-5 minutes."


def list_view(record: ServerRecord) -> dict[str, Any]:
    """The summary fields the reference shows in list responses."""
    name, vcpus, memory, storage, _ = PLANS[record.plan_id]
    return {
        "id": record.id,
        "name": record.name,
        "hostname": record.hostname,
        "status": record.status,
        "ip_address": record.ip_address,
        "location": record.location,
        "plan": {
            "id": record.plan_id,
            "name": name,
            "vcpus": vcpus,
            "memory": memory,
            "storage": storage,
        },
        "os": {"id": record.os_id, "name": OPERATING_SYSTEMS[record.os_id]},
        "created_at": format_timestamp(record.created_us),
        "updated_at": format_timestamp(record.updated_us),
    }


def detail_view(record: ServerRecord) -> dict[str, Any]:
    """The detail view: the summary plus IPv6, plan bandwidth, backups and resource usage."""
    name, vcpus, memory, storage, bandwidth = PLANS[record.plan_id]
    return {
        "id": record.id,
        "name": record.name,
        "hostname": record.hostname,
        "status": record.status,
        "ip_address": record.ip_address,
        "ipv6_address": record.ipv6_address,
        "location": record.location,
        "plan": {
            "id": record.plan_id,
            "name": name,
            "vcpus": vcpus,
            "memory": memory,
            "storage": storage,
            "bandwidth": bandwidth,
        },
        "os": {"id": record.os_id, "name": OPERATING_SYSTEMS[record.os_id]},
        "backups_enabled": record.backups_enabled,
        "resource_usage": resource_usage_for(record.id, record.plan_id, record.status),
        "created_at": format_timestamp(record.created_us),
        "updated_at": format_timestamp(record.updated_us),
    }


def list_json(record: ServerRecord) -> bytes:
    """The encoded list item, cached on the record until it next changes."""
    encoded = record.list_json
    if encoded is None:
        encoded = record.list_json = dumps(list_view(record))
    return encoded


def detail_json(record: ServerRecord) -> bytes:
    """The encoded detail view, cached on the record until it next changes."""
    encoded = record.detail_json
    if encoded is None:
        encoded = record.detail_json = dumps(detail_view(record))
    return encoded


def create_response(record: ServerRecord) -> dict[str, Any]:
    """The ``201`` body of a create: the full object plus the provisioning ``message``."""
    body = detail_view(record)
    body["message"] = CREATE_MESSAGE
    return body


def action_result(record: ServerRecord, message: str) -> dict[str, Any]:
    """The ``200`` body of start/stop/reboot, exactly as in the reference."""
    return {
        "status": "success",
        "message": message,
        "server": {"id": record.id, "name": record.name, "status": record.status},
    }
