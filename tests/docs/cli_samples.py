"""The sample sessions of docs/cli.md, produced by running their commands.

Every ```console block of docs/cli.md whose first line is ``$ vpsorg ...`` is a sample.
Its ``$`` lines run in order, in process, against a fresh simulator that
``VPSORG_BASE_URL`` and ``VPSORG_API_TOKEN`` point at, with ``-o table`` (what a
terminal gets) unless the command says otherwise; ``$ echo $?`` prints the exit code
of the command before. An HTML comment on the line before the fence sets the scene:

- ``<!-- cli-sample: action-delay=30 -->``: simulator options (``provision-delay``,
  ``action-delay``, ``seed``);
- ``<!-- cli-sample: no-simulator -->``: nothing listens at the base URL;
- ``<!-- cli-sample: not run (why) -->``: shown as written (a server that runs until
  Ctrl-C, a pipe into ``jq``).

``python -m tests.docs.cli_samples`` rewrites the blocks with what the commands print
now; ``tests/docs/test_cli_samples.py`` fails when a block differs from a fresh run,
after :func:`normalise` has blanked what changes from run to run (ports, times, rates,
request ids).
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cli.md"
BLOCK = re.compile(
    r"(?:<!-- cli-sample: (?P<scene>[^>]*?) -->\n)?```console\n(?P<body>\$ vpsorg .*?)```",
    re.S,
)
#: Terminal width for the tables: what fits the page.
COLUMNS = 100


@attrs.frozen
class Sample:
    """One console block: where it is, its scene, what it shows."""

    start: int
    end: int
    scene: str
    body: str

    @property
    def commands(self) -> list[str]:
        return [line[2:] for line in self.body.splitlines() if line.startswith("$ ")]

    @property
    def runs(self) -> bool:
        return not self.scene.startswith("not run")

    def options(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for word in self.scene.split():
            if "=" in word:
                key, value = word.split("=", 1)
                found[key.replace("-", "_")] = float(value) if "." in value else int(value)
        return found


def samples(text: str) -> list[Sample]:
    """The sample blocks of ``text``, in order."""
    return [
        Sample(m.start("body"), m.end("body"), (m["scene"] or "").strip(), m["body"])
        for m in BLOCK.finditer(text)
    ]


_PORT = re.compile(r"(127\.0\.0\.1:|localhost:|--port )\d+")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
#: The port the page shows, for a reader: any port the run used is printed as this one.
PAGE_PORT = "8080"
_DECIMAL = re.compile(r"(?<![\d.,])\d[\d,]*\.\d+(?![\d.])")  # 0.15, 1,025.3
_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_REQUESTS = re.compile(r"\d[\d,]* API requests")
#: The demo's rate-limit line: how many requests fall within one second is the clock's.
_RATE_LIMITED = re.compile(r"\d+ 429s met, \d+ pauses taken")


def normalise(text: str) -> str:
    """``text`` without what changes between runs: ports, timestamps, decimals (times,
    rates), request ids, request totals (the waits poll on a clock), the demo's 429 and
    pause counts (the clock's too), and the column widths and rule lengths those move."""
    text = _PORT.sub(r"\1PORT", text)
    text = _TIMESTAMP.sub("TIMESTAMP", text)
    text = _HEX_ID.sub("REQUEST-ID", text)
    text = _REQUESTS.sub("N API requests", text)
    text = _RATE_LIMITED.sub("N 429s met, N pauses taken", text)
    text = _DECIMAL.sub("N.N", text)
    lines = []
    for line in text.splitlines():
        line = re.sub(r"─+", "─", line)
        line = re.sub(r"[ \t]+", " ", line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


@contextmanager
def _scene(sample: Sample) -> Iterator[dict[str, str]]:
    """The environment for the sample's commands, with its simulator running."""
    from vpsorg.simulator import serve_in_thread

    if "no-simulator" in sample.scene:
        with serve_in_thread(port=0) as gone:  # a port that was just free, and is again
            url = gone.base_url
        yield {"VPSORG_BASE_URL": url, "VPSORG_API_TOKEN": "vpsorg-demo-token"}
        return
    options = {"port": 0, "provision_delay": 0.2, "action_delay": 0.2, **sample.options()}
    with serve_in_thread(**options) as sim:
        yield {"VPSORG_BASE_URL": sim.base_url, "VPSORG_API_TOKEN": sim.token}


def run(sample: Sample) -> str:
    """The block as the commands print it now (``$`` lines included)."""
    from click.testing import CliRunner

    from vpsorg.cli import cli

    out: list[str] = []
    with _scene(sample) as env:
        runner = CliRunner(env={**env, "COLUMNS": str(COLUMNS), "TERM": "dumb"})
        code = 0
        for command in sample.commands:
            out.append(f"$ {command}")
            if command == "echo $?":
                out.append(str(code))
                continue
            args = shlex.split(command)[1:]
            if args[-2:] == ["|", "cat"]:
                args = args[:-2]  # piped: what a run without a terminal prints
            elif "-o" not in args and "--output" not in args:
                args = ["-o", "table", *args]
            result = runner.invoke(cli, args, catch_exceptions=False)
            code = result.exit_code
            printed = "\n".join(line.rstrip() for line in result.output.rstrip("\n").splitlines())
            if printed:
                out.append(printed)
    return "\n".join(out) + "\n"


def stale(text: str) -> list[str]:
    """Each sample of ``text`` whose block differs from a fresh run, with both."""
    problems = []
    for sample in samples(text):
        if not sample.runs:
            continue
        fresh = run(sample)
        if normalise(fresh) != normalise(sample.body):
            line = text.count("\n", 0, sample.start) + 1
            problems.append(
                f"docs/cli.md:{line}: the block differs from a fresh run "
                f"(python -m tests.docs.cli_samples rewrites it). Fresh run:\n{fresh}"
            )
    return problems


def main() -> int:
    text = PAGE.read_text(encoding="utf-8")
    for sample in reversed(samples(text)):
        if sample.runs:
            fresh = _PORT.sub(rf"\g<1>{PAGE_PORT}", run(sample))
            text = text[: sample.start] + fresh + text[sample.end :]
    PAGE.write_text(text, encoding="utf-8")
    print(f"rewrote the samples of {PAGE.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
