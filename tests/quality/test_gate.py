"""The load gate as check results: reasons the loader really writes, attributed by hand-count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ibis
import pandas as pd
import pytest

from hospital_sdk.config import Settings
from hospital_sdk.ingest import load_folder
from hospital_sdk.model.contract import Column, Contract, RowRule, Table, code_set
from hospital_sdk.quality import (
    GATE_COLUMNS, GATED_RESULT_COLUMNS, CheckDeclaration, ResultsError, blocking_failures,
    contract_declarations, gate_results, reason_check_type, run_checks, with_gate,
)
from hospital_sdk.quality.gate import UNDECLARED_REASONS
from hospital_sdk.store import Lakehouse

VISIT = Table(
    "visit", "outpatient", "就诊", "Visit", "每次就诊一行", "one row per visit",
    ("institution_id", "visit_id"),
    (
        Column("institution_id", "string", "机构", "Institution", nullable=False,
               pattern=r"^[A-Z0-9]+$"),
        Column("visit_id", "string", "就诊号", "Visit id", nullable=False),
        Column("visit_time", "timestamp", "就诊时间", "Visit time", nullable=False),
        Column("age", "int16", "年龄", "Age", minimum=0, maximum=130),
        Column("sex", "string", "性别", "Sex", codes="sex"),
        Column("checkin_time", "timestamp", "签到", "Check-in"),
        Column("call_time", "timestamp", "叫号", "Call"),
        Column("id_number", "string", "身份证号", "Identity number",
               pattern=r"^[0-9]{17}[0-9X]$", sensitivity="direct_identifier"),
    ),
    period_column="visit_time",
    rules=(RowRule("call_after_checkin", "叫号不早于签到", "call_time is not before checkin_time",
                   "call_time", ">=", "checkin_time"),),
)
CONTRACT = Contract("gate-test", (VISIT,), (
    code_set("sex", "性别", "Sex", [("1", "男", "male"), ("2", "女", "female")]),))
DECLARATIONS = contract_declarations(CONTRACT)

HEADER = "institution_id,visit_id,visit_time,age,sex,checkin_time,call_time,id_number\n"
ID = "11010119850512432X"
# Data rows of visit_1.csv (1-based) and what the loader must say about each:
FILE_1 = [
    f"H1,V1,2024-01-05 08:00,40,1,2024-01-05 08:00,2024-01-05 08:10,{ID}",  # 1 good
    f"H1,,2024-01-06 08:00,40,1,,,{ID}",              # 2 visit_id missing
    f"h1,V3,2024-01-07 08:00,200,7,,,{ID}",           # 3 pattern + range + code: 3 checks
    # 4 age not an int16 (no declaration) + call before check-in (row rule)
    f"H1,V4,2024-02-01 09:00,abc,2,2024-02-01 09:00,2024-02-01 08:00,{ID}",
    f"H1,V1,2024-02-02 08:00,41,1,,,{ID}",            # 5 duplicate of row 1
    "H1,V6,2024-02-03 08:00,30,2,,,123",              # 6 id number format (no declaration)
    f"H1,V7,not-a-date,30,2,,,{ID}",                  # 7 visit_time not a timestamp
]
FILE_2 = [
    f"H1,V1,2024-03-01 08:00,42,1,,,{ID}",            # 1 key already loaded from visit_1.csv
    f"H1,V8,2024-03-02 08:00,50,1,,,{ID}",            # 2 good
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Iterator[Lakehouse]:
    folder = tmp_path_factory.mktemp("source")
    (folder / "visit_1.csv").write_text(HEADER + "\n".join(FILE_1) + "\n", encoding="utf-8")
    (folder / "visit_2.csv").write_text(HEADER + "\n".join(FILE_2) + "\n", encoding="utf-8")
    home = tmp_path_factory.mktemp("lake")
    with Lakehouse.open(home) as lake:
        report = load_folder(folder, lake, contract=CONTRACT,
                             settings=Settings(home=Path(home), token_key="test-key"))
        assert (report.rows_loaded, report.rows_rejected) == (2, 7)
        yield lake


def test_every_reason_the_loader_writes_is_mapped(loaded):
    rejects = loaded.table("load_rejects").to_pandas()
    reasons = {p["reason"] for ps in rejects.problems for p in json.loads(ps)}
    undeclared = {r for r in reasons if any(p.fullmatch(r) for p in UNDECLARED_REASONS)}
    assert undeclared == {"not a valid int16", "not a valid timestamp"}
    assert {r: reason_check_type(r) for r in reasons - undeclared} == {
        "required value missing": "not_null",
        "does not match ^[A-Z0-9]+$": "matches_pattern",
        "does not match ^[0-9]{17}[0-9X]$": "matches_pattern",
        "out of range [0, 130]": "in_range",
        "code '7' not in sex": "in_code_set",
        "violates rule call_after_checkin: call_time is not before checkin_time": "row_rule",
        "duplicate primary key, first seen at row 1": "unique_key",
        "duplicate primary key, already loaded from visit_1.csv": "unique_key",
    }


def test_gate_results_attribute_each_row_to_every_declaration_it_breaks(loaded):
    gate = gate_results(loaded.table("load_rejects"), DECLARATIONS, table="visit",
                        contract=CONTRACT)
    assert tuple(gate.columns) == GATE_COLUMNS
    got = {(r.check_id, r.field, r.reason): r.quarantined_rows for r in gate.itertuples()}
    assert got == {
        ("visit.visit_id.not_null", "visit_id", None): 1,                  # row 2
        ("visit.institution_id.matches_pattern", "institution_id", None): 1,  # row 3
        ("visit.age.in_range", "age", None): 1,                            # row 3
        ("visit.sex.in_code_set", "sex", None): 1,                         # row 3
        ("visit.call_after_checkin.row_rule", "call_time, checkin_time", None): 1,  # row 4
        ("visit.primary_key.unique_key", "institution_id, visit_id", None): 2,  # 5; file 2 row 1
        (None, "age", "not a valid int16"): 1,                             # row 4
        (None, "visit_time", "not a valid timestamp"): 1,                  # row 7
        # identity numbers have no format declaration (they are stored only as tokens)
        (None, "id_number", "does not match ^[0-9]{17}[0-9X]$"): 1,        # row 6
    }
    assert gate.set_index("field").loc["id_number", "check_type"] == "matches_pattern"
    # the same from a pandas frame, and nothing for another table
    assert gate_results(loaded.table("load_rejects").to_pandas(), DECLARATIONS,
                        contract=CONTRACT).equals(gate)
    assert gate_results(loaded.table("load_rejects"), DECLARATIONS, table="stay",
                        contract=CONTRACT).empty


def test_gate_results_by_month_read_the_period_from_the_record(loaded):
    gate = gate_results(loaded.table("load_rejects"), DECLARATIONS, contract=CONTRACT,
                        by_month=True)
    got = {(r.check_id or r.reason, r.partition): r.quarantined_rows
           for r in gate.itertuples()}
    assert got == {
        ("visit.visit_id.not_null", "2024-01"): 1,
        ("visit.institution_id.matches_pattern", "2024-01"): 1,
        ("visit.age.in_range", "2024-01"): 1,
        ("visit.sex.in_code_set", "2024-01"): 1,
        ("visit.call_after_checkin.row_rule", "2024-02"): 1,
        ("visit.primary_key.unique_key", "2024-02"): 1,
        ("visit.primary_key.unique_key", "2024-03"): 1,
        ("not a valid int16", "2024-02"): 1,
        ("not a valid timestamp", None): 1,  # its period value is the broken one
        ("does not match ^[0-9]{17}[0-9X]$", "2024-02"): 1,
    }


def test_raw_results_combined_with_the_gate(loaded):
    # The raw table holds V1 (January) and V8 (March): every contract check passes on it.
    results = run_checks((loaded.con, ("lake", "raw")), DECLARATIONS, contract=CONTRACT)
    gate = gate_results(loaded.table("load_rejects"), DECLARATIONS, table="visit",
                        contract=CONTRACT)
    combined = with_gate(results, gate).set_index("check_id")
    assert tuple(combined.reset_index().columns) == GATED_RESULT_COLUMNS
    key = combined.loc["visit.primary_key.unique_key"]
    # 2 rows in the table, 2 quarantined as duplicates -> 2 of 4, none leaked
    assert (key.status, key.violating_rows, key.applicable_rows) == ("failed", 2, 4)
    assert (key.leaked_rows, key.quarantined_rows, key.failure_kind) == (0, 2, "quarantined")
    sex = combined.loc["visit.sex.in_code_set"]  # 2 sexes in the table + 1 quarantined
    assert (sex.violating_rows, sex.applicable_rows, sex.failure_kind) == (1, 3, "quarantined")
    clean = combined.loc["visit.visit_time.not_null"]
    assert (clean.status, clean.quarantined_rows, clean.failure_kind) == ("passed", 0, None)
    assert blocking_failures(combined.reset_index()).empty  # the gate held: nothing leaked


def result(check_id: str, violating: int, applicable: int, *, threshold: float = 0.0,
           status: str | None = None, partition: str | None = None) -> dict:
    rate = violating / applicable if applicable else float("nan")
    if status is None:
        status = "not_applicable" if applicable == 0 else \
            "failed" if rate > threshold else "passed"
    return {"check_id": check_id, "table": "visit", "field": "x", "check_type": "not_null",
            "kahn_category": "completeness", "severity": "blocking", "status": status,
            "violating_rows": violating, "applicable_rows": applicable, "rate": rate,
            "threshold": threshold, "reason": "", "protects": (), "partition": partition}


def gate_row(check_id: str | None, n: int, partition: str | None = None) -> dict:
    return {"table": "visit", "check_id": check_id, "check_type": "not_null", "field": "x",
            "partition": partition, "reason": None if check_id else "not a valid int16",
            "quarantined_rows": n}


def test_combine_tells_leaks_from_quarantined_failures():
    results = pd.DataFrame([
        result("held", 0, 10),                     # 2 quarantined: 2 of 12, only quarantined
        result("leaked", 1, 10),                   # 1 in the table + 1 quarantined: 2 of 11
        result("tolerant", 0, 10, threshold=0.2),  # 2 of 12 = 0.17 is within 0.2
        {**result("broken", 0, 0, status="error"), "violating_rows": None,
         "applicable_rows": None, "reason": "boom"},
        result("empty", 0, 0),                     # table empty, 3 quarantined: 3 of 3
    ])
    gate = pd.DataFrame([gate_row("held", 2), gate_row("leaked", 1), gate_row("tolerant", 2),
                         gate_row("broken", 4), gate_row("empty", 3), gate_row(None, 5)])
    out = with_gate(results, gate).set_index("check_id")
    cols = ["status", "violating_rows", "applicable_rows", "leaked_rows", "quarantined_rows",
            "failure_kind"]
    got = {k: tuple(None if pd.isna(v) else v for v in row)
           for k, row in zip(out.index, out[cols].itertuples(index=False))}
    assert got == {
        "held": ("failed", 2, 12, 0, 2, "quarantined"),
        "leaked": ("failed", 2, 11, 1, 1, "leak"),
        "tolerant": ("passed", 2, 12, 0, 2, None),
        "broken": ("error", None, None, None, 4, None),  # an error stays an error
        "empty": ("failed", 3, 3, 0, 3, "quarantined"),
    }
    assert out.loc["held", "rate"] == 2 / 12 and out.loc["empty", "reason"] == ""
    assert out.loc["broken", "reason"] == "boom"
    assert sorted(blocking_failures(out.reset_index()).check_id) == ["broken", "leaked"]


def test_combine_by_month_adds_months_only_the_gate_saw():
    results = pd.DataFrame([result("c", 0, 4, partition="2024-01"),
                            result("c", 1, 5, partition="2024-03")])
    gate = pd.DataFrame([gate_row("c", 1, "2024-01"), gate_row("c", 2, "2024-02")])
    out = with_gate(results, gate)
    got = [(p, s, v, a, k) for p, s, v, a, k in zip(
        out.partition, out.status, out.violating_rows, out.applicable_rows, out.failure_kind)]
    assert got == [
        ("2024-01", "failed", 1, 5, "quarantined"),
        ("2024-02", "failed", 2, 2, "quarantined"),  # every February row was quarantined
        ("2024-03", "failed", 1, 5, "leak"),
    ]


def test_combine_refuses_gate_counts_for_checks_not_run():
    results = pd.DataFrame([result("a", 0, 1)])
    with pytest.raises(ResultsError, match="checks not in the results: b"):
        with_gate(results, pd.DataFrame([gate_row("b", 1)]))
    with pytest.raises(ResultsError, match="lack the columns"):
        with_gate(results, pd.DataFrame({"check_id": ["a"]}))


def test_gate_results_need_the_rejects_columns():
    with pytest.raises(ResultsError, match=r"lack the columns \['problems'\]"):
        gate_results(ibis.memtable({"table_name": ["visit"]}), DECLARATIONS)


def test_declaration_ids_follow_the_stored_names():
    """A reason on a direct identifier names the source column; the declaration the stored one."""
    decls = [CheckDeclaration("visit.id_number_token.not_null", "not_null", "visit",
                              "id_number_token")]
    rejects = pd.DataFrame({"table_name": ["visit"], "problems": [json.dumps(
        [{"field": "id_number", "reason": "required value missing", "value": None}])]})
    gate = gate_results(rejects, decls, contract=CONTRACT)
    assert list(gate.check_id) == ["visit.id_number_token.not_null"]
