"""Every task a contributor needs: ``nox -l`` lists them."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "generate_check", "tests"]
nox.options.reuse_existing_virtualenvs = True
# A Python that is not installed is skipped with a line saying so, not an error.
nox.options.error_on_missing_interpreters = False

#: Every supported Python; the classifiers in pyproject.toml list exactly these.
PYTHON = ["3.10", "3.11", "3.12", "3.13"]


def _pyenv_interpreters() -> None:
    """Let nox find pyenv's interpreters (``python3.10`` ...) without pyenv's shims.

    pyenv's shims run only the versions ``pyenv global``/``local`` selects; the binaries
    live in ``$PYENV_ROOT/versions/<version>/bin``. A ``.nox/_pythons`` directory of
    links named ``python3.X`` (nothing else, so ``python`` itself still resolves as
    before) goes first on PATH, one link per supported minor, to its newest installed
    patch release.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    links = Path(__file__).resolve().parent / ".nox" / "_pythons"
    for minor in PYTHON:
        candidates = sorted(
            (p for p in versions.glob(f"{minor}.*") if (p / "bin" / f"python{minor}").exists()),
            key=lambda p: tuple(int(x) if x.isdigit() else 0 for x in p.name.split(".")),
        )
        if not candidates:
            continue
        links.mkdir(parents=True, exist_ok=True)
        # Made aside and renamed over the old one: two nox runs at once both succeed.
        temporary = links / f".python{minor}.{os.getpid()}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(candidates[-1] / "bin" / f"python{minor}")
        os.replace(temporary, links / f"python{minor}")
    if links.is_dir():
        os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])


_pyenv_interpreters()


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run the test suite (in the current environment; CI installs '.[test]' first)."""
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def tests_matrix(session: nox.Session) -> None:
    """Run the test suite on every supported Python that is installed (pyenv's too).

    ``nox -s tests_matrix-3.10`` runs one; arguments after ``--`` go to pytest, e.g.
    ``nox -s tests_matrix -- -n 2 -x``.
    """
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


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation (mkdocs build --strict: a broken link or reference fails).

    It runs in a virtualenv of its own with the docs extra, so ``pipx run nox -s docs``
    works in a bare clone; arguments after ``--`` go to mkdocs (``-- --site-dir /tmp/x``).
    """
    session.install("-e", ".[docs]")
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
