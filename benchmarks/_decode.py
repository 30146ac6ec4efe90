"""Case 4: the CPU cost of turning one server's JSON into a ``vpsorg.Server``.

Over the same detail-view payload, fetched from the simulator: the SDK's one-pass decoder
from the raw bytes (what responses use, and what the target is about), its converter
from a decoded ``dict`` and from bytes via the JSON library, and plain ``dict`` access of
every field a ``Server`` has, from a ``dict`` and from bytes. Plus one list page of 50
servers, per server: ``structure_page`` from the bytes (what the paginator uses),
``structure_many`` over decoded results, the same page with one server in a status vpsorg
does not know (which takes the lenient path: refused, decoded again into lenient twins,
promoted in Python), and the JSON library alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import msgspec
import requests

import vpsorg
from benchmarks._env import json_loads
from benchmarks._target import Target
from vpsorg._converter import structure, structure_json, structure_many, structure_page

__all__ = ["DECODERS", "fetch_samples", "time_decoder"]


def fetch_samples(target: Target) -> tuple[bytes, bytes]:
    """The detail view of the first server and the first list page, as the server sends them."""
    headers = target.headers
    with requests.Session() as session:
        detail = session.get(target.detail_url(target.server_ids[0]), headers=headers, timeout=10)
        page = session.get(target.list_url, headers=headers, timeout=10)
    detail.raise_for_status()
    page.raise_for_status()
    if len(json_loads(page.content)["results"]) != target.page_size:
        raise RuntimeError(f"the first list page does not hold {target.page_size} servers")
    return detail.content, page.content


def _touch(data: dict[str, Any]) -> tuple[object, ...]:
    """Read every field a Server has, the nested ones included, as plain dict access."""
    plan = data["plan"]
    os_ = data["os"]
    usage = data.get("resource_usage")
    return (
        data["id"],
        data["name"],
        data["status"],
        data["hostname"],
        data["ip_address"],
        data["location"],
        (plan["id"], plan["name"], plan["vcpus"], plan["memory"], plan["storage"]),
        plan.get("bandwidth"),
        (os_["id"], os_["name"]),
        data["created_at"],
        data["updated_at"],
        data.get("ipv6_address"),
        data.get("backups_enabled"),
        None
        if usage is None
        else (
            usage["cpu_percent"],
            usage["memory_used"],
            usage["disk_used"],
            usage["bandwidth_used"],
        ),
        data.get("message"),
    )


#: name -> (what it does, builds the per-call function from (detail bytes, page bytes),
#: items per call).
DECODERS: dict[str, tuple[str, Callable[[bytes, bytes], Callable[[], object]], int]] = {
    "structure": (
        "vpsorg structure(dict) -> Server",
        lambda detail, _: _bind(structure, json_loads(detail), vpsorg.Server),
        1,
    ),
    "loads_structure": (
        "vpsorg JSON bytes -> Server",
        lambda detail, _: _bind(lambda b: structure(json_loads(b), vpsorg.Server), detail),
        1,
    ),
    "structure_json": (
        "vpsorg JSON bytes -> Server in one pass (msgspec), what responses use",
        lambda detail, _: _bind(structure_json, detail, vpsorg.Server),
        1,
    ),
    "structure_json_new_status": (
        "the same, for a server in a status vpsorg does not know (the lenient path)",
        lambda detail, _: _bind(structure_json, _with_new_status(detail), vpsorg.Server),
        1,
    ),
    "structure_many": (
        "vpsorg structure_many(page of 50), per server",
        lambda _, page: _bind(structure_many, json_loads(page)["results"], vpsorg.Server),
        50,
    ),
    "structure_page": (
        "vpsorg structure_page(page bytes), envelope + 50 servers in one pass, per server",
        lambda _, page: _bind(structure_page, page, vpsorg.Server),
        50,
    ),
    "structure_page_new_status": (
        "the same page with one server in a status vpsorg does not know (the lenient "
        "path), per server",
        lambda _, page: _bind(structure_page, _with_new_status(page), vpsorg.Server),
        50,
    ),
    "loads_page": (
        "JSON page bytes -> dicts (the JSON library alone), per server",
        lambda _, page: _bind(json_loads, page),
        50,
    ),
    "dict_access": (
        "plain dict access of the same fields",
        lambda d, _: _bind(_touch, json_loads(d)),
        1,
    ),
    "loads_dict_access": (
        "JSON bytes -> dict, same field access",
        lambda detail, _: _bind(lambda b: _touch(json_loads(b)), detail),
        1,
    ),
}


def _with_new_status(body: bytes) -> bytes:
    """A server's detail view, or the first server of a page, in a status the API may add
    later (``"migrating"``)."""
    data = json_loads(body)
    server = data["results"][0] if "results" in data else data
    server["status"] = "migrating"
    return msgspec.json.encode(data)


def _bind(fn: Callable[..., object], *args: Any) -> Callable[[], object]:
    return lambda: fn(*args)


def time_decoder(name: str, detail: bytes, page: bytes, iterations: int) -> float:
    """Microseconds per server for ``iterations`` servers through one decoder (GC paused)."""
    _, build, items = DECODERS[name]
    iterations = max(1, iterations // items)
    call = build(detail, page)
    call()  # build caches (cattrs hooks, orjson key cache) outside the timing
    enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(iterations):
            call()
        elapsed = time.perf_counter() - started
    finally:
        if enabled:
            gc.enable()
    return elapsed / (iterations * items) * 1e6
