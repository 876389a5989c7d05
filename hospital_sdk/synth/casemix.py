"""Case mix: diagnoses and procedures of the reference data as arrays, and who gets which.

:class:`Diagnoses` and :class:`Procedures` hold one element per catalog code with the generator
attributes of the reference (weights, mortality, length of stay, cost, surgical probability,
procedure lists, age and sex profile ...). :class:`Grouped` stores a candidate list per group
(the procedures of each diagnosis, the principal diagnoses of each department) for vectorised
draws with :func:`hospital_sdk.synth.rng.grouped_choice`.

Examples
--------
>>> g = Grouped.build([np.array([3, 4]), np.array([], dtype=np.int64)], [np.ones(2), np.ones(0)])
>>> g.offsets.tolist(), g.index.tolist()
([0, 2, 2], [3, 4])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# diagnoses for which antibacterial treatment is likely (ICD-10 prefixes)
_INFECTION = ("A", "B", "J0", "J1", "J20", "J21", "J22", "J44.0", "J44.1", "J47", "J85", "J86",
              "K35", "K37", "K57", "K61", "K65", "K80.0", "K81", "K83.0", "L0", "M00", "M86",
              "N10", "N11", "N12", "N30", "N39", "N41", "N45", "N70", "N71", "O85", "O86",
              "P23", "P36", "P39", "T81.4", "H66", "I33", "G00", "G04")


def text_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as a NumPy unicode array (missing values as "")."""
    return frame[column].astype(object).where(frame[column].notna(), "").astype(str).to_numpy()


def number_column(frame: pd.DataFrame, column: str, default: float = 0.0) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").fillna(default).to_numpy(float)


def list_column(frame: pd.DataFrame, column: str) -> list[tuple[str, ...]]:
    return [tuple(v) if isinstance(v, (tuple, list)) else () for v in frame[column]]



@dataclass(frozen=True)
class Grouped:
    """Candidates per group (department, diagnosis ...): ``index[offsets[g]:offsets[g+1]]`` with
    their ``weights`` (see :func:`hospital_sdk.synth.rng.grouped_choice`)."""

    offsets: np.ndarray
    index: np.ndarray
    weights: np.ndarray

    @classmethod
    def build(cls, lists: list[np.ndarray], weights: list[np.ndarray]) -> Grouped:
        sizes = np.array([len(x) for x in lists], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        index = np.concatenate(lists).astype(np.int64) if len(lists) else np.zeros(0, np.int64)
        w = np.concatenate(weights).astype(float) if len(weights) else np.zeros(0)
        return cls(offsets, index, w)


@dataclass(frozen=True)
class Diagnoses:
    """The diagnosis catalog as arrays (one element per code)."""

    code: np.ndarray
    name: np.ndarray
    chapter: np.ndarray
    role: np.ndarray
    principal_weight: np.ndarray
    secondary_weight: np.ndarray
    mortality: np.ndarray
    mean_los: np.ndarray
    los_sd: np.ndarray
    cost_mean: np.ndarray
    drg: np.ndarray
    surgical: np.ndarray
    procedures: Grouped
    minor: Grouped
    minor_probability: np.ndarray
    emergency_share: np.ndarray
    readmission: np.ndarray
    chemo: np.ndarray
    complication: np.ndarray
    newborn: np.ndarray
    infection: np.ndarray
    male_share: np.ndarray
    age_mean: np.ndarray
    age_sd: np.ndarray
    age_min: np.ndarray
    age_max: np.ndarray
    specialties: list[tuple[str, ...]]

    @classmethod
    def from_reference(cls, d: pd.DataFrame, procedures: pd.DataFrame,
                       drg_codes: list[str]) -> Diagnoses:
        txt, num, lst = text_column, number_column, list_column
        proc_pos = {c: i for i, c in enumerate(procedures["code"].astype(str))}
        proc_w = num(procedures, "weight", 1.0)
        drg_pos = {c: i for i, c in enumerate(drg_codes)}
        code = txt(d, "code")
        lists = [np.array([proc_pos[c] for c in codes], dtype=np.int64)
                 for codes in lst(d, "procedure_codes")]
        minor = [np.array([proc_pos[c] for c in codes], dtype=np.int64)
                 for codes in lst(d, "nonsurgical_procedure_codes")]
        role = txt(d, "role")
        return cls(
            code=code, name=txt(d, "name_zh"), chapter=txt(d, "chapter"), role=role,
            principal_weight=num(d, "principal_weight"),
            secondary_weight=num(d, "secondary_weight"), mortality=num(d, "mortality"),
            mean_los=num(d, "mean_los", 7.0), los_sd=num(d, "los_sd", 4.0),
            cost_mean=num(d, "cost_mean", 8000.0),
            drg=np.array([drg_pos.get(c, -1) for c in txt(d, "drg_code")], dtype=np.int64),
            surgical=num(d, "surgical_probability"),
            procedures=Grouped.build(lists, [proc_w[x] for x in lists]),
            minor=Grouped.build(minor, [np.ones(len(x)) for x in minor]),
            minor_probability=num(d, "nonsurgical_procedure_probability"),
            emergency_share=num(d, "emergency_admission_share", 0.3),
            readmission=num(d, "readmission_risk"),
            chemo=d["chemo_radio"].astype(bool).to_numpy(),
            complication=(role == "complication") | (txt(d, "complication_category") != ""),
            newborn=role == "newborn",
            infection=np.array([c.startswith(_INFECTION) for c in code]),
            male_share=num(d, "male_share", 0.5), age_mean=num(d, "age_mean", 50),
            age_sd=num(d, "age_sd", 15), age_min=num(d, "age_min", 0),
            age_max=num(d, "age_max", 100),
            specialties=lst(d, "specialty_codes"),
        )


@dataclass(frozen=True)
class Procedures:
    """The procedure catalog as arrays."""

    code: np.ndarray
    name: np.ndarray
    category: np.ndarray
    surgical: np.ndarray
    level: np.ndarray
    minimally_invasive: np.ndarray
    level4: np.ndarray
    day_rate: np.ndarray
    incision: np.ndarray
    anaesthesia: np.ndarray
    drg: np.ndarray
    duration: np.ndarray
    preop_days: np.ndarray
    complication_risk: np.ndarray

    @classmethod
    def from_reference(cls, p: pd.DataFrame, drg_codes: list[str]) -> Procedures:
        txt, num = text_column, number_column
        drg_pos = {c: i for i, c in enumerate(drg_codes)}
        category = txt(p, "category")
        return cls(
            code=txt(p, "code"), name=txt(p, "name_zh"), category=category,
            surgical=np.isin(category, ["1", "4"]), level=txt(p, "operation_level"),
            minimally_invasive=p["is_minimally_invasive"].astype(bool).to_numpy(),
            level4=p["is_level4_national"].astype(bool).to_numpy(),
            day_rate=np.where(p["is_day_surgery_eligible"].astype(bool), num(p, "day_surgery_rate"),
                              0.0),
            incision=txt(p, "incision_class"), anaesthesia=txt(p, "anaesthesia_method"),
            drg=np.array([drg_pos.get(c, -1) for c in txt(p, "drg_code")], dtype=np.int64),
            duration=num(p, "duration_minutes", 60), preop_days=num(p, "preop_days", 1),
            complication_risk=num(p, "complication_risk"),
        )


