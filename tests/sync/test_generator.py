"""``scripts/generate_sync.py``: the committed output is current, and ``--check`` catches
every kind of drift. Drift is made in a temporary copy, never in the working tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import vpsorg
from vpsorg._blocking import Paginator
from vpsorg.simulator import Simulator

from .generator import ROOT, SCRIPT, load

gen = load()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A project root holding a copy of vpsorg/_async, vpsorg/_sync and vpsorg/_blocking.py."""
    for package in ("_async", "_sync"):
        shutil.copytree(
            ROOT / "vpsorg" / package,
            tmp_path / "vpsorg" / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "vpsorg" / "_blocking.py", tmp_path / "vpsorg" / "_blocking.py")
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_the_committed_output_is_current() -> None:
    done = run("--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_check_on_an_untouched_copy_passes(copy: Path) -> None:
    assert run("--check", "--root", str(copy)).returncode == 0


def test_check_fails_with_a_diff_on_an_edited_line(copy: Path) -> None:
    path = copy / "vpsorg" / "_sync" / "_servers.py"
    text = path.read_text()
    path.write_text(text.replace("Power on a stopped server.", "Power on a server."))
    done = run("--check", "--root", str(copy))
    assert done.returncode == 1
    assert "--- vpsorg/_sync/_servers.py (committed)" in done.stdout
    assert "+++ vpsorg/_sync/_servers.py (generated)" in done.stdout
    assert '-        """Power on a server.' in done.stdout
    assert '+        """Power on a stopped server.' in done.stdout
    assert "is stale" in done.stderr


@pytest.mark.parametrize("edit", ["append", "drop_last", "blank_line"])
def test_check_compares_whole_files(
    copy: Path, edit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy / "vpsorg" / "_sync" / "_client.py"
    lines = path.read_text().splitlines(keepends=True)
    if edit == "append":
        lines.append("# a stray line\n")
    elif edit == "drop_last":
        lines.pop()
    else:
        lines.insert(5, "\n")
    path.write_text("".join(lines))
    assert gen.check(copy) == 1
    assert "_client.py (generated)" in capsys.readouterr().out


def test_check_flags_a_file_the_generator_does_not_write(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = copy / "vpsorg" / "_sync" / "_pagination.py"
    stray.write_text('"""Hand-written."""\n')
    assert gen.check(copy) == 1
    assert "_pagination.py: not written by the generator" in capsys.readouterr().out
    gen.write(copy)
    assert not stray.exists()
    assert gen.check(copy) == 0


def test_a_change_to_the_async_source_makes_the_output_stale(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = copy / "vpsorg" / "_async" / "_servers.py"
    text = source.read_text()
    old = "    async def get(self, server_id: int) -> Server:\n"
    assert old in text
    new = "    async def get(self, server_id: int, *, fresh: bool = False) -> Server:\n"
    source.write_text(text.replace(old, new))
    assert gen.check(copy) == 1
    out = capsys.readouterr().out
    assert "+    def get(self, server_id: int, *, fresh: bool = False) -> Server:" in out
    assert (
        "+        return self._runner.call(self._async.get, server_id=server_id, fresh=fresh)"
        in out
    )
    gen.write(copy)
    assert gen.check(copy) == 0


def test_an_unknown_kind_of_method_stops_the_generator(copy: Path) -> None:
    source = copy / "vpsorg" / "_async" / "_servers.py"
    text = source.read_text()
    anchor = "    # ------------------------------------------------------------------ waiting\n"
    extra = "    def url_of(self, server_id: int) -> str:\n        return self._url(server_id)\n\n"
    source.write_text(text.replace(anchor, extra + anchor))
    done = run("--root", str(copy))
    assert done.returncode == 2
    assert "a plain method returning str" in done.stderr
    assert "url_of" not in (copy / "vpsorg" / "_sync" / "_servers.py").read_text()


def test_docstring_mapping() -> None:
    doc = gen.sync_docstring(
        "An [`AsyncServerList`][vpsorg.AsyncServerList]: ``async for`` over it, or ``await`` it\n"
        "for a list. Use it as an async context manager, or call\n"
        "[`aclose()`][vpsorg.AsyncClient.aclose]:\n\n"
        "```python\n"
        "async with vpsorg.AsyncClient() as client:\n"
        "    server = await client.servers.get(1)\n"
        "```\n\n"
        "An `AsyncServers` and an ``AsyncClient``.\n\n"
        "Args:\n    token: the token.\n    transport: a transport\n        on two lines.\n"
        "    retry: the policy.",
        ["transport"],
    )
    assert doc == (
        "A [`ServerIterator`][vpsorg.ServerIterator]: ``for`` over it, or call ``to_list()``\n"
        "for a list. Use it as a context manager, or call\n"
        "[`close()`][vpsorg.Client.close]:\n\n"
        "```python\n"
        "with vpsorg.Client() as client:\n"
        "    server = client.servers.get(1)\n"
        "```\n\n"
        "A `Servers` and a ``Client``.\n\n"
        "Args:\n    token: the token.\n    retry: the policy."
    )


def test_the_rules_find_every_class_without_a_table() -> None:
    plan = gen.discover(ROOT)
    assert {(t.module, t.async_class, t.sync_class) for t in plan.targets} >= {
        ("_client", "AsyncClient", "Client"),
        ("_servers", "AsyncServers", "Servers"),
    }
    client = next(t for t in plan.targets if t.async_class == "AsyncClient")
    assert client.is_client
    assert client.base == "BlockingClient"
    assert client.drop_params == {"transport"}  # typed with the AsyncTransport protocol
    servers = next(t for t in plan.targets if t.async_class == "AsyncServers")
    assert servers.base == "BlockingResource[AsyncServers]"
    # Async iterables map to the hand-written twins in vpsorg/_blocking.py.
    assert plan.names["AsyncPaginator"] == "Paginator"
    assert plan.names["AsyncServerList"] == "ServerIterator"  # its declared async_twin
    assert plan.homes["Paginator"] == plan.homes["ServerIterator"] == "vpsorg._blocking"
    assert "AsyncTransport" in plan.async_only
    assert not hasattr(gen, "NAME_MAP")
    assert not hasattr(gen, "WRAPPERS")
    assert not hasattr(gen, "TARGETS")


#: A resource the generator has never seen: one new module, and nothing else changes.
WIDGETS = '''\
"""Widgets: a resource defined by the generator's tests (served by the servers routes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import Server, ServerPage
from ._pagination import AsyncPaginator

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = ["AsyncWidgets"]


class AsyncWidgets:
    """Everything you can do with widgets. Reach it as ``client.widgets``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def list(self, *, status: str | None = None) -> AsyncPaginator[Server]:
        """List every widget.

        Returns:
            An [`AsyncPaginator`][vpsorg.AsyncPaginator]: ``async for`` over it, or
                ``await`` it for a list.
        """
        params = {} if status is None else {"status": status}
        url = self._pipeline.url("servers/")
        return AsyncPaginator(self._pipeline, url, params, item_type=Server, page_type=ServerPage)

    async def name_of(self, widget_id: int) -> str:
        """The name of one widget."""
        raw = await self._pipeline.request_json("GET", self._pipeline.url(f"servers/{widget_id}/"))
        assert isinstance(raw, dict)
        return str(raw["name"])
'''


def test_a_new_resource_module_is_generated_by_rule(copy: Path) -> None:
    files = gen.generate(copy, extra={"_widgets": WIDGETS})
    text = files[copy / "vpsorg" / "_sync" / "_widgets.py"]
    assert text.startswith(
        "# GENERATED by scripts/generate_sync.py from vpsorg/_async/_widgets.py: DO NOT EDIT."
    )
    assert "from .._async._widgets import AsyncWidgets\n" in text
    assert "from .._blocking import BlockingResource, Paginator\n" in text
    assert "from ..models import Server\n" in text
    assert "class Widgets(BlockingResource[AsyncWidgets]):\n" in text
    assert "    def list(self, *, status: str | None = None) -> Paginator[Server]:\n" in text
    assert "        return Paginator(self, self._async.list(status=status))\n" in text
    assert "A [`Paginator`][vpsorg.Paginator]: ``for`` over it, or\n" in text
    assert "call ``to_list()`` for a list." in text
    assert "    def name_of(self, widget_id: int) -> str:\n" in text
    assert "        return self._runner.call(self._async.name_of, widget_id=widget_id)\n" in text
    body = text.split("class Widgets", 1)[1].replace("AsyncWidgets", "")
    assert "await " not in body
    assert "async " not in body
    init = files[copy / "vpsorg" / "_sync" / "__init__.py"]
    assert "from ._widgets import Widgets\n" in init
    # The generated text passes the linters as written, and the rest is untouched.
    assert (
        files[copy / "vpsorg" / "_sync" / "_servers.py"]
        == gen.generate(copy)[copy / "vpsorg" / "_sync" / "_servers.py"]
    )


def test_a_new_module_on_disk_is_written_and_checked(copy: Path) -> None:
    (copy / "vpsorg" / "_async" / "_widgets.py").write_text(WIDGETS)
    assert gen.check(copy) == 1  # its blocking twin is missing
    gen.write(copy)
    assert (copy / "vpsorg" / "_sync" / "_widgets.py").exists()
    assert gen.check(copy) == 0


def test_the_generated_twin_works_against_the_simulator(
    copy: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = gen.generate(copy, extra={"_widgets": WIDGETS})[
        copy / "vpsorg" / "_sync" / "_widgets.py"
    ]
    async_widgets = _module("vpsorg._async._widgets", WIDGETS, monkeypatch)
    sync_widgets = _module("vpsorg._sync._widgets", text, monkeypatch)
    with vpsorg.Client(token=sim.token, base_url=sim.base_url) as client:
        widgets = sync_widgets.Widgets(client, async_widgets.AsyncWidgets(client._async._pipeline))
        assert widgets.name_of(12345) == "web-server-01"
        listing = widgets.list()
        assert isinstance(listing, Paginator)
        assert {"web-server-01", "db-server-01"} <= {server.name for server in listing}
        everything = widgets.list().to_list()
        assert all(isinstance(server, vpsorg.Server) for server in everything)
        assert len(everything) >= 2
        with pytest.raises(vpsorg.NotFoundError):
            widgets.name_of(999_999)


def _module(name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Execute ``text`` as the module ``name`` (a package-relative one), for this test."""
    module = ModuleType(name)
    module.__package__ = name.rsplit(".", 1)[0]
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module
