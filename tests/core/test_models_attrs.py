"""The models the API sends are msgspec Structs that keep every attrs promise users rely on."""

from __future__ import annotations

import copy
import gc
import json
import pickle
import weakref
from datetime import datetime, timezone

import attrs
import cattrs
import msgspec
import pytest
from attrs.exceptions import FrozenInstanceError

import vpsorg
from tests.conftest import DETAIL_12345, SUMMARY_12345
from vpsorg._converter import SharedParts, structure_json, structure_page
from vpsorg.models import ActionResult, OperatingSystem, Plan, ResourceUsage, ServerPage, ServerRef

RESPONSE_MODELS = (
    vpsorg.Server,
    Plan,
    OperatingSystem,
    ResourceUsage,
    ServerRef,
    ActionResult,
    ServerPage,
)


def detail() -> vpsorg.Server:
    return structure_json(json.dumps(DETAIL_12345).encode(), vpsorg.Server)


@pytest.mark.parametrize("model", RESPONSE_MODELS)
def test_attrs_sees_every_field_with_its_default_and_type(model: type[object]) -> None:
    assert attrs.has(model)
    names = [a.name for a in attrs.fields(model)]
    assert names == [f.name for f in msgspec.structs.fields(model)]  # type: ignore[arg-type]
    assert names == list(attrs.fields_dict(model))


def test_attrs_metadata_says_what_is_required_and_what_defaults_to_none() -> None:
    fields = attrs.fields(vpsorg.Server)
    default: object = fields.id.default
    assert default is attrs.NOTHING and fields.id.type is int
    assert fields.message.default is None
    assert fields.plan.type is Plan


def test_asdict_evolve_and_astuple_work_as_on_attrs_classes() -> None:
    server = detail()
    plain = attrs.asdict(server)
    assert plain["plan"] == attrs.asdict(server.plan)
    assert plain["status"] == "active" and plain["created_at"] == server.created_at
    renamed = attrs.evolve(server, name="web-2")
    assert renamed.name == "web-2" and renamed.id == server.id and server.name != "web-2"
    assert attrs.evolve(server, status="stopped").status is vpsorg.ServerStatus.STOPPED
    assert attrs.astuple(server)[0] == server.id


def test_models_are_frozen_the_attrs_way() -> None:
    server = detail()
    with pytest.raises(FrozenInstanceError):
        server.name = "other"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del server.plan
    with pytest.raises(AttributeError):  # FrozenInstanceError is an AttributeError
        server.plan.name = "Big"  # type: ignore[misc]
    assert server.name == DETAIL_12345["name"]


def test_equal_models_are_equal_and_hash_alike() -> None:
    one, two = detail(), detail()
    assert one == two and one is not two
    assert hash(one) == hash(two)
    assert len({one, two, attrs.evolve(one, name="x")}) == 2
    assert one != attrs.asdict(one)  # type: ignore[comparison-overlap]


def test_models_pickle_and_copy_and_stay_out_of_the_garbage_collector() -> None:
    server = detail()
    # gc=False (see vpsorg/models/_base.py): never tracked, so no weak references.
    assert not gc.is_tracked(server) and not gc.is_tracked(server.resource_usage)
    with pytest.raises(TypeError):
        weakref.ref(server)
    assert pickle.loads(pickle.dumps(server)) == server
    assert copy.deepcopy(server) == server and copy.copy(server) == server
    assert pickle.loads(pickle.dumps(server)).status is vpsorg.ServerStatus.ACTIVE


def test_the_constructor_applies_the_same_rules_as_decoding() -> None:
    server = detail()
    naive = datetime(2024, 1, 1, 12, 0)
    built = vpsorg.Server(
        id=1,
        name="a",
        status="active",
        hostname=None,
        ip_address=None,
        location="us-west",
        plan=server.plan,
        os=server.os,
        created_at=naive,
        updated_at=naive,
    )
    assert built.status is vpsorg.ServerStatus.ACTIVE
    assert built.created_at.tzinfo is timezone.utc
    assert built.resource_usage is None and built.message is None
    assert attrs.evolve(built, status="resizing").status == "resizing"
    # Positional arguments, evolve, pickle and a ServerRef go through the same rules.
    positional = vpsorg.Server(
        1, "a", "active", None, None, "us-west", server.plan, server.os, naive, naive
    )
    assert positional == built and hash(positional) == hash(built)
    evolved = attrs.evolve(server, status="stopped", updated_at=naive)
    assert evolved.status is vpsorg.ServerStatus.STOPPED
    assert evolved.updated_at == naive.replace(tzinfo=timezone.utc)
    assert type(attrs.evolve(built, status="resizing").status) is str
    assert pickle.loads(pickle.dumps(built)) == built
    assert ServerRef(id=1, name="a", status="rebooting").status is vpsorg.ServerStatus.REBOOTING
    assert type(ServerRef(1, "a", "resizing").status) is str


def test_attrs_sees_the_types_a_call_accepts_even_once_cattrs_resolved_them() -> None:
    # The decoder's types are stricter (a ServerStatus, an aware datetime); attrs and
    # cattrs see what the constructor takes, as before the decoder checked them itself.
    attrs.resolve_types(vpsorg.Server)
    fields = attrs.fields(vpsorg.Server)
    assert fields.status.type is str and fields.created_at.type is datetime
    assert attrs.fields(ServerRef).status.type is str
    converter = cattrs.Converter()
    converter.register_structure_hook(datetime, lambda value, _: value)
    plain = {**attrs.asdict(detail()), "status": "resizing"}
    assert converter.structure(plain, vpsorg.Server).status == "resizing"


def test_cattrs_unstructures_and_structures_them() -> None:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    server = detail()
    plain = converter.unstructure(server)
    assert plain["plan"]["name"] == server.plan.name
    assert converter.structure(plain, vpsorg.Server) == server


def test_a_page_of_list_view_servers_leaves_their_plan_and_os_to_reference_counting() -> None:
    # Part of why these are Structs (see vpsorg/models/_base.py): nested models holding
    # only strings and numbers are not tracked by the garbage collector, on the lenient
    # path too (the twins share them).
    new = {**SUMMARY_12345, "status": "migrating", "created_at": "2025-01-10T14:30:00"}
    for results in ([SUMMARY_12345] * 3, [SUMMARY_12345, new, SUMMARY_12345]):
        page = json.dumps({"results": results}).encode()
        servers = structure_page(page, vpsorg.Server)[3]
        assert not any(gc.is_tracked(s.plan) or gc.is_tracked(s.os) for s in servers)
        # The servers are gc=False (see _base). A page holds a mutable list, so a user
        # could make a cycle with it: it stays tracked.
        assert not any(gc.is_tracked(s) for s in servers)
        assert gc.is_tracked(ServerPage(count=None, next=None, previous=None, results=servers))


def test_shared_parts_makes_equal_plans_images_and_locations_one_object() -> None:
    shared = SharedParts()
    one, two = detail(), detail()
    other = structure_json(
        json.dumps({**DETAIL_12345, "plan": {**DETAIL_12345["plan"], "vcpus": 64}}).encode(),
        vpsorg.Server,
    )
    assert one.plan is not two.plan and one.os is not two.os
    for server in (one, two, other):
        assert shared(server) is server
    assert two.plan is one.plan and two.os is one.os and two.location is one.location
    assert two == detail()  # nothing a user can see changed
    assert other.plan is not one.plan and other.plan.vcpus == 64 and other.os is one.os
    # Anything else passes through untouched, a user-built odd part included.
    assert shared("x") == "x"
    odd = attrs.evolve(one, plan=["not", "a", "plan"])  # type: ignore[arg-type]
    kept: object = shared(odd).plan
    assert kept == ["not", "a", "plan"]


async def test_get_many_keeps_servers_that_share_their_equal_parts(
    api: vpsorg.AsyncClient,
) -> None:
    result = await api.servers.get_many([12345, 12345, 12345])
    plans = {id(outcome.value.plan) for outcome in result.succeeded}
    assert len(result.succeeded) == 3 and len(plans) == 1
