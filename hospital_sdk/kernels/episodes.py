"""Episode linking over patient-sorted stays: 0–31-day unplanned readmission.

:func:`readmission_gaps` computes, for every stay, whether it is an unplanned readmission and
its gap in days, by the rule of :mod:`hospital_sdk.aggregated.episodes` (national-indicators.md
§4.1): the index stay is the same patient's (same institution, same non-null ``empi_id``) stay
with the latest discharge at or before this admission (ties: the later admission, then the
larger ``stay_id``); the stay is an unplanned readmission when ``0 <= gap <= max_gap_days``
(calendar days between the index discharge and this admission), the index had no readmission
plan (``readmission_plan`` ``'1'`` or missing), did not end in death (disposition ``'5'``), and
both principal diagnoses share their first ``subcategory_length`` characters once the dot is
removed. It is the same calculation as the SQL path's
:func:`~hospital_sdk.aggregated.episodes.readmission_links` over the same stays (the tests
compare the two on seeded random groups), as one pass over arrays sorted by patient.

Examples
--------
>>> import pandas as pd
>>> stays = pd.DataFrame({
...     "institution_id": ["H1"] * 3, "stay_id": ["A", "B", "C"], "empi_id": ["E1"] * 3,
...     "admission_time": pd.to_datetime(["2024-03-01", "2024-03-20", "2024-05-01"]),
...     "discharge_time": pd.to_datetime(["2024-03-05", "2024-03-25", "2024-05-03"]),
...     "readmission_plan": ["1", "1", None], "discharge_disposition": ["1", "1", "1"],
...     "principal_diagnosis_code": ["I21.000", "I21.001", "I21.000"]})
>>> readmission_gaps(stays)
  institution_id stay_id  readmission_gap_days
0             H1       B                    15
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.config import kernel

__all__ = ["READMISSION_COLUMNS", "readmission_gaps"]

READMISSION_COLUMNS: tuple[str, ...] = (
    "institution_id", "stay_id", "empi_id", "admission_time", "discharge_time",
    "readmission_plan", "discharge_disposition", "principal_diagnosis_code")
"""The columns :func:`readmission_gaps` reads (one row per stay)."""

_NO_PLAN, _DEATH = "1", "5"
_DAY_NS = 86_400_000_000_000


@kernel
def _link(group: np.ndarray, admit_ns: np.ndarray, discharge_ns: np.ndarray,
          admit_day: np.ndarray, discharge_day: np.ndarray, rank: np.ndarray,
          plan_ok: np.ndarray, died: np.ndarray, subcategory: np.ndarray,
          max_gap: int) -> np.ndarray:  # pragma: no cover - compiled; py_func is tested
    """Gap in days of each unplanned readmission, -1 elsewhere; rows sorted by ``group``."""
    n = group.shape[0]
    out = np.full(n, -1, np.int32)
    start = 0
    while start < n:
        end = start + 1
        while end < n and group[end] == group[start]:
            end += 1
        for i in range(start, end):
            best = -1
            for j in range(start, end):
                if j == i or discharge_ns[j] > admit_ns[i]:
                    continue
                if best < 0 or discharge_ns[j] > discharge_ns[best] or (
                        discharge_ns[j] == discharge_ns[best] and (
                            admit_ns[j] > admit_ns[best] or (
                                admit_ns[j] == admit_ns[best] and rank[j] > rank[best]))):
                    best = j
            if best >= 0:
                gap = admit_day[i] - discharge_day[best]
                if (0 <= gap <= max_gap and plan_ok[best] and not died[best]
                        and subcategory[i] >= 0 and subcategory[i] == subcategory[best]):
                    out[i] = gap
        start = end
    return out


def _nanoseconds(values: pd.Series, name: str) -> np.ndarray:
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        raise ContractError(f"readmission_gaps: {name} must be a naive (local) timestamp")
    return stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _arrays(s: pd.DataFrame, subcategory_length: int) -> tuple[pd.DataFrame, tuple]:
    """The stays sorted by patient and admission, and the kernel's input arrays in that order
    (everything :func:`_link` takes but ``max_gap``)."""
    s = s.assign(
        _group=s.groupby(["institution_id", "empi_id"], sort=True).ngroup().to_numpy(),
        _rank=pd.factorize(s["stay_id"].astype(str), sort=True)[0],
        _admit=_nanoseconds(s["admission_time"], "admission_time"),
        _discharge=_nanoseconds(s["discharge_time"], "discharge_time"))
    s = s.sort_values(["_group", "_admit", "_discharge", "_rank"], kind="stable")
    code = s["principal_diagnosis_code"].astype("string").str.replace(".", "", regex=False)
    subcategory = pd.factorize(code.str.slice(0, subcategory_length))[0]  # -1 when missing
    admit, discharge = s["_admit"].to_numpy(), s["_discharge"].to_numpy()
    return s, (s["_group"].to_numpy(np.int64), admit, discharge, admit // _DAY_NS,
               discharge // _DAY_NS, s["_rank"].to_numpy(np.int64),
               (s["readmission_plan"].isna() | (s["readmission_plan"] == _NO_PLAN)).to_numpy(),
               (s["discharge_disposition"] == _DEATH).fillna(False).to_numpy(bool),
               subcategory.astype(np.int64))


def readmission_gaps(stays: pd.DataFrame, *, max_gap_days: int = 31,
                     subcategory_length: int = 4, jit: bool = True) -> pd.DataFrame:
    """Unplanned readmissions among ``stays`` and their gaps in days (see the module).

    Parameters
    ----------
    stays
        One row per stay with :data:`READMISSION_COLUMNS` (others are ignored): every stay a
        readmission may be linked to, so include the look-back (31 days before the first stay
        whose flag is wanted). Stays without ``empi_id`` or times are never linked.
    max_gap_days
        Largest gap between the index discharge and the readmission (31).
    subcategory_length
        Characters of the undotted principal diagnosis that must match (4).
    jit
        ``False`` runs the kernel's Python body (the reference for coverage and debugging).

    Returns
    -------
    pandas.DataFrame
        ``institution_id, stay_id, readmission_gap_days`` (int32) for each stay that is an
        unplanned readmission, ordered by institution and stay; the others are absent.

    Raises
    ------
    ContractError
        A column is missing, or a time is not a naive timestamp.
    ValueError
        ``max_gap_days`` is negative or ``subcategory_length`` not positive.
    """
    if max_gap_days < 0:
        raise ValueError(f"max_gap_days must be >= 0, got {max_gap_days!r}")
    if subcategory_length < 1:
        raise ValueError(f"subcategory_length must be >= 1, got {subcategory_length!r}")
    missing = [c for c in READMISSION_COLUMNS if c not in stays.columns]
    if missing:
        raise ContractError(f"readmission_gaps: stays lack column(s) {missing}; it reads "
                            f"{list(READMISSION_COLUMNS)}")
    empty = pd.DataFrame({"institution_id": pd.Series(dtype=object),
                          "stay_id": pd.Series(dtype=object),
                          "readmission_gap_days": pd.Series(dtype=np.int32)})
    s = stays.loc[stays["empi_id"].notna() & stays["admission_time"].notna()
                  & stays["discharge_time"].notna(), list(READMISSION_COLUMNS)]
    if s.empty:
        return empty
    s, arrays = _arrays(s, subcategory_length)
    run = _link if jit else _link.py_func
    gaps = run(*arrays, int(max_gap_days))
    out = s.loc[gaps >= 0, ["institution_id", "stay_id"]].assign(
        readmission_gap_days=gaps[gaps >= 0].astype(np.int32))
    if out.empty:
        return empty
    return out.sort_values(["institution_id", "stay_id"], kind="stable").reset_index(drop=True)
