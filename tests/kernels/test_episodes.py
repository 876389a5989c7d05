"""readmission_gaps: the kernel against a slow obvious reference and against the SQL path.

Every expected value in the corner cases is worked out by hand in the comments; the random
groups are compared with :func:`_reference` (a direct reading of the rule) and with
:func:`hospital_sdk.aggregated.episodes.readmission_links` (the Ibis path) row for row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.aggregated.episodes import readmission_links
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.errors import ContractError
from hospital_sdk.kernels import READMISSION_COLUMNS, readmission_gaps


def _reference(stays: pd.DataFrame, max_gap: int = 31, length: int = 4) -> dict[tuple, int]:
    """The rule read literally: for each stay, the latest earlier discharge of the patient."""
    rows = [r for r in stays.to_dict("records") if r["empi_id"] is not None]
    out = {}
    for s in rows:
        before = [p for p in rows if p["institution_id"] == s["institution_id"]
                  and p["empi_id"] == s["empi_id"] and p["stay_id"] != s["stay_id"]
                  and p["discharge_time"] <= s["admission_time"]]
        if not before:
            continue
        p = max(before, key=lambda r: (r["discharge_time"], r["admission_time"], r["stay_id"]))
        gap = (s["admission_time"].date() - p["discharge_time"].date()).days

        def sub(code: Any) -> str | None:
            return None if code is None else code.replace(".", "")[:length]
        if (0 <= gap <= max_gap and p["readmission_plan"] in (None, "1")
                and p["discharge_disposition"] != "5" and sub(s["principal_diagnosis_code"])
                is not None and sub(s["principal_diagnosis_code"])
                == sub(p["principal_diagnosis_code"])):
            out[s["institution_id"], s["stay_id"]] = gap
    return out


def _as_dict(frame: pd.DataFrame) -> dict[tuple, int]:
    return {(r.institution_id, r.stay_id): int(r.readmission_gap_days)
            for r in frame.itertuples()}


def _stays(*rows: tuple) -> pd.DataFrame:
    """(stay, empi, admitted, discharged, plan, disposition, diagnosis) in institution H1."""
    return pd.DataFrame([{
        "institution_id": "H1", "stay_id": sid, "empi_id": empi,
        "admission_time": pd.Timestamp(a), "discharge_time": pd.Timestamp(d),
        "readmission_plan": plan, "discharge_disposition": disp,
        "principal_diagnosis_code": dx} for sid, empi, a, d, plan, disp, dx in rows],
        columns=list(READMISSION_COLUMNS))


def _random_group(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2024-01-01")
    admit = base + pd.to_timedelta(rng.integers(0, 150 * 24, n), unit="h")
    los = pd.to_timedelta(rng.integers(0, 12 * 24, n), unit="h")
    return pd.DataFrame({
        "institution_id": rng.choice(["H1", "H2"], n),
        "stay_id": [f"S{i:04d}" for i in rng.permutation(n)],
        "empi_id": pd.Series(rng.choice(["E1", "E2", "E3", "E4", "E5", "E6", None], n),
                             dtype=object),
        "admission_time": admit, "discharge_time": admit + los,
        "readmission_plan": pd.Series(rng.choice(["1", "1", "1", "2", None], n), dtype=object),
        "discharge_disposition": rng.choice(["1", "1", "1", "2", "5"], n),
        "principal_diagnosis_code": pd.Series(
            rng.choice(["I21.000", "I21.001", "I21.100", "I22.000", "J18.9", None], n),
            dtype=object)})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_groups_equal_the_reference_with_and_without_the_jit(seed: int) -> None:
    stays = _random_group(seed)
    want = _reference(stays)
    assert want  # the random groups do contain readmissions
    assert _as_dict(readmission_gaps(stays)) == want
    assert _as_dict(readmission_gaps(stays, jit=False)) == want


@pytest.mark.parametrize("seed", [11, 12])
def test_random_groups_equal_the_sql_path(seed: int) -> None:
    stays = _random_group(seed, 250)
    cleaned = {
        "inpatient_stay": cleaned_memtable("inpatient_stay", stays.drop(
            columns="principal_diagnosis_code").to_dict("records")),
        "stay_diagnosis": cleaned_memtable("stay_diagnosis", [
            {"institution_id": r.institution_id, "stay_id": r.stay_id,
             "diagnosis_kind": "discharge", "seq": 1, "diagnosis_code": r.principal_diagnosis_code,
             "discharge_time": r.discharge_time}
            for r in stays.itertuples() if r.principal_diagnosis_code is not None])}
    sql = readmission_links(cleaned, dt.datetime(2023, 1, 1), dt.datetime(2025, 1, 1)).execute()
    assert _as_dict(readmission_gaps(stays)) == _as_dict(sql)


def test_windows_ties_and_exclusions_by_hand() -> None:
    stays = _stays(
        # E1: A out 03-05 10:00; B in 03-05 18:00 (same day: gap 0) out 03-10; C in 04-10
        # (gap 31 from B's 03-10: counts); D in 05-12 (gap 32 from C's 04-10 discharge: no)
        ("A", "E1", "2024-03-01", "2024-03-05 10:00", "1", "1", "I21.000"),
        ("B", "E1", "2024-03-05 18:00", "2024-03-10", "1", "1", "I21.001"),
        ("C", "E1", "2024-04-10", "2024-04-10 20:00", None, "1", "I21.099"),
        ("D", "E1", "2024-05-12", "2024-05-13", "1", "1", "I21.000"),
        # E2: F planned (plan 2) -> G not unplanned; G -> H but G died: H not a readmission
        ("F", "E2", "2024-03-01", "2024-03-02", "2", "1", "J18.900"),
        ("G", "E2", "2024-03-03", "2024-03-04", "1", "5", "J18.900"),
        ("H", "E2", "2024-03-05", "2024-03-06", "1", "1", "J18.900"),
        # E3: two stays discharged at the same instant before K: the later admission (J) is
        # the index; J's diagnosis is K00.1, I's is K35: K (K35.8) matches I only -> no link
        ("I", "E3", "2024-03-01", "2024-03-09 12:00", "1", "1", "K35.800"),
        ("J", "E3", "2024-03-08", "2024-03-09 12:00", "1", "1", "K00.100"),
        ("K", "E3", "2024-03-20", "2024-03-21", "1", "1", "K35.800"),
        # E4: same 3 characters, different subcategory (I21.0 vs I21.1): no link
        ("L", "E4", "2024-03-01", "2024-03-02", "1", "1", "I21.000"),
        ("M", "E4", "2024-03-10", "2024-03-11", "1", "1", "I21.100"),
        # no EMPI: never linked
        ("N", None, "2024-03-01", "2024-03-02", "1", "1", "I21.000"),
        ("O", None, "2024-03-03", "2024-03-04", "1", "1", "I21.000"),
    )
    want = {("H1", "B"): 0, ("H1", "C"): 31}
    assert _as_dict(readmission_gaps(stays)) == want == _reference(stays)
    assert _as_dict(readmission_gaps(stays, jit=False)) == want
    # a narrower window: C (31 days) is out; 3 characters: M now matches L (gap 8)
    assert _as_dict(readmission_gaps(stays, max_gap_days=30)) == {("H1", "B"): 0}
    assert _as_dict(readmission_gaps(stays, subcategory_length=3))[("H1", "M")] == 8


def test_empty_one_row_and_bad_input() -> None:
    assert readmission_gaps(_stays()).empty
    one = _stays(("A", "E1", "2024-03-01", "2024-03-02", "1", "1", "I21.000"))
    out = readmission_gaps(one)
    assert out.empty and list(out.columns) == ["institution_id", "stay_id",
                                               "readmission_gap_days"]
    with pytest.raises(ContractError, match=r"lack column\(s\) \['empi_id'\]"):
        readmission_gaps(one.drop(columns="empi_id"))
    with pytest.raises(ValueError, match="max_gap_days must be >= 0"):
        readmission_gaps(one, max_gap_days=-1)
    with pytest.raises(ContractError, match="naive"):
        readmission_gaps(one.assign(admission_time=one["admission_time"].dt.tz_localize("UTC")))
