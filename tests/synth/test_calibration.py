"""Calibration: a small two-year generation lands within every target's tolerance.

The targets (:data:`hospital_sdk.synth.calibration.TARGETS`) carry their own intervals, taken
from the brief and anchored on the national figures of the reference catalog (§5, addendum
Gap 4); this test generates SF 0.005 over 2024-2025 (about 2,000 discharges, 50,000 visits) and
measures each one independently of the generator's internals, in DuckDB.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hospital_sdk.synth import generate
from hospital_sdk.synth.calibration import TARGETS, measure, measure_folder, target

# Intervals stated in the brief; the targets must not be looser than these.
BRIEF = {
    "mean_los": (7.5, 9.5), "cost_per_stay": (11_000, 17_000),
    "cost_per_outpatient_visit": (280, 420), "surgical_share": (0.28, 0.45),
    "mi_share": (0.15, 0.35), "level4_share": (0.15, 0.35),
    "inpatient_mortality": (0.002, 0.008), "appointment_rate": (0.55, 0.75),
    "antibacterial_ddds": (25, 45), "day_surgery_share": (0.10, 0.20),
    "outpatient_discharge_ratio": (15, 35), "unplanned_readmission_31d": (0.005, 0.04),
}


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("calibration")
    generate(folder, scale=0.005, years=(2024, 2025), seed=20240101)
    return measure_folder(folder).set_index("name")


def test_targets_match_the_brief_and_name_their_source():
    assert {t.name for t in TARGETS} == set(BRIEF)
    for t in TARGETS:
        assert (t.low, t.high) == BRIEF[t.name]
        assert t.low <= t.target <= t.high
        assert t.source and t.description


@pytest.mark.parametrize("name", sorted(BRIEF))
def test_generated_data_meet_the_target(measured, name):
    row = measured.loc[name]
    assert row.denominator and row.denominator > 0
    assert target(name).contains(row.value), f"{name} = {row.value:.4g}, expected " \
        f"[{row.low}, {row.high}]"


def test_measure_without_tables_reports_not_measured():
    result = measure({}).set_index("name")
    assert result.value.isna().all() and not result.ok.any()
