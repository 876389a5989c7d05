"""The landing folder's ``reported/`` entry forms, loaded into the lakehouse's raw layer.

A hospital's quality office fills the template of :func:`~.reported.write_template` and drops it
into ``<landing folder>/reported/`` (``.csv`` or ``.xlsx``; names starting with ``.``, ``_`` or
``~$`` — temporary and Excel lock files — are skipped; the source-file loader skips the folder,
see :data:`hospital_sdk.ingest.source_files.ENTRY_FOLDERS`). :func:`load_reported_folder`
reads every form against the catalog's reported indicators and keeps every row visible:

* accepted rows go to ``raw.reported_value`` (:func:`~.submissions.store_entries`: once per file
  content, so an unchanged file adds nothing; a corrected file is a new submission and the
  latest submission wins);
* rejected rows go to ``raw.reported_value_rejects`` (:data:`REJECTS_TABLE`: file, row, field,
  value, reason), holding the rejects of the *current* content of each file: a changed file
  replaces its earlier rejects, an unchanged one leaves them alone (the lakehouse's snapshots
  keep the earlier states);
* blank rows (not entered yet) are counted, never stored.

A form named ``reported_<period>`` (as the template is) is read against the indicator versions
in force in that period's year; any other name against the latest versions. Institutions are
checked against ``raw.institution`` when the lakehouse has it. A submission's time is the
file's modification time, so when several files are picked up in one run the one saved last
wins, whatever the names.

Examples
--------
>>> import tempfile
>>> from hospital_sdk.store import Lakehouse
>>> from hospital_sdk.indicators import load_catalog
>>> tmp = Path(tempfile.mkdtemp())
>>> _ = (tmp / "reported").mkdir()
>>> _ = (tmp / "reported" / "reported_2025.csv").write_text(
...     "institution_id,period,indicator_id,version,value\\n"
...     "H01,2025,emr_level,1,5\\nH01,2025,emr_level,1,9\\nH02,2025,emr_level,1,\\n")
>>> with Lakehouse.open(tmp / "lake") as lake:
...     first = load_reported_folder(lake, tmp / "reported", load_catalog())
...     again = load_reported_folder(lake, tmp / "reported", load_catalog())
>>> first.files[0].counts
{'rows_in': 3, 'accepted': 1, 'rejected': 1, 'blank': 1, 'stored': 1, 'rejects_stored': 1}
>>> first.rejected[["file", "row", "field", "reason"]].values.tolist()
[['reported_2025.csv', 3, 'value', 'value 9 is above the maximum 8 (level)']]
>>> again.metadata()["rows_stored_now"], again.metadata()["rejects_stored_now"]
(0, 0)
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import ReportedValueError, StoreError
from hospital_sdk.indicators.reported import (
    REJECTED_COLUMNS,
    REPORTED_TABLE,
    ReportedIndicator,
    entered_period,
)
from hospital_sdk.indicators.submissions import ReportedLoad, read_entries, store_entries
from hospital_sdk.store.catalog import CATALOG
from hospital_sdk.store.tables import append_rows, ident

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.indicators.catalog import Catalog
    from hospital_sdk.store import Lakehouse

__all__ = ["REJECTS_SCHEMA", "REJECTS_TABLE", "REPORTED_FOLDER", "ReportedFile",
           "ReportedFolder", "known_institutions", "load_reported_folder",
           "reported_indicators"]

REPORTED_FOLDER = "reported"
"""Sub-folder of the landing folder holding the filled entry forms."""
SUFFIXES = (".csv", ".xlsx")
REJECTS_TABLE = "reported_value_rejects"
"""Table of the rejected rows of every entry form, in the lakehouse's ``raw`` layer."""
REJECTS_SCHEMA = ibis.schema({
    "file": "!string", "row": "!int64", "field": "!string", "value": "string",
    "reason": "!string", "source_sha256": "!string", "read_at": "!timestamp('UTC')",
})
"""Columns of :data:`REJECTS_TABLE`: :data:`~.reported.REJECTED_COLUMNS` (``file`` is the file
name, as ``raw.reported_value.source_file``), the content's SHA-256 and when it was read."""
_FORM_NAME = re.compile(r"^reported_(.+)$")


def reported_indicators(catalog: Catalog, year: int | None = None,
                        ) -> dict[str, ReportedIndicator]:
    """The catalog's reported indicators by id, in the version in force in ``year`` (the latest
    version when ``year`` is ``None`` or none is in force then), as :func:`~.submissions.read_entries`
    and :func:`~.reported.write_template` take them.

    >>> from hospital_sdk.indicators import load_catalog
    >>> reported_indicators(load_catalog(), 2025)["emr_level"].rule.maximum
    8.0
    """
    chosen = catalog.latest() if year is None else catalog.in_force(year)
    return {i.id: ReportedIndicator(i.id, i.version, i.name_zh, i.name_en, i.reported)
            for i in chosen if i.kind == "reported" and i.reported is not None}


def known_institutions(lake: Lakehouse) -> list[str] | None:
    """Institution ids of ``raw.institution``, or ``None`` when the lakehouse has no such table
    (then institutions are not checked)."""
    if not lake.has_table("institution", "raw"):
        return None
    ids = lake.table("institution", "raw").institution_id.execute()
    return sorted({str(i) for i in ids.dropna()})


@dataclass(frozen=True, eq=False)
class ReportedFile:
    """One entry form of the folder: what was read and what was stored now.

    Attributes
    ----------
    name
        The file name (``raw.reported_value.source_file``, ``raw.reported_value_rejects.file``).
    load
        :func:`~.submissions.read_entries`' result: accepted, rejected and blank rows.
    stored
        Accepted rows added to ``raw.reported_value`` by this load (0 for a file already stored).
    rejects_stored
        Rejected rows written to :data:`REJECTS_TABLE` by this load (0 when unchanged).
    """

    name: str
    load: ReportedLoad
    stored: int
    rejects_stored: int

    @property
    def counts(self) -> dict[str, int]:
        """``rows_in, accepted, rejected, blank`` (``rows_in`` is their sum), ``stored`` and
        ``rejects_stored``."""
        return {**self.load.counts, "stored": self.stored, "rejects_stored": self.rejects_stored}


@dataclass(frozen=True)
class ReportedFolder:
    """What :func:`load_reported_folder` did: one :class:`ReportedFile` per form, by name."""

    folder: Path
    files: tuple[ReportedFile, ...]

    @property
    def rejected(self) -> pd.DataFrame:
        """Every rejected row of this load: :data:`~.reported.REJECTED_COLUMNS`, ``file`` as
        the file name."""
        frames = [f.load.rejected.assign(file=f.name) for f in self.files
                  if not f.load.rejected.empty]
        if not frames:
            return pd.DataFrame(columns=list(REJECTED_COLUMNS))
        return pd.concat(frames, ignore_index=True)[list(REJECTED_COLUMNS)]

    def metadata(self) -> dict[str, int | str]:
        """Totals over the files, for the asset's materialization."""
        total = {k: sum(f.counts[k] for f in self.files)
                 for k in ("rows_in", "accepted", "rejected", "blank", "stored",
                           "rejects_stored")}
        return {"folder": str(self.folder), "files": len(self.files),
                "files_stored_now": sum(f.stored > 0 for f in self.files),
                "rows_in": total["rows_in"], "rows_accepted": total["accepted"],
                "rows_rejected": total["rejected"], "rows_blank": total["blank"],
                "rows_stored_now": total["stored"], "rejects_stored_now": total["rejects_stored"],
                "table": f"lake.raw.{REPORTED_TABLE}",
                "rejects": f"lake.raw.{REJECTS_TABLE}"}

    def markdown(self) -> str:
        """One table row per file: rows in, accepted, rejected, blank, stored now, and where
        its rejects are."""
        if not self.files:
            return f"no entry form in {self.folder}"
        lines = ["| file | rows in | accepted | rejected | blank | stored now | rejects |",
                 "|---|---:|---:|---:|---:|---:|---|"]
        for f in self.files:
            c = f.counts
            where = (f"lake.raw.{REJECTS_TABLE} WHERE file = '{f.name}'" if c["rejected"]
                     else "none")
            lines.append(f"| {f.name} | {c['rows_in']} | {c['accepted']} | {c['rejected']} | "
                         f"{c['blank']} | {c['stored']} | {where} |")
        return "\n".join(lines)

    def summary(self) -> str:
        """One line, for a log."""
        m = self.metadata()
        return (f"{m['files']} entry form(s) in {self.folder}: {m['rows_in']} rows in = "
                f"{m['rows_accepted']} accepted + {m['rows_rejected']} rejected + "
                f"{m['rows_blank']} blank; {m['rows_stored_now']} stored now")


def _forms(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file()
                  and p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "_", "~$")))


def _year_of(path: Path) -> int | None:
    """The year of the period a form is named for (``reported_2025-Q1.csv`` → 2025), if any."""
    match = _FORM_NAME.match(path.stem)
    period = entered_period(match.group(1))[0] if match else None
    return int(period[:4]) if period else None


def load_reported_folder(lake: Lakehouse, folder: str | os.PathLike[str],
                         catalog: Catalog | None = None, *,
                         institutions: Collection[str] | None = None) -> ReportedFolder:
    """Read every entry form in ``folder`` and store it (see the module docstring).

    Parameters
    ----------
    folder
        The ``reported/`` folder; missing or empty: nothing to load.
    catalog
        The indicator catalog (default :func:`~.catalog.load_catalog`).
    institutions
        The institutions a row may name; default :func:`known_institutions` of ``lake``.

    Raises
    ------
    ReportedValueError
        A form cannot be read as a form (not CSV/xlsx text, no header, required columns
        missing): raised after every readable form is stored, naming every such file.
    """
    if catalog is None:
        from hospital_sdk.indicators.catalog import load_catalog
        catalog = load_catalog()
    root = Path(folder)
    allowed = known_institutions(lake) if institutions is None else institutions
    done, unreadable = [], []
    for path in _forms(root):
        try:
            load = read_entries(path, reported_indicators(catalog, _year_of(path)),
                                institutions=allowed)
        except ReportedValueError as exc:
            unreadable.append(str(exc))
            continue
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        done.append(ReportedFile(path.name, load, store_entries(lake, load, submitted_at=when),
                                 _store_rejects(lake, path.name, load)))
    if unreadable:
        raise ReportedValueError(f"{len(unreadable)} entry form(s) in {root} cannot be read "
                                 f"({len(done)} other(s) stored):\n" + "\n".join(unreadable))
    return ReportedFolder(root, tuple(done))


def _store_rejects(lake: Lakehouse, name: str, load: ReportedLoad) -> int:
    """Replace the rejects of file ``name`` by ``load.rejected`` unless they are of this content
    already; return the rows written."""
    lake.ensure_table(REJECTS_TABLE, REJECTS_SCHEMA, "raw")
    target = f"{CATALOG}.raw.{ident(REJECTS_TABLE)}"
    query = f"SELECT DISTINCT source_sha256 FROM {target} WHERE file = ?"

    def unchanged(duck: duckdb.DuckDBPyConnection) -> bool:
        stored = {r[0] for r in duck.execute(query, [name]).fetchall()}
        return stored == {load.sha256} or (not stored and load.rejected.empty)

    if unchanged(lake.duck):
        return 0
    rejected, n = load.rejected, len(load.rejected)
    schema = pa.schema([pa.field(c, t.to_pyarrow(), nullable=t.nullable)
                        for c, t in REJECTS_SCHEMA.items()])
    rows = pa.table({"file": [name] * n, "row": rejected["row"].astype("int64").tolist(),
                     "field": rejected["field"].astype(str).tolist(),
                     "value": [None if pd.isna(v) else str(v) for v in rejected["value"]],
                     "reason": rejected["reason"].astype(str).tolist(),
                     "source_sha256": [load.sha256] * n,
                     "read_at": [datetime.now(UTC)] * n}, schema=schema)
    stage = "__hospital_sdk_reported_rejects"

    def work(duck: duckdb.DuckDBPyConnection) -> int:
        if unchanged(duck):
            return 0
        duck.execute(f"DELETE FROM {target} WHERE file = ?", [name])
        if not n:
            return 0
        return append_rows(duck, target, rows, stage)

    try:
        return lake.write(work, description=f"store the rejected rows of {name} "
                                            f"({load.sha256[:12]})")
    except duckdb.Error as exc:
        raise StoreError(f"cannot store the rejected rows of {load.file}; nothing was "
                         f"written: {exc}") from exc
