"""Extensions come from the installed wheels, are installed once per home, then loaded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hospital_sdk.errors import StoreError
from hospital_sdk.store.extensions import (
    REQUIRED,
    bundled_extension,
    install_extensions,
    load_extensions,
)


def test_bundled_binaries_match_the_duckdb_version() -> None:
    for name in REQUIRED:
        path = bundled_extension(name)
        assert path.is_file()
        assert path.parent.name == f"v{duckdb.__version__}"
    with pytest.raises(StoreError, match="unknown store extension 'spatial'"):
        bundled_extension("spatial")


def connection(directory: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"extension_directory": str(directory),
                                  "autoinstall_known_extensions": False})


def test_install_once_then_load_offline(tmp_path: Path) -> None:
    directory = tmp_path / "extensions"
    directory.mkdir()
    with connection(directory) as duck:
        install_extensions(duck, directory)
        load_extensions(duck)
        loaded = dict(duck.execute("SELECT extension_name, loaded FROM duckdb_extensions()")
                      .fetchall())
        assert all(loaded[name] for name in REQUIRED)
    installed = sorted(directory.rglob("*.duckdb_extension"))
    assert [p.name for p in installed] == ["ducklake.duckdb_extension",
                                           "sqlite_scanner.duckdb_extension"]
    stamps = [p.stat().st_mtime_ns for p in installed]
    with connection(directory) as duck:
        install_extensions(duck, directory)  # already there: nothing copied again
        load_extensions(duck)
    assert [p.stat().st_mtime_ns for p in installed] == stamps


def test_a_damaged_install_is_replaced(tmp_path: Path) -> None:
    directory = tmp_path / "extensions"
    directory.mkdir()
    with connection(directory) as duck:
        install_extensions(duck, directory)
    target = next(directory.rglob("ducklake.duckdb_extension"))
    target.write_bytes(b"truncated")
    with connection(directory) as duck:
        install_extensions(duck, directory)
        load_extensions(duck)
    assert target.stat().st_size == bundled_extension("ducklake").stat().st_size
