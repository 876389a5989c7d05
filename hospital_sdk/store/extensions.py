"""DuckDB extensions of the store, installed offline from their Python wheels.

DuckDB's own ``INSTALL ducklake`` downloads from the internet. The store instead takes the
signed extension binaries shipped inside the ``duckdb-extension-ducklake`` and
``duckdb-extension-sqlite-scanner`` wheels (built for exactly one DuckDB version), installs them
into ``<home>/extensions`` (the connection's ``extension_directory``) once, and loads them.

Examples
--------
>>> from hospital_sdk.store.extensions import bundled_extension
>>> bundled_extension("ducklake").name
'ducklake.duckdb_extension'
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

from hospital_sdk.errors import StoreError
from hospital_sdk.store.writer import FileLock

REQUIRED: tuple[str, ...] = ("ducklake", "sqlite_scanner")
"""Extensions every store connection loads: the DuckLake format and its SQLite catalog."""

_WHEELS: dict[str, tuple[str, str]] = {
    # extension name -> (importable module of the wheel, distribution name for messages)
    "ducklake": ("duckdb_extension_ducklake", "duckdb-extension-ducklake"),
    "sqlite_scanner": ("duckdb_extension_sqlite_scanner", "duckdb-extension-sqlite-scanner"),
}


def bundled_extension(name: str) -> Path:
    """Return the ``.duckdb_extension`` file shipped in the wheel of extension ``name``.

    Parameters
    ----------
    name
        One of :data:`REQUIRED`.

    Raises
    ------
    StoreError
        The wheel is not installed, or it was built for another DuckDB version than the one
        imported (DuckDB refuses to load such a binary).
    """
    if name not in _WHEELS:
        raise StoreError(f"unknown store extension {name!r}; expected one of {sorted(_WHEELS)}")
    module_name, dist = _WHEELS[name]
    wanted = f"{dist}=={duckdb.__version__}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StoreError(f"DuckDB extension {name!r} is not installed: install {wanted}") from exc
    root = Path(module.__file__ or "").parent
    found = sorted(root.rglob(f"{name}.duckdb_extension"))
    matching = [p for p in found if p.parent.name == f"v{duckdb.__version__}"]
    if not matching:
        built_for = ", ".join(sorted({p.parent.name for p in found})) or "no binary"
        raise StoreError(
            f"{dist} in {root} holds {built_for}, but duckdb is {duckdb.__version__}: "
            f"install {wanted}"
        )
    return matching[0]


def _is_current(duck: duckdb.DuckDBPyConnection, name: str, source: Path) -> bool:
    """Whether ``name`` is installed in the extension directory from ``source``, same size."""
    row = duck.execute(
        "SELECT installed, install_path, installed_from FROM duckdb_extensions() "
        "WHERE extension_name = ?",
        [name],
    ).fetchone()
    if row is None or not row[0] or row[2] != str(source):
        return False
    installed = Path(row[1])
    return installed.is_file() and installed.stat().st_size == source.stat().st_size


def install_extensions(duck: duckdb.DuckDBPyConnection, directory: Path, *,
                       timeout: float = 120.0) -> None:
    """Install :data:`REQUIRED` from their wheels into ``directory`` unless already there.

    ``directory`` must be the connection's ``extension_directory``. Installing is guarded by a
    lock file in that folder, so two processes opening a new home at once do not write the same
    file together. An extension counts as installed when DuckDB reports it installed from the
    same wheel file with the same size (a reinstalled wheel of another build is picked up).
    """
    sources = {name: bundled_extension(name) for name in REQUIRED}
    if all(_is_current(duck, n, p) for n, p in sources.items()):
        return
    with FileLock(directory / "install.lock", timeout, purpose="extension install lock"):
        for name, source in sources.items():
            if not _is_current(duck, name, source):
                duck.execute(f"FORCE INSTALL '{_sql_text(source)}'")


def load_extensions(duck: duckdb.DuckDBPyConnection) -> None:
    """Load :data:`REQUIRED` (installed by :func:`install_extensions`) into ``duck``."""
    for name in REQUIRED:
        duck.execute(f"LOAD {name}")


def _sql_text(path: Path | str) -> str:
    """``path`` escaped for use inside a single-quoted SQL string literal."""
    return str(path).replace("'", "''")
