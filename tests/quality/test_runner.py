"""Result shape: passed / failed / not_applicable with a reason / error; period; backends."""

from __future__ import annotations

from datetime import date
from datetime import datetime as dt

import ibis
import pandas as pd

from hospital_sdk.model import CONTRACT
from hospital_sdk.quality import (
    CHECK_TYPES, PARTITION, RESULT_COLUMNS, CheckContext, CheckDeclaration, blocking_failures,
    contract_declarations, foundation_declarations, run_checks, with_thresholds,
)
from tests.quality.conftest import DIAGNOSES, STAYS

FOUNDATION = {d.id: d for d in foundation_declarations()}


def test_result_shape(tables):
    res = run_checks(tables, list(FOUNDATION.values()), as_of=date(2024, 3, 1))
    assert tuple(res.columns) == RESULT_COLUMNS
    assert list(res.check_id) == list(FOUNDATION)
    assert set(res.status) <= {"passed", "failed", "not_applicable", "error"}
    assert str(res.violating_rows.dtype) == "Int64"
    # procedure_catalog is not in the fixtures: not applicable, and it says why.
    row = res.set_index("check_id").loc["stay_procedure.procedure_code.catalog_membership"]
    assert row.status == "not_applicable"
    assert row.reason == "no table 'procedure_catalog'"


def test_threshold_is_the_largest_passing_rate():
    # 10 rows, 1 null -> rate 0.1.
    t = {"x": ibis.memtable({"v": [None] + list(range(9))}, schema={"v": "int64"})}
    d = CheckDeclaration("c", "not_null", "x", "v", threshold=0.2)
    row = run_checks(t, [d]).iloc[0]
    assert (row.status, int(row.violating_rows), int(row.applicable_rows)) == ("passed", 1, 10)
    assert row.rate == 0.1
    strict = with_thresholds([d], {"c": 0.05})
    assert run_checks(t, strict).iloc[0].status == "failed"
    assert run_checks(t, with_thresholds([d], {"c": 0.1})).iloc[0].status == "passed"


def test_missing_column_is_not_applicable(tables):
    d = CheckDeclaration("c", "not_null", "inpatient_stay", "los_days")
    row = run_checks(tables, [d]).iloc[0]
    assert row.status == "not_applicable"
    assert row.reason == "table 'inpatient_stay' has no column 'los_days'"
    assert pd.isna(row.violating_rows) and pd.isna(row.applicable_rows)


def test_empty_table_is_not_applicable():
    t = {"x": ibis.memtable(pd.DataFrame({"v": pd.Series([], dtype="int64")}))}
    row = run_checks(t, [CheckDeclaration("c", "not_null", "x", "v")]).iloc[0]
    assert (row.status, row.reason) == ("not_applicable", "no rows to check")
    assert int(row.applicable_rows) == 0


def test_error_is_not_failed_and_does_not_stop_the_run(tables):
    decls = [
        # a string compared with a number: the expression cannot even be built
        CheckDeclaration("build", "in_range", "stay_diagnosis", "diagnosis_code",
                         params={"minimum": 0}),
        # an invalid regular expression: fails when the backend runs it
        CheckDeclaration("run", "matches_pattern", "stay_diagnosis", "diagnosis_code",
                         params={"pattern": "([A-Z"}),
        CheckDeclaration("ok", "not_null", "stay_diagnosis", "stay_id"),
    ]
    res = run_checks(tables, decls).set_index("check_id")
    assert list(res.status) == ["error", "error", "passed"]
    assert res.loc["build"].reason and res.loc["run"].reason
    assert pd.isna(res.loc["run"].violating_rows)
    assert list(blocking_failures(res.reset_index()).check_id) == ["build", "run"]


def test_period_filters_only_the_checked_table(tables):
    january = (date(2024, 1, 1), date(2024, 2, 1))
    # Stays discharged in January: s1, s2, s3 (Jan 31 23:00); s2 and s3 lack one principal dx.
    row = run_checks(tables, [FOUNDATION["inpatient_stay.principal_diagnosis_present"]],
                     period=january).iloc[0]
    assert (row.status, int(row.violating_rows), int(row.applicable_rows)) == ("failed", 2, 3)
    # Procedures done in January: s1, s2, s9 (orphan), s4 (its stay ends in February, and is
    # still found: parents are not filtered) -> applicable s1, s2, s4; s2 is outside.
    row = run_checks(tables, [FOUNDATION["stay_procedure.procedure_within_stay"]],
                     period=january).iloc[0]
    assert (row.status, int(row.violating_rows), int(row.applicable_rows)) == ("failed", 1, 3)
    # stay_diagnosis has no period column: read whole.
    row = run_checks(tables, [CheckDeclaration("c", "not_null", "stay_diagnosis",
                                               "diagnosis_code")], period=january).iloc[0]
    assert int(row.applicable_rows) == 9


def test_on_a_duckdb_backend_with_a_database_name(tables):
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE SCHEMA cleaned")
    for name in ("inpatient_stay", "stay_diagnosis"):
        con.create_table(name, tables[name].to_pyarrow(), database="cleaned")
    decls = [FOUNDATION["inpatient_stay.principal_diagnosis_present"],
             FOUNDATION["inpatient_stay.patient.referential_integrity"]]
    res = run_checks((con, "cleaned"), decls).set_index("check_id")
    assert int(res.loc["inpatient_stay.principal_diagnosis_present"].violating_rows) == 2
    missing = res.loc["inpatient_stay.patient.referential_integrity"]
    assert (missing.status, missing.reason) == ("not_applicable", "no table 'patient' in 'cleaned'")


def test_every_declaration_builds_on_the_contract_schema():
    """Contract and foundation checks all run on empty stored-schema tables: none errors."""
    con = ibis.duckdb.connect()
    for t in CONTRACT.tables:
        con.create_table(t.name, schema=t.stored_schema())
    decls = [*contract_declarations(CONTRACT), *foundation_declarations(CONTRACT)]
    res = run_checks(con, decls)
    assert res[res.status == "error"].empty, res[res.status == "error"].reason.tolist()
    assert set(res.status) == {"not_applicable"}
    assert set(res.reason) == {"no rows to check"}


# --- results per month --------------------------------------------------------------------------

def by_month(res: pd.DataFrame) -> dict[str | None, tuple[str, int, int]]:
    """partition -> (status, violating, applicable) of a one-check result frame."""
    return {p: (s, int(v), int(a)) for p, s, v, a in
            zip(res.partition, res.status, res.violating_rows, res.applicable_rows)}


def test_without_by_month_partition_is_none(tables):
    res = run_checks(tables, [FOUNDATION["inpatient_stay.principal_diagnosis_present"]])
    assert list(res.partition) == [None]


def test_by_month_joins_take_the_month_from_the_subject_rows(tables):
    # Stays by discharge month: January s1, s2, s3 (s3 at Jan 31 23:00); February s4, s5.
    # Principal diagnosis (child rows carry no date): s2 none, s3 two -> January 2 of 3,
    # February 0 of 2.
    res = run_checks(tables, [FOUNDATION["inpatient_stay.principal_diagnosis_present"]],
                     by_month=True)
    assert by_month(res) == {"2024-01": ("failed", 2, 3), "2024-02": ("passed", 0, 2)}
    # Patients: January s3 (H1,P3) is missing; February s5 (H1,P9) is missing.
    res = run_checks(tables, [FOUNDATION["inpatient_stay.patient.referential_integrity"]],
                     by_month=True)
    assert by_month(res) == {"2024-01": ("failed", 1, 3), "2024-02": ("failed", 1, 2)}
    # Procedures by procedure month, whatever month their stay ended: January s1, s2 (before
    # admission), s9 (orphan: not applicable), s4 seq 1 (Jan 31 12:00, stay ends Feb 5) ->
    # 1 of 3; February s3 (after discharge), s5 -> 1 of 2. s4 seq 2 has no time: partition None,
    # nothing applicable there.
    res = run_checks(tables, [FOUNDATION["stay_procedure.procedure_within_stay"]],
                     by_month=True)
    assert by_month(res) == {"2024-01": ("failed", 1, 3), "2024-02": ("failed", 1, 2),
                             None: ("not_applicable", 0, 0)}
    assert list(res.partition) == ["2024-01", "2024-02", None]


def test_by_month_within_a_period_and_months_without_rows_absent():
    stays = ibis.memtable({
        "institution_id": ["H1"] * 4, "stay_id": ["a", "b", "c", "d"],
        "discharge_time": [dt(2024, 1, 9), dt(2024, 3, 2), dt(2024, 3, 30), dt(2024, 4, 1)],
        "los_days": [3, None, 4, 5],
    })
    d = CheckDeclaration("c", "not_null", "inpatient_stay", "los_days")
    # No February row: no February result. April 1 00:00 is outside [Jan 1, Apr 1).
    res = run_checks({"inpatient_stay": stays}, [d], by_month=True,
                     period=(date(2024, 1, 1), date(2024, 4, 1)))
    assert by_month(res) == {"2024-01": ("passed", 0, 1), "2024-03": ("failed", 1, 2)}


def test_by_month_unique_key_counts_a_repeat_in_the_later_month():
    # k1 twice in January and once in February, k2 twice in February, k3 once in January.
    # January: k1, k1, k3 -> 1 extra of 3. February: k1 (first seen in January), k2, k2 ->
    # 2 extra of 3. Together 3 of 6, as without months.
    t = ibis.memtable({
        "institution_id": ["H1"] * 6, "stay_id": ["k1", "k1", "k3", "k1", "k2", "k2"],
        "discharge_time": [dt(2024, 1, 1), dt(2024, 1, 2), dt(2024, 1, 3), dt(2024, 2, 1),
                           dt(2024, 2, 2), dt(2024, 2, 3)],
    })
    d = CheckDeclaration("c", "unique_key", "inpatient_stay", ("institution_id", "stay_id"))
    res = run_checks({"inpatient_stay": t}, [d], by_month=True)
    assert by_month(res) == {"2024-01": ("failed", 1, 3), "2024-02": ("failed", 2, 3)}
    assert by_month(run_checks({"inpatient_stay": t}, [d])) == {None: ("failed", 3, 6)}


def test_by_month_on_a_table_without_period_column_gives_one_row(tables):
    d = CheckDeclaration("c", "not_null", "stay_diagnosis", "diagnosis_code")
    assert by_month(run_checks(tables, [d], by_month=True)) == {None: ("failed", 1, 9)}


def test_period_columns_override_the_contract(tables):
    # stay_diagnosis as the cleaned layer stores it, with its stay's discharge time
    # (H2/s1 is given March). Null diagnosis codes: only s4's 'other' row (February).
    discharge = dict(zip(STAYS.stay_id, STAYS.discharge_time))
    dx = DIAGNOSES.assign(discharge_time=[discharge[s] if i == "H1" else dt(2024, 3, 3)
                                          for i, s in zip(DIAGNOSES.institution_id,
                                                          DIAGNOSES.stay_id)])
    t = {"stay_diagnosis": ibis.memtable(dx)}
    d = CheckDeclaration("c", "not_null", "stay_diagnosis", "diagnosis_code")
    over = {"stay_diagnosis": "discharge_time"}
    # January: s1, s2 (2), s3 (2) = 5 rows; February: s4 (2), s5 = 3 rows; March: 1 row.
    res = run_checks(t, [d], by_month=True, period_columns=over)
    assert by_month(res) == {"2024-01": ("passed", 0, 5), "2024-02": ("failed", 1, 3),
                             "2024-03": ("passed", 0, 1)}
    # The override also restricts the period.
    res = run_checks(t, [d], period=(date(2024, 2, 1), date(2024, 3, 1)), period_columns=over)
    assert by_month(res) == {None: ("failed", 1, 3)}
    # Overriding with a column the table lacks: not applicable, saying which.
    res = run_checks(t, [d], by_month=True, period_columns={"stay_diagnosis": "dx_time"})
    assert res.reason[0] == "table 'stay_diagnosis' has no period column 'dx_time'"


def test_by_month_is_one_query_per_check(tables):
    """The builder returns one expression: one row per month, not one query per month."""
    decl = FOUNDATION["inpatient_stay.principal_diagnosis_present"]
    ctx = CheckContext(tables.__getitem__, period_columns={"inpatient_stay": "discharge_time"},
                       by_month=True)
    expr = CHECK_TYPES[decl.check_type].build(ctx, decl)
    assert set(expr.columns) == {PARTITION, "violating", "applicable"}
    assert len(expr.to_pandas()) == 2


def test_by_month_on_an_empty_table_says_so():
    t = {"inpatient_stay": ibis.memtable(pd.DataFrame({
        "stay_id": pd.Series([], dtype="str"),
        "discharge_time": pd.Series([], dtype="datetime64[us]")}))}
    res = run_checks(t, [CheckDeclaration("c", "not_null", "inpatient_stay", "stay_id")],
                     by_month=True)
    assert (res.partition[0], res.status[0], res.reason[0]) == (
        None, "not_applicable", "no rows to check in any month")


def test_period_column_that_is_no_date_is_an_error():
    t = {"inpatient_stay": ibis.memtable({"stay_id": ["a"], "discharge_time": ["2024-01-01"]})}
    res = run_checks(t, [CheckDeclaration("c", "not_null", "inpatient_stay", "stay_id")],
                     by_month=True)
    assert res.status[0] == "error"
    assert "inpatient_stay.discharge_time is string, not a date or timestamp" in res.reason[0]


def test_every_declaration_builds_by_month_on_the_contract_schema():
    """By month, every check on a table with a period column builds and runs without error."""
    con = ibis.duckdb.connect()
    for t in CONTRACT.tables:
        con.create_table(t.name, schema=t.stored_schema())
    monthly = {t.name for t in CONTRACT.tables if t.period_column}
    decls = [d for d in (*contract_declarations(CONTRACT), *foundation_declarations(CONTRACT))
             if d.table in monthly]
    res = run_checks(con, decls, by_month=True)
    assert res[res.status == "error"].empty, res[res.status == "error"].reason.tolist()
    assert len(res) == len(decls)
    assert set(res.reason) == {"no rows to check in any month"}
