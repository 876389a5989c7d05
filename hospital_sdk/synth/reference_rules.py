"""Consistency rules of the synthetic generator's reference data, and the code families they
check: the 19 surgical-complication categories (indicator 8) and the 10 single diseases
(indicator 10).

Each rule takes the parsed reference frames and appends one message per problem
(``file line N, column C: ...``) to ``issues``; :func:`hospital_sdk.synth.reference.load_reference`
runs them all and raises once with every problem.

Examples
--------
>>> COMPLICATION_PREFIXES["wound_dehiscence"]
('T81.3',)
>>> missing(float("nan")), missing("I21.001")
(True, False)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

import pandas as pd

from hospital_sdk.model import CONTRACT

#: The 19 surgical-complication categories of indicator 8 (catalog §4.8) as ICD-10 prefixes; a
#: code belongs to the category of its longest matching prefix.
COMPLICATION_PREFIXES: dict[str, tuple[str, ...]] = {
    "pulmonary_embolism": ("I26",),
    "deep_vein_thrombosis": ("I80.2", "I82.8"),
    "sepsis": ("A40", "A41", "T81.411", "B37.7"),
    "haemorrhage_haematoma": ("T81.0",),
    "wound_dehiscence": ("T81.3",),
    "sudden_death": ("R96.0", "R96.1", "I46.1"),
    "respiratory_failure": ("J95.800x004", "J96.0", "J96.1", "J96.9"),
    "metabolic_derangement": ("E89",),
    "procedure_infection": ("T81.4",),
    "retained_foreign_body": ("T81.5", "T81.6"),
    "anaesthesia_complication": ("T88.2", "T88.3", "T88.4", "T88.5"),
    "pulmonary_infection_insufficiency": ("J95.1", "J95.2", "J95.3", "J95.4", "J95.8", "J95.9",
                                          "J98.4", "J15", "J16", "J18"),
    "accidental_puncture_laceration": ("T81.2",),
    "acute_renal_failure": ("N17", "N99.0"),
    "organ_system": ("K91", "I97.0", "I97.1", "I97.8", "I97.9", "G97", "I60", "I61", "I62", "I63",
                     "I64", "H59.0", "H59.8", "H59.9", "H95.0", "H95.1", "H95.8", "H95.9", "M96",
                     "N98", "N99", "K11.4"),
    "implant_complication": ("T82", "T83", "T84", "T85"),
    "transplant_complication": ("T86",),
    "replantation_amputation": ("T87.0", "T87.1", "T87.2", "T87.3", "T87.4", "T87.5", "T87.6"),
    "other_procedural": ("T81.1", "T81.7", "T81.8", "T81.9"),
}

#: Code filters of the 10 single diseases of indicator 10 (addendum Gap 2, vendor A1): ICD-10
#: prefixes of the principal diagnosis, or ICD-9-CM-3 prefixes of the principal procedure.
SINGLE_DISEASE_FILTERS: dict[str, tuple[Literal["diagnosis", "procedure"], tuple[str, ...]]] = {
    "ami": ("diagnosis", ("I21",)),
    "heart_failure": ("diagnosis", ("I11.0", "I13.0", "I13.2", "I50")),
    "pneumonia_adult": ("diagnosis", ("J13", "J14", "J15", "J18")),
    "pneumonia_child": ("diagnosis", ("J13", "J14", "J15", "J18")),
    "stroke": ("diagnosis", ("I63",)),
    "copd": ("diagnosis", ("J44.0", "J44.1", "J44.9")),
    "hip_replacement": ("procedure", ("81.51", "81.52")),
    "knee_replacement": ("procedure", ("81.54",)),
    "cabg": ("procedure", ("36.1",)),
    "caesarean": ("procedure", ("74.0", "74.1", "74.2")),
}
#: I63 codes that A1 leaves out of the stroke filter.
STROKE_EXCLUDED = ("I63.301", "I63.302", "I63.401", "I63.801", "I63.802")


def missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))




@functools.cache
def code_values(code_set: str) -> frozenset[str]:
    return frozenset(CONTRACT.code_set(code_set).values)



# ---- consistency rules -----------------------------------------------------------------------

Frames = dict[str, pd.DataFrame]


def _complication_category(code: str) -> str | None:
    best = ("", None)
    for category, prefixes in COMPLICATION_PREFIXES.items():
        for p in prefixes:
            if code.startswith(p) and len(p) > len(best[0]):
                best = (p, category)
    return best[1]


def _single_disease(code: str, kind: str) -> set[str]:
    if kind == "diagnosis" and code in STROKE_EXCLUDED:
        return set()
    return {sd for sd, (k, prefixes) in SINGLE_DISEASE_FILTERS.items()
            if k == kind and code.startswith(prefixes)}


_CHAPTERS = (("A00", "B99", "I"), ("C00", "D48", "II"), ("D50", "D89", "III"),
             ("E00", "E90", "IV"), ("F00", "F99", "V"), ("G00", "G99", "VI"),
             ("H00", "H59", "VII"), ("H60", "H95", "VIII"), ("I00", "I99", "IX"),
             ("J00", "J99", "X"), ("K00", "K93", "XI"), ("L00", "L99", "XII"),
             ("M00", "M99", "XIII"), ("N00", "N99", "XIV"), ("O00", "O99", "XV"),
             ("P00", "P96", "XVI"), ("Q00", "Q99", "XVII"), ("R00", "R99", "XVIII"),
             ("S00", "T98", "XIX"), ("V01", "Y98", "XX"), ("Z00", "Z99", "XXI"),
             ("U00", "U99", "XXII"))


def _chapter(code: str) -> str | None:
    return next((ch for lo, hi, ch in _CHAPTERS if lo <= code[:3] <= hi), None)


def _rule_diagnoses(frames: Frames, issues: list[str]) -> None:
    d, proc, depts = frames["diagnoses"], frames["procedures"], frames["departments"]
    category = dict(zip(proc.code, proc.category, strict=True))
    clinical = depts[depts.kind == "clinical"]
    inpatient = set(clinical.specialty_code[clinical.has_inpatient])
    outpatient = set(clinical.specialty_code[clinical.has_outpatient])
    role_prefix = {"newborn": "P", "obstetric": "O", "external_cause": "VWXY"}
    for i, r in d.iterrows():
        def bad(column: str, msg: str, i: int = i) -> None:
            issues.append(f"diagnoses.csv line {i + 2}, column {column}: {msg}")

        code = r.code
        if r.chapter != _chapter(code):
            bad("chapter", f"{r.chapter!r} but {code} is in chapter {_chapter(code)}")
        if r.category3 != code[:3]:
            bad("category3", f"{r.category3!r} is not the first 3 characters of {code}")
        sub = code[:5] if len(code) >= 5 else None
        if (None if missing(r.subcategory4) else r.subcategory4) != sub:
            bad("subcategory4", f"{r.subcategory4!r} is not the first 5 characters of {code}")
        if r.role in role_prefix and code[0] not in role_prefix[r.role]:
            bad("role", f"{r.role} codes start with {role_prefix[r.role]}, not {code[0]}")
        cat = _complication_category(code)
        if (None if missing(r.complication_category) else r.complication_category) != cat:
            bad("complication_category", f"{r.complication_category!r} but the §4.8 prefixes "
                f"give {cat!r}")
        if r.role == "complication" and cat is None:
            bad("role", f"{code} is not on the surgical-complication list")
        sd = None if missing(r.single_disease) else r.single_disease
        expected = _single_disease(code, "diagnosis")
        if (sd is None and expected) or (sd is not None and sd not in expected):
            bad("single_disease", f"{sd!r} but the A1 code filters give {sorted(expected)}")
        if r.principal_weight > 0:
            for column in ("mortality", "mean_los", "los_sd", "cost_mean", "drg_code"):
                if missing(r[column]):
                    bad(column, "required when principal_weight > 0")
            if not set(r.specialty_codes) & inpatient:
                bad("specialty_codes", "no listed specialty has an inpatient department")
        if r.outpatient_weight > 0 and not set(r.specialty_codes) & outpatient:
            bad("specialty_codes", "no listed specialty runs an outpatient clinic")
        if r.surgical_probability > 0 and not r.procedure_codes:
            bad("procedure_codes", "empty while surgical_probability > 0")
        for p in r.procedure_codes:
            if category.get(p) not in ("1", "4"):
                bad("procedure_codes", f"{p} is not a surgery or intervention (category 1/4)")
        for p in r.nonsurgical_procedure_codes:
            if category.get(p) not in ("2", "3"):
                bad("nonsurgical_procedure_codes", f"{p} is not a category 2/3 procedure")
        if not r.age_min <= r.age_mean <= r.age_max:
            bad("age_mean", f"{r.age_mean:g} is not within [{r.age_min}, {r.age_max}]")


def _rule_procedures(frames: Frames, issues: list[str]) -> None:
    for i, r in frames["procedures"].iterrows():
        def bad(column: str, msg: str, i: int = i) -> None:
            issues.append(f"procedures.csv line {i + 2}, column {column}: {msg}")

        surgical = r.category in ("1", "4")
        for column in ("operation_level", "incision_class", "drg_code", "approach"):
            if surgical and missing(r[column]):
                bad(column, "required for surgery and interventions (category 1/4)")
            if not surgical and not missing(r[column]) and column != "drg_code":
                bad(column, "must be empty for diagnostic/therapeutic procedures")
        for column in ("is_minimally_invasive", "is_level4_national", "is_day_surgery_eligible"):
            if r[column] and not surgical:
                bad(column, "only surgery and interventions carry the national flags")
        if r.is_level4_national and r.operation_level != "4":
            bad("is_level4_national", f"set but operation_level is {r.operation_level!r}")
        if r.is_minimally_invasive and r.approach == "open":
            bad("is_minimally_invasive", "set on an open approach")
        if (r.day_surgery_rate > 0) != r.is_day_surgery_eligible:
            bad("day_surgery_rate", "must be > 0 exactly when is_day_surgery_eligible")
        sd = None if missing(r.single_disease) else r.single_disease
        expected = _single_disease(r.code, "procedure")
        if (sd is None and expected) or (sd is not None and sd not in expected):
            bad("single_disease", f"{sd!r} but the A1 code filters give {sorted(expected)}")


MASS = {"g": 1.0, "mg": 1e-3}


def _rule_drugs(frames: Frames, issues: list[str]) -> None:
    for i, r in frames["drugs"].iterrows():
        def bad(column: str, msg: str, i: int = i) -> None:
            issues.append(f"drugs.csv line {i + 2}, column {column}: {msg}")

        atc = "" if missing(r.atc_code) else r.atc_code
        statutory = atc.startswith(("J01", "J02"))
        if r.is_antibacterial != statutory:
            bad("is_antibacterial", "must be true exactly for ATC J01 (antibacterials) and J02 "
                "(antimycotics)")
        if r.is_antibacterial:
            if missing(r.antibacterial_tier):
                bad("antibacterial_tier", "required for an antibacterial")
            if missing(r.ddd_value) or r.ddd_value <= 0:
                bad("ddd_value", "a positive WHO DDD is required for an antibacterial")
        elif not missing(r.antibacterial_tier):
            bad("antibacterial_tier", "only antibacterials have a tier")
        if missing(r.ddd_value) != missing(r.ddd_unit):
            bad("ddd_unit", "ddd_value and ddd_unit go together")
        if not missing(r.ddd_unit) and r.ddd_unit != r.dose_unit and not (
                r.ddd_unit in MASS and r.dose_unit in MASS):
            bad("ddd_unit", f"{r.ddd_unit!r} cannot be converted from dose unit {r.dose_unit!r}")
        if r.dose_unit != r.strength_unit:
            bad("dose_unit", f"{r.dose_unit!r} differs from strength_unit {r.strength_unit!r}")


def _rule_departments(frames: Frames, issues: list[str]) -> None:
    d = frames["departments"]
    clinical = d[d.kind == "clinical"]
    for i in clinical.index[clinical.specialty_code.duplicated(keep=False)]:
        issues.append(f"departments.csv line {i + 2}, column specialty_code: clinical "
                      f"departments must not share a specialty code")
    for i, r in clinical.iterrows():
        if r.has_inpatient != (r.inpatient_weight > 0):
            issues.append(f"departments.csv line {i + 2}, column inpatient_weight: must be > 0 "
                          f"exactly when has_inpatient")
    diagnoses = frames["diagnoses"]
    for dept_column, dx_column in (("outpatient_weight", "outpatient_weight"),
                                   ("emergency_weight", "emergency_weight"),
                                   ("inpatient_weight", "principal_weight")):
        seen = {s for codes in diagnoses.specialty_codes[diagnoses[dx_column] > 0] for s in codes}
        for i, r in clinical[clinical[dept_column] > 0].iterrows():
            if r.specialty_code not in seen:
                issues.append(f"departments.csv line {i + 2}, column {dept_column}: no diagnosis "
                              f"with {dx_column} > 0 lists specialty {r.specialty_code}")
    for column in ("outpatient_weight", "emergency_weight", "inpatient_weight",
                   "geriatric_weight", "physician_share", "nurse_share"):
        total = d[column].sum()
        if abs(total - 1) > 0.01:
            issues.append(f"departments.csv column {column}: sums to {total:.4f}, not 1")


def _rule_services(frames: Frames, issues: list[str]) -> None:
    charges = frames["charge_items"].set_index("code")
    procedures = set(frames["procedures"].code)
    routes = code_values("administration_route")
    allowed = {"surgery": {"1", "2", "3", "4", "intervention"},
               "anaesthesia": set(code_values("anaesthesia_method")) | {"analgesia"}}
    for i, r in frames["charge_items"].iterrows():
        tokens = [] if missing(r.applies_to) else r.applies_to.split(";")
        where = f"charge_items.csv line {i + 2}, column"
        if r.usage in allowed and (not tokens or set(tokens) - allowed[r.usage]):
            issues.append(f"{where} applies_to: {r.applies_to!r} is not one of "
                          f"{sorted(allowed[r.usage])}")
        if r.usage == "treatment" and any(t not in procedures and t not in routes for t in tokens):
            issues.append(f"{where} applies_to: treatment items list procedure codes or routes")
        if (r.usage == "lab") != (not missing(r.specimen)):
            issues.append(f"{where} specimen: required exactly for lab items")
        if not missing(r.equipment_type) and r.usage != "exam":
            issues.append(f"{where} equipment_type: only examination items name equipment")
    for name, usage in (("lab_tests", "lab"), ("exam_items", "exam")):
        for i, r in frames[name].iterrows():
            item = charges.loc[r.charge_item_code]
            if item.usage != usage:
                issues.append(f"{name}.csv line {i + 2}, column charge_item_code: "
                              f"{r.charge_item_code} is a {item.usage} item, not {usage}")
            if name == "exam_items" and not (missing(r.equipment_type) and missing(
                    item.equipment_type)) and r.equipment_type != item.equipment_type:
                issues.append(f"exam_items.csv line {i + 2}, column equipment_type: differs "
                              f"from charge item {r.charge_item_code}")


def _rule_drg_groups(frames: Frames, issues: list[str]) -> None:
    for i, r in frames["drg_groups"].iterrows():
        if r.mdc != "MDC" + r.drg_code[0] or r.adrg != r.drg_code[:3]:
            issues.append(f"drg_groups.csv line {i + 2}, column mdc: mdc/adrg do not match "
                          f"{r.drg_code}")


RULES: tuple[Callable[[Frames, list[str]], None], ...] = (
    _rule_diagnoses, _rule_procedures, _rule_drugs, _rule_departments, _rule_services,
    _rule_drg_groups)


