"""Every task a contributor needs: ``nox -l`` lists them."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "generate_check", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run the test suite (in the current environment; CI installs '.[test]' first)."""
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def tests_matrix(session: nox.Session) -> None:
    """Run the test suite on every supported Python that is installed."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.run("mypy", "--strict", "vpsorg")


@nox.session(python=False)
def generate(session: nox.Session) -> None:
    """Regenerate the blocking client (vpsorg/_sync) from the async one."""
    session.run("python", "scripts/generate_sync.py")


@nox.session(python=False)
def generate_check(session: nox.Session) -> None:
    """Fail when vpsorg/_sync differs from what the generator writes now."""
    session.run("python", "scripts/generate_sync.py", "--check")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Run the benchmarks and print the tables (pass --quick for a short run)."""
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python=False)
def demo(session: nox.Session) -> None:
    """Run the fleet demo on the embedded simulator."""
    session.run("vpsorg", "demo", *session.posargs)


def _this_environment() -> dict[str, str]:
    """Environment variables that make tools find the packages of nox's own interpreter."""
    import os
    import sys

    bin_dir = os.path.dirname(sys.executable)
    return {"VIRTUAL_ENV": sys.prefix, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


@nox.session(python=False)
def docs(session: nox.Session) -> None:
    """Build the documentation (mkdocs build --strict: a broken link or reference fails)."""
    env = {**_this_environment(), "NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", *session.posargs, env=env)


@nox.session(python=False)
def verifytypes(session: nox.Session) -> None:
    """pyright --verifytypes: every symbol of the public API must have a known type."""
    session.run("pyright", "--verifytypes", "vpsorg", "--ignoreexternal", env=_this_environment())
