"""Fixtures of the store tests: lakehouse homes that skip re-installing the extensions."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hospital_sdk.store import Lakehouse


@pytest.fixture(scope="session")
def extensions_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``extensions/`` of a home opened once: the installed DuckLake and SQLite extensions."""
    home = tmp_path_factory.mktemp("template")
    Lakehouse.open(home).close()
    return home / "extensions"


@pytest.fixture
def home(tmp_path: Path, extensions_template: Path) -> Path:
    """A new, empty lakehouse folder whose extensions are hard links to the template's.

    Installing copies ~70 MB per home; linking keeps each test's open well under a second.
    Lock files are not linked, so homes never share a lock.
    """
    path = tmp_path / "lake"
    shutil.copytree(extensions_template, path / "extensions", copy_function=os.link,
                    ignore=shutil.ignore_patterns("*.lock"))
    return path


@pytest.fixture
def lake(home: Path) -> Iterator[Lakehouse]:
    with Lakehouse.open(home) as lh:
        yield lh
