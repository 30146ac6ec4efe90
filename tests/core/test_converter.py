"""The converter: msgspec's fast path and cattrs' detailed path agree on every input."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vpsorg
from tests.conftest import DETAIL_12345, SUMMARY_12345
from vpsorg._converter import (
    DecodeError,
    NotJSONError,
    _detailed,
    structure,
    structure_json,
    structure_many,
    structure_page,
)
from vpsorg.models import ActionResult, Server, ServerStatus

PROPS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "active",
            "stopped",
            "migrating",
            "2025-01-10T14:30:00Z",
            "2025-01-10T14:30:00",
            "2025-01-10T14:30:00.123456+02:00",
            "2025-01-10",
            "2025-13-10T14:30:00Z",
            "12",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _mutate(base: dict[str, Any], path: list[str], value: object) -> dict[str, Any]:
    out = dict(base)
    if len(path) == 1:
        out[path[0]] = value
    else:
        inner = out.get(path[0])
        out[path[0]] = _mutate(inner if isinstance(inner, dict) else {}, path[1:], value)
    return out


FIELD_PATHS = [[key] for key in [*DETAIL_12345.keys(), "message", "extra"]] + [
    ["plan", "vcpus"],
    ["plan", "bandwidth"],
    ["os", "name"],
    ["resource_usage", "cpu_percent"],
    ["resource_usage", "disk_used"],
]

server_like = st.builds(
    _mutate,
    st.sampled_from([DETAIL_12345, SUMMARY_12345]),
    st.sampled_from(FIELD_PATHS),
    json_values,
)
maybe_deleted = st.builds(
    lambda base, key: {k: v for k, v in base.items() if k != key},
    st.sampled_from([DETAIL_12345, SUMMARY_12345]),
    st.sampled_from(list(DETAIL_12345)),
)


def _fast(raw: bytes, cls: type[Any]) -> tuple[str, object]:
    try:
        return ("ok", structure_json(raw, cls))
    except DecodeError:
        return ("error", None)


def _slow(raw: bytes, cls: type[Any]) -> tuple[str, object]:
    """cattrs' detailed converter over the parsed JSON: the reference."""
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return ("error", None)
    if type(data) is not dict:
        return ("error", None)
    try:
        return ("ok", _detailed.structure(data, cls))
    except Exception:
        return ("error", None)


@PROPS
@given(server_like | maybe_deleted | json_values)
def test_the_fast_path_and_the_detailed_path_agree(value: object) -> None:
    for data, cls in (
        (value, Server),
        ({"status": "success", "message": "m", "server": value}, ActionResult),
    ):
        raw = json.dumps(data).encode()
        fast, slow = _fast(raw, cls), _slow(raw, cls)
        assert fast == slow, (data, fast, slow)
        if fast[0] == "ok":  # and the dict entry point gives the same model
            assert structure(data, cls) == fast[1]


@PROPS
@given(st.lists(server_like, max_size=4), st.booleans())
def test_a_page_decodes_as_its_servers_do(values: list[dict[str, Any]], bare: bool) -> None:
    body: object = values if bare else {"count": len(values), "next": None, "results": values}
    raw = json.dumps(body).encode()
    each = [_slow(json.dumps(v).encode(), Server) for v in values]
    try:
        count, next_url, previous, results = structure_page(raw, Server)
    except DecodeError:
        assert any(outcome == "error" for outcome, _ in each)
    else:
        assert results == [model for _, model in each]
        assert next_url is None and previous is None
        assert count == (None if bare else len(values))


@PROPS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_ever_raise_decode_error(raw: bytes) -> None:
    for call in (lambda: structure_json(raw, Server), lambda: structure_page(raw, Server)):
        with contextlib.suppress(DecodeError):
            call()


def test_a_known_status_is_the_member_and_an_unknown_one_a_plain_str() -> None:
    known = structure_json(json.dumps(DETAIL_12345).encode(), Server)
    assert known.status == "active" and known.status == ServerStatus.ACTIVE
    assert known.status is ServerStatus.ACTIVE
    unknown = structure_json(json.dumps({**DETAIL_12345, "status": "migrating"}).encode(), Server)
    assert unknown.status == "migrating" and type(unknown.status) is str
    built = vpsorg.ServerRef(id=1, name="a", status="stopped")
    assert built.status is ServerStatus.STOPPED


def test_timestamps_are_aware_and_naive_ones_are_utc() -> None:
    data = {
        **DETAIL_12345,
        "created_at": "2025-01-10T14:30:00",
        "updated_at": "2025-01-10T16:30:00+02:00",
    }
    server = structure_json(json.dumps(data).encode(), Server)
    assert server.created_at == datetime(2025, 1, 10, 14, 30, tzinfo=timezone.utc)
    assert server.updated_at == datetime(2025, 1, 10, 14, 30, tzinfo=timezone.utc)
    assert server.updated_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "12"}, "Server.id: expected an integer, got string"),
        ({"id": True}, "Server.id: expected an integer, got boolean"),
        ({"id": 1.0}, "Server.id: expected an integer, got number"),
        ({"status": 3}, "Server.status: expected a string, got number"),
        ({"backups_enabled": 1}, "Server.backups_enabled: expected a boolean, got number"),
        ({"created_at": "2025-01-10"}, "Server.created_at: not an RFC 3339 timestamp"),
        ({"plan": None}, "Server.plan"),
        (
            {"plan": {**DETAIL_12345["plan"], "vcpus": "2"}},
            "Server.plan.vcpus: expected an integer",
        ),
    ],
)
def test_errors_name_the_field(change: dict[str, object], message: str) -> None:
    raw = json.dumps({**DETAIL_12345, **change}).encode()
    with pytest.raises(DecodeError, match=message.replace(".", r"\.")):
        structure_json(raw, Server)
    with pytest.raises(DecodeError, match=message.replace(".", r"\.")):
        structure({**DETAIL_12345, **change}, Server)


def test_a_missing_field_and_a_non_object_are_named() -> None:
    data = {k: v for k, v in DETAIL_12345.items() if k != "name"}
    with pytest.raises(DecodeError, match=r"Server\.name: required field missing"):
        structure_json(json.dumps(data).encode(), Server)
    with pytest.raises(DecodeError, match="expected a JSON object, got array"):
        structure_json(b"[]", Server)
    with pytest.raises(NotJSONError):
        structure_json(b"{nope", Server)
    with pytest.raises(DecodeError, match=r"\[1\]: expected a JSON object"):
        structure_many([SUMMARY_12345, 3], Server)


@pytest.mark.parametrize("field", ["ipv6_address", "backups_enabled", "resource_usage", "message"])
def test_a_field_the_json_leaves_out_is_none_and_one_it_carries_is_kept(field: str) -> None:
    # The list view leaves these out and the detail view carries them: absent, a field is
    # its default None; present, its value wins, in the detail view, a page, and __init__.
    detail = {**DETAIL_12345, "message": "Provisioning takes 2 minutes"}
    carried = structure_json(json.dumps(detail).encode(), Server)
    assert getattr(carried, field) is not None
    assert structure_json(json.dumps(SUMMARY_12345).encode(), Server).plan.bandwidth is None
    assert carried.plan.bandwidth == DETAIL_12345["plan"]["bandwidth"]
    left_out = {k: v for k, v in detail.items() if k != field}
    page = json.dumps({"results": [left_out, detail]}).encode()
    _, _, _, (without, with_) = structure_page(page, Server)
    assert getattr(without, field) is None
    assert getattr(with_, field) == getattr(carried, field)
    changes: dict[str, Any] = {field: None}
    assert attrs.evolve(carried, **changes) == without
    rebuilt = Server(**{a.name: getattr(carried, a.name) for a in attrs.fields(Server)})
    assert rebuilt == carried


def test_integers_are_accepted_for_floats_and_unknown_keys_ignored() -> None:
    usage = {**DETAIL_12345["resource_usage"], "cpu_percent": 7, "new_metric": 1}
    server = structure_json(json.dumps({**DETAIL_12345, "resource_usage": usage}).encode(), Server)
    assert server.resource_usage is not None
    assert server.resource_usage.cpu_percent == 7.0
    assert type(server.resource_usage.cpu_percent) is float


def test_structure_page_reads_every_envelope() -> None:
    servers = [SUMMARY_12345, {**SUMMARY_12345, "id": 2}]
    full = {"count": 9, "next": "https://x/?page=2", "previous": "", "results": servers}
    count, next_url, previous, results = structure_page(json.dumps(full).encode(), Server)
    assert (count, next_url, previous) == (9, "https://x/?page=2", None)
    assert [s.id for s in results] == [12345, 2]
    assert structure_page(json.dumps({"count": 2, "results": servers}).encode(), Server)[:3] == (
        2,
        None,
        None,
    )
    assert len(structure_page(json.dumps(servers).encode(), Server)[3]) == 2
    assert structure_page(b'{"results": [], "next": ""}', Server) == (None, None, None, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"count": "2", "results": []}', "'count' is not an integer"),
        (b'{"count": true, "results": []}', "'count' is not an integer"),
        (b'{"count": 2}', "the list response has no 'results'"),
        (b'{"next": 3, "results": []}', "'next' is not a URL string"),
        (b'{"results": {}}', "'results' is not a JSON array"),
        (b'"text"', "the list response is not a JSON object"),
        (
            json.dumps({"results": [SUMMARY_12345] * 3 + [{**SUMMARY_12345, "status": None}]}),
            r"results\[3\]\.status: expected a string, got null",
        ),
        (json.dumps([SUMMARY_12345, 5]), r"results\[1\]: expected a JSON object, got number"),
    ],
)
def test_structure_page_names_the_problem(body: bytes | str, message: str) -> None:
    raw = body.encode() if isinstance(body, str) else body
    with pytest.raises(DecodeError, match=message):
        structure_page(raw, Server)
