"""Calibration targets of the generator, as data, and their measurement on generated tables.

Each target names an indicator-like figure, the interval the generator aims for, a central value
and where that value comes from (source tags of the reference catalog,
``shared/reference/national-indicators.md`` §5 and the addendum's Gap 4). Where no national
figure was found the interval is the generator's own assumption and the source says so.

:func:`measure` computes every figure from generated tables in DuckDB, so the generator can be
checked without the indicator engine (and the engine later checked against these numbers).

Examples
--------
>>> [t.name for t in TARGETS][:3]
['mean_los', 'cost_per_stay', 'cost_per_outpatient_visit']
>>> target("mean_los").contains(8.4)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.dataset as ds

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT


@dataclass(frozen=True)
class Target:
    """A calibration target.

    Parameters
    ----------
    name
        Identifier, also the key of :func:`measure`'s result.
    description
        What is measured, with its numerator and denominator.
    target
        Central value the generator aims at.
    low, high
        Interval a generated data set must fall in (tolerance).
    unit
        ``ratio`` (0–1), ``days``, ``yuan``, ``per_100_patient_days`` or ``x:1``.
    source
        Source tag of the anchor value (reference catalog section and tag) or ``assumption``.
    sql
        DuckDB query over the contract tables returning one row ``(value, numerator,
        denominator)``.
    """

    name: str
    description: str
    target: float
    low: float
    high: float
    unit: str
    source: str
    sql: str

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within ``[low, high]``."""
        return self.low <= value <= self.high


_SURGICAL_STAYS = """
    SELECT DISTINCT p.institution_id, p.stay_id FROM stay_procedure p
    JOIN procedure_catalog c ON c.code = p.procedure_code WHERE c.category IN ('1', '4')"""
_AMOUNT_UNITS = """(SELECT * FROM (VALUES ('g', 1.0), ('mg', 0.001), ('MU', 1e6), ('TU', 1e3),
    ('U', 1.0)) AS u(unit, base))"""

TARGETS: tuple[Target, ...] = (
    Target("mean_los", "Mean length of stay of discharges (days)", 8.5, 7.5, 9.5, "days",
           "[C:P16] §5.4: 2023 all hospitals 8.8, public 8.4; [C:P17] 2022 9.2",
           "SELECT avg(los_days), sum(los_days), count(*) FROM inpatient_stay"),
    Target("cost_per_stay", "Mean total cost per discharge (yuan)", 14_000, 11_000, 17_000,
           "yuan", "[C:P14] §5.4: tertiary public 2022 Q1 13,930.6; [C:P13] 2019 13,539.2",
           "SELECT avg(total_cost), sum(total_cost), count(*) FROM inpatient_stay"),
    Target("cost_per_outpatient_visit", "Mean fee per outpatient + emergency visit (yuan; "
           "cancelled excluded)", 345, 280, 420, "yuan",
           "[C:P14] §5.4: tertiary public 2022 Q1 354.4; [C:P16] 2023 all hospitals 361.6",
           "SELECT avg(total_fee), sum(total_fee), count(*) FROM outpatient_visit "
           "WHERE NOT is_cancelled AND visit_type IN ('outpatient', 'emergency')"),
    Target("surgical_share", "Discharges with surgery or intervention (category 1/4) / "
           "discharges (§1.4 #4)", 0.35, 0.28, 0.45, "ratio",
           "assumption: national tertiary value UNCONFIRMED (addendum Gap 4)",
           f"SELECT count(s.stay_id) / (SELECT count(*) FROM inpatient_stay), count(s.stay_id), "
           f"(SELECT count(*) FROM inpatient_stay) FROM ({_SURGICAL_STAYS}) s"),
    Target("mi_share", "Surgical discharges with a minimally invasive procedure / surgical "
           "discharges (§1.4 #5)", 0.24, 0.15, 0.35, "ratio",
           "assumption: tertiary value UNCONFIRMED (Gap 4); secondary 2022 14.7 % [C:P9] §5.3",
           f"""SELECT avg(mi::INT), sum(mi::INT), count(*) FROM (
               SELECT s.stay_id, bool_or(c.is_minimally_invasive) AS mi FROM ({_SURGICAL_STAYS}) s
               JOIN stay_procedure p USING (institution_id, stay_id)
               JOIN procedure_catalog c ON c.code = p.procedure_code
               GROUP BY s.institution_id, s.stay_id)"""),
    Target("level4_share", "Surgical discharges with a national level-4 procedure / surgical "
           "discharges (§1.4 #6)", 0.24, 0.15, 0.35, "ratio",
           "assumption: value UNCONFIRMED (Gap 4: A10's 37.82 % rejected)",
           f"""SELECT avg(l4::INT), sum(l4::INT), count(*) FROM (
               SELECT s.stay_id, bool_or(c.is_level4_national) AS l4 FROM ({_SURGICAL_STAYS}) s
               JOIN stay_procedure p USING (institution_id, stay_id)
               JOIN procedure_catalog c ON c.code = p.procedure_code
               GROUP BY s.institution_id, s.stay_id)"""),
    Target("inpatient_mortality", "Discharges with disposition 5 (died) / discharges (§4.3)",
           0.005, 0.002, 0.008, "ratio", "assumption (§4.3 definition; no national figure)",
           "SELECT avg((discharge_disposition = '5')::INT), "
           "sum((discharge_disposition = '5')::INT), count(*) FROM inpatient_stay"),
    Target("appointment_rate", "Outpatient visits booked in advance / outpatient visits "
           "(emergency and health check excluded, §1.4 #22)", 0.65, 0.55, 0.75, "ratio",
           "assumption: national value UNCONFIRMED (Gap 4)",
           "SELECT avg(is_appointment::INT), sum(is_appointment::INT), count(*) "
           "FROM outpatient_visit WHERE visit_type = 'outpatient' AND NOT is_cancelled"),
    Target("antibacterial_ddds", "Inpatient antibacterial DDDs x 100 / patient-days of the "
           "same discharges (§1.4 #17)", 35, 25, 45, "per_100_patient_days",
           "[C:P9] §5.3 secondary 2022 33.7; national target <= 40 [K]",
           f"""WITH drug AS (
               SELECT m.institution_id, m.local_code, d.* FROM code_map m
               JOIN drug_catalog d ON d.code = m.standard_code WHERE m.code_system = 'drug'),
             ddd AS (
               SELECT sum(o.dispensed_dose * su.base / (d.ddd_value * du.base)) AS ddds
               FROM medication_order o
               JOIN inpatient_stay s USING (institution_id, stay_id)
               JOIN drug d ON d.institution_id = o.institution_id AND d.local_code = o.drug_code
               JOIN {_AMOUNT_UNITS} su ON su.unit = d.strength_unit
               JOIN {_AMOUNT_UNITS} du ON du.unit = d.ddd_unit
               WHERE o.setting = 'inpatient' AND d.is_antibacterial AND d.ddd_value > 0)
           SELECT ddds * 100 / (SELECT sum(los_days) FROM inpatient_stay), ddds,
                  (SELECT sum(los_days) FROM inpatient_stay) FROM ddd"""),
    Target("day_surgery_share", "Day-surgery discharges / discharges with elective surgery "
           "(§1.4 #3)", 0.15, 0.10, 0.20, "ratio",
           "[C:P23] Gap 4: 2022 14.2 %; 2023 16.40 % [P]",
           """WITH elective AS (
               SELECT DISTINCT p.institution_id, p.stay_id FROM stay_procedure p
               JOIN procedure_catalog c ON c.code = p.procedure_code
               WHERE c.category IN ('1', '4') AND p.surgery_type = '1')
           SELECT avg(s.is_day_surgery::INT), sum(s.is_day_surgery::INT), count(*)
           FROM elective e JOIN inpatient_stay s USING (institution_id, stay_id)"""),
    Target("outpatient_discharge_ratio", "Outpatient visits (emergency and health check "
           "excluded) / discharges (§1.4 #1)", 22.5, 15, 35, "x:1",
           "[C:P24] Gap 4: 2019 tertiary 688 M outpatient+ED visits / 43.2 M discharges = 15.9",
           "SELECT count(*) / (SELECT count(*) FROM inpatient_stay), count(*), "
           "(SELECT count(*) FROM inpatient_stay) FROM outpatient_visit "
           "WHERE visit_type = 'outpatient' AND NOT is_cancelled"),
    Target("unplanned_readmission_31d", "Discharges (deaths excluded) without a readmission "
           "plan followed within 0-31 days by a readmission with the same 4-character "
           "principal diagnosis / discharges excluding deaths (§4.1)", 0.025, 0.005, 0.04,
           "ratio", "assumption (§4.1 definition; no national figure)",
           """WITH p AS (
               SELECT s.institution_id, s.stay_id, s.patient_local_id, s.admission_time,
                      s.discharge_time, s.readmission_plan, s.discharge_disposition,
                      substr(d.diagnosis_code, 1, 5) AS sub4
               FROM inpatient_stay s JOIN stay_diagnosis d USING (institution_id, stay_id)
               WHERE d.diagnosis_kind = 'discharge' AND d.seq = 1),
             idx AS (SELECT * FROM p WHERE discharge_disposition <> '5'),
             hit AS (
               SELECT DISTINCT i.institution_id, i.stay_id FROM idx i JOIN p r
                 ON r.institution_id = i.institution_id AND r.patient_local_id = i.patient_local_id
                AND r.stay_id <> i.stay_id AND r.sub4 = i.sub4
                AND r.admission_time >= i.discharge_time
                AND date_diff('day', i.discharge_time::DATE, r.admission_time::DATE) <= 31
               WHERE i.readmission_plan = '1')
           SELECT (SELECT count(*) FROM hit) / count(*), (SELECT count(*) FROM hit), count(*)
           FROM idx"""),
)


def target(name: str) -> Target:
    """The target called ``name``."""
    for t in TARGETS:
        if t.name == name:
            return t
    raise GeneratorError(f"no calibration target {name!r}; expected one of "
                         + ", ".join(t.name for t in TARGETS))


def load_tables(folder: Path, names: tuple[str, ...] | None = None) -> dict[str, ds.Dataset]:
    """Arrow datasets of the generated Parquet files in ``folder`` (one per table present)."""
    folder = Path(folder)
    out: dict[str, ds.Dataset] = {}
    for table in CONTRACT.tables:
        if names is not None and table.name not in names:
            continue
        files = sorted(folder.glob(f"{table.name}.parquet")) + \
            sorted((folder / table.name).glob("*.parquet"))
        if files:
            out[table.name] = ds.dataset([str(f) for f in files], format="parquet")
    return out


def measure(tables: Mapping[str, Any]) -> pd.DataFrame:
    """Every target measured on ``tables`` (Arrow tables, datasets or pandas frames by name).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``name, value, low, high, target, ok, numerator, denominator,
        unit, source, description``. A target whose tables are missing has ``value`` NaN and
        ``ok`` False.
    """
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            con.register(name, table)
        rows = []
        for t in TARGETS:
            try:
                value, num, den = con.sql(t.sql).fetchone()
            except duckdb.CatalogException:
                value = num = den = None
            v = float(value) if value is not None else float("nan")
            rows.append({"name": t.name, "value": v, "low": t.low, "high": t.high,
                         "target": t.target, "ok": bool(value is not None and t.contains(v)),
                         "numerator": None if num is None else float(num),
                         "denominator": None if den is None else float(den), "unit": t.unit,
                         "source": t.source, "description": t.description})
        return pd.DataFrame(rows)
    finally:
        con.close()


def measure_folder(folder: Path) -> pd.DataFrame:
    """:func:`measure` over the Parquet files of a generated folder."""
    return measure(load_tables(folder))


__all__ = ["TARGETS", "Target", "load_tables", "measure", "measure_folder", "target"]
