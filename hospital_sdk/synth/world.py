"""The world: the hospital group's structure and people, from the reference template and the scale.

The group is a headquarters hospital (tertiary general, two campuses, ~60 % of the activity), a
general branch (tertiary, two campuses, ~25 %) and a geriatric medical centre (tertiary, one
campus, ~15 %, older patients, no obstetrics or paediatrics), plus medical-alliance partners that
patients are referred to and from.

Scale factor (SF)
-----------------
``scale=1`` is one large tertiary hospital-year for the whole group: per year about 5 million
outpatient and emergency visits, 200,000 discharges and more than 40 million medication-order
and charge lines. Activity, beds and staff are linear in SF (with small floors so every ward has
beds and every department has staff at tiny scales); institutions, campuses and departments do
not depend on SF, the number of wards does (one per 45 beds, at least one per inpatient
department).

Examples
--------
>>> from hospital_sdk.synth.reference import load_reference
>>> from hospital_sdk.synth.rng import rng_factory
>>> world = build_world(load_reference(), scale=0.002, years=(2024,), seed=1, rng=rng_factory(1))
>>> world.member_ids
('HK001', 'HK002', 'HK003')
>>> sorted(world.tables())
['campus', 'department', 'institution', 'staff', 'ward', 'ward_beds']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import GeneratorError
from hospital_sdk.synth.group import (
    PARTNERS, build_campuses, build_departments, build_wards, institution_frame,
)
from hospital_sdk.synth.patients import GENERAL_AGES, GERIATRIC_AGES, Population, make_population
from hospital_sdk.synth.rng import RngFactory
from hospital_sdk.synth.schema import DAY, arrow_schema, build_table
from hospital_sdk.synth.staffing import StaffIndex, build_staff
from hospital_sdk.synth.timeline import to_day

VISITS_PER_YEAR = 5_000_000
"""Outpatient + emergency + health-check visits of the group per year at ``scale=1``."""
DISCHARGES_PER_YEAR = 200_000
"""Discharges of the group per year at ``scale=1``."""
SCALE_RANGE = (1e-4, 20.0)


@dataclass(frozen=True)
class World:
    """Everything fixed before activity is generated: structure, staff and the patient base.

    Attributes
    ----------
    scale, years, seed
        Generation parameters.
    reference
        The reference data (:class:`hospital_sdk.synth.reference.Reference`).
    institutions
        Contract columns of ``institution`` plus ``member`` (in the group, not a partner),
        ``share`` (share of the group's activity) and ``patient_prefix``; members first, in the
        order HQ, branch, geriatric centre.
    campuses
        Contract columns of ``campus`` plus ``inst`` (member index).
    departments
        Contract columns of ``department`` plus generator attributes: ``inst``, ``template``
        (template code), ``outpatient_share`` / ``inpatient_share`` (share of the institution's
        visits / discharges), ``beds``, ``min_age``, ``max_age``, ``sex`` (0 either, 1, 2),
        ``respiratory`` (winter season applies), ``is_emergency``, ``is_health_check``.
    wards
        Contract columns of ``ward`` plus ``inst``, ``dept`` (row index into ``departments``),
        ``beds``.
    ward_beds
        Contract columns of ``ward_beds``.
    staff
        Contract columns of ``staff`` plus ``inst`` and ``dept`` (row index into
        ``departments``) and ``core`` (employed throughout); dates are ``datetime.date``
        (``None`` when empty), as in the other frames.
    partners
        Referral partner facilities: ``org_code``, ``name_zh``, ``level`` (facility_level code),
        ``alliance`` (member of the medical alliance), ``in_registry`` (listed in ``institution``).
    population
        The base patient population (:class:`Population`).
    staff_index
        Staff by department and role, to choose who did something (:class:`StaffIndex`).
    """

    scale: float
    years: tuple[int, ...]
    seed: int
    reference: Any
    institutions: pd.DataFrame
    campuses: pd.DataFrame
    departments: pd.DataFrame
    wards: pd.DataFrame
    ward_beds: pd.DataFrame
    staff: pd.DataFrame
    partners: pd.DataFrame
    population: Population = field(repr=False)
    staff_index: StaffIndex = field(repr=False)

    @property
    def start_day(self) -> int:
        """First generated day (days since 1970-01-01)."""
        return to_day(f"{min(self.years)}-01-01")

    @property
    def end_day(self) -> int:
        """Day after the last generated day."""
        return to_day(f"{max(self.years) + 1}-01-01")

    @property
    def start(self) -> int:
        """First generated instant (seconds)."""
        return self.start_day * DAY

    @property
    def end(self) -> int:
        """End of the generated period (seconds, exclusive)."""
        return self.end_day * DAY

    @property
    def months(self) -> list[tuple[int, int]]:
        """``(year, month)`` of every generated month, in order."""
        return [(y, m) for y in sorted(self.years) for m in range(1, 13)]

    @property
    def members(self) -> pd.DataFrame:
        """The group's own institutions (HQ and branches), in member-index order."""
        return self.institutions[self.institutions.member].reset_index(drop=True)

    @property
    def member_ids(self) -> tuple[str, ...]:
        """``institution_id`` of the members, by member index."""
        return tuple(self.members.institution_id)

    def annual_visits(self) -> np.ndarray:
        """Visits per year of each member institution."""
        return VISITS_PER_YEAR * self.scale * self.members.share.to_numpy()

    def annual_discharges(self) -> np.ndarray:
        """Discharges per year of each member institution."""
        return DISCHARGES_PER_YEAR * self.scale * self.members.share.to_numpy()

    def tables(self) -> dict[str, pa.Table]:
        """The master-data source tables: institution, campus, department, ward, ward_beds,
        staff."""
        frames = {"institution": self.institutions, "campus": self.campuses,
                  "department": self.departments, "ward": self.wards,
                  "ward_beds": self.ward_beds, "staff": self.staff}
        return {name: _frame_table(name, frame) for name, frame in frames.items()}


def _frame_table(name: str, frame: pd.DataFrame) -> pa.Table:
    columns: dict[str, Any] = {}
    for f in arrow_schema(name):
        values = frame[f.name]
        if pa.types.is_date(f.type):
            values = pd.to_datetime(values).dt.date.astype(object).where(values.notna(), None)
        columns[f.name] = pa.array(values, f.type, from_pandas=True)
    return build_table(name, columns, n=len(frame))


def validate_parameters(scale: float, years: Sequence[int]) -> tuple[float, tuple[int, ...]]:
    """Checked ``scale`` and sorted, consecutive ``years``.

    >>> validate_parameters(0.01, [2025, 2024])
    (0.01, (2024, 2025))
    >>> validate_parameters(0.01, [2023, 2025])
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.GeneratorError: years must be consecutive, got (2023, 2025)
    """
    if not isinstance(scale, (int, float)) or not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        raise GeneratorError(f"scale must be a number in [{SCALE_RANGE[0]}, {SCALE_RANGE[1]}], "
                             f"got {scale!r}")
    ys = tuple(sorted(int(y) for y in years))
    if not ys:
        raise GeneratorError("years is empty; give at least one year, e.g. (2024, 2025)")
    if len(set(ys)) != len(ys) or ys[-1] - ys[0] != len(ys) - 1:
        raise GeneratorError(f"years must be consecutive, got {ys}")
    if ys[0] < 2000 or ys[-1] > 2100:
        raise GeneratorError(f"years must lie within 2000..2100, got {ys}")
    return float(scale), ys


def build_world(reference: Any, *, scale: float, years: Sequence[int], seed: int,
                rng: RngFactory) -> World:
    """Build the group for ``scale`` and ``years`` from the reference department template.

    Parameters
    ----------
    reference
        Loaded reference data.
    scale
        Scale factor (see the module docstring).
    years
        Consecutive calendar years to generate.
    seed
        The generation seed (kept for the record; randomness comes from ``rng``).
    rng
        Named random streams.
    """
    scale, ys = validate_parameters(scale, years)
    start_day, end_day = to_day(f"{ys[0]}-01-01"), to_day(f"{ys[-1] + 1}-01-01")
    institutions = institution_frame()
    members = institutions[institutions.member].reset_index(drop=True)
    campuses = build_campuses(institutions)
    departments = build_departments(reference.departments, institutions, campuses, start_day,
                                    end_day, rng("world/departments"))
    wards, ward_beds = build_wards(departments, scale, start_day, end_day, rng("world/wards"))
    departments["beds"] = wards.groupby("dept").beds.sum().reindex(
        range(len(departments)), fill_value=0).to_numpy()
    visits = VISITS_PER_YEAR * scale * members.share.to_numpy()
    staff = build_staff(departments, scale, tuple(members.staff_prefix), start_day, end_day,
                        rng("world/staff"))
    persons = np.maximum(200, np.round(visits * (0.30 + 0.12 * (len(ys) - 1)))).astype(np.int64)
    geriatric = int(np.flatnonzero(members.kind.to_numpy() == "geriatric")[0])
    profiles = [GERIATRIC_AGES if k == "geriatric" else GENERAL_AGES for k in members.kind]
    population = make_population(rng("world/population"), persons, profiles,
                                 tuple(members.patient_prefix), start_day, end_day,
                                 geriatric=geriatric)
    return World(scale=scale, years=ys, seed=seed, reference=reference,
                 institutions=institutions, campuses=campuses, departments=departments,
                 wards=wards, ward_beds=ward_beds, staff=staff, partners=PARTNERS.copy(),
                 population=population,
                 staff_index=StaffIndex.build(staff, len(departments)))


__all__ = ["DISCHARGES_PER_YEAR", "VISITS_PER_YEAR", "World", "build_world", "validate_parameters"]
