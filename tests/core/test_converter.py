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
from vpsorg import _converter
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


# -- what the strict decoder refuses: the lenient twins, then the rules -----------------

NEW = {"status": "migrating", "created_at": "2025-01-10T14:30:00"}  # a new status, a naive time
UTC_1430 = datetime(2025, 1, 10, 14, 30, tzinfo=timezone.utc)


def _by_every_path(data: dict[str, Any]) -> list[Server]:
    """``data`` decoded by each entry point: bytes, a dict, a page, a bare page, a list."""
    raw = json.dumps(data).encode()
    return [
        structure_json(raw, Server),
        structure(data, Server),
        structure_page(json.dumps({"results": [data]}).encode(), Server)[3][0],
        structure_page(json.dumps([data]).encode(), Server)[3][0],
        structure_many([data], Server)[0],
    ]


@pytest.mark.parametrize("base", [DETAIL_12345, SUMMARY_12345], ids=["detail", "summary"])
@pytest.mark.parametrize(
    "change",
    [{"status": "migrating"}, {"created_at": "2025-01-10T14:30:00"}, NEW],
    ids=["new-status", "naive", "both"],
)
def test_what_the_fast_decoder_refuses_is_decoded_with_the_rules_on_every_path(
    base: dict[str, Any], change: dict[str, str]
) -> None:
    data = {**base, **change}
    for server in _by_every_path(data):
        assert type(server) is Server
        assert server.id == base["id"] and server.plan == structure(base, Server).plan
        if "status" in change:
            assert server.status == "migrating" and type(server.status) is str
        else:
            assert server.status is ServerStatus.ACTIVE
        if "created_at" in change:
            assert server.created_at == UTC_1430
        assert server.created_at.tzinfo is not None and server.updated_at.tzinfo is not None


def test_a_page_with_one_new_status_decodes_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    servers = [{**SUMMARY_12345, "id": i} for i in range(1, 6)]
    servers[2] = {**servers[2], **NEW}
    lenient: list[object] = []  # the servers that took the lenient path
    promote = _converter._promote

    def watched(value: Any) -> Any:
        if type(value) is _converter._lenient(Server):
            lenient.append(value.id)
        return promote(value)

    monkeypatch.setattr(_converter, "_promote", watched)
    for body in ({"count": 5, "next": "https://x/?page=2", "results": servers}, servers):
        lenient.clear()
        count, next_url, _, results = structure_page(json.dumps(body).encode(), Server)
        assert lenient == [3]  # the refused server alone took the lenient path
        assert [s.id for s in results] == [1, 2, 3, 4, 5]
        assert all(type(s) is Server for s in results)
        assert [type(s.status) for s in results] == [ServerStatus] * 2 + [str] + [ServerStatus] * 2
        assert results[2].status == "migrating" and results[2].created_at == UTC_1430
        if type(body) is dict:
            assert (count, next_url) == (5, "https://x/?page=2")
    assert structure_many(servers, Server) == results


def test_an_action_results_server_with_a_new_status_is_kept() -> None:
    server: dict[str, object] = {"id": 1, "name": "a", "status": "x"}
    data = {"status": "success", "message": "m", "server": server}
    for result in (
        structure_json(json.dumps(data).encode(), ActionResult),
        structure(data, ActionResult),
    ):
        assert type(result) is ActionResult and type(result.server) is vpsorg.ServerRef
        assert result.server.status == "x" and type(result.server.status) is str
        assert result == ActionResult("success", "m", vpsorg.ServerRef(1, "a", "x"))
    known = {**data, "server": {**server, "status": "starting"}}
    assert structure_json(json.dumps(known).encode(), ActionResult).server.status is (
        ServerStatus.STARTING
    )


def test_decoded_models_equal_and_hash_as_the_ones_a_user_builds() -> None:
    for change in ({}, NEW):
        data = {**DETAIL_12345, **change}
        built = Server(
            **{
                **{k: v for k, v in data.items() if k not in ("plan", "os", "resource_usage")},
                "plan": vpsorg.Plan(**data["plan"]),
                "os": vpsorg.OperatingSystem(**data["os"]),
                "resource_usage": vpsorg.ResourceUsage(**data["resource_usage"]),
                "created_at": datetime.fromisoformat(data["created_at"].replace("Z", "+00:00")),
                "updated_at": datetime.fromisoformat(data["updated_at"].replace("Z", "+00:00")),
            }
        )
        for server in _by_every_path(data):
            assert server == built and hash(server) == hash(built)
            assert type(server.status) is type(built.status)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "12"}, "Server.id: expected an integer, got string"),
        ({"status": 3}, "Server.status: expected a string, got number"),
        ({"created_at": "2025-01-10"}, "Server.created_at: not an RFC 3339 timestamp"),
        ({"plan": None}, "Server.plan"),
    ],
)
def test_a_body_the_lenient_twin_refuses_too_names_the_field_as_before(
    change: dict[str, object], message: str
) -> None:
    # Beside a new status and a naive time, which alone would decode.
    data = {**DETAIL_12345, **NEW, **change}
    pattern = message.replace(".", r"\.")
    with pytest.raises(DecodeError, match=pattern):
        structure_json(json.dumps(data).encode(), Server)
    with pytest.raises(DecodeError, match=pattern):
        structure(data, Server)
    action = {
        "status": "success",
        "message": "m",
        "server": {"id": "1", "name": "a", "status": "x"},
    }
    with pytest.raises(DecodeError, match=r"ActionResult\.server\.id: expected an integer"):
        structure_json(json.dumps(action).encode(), ActionResult)


def test_a_page_names_the_server_the_twin_refuses_not_the_one_with_a_new_status() -> None:
    servers = [{**SUMMARY_12345, **NEW}, SUMMARY_12345, {**SUMMARY_12345, "status": None}]
    message = r"results\[2\]\.status: expected a string, got null"
    with pytest.raises(DecodeError, match=message):
        structure_page(json.dumps({"results": servers}).encode(), Server)
    with pytest.raises(DecodeError, match=message):
        structure_page(json.dumps(servers).encode(), Server)
    with pytest.raises(DecodeError, match=r"^\[2\]\.status: expected a string, got null"):
        structure_many(servers, Server)
    # Refused by type before the end, then cut off: not JSON, whichever decoder saw it.
    with pytest.raises(NotJSONError):
        structure_page(json.dumps({"results": servers[:1]}).encode()[:-3], Server)
    with pytest.raises(NotJSONError):
        structure_json(json.dumps(servers[0]).encode()[:-3], Server)
