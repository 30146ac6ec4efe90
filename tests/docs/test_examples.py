"""Every ```python block of the documentation (and of the README) runs on the simulator.

Each block runs on its own, in a fresh namespace, against a fresh simulator whose URL and
token are in ``VPSORG_BASE_URL`` and ``VPSORG_API_TOKEN``, exactly as a reader would run
it. Top-level ``await`` is allowed (as in ``python -m asyncio`` and notebooks).

A block that defines ``test_*`` functions is a pytest example: each function is called
with the fixtures it names, as the vpsorg pytest plugin would provide them
(``vpsorg_client``, ``vpsorg_async_client``, ``vpsorg_simulator``); a
``vpsorg_simulator_options`` fixture defined in the same block is honoured.

A ``print(...)  # text`` line promises output: ``text`` must appear in what the block
printed (a trailing ``...`` stands for the rest of the line).

Blocks in ```sh, ```console or ```text fences are not run. A block whose fence names a
file (```python title="tasks.py"```) is a whole program, as a reader would save and run
it (a script with its ``__main__`` guard, a Celery tasks module): it is not run here but
by tests/docs/test_recipes.py, as that file in a process of its own (:data:`SCRIPTS`).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vpsorg.simulator import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python(?P<info>[^\n]*)\n(?P<code>.*?)^(?P=indent)```", re.M | re.S
)
TITLE = re.compile(r'\btitle="(?P<file>[\w.-]+\.py)"')
PROMISE = re.compile(r"^[ \t]*print\(.*\)[ \t]+# (.+)$", re.M)
SIMULATOR_DEFAULTS: dict[str, Any] = {"port": 0, "provision_delay": 0.05, "action_delay": 0.05}


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _all_blocks() -> list[tuple[str, str | None, str]]:
    """Every ```python block: where it is, the file it names (or None), its code."""
    found = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            code = textwrap.dedent(match.group("code"))
            title = TITLE.search(match.group("info"))
            file = title.group("file") if title else None
            found.append((f"{page.relative_to(ROOT).as_posix()}:{line}", file, code))
    return found


BLOCKS = [(where, code) for where, file, code in _all_blocks() if file is None]
#: The blocks that are whole programs: (where, the file name they give, code).
SCRIPTS = [(where, file, code) for where, file, code in _all_blocks() if file is not None]


def test_the_docs_have_examples() -> None:
    assert DOCS.is_dir(), "the docs/ directory is missing"
    assert len(BLOCKS) >= 20


def test_python_examples_use_the_python_fence() -> None:
    """A ```py or ```pycon block would silently escape this test: use ```python."""
    stray = re.compile(r"^[ \t]*```(?:py|py3|python3|pycon|ipython)\b", re.M)
    offenders = [
        f"{page.relative_to(ROOT).as_posix()}:{text.count(chr(10), 0, match.start()) + 1}"
        for page in _pages()
        for text in [page.read_text(encoding="utf-8")]
        for match in stray.finditer(text)
    ]
    assert not offenders, f"use ```python so the example runs: {offenders}"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """A function that starts a simulator and points VPSORG_* at it; stopped at the end."""
    started: list[Any] = []

    def start(**options: Any) -> Any:
        context = serve_in_thread(**{**SIMULATOR_DEFAULTS, **options})
        sim = context.__enter__()
        started.append(context)
        monkeypatch.setenv("VPSORG_API_TOKEN", sim.token)
        monkeypatch.setenv("VPSORG_BASE_URL", sim.base_url)
        return sim

    # An example may configure logging; leave the process as the example found it.
    root, library = logging.getLogger(), logging.getLogger("vpsorg")
    saved = (root.level, list(root.handlers), library.level)
    try:
        yield start
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        library.setLevel(saved[2])
        for context in reversed(started):
            context.__exit__(None, None, None)


def _run_block(code: str, name: str, namespace: dict[str, Any]) -> None:
    compiled = compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(compiled, namespace))
    else:
        exec(compiled, namespace)


def _call_test(function: Callable[..., Any], sim: Any) -> None:
    """Call one ``test_*`` function with the vpsorg fixtures it asks for."""
    import vpsorg

    wanted = inspect.signature(function).parameters
    unknown = set(wanted) - {"vpsorg_client", "vpsorg_async_client", "vpsorg_simulator"}
    assert not unknown, f"{function.__name__} wants fixtures the docs harness lacks: {unknown}"

    if inspect.iscoroutinefunction(function):

        async def run() -> None:
            kwargs: dict[str, Any] = {"vpsorg_simulator": sim}
            async with vpsorg.AsyncClient(token=sim.token, base_url=sim.base_url) as client:
                kwargs["vpsorg_async_client"] = client
                await function(**{k: v for k, v in kwargs.items() if k in wanted})

        asyncio.run(run())
        return
    assert "vpsorg_async_client" not in wanted, "an async client needs an async test"
    kwargs = {"vpsorg_simulator": sim} if "vpsorg_simulator" in wanted else {}
    if "vpsorg_client" in wanted:
        with vpsorg.Client(token=sim.token, base_url=sim.base_url) as client:
            function(**kwargs, vpsorg_client=client)
    else:
        function(**kwargs)


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_example_runs(
    where: str,
    code: str,
    environment: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment()
    namespace: dict[str, Any] = {"__name__": f"docs_example_{where}"}
    _run_block(code, where, namespace)
    options = namespace.get("vpsorg_simulator_options")
    options = getattr(options, "__wrapped__", options)
    for name, function in list(namespace.items()):
        if name.startswith("test_") and callable(function):
            # Like the pytest plugin: a fresh simulator for every test function.
            _call_test(function, environment(**(options() if options else {})))
    out = capsys.readouterr().out
    for promised in PROMISE.findall(code):
        expected = promised.strip()
        if expected.endswith("..."):
            expected = expected[:-3].rstrip(" ,")
        assert expected in out, f"{where}: expected {expected!r} in the output:\n{out}"
