"""The public API is 100% typed, as ``pyright --verifytypes`` measures it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.release

ROOT = Path(__file__).resolve().parents[2]


def _pyright() -> str:
    """The pyright executable next to this interpreter, else on PATH; skip if neither."""
    here = Path(sys.executable).with_name("pyright")
    found = str(here) if here.exists() else shutil.which("pyright")
    if found is None:
        pytest.skip(
            "pyright is not installed (it comes with the dev extra: pip install -e '.[dev]')"
        )
    return found


def test_the_public_api_is_completely_typed() -> None:
    pyright = _pyright()
    # pyright finds the installed packages through the active virtual environment; make
    # it the one running this test, whether or not it was activated.
    env = {
        **os.environ,
        "VIRTUAL_ENV": sys.prefix,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    command = [pyright, "--verifytypes", "vpsorg", "--ignoreexternal", "--outputjson"]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
    except OSError as exc:  # e.g. pyright's Node.js runtime cannot be found or fetched
        pytest.skip(f"pyright cannot run here: {exc}")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.skip(f"pyright cannot run here:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    completeness = report["typeCompleteness"]
    assert completeness["pyTypedPath"], "pyright found no py.typed: is vpsorg installed here?"
    flagged = [
        f"{symbol['name']}: {diagnostic['message'].splitlines()[0]}"
        for symbol in completeness["symbols"]
        for diagnostic in symbol["diagnostics"]
        if diagnostic["severity"] == "error"
    ]
    score = completeness["completenessScore"]
    assert score == 1.0 and not flagged, (
        f"type completeness is {score:.1%}; pyright flags:\n" + "\n".join(flagged)
    )
