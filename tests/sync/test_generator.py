"""``scripts/generate_sync.py``: the committed output is current, and ``--check`` catches
every kind of drift. Drift is made in a temporary copy, never in the working tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .generator import ROOT, SCRIPT, load

gen = load()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A project root holding a copy of vpsorg/_async and vpsorg/_sync."""
    for package in ("_async", "_sync"):
        shutil.copytree(
            ROOT / "vpsorg" / package,
            tmp_path / "vpsorg" / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
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
        "An :class:`~vpsorg.AsyncServerList`: ``async for`` over it, or ``await`` it for\n"
        "a list. Use it as an async context manager, or call :meth:`aclose`::\n\n"
        "    async with vpsorg.AsyncClient() as client:\n"
        "        server = await client.servers.get(1)\n\n"
        "Args:\n    token: the token.\n    transport: a transport\n        on two lines.\n"
        "    retry: the policy.",
        ["transport"],
    )
    assert doc == (
        "A :class:`~vpsorg.ServerIterator`: ``for`` over it, or call ``to_list()`` for\n"
        "a list. Use it as a context manager, or call :meth:`close`::\n\n"
        "    with vpsorg.Client() as client:\n"
        "        server = client.servers.get(1)\n\n"
        "Args:\n    token: the token.\n    retry: the policy."
    )
