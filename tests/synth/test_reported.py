"""Reported inputs (finance, HR, satisfaction, EQA, EMR, research, qualitative items, drug
procurement): contract conformance, consistency with the patient-level tables, national ratios."""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.reported import MONTHLY_LINES, REPORTED_TABLES, generate_reported
from hospital_sdk.synth.rng import rng_factory

# --- a vectorised contract check, shared with test_defects -------------------------------------

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq,
        "!=": operator.ne}
_PC_OPS = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
           "=": pc.equal, "!=": pc.not_equal}


def _mask(values) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def violations(name: str, table: pa.Table) -> dict[str, np.ndarray]:
    """Per check (``column:reason``), a boolean mask of the rows the loader would reject.

    Checks what the contract declares: required values present, codes in their code set, strings
    matching their pattern, numbers within range, row rules, and primary-key duplicates (every
    occurrence after the first).
    """
    spec = CONTRACT.table(name)
    assert table.column_names == list(spec.column_names), f"{name}: columns differ"
    found: dict[str, np.ndarray] = {}
    for col in spec.columns:
        values = table.column(col.name)
        if not col.nullable:
            found[f"{col.name}:missing"] = _mask(pc.is_null(values))
        if col.codes is not None:
            allowed = pa.array(CONTRACT.code_set(col.codes).values)
            found[f"{col.name}:code"] = _mask(pc.invert(pc.is_in(values, allowed)))
        if col.pattern is not None:
            found[f"{col.name}:pattern"] = _mask(pc.invert(pc.match_substring_regex(
                values, col.pattern)))
        if col.minimum is not None:
            found[f"{col.name}:min"] = _mask(pc.less(values.cast(pa.float64()), col.minimum))
        if col.maximum is not None:
            found[f"{col.name}:max"] = _mask(pc.greater(values.cast(pa.float64()), col.maximum))
    for rule in spec.rules:
        ok = _PC_OPS[rule.op](table.column(rule.left), table.column(rule.right))
        found[f"rule:{rule.name}"] = _mask(pc.invert(ok))
    keys = table.select(list(spec.primary_key)).append_column(
        "_row", pa.array(np.arange(table.num_rows)))
    first = keys.group_by(list(spec.primary_key), use_threads=False).aggregate([("_row", "min")])
    dup = np.ones(table.num_rows, dtype=bool)
    dup[first.column("_row_min").to_numpy()] = False
    found["primary_key:duplicate"] = dup
    return found


def rejected(name: str, table: pa.Table) -> np.ndarray:
    """Rows failing any check of :func:`violations`."""
    out = np.zeros(table.num_rows, dtype=bool)
    for mask in violations(name, table).values():
        out |= mask
    return out


def assert_conforms(name: str, table: pa.Table) -> None:
    """The table has the contract's columns and types and no row would be rejected."""
    expected = CONTRACT.table(name).schema().to_pyarrow()
    assert table.schema.names == expected.names, name
    for got, want in zip(table.schema, expected, strict=True):
        assert got.type == want.type, f"{name}.{got.name}: {got.type} != {want.type}"
    bad = {check: int(mask.sum()) for check, mask in violations(name, table).items() if mask.any()}
    assert not bad, f"{name}: rows violate {bad}"


T0 = dt.datetime(2024, 3, 1, 8, 0, 0)


def contract_table(name: str, n: int, **overrides: Any) -> pa.Table:
    """A conforming table of ``n`` rows: overrides, else a valid filler per column."""
    schema = CONTRACT.table(name).schema().to_pyarrow()
    columns = []
    for col in CONTRACT.table(name).columns:
        if col.name in overrides:
            values = overrides[col.name]
        elif col.codes is not None:
            values = [CONTRACT.code_set(col.codes).values[0]] * n
        elif col.dtype == "string":
            values = [f"{col.name[:3].upper()}{i}" for i in range(n)] if col.pattern or \
                not col.nullable else [None] * n
        elif col.dtype == "timestamp":
            values = [T0 + dt.timedelta(minutes=i) for i in range(n)]
        elif col.dtype == "date":
            values = [T0.date()] * n
        elif col.dtype == "boolean":
            values = [False] * n
        elif col.dtype.startswith("decimal"):
            values = [Decimal("0.00")] * n
        else:
            values = [col.minimum if col.minimum is not None else 1] * n
        columns.append(values if isinstance(values, pa.Array)
                       else pa.array(values, schema.field(col.name).type))
    return pa.Table.from_arrays(columns, schema=schema)


# --- a small group: HQ, a branch, a partner; two years --------------------------------------------

YEARS = (2023, 2024)
INSTITUTIONS = ("HQ", "BR")


def _money(rng: np.random.Generator, lo: float, hi: float, n: int) -> pa.Array:
    return pa.array(np.round(rng.uniform(lo, hi, n), 2)).cast(pa.decimal128(18, 2))


def _times(rng: np.random.Generator, n: int) -> pa.Array:
    start = np.datetime64("2023-01-01T00:00:00")
    span = int((np.datetime64("2025-01-01T00:00:00") - start) / np.timedelta64(1, "s"))
    return pa.array((start + rng.integers(0, span, n).astype("timedelta64[s]"))
                    .astype("datetime64[us]"))


def _staff(n: int, rng: np.random.Generator) -> pd.DataFrame:
    roles = np.array(["physician", "nurse", "pharmacist", "technician", "admin", "other"])
    specialties = np.array(["26", "07", "07.07", "28", "31", "50", "16", "03.04", "04.03", None],
                           dtype=object)
    frame = pd.DataFrame({
        "staff_id": [f"E{i:04d}" for i in range(n)],
        "institution_id": np.where(rng.random(n) < 0.6, "HQ", "BR"),
        "dept_id": np.where(rng.random(n) < 0.5, "D26", "D03"),
        "role": roles[rng.choice(6, n, p=[0.35, 0.4, 0.05, 0.1, 0.05, 0.05])],
        "is_licensed": rng.random(n) < 0.9, "is_resident": rng.random(n) < 0.1,
        "title_level": np.array(["1", "2", "3", "4", "5", "9"])[rng.integers(0, 6, n)],
        "specialty_code": specialties[rng.integers(0, len(specialties), n)],
        "sex": "1", "birth_year": 1980,
        "employed_from": np.datetime64("2015-01-01") + rng.integers(0, 3650, n).astype(
            "timedelta64[D]"),
        "employed_to": np.where(rng.random(n) < 0.2, np.datetime64("2024-06-30"),
                                np.datetime64("NaT")).astype("datetime64[D]"),
    })
    return frame


def _world(seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    institutions = pd.DataFrame({
        "institution_id": ["HQ", "BR", "PT"], "role": ["headquarters", "branch", "partner"],
        "level": ["3", "3", "1"], "member": [True, True, False]})
    departments = pd.DataFrame({"dept_id": ["D26", "D03"], "specialty_code": ["26", "03"]})
    return SimpleNamespace(years=YEARS, institutions=institutions, departments=departments,
                           staff=_staff(600, rng))


def _activity(seed: int = 0, n: int = 6000) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    inst = pa.array(np.where(rng.random(n) < 0.7, "HQ", "BR"))
    settings = np.array(["outpatient", "emergency", "inpatient", "health_check"])
    categories = np.array(CONTRACT.code_set("revenue_category").values)
    category = categories[rng.integers(0, len(categories), n)]
    drug = np.isin(category, ["drug_western", "drug_chinese_patent", "drug_herbal"])
    amount = np.round(rng.uniform(-20, 800, n), 2)
    charges = contract_table(
        "charge_line", n, institution_id=inst, setting=settings[rng.integers(0, 4, n)].tolist(),
        item_type=np.where(drug, "drug", "service").tolist(), revenue_category=category.tolist(),
        item_code=np.where(drug, np.char.add("DR", rng.integers(0, 40, n).astype(str)),
                           "SV1").tolist(),
        amount=pa.array(amount).cast(pa.decimal128(18, 2)),
        insurance_paid=pa.array(np.round(amount * 0.6, 2)).cast(pa.decimal128(18, 2)),
        charge_time=_times(rng, n))
    m = n // 2
    quantity = rng.integers(1, 30, m).astype(float)
    orders = contract_table(
        "medication_order", m, institution_id=pa.array(np.where(rng.random(m) < 0.7, "HQ", "BR")),
        drug_code=np.char.add("DR", rng.integers(0, 40, m).astype(str)).tolist(),
        dispensed_quantity=pa.array(np.where(rng.random(m) < 0.02, -1.0, quantity)),
        amount=pa.array(np.round(quantity * rng.uniform(2, 50, m), 2)).cast(pa.decimal128(18, 2)),
        order_time=_times(rng, m))
    visits = contract_table(
        "outpatient_visit", m, institution_id=pa.array(np.where(rng.random(m) < 0.7, "HQ", "BR")),
        visit_time=_times(rng, m), total_fee=_money(rng, 50, 500, m),
        drug_fee=_money(rng, 0, 50, m), insurance_paid=_money(rng, 0, 40, m),
        is_cancelled=(rng.random(m) < 0.05).tolist(), is_special_needs=(rng.random(m) < 0.01)
        .tolist())
    k = n // 20
    admitted = _times(rng, k)
    stays = contract_table(
        "inpatient_stay", k, institution_id=pa.array(np.where(rng.random(k) < 0.7, "HQ", "BR")),
        admission_time=admitted, discharge_time=pc.add(admitted, pa.scalar(
            dt.timedelta(days=5), pa.duration("us"))),
        **{c: _money(rng, 0, 3000, k) for c in ("total_cost", "insurance_paid",
                                                 "cost_drug_western", "cost_drug_chinese",
                                                 "cost_material", "cost_lab", "cost_imaging",
                                                 "cost_pathology")},
        cost_drug_antibacterial=_money(rng, 0, 0, k), self_pay_cost=_money(rng, 0, 0, k))
    return {"charge_line": charges, "medication_order": orders, "outpatient_visit": visits,
            "inpatient_stay": stays}


@pytest.fixture(scope="module")
def reported() -> dict[str, pa.Table]:
    return generate_reported(_world(), _activity(), rng_factory(7))


def _pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def _annual(finance: pa.Table) -> pd.DataFrame:
    frame = _pandas(finance)
    frame = frame[frame["period"].str.len() == 4]
    return frame.pivot_table(index=["institution_id", "period"], columns="line_code",
                             values="amount", aggfunc="first")


# --- tests ----------------------------------------------------------------------------------

def test_every_table_conforms_to_the_contract(reported):
    assert set(reported) == set(REPORTED_TABLES)
    for name, table in reported.items():
        assert table.num_rows > 0, name
        assert_conforms(name, table)


def test_every_member_institution_and_year_is_reported(reported):
    expected = {(i, y) for i in INSTITUTIONS for y in YEARS}
    for name in ("satisfaction_score", "eqa_result", "emr_assessment", "research_funding",
                 "qualitative_item"):
        frame = _pandas(reported[name])
        assert set(zip(frame["institution_id"], frame["year"], strict=True)) == expected, name
    annual = _annual(reported["finance_statement"])
    assert set(annual.index) == {(i, str(y)) for i, y in expected}
    assert annual.notna().all().all() and list(annual.columns) == sorted(
        CONTRACT.code_set("finance_line").values)
    hr = _pandas(reported["hr_snapshot"])
    assert set(hr["snapshot_date"].astype(str)) == {"2023-12-31", "2024-12-31"}
    assert hr.groupby(["institution_id", "snapshot_date"]).size().eq(
        len(CONTRACT.code_set("hr_metric").values)).all()
    qual = _pandas(reported["qualitative_item"])
    assert qual.groupby(["institution_id", "year"]).size().eq(5).all()


def test_revenue_lines_reconcile_with_charges_to_the_fen(reported):
    charges = _pandas(_activity()["charge_line"])
    charges["period"] = charges["charge_time"].dt.strftime("%Y")
    inpatient = charges["setting"] == "inpatient"
    drug = charges["revenue_category"].str.startswith("drug_")
    expected = {
        "outpatient_revenue": (~inpatient, "amount"), "inpatient_revenue": (inpatient, "amount"),
        "outpatient_revenue_insurance": (~inpatient, "insurance_paid"),
        "inpatient_revenue_insurance": (inpatient, "insurance_paid"),
        "drug_revenue": (drug, "amount"), "outpatient_drug_revenue": (drug & ~inpatient, "amount"),
        "material_revenue": (charges["revenue_category"] == "material", "amount"),
        "laboratory_revenue": (charges["revenue_category"] == "laboratory", "amount"),
        "medical_revenue": (charges["amount"].notna(), "amount"),
    }
    annual = _annual(reported["finance_statement"])
    for line, (mask, column) in expected.items():
        sums = charges[mask].groupby(["institution_id", "period"])[column].sum()
        assert (annual[line] == sums.reindex(annual.index)).all(), line
    monthly = _pandas(reported["finance_statement"])
    monthly = monthly[monthly["period"].str.len() == 7]
    assert set(monthly["line_code"]) == set(MONTHLY_LINES)
    by_year = monthly.assign(period=monthly["period"].str[:4]).groupby(
        ["institution_id", "period", "line_code"])["amount"].sum()
    stacked = annual[list(MONTHLY_LINES)].stack()
    assert (by_year.reindex(stacked.index) == stacked).all()


def test_statement_lines_follow_national_ratios(reported):
    a = _annual(reported["finance_statement"]).astype(float)

    def within(ratio: pd.Series, lo: float, hi: float) -> bool:
        return bool(ratio.between(lo - 1e-6, hi + 1e-6).all())

    assert within(a["medical_expense"] / a["medical_revenue"], 0.95, 1.0)
    assert within(a["personnel_expense"] / a["medical_expense"], 0.37, 0.41)
    assert within(a["energy_expense"] / a["total_revenue"] * 10_000, 80, 120)
    assert within(a["total_liabilities"] / a["total_assets"], 0.35, 0.55)
    assert within(a["key_monitored_drug_revenue"] / a["drug_revenue"], 0.01, 0.03)
    assert within(a["key_monitored_consumable_revenue"] / a["material_revenue"], 0.20, 0.35)
    assert within(a["training_expense"] / a["total_expense"], 0.005, 0.015)
    assert within(a["essential_drug_procurement_amount"] / a["drug_procurement_amount"], .3, .5)
    assert within(a["vbp_drug_procurement_amount"] / a["drug_procurement_amount"], 0.2, 0.3)
    assert within(a["drug_procurement_amount"] / a["drug_revenue"], 0.8, 1.1)
    assert within(a["special_needs_revenue"] / a["medical_revenue"], 0.0, 0.05)
    assert (a["total_revenue"] > a["medical_revenue"]).all()
    assert (a["total_expense"] > a["medical_expense"]).all()
    surplus = a["medical_revenue"] + a["fiscal_subsidy_revenue"] - a["medical_expense"]
    assert (surplus.round(2) == a["medical_surplus"]).all()
    procured = _pandas(reported["drug_procurement"])
    procured["period"] = pd.to_datetime(procured["month"]).dt.strftime("%Y")
    sums = procured.groupby(["institution_id", "period"])["amount"].sum().astype(float)
    assert (sums.reindex(a.index) == a["drug_procurement_amount"]).all()


def test_without_charges_revenue_comes_from_visits_and_stays():
    activity = {k: v for k, v in _activity().items() if k in ("outpatient_visit", "inpatient_stay")}
    out = generate_reported(_world(), activity, rng_factory(7))
    assert_conforms("finance_statement", out["finance_statement"])
    assert out["drug_procurement"].num_rows == 0
    annual = _annual(out["finance_statement"])
    visits = _pandas(activity["outpatient_visit"])
    visits = visits[~visits["is_cancelled"]]
    stays = _pandas(activity["inpatient_stay"])
    got = visits.groupby(["institution_id", visits["visit_time"].dt.strftime("%Y")])["total_fee"]
    assert (annual["outpatient_revenue"] == got.sum().reindex(annual.index)).all()
    got = stays.groupby(["institution_id", stays["discharge_time"].dt.strftime("%Y")])["total_cost"]
    assert (annual["inpatient_revenue"] == got.sum().reindex(annual.index)).all()
    special = visits[visits["is_special_needs"]].groupby(
        ["institution_id", visits["visit_time"].dt.strftime("%Y")])["total_fee"].sum()
    assert (annual["special_needs_revenue"] >= special.reindex(annual.index).fillna(0)).all()


def test_hr_counts_come_from_the_staff_active_at_year_end(reported):
    world = _world()
    staff = world.staff.copy()
    staff["specialty_code"] = staff["specialty_code"].fillna(
        staff["dept_id"].map({"D26": "26", "D03": "03"}))
    hr = _pandas(reported["hr_snapshot"]).pivot_table(
        index=["institution_id", "snapshot_date"], columns="metric_code", values="value")
    for year in YEARS:
        day = pd.Timestamp(year, 12, 31)
        active = staff[(staff["employed_from"] <= day)
                       & (staff["employed_to"].isna() | (staff["employed_to"] >= day))]
        doctors = active[(active["role"] == "physician") & active["is_licensed"]]
        for inst in INSTITUTIONS:
            row = hr.loc[(inst, day.date())]
            mine = active[active["institution_id"] == inst]
            docs = doctors[doctors["institution_id"] == inst]
            tech = mine[mine["role"].isin(["physician", "nurse", "pharmacist", "technician"])]
            assert row["health_technicians"] == len(tech)
            assert row["registered_physicians"] == len(docs)
            assert row["physicians_anaesthesia"] == (docs["specialty_code"] == "26").sum()
            paediatrics = docs["specialty_code"].isin(["07", "07.07"]).sum()
            assert row["physicians_paediatrics"] == paediatrics
            assert row["senior_title_technicians"] == (tech["title_level"] == "1").sum()
            assert row["junior_title_technicians"] == tech["title_level"].isin(["4", "5"]).sum()
            assert row["residents_first_exam_passed"] <= row["residents_first_exam_takers"]
            assert row["trainees_returned_independent"] <= row["trainees_admitted"]
    passed = hr["residents_first_exam_passed"].sum() / hr["residents_first_exam_takers"].sum()
    assert 0.6 <= passed <= 0.95


def test_scores_levels_and_grades_are_plausible(reported):
    scores = _pandas(reported["satisfaction_score"])
    ranges = {"outpatient": (85, 95), "inpatient": (90, 96), "staff": (80, 88)}
    for survey, (lo, hi) in ranges.items():
        s = scores[scores["survey_type"] == survey]
        assert s["score"].between(lo, hi).all(), survey
        trend = s.groupby("year")["score"].mean()
        assert trend[2024] > trend[2023] - 0.5
    emr = _pandas(reported["emr_assessment"]).set_index(["institution_id", "year"])
    assert emr.loc["HQ", "emr_level"].between(5, 6).all()
    assert emr.loc["BR", "emr_level"].between(4, 5).all()
    assert emr["smart_service_level"].between(2, 4).all()
    assert (emr.groupby(level=0)["emr_level"].diff().dropna() >= 0).all()
    qual = _pandas(reported["qualitative_item"])
    yes_no = qual[qual["item_code"] == "chief_accountant"]
    assert set(yes_no["grade"]) <= {"yes", "no"}
    assert set(qual[qual["item_code"] != "chief_accountant"]["grade"]) <= {"A", "B", "C", "D"}


def test_eqa_menus_participation_and_passes(reported):
    eqa = _pandas(reported["eqa_result"])
    sizes = eqa[eqa["scheme"] == "provincial"].groupby(["institution_id", "year"]).size()
    assert sizes.between(60, 120).all() and sizes.loc["HQ"].min() >= 100
    assert (eqa["participated"] <= eqa["is_performed"]).all()
    assert (eqa["passed"].isna() == ~eqa["participated"]).all()
    performed = eqa[eqa["is_performed"]]
    assert 0.9 <= performed["participated"].mean() <= 1.0
    took = eqa[eqa["participated"]]
    assert 0.92 <= took["passed"].astype(bool).mean() <= 1.0


def test_research_money_per_100_technicians(reported):
    research = _pandas(reported["research_funding"])
    hr = _pandas(reported["hr_snapshot"])
    tech = hr[hr["metric_code"] == "health_technicians"].assign(
        year=lambda f: pd.to_datetime(f["snapshot_date"]).dt.year).set_index(
        ["institution_id", "year"])["value"]
    grants = research[research["kind"] == "grant"].groupby(["institution_id", "year"])[
        "amount"].sum().astype(float)
    per100 = grants / 10_000 / tech.reindex(grants.index) * 100
    assert per100.loc["HQ"].between(299, 801).all()
    assert per100.loc["BR"].between(29, 241).all()
    assert set(research["funder_level"]) == {"national", "provincial", "municipal",
                                              "institutional"}
    assert (research["kind"] == "commercialisation").any()


def test_procurement_follows_dispensing(reported):
    orders = _pandas(_activity()["medication_order"])
    orders["month"] = orders["order_time"].dt.to_period("M").dt.to_timestamp().dt.date
    dispensed = orders.groupby(["institution_id", "month", "drug_code"])["dispensed_quantity"].sum()
    procured = _pandas(reported["drug_procurement"]).set_index(
        ["institution_id", "month", "drug_code"])
    assert set(procured.index) == set(dispensed[dispensed > 0].index)
    ratio = procured["quantity"] / dispensed.reindex(procured.index)
    assert ratio.between(1.0, 1.1 + 1 / dispensed.reindex(procured.index)).all()


def test_deterministic_and_streams_are_independent():
    a = generate_reported(_world(), _activity(), rng_factory(7))
    b = generate_reported(_world(), _activity(), rng_factory(7))
    assert all(a[name].equals(b[name]) for name in REPORTED_TABLES)
    c = generate_reported(_world(), _activity(seed=1), rng_factory(7))
    assert not c["finance_statement"].equals(a["finance_statement"])
    for name in ("satisfaction_score", "eqa_result", "emr_assessment", "qualitative_item"):
        assert c[name].equals(a[name]), name  # they draw from their own streams only
    d = generate_reported(_world(), _activity(), rng_factory(8))
    assert not d["satisfaction_score"].equals(a["satisfaction_score"])


def test_master_tables_may_come_as_arrow_in_activity(reported):
    world = _world()
    staff_columns = list(CONTRACT.table("staff").column_names)
    staff = pa.Table.from_pandas(world.staff[staff_columns],
                                 schema=CONTRACT.table("staff").schema().to_pyarrow(),
                                 preserve_index=False)
    departments = world.departments
    world = SimpleNamespace(years=YEARS, institutions=world.institutions)  # no staff, departments
    out = generate_reported(world, {**_activity(), "staff": staff,
                                    "department": pa.Table.from_pandas(departments)},
                            rng_factory(7))
    assert out["hr_snapshot"].equals(reported["hr_snapshot"])


def test_text_values_can_be_written_as_gbk(reported):
    for table in reported.values():
        for column in table.column_names:
            if pa.types.is_string(table.schema.field(column).type):
                text = "".join(v for v in pc.unique(table.column(column)).to_pylist() if v)
                text.encode("gbk")  # raises when a value could not go into a GBK file
