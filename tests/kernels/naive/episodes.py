"""References of :mod:`hospital_sdk.kernels.episodes`: each rule read literally, row by row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["previous_operation_hours", "readmission_gaps", "revisits_within"]


def readmission_gaps(stays: pd.DataFrame, max_gap: int = 31, length: int = 4) -> dict[tuple, int]:
    """For each stay, the latest earlier discharge of the patient, then the four tests."""
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


def previous_operation_hours(groups: Sequence[Any], times: Sequence[Any]) -> list[float | None]:
    """For each operation, hours since the latest operation of its group strictly before it
    (``None`` when there is none or its time is missing); times are ``datetime``\\ s or None."""
    out: list[float | None] = []
    for g, t in zip(groups, times, strict=True):
        earlier = [u for h, u in zip(groups, times, strict=True)
                   if h == g and u is not None and t is not None and u < t]
        out.append(None if not earlier else (t - max(earlier)).total_seconds() / 3600)
    return out


def revisits_within(groups: Sequence[Any], times: Sequence[Any], ids: Sequence[Any],
                    window_hours: float = 72.0) -> list[bool]:
    """For each visit, whether the group's next visit in (time, id) order starts within
    ``window_hours`` after it (inclusive); a ``None`` group never links."""
    out = []
    for g, t, i in zip(groups, times, ids, strict=True):
        later = [(u, j) for h, u, j in zip(groups, times, ids, strict=True)
                 if g is not None and h == g and (u, j) > (t, i)]
        out.append(bool(later) and (min(later)[0] - t).total_seconds() <= window_hours * 3600)
    return out
