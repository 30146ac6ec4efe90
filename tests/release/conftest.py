"""The release checks: the package as users get it, built, installed and type-checked."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "release: packaging checks (build, twine, a fresh virtual environment, pyright); "
        "they need PyPI for dependencies; deselect with -m 'not release' when offline",
    )
