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
(the others)               :data:`SOURCES`: finance ratios of the year's statement
                           (personnel, energy per 10,000 yuan, medical surplus, training
                           spend, medical revenue growth over the year before's), the
                           licensed physicians averaged over this and last 31 December
                           (blank in the first generated year), 31 December
                           HR shares, satisfaction scores, national-scheme EQA items passed,
                           provincial-scheme EQA participation and pass rates,
                           research money per 100 technicians, qualitative grades (yes/no as
                           是/否), and from the master ``ward``/``ward_beds`` tables the
                           quality-nursing ward coverage and pharmacists per 100 open beds
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


def _emr_column(column: str) -> Callable[[Tables, int], pd.Series]:
    def values(tables: Tables, year: int) -> pd.Series:
        emr = _of_year(tables["emr_assessment"], year)
        if column not in emr:  # an assessment without the smart-hospital grading
            return pd.Series(dtype=int)
        return emr.set_index("institution_id")[column].dropna().astype(int)
    return values


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


def _average_licensed_physicians(tables: Tables, year: int) -> pd.Series:
    """(licensed_physicians on 31 December of ``year`` + of the year before) ÷ 2, to 0.01;
    blank where either count is missing (the first generated year has no year before)."""
    hr = tables["hr_snapshot"]
    hr = hr[hr["metric_code"] == "licensed_physicians"]
    day = pd.to_datetime(hr["snapshot_date"])
    now = hr[(day == pd.Timestamp(year, 12, 31)).to_numpy()].set_index("institution_id")["value"]
    before = hr[(day == pd.Timestamp(year - 1, 12, 31)).to_numpy()].set_index(
        "institution_id")["value"]
    both = pd.concat([now.rename("now"), before.rename("before")], axis=1).dropna()
    out = pd.Series({i: _ratio(r.now + r.before, 2) for i, r in both.iterrows()}, dtype=object)
    return out.dropna()


def _finance(tables: Tables, year: int, lines: Sequence[str]) -> pd.DataFrame:
    """The year's statement lines ``lines`` of each institution (columns; missing lines NaN)."""
    f = tables["finance_statement"]
    return _wide(f[f["period"].astype(str) == str(year)], "line_code", "amount").reindex(
        columns=list(lines))


def _finance_ratio(top: str, bottom: str, scale: int) -> Callable[[Tables, int], pd.Series]:
    """``top / bottom × scale`` of the year's finance statement, to 0.01."""
    def values(tables: Tables, year: int) -> pd.Series:
        lines = _finance(tables, year, (top, bottom))
        out = pd.Series({i: _ratio(r[top], r[bottom], scale) for i, r in lines.iterrows()},
                        dtype=object)
        return out.dropna()
    return values


def _medical_revenue_growth(tables: Tables, year: int) -> pd.Series:
    # needs the year before's statement: the first generated year is left blank
    now = _finance(tables, year, ("medical_revenue",))["medical_revenue"]
    before = _finance(tables, year - 1, ("medical_revenue",))["medical_revenue"]
    out = pd.Series({i: None if i not in before.index or pd.isna(before[i]) else _ratio(
        Decimal(str(v)) - Decimal(str(before[i])), before[i], 100) for i, v in now.items()},
        dtype=object)
    return out.dropna()


def _hr(tables: Tables, year: int, metrics: Sequence[str]) -> pd.DataFrame:
    """``hr_snapshot`` of 31 December of ``year``, one column per metric."""
    hr = tables["hr_snapshot"]
    day = pd.to_datetime(hr["snapshot_date"])
    return _wide(hr[(day == pd.Timestamp(year, 12, 31)).to_numpy()], "metric_code",
                 "value").reindex(columns=list(metrics))


def _hr_share(tops: Sequence[str], bottom: str) -> Callable[[Tables, int], pd.Series]:
    """``sum(tops) / bottom × 100`` of the 31 December snapshot, to 0.01."""
    def values(tables: Tables, year: int) -> pd.Series:
        counts = _hr(tables, year, (*tops, bottom))
        top = counts[list(tops)].sum(axis=1, min_count=len(tops))
        out = pd.Series({i: _ratio(top[i], r[bottom], 100) for i, r in counts.iterrows()},
                        dtype=object)
        return out.dropna()
    return values


def _survey(kind: str) -> Callable[[Tables, int], pd.Series]:
    def values(tables: Tables, year: int) -> pd.Series:
        s = _of_year(tables["satisfaction_score"], year)
        return s[s["survey_type"] == kind].set_index("institution_id")["score"]
    return values


def _eqa_items_passed(tables: Tables, year: int) -> pd.Series:
    # items of the national (NCCL) scheme the laboratory took part in and passed, each once
    e = _of_year(tables["eqa_result"], year)
    national = e[e["scheme"] == "national"]
    passed = national["participated"].astype(bool) & national["passed"].fillna(False).astype(bool)
    counts = national[passed.to_numpy()].groupby("institution_id")["item_code"].nunique()
    return counts.reindex(national["institution_id"].unique(), fill_value=0).astype(int)


def _eqa_provincial(top: str, bottom: str) -> Callable[[Tables, int], pd.Series]:
    """Provincial-scheme test items of the year: ``top`` ÷ ``bottom`` × 100 to 0.01, where
    ``performed`` / ``entered`` / ``passed`` count items performed, entered (participated) and
    entered and passed; blank where the bottom is 0."""
    def values(tables: Tables, year: int) -> pd.Series:
        e = _of_year(tables["eqa_result"], year)
        e = e[e["scheme"] == "provincial"]
        entered = e["participated"].astype(bool)
        flags = pd.DataFrame({
            "institution_id": e["institution_id"].to_numpy(),
            "performed": e["is_performed"].astype(bool).to_numpy(),
            "entered": entered.to_numpy(),
            "passed": (entered & e["passed"].fillna(False).astype(bool)).to_numpy()})
        counts = flags.groupby("institution_id")[["performed", "entered", "passed"]].sum()
        out = pd.Series({i: _ratio(r[top], r[bottom], 100) for i, r in counts.iterrows()},
                        dtype=object)
        return out.dropna()
    return values


def _per_100_technicians(kind: str) -> Callable[[Tables, int], pd.Series]:
    """``research_funding`` amounts of ``kind`` (yuan) in 10,000 yuan × 100 ÷ health
    technicians on 31 December, to 0.01; an institution without rows of the kind has 0."""
    def values(tables: Tables, year: int) -> pd.Series:
        r = _of_year(tables["research_funding"], year)
        r = r[r["kind"] == kind]
        yuan = {i: sum((Decimal(str(a)) for a in g), Decimal(0))
                for i, g in r.groupby("institution_id")["amount"]}
        tech = _hr(tables, year, ("health_technicians",))["health_technicians"] \
            if "hr_snapshot" in tables else pd.Series(dtype=float)
        out = pd.Series({i: _ratio(yuan.get(i, Decimal(0)) / 10_000, t, 100)
                         for i, t in tech.items()}, dtype=object)
        return out.dropna()
    return values


_GRADE_WORDS = {"yes": "是", "no": "否"}


def _qualitative(item: str) -> Callable[[Tables, int], pd.Series]:
    """The grade of ``item`` in ``qualitative_item`` (yes/no as the form's 是/否)."""
    def values(tables: Tables, year: int) -> pd.Series:
        q = _of_year(tables["qualitative_item"], year)
        grade = q[q["item_code"] == item].set_index("institution_id")["grade"].astype(str)
        return grade.map(lambda g: _GRADE_WORDS.get(g, g))
    return values


def _on(frame: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Rows of a master table valid on ``day`` (``valid_from`` ≤ day ≤ ``valid_to``)."""
    start, end = pd.to_datetime(frame["valid_from"]), pd.to_datetime(frame["valid_to"])
    return frame[((start <= day) & (end.isna() | (end >= day))).to_numpy()]


def _quality_nursing_ward_coverage(tables: Tables, year: int) -> pd.Series:
    # wards open on 31 December providing 优质护理 since that day or earlier, ÷ wards open then
    day = pd.Timestamp(year, 12, 31)
    wards = _on(tables["ward"], day)
    since = pd.to_datetime(wards["quality_nursing_since"])
    quality = wards["quality_nursing"].fillna(False).astype(bool) & (since.isna() | (since <= day))
    counts = pd.DataFrame({"q": quality.to_numpy(), "n": 1}, index=wards["institution_id"])
    sums = counts.groupby(level=0).sum()
    return pd.Series({i: _ratio(r.q, r.n, 100) for i, r in sums.iterrows()},
                     dtype=object).dropna()


def _pharmacists_per_100_beds(tables: Tables, year: int) -> pd.Series:
    # hr_snapshot pharmacists on 31 December ÷ the open beds of the wards that day (ward_beds)
    if "hr_snapshot" not in tables:
        return pd.Series(dtype=object)
    beds = _on(tables["ward_beds"], pd.Timestamp(year, 12, 31)).groupby(
        "institution_id")["open_beds"].sum()
    pharmacists = _hr(tables, year, ("pharmacists",))["pharmacists"]
    return pd.Series({i: _ratio(p, beds.get(i), 100) for i, p in pharmacists.items()},
                     dtype=object).dropna()


SOURCES: Mapping[str, EntrySource] = {
    "emr_level": EntrySource("emr_assessment", "emr_assessment.emr_level", _emr_level),
    "smart_service_level": EntrySource("emr_assessment", "emr_assessment.smart_service_level",
                                       _emr_column("smart_service_level")),
    "smart_management_level": EntrySource(
        "emr_assessment", "emr_assessment.smart_management_level",
        _emr_column("smart_management_level")),
    "outpatient_satisfaction": EntrySource(
        "satisfaction_score", "satisfaction_score.score (survey_type outpatient)",
        _outpatient_satisfaction),
    "inpatient_satisfaction": EntrySource(
        "satisfaction_score", "satisfaction_score.score (survey_type inpatient)",
        _survey("inpatient")),
    "staff_satisfaction": EntrySource(
        "satisfaction_score", "satisfaction_score.score (survey_type staff)", _survey("staff")),
    "debt_to_asset_ratio": EntrySource(
        "finance_statement", "finance_statement: total_liabilities / total_assets × 100",
        _debt_to_asset_ratio),
    "personnel_expense_share": EntrySource(
        "finance_statement", "finance_statement: personnel_expense / medical_expense × 100",
        _finance_ratio("personnel_expense", "medical_expense", 100)),
    "energy_per_10k_revenue": EntrySource(
        "finance_statement", "finance_statement: energy_expense / total_revenue × 10000",
        _finance_ratio("energy_expense", "total_revenue", 10_000)),
    "medical_surplus_rate": EntrySource(
        "finance_statement", "finance_statement: medical_surplus / medical_revenue × 100",
        _finance_ratio("medical_surplus", "medical_revenue", 100)),
    "talent_training_expense_share": EntrySource(
        "finance_statement", "finance_statement: training_expense / total_expense × 100",
        _finance_ratio("training_expense", "total_expense", 100)),
    "medical_revenue_growth": EntrySource(
        "finance_statement", "finance_statement: (medical_revenue − the year before's) / the "
        "year before's × 100", _medical_revenue_growth),
    "physician_nurse_ratio": EntrySource(
        "hr_snapshot", "hr_snapshot on 31 December: registered_nurses / registered_physicians",
        _physician_nurse_ratio),
    "average_licensed_physicians": EntrySource(
        "hr_snapshot", "hr_snapshot licensed_physicians: (31 December of the year + of the year "
        "before) / 2", _average_licensed_physicians),
    "senior_title_share": EntrySource(
        "hr_snapshot", "hr_snapshot on 31 December: (senior_title_technicians + "
        "associate_senior_title_technicians) / health_technicians × 100",
        _hr_share(("senior_title_technicians", "associate_senior_title_technicians"),
                  "health_technicians")),
    "scarce_specialty_physician_share": EntrySource(
        "hr_snapshot", "hr_snapshot on 31 December: physicians in anaesthesia, paediatrics, "
        "critical care, pathology and TCM / registered_physicians × 100",
        _hr_share(("physicians_anaesthesia", "physicians_paediatrics", "physicians_critical_care",
                   "physicians_pathology", "physicians_tcm"), "registered_physicians")),
    "trainee_return_share": EntrySource(
        "hr_snapshot", "hr_snapshot: trainees_returned_independent / trainees_admitted × 100",
        _hr_share(("trainees_returned_independent",), "trainees_admitted")),
    "licensing_first_pass_rate": EntrySource(
        "hr_snapshot", "hr_snapshot: residents_first_exam_passed / residents_first_exam_takers "
        "× 100", _hr_share(("residents_first_exam_passed",), "residents_first_exam_takers")),
    "pharmacists_per_100_beds": EntrySource(
        "ward_beds", "hr_snapshot pharmacists / ward_beds open beds on 31 December × 100",
        _pharmacists_per_100_beds),
    "quality_nursing_ward_coverage": EntrySource(
        "ward", "ward open on 31 December: quality_nursing wards / all wards × 100",
        _quality_nursing_ward_coverage),
    "eqa_items_passed": EntrySource(
        "eqa_result", "eqa_result: national-scheme items participated and passed",
        _eqa_items_passed),
    "eqa_provincial_participation_rate": EntrySource(
        "eqa_result", "eqa_result provincial scheme: items entered / items performed × 100",
        _eqa_provincial("entered", "performed")),
    "eqa_provincial_pass_rate": EntrySource(
        "eqa_result", "eqa_result provincial scheme: items entered and passed / items entered "
        "× 100", _eqa_provincial("passed", "entered")),
    "research_funding_per_100_technicians": EntrySource(
        "research_funding", "research_funding grant amounts (10,000 yuan) × 100 / hr_snapshot "
        "health_technicians", _per_100_technicians("grant")),
    "commercialisation_per_100_technicians": EntrySource(
        "research_funding", "research_funding commercialisation amounts (10,000 yuan) × 100 / "
        "hr_snapshot health_technicians", _per_100_technicians("commercialisation")),
    "equipment_qc_grade": EntrySource(
        "qualitative_item", "qualitative_item equipment_maintenance_qc grade",
        _qualitative("equipment_maintenance_qc")),
    "budget_management_grade": EntrySource(
        "qualitative_item", "qualitative_item budget_management grade",
        _qualitative("budget_management")),
    "chief_accountant": EntrySource(
        "qualitative_item", "qualitative_item chief_accountant (yes/no as 是/否)",
        _qualitative("chief_accountant")),
    "public_credit_rating": EntrySource(
        "qualitative_item", "qualitative_item public_credit_rating grade",
        _qualitative("public_credit_rating")),
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
            v = found[inst]
            row[at["value"]] = v if isinstance(v, str) else number_text(float(v))
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
