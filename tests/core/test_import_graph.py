"""No import cycles inside vpsorg, not even under ``TYPE_CHECKING``.

Dependencies point one way (resources -> pipeline -> transport; all -> models/_converter
-> _retry/_config/_exceptions). A cycle that only exists for the type checker still ties
two modules together, so the graph is read from the source (every ``import`` statement,
``if TYPE_CHECKING:`` blocks and function bodies included), and each module is also
imported first, on its own, in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import vpsorg

PACKAGE_DIR = Path(vpsorg.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """Every vpsorg module that ``name`` imports, wherever the statement stands."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, is_package, node.level, node.module)
            # `from pkg import sub` imports the submodule; `from mod import name` the module.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target in modules and target != name:
                yield target


def import_graph() -> dict[str, set[str]]:
    """The explicit import edges between vpsorg modules (implicit parent packages left out)."""
    modules = _modules()
    return {name: set(_imports(name, path, modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_under_type_checking() -> None:
    graph = import_graph()
    assert "vpsorg._async._pipeline" in graph["vpsorg._async._servers"]
    assert "vpsorg._async._transport" in graph["vpsorg._async._pipeline"]


def test_no_import_cycles_between_vpsorg_modules() -> None:
    assert cycles(import_graph()) == []


def test_exceptions_and_models_do_not_import_each_other() -> None:
    # BulkOperationError lives beside BulkResult; _exceptions names only models.servers.
    graph = import_graph()
    assert not {t for t in graph["vpsorg._exceptions"] if t.startswith("vpsorg.models")} - {
        "vpsorg.models.servers"
    }
    assert "vpsorg._exceptions" not in graph["vpsorg.models.servers"]


def test_the_core_never_imports_the_simulator_or_the_cli() -> None:
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith(("vpsorg.simulator", "vpsorg.cli")):
            continue
        assert not {t for t in targets if t.startswith(("vpsorg.simulator", "vpsorg.cli"))}, name


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    names = sorted(_modules())
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'vpsorg' or m.startswith('vpsorg.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
