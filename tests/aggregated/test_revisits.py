"""emergency_revisits on hand-made visits (March 2024), both methods.

Each patient proves one rule; the hours between registrations are worked out in the comments.
"""

from __future__ import annotations

from datetime import datetime as dt

import pytest

from hospital_sdk.aggregated.inputs import cleaned_memtable as table
from hospital_sdk.aggregated.revisits import emergency_revisits
from hospital_sdk.store.partitions import month_bounds

START, END = month_bounds("2024-03")
ER, OPD = "emergency", "outpatient"

# (institution, visit, empi, type, visit_time, cancelled)
VISITS = [
    ("H1", "A1", "E1", ER, dt(2024, 3, 1, 10), False),
    ("H1", "A2", "E1", ER, dt(2024, 3, 4, 10), False),    # A1 -> A2: 72 h exactly: A1 True
    ("H1", "A3", "E1", ER, dt(2024, 3, 7, 10, 1), False),  # A2 -> A3: 72 h 1 min: A2 False
    ("H1", "B1", "E2", ER, dt(2024, 3, 5, 8), False),
    ("H1", "B2", "E2", OPD, dt(2024, 3, 6, 8), False),    # an outpatient visit: not a return
    ("H1", "B3", "E2", ER, dt(2024, 3, 5, 20), True),     # cancelled: not a return
    ("H1", "C1", "E3", ER, dt(2024, 3, 10, 9, 30), False),
    ("H1", "C2", "E3", ER, dt(2024, 3, 10, 9, 30), False),  # same minute: C1 returns in 0 h
    ("H2", "D1", "E4", ER, dt(2024, 3, 12, 9), False),
    ("H1", "D2", "E4", ER, dt(2024, 3, 12, 11), False),   # other institution: D1 False
    ("H1", "F1", None, ER, dt(2024, 3, 14, 9), False),
    ("H1", "F2", None, ER, dt(2024, 3, 14, 10), False),   # no EMPI: never linked
    ("H1", "G1", "E5", ER, dt(2024, 3, 31, 22), False),
    ("H1", "G2", "E5", ER, dt(2024, 4, 3, 22), False),    # 2 h + 48 h + 22 h = 72 h: G1 True
    ("H1", "H0", "E6", ER, dt(2024, 2, 28, 10), False),   # February: not in the output
    ("H1", "H1", "E6", ER, dt(2024, 3, 2, 9), False),     # H1 has no later visit: False
]
EXPECTED = {"A1": True, "A2": False, "A3": False, "B1": False, "C1": True, "C2": False,
            "D1": False, "D2": False, "F1": False, "F2": False, "G1": True, "H1": False}
"""Every non-cancelled emergency visit of March, by hand from the comments above."""


def _tables(rows: list[tuple] = VISITS) -> dict:
    return {"outpatient_visit": table("outpatient_visit", [
        {"institution_id": i, "visit_id": v, "empi_id": e, "visit_type": k, "visit_time": t,
         "is_cancelled": c} for i, v, e, k, t, c in rows])}


@pytest.mark.parametrize("method", ["sql", "kernel", "auto"])
def test_every_rule_on_the_hand_made_visits(method: str) -> None:
    rows = emergency_revisits(_tables(), START, END, method=method).to_pyarrow().to_pylist()
    assert len(rows) == len(EXPECTED)
    assert {r["visit_id"]: r["has_return_visit"] for r in rows} == EXPECTED


@pytest.mark.parametrize("method", ["sql", "kernel"])
def test_the_window_is_a_parameter_and_empty_months_are_empty(method: str) -> None:
    rows = emergency_revisits(_tables(), START, END, window_hours=72 + 1 / 60,
                              method=method).to_pyarrow().to_pylist()
    # 72 h 1 min now takes A2 -> A3 too
    assert {r["visit_id"] for r in rows if r["has_return_visit"]} == {"A1", "A2", "C1", "G1"}
    assert emergency_revisits(_tables([]), START, END, method=method).to_pyarrow().num_rows == 0
    one = emergency_revisits(_tables(VISITS[:1]), START, END, method=method)
    assert one.to_pyarrow().to_pylist() == [
        {"institution_id": "H1", "visit_id": "A1", "has_return_visit": False}]


def test_bad_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window_hours"):
        emergency_revisits(_tables(), START, END, window_hours=float("nan"))
