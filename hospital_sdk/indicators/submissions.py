"""Submissions of reported values: reading a filled form, storing it, picking the latest.

A filled template (:func:`~hospital_sdk.indicators.reported.write_template`) comes back as a
file; :func:`read_entries` checks every row against its indicator's
:class:`~hospital_sdk.indicators.reported.ReportedRule` (accepted, rejected with field and
reason, or blank — rows in = accepted + rejected + blank), :func:`store_entries` appends the
accepted rows to ``raw.reported_value`` once per file content, and :func:`latest_values` picks the
latest submitted value per institution, period, indicator and version (pure Ibis).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import ReconciliationError, ReportedValueError, StoreError
from hospital_sdk.indicators.periods import parse_period
from hospital_sdk.indicators.reported import (
    ACCEPTED_COLUMNS,
    BLANK_COLUMNS,
    KEY,
    NUMERIC,
    REJECTED_COLUMNS,
    REPORTED_SCHEMA,
    REPORTED_TABLE,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    ReportedIndicator,
    _blank,
    _plain,
    _text,
    entered_period,
)
from hospital_sdk.indicators.reported_xlsx import number_text as _num
from hospital_sdk.indicators.reported_xlsx import read_file
from hospital_sdk.model.contract import suggest
from hospital_sdk.store.catalog import CATALOG
from hospital_sdk.store.tables import append_rows, ident

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.store import Lakehouse

__all__ = ["ReportedLoad", "latest_values", "read_entries", "store_entries"]


@dataclass(frozen=True, eq=False)
class ReportedLoad:
    """What :func:`read_entries` made of one filled template.

    Attributes
    ----------
    file
        The file read.
    rows_in
        Its data rows (rows with at least one cell, under the header);
        ``rows_in == len(accepted) + len(rejected) + len(blank)``, checked at construction.
    accepted
        :data:`ACCEPTED_COLUMNS`: one row per valid entry, value split into ``value_number``
        and ``value_text`` as in :data:`REPORTED_SCHEMA`; ``row`` is the spreadsheet row.
    rejected
        :data:`REJECTED_COLUMNS`: one row per refused row; when a row has several problems,
        ``field``, ``value`` and ``reason`` list them all, joined by ``"; "``.
    blank
        :data:`BLANK_COLUMNS`: rows whose value is empty — not entered, so neither accepted
        nor rejected (the list of what is still missing).
    sha256
        Hex SHA-256 of the file's bytes: the submission's identity in :func:`store_entries`.
    """

    file: Path
    rows_in: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    blank: pd.DataFrame
    sha256: str

    def __post_init__(self) -> None:
        counted = len(self.accepted) + len(self.rejected) + len(self.blank)
        if counted != self.rows_in:
            raise ReconciliationError(
                f"{self.file}: {self.rows_in} rows in but {len(self.accepted)} accepted + "
                f"{len(self.rejected)} rejected + {len(self.blank)} blank = {counted}")

    @property
    def counts(self) -> dict[str, int]:
        """``{"rows_in", "accepted", "rejected", "blank"}`` counts."""
        return {"rows_in": self.rows_in, "accepted": len(self.accepted),
                "rejected": len(self.rejected), "blank": len(self.blank)}


def read_entries(path: str | os.PathLike[str], indicators: Mapping[str, ReportedIndicator], *,
                 institutions: Collection[str] | None = None) -> ReportedLoad:
    """Read a filled template (``.xlsx``, or ``.csv`` in UTF-8 with or without BOM or GB18030).

    Only :data:`REQUIRED_COLUMNS` are needed; ``note`` and ``entered_by`` are read when present;
    the descriptive columns are ignored (the spec in ``indicators`` is the authority). Rows with
    no cell at all are not rows. Every other row under the header ends up in exactly one of
    ``accepted``, ``rejected`` or ``blank`` (value empty: not entered), so
    ``rows_in == accepted + rejected + blank``. A row is rejected, with its spreadsheet row
    number (header = row 1), for: an empty or (when ``institutions`` is given) unknown
    institution, a period that is not a year/quarter/month or not the indicator's grain, an
    unknown indicator (near spelling suggested), another version, a value its rule refuses, or
    the same institution, period, indicator and version entered on several rows (all of them).

    Raises
    ------
    ReportedValueError
        The file cannot be read, is neither xlsx nor csv, has no header, repeats a column or
        lacks required columns (named with the file).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from hospital_sdk.indicators.reported import ReportedIndicator, ReportedRule
    >>> eqa = ReportedIndicator("eqa_items", "1", "室间质评通过项目数", "EQA items passed",
    ...                         ReportedRule("integer", "items", minimum=0))
    >>> text = ("institution_id,period,indicator_id,version,value\\n"
    ...         "H01,2024,eqa_items,1,35\\nH02,2024,eqa_items,1,-2\\nH03,2024,eqa_items,1,\\n")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "eqa.csv").write_text(text, encoding="gb18030")
    ...     load = read_entries(Path(tmp) / "eqa.csv", {"eqa_items": eqa})
    >>> load.counts
    {'rows_in': 3, 'accepted': 1, 'rejected': 1, 'blank': 1}
    >>> load.rejected[["row", "field", "reason"]].values.tolist()
    [[3, 'value', 'value -2 is below the minimum 0 (items)']]
    """
    file = Path(path)
    rows, sha256 = read_file(file)
    if not rows:
        raise ReportedValueError(f"{file}: no header row; expected the columns "
                                 f"{list(TEMPLATE_COLUMNS)}")
    header = ["" if _blank(c) else _text(c).lower() for c in rows[0][1]]
    if twice := sorted({h for h in header if h and header.count(h) > 1}):
        raise ReportedValueError(f"{file}: column(s) {twice} appear more than once")
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        raise ReportedValueError(f"{file}: missing column(s) {missing}; the header has {header}")
    where = {name: header.index(name) for name in (*REQUIRED_COLUMNS, "note", "entered_by")
             if name in header}
    accepted, rejected, blank = [], [], []
    for number, cells in rows[1:]:
        cell = {n: cells[i] if i < len(cells) else None for n, i in where.items()}
        ids = {n: None if _blank(cell[n]) else _text(cell[n])
               for n in ("institution_id", "indicator_id", "version")}
        if _blank(cell["value"]):
            blank.append((number, ids["institution_id"],
                          None if _blank(cell["period"]) else _text(cell["period"]),
                          ids["indicator_id"], ids["version"]))
            continue
        problems, indicator, value = _row_problems(cell, ids, indicators, institutions)
        if problems or indicator is None:
            rejected.append((str(file), number, *("; ".join(p[i] for p in problems)
                                                 for i in range(3))))
            continue
        kind = indicator.rule.value_type
        if kind == "boolean":
            number_v, text_v = float(bool(value)), indicator.rule.allowed[0 if value else 1]
        else:
            number_v, text_v = (float(value), None) if kind in NUMERIC else (None, str(value))
        accepted.append((number, ids["institution_id"], entered_period(cell["period"])[0],
                         indicator.id, indicator.version, number_v, text_v, indicator.rule.unit,
                         *(None if _blank(cell.get(n)) else _plain(cell[n])
                           for n in ("note", "entered_by"))))
    accepted, repeated = _without_repeats(accepted, file)
    frame = pd.DataFrame(accepted, columns=list(ACCEPTED_COLUMNS))
    return ReportedLoad(
        file, len(rows) - 1,
        frame.astype({"row": "int64", "value_number": "float64"}),
        pd.DataFrame(rejected + repeated, columns=list(REJECTED_COLUMNS))
        .sort_values("row", kind="stable").reset_index(drop=True).astype({"row": "int64"}),
        pd.DataFrame(blank, columns=list(BLANK_COLUMNS)).astype({"row": "int64"}),
        sha256)


def _row_problems(cell: dict[str, Any], ids: dict[str, str | None],
                  indicators: Mapping[str, ReportedIndicator],
                  institutions: Collection[str] | None,
                  ) -> tuple[list[tuple[str, str, str]], ReportedIndicator | None, object]:
    """``(field, value, reason)`` of every problem of a row with a value, in column order;
    the row's indicator and normalised value."""
    out: list[tuple[str, str, str]] = []
    inst, ind_id, version = ids["institution_id"], ids["indicator_id"], ids["version"]
    if inst is None:
        out.append(("institution_id", "", "institution_id is empty"))
    elif institutions is not None and inst not in institutions:
        out.append(("institution_id", inst,
                    f"unknown institution {inst!r}{suggest(inst, institutions)}"))
    indicator = indicators.get(ind_id) if ind_id is not None else None
    period, reason = entered_period(cell["period"])
    if reason is not None:
        out.append(("period", "" if _blank(cell["period"]) else _text(cell["period"]), reason))
    elif indicator is not None and (grain := parse_period(period).grain) != indicator.rule.period:
        out.append(("period", str(period), (f"period {period!r} is a {grain}; {indicator.id} is "
                    f"entered per {indicator.rule.period}")))
    if ind_id is None:
        out.append(("indicator_id", "", "indicator_id is empty"))
    elif indicator is None:
        out.append(("indicator_id", ind_id,
                    f"unknown indicator {ind_id!r}{suggest(ind_id, indicators)}"))
    if version is None:
        out.append(("version", "", "version is empty"))
    elif indicator is not None and version != indicator.version:
        out.append(("version", version, (f"version {version!r} does not match {indicator.id}'s "
                    f"version {indicator.version!r}")))
    value = None
    if indicator is not None:
        value, reason = indicator.rule.validate(cell["value"])
        if reason is not None:
            out.append(("value", _text(cell["value"]), reason))
    return out, indicator, value


def _without_repeats(accepted: list[tuple[Any, ...]], file: Path,
                     ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Accepted rows minus those whose key is on several rows (those become rejects)."""
    rows_of: dict[tuple[Any, ...], list[int]] = {}
    for r in accepted:
        rows_of.setdefault(r[1:5], []).append(r[0])
    keep, repeated = [], []
    for r in accepted:
        rows = rows_of[r[1:5]]
        if len(rows) == 1:
            keep.append(r)
            continue
        value = _num(r[5]) if r[5] is not None and r[6] is None else str(r[6])
        repeated.append((str(file), r[0], "value", value,
                         (f"{r[3]} of {r[1]} for {r[2]} is entered on rows "
                         f"{', '.join(map(str, rows))}; keep one")))
    return keep, repeated


_ARROW = pa.schema([pa.field(n, t.to_pyarrow(), nullable=t.nullable)
                    for n, t in REPORTED_SCHEMA.items()])


def store_entries(lake: Lakehouse, load: ReportedLoad, *,
                  submitted_at: datetime | None = None) -> int:
    """Append ``load.accepted`` to ``raw.reported_value`` as one submission; return the rows added.

    Idempotent by content: when rows with ``load.sha256`` are already stored, nothing is added
    (0 is returned), whatever the file's name. A corrected file has other bytes, so it is a new
    submission: every submission is kept (and the lakehouse's snapshots give each state back),
    and :func:`latest_values` picks the newest. A blank value never erases a stored one, and
    re-storing an earlier file's exact bytes is a no-op, not a revert: to go back to its
    values, submit them in a changed file (e.g. with a note). The check and the insert are one
    transaction under the writer lock.

    Parameters
    ----------
    submitted_at
        When the file was submitted; default now. A naive datetime is local time, stored as UTC.

    Examples
    --------
    >>> import tempfile
    >>> from hospital_sdk.store import Lakehouse
    >>> accepted = pd.DataFrame([(2, "H01", "2024", "q12", "1", None, "B", "", None, None)],
    ...                         columns=list(ACCEPTED_COLUMNS))
    >>> load = ReportedLoad(Path("q12.csv"), 1, accepted, pd.DataFrame(), pd.DataFrame(), "ab12")
    >>> with Lakehouse.open(tempfile.mkdtemp()) as lake:
    ...     first, again = store_entries(lake, load), store_entries(lake, load)
    ...     stored = lake.table(REPORTED_TABLE).value_text.execute().tolist()
    >>> first, again, stored
    (1, 0, ['B'])
    """
    when = submitted_at or datetime.now(UTC)
    when = (when if when.tzinfo is not None else when.astimezone()).astimezone(UTC)
    accepted = load.accepted
    columns = {c: [None if _blank(v) and not isinstance(v, str) else v  # keep unit ""
                   for v in accepted[c].tolist()]
               for c in ACCEPTED_COLUMNS if c != "row"}
    n = len(accepted)
    columns |= {"source_row": accepted["row"].tolist(), "source_file": [load.file.name] * n,
                "source_sha256": [load.sha256] * n, "submitted_at": [when] * n}
    rows = pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in _ARROW},
                    schema=_ARROW)
    lake.ensure_table(REPORTED_TABLE, REPORTED_SCHEMA, "raw")
    target, stage = f"{CATALOG}.raw.{ident(REPORTED_TABLE)}", "__hospital_sdk_reported_rows"

    def work(duck: duckdb.DuckDBPyConnection) -> int:
        if duck.execute(f"SELECT count(*) FROM {target} WHERE source_sha256 = ?",
                        [load.sha256]).fetchone()[0] or not n:
            return 0
        return append_rows(duck, target, rows, stage)

    try:
        return lake.write(work, description=f"store reported values of {load.file.name} "
                                            f"({load.sha256[:12]})")
    except duckdb.Error as exc:
        raise StoreError(f"cannot store the reported values of {load.file}; nothing was "
                         f"written: {exc}") from exc


def latest_values(table: ir.Table) -> ir.Table:
    """The latest submitted row of each :data:`KEY` in a ``raw.reported_value`` table.

    Newest ``submitted_at`` wins; equal times are broken by the larger ``source_sha256``, then
    the larger ``source_row``, so the answer never depends on storage order. Pure Ibis: it runs
    on any backend.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = ibis.memtable({"institution_id": ["H01", "H01"], "period": ["2024", "2024"],
    ...     "indicator_id": ["emr_level"] * 2, "version": ["1", "1"], "value_number": [4.0, 5.0],
    ...     "source_sha256": ["aa", "bb"], "source_row": [2, 2],
    ...     "submitted_at": [datetime(2025, 1, 5, tzinfo=timezone.utc),
    ...                      datetime(2025, 2, 1, tzinfo=timezone.utc)]})
    >>> latest_values(t).value_number.execute().tolist()
    [5.0]
    """
    order = [table.submitted_at.desc(), table.source_sha256.desc(), table.source_row.desc()]
    rank = ibis.row_number().over(group_by=[table[c] for c in KEY], order_by=order)
    return table.mutate(_latest=rank).filter(ibis._._latest == 0).drop("_latest")
