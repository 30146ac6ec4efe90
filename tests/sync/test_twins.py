"""Every public method of the async client has a blocking twin with the same signature
and docstring (annotations and docstrings compared after the generator's name mapping),
and every generated body passes each parameter on."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

import vpsorg
import vpsorg._blocking

from .generator import ROOT, load

gen = load()

#: (async class, blocking class, constructor parameters the blocking one does not take,
#: or None when the constructors differ by design: a resource is made by its client)
PAIRS: list[tuple[type, type, set[str] | None]] = [
    (vpsorg.AsyncClient, vpsorg.Client, {"transport"}),
    (vpsorg.AsyncServers, vpsorg.Servers, None),
    (vpsorg.AsyncServersWithRawResponse, vpsorg.ServersWithRawResponse, None),
]


def public_members(cls: type, *, init: bool = False) -> dict[str, Any]:
    """Public methods and properties defined by ``cls`` (plus the context-manager
    dunders, and ``__init__`` when asked), by name."""
    found: dict[str, Any] = {}
    for name, member in vars(cls).items():
        public = not name.startswith("_") or name in gen.METHOD_MAP or (init and name == "__init__")
        if public and (inspect.isfunction(member) or isinstance(member, property)):
            found[name] = member
    return found


def _signature(member: Any, drop: set[str], mapped: bool) -> tuple[Any, ...]:
    function = member.fget if isinstance(member, property) else member
    assert callable(function)
    signature = inspect.signature(function)

    def text(annotation: Any) -> str:
        value = str(annotation)
        return gen.sync_names(value) if mapped else value

    parameters = [
        (p.name, p.kind, p.default, text(p.annotation))
        for p in signature.parameters.values()
        if p.name not in drop
    ]
    return (parameters, text(signature.return_annotation))


def differences(async_cls: type, sync_cls: type, drop: set[str] | None) -> list[str]:
    """Every way ``sync_cls`` fails to mirror ``async_cls``; empty when it is a twin."""
    problems = []
    for name, member in public_members(async_cls, init=drop is not None).items():
        sync_name = gen.METHOD_MAP.get(name, name)
        twin = inspect.getattr_static(sync_cls, sync_name, None)
        if twin is None:
            problems.append(f"{sync_cls.__name__}.{sync_name}: missing")
            continue
        if isinstance(member, property) != isinstance(twin, property):
            problems.append(f"{sync_cls.__name__}.{sync_name}: property or not differs")
            continue
        dropped = drop if name == "__init__" and drop is not None else set()
        expected = _signature(member, dropped, mapped=True)
        actual = _signature(twin, set(), mapped=False)
        if expected != actual:
            problems.append(f"{sync_cls.__name__}.{sync_name}: {actual} != {expected}")
        async_doc = inspect.getdoc(member)
        expected_doc = gen.sync_docstring(async_doc) if async_doc is not None else None
        if inspect.getdoc(twin) != expected_doc:
            problems.append(f"{sync_cls.__name__}.{sync_name}: the docstring differs")
    return problems


@pytest.mark.parametrize(("async_cls", "sync_cls", "drop"), PAIRS, ids=lambda p: str(p))
def test_every_public_async_method_has_a_blocking_twin(
    async_cls: type, sync_cls: type, drop: set[str] | None
) -> None:
    assert differences(async_cls, sync_cls, drop) == []


def test_the_servers_methods_are_all_there() -> None:
    twins = set(public_members(vpsorg.Servers))
    assert set(public_members(vpsorg.AsyncServers)) <= twins
    assert {"list", "get", "wait_for", "create_many", "wait_for_many"} <= twins


def test_the_check_catches_a_missing_or_different_twin() -> None:
    class Doctored(vpsorg.Servers):
        def get(self, server_id: int, extra: int = 0) -> vpsorg.Server:
            """Something else."""
            raise NotImplementedError

        reboot_many = None  # type: ignore[assignment]

    found = differences(vpsorg.AsyncServers, Doctored, None)
    assert any(p.startswith("Doctored.get:") and "extra" in p for p in found)
    assert any(p == "Doctored.get: the docstring differs" for p in found)
    assert "Doctored.reboot_many: missing" in found


def test_class_docstrings_start_with_the_async_ones() -> None:
    for async_cls, sync_cls, drop in PAIRS:
        expected = gen.sync_docstring(inspect.getdoc(async_cls) or "", drop or ())
        assert (inspect.getdoc(sync_cls) or "").startswith(expected)
    client_doc = inspect.getdoc(vpsorg.Client) or ""
    assert "transport" not in client_doc
    assert "The blocking VPS.org client." in client_doc
    assert "progress" in (inspect.getdoc(vpsorg.Servers) or "")


def test_docstring_examples_use_the_sync_spelling() -> None:
    for _, sync_cls, _ in PAIRS:
        for name, member in public_members(sync_cls).items():
            doc = inspect.getdoc(member) or ""
            for word in ("await ", "async for", "async with", "AsyncServerList", "aclose"):
                assert word not in doc, f"{sync_cls.__name__}.{name}: {word!r}"


def _generated_methods(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def test_every_generated_call_passes_every_parameter_by_name() -> None:
    checked = 0
    for module in ("_servers", "_client", "_raw"):
        for node in _generated_methods(ROOT / "vpsorg" / "_sync" / f"{module}.py"):
            params = {a.arg for a in [*node.args.args, *node.args.kwonlyargs]} - {"self"}
            if not params or node.name == "__exit__":
                continue
            passed = {
                keyword.arg
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
                for keyword in call.keywords
            }
            assert passed == params, f"{module}.{node.name}"
            checked += 1
    # the 19 servers methods, Client.__init__, with_options and the 9 raw-response ones
    assert checked == 30


def test_the_pairs_are_every_class_the_generator_writes() -> None:
    plan = gen.discover(ROOT)
    written = {(t.async_class, t.sync_class) for t in plan.targets}
    assert written == {(a.__name__, s.__name__) for a, s, _ in PAIRS}
    for async_cls, _, drop in PAIRS:
        target = next(t for t in plan.targets if t.async_class == async_cls.__name__)
        assert target.drop_params == (drop or set())


def test_every_async_iterable_has_a_blocking_twin_with_its_methods() -> None:
    plan = gen.discover(ROOT)
    assert plan.iterables >= {"AsyncPaginator", "AsyncServerList"}
    for name in plan.iterables:
        async_cls = getattr(importlib.import_module("vpsorg._async._pagination"), name)
        twin = getattr(vpsorg._blocking, plan.names[name])
        assert issubclass(twin, vpsorg._blocking.Paginator)
        public = {n for n in dir(async_cls) if not n.startswith("_")}
        assert public <= set(dir(twin)), f"{twin.__name__} lacks {public - set(dir(twin))}"
    assert vpsorg.ServerIterator is vpsorg._blocking.ServerIterator
