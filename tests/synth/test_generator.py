"""The generator end to end: files, determinism, contract conformance, internal consistency.

One small generation (SF 0.002, two years) is shared by most tests; determinism runs the same
parameters again and with another seed (one year). Every expectation is reasoned from the
contract or the brief: fees equal the sum of their charge lines, movements tile the stay, every
stay has exactly one principal diagnosis, event times equal the fact-table times.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT
from hospital_sdk.synth import generate
from hospital_sdk.synth.calibration import load_tables
from hospital_sdk.synth.schema import arrow_schema

SOURCE_TABLES = [t.name for t in CONTRACT.source_tables()]
OPS = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
       "=": pc.equal, "!=": pc.not_equal}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    calls: list[tuple[str, int]] = []
    report = generate(folder, scale=0.002, years=(2024, 2025), seed=20240101,
                      progress=lambda name, rows: calls.append((name, rows)))
    assert report.rows == sum(t.rows for t in report.tables.values())
    assert calls and all(rows >= 0 for _, rows in calls)
    assert report.rows_per_second > 0
    return folder


@pytest.fixture(scope="module")
def tables(out) -> dict[str, pa.Table]:
    return {name: dataset.to_table() for name, dataset in load_tables(out).items()}


@pytest.fixture(scope="module")
def con(tables):
    c = duckdb.connect()
    for name, table in tables.items():
        c.register(name, table)
    yield c
    c.close()


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_source_table_is_written_by_month(out, tables):
    assert set(SOURCE_TABLES) <= set(tables)
    assert "patient_index" not in tables
    months = sorted(p.stem for p in (out / "outpatient_visit").glob("*.parquet"))
    assert months == [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
    assert (out / "department.parquet").exists() and (out / "code_map.parquet").exists()
    for name in ("outpatient_visit", "inpatient_stay", "charge_line", "medication_order"):
        assert tables[name].num_rows > 0


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 3), (b, 3), (c, 4)):
        generate(folder, scale=0.001, years=(2024,), seed=seed)
    ha, hb, hc = _hashes(a), _hashes(b), _hashes(c)
    assert ha == hb
    assert ha["outpatient_visit/2024-01.parquet"] != hc["outpatient_visit/2024-01.parquet"]
    assert ha["_manifest.json"] != hc["_manifest.json"]


def test_manifest_lists_every_file_with_its_hash(out):
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["contract_version"] == CONTRACT.version
    assert manifest["parameters"]["scale"] == 0.002
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - {"_manifest.json"}
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
    for name, rows in manifest["row_counts"].items():
        got = sum(pq.ParquetFile(f).metadata.num_rows for f in
                  [out / f"{name}.parquet", *sorted((out / name).glob("*.parquet"))] if f.exists())
        assert got == rows, name
    assert "patient_identity.parquet" in {Path(f).name for f in manifest["files"]}


@pytest.mark.parametrize("name", SOURCE_TABLES)
def test_table_conforms_to_the_contract(tables, name):
    t, table = tables[name], CONTRACT.table(name)
    assert t.schema == arrow_schema(name)
    problems = []
    for c in table.columns:
        col = t.column(c.name)
        if not c.nullable and col.null_count:
            problems.append(f"{c.name}: {col.null_count} nulls")
        if c.codes:
            allowed = pa.array(CONTRACT.code_set(c.codes).values)
            bad = pc.sum(pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, value_set=allowed))))
            if bad.as_py():
                problems.append(f"{c.name}: {bad} values outside {c.codes}")
        if c.pattern:
            bad = pc.sum(pc.invert(pc.fill_null(pc.match_substring_regex(col, c.pattern), True)))
            if bad.as_py():
                problems.append(f"{c.name}: {bad} values do not match {c.pattern}")
        if c.minimum is not None or c.maximum is not None:
            num = col.cast(pa.float64())
            low = pc.sum(pc.fill_null(pc.less(num, c.minimum), False)) if c.minimum is not None \
                else pa.scalar(0)
            high = pc.sum(pc.fill_null(pc.greater(num, c.maximum), False)) \
                if c.maximum is not None else pa.scalar(0)
            if (low.as_py() or 0) + (high.as_py() or 0):
                problems.append(f"{c.name}: out of [{c.minimum}, {c.maximum}]")
    for rule in table.rules:
        broken = pc.sum(pc.invert(pc.fill_null(OPS[rule.op](t.column(rule.left),
                                                            t.column(rule.right)), True)))
        if broken.as_py():
            problems.append(f"rule {rule.name}: {broken} rows")
    keys = t.select(list(table.primary_key))
    if keys.num_rows and keys.group_by(list(table.primary_key)).aggregate(
            [([], "count_all")]).num_rows != keys.num_rows:
        problems.append("duplicate primary keys")
    assert not problems, f"{name}: {problems}"


REFERENCES = [
    ("outpatient_visit", "dept_id", "department", "dept_id"),
    ("outpatient_visit", "doctor_id", "staff", "staff_id"),
    ("inpatient_stay", "admission_ward_id", "ward", "ward_id"),
    ("inpatient_stay", "attending_doctor_id", "staff", "staff_id"),
    ("inpatient_stay", "drg_code", "drg_group", "drg_code"),
    ("stay_diagnosis", "diagnosis_code", "diagnosis_catalog", "code"),
    ("stay_procedure", "procedure_code", "procedure_catalog", "code"),
    ("stay_procedure", "surgeon_id", "staff", "staff_id"),
    ("stay_movement", "ward_id", "ward", "ward_id"),
    ("charge_line", "billing_dept_id", "department", "dept_id"),
    ("medication_order", "prescriber_id", "staff", "staff_id"),
    ("exam", "exam_item_code", "code_map", "local_code"),
    ("lab_order", "test_code", "code_map", "local_code"),
    ("referral", "dept_id", "department", "dept_id"),
    ("status_event", "operator_id", "staff", "staff_id"),
    ("ward_beds", "ward_id", "ward", "ward_id"),
]


@pytest.mark.parametrize("table,column,target,key", REFERENCES,
                         ids=[f"{t}.{c}" for t, c, _, _ in REFERENCES])
def test_references_resolve(con, table, column, target, key):
    missing = con.sql(f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL AND {column} "
                      f"NOT IN (SELECT {key} FROM {target})").fetchone()[0]
    assert missing == 0


@pytest.mark.parametrize("table", ["outpatient_visit", "inpatient_stay", "medication_order",
                                   "charge_line", "exam", "lab_order", "referral"])
def test_patients_and_episodes_exist(con, table):
    missing = con.sql(f"SELECT count(*) FROM {table} t ANTI JOIN patient p USING "
                      "(institution_id, patient_local_id)").fetchone()[0]
    assert missing == 0
    columns = CONTRACT.table(table).column_names
    for column, target in (("visit_id", "outpatient_visit"), ("stay_id", "inpatient_stay")):
        if column in columns:
            orphan = con.sql(f"SELECT count(*) FROM {table} t WHERE {column} IS NOT NULL AND NOT "
                             f"EXISTS (SELECT 1 FROM {target} x WHERE x.institution_id = "
                             f"t.institution_id AND x.{column} = t.{column})").fetchone()[0]
            assert orphan == 0, column


def test_item_codes_map_to_standard_codes(con):
    unmapped = con.sql("""SELECT count(*) FROM charge_line c ANTI JOIN code_map m
        ON m.institution_id = c.institution_id AND m.local_code = c.item_code""").fetchone()[0]
    assert unmapped == 0
    local = con.sql("""SELECT count(*) FROM medication_order WHERE institution_id = 'HK003'
        AND drug_code LIKE 'YP%'""").fetchone()[0]
    standard = con.sql("""SELECT count(*) FROM medication_order WHERE institution_id = 'HK003'
        AND drug_code NOT LIKE 'YP%'""").fetchone()[0]
    assert local > 0 and standard == 0, "the geriatric centre uses local drug codes"
    identity = con.sql("""SELECT bool_and(local_code = standard_code) FROM code_map
        WHERE institution_id = 'HK001'""").fetchone()[0]
    assert identity


def test_visit_fees_are_the_sums_of_their_charge_lines(con):
    diff = con.sql("""
        WITH c AS (SELECT institution_id, visit_id, sum(amount) AS total,
                          sum(amount) FILTER (WHERE item_type = 'drug') AS drug,
                          sum(insurance_paid) AS ins
                   FROM charge_line WHERE visit_id IS NOT NULL GROUP BY ALL)
        SELECT count(*) FILTER (WHERE v.total_fee <> coalesce(c.total, 0)
                                   OR v.drug_fee <> coalesce(c.drug, 0)
                                   OR v.insurance_paid <> coalesce(c.ins, 0)), count(*)
        FROM outpatient_visit v LEFT JOIN c USING (institution_id, visit_id)""").fetchone()
    assert diff[0] == 0 and diff[1] > 0
    cancelled = con.sql("SELECT max(abs(total_fee)) FROM outpatient_visit WHERE is_cancelled"
                        ).fetchone()[0]
    assert cancelled == 0, "a cancelled registration is refunded in full"


def test_stay_costs_are_the_sums_of_their_charge_lines(con):
    mismatched = con.sql("""
        WITH c AS (SELECT institution_id, stay_id, sum(amount) AS total,
                          sum(insurance_paid) AS ins FROM charge_line
                   WHERE stay_id IS NOT NULL GROUP BY ALL)
        SELECT count(*) FROM inpatient_stay s JOIN c USING (institution_id, stay_id)
        WHERE s.total_cost <> c.total OR s.insurance_paid <> c.ins
           OR s.self_pay_cost <> s.total_cost - s.insurance_paid""").fetchone()[0]
    assert mismatched == 0
    parts = " + ".join(c.name for c in CONTRACT.table("inpatient_stay").columns
                       if c.name.startswith("cost_") and c.name != "cost_drug_antibacterial")
    assert con.sql(f"SELECT count(*) FROM inpatient_stay WHERE total_cost <> {parts}"
                   ).fetchone()[0] == 0
    share = con.sql("""SELECT sum(cost_drug_western + cost_drug_chinese) / sum(total_cost),
        sum(cost_material) / sum(total_cost) FROM inpatient_stay""").fetchone()
    assert 0.15 < share[0] < 0.4 and 0.12 < share[1] < 0.35


def test_every_stay_has_one_principal_diagnosis(con):
    bad = con.sql("""SELECT count(*) FROM inpatient_stay s LEFT JOIN (
        SELECT institution_id, stay_id, count(*) AS n FROM stay_diagnosis
        WHERE diagnosis_kind = 'discharge' AND seq = 1 GROUP BY ALL) d
        USING (institution_id, stay_id) WHERE coalesce(d.n, 0) <> 1""").fetchone()[0]
    assert bad == 0


def test_procedures_happen_during_the_stay(con):
    outside = con.sql("""SELECT count(*) FROM stay_procedure p JOIN inpatient_stay s
        USING (institution_id, stay_id)
        WHERE p.procedure_time < s.admission_time OR p.procedure_time > s.discharge_time"""
                      ).fetchone()[0]
    assert outside == 0


def test_movements_tile_the_stay(con):
    bad = con.sql("""
        WITH m AS (SELECT *, lead(start_time) OVER w AS next_start, min(seq) OVER (
                   PARTITION BY institution_id, stay_id) AS first_seq, max(seq) OVER (
                   PARTITION BY institution_id, stay_id) AS last_seq
                   FROM stay_movement WINDOW w AS (PARTITION BY institution_id, stay_id
                   ORDER BY seq))
        SELECT count(*) FROM m JOIN inpatient_stay s USING (institution_id, stay_id)
        WHERE (seq = first_seq AND (start_time <> admission_time OR seq <> 1
                                    OR ward_id <> admission_ward_id))
           OR (seq = last_seq AND (end_time <> discharge_time OR ward_id <> discharge_ward_id
                                   OR dept_id <> discharge_dept_id))
           OR (seq < last_seq AND end_time <> next_start)""").fetchone()[0]
    assert bad == 0
    assert con.sql("SELECT count(*) FROM inpatient_stay s ANTI JOIN stay_movement m "
                   "USING (institution_id, stay_id)").fetchone()[0] == 0
    transferred = con.sql("SELECT count(DISTINCT stay_id) FROM stay_movement WHERE seq > 1"
                          ).fetchone()[0]
    assert transferred > 0


def test_day_surgery_newborns_and_readmission_plans(con):
    day = con.sql("""SELECT count(*), max(los_days), bool_and(p.is_day_surgery)
        FROM inpatient_stay s JOIN stay_procedure p USING (institution_id, stay_id)
        WHERE s.is_day_surgery AND p.seq = 1""").fetchone()
    assert day[0] > 0 and day[1] <= 1 and day[2]
    newborn = con.sql("""SELECT count(*), max(age_days), min(newborn_birth_weight_g),
        bool_and(d.diagnosis_code LIKE 'P%') FROM inpatient_stay s JOIN stay_diagnosis d
        USING (institution_id, stay_id) WHERE s.is_newborn AND d.diagnosis_kind = 'discharge'
        AND d.seq = 1""").fetchone()
    assert newborn[0] > 0 and newborn[1] <= 28 and newborn[2] >= 200 and newborn[3]
    plans = con.sql("SELECT readmission_plan, count(*) FROM inpatient_stay GROUP BY 1").fetchall()
    assert {p for p, _ in plans} == {"1", "2"}
    deaths = con.sql("SELECT count(*) FROM inpatient_stay WHERE discharge_disposition = '5'"
                     ).fetchone()[0]
    assert deaths > 0


def test_events_replay_the_fact_times(con):
    checks = {
        ("visit", "registered", "outpatient_visit", "visit_id", "visit_time"),
        ("visit", "called", "outpatient_visit", "visit_id", "call_time"),
        ("visit", "completed", "outpatient_visit", "visit_id", "end_time"),
        ("stay", "admitted", "inpatient_stay", "stay_id", "admission_time"),
        ("stay", "discharged", "inpatient_stay", "stay_id", "discharge_time"),
        ("order", "ordered", "medication_order", "order_id", "order_time"),
        ("lab", "reported", "lab_order", "lab_order_id", "report_time"),
    }
    for entity, status, table, key, column in checks:
        bad = con.sql(f"""SELECT count(*) FROM status_event e JOIN {table} t
            ON t.institution_id = e.institution_id AND t.{key} = e.entity_id
            WHERE e.entity_type = '{entity}' AND e.to_status = '{status}'
              AND e.event_time <> t.{column}""").fetchone()[0]
        assert bad == 0, (entity, status)
    cancelled = con.sql("""SELECT count(*) FROM outpatient_visit v WHERE is_cancelled AND NOT
        EXISTS (SELECT 1 FROM status_event e WHERE e.institution_id = v.institution_id AND
        e.entity_id = v.visit_id AND e.to_status IN ('cancelled', 'no_show'))""").fetchone()[0]
    assert cancelled == 0
    late = con.sql("SELECT count(*) FROM status_event WHERE recorded_time < event_time"
                   ).fetchone()[0]
    assert late == 0


def test_outpatient_journey_and_seasonality(con):
    row = con.sql("""SELECT
        avg(date_diff('second', checkin_time, call_time) / 60) FILTER (WHERE is_appointment),
        avg(date_diff('second', checkin_time, call_time) / 60) FILTER (WHERE NOT is_appointment),
        avg(is_cancelled::INT)
        FROM outpatient_visit WHERE visit_type = 'outpatient'""").fetchone()
    assert 15 <= row[0] <= 25 and row[1] > row[0] and 0.015 < row[2] < 0.04
    by_day = dict(con.sql("""SELECT isodow(visit_time), count(*) FROM outpatient_visit
        WHERE visit_type = 'outpatient' GROUP BY 1""").fetchall())
    assert by_day[1] == max(by_day.values()) and by_day[1] > 2 * by_day[7]
    mix = dict(con.sql("SELECT visit_type, count(*) / sum(count(*)) OVER () FROM "
                       "outpatient_visit GROUP BY 1").fetchall())
    assert 0.85 < mix["outpatient"] < 0.93 and 0.05 < mix["emergency"] < 0.11


def test_large_equipment_exams_are_mostly_positive(con):
    rate = con.sql("SELECT avg(is_positive::INT) FROM exam WHERE equipment_type IS NOT NULL"
                   ).fetchone()[0]
    assert 0.55 < rate < 0.8
    assert con.sql("SELECT count(*) FROM exam WHERE equipment_type IS NULL").fetchone()[0] > 0


def test_identity_truth_links_dual_registrations(out, con):
    con.register("truth", pq.read_table(out / "_truth" / "patient_identity.parquet"))
    assert con.sql("SELECT count(*) FROM patient ANTI JOIN truth USING "
                   "(institution_id, patient_local_id)").fetchone()[0] == 0
    dual = con.sql("""SELECT count(*), count(DISTINCT p.id_number) FROM truth t JOIN patient p
        USING (institution_id, patient_local_id) WHERE t.person_id IN (
        SELECT person_id FROM truth GROUP BY 1 HAVING count(*) > 1) AND p.id_number IS NOT NULL
        """).fetchone()
    assert dual[0] > 0 and dual[1] * 2 == dual[0]


def test_defects_csv_and_gbk(tmp_path):
    from hospital_sdk.synth.defects import DefectSpec
    spec = DefectSpec(rate=0.01, gbk_tables=("department",))
    report = generate(tmp_path, scale=0.001, years=(2024,), formats=("csv",), defects=spec)
    assert report.defect_log is not None and report.defect_log.exists()
    log = pq.read_table(report.defect_log)
    assert set(log.column("kind").to_pylist()) >= {"duplicate_row", "invalid_code"}
    text = (tmp_path / "department.csv").read_bytes().decode("gbk")
    assert "急诊医学科" in text
    assert (tmp_path / "charge_line" / "2024-01.csv").exists()
    data = [p for p in tmp_path.rglob("*.parquet") if p.parent.name != "_truth"]
    assert data == [], "only CSV was asked for"


def test_bad_parameters_are_rejected(tmp_path):
    with pytest.raises(GeneratorError):
        generate(tmp_path, scale=0.001, years=(2024,), formats=("xlsx",))
    with pytest.raises(GeneratorError):
        generate(tmp_path, scale=-1, years=(2024,))


def test_volumes_are_linear_in_scale(tables):
    visits = tables["outpatient_visit"].num_rows / 2  # per year
    stays = tables["inpatient_stay"].num_rows / 2
    assert visits == pytest.approx(5_000_000 * 0.002, rel=0.1)
    assert stays == pytest.approx(200_000 * 0.002, rel=0.15)
    lines = tables["charge_line"].num_rows + tables["medication_order"].num_rows
    assert lines / 2 > 40_000_000 * 0.002
