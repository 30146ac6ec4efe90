"""docs/cli.md's sample sessions are what the commands print (see tests/docs/cli_samples.py).

Each block is run afresh against a simulator and compared with the page after
normalising what changes between runs (ports, times, rates, request ids, request
totals). A block that is not run says why in its ``cli-sample: not run (...)`` comment.
"""

from __future__ import annotations

import pytest

from tests.docs import cli_samples

TEXT = cli_samples.PAGE.read_text(encoding="utf-8")
SAMPLES = cli_samples.samples(TEXT)


def _line(sample: cli_samples.Sample) -> int:
    return TEXT.count("\n", 0, sample.start) + 1


def test_the_page_has_samples_and_says_why_some_are_not_run() -> None:
    run = [s for s in SAMPLES if s.runs]
    assert len(run) >= 5
    for sample in SAMPLES:
        if not sample.runs:
            assert sample.scene.startswith("not run (") and sample.scene.endswith(")"), (
                f"docs/cli.md:{_line(sample)}: say why the sample is not run"
            )


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES if s.runs], ids=lambda s: f"cli.md:{_line(s)}"
)
def test_a_sample_is_what_the_command_prints(sample: cli_samples.Sample) -> None:
    fresh = cli_samples.run(sample)
    assert cli_samples.normalise(fresh) == cli_samples.normalise(sample.body), (
        f"docs/cli.md:{_line(sample)} differs from a fresh run "
        f"(python -m tests.docs.cli_samples rewrites it):\n{fresh}"
    )


def test_normalising_keeps_what_matters() -> None:
    page = "error: HTTP 404 for GET http://127.0.0.1:8080/api/v1/servers/1/: Not found."
    assert cli_samples.normalise(page) == cli_samples.normalise(page.replace("8080", "41181"))
    assert cli_samples.normalise(page) != cli_samples.normalise(page.replace("404", "500"))
    row = "  create   25   17    8      0.09 s   268.2"
    assert cli_samples.normalise(row) == cli_samples.normalise(
        "  create   25   17    8      0.13 s   98.6"
    )
    assert cli_samples.normalise(row) != cli_samples.normalise(
        "  create   25   16    9      0.09 s   268.2"
    )
    assert cli_samples.normalise("delete 25 0.02 s 1,250.0") == cli_samples.normalise(
        "delete 25 0.11 s 221.4"
    )
    assert "203.0.113.10" in cli_samples.normalise("12345 web-server-01 203.0.113.10")
