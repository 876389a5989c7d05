"""Fixtures of the ingest tests: the test contract and a temporary lakehouse per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hospital_sdk.config import Settings
from hospital_sdk.model.contract import Contract
from hospital_sdk.store import Lakehouse
from tests.ingest.corpus import CONTRACT


@pytest.fixture
def contract() -> Contract:
    return CONTRACT


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "lake", token_key="test-token-key")


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lakehouse]:
    with Lakehouse.open(tmp_path / "lake") as lh:
        yield lh


@pytest.fixture
def fresh_lake(tmp_path: Path) -> Iterator[Lakehouse]:
    """An empty lakehouse, for modules whose ``lake`` fixture is a shared, loaded one."""
    with Lakehouse.open(tmp_path / "fresh_lake") as lh:
        yield lh
