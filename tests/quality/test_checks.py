"""Each check type on hand-made tables, with counts worked out by hand (see conftest.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis
import pandas as pd
import pytest

from hospital_sdk.quality import CHECK_TYPES, CheckDeclaration, foundation_declarations, run_checks


def one(tables, decl: CheckDeclaration, **kw) -> pd.Series:
    return run_checks(tables, [decl], **kw).iloc[0]


def counts(row: pd.Series) -> tuple[str, int, int]:
    return row.status, int(row.violating_rows), int(row.applicable_rows)


FOUNDATION = {d.id: d for d in foundation_declarations()}


def test_every_required_check_type_is_registered():
    assert {"not_null", "in_code_set", "matches_pattern", "in_range", "row_rule", "unique_key",
            "catalog_membership", "referential_integrity", "exactly_one_child",
            "within_parent_interval", "not_in_future", "timely_arrival"} <= set(CHECK_TYPES)


def test_not_null(tables):
    # stay_diagnosis.diagnosis_code: 9 rows, one null (s4 'other').
    d = CheckDeclaration("c", "not_null", "stay_diagnosis", "diagnosis_code")
    assert counts(one(tables, d)) == ("failed", 1, 9)


def test_in_code_set_ignores_nulls(tables):
    # diagnosis_kind codes: 'other' is not allowed -> 1 of 9.
    d = CheckDeclaration("c", "in_code_set", "stay_diagnosis", "diagnosis_kind",
                         params={"codes": ["admission", "discharge"]})
    assert counts(one(tables, d)) == ("failed", 1, 9)
    # seq is numeric: codes compare as strings; 1 and 2 allowed -> all pass.
    d = CheckDeclaration("c", "in_code_set", "stay_diagnosis", "seq", params={"codes": [1, 2]})
    assert counts(one(tables, d)) == ("passed", 0, 9)


def test_in_code_set_from_contract_code_set():
    t = {"inpatient_stay": ibis.memtable({"payer": ["1", "zz", None]})}
    d = CheckDeclaration("c", "in_code_set", "inpatient_stay", "payer",
                         params={"code_set": "payer"})
    assert counts(one(t, d)) == ("failed", 1, 2)


def test_matches_pattern_is_a_full_match(tables):
    # 8 non-null codes; 'J18.0' fails ^[A-Z][0-9]{2}$ and the pattern must match in full.
    d = CheckDeclaration("c", "matches_pattern", "stay_diagnosis", "diagnosis_code",
                         params={"pattern": "[A-Z][0-9]{2}"})
    assert counts(one(tables, d)) == ("failed", 1, 8)


def test_in_range_bounds_are_inclusive(tables):
    # seq in [1, 1]: the two seq-2 rows violate.
    d = CheckDeclaration("c", "in_range", "stay_diagnosis", "seq",
                         params={"minimum": 1, "maximum": 1})
    assert counts(one(tables, d)) == ("failed", 2, 9)
    only_max = CheckDeclaration("c", "in_range", "stay_diagnosis", "seq", params={"maximum": 2})
    assert counts(one(tables, only_max)) == ("passed", 0, 9)


def test_row_rule_checkin_before_call(tables):
    # v1 ok, v2 called before check-in, v3 no check-in (not applicable), v4 equal times (ok).
    row = one(tables, FOUNDATION["outpatient_visit.checkin_before_call"])
    assert counts(row) == ("failed", 1, 3)
    assert row.protects == ("tertiary.23",)


def test_unique_key_counts_rows_beyond_the_first():
    t = {"x": ibis.memtable({"a": ["1", "1", "1", "2", "3"], "b": [1, 1, 2, 1, 1]})}
    d = CheckDeclaration("c", "unique_key", "x", ("a", "b"))
    # key (1, 1) appears twice -> one extra row.
    assert counts(one(t, d)) == ("failed", 1, 5)


def test_catalog_membership(tables):
    # 8 non-null codes; Z99 and Q00 are not in the catalog (whose null must not hide them).
    row = one(tables, FOUNDATION["stay_diagnosis.diagnosis_code.catalog_membership"])
    assert counts(row) == ("failed", 2, 8)
    assert "tertiary.08" in row.protects


def test_referential_integrity_uses_the_composite_key(tables):
    # (H1,P3) exists only as (H2,P3); (H1,P9) not at all. The duplicated (H1,P1) must not
    # multiply rows: still 5 applicable.
    row = one(tables, FOUNDATION["inpatient_stay.patient.referential_integrity"])
    assert counts(row) == ("failed", 2, 5)


def test_exactly_one_child_principal_diagnosis(tables):
    # 5 stays; s2 has no principal diagnosis, s3 has two -> 2 violating of 5.
    row = one(tables, FOUNDATION["inpatient_stay.principal_diagnosis_present"])
    assert counts(row) == ("failed", 2, 5)
    assert row.kahn_category == "completeness"


def test_within_parent_interval(tables):
    # Applicable: s1, s2, s3, s4 (seq 1), s5 (= discharge time, inclusive) -> 5; the orphan s9
    # and the null time are not. s2 is before admission, s3 after discharge -> 2.
    row = one(tables, FOUNDATION["stay_procedure.procedure_within_stay"])
    assert counts(row) == ("failed", 2, 5)


def test_not_in_future_with_a_date_and_a_datetime(tables):
    d = FOUNDATION["inpatient_stay.discharge_time.not_in_future"]
    # As of the day 2024-02-05: s4 (that day, 10:00) is on time, s5 (Feb 10) is in the future.
    assert counts(one(tables, d, as_of=date(2024, 2, 5))) == ("failed", 1, 5)
    # As of 2024-02-05 09:00, s4 (10:00) is in the future too.
    assert counts(one(tables, d, as_of=datetime(2024, 2, 5, 9))) == ("failed", 2, 5)
    assert counts(one(tables, d, as_of=date(2024, 3, 1))) == ("passed", 0, 5)


# --- timely_arrival -----------------------------------------------------------------------------
# Outpatient visits per institution and month (visit_time):
#            Dec 2023  Jan 2024  Feb 2024  Mar 2024
#   A            4         4         1         2
#   B            2         1         -         5
#   C            -         3         3         1
# With min_ratio 0.5, judged months and why (applicable = the previous month had rows):
#   Jan: A 4 vs 4 ok; B 1 vs 2 ok (not below 1.0); C no December -> 0 of 2
#   Feb: A 1 < 2 late; B 0 < 0.5 late; C 3 vs 3 ok              -> 2 of 3
#   Mar: A 2 vs 1 ok; B no February -> not judged; C 1 < 1.5 late -> 1 of 2
MONTHLY = {"A": [4, 4, 1, 2], "B": [2, 1, 0, 5], "C": [0, 3, 3, 1]}
MONTHS = [datetime(2023, 12, 1), datetime(2024, 1, 1), datetime(2024, 2, 1),
          datetime(2024, 3, 1)]


@pytest.fixture
def arrivals() -> dict[str, ibis.Table]:
    inst, times = [], []
    for name, counts in MONTHLY.items():
        for first, n in zip(MONTHS, counts):
            # spread over the month, the last one on its last evening
            inst += [name] * n
            times += [first + timedelta(days=2 * k, hours=23) for k in range(n)]
    times[0] = datetime(2023, 12, 31, 23, 59)  # A's first December row, at the month's edge
    return {"outpatient_visit": ibis.memtable({"institution_id": inst, "visit_time": times})}


TIMELY = FOUNDATION["outpatient_visit.timely_arrival"]


def test_timely_arrival_reads_the_month_before_the_period(arrivals):
    q1 = (date(2024, 1, 1), date(2024, 4, 1))
    assert counts(one(arrivals, TIMELY, period=q1)) == ("failed", 3, 7)
    # February alone still compares with January, which lies outside the period.
    assert counts(one(arrivals, TIMELY, period=(date(2024, 2, 1), date(2024, 3, 1)))) == \
        ("failed", 2, 3)
    # Without a period, December has no previous month and April is not judged (no data yet).
    assert counts(one(arrivals, TIMELY)) == ("failed", 3, 7)


def test_timely_arrival_by_month(arrivals):
    res = run_checks(arrivals, [TIMELY], by_month=True, period=(date(2024, 1, 1),
                                                                date(2024, 4, 1)))
    got = {p: (s, int(v), int(a)) for p, s, v, a in
           zip(res.partition, res.status, res.violating_rows, res.applicable_rows)}
    assert got == {"2024-01": ("passed", 0, 2), "2024-02": ("failed", 2, 3),
                   "2024-03": ("failed", 1, 2)}


def test_timely_arrival_sees_a_month_with_no_rows_at_all(arrivals):
    # April has no row: the three institutions that sent in March are each late.
    res = run_checks(arrivals, [TIMELY], by_month=True, period=(date(2024, 4, 1),
                                                                date(2024, 5, 1)))
    assert list(res.partition) == ["2024-04"]
    assert counts(res.iloc[0]) == ("failed", 3, 3)


def test_timely_arrival_ratio_and_declaration(arrivals):
    # min_ratio 0.25: only B in February (0 < 0.25) is late; A 1 vs 4 is not below 1.0.
    lenient = CheckDeclaration("c", "timely_arrival", "outpatient_visit", "institution_id",
                               params={"min_ratio": 0.25})
    assert counts(one(arrivals, lenient)) == ("failed", 1, 7)
    assert TIMELY.kahn_category == "plausibility" and TIMELY.severity == "warning"
    assert TIMELY.protects == ("tertiary.01",)
    assert FOUNDATION["inpatient_stay.timely_arrival"].params == {"min_ratio": 0.5}


def test_timely_arrival_needs_a_period_column_and_a_sane_ratio(arrivals):
    t = {"x": ibis.memtable({"institution_id": ["A"]})}
    d = CheckDeclaration("c", "timely_arrival", "x", "institution_id")
    row = one(t, d)
    assert (row.status, row.reason) == ("not_applicable", "table 'x' has no period column")
    bad = CheckDeclaration("c", "timely_arrival", "outpatient_visit", "institution_id",
                           params={"min_ratio": 2})
    row = one(arrivals, bad)
    assert row.status == "error" and "min_ratio must be a number in (0, 1]" in row.reason
