"""Reference data of the synthetic generator: catalogs and clinical profiles of a tertiary hospital.

The data are UTF-8 CSV files in ``hospital_sdk/synth/reference/`` (documented, with their sources
and confidence, in that folder's ``README.md``). :func:`load_reference` parses them with explicit
dtypes, validates every value and every cross-reference, and returns a frozen :class:`Reference`
of pandas frames, cached per directory. A broken file raises :class:`GeneratorError` listing every
problem with its file, CSV line and column.

Codes and names follow the national clinical editions where they are known; frequencies,
mortalities, weights and prices are synthetic calibrations, not official tables.

Examples
--------
>>> ref = load_reference()
>>> ref.diagnoses.set_index("code").loc["I21.001", "single_disease"]
'ami'
>>> list(ref.catalog_frame("drg_group").columns)[:3]
['grouper_version', 'drg_code', 'name_zh']
>>> c = ref.calibration()
>>> 7.5 < c.mean_los < 9.5 and 0.002 < c.mortality < 0.008
True
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT
from hospital_sdk.model.tables.catalog import ATC_PATTERN, ICD9CM3_PATTERN, ICD10_PATTERN
from hospital_sdk.synth.reference_rules import (
    COMPLICATION_PREFIXES,
    MASS,
    RULES,
    SINGLE_DISEASE_FILTERS,
    STROKE_EXCLUDED,
    code_values,
    missing,
)

REFERENCE_DIR = Path(__file__).with_name("reference")
GROUPER_VERSION = "CHS-DRG-1.1-synthetic"
VALID_FROM = dt.date(2015, 1, 1)
DRG_PATTERN = r"^[A-Z]{2}[A-Z0-9][0-9]{1,2}$"

#: Contract catalog table -> reference file that feeds it.
CATALOG_SOURCES = {
    "diagnosis_catalog": "diagnoses", "procedure_catalog": "procedures", "drug_catalog": "drugs",
    "consumable_catalog": "consumables", "charge_item_catalog": "charge_items",
    "drg_group": "drg_groups",
}

Kind = Literal["str", "bool", "float", "int", "list"]


@dataclass(frozen=True)
class Field:
    """One declared column of a reference file.

    ``pattern`` / ``codes`` (a contract code set) / ``choices`` / ``ref`` (``"file.column"``)
    apply to the value, or to each item of a ``list`` column.
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    pattern: str | None = None
    codes: str | None = None
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    ref: str | None = None


def _s(name: str, **kw) -> Field:
    return Field(name, "str", **kw)


def _o(name: str, **kw) -> Field:
    return Field(name, "str", required=False, **kw)


def _b(name: str) -> Field:
    return Field(name, "bool")


def _f(name: str, lo: float | None = 0, hi: float | None = None, required: bool = True) -> Field:
    return Field(name, "float", required=required, minimum=lo, maximum=hi)


def _i(name: str, lo: float | None = 0, hi: float | None = None) -> Field:
    return Field(name, "int", minimum=lo, maximum=hi)


def _p(name: str) -> Field:
    """A share or probability in [0, 1]."""
    return Field(name, "float", minimum=0, maximum=1)


def _l(name: str, **kw) -> Field:
    return Field(name, "list", required=False, **kw)


_SPEC = "specialty"
_SPECS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "departments": ("dept_code", (
        _s("dept_code", pattern=r"^[a-z][a-z0-9_]*$"), _s("specialty_code", codes=_SPEC),
        _s("name_zh"), _s("name_en"), _s("kind", codes="dept_kind"), _b("has_outpatient"),
        _b("has_inpatient"), _b("surgical"), _p("outpatient_weight"),
        _p("emergency_weight"), _p("inpatient_weight"),
        _f("mean_los", 1, 60, required=False),
        _f("beds_per_1000_discharges", 0, 300, required=False),
        _p("geriatric_weight"), _p("physician_share"),
        _p("nurse_share"))),
    "diagnoses": ("code", (
        _s("code", pattern=ICD10_PATTERN), _s("name_zh"), _s("name_en"),
        _s("chapter", pattern=r"^[IVX]{1,5}$"), _s("category3", pattern=r"^[A-Z][0-9]{2}$"),
        _o("subcategory4", pattern=r"^[A-Z][0-9]{2}\.[0-9A-Z]$"),
        _s("role", choices=("principal", "comorbidity", "complication", "outpatient", "newborn",
                            "obstetric", "external_cause")),
        _s("code_status", choices=("edition", "category", "assigned")),
        _l("specialty_codes", codes=_SPEC), _f("principal_weight"), _f("outpatient_weight"),
        _f("emergency_weight"), _f("secondary_weight"), _f("mortality", 0, 1, required=False),
        _f("mean_los", 0.5, 60, required=False), _f("los_sd", 0, 60, required=False),
        _f("cost_mean", 100, 1e6, required=False), _o("drg_code", ref="drg_groups.drg_code"),
        _p("surgical_probability"), _l("procedure_codes", ref="procedures.code"),
        _l("nonsurgical_procedure_codes", ref="procedures.code"),
        _p("nonsurgical_procedure_probability"),
        _p("emergency_admission_share"),
        _o("single_disease", choices=tuple(SINGLE_DISEASE_FILTERS)),
        _f("readmission_risk", 0, 0.1), _b("chemo_radio"),
        _o("complication_category", choices=tuple(COMPLICATION_PREFIXES)),
        _l("complication_after_prefixes", pattern=r"^[0-9]{2}(\.[0-9]{0,4})?$"),
        _p("male_share"), _f("age_mean", 0, 110), _f("age_sd", 0, 50),
        _i("age_min", 0, 110), _i("age_max", 0, 120))),
    "procedures": ("code", (
        _s("code", pattern=ICD9CM3_PATTERN), _s("name_zh"), _s("name_en"),
        _s("code_status", choices=("edition", "category", "assigned")),
        _s("category", codes="procedure_category"), _o("operation_level", codes="operation_level"),
        _o("approach", choices=("open", "laparoscopic", "thoracoscopic", "arthroscopic",
                                "endoscopic", "percutaneous", "endovascular")),
        _b("is_minimally_invasive"), _b("is_level4_national"), _b("is_day_surgery_eligible"),
        _p("day_surgery_rate"), _l("specialty_codes", codes=_SPEC), _f("weight"),
        _o("incision_class", codes="incision_class"),
        _s("anaesthesia_method", codes="anaesthesia_method"),
        _o("drg_code", ref="drg_groups.drg_code"), _i("duration_minutes", 1, 10080),
        _i("preop_days", 0, 30), _f("complication_risk", 0, 0.2),
        _o("single_disease", choices=tuple(SINGLE_DISEASE_FILTERS)))),
    "drugs": ("code", (
        _s("code", pattern=r"^[XZ][A-Z0-9]{5}[ABC][0-9]{3}$"), _s("name_zh"), _s("name_en"),
        _s("generic_name"), _s("drug_class"), _o("atc_code", pattern=ATC_PATTERN),
        _s("dosage_form"), _f("strength", 0), _s("strength_unit", codes="ddd_unit"),
        _s("dispensing_unit"),
        _s("revenue_category", choices=("drug_western", "drug_chinese_patent", "drug_herbal")),
        _b("is_essential"), _b("is_vbp"), _b("is_antibacterial"),
        _o("antibacterial_tier", codes="antibacterial_tier"), _f("ddd_value", 0, required=False),
        _o("ddd_unit", codes="ddd_unit"), _b("is_key_monitored"), _b("is_adjuvant"),
        _f("unit_price", 0.01, 1e6), _s("route", codes="administration_route"),
        _f("dose_per_admin", 0), _s("dose_unit", codes="ddd_unit"), _f("frequency_per_day", 0, 48),
        _i("days_typical", 1, 365), _s("setting", choices=("outpatient", "inpatient", "both")),
        _f("usage_weight"), _l("specialty_codes", codes=_SPEC))),
    "consumables": ("code", (
        _s("code", pattern=r"^HC[0-9]{7}$"), _s("name_zh"), _s("name_en"), _s("category"),
        _b("is_high_value"), _b("is_key_monitored"), _f("unit_price", 0.01, 1e6),
        _s("usage", choices=("procedure", "stay", "day")),
        _l("used_with_procedures", ref="procedures.code"), _l("used_with_specialties", codes=_SPEC),
        _l("used_with_anaesthesia", codes="anaesthesia_method"),
        _f("typical_quantity", 0.01, 100))),
    "charge_items": ("code", (
        _s("code", pattern=r"^[0-9]{9}$"), _s("name_zh"), _s("name_en"),
        _s("revenue_category", codes="revenue_category"), _f("unit_price", 0.01, 1e5),
        _s("pricing_unit"), _b("is_special_needs"),
        _s("usage", choices=("registration", "consultation", "bed_day", "nursing_day", "surgery",
                             "anaesthesia", "treatment", "lab", "exam", "pharmacy_service",
                             "other")),
        _o("applies_to"), _s("setting", choices=("outpatient", "emergency", "inpatient", "any")),
        _o("equipment_type", codes="equipment_type"), _o("specimen", codes="specimen_type"))),
    "drg_groups": ("drg_code", (
        _s("drg_code", pattern=DRG_PATTERN), _s("name_zh"), _s("mdc", pattern=r"^MDC[A-Z]$"),
        _s("adrg", pattern=r"^[A-Z]{2}[A-Z0-9]$"), _f("relative_weight", 0.01, 100),
        _b("is_surgical"), _f("reference_los", 0.5, 100), _f("reference_cost", 100, 1e7),
        _f("reference_mortality", 0, 1), _i("risk_grade", 0, 4))),
    "lab_tests": ("test_code", (
        _s("test_code", pattern=r"^LAB[0-9]{4}$"), _s("test_name"), _s("name_en"),
        _s("specimen", codes="specimen_type"), _i("turnaround_minutes", 1, 20160),
        _i("stat_turnaround_minutes", 0, 20160), _p("abnormal_rate"),
        _s("charge_item_code", ref="charge_items.code"), _p("outpatient_order_rate"),
        _p("emergency_order_rate"), _f("inpatient_orders_per_stay", 0, 50),
        _l("specialty_codes", codes=_SPEC))),
    "exam_items": ("exam_item_code", (
        _s("exam_item_code", pattern=r"^EX[0-9]{4}$"), _s("name_zh"), _s("name_en"),
        _o("equipment_type", codes="equipment_type"), _s("body_part"),
        _p("positive_rate"), _i("report_minutes", 1, 20160),
        _s("charge_item_code", ref="charge_items.code"), _p("outpatient_order_rate"),
        _p("emergency_order_rate"), _f("inpatient_orders_per_stay", 0, 50),
        _l("specialty_codes", codes=_SPEC))),
}


@dataclass(frozen=True)
class Calibration:
    """Case-mix figures implied by the reference data (stays weighted by ``principal_weight``).

    Shares among surgical patients count each stay once, by its principal surgery; the DDD
    density assumes ``treated_share`` of inpatients get ``agents_per_patient`` antibacterial
    courses, each drawn by ``usage_weight`` and lasting ``days_typical`` days.
    """

    mean_los: float
    mortality: float
    cost_mean: float
    surgical_share: float
    minimally_invasive_share: float
    level4_share: float
    day_surgery_share_of_elective: float
    complication_rate: float
    case_mix_index: float
    low_risk_share: float
    low_risk_mortality: float
    ddds_per_100_patient_days: float


@dataclass(frozen=True)
class Reference:
    """The reference data, one frame per file (see the folder's README for every column).

    Frames are shared by every caller of the cache: treat them as read-only and copy before
    changing them. List columns hold tuples of strings; optional text is ``<NA>``.
    """

    departments: pd.DataFrame
    diagnoses: pd.DataFrame
    procedures: pd.DataFrame
    drugs: pd.DataFrame
    consumables: pd.DataFrame
    charge_items: pd.DataFrame
    drg_groups: pd.DataFrame
    lab_tests: pd.DataFrame
    exam_items: pd.DataFrame

    def catalog_frame(self, table_name: str) -> pd.DataFrame:
        """Rows for the contract catalog table ``table_name``, with exactly its columns.

        Columns are in contract order with Arrow-backed dtypes matching the contract types
        (``decimal(18,2)`` money, ``date`` validity), so ``pa.Table.from_pandas(frame,
        preserve_index=False)`` gives the contract schema. ``valid_from`` is 2015-01-01 and
        ``valid_to`` is empty; DRG rows carry grouper version ``CHS-DRG-1.1-synthetic``.

        >>> frame = load_reference().catalog_frame("procedure_catalog")
        >>> frame.loc[frame.code == "81.5400", "is_level4_national"].item()
        True
        """
        if table_name not in CATALOG_SOURCES:
            raise GeneratorError(f"no reference data for table {table_name!r}; reference data "
                                 f"feed {sorted(CATALOG_SOURCES)}")
        source = getattr(self, CATALOG_SOURCES[table_name])
        table = CONTRACT.table(table_name)
        n = len(source)
        arrays, names = [], []
        for col in table.columns:
            kind = _arrow_type(col.dtype)
            if col.name == "valid_from":
                values = [VALID_FROM] * n
            elif col.name == "valid_to":
                values = [None] * n
            elif col.name == "grouper_version":
                values = [GROUPER_VERSION] * n
            else:
                values = [None if missing(v) else v for v in source[col.name].tolist()]
                if pa.types.is_decimal(kind):
                    values = [None if v is None else _decimal(v) for v in values]
            arrays.append(pa.array(values, type=kind))
            names.append(col.name)
        return pa.table(arrays, names=names).to_pandas(types_mapper=pd.ArrowDtype)

    def calibration(self, treated_share: float = 0.40, agents_per_patient: float = 1.25
                    ) -> Calibration:
        """Weighted case-mix figures (see :class:`Calibration`)."""
        return _calibration(self, treated_share, agents_per_patient)


def load_reference(directory: str | Path | None = None) -> Reference:
    """Load and validate the reference data (cached; ``directory`` defaults to the package's).

    Raises
    ------
    GeneratorError
        When a file is missing, has other columns than declared, or any value or cross-reference
        is invalid; the message lists each problem as ``file line N, column C: ...``.
    """
    return _load(Path(directory if directory is not None else REFERENCE_DIR).resolve())


@functools.lru_cache(maxsize=8)
def _load(directory: Path) -> Reference:
    issues: list[str] = []
    frames = {name: _parse(directory, name, spec, issues) for name, spec in _SPECS.items()}
    if not issues:
        _check_references(frames, issues)
    if not issues:
        for rule in RULES:
            rule(frames, issues)
    if issues:
        shown = "\n  ".join(issues[:40])
        more = f"\n  ... and {len(issues) - 40} more" if len(issues) > 40 else ""
        raise GeneratorError(f"invalid reference data in {directory}:\n  {shown}{more}")
    return Reference(**frames)


# ---- parsing ----------------------------------------------------------------------------------

def _parse(directory: Path, name: str, spec: tuple[str, tuple[Field, ...]],
           issues: list[str]) -> pd.DataFrame:
    key, declared = spec
    path = directory / f"{name}.csv"
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                          encoding="utf-8")
    except FileNotFoundError:
        issues.append(f"{name}.csv: file not found")
        return pd.DataFrame()
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        issues.append(f"{name}.csv: cannot be read as UTF-8 CSV ({exc})")
        return pd.DataFrame()
    expected = [f.name for f in declared]
    if list(raw.columns) != expected:
        missing = [c for c in expected if c not in raw.columns]
        extra = [c for c in raw.columns if c not in expected]
        issues.append(f"{name}.csv: columns differ from the declaration (missing {missing}, "
                      f"unexpected {extra}; expected order {expected})")
        return pd.DataFrame()
    out = {}
    for f in declared:
        out[f.name] = _convert(name, f, raw[f.name], issues)
    frame = pd.DataFrame(out)
    dupes = frame[key][frame[key].duplicated(keep=False)]
    for i in dupes.index:
        issues.append(f"{name}.csv line {i + 2}, column {key}: duplicate key {frame[key][i]!r}")
    return frame


def _convert(file: str, f: Field, col: pd.Series, issues: list[str]) -> pd.Series:
    def bad(i: int, msg: str) -> None:
        issues.append(f"{file}.csv line {i + 2}, column {f.name}: {msg}")

    text = col.str.strip()
    empty = text == ""
    if f.required and f.kind != "list":
        for i in text.index[empty]:
            bad(i, "value is required")
    if f.kind == "bool":
        for i in text.index[~text.isin(["true", "false"])]:
            bad(i, f"{text[i]!r} is not true/false")
        return (text == "true").astype(bool)
    if f.kind in ("float", "int"):
        values = pd.to_numeric(text.where(~empty), errors="coerce")
        for i in text.index[values.isna() & ~empty]:
            bad(i, f"{text[i]!r} is not a number")
        if f.kind == "int":
            for i in values.index[values.notna() & (values % 1 != 0)]:
                bad(i, f"{text[i]!r} is not a whole number")
        for i in values.index[values.notna()]:
            if (f.minimum is not None and values[i] < f.minimum) or \
                    (f.maximum is not None and values[i] > f.maximum):
                bad(i, f"{values[i]:g} is outside [{f.minimum}, {f.maximum}]")
        if f.kind == "int":
            return values.round().astype("int64" if f.required else "Int64")
        return values.astype("float64")
    items = text.map(lambda s: tuple(t.strip() for t in s.split(";") if t.strip()))
    for i, values in items.items():
        for v in values if f.kind == "list" else values[:1]:
            problem = _value_problem(f, v if f.kind == "list" else text[i])
            if problem:
                bad(i, problem)
    if f.kind == "list":
        return items
    return text.where(~empty).astype("string")


def _value_problem(f: Field, v: str) -> str | None:
    if f.pattern is not None and not re.fullmatch(f.pattern, v):
        return f"{v!r} does not match {f.pattern}"
    if f.codes is not None and v not in code_values(f.codes):
        return f"{v!r} is not in contract code set {f.codes!r}"
    if f.choices is not None and v not in f.choices:
        return f"{v!r} is not one of {list(f.choices)}"
    return None



def _check_references(frames: dict[str, pd.DataFrame], issues: list[str]) -> None:
    for name, (_, declared) in _SPECS.items():
        for f in declared:
            if f.ref is None:
                continue
            target, column = f.ref.split(".")
            known = set(frames[target][column].dropna())
            for i, v in frames[name][f.name].items():
                for item in (v if f.kind == "list" else () if missing(v) else (v,)):
                    if item not in known:
                        issues.append(f"{name}.csv line {i + 2}, column {f.name}: {item!r} "
                                      f"not found in {target}.csv column {column}")


# ---- calibration -----------------------------------------------------------------------------

def _calibration(ref: Reference, treated_share: float, agents: float) -> Calibration:
    d = ref.diagnoses[ref.diagnoses.principal_weight > 0]
    p = ref.procedures.set_index("code")
    g = ref.drg_groups.set_index("drg_code")
    w = d.principal_weight.to_numpy()
    total = w.sum()
    # stays by DRG and by principal surgery
    drg_stays: dict[str, float] = {}
    drg_deaths: dict[str, float] = {}
    surgery: dict[str, float] = {}
    elective: dict[str, float] = {}
    for r in d.itertuples():
        med = r.principal_weight * (1 - r.surgical_probability)
        drg_stays[r.drg_code] = drg_stays.get(r.drg_code, 0) + med
        drg_deaths[r.drg_code] = drg_deaths.get(r.drg_code, 0) + med * r.mortality
        if r.surgical_probability > 0:
            weights = p.loc[list(r.procedure_codes), "weight"]
            for code, share in (weights / weights.sum()).items():
                n = r.principal_weight * r.surgical_probability * share
                surgery[code] = surgery.get(code, 0) + n
                elective[code] = elective.get(code, 0) + n * (1 - r.emergency_admission_share)
                drg = p.loc[code, "drg_code"]
                drg_stays[drg] = drg_stays.get(drg, 0) + n
                drg_deaths[drg] = drg_deaths.get(drg, 0) + n * r.mortality
    operated = sum(surgery.values())
    share = {c: n / operated for c, n in surgery.items()}
    low = [c for c in drg_stays if g.loc[c, "risk_grade"] == 1]
    low_stays = sum(drg_stays[c] for c in low)
    mean_los = float((d.mean_los * w).sum() / total)
    ab = ref.drugs[ref.drugs.is_antibacterial & ref.drugs.setting.isin(["inpatient", "both"])]
    course = (ab.dose_per_admin * ab.frequency_per_day * ab.days_typical
              * ab.dose_unit.map(MASS).fillna(1.0) / ab.ddd_unit.map(MASS).fillna(1.0)
              / ab.ddd_value)
    ddds_per_course = float((course * ab.usage_weight).sum() / ab.usage_weight.sum())
    values = {
        "mean_los": mean_los,
        "mortality": float((d.mortality * w).sum() / total),
        "cost_mean": float((d.cost_mean * w).sum() / total),
        "surgical_share": operated / total,
        "minimally_invasive_share": sum(s for c, s in share.items()
                                        if p.loc[c, "is_minimally_invasive"]),
        "level4_share": sum(s for c, s in share.items() if p.loc[c, "is_level4_national"]),
        "day_surgery_share_of_elective": sum(n * p.loc[c, "day_surgery_rate"] for c, n
                                             in elective.items()) / sum(elective.values()),
        "complication_rate": sum(s * p.loc[c, "complication_risk"] for c, s in share.items()),
        "case_mix_index": sum(n * g.loc[c, "relative_weight"]
                              for c, n in drg_stays.items()) / total,
        "low_risk_share": low_stays / total,
        "low_risk_mortality": sum(drg_deaths[c] for c in low) / low_stays if low_stays else 0.0,
        "ddds_per_100_patient_days": treated_share * agents * ddds_per_course * 100 / mean_los,
    }
    return Calibration(**{k: float(v) for k, v in values.items()})


# ---- helpers ---------------------------------------------------------------------------------

def _decimal(v: float) -> Decimal:
    return Decimal(f"{float(v):.2f}")


def _arrow_type(dtype: str) -> pa.DataType:
    simple = {"string": pa.string(), "boolean": pa.bool_(), "float64": pa.float64(),
              "date": pa.date32(), "int64": pa.int64(), "int32": pa.int32()}
    if dtype in simple:
        return simple[dtype]
    m = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", dtype)
    if not m:
        raise GeneratorError(f"no Arrow type for contract type {dtype!r}")
    return pa.decimal128(int(m.group(1)), int(m.group(2)))


__all__ = [
    "CATALOG_SOURCES", "COMPLICATION_PREFIXES", "GROUPER_VERSION", "REFERENCE_DIR",
    "SINGLE_DISEASE_FILTERS", "STROKE_EXCLUDED", "VALID_FROM", "Calibration", "Field", "Reference",
    "load_reference",
]
