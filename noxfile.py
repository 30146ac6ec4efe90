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
    """mypy --strict over the package and the tests."""
    session.run("mypy", "--strict", "vpsorg")
    session.run("mypy", "--strict", "tests")


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


@nox.session(python=False)
def docs(session: nox.Session) -> None:
    """Build the documentation (mkdocs build --strict: a broken link or reference fails)."""
    quiet = {"NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    session.run("python", "-m", "mkdocs", "build", "--strict", *session.posargs, env=quiet)


@nox.session(python=False)
def verifytypes(session: nox.Session) -> None:
    """pyright --verifytypes: every symbol of the public API must have a known type."""
    # pyright reads the packages of the active virtual environment: name it explicitly,
    # so that it checks the vpsorg this session's python imports.
    prefix = str(session.run("python", "-c", "import sys; print(sys.prefix)", silent=True))
    command = ["python", "-m", "pyright", "--verifytypes", "vpsorg", "--ignoreexternal"]
    session.run(*command, env={"VIRTUAL_ENV": prefix.strip()})


@nox.session(python=PYTHON[0])
def tests_lowest(session: nox.Session) -> None:
    """Run the suite on the lowest version of every dependency pyproject.toml declares.

    Each ``name>=floor`` of ``[project] dependencies`` becomes ``name==floor`` in a
    constraints file, so a floor that is too low (an API the code uses that the floor
    lacks) fails here instead of on a user's machine. The test tools are not pinned.
    """
    import pathlib
    import re

    try:
        import tomllib
    except ImportError:  # nox itself running on Python 3.10
        import tomli as tomllib

    project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
    pins = []
    for requirement in project["dependencies"]:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*>=\s*([^,;\s]+)", requirement)
        if match:
            pins.append(f"{match.group(1)}=={match.group(2)}")
    constraints = pathlib.Path(session.create_tmp()) / "lowest.txt"
    constraints.write_text("\n".join(pins) + "\n")
    session.log("pinned: " + ", ".join(pins))
    session.install("-c", str(constraints), "-e", ".[test]")
    session.run("python", "-m", "pytest", "-p", "no:randomly", *session.posargs)
