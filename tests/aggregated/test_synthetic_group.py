"""Every aggregated table from a tiny synthetic group: structural invariants, not values.

The generator's source files stand in for the cleaned layer: ``empi_id`` = the local patient id,
``discharge_time`` joined onto the stay's child tables, the drug code of orders and of
procurement mapped to the standard code through ``code_map`` (the local one kept in
``drug_code_local``), and the other ``<col>_local`` columns equal to the code itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated import AGGREGATED_TABLES
from hospital_sdk.aggregated.inputs import MAPPED_CODE_COLUMNS, STAY_CHILD_TABLES
from hospital_sdk.cleaned import map_codes
from hospital_sdk.store.partitions import month_bounds
from hospital_sdk.synth import generate

MONTH = "2025-06"
KEYS = ["institution_id", "stay_id"]


def _read(con: ibis.BaseBackend, folder: Path, name: str) -> ir.Table:
    single = folder / f"{name}.parquet"
    path = single if single.exists() else folder / name / "*.parquet"
    return con.read_parquet(str(path), table_name=name)


def _as_cleaned(con: ibis.BaseBackend, folder: Path) -> dict[str, ir.Table]:
    names = {t for spec in AGGREGATED_TABLES.values() for t in spec.reads} | {"code_map"}
    raw = {name: _read(con, folder, name) for name in sorted(names)}
    tables: dict[str, ir.Table] = {}
    for name, t in raw.items():
        if "patient_local_id" in t.columns:
            t = t.mutate(empi_id=t.patient_local_id)
        if name in STAY_CHILD_TABLES:
            stays = raw["inpatient_stay"].select(*KEYS, "discharge_time")
            t = t.inner_join(stays, KEYS)
        if name in ("medication_order", "drug_procurement"):
            at = "order_time" if name == "medication_order" else "month"
            t = map_codes(t.mutate(drug_code_local=t.drug_code), raw["code_map"],
                          column="drug_code_local", code_system="drug", at=at,
                          standard_column="_std")
            t = t.mutate(drug_code=t._std.coalesce(t.drug_code_local)).drop("_std")
        elif name in MAPPED_CODE_COLUMNS:
            t = t.mutate(**{f"{MAPPED_CODE_COLUMNS[name]}_local": t[MAPPED_CODE_COLUMNS[name]]})
        tables[name] = t
    return tables


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ir.Table]]:
    folder = tmp_path_factory.mktemp("group")
    generate(folder, scale=0.001, years=(2025,), seed=1)
    con = ibis.duckdb.connect()
    tables = _as_cleaned(con, folder)
    out: dict[str, ir.Table] = dict(tables)
    for name, spec in AGGREGATED_TABLES.items():
        # materialise each table once, so the checks below do not recompute the graph
        table = spec.build(out, MONTH if spec.partitioned else None)
        out[name] = con.create_table(f"agg_{name}", table.to_pyarrow())
    yield out
    con.disconnect()


def _n(t: ir.Table) -> int:
    return int(t.count().execute())


def test_stay_fact_has_one_row_per_stay_discharged_in_the_month(
        built: dict[str, ir.Table]) -> None:
    start, end = month_bounds(MONTH)
    stays = built["inpatient_stay"]
    month_stays = stays.filter(stays.discharge_time >= start, stays.discharge_time < end)
    fact = built["stay_fact"]
    assert _n(fact) == _n(month_stays) > 0
    assert _n(fact.select(*KEYS).distinct()) == _n(fact)
    assert fact.total_cost.sum().execute() == month_stays.total_cost.sum().execute()
    assert fact.los_days.sum().execute() == month_stays.los_days.sum().execute()


def test_partitioned_outputs_hold_only_the_month(built: dict[str, ir.Table]) -> None:
    start, end = month_bounds(MONTH)
    for name, spec in AGGREGATED_TABLES.items():
        if spec.period_column is None:
            continue
        col = built[name][spec.period_column]
        if spec.period_column == "month":
            assert set(col.execute().astype(str)) <= {start.date().isoformat()}
        else:
            outside = built[name].filter(~((col >= start) & (col < end)) | col.isnull())
            assert _n(outside) == 0, name


def test_department_month_adds_up(built: dict[str, ir.Table]) -> None:
    dm, stays, visits = built["department_month"], built["stay_fact"], built["visit_fact"]
    assert _n(dm.select("institution_id", "campus_id", "dept_id").distinct()) == _n(dm)
    assert int(dm.discharges.sum().execute()) == _n(stays)
    assert int(dm.deaths.sum().execute()) == int(stays.is_death.cast("int64").sum().execute())
    assert int(dm.bed_days.sum().execute()) == int(stays.los_days.sum().execute())
    assert dm.total_cost.sum().execute() == stays.total_cost.sum().execute()
    kept = visits.filter(~visits.is_cancelled)
    assert int((dm.outpatient_visits + dm.emergency_visits + dm.health_check_visits)
               .sum().execute()) == _n(kept)
    assert int(dm.visits_with_wait.sum().execute()) == int(kept.wait_minutes.count().execute())


def test_procedure_fact_matches_the_stays(built: dict[str, ir.Table]) -> None:
    procs, stays = built["procedure_fact"], built["stay_fact"]
    assert _n(procs) == _n(built["stay_procedure"].semi_join(stays, KEYS))
    assert int(stays.n_operations.sum().execute()) == int(
        procs.is_surgery.cast("int64").sum().execute())
    surgical = procs.filter(procs.is_surgery).select(*KEYS).distinct()
    assert int(stays.has_surgery.cast("int64").sum().execute()) == _n(surgical)
    # level 4 / minimally invasive stays are surgical stays
    assert _n(stays.filter((stays.has_level4_surgery | stays.has_minimally_invasive_surgery)
                           & ~stays.has_surgery)) == 0


def test_antibiotics_visits_and_risk(built: dict[str, ir.Table]) -> None:
    stays = built["stay_fact"]
    # antibacterial courses are common in the synthetic group, and carry DDDs
    assert int(stays.used_antibiotic.cast("int64").sum().execute()) > 0
    assert float(stays.antibiotic_ddds.sum().execute()) > 0
    assert _n(stays.filter(~stays.used_antibiotic & (stays.antibiotic_ddds != 0))) == 0
    visits = built["visit_fact"]
    v = built["outpatient_visit"]
    start, end = month_bounds(MONTH)
    assert _n(visits) == _n(v.filter(v.visit_time >= start, v.visit_time < end))
    risk, all_stays = built["drg_risk"], built["inpatient_stay"]
    grouped = all_stays.filter(all_stays.drg_code.notnull() & all_stays.grouper_version.notnull())
    assert int(risk.cases.sum().execute()) == _n(grouped)
    assert _n(risk.filter(risk.is_low_risk & (risk.deaths == 0))) == 0


def test_exam_fact_has_one_row_per_exam_ordered_in_the_month(built: dict[str, ir.Table]) -> None:
    start, end = month_bounds(MONTH)
    e = built["exam"]
    month_exams = e.filter(e.order_time >= start, e.order_time < end)
    fact = built["exam_fact"]
    assert _n(fact) == _n(month_exams) > 0
    assert _n(fact.filter(fact.is_large_equipment)) == _n(
        month_exams.filter(month_exams.equipment_type.isin(["CT", "MR", "DSA", "SPECT", "PETCT"])))
    assert _n(fact.filter(fact.campus_id.isnull())) == 0  # every ordering department is known


def test_procurement_fact_keeps_every_unit_and_yuan(built: dict[str, ir.Table]) -> None:
    start, _ = month_bounds(MONTH)
    p = built["drug_procurement"]
    month_rows = p.filter(p.month == start.date())
    fact = built["procurement_fact"]
    assert _n(fact) > 0
    assert _n(fact.select("institution_id", "month", "drug_code").distinct()) == _n(fact)
    assert fact.amount.sum().execute() == month_rows.amount.sum().execute()
    assert fact.quantity.sum().execute() == month_rows.quantity.sum().execute()
    # every drug the group buys is a catalog product once its local code is mapped
    assert _n(fact.filter(~fact.is_in_catalog)) == 0
