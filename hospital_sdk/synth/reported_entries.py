"""Filled entry forms of the reported indicators, as a hospital's quality office would send them.

For each generated year, ``reported/reported_<year>.csv`` in the landing folder is the template
of :func:`hospital_sdk.indicators.reported.write_template` (every reported indicator of the
catalog in force that year × every member institution) with ``value`` and ``entered_by`` filled
from the generated reported tables, so the entered values and the tables agree:

=========================  ===============================================================
indicator                  value (per institution and year; :data:`SOURCES`)
=========================  ===============================================================
emr_level                  ``emr_assessment.emr_level``
outpatient_satisfaction    ``satisfaction_score.score`` where ``survey_type = 'outpatient'``
debt_to_asset_ratio        ``finance_statement`` of period ``YYYY``:
                           ``total_liabilities / total_assets × 100``, to 0.01 (half up)
physician_nurse_ratio      ``hr_snapshot`` of 31 December: ``registered_nurses /
                           registered_physicians`` — the X of 1:X (nurses per physician),
                           to 0.01 (half up)
=========================  ===============================================================

A reported indicator without a source here, or whose source has no value for an institution
(e.g. no finance statement, no registered physician), is left blank with a note: the form
shows what is still to be entered, and nothing is invented. The same tables give the same
bytes.

Examples
--------
>>> import tempfile
>>> tables = {"emr_assessment": pd.DataFrame({"institution_id": ["H1", "H2"],
...                                            "year": [2025, 2025], "emr_level": [5, 4]})}
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = write_entries(tmp, tables, institutions=["H1", "H2"], years=[2025])
...     text = paths[0].read_text(encoding="utf-8-sig")
>>> paths[0].relative_to(tmp).as_posix()
'reported/reported_2025.csv'
>>> [line.split(",")[11] for line in text.splitlines() if ",emr_level," in line]
['5', '4']
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from hospital_sdk.indicators.reported import write_template
from hospital_sdk.indicators.reported_folder import REPORTED_FOLDER, reported_indicators
from hospital_sdk.indicators.reported_xlsx import number_text
from hospital_sdk.synth.reported import REPORTED_BY

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.indicators.catalog import Catalog

__all__ = ["SOURCES", "EntrySource", "write_entries"]

Tables = Mapping[str, pd.DataFrame]
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class EntrySource:
    """Where a reported indicator's yearly value is read in the generated reported tables.

    Attributes
    ----------
    table
        The reported table read (a year without it leaves the indicator blank).
    formula
        The derivation, in words (shown in the notes of rows left blank).
    values
        ``values(tables, year)``: the value of each institution (index ``institution_id``);
        institutions without one are absent.
    """

    table: str
    formula: str
    values: Callable[[Tables, int], pd.Series]


def _of_year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    return frame[frame["year"].astype(int) == year]


def _emr_level(tables: Tables, year: int) -> pd.Series:
    emr = _of_year(tables["emr_assessment"], year)
    return emr.set_index("institution_id")["emr_level"].astype(int)


def _outpatient_satisfaction(tables: Tables, year: int) -> pd.Series:
    s = _of_year(tables["satisfaction_score"], year)
    return s[s["survey_type"] == "outpatient"].set_index("institution_id")["score"]


def _ratio(top: object, bottom: object, scale: int = 1) -> Decimal | None:
    """``top / bottom × scale`` to 0.01, half up; ``None`` when either is missing or the bottom
    is not positive."""
    if pd.isna(top) or pd.isna(bottom) or Decimal(str(bottom)) <= 0:
        return None
    return (Decimal(str(top)) * scale / Decimal(str(bottom))).quantize(_CENT, ROUND_HALF_UP)


def _wide(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    return frame.pivot(index="institution_id", columns=column, values=value)


def _debt_to_asset_ratio(tables: Tables, year: int) -> pd.Series:
    f = tables["finance_statement"]
    lines = _wide(f[f["period"].astype(str) == str(year)], "line_code", "amount").reindex(
        columns=["total_liabilities", "total_assets"])
    out = pd.Series({i: _ratio(r.total_liabilities, r.total_assets, 100)
                     for i, r in lines.iterrows()}, dtype=object)
    return out.dropna()


def _physician_nurse_ratio(tables: Tables, year: int) -> pd.Series:
    hr = tables["hr_snapshot"]
    day = pd.to_datetime(hr["snapshot_date"])
    counts = _wide(hr[(day == pd.Timestamp(year, 12, 31)).to_numpy()], "metric_code",
                   "value").reindex(columns=["registered_nurses", "registered_physicians"])
    out = pd.Series({i: _ratio(r.registered_nurses, r.registered_physicians)
                     for i, r in counts.iterrows()}, dtype=object)
    return out.dropna()


SOURCES: Mapping[str, EntrySource] = {
    "emr_level": EntrySource("emr_assessment", "emr_assessment.emr_level", _emr_level),
    "outpatient_satisfaction": EntrySource(
        "satisfaction_score", "satisfaction_score.score (survey_type outpatient)",
        _outpatient_satisfaction),
    "debt_to_asset_ratio": EntrySource(
        "finance_statement", "finance_statement: total_liabilities / total_assets × 100",
        _debt_to_asset_ratio),
    "physician_nurse_ratio": EntrySource(
        "hr_snapshot", "hr_snapshot on 31 December: registered_nurses / registered_physicians",
        _physician_nurse_ratio),
}
"""How each reported indicator of the catalog is filled from the generated tables, by id."""


def write_entries(out: str | os.PathLike[str], tables: Mapping[str, pa.Table | pd.DataFrame], *,
                  institutions: Sequence[str], years: Sequence[int],
                  catalog: Catalog | None = None) -> list[Path]:
    """Write ``<out>/reported/reported_<year>.csv`` for each of ``years``, filled from ``tables``.

    Parameters
    ----------
    out
        The landing folder.
    tables
        The generated reported tables by name (Arrow or pandas); a missing table leaves its
        indicators blank.
    institutions
        The institutions the form is for (the group's members), in the order of its rows.
    years
        The years generated; a year with no reported indicator in force gets no form.
    catalog
        The indicator catalog (default :func:`hospital_sdk.indicators.load_catalog`).

    Returns
    -------
    list of Path
        The forms written, by year. Each is written atomically.
    """
    if catalog is None:
        from hospital_sdk.indicators.catalog import load_catalog
        catalog = load_catalog()
    frames = {name: t.to_pandas() if isinstance(t, pa.Table) else t for name, t in tables.items()}
    folder = Path(out) / REPORTED_FOLDER
    written = []
    for year in sorted({int(y) for y in years}):
        valid = {i.id for i in catalog.in_force(year) if i.valid_in(year)}
        chosen = [i for i in reported_indicators(catalog, year).values() if i.id in valid]
        if not chosen:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            blank = write_template(chosen, list(institutions), str(year), tmp, formats=("csv",))[0]
            text, name = blank.read_bytes().decode("utf-8-sig"), blank.name
        header, *rows = list(csv.reader(io.StringIO(text, newline="")))
        values = {i.id: SOURCES[i.id].values(frames, year) for i in chosen
                  if i.id in SOURCES and SOURCES[i.id].table in frames}
        _fill(header, rows, values, str(year))
        written.append(_write(folder / name, header, rows))
    return written


def _fill(header: list[str], rows: list[list[str]], values: Mapping[str, pd.Series],
          period: str) -> None:
    """Fill ``value`` and ``entered_by`` of ``rows`` in place; a note on the rows left blank."""
    at = {c: header.index(c) for c in ("institution_id", "period", "indicator_id", "value",
                                       "note", "entered_by")}
    for row in rows:
        ind, inst = row[at["indicator_id"]], row[at["institution_id"]]
        found = values.get(ind)
        if ind not in SOURCES:
            row[at["note"]] = "合成数据无此来源，待填报 (no synthetic source: to be entered)"
        elif found is None or inst not in found.index or row[at["period"]] != period:
            row[at["note"]] = f"合成数据中无此值 (no value in {SOURCES[ind].formula})"
        else:
            row[at["value"]] = number_text(float(found[inst]))
            row[at["entered_by"]] = REPORTED_BY


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """The form as the template's CSV (UTF-8 with BOM, CRLF), written atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(text.getvalue().encode("utf-8-sig"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
