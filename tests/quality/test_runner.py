"""Result shape: passed / failed / not_applicable with a reason / error; period; backends."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd

from hospital_sdk.model import CONTRACT
from hospital_sdk.quality import (
    RESULT_COLUMNS, CheckDeclaration, blocking_failures, contract_declarations,
    foundation_declarations, run_checks, with_thresholds,
)

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
