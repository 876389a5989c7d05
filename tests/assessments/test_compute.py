"""Computing an edition on a tiny hand-made group, every expected number worked out by hand.

Institution H1 (H2 has one 2025 stay; H9 has nothing)::

    stay  discharged   dept  surgery  elective  complication  total cost
    S1    2025-01-15   SUR   yes      yes       yes           1000
    S2    2025-01-20   MED   no                               2000
    S4    2025-02-10   SUR   no                               4000
    S3    2025-03-03   SUR   yes      no        no            3000
    P1    2024-05-01   SUR   yes      yes       no            1000
    P2    2024-06-01   MED   no                               2000
    P3    2024-07-01   MED   no                               3000
    O1    2023-09-01   MED   no                               2500
    T1    2025-06-01   MED   no (H2)                           500

    visits: 2025 six outpatient + one cancelled outpatient + one emergency; 2024 three
    outpatient. Reported EMR level: H1 2024 = 4, 2025 = 5.

Tertiary 2024 edition, period 2025 (prior 2024):

* item 4 出院患者手术占比 — H1 2/4 = 50 %, prior 1/3 = 33.33 %, change +16.67, +50 %;
  H2 0/1 = 0 %, prior: no records.
* item 1 门诊人次数与出院人次数比 — H1 6/4 = 1.5, prior 3/3 = 1.0, change +0.5, +50 %.
* item 8 手术患者并发症发生率 (@2: elective only) — H1 1/1 = 100 %, prior 0/1 = 0 %: change +100,
  change % null (prior 0). The 2019 edition (@1: every surgical patient) gives 1/2 = 50 %.
* item 40 住院次均费用增幅 — mean cost 2025 10000/4 = 2500, 2024 6000/3 = 2000, 2023 2500:
  growth 2025 (2500−2000)/2000 = +25 %, 2024 (2000−2500)/2500 = −20 %: change +45, +225 %.
* item 24 电子病历应用功能水平分级 (reported) — H1 5, prior 4, change +1, +25 %; H2 none.
* item 2 下转患者人次数 — no catalog indicator: not computable with the edition's reason.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.assessments import compute as compute_module
from hospital_sdk.assessments.compute import compute_edition
from hospital_sdk.assessments.editions import Edition, edition
from hospital_sdk.assessments.result import ITEM_COLUMNS, SCORE_COLUMNS
from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators import FACTS, fact_memtable, load_catalog
from hospital_sdk.indicators.catalog import Catalog

STAYS = [  # id, institution, discharged, dept, surgery, elective, complication, cost
    ("S1", "H1", "2025-01-15", "SUR", True, True, True, 1000),
    ("S2", "H1", "2025-01-20", "MED", False, False, False, 2000),
    ("S4", "H1", "2025-02-10", "SUR", False, False, False, 4000),
    ("S3", "H1", "2025-03-03", "SUR", True, False, False, 3000),
    ("P1", "H1", "2024-05-01", "SUR", True, True, False, 1000),
    ("P2", "H1", "2024-06-01", "MED", False, False, False, 2000),
    ("P3", "H1", "2024-07-01", "MED", False, False, False, 3000),
    ("O1", "H1", "2023-09-01", "MED", False, False, False, 2500),
    ("T1", "H2", "2025-06-01", "MED", False, False, False, 500),
]
VISITS = ([("2025-04-01", "outpatient", False)] * 6 + [("2025-04-02", "outpatient", True),
                                                       ("2025-04-03", "emergency", False)]
          + [("2024-04-01", "outpatient", False)] * 3)


def _source() -> dict[str, Any]:
    stays = fact_memtable("stay_fact", [
        {"institution_id": inst, "stay_id": sid, "discharge_time": f"{day}T10:00:00",
         "discharge_dept_id": dept, "has_surgery": op, "has_elective_surgery": elective,
         "has_complication_not_poa": comp, "total_cost": cost, "is_newborn": False}
        for sid, inst, day, dept, op, elective, comp, cost in STAYS])
    visits = fact_memtable("visit_fact", [
        {"institution_id": "H1", "visit_id": f"V{i}", "visit_time": f"{day}T09:00:00",
         "visit_type": kind, "is_cancelled": cancelled, "dept_id": "SUR"}
        for i, (day, kind, cancelled) in enumerate(VISITS)])
    # every other fact empty: their items have no records
    return {**{name: fact_memtable(name) for name in FACTS}, "stay_fact": stays,
            "visit_fact": visits}


REPORTED = pd.DataFrame({
    "institution_id": ["H1", "H1"], "period": ["2024", "2025"],
    "indicator_id": ["emr_level", "emr_level"], "version": ["1", "1"],
    "value_number": [4.0, 5.0], "value_text": [None, None], "unit": ["级", "级"],
    "source_file": ["reported_2024.csv", "reported_2025.csv"],
    "submitted_at": [datetime(2025, 1, 5, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)]})


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def tertiary() -> Edition:
    return edition("tertiary", "2024")


@pytest.fixture(scope="module")
def result(catalog: Catalog, tertiary: Edition) -> Any:
    return compute_edition(catalog, tertiary, _source(), period="2025", reported=REPORTED)


def _row(result: Any, item: str, institution: str) -> pd.Series:
    items = result.items
    found = items[(items["item"] == item) & (items["institution"] == institution)]
    assert len(found) == 1
    return found.iloc[0]


def _numbers(row: pd.Series) -> list[float]:
    return [round(float(row[c]), 4) for c in ("value", "prior_value", "change", "change_pct")]


def test_the_result_has_every_item_for_every_institution(result: Any) -> None:
    assert (result.assessment, result.edition, result.period) == ("tertiary", "2024", "2025")
    assert result.name_zh == "国家三级公立医院绩效考核"
    # 56 items and #10's 40 components (10.1–10.40), for each of 2 institutions
    assert len(result.items) == (56 + 40) * 2
    assert set(result.items["institution"]) == {"H1", "H2"}
    assert list(result.items.columns[:len(ITEM_COLUMNS)]) == list(ITEM_COLUMNS)
    assert result.items[list(SCORE_COLUMNS)].isna().all().all()
    assert result.tiers.empty and result.quality.empty
    assert (result.items["status"].isin(["ok", "not_computable"])).all()
    not_ok = result.items[result.items["status"] != "ok"]
    assert not_ok["reason"].notna().all() and (not_ok["reason"] != "").all()
    assert result.items["prior_period"].eq("2024").all()


def test_surgery_share(result: Any) -> None:
    h1 = _row(result, "4", "H1")
    assert _numbers(h1) == [50.0, 33.3333, 16.6667, 50.0]
    assert (h1["numerator"], h1["denominator"]) == (2.0, 4.0)
    assert (h1["indicator_id"], h1["version"], h1["national_monitoring"]) == (
        "surgery_share", "1", True)
    assert (h1["dimension_zh"], h1["sub_dimension_zh"], h1["direction"]) == (
        "医疗质量", "功能定位", "higher_better")
    h2 = _row(result, "4", "H2")
    assert h2["value"] == 0.0 and h2["status"] == "ok"
    assert np.isnan(h2["prior_value"]) and np.isnan(h2["change"])


def test_outpatient_discharge_ratio(result: Any) -> None:
    assert _numbers(_row(result, "1", "H1")) == [1.5, 1.0, 0.5, 50.0]


def test_complication_rate_follows_the_editions_version(catalog: Catalog, result: Any) -> None:
    h1 = _row(result, "8", "H1")
    assert h1["version"] == "2"
    assert [h1["value"], h1["prior_value"], h1["change"]] == [100.0, 0.0, 100.0]
    assert np.isnan(h1["change_pct"])  # the prior is 0
    old = compute_edition(catalog, edition("tertiary", "2019"), _source(), period=2025,
                          reported=REPORTED)
    row = _row(old, "8", "H1")
    assert (row["version"], row["value"], row["numerator"], row["denominator"]) == (
        "1", 50.0, 1.0, 2.0)
    assert old.assumptions[0] == ("edition 2019 applies to data years 2019–2019; computed for "
                                  "2025 for comparison")
    assert "增1" not in set(old.items["item"]) and len(old.items) == (55 + 40) * 2


def test_mean_cost_growth(result: Any) -> None:
    assert _numbers(_row(result, "40", "H1")) == [25.0, -20.0, 45.0, 225.0]
    h2 = _row(result, "40", "H2")
    assert (h2["status"], h2["reason"]) == ("not_computable", "no value in the period before")


def test_reported_item(result: Any) -> None:
    h1 = _row(result, "24", "H1")
    assert _numbers(h1) == [5.0, 4.0, 1.0, 25.0]
    h2 = _row(result, "24", "H2")
    assert (h2["status"], h2["reason"]) == ("not_computable", "no reported value")
    assert result.reported[["item", "institution", "period", "value", "source_file",
                            "status"]].values.tolist() == [
        ["24", "H1", "2024", 4.0, "reported_2024.csv", "ok"],
        ["24", "H1", "2025", 5.0, "reported_2025.csv", "ok"]]


def test_an_item_without_an_indicator_carries_the_editions_reason(catalog: Catalog) -> None:
    # the tertiary editions define every item now; the high-quality set still lacks its two
    # qualitative party-building items: each row carries the edition's own reason, name,
    # direction and unit, and the inputs it would need
    hq = edition("high_quality")
    out = compute_edition(catalog, hq, _source(), period="2025", reported=REPORTED)
    missing = [i for i in hq.items if i.missing is not None]
    assert [i.item for i in missing] == ["1", "2"]
    for item in missing:
        assert item.missing is not None
        for inst in ("H1", "H2"):
            row = _row(out, item.item, inst)
            assert (row["status"], row["reason"]) == ("not_computable", item.missing.reason)
            assert pd.isna(row["indicator_id"]) and np.isnan(row["value"])
            assert (row["name_zh"], row["direction"], row["unit"]) == (
                item.name_zh, item.direction, item.unit)
            assert row["notes"].endswith(f"inputs: {item.missing.data_source}")


def test_an_item_shown_as_components(result: Any) -> None:
    # #10 has no single value; its components follow it, each with its indicator's own name,
    # direction and cells (the fixture has no single-disease stays: no records)
    parent = _row(result, "10", "H1")
    assert (parent["status"], parent["reason"]) == (
        "not_computable", "shown as its 40 components, items 10.1–10.40: the item has no "
                          "single value")
    h1 = result.items[result.items["institution"] == "H1"]
    at = h1.index[h1["item"] == "10"][0]
    assert h1.loc[at:, "item"].tolist()[:5] == ["10", "10.1", "10.2", "10.3", "10.4"]
    fatality = _row(result, "10.4", "H1")
    assert (fatality["indicator_id"], fatality["direction"], fatality["national_monitoring"],
            fatality["order"]) == ("single_disease_ami_fatality", "lower_better", True, 10)
    assert fatality["notes"].endswith("component 4 of 40 of item 10")


def test_national_reference_and_weights(result: Any) -> None:
    row = _row(result, "3", "H1")
    assert row["national_reference"] == 14.2
    assert row["national_reference_note"].startswith("2022: 全国三级公立医院 2022 [C:P23]")
    # equal weights, except #10's components: shown and scored, 0 in the total
    component = result.items["item"].str.startswith("10.")
    assert result.items.loc[~component, "weight"].eq(1.0).all()
    assert result.items.loc[component, "weight"].eq(0.0).all() and component.sum() == 80


def test_departments_and_trend(result: Any) -> None:
    deps = result.departments
    share = deps[(deps["item"] == "4") & (deps["institution"] == "H1")]
    assert share[["department", "numerator", "denominator"]].values.tolist() == [
        ["MED", 0.0, 1.0], ["SUR", 2.0, 3.0]]
    assert share["department_name_zh"].isna().all()  # no lakehouse: no department table
    assert not deps["suppressed"].any() and deps["funnel_flag"].isna().all()
    assert "24" not in set(deps["item"])  # a reported item has no departments
    trend = result.trend
    months = trend[(trend["item"] == "4") & (trend["institution"] == "H1")]
    assert months[["period", "value"]].values.tolist() == [
        ["2025-01", 50.0], ["2025-02", 0.0], ["2025-03", 100.0]]


def test_named_institutions_get_a_row_even_without_data(catalog: Catalog,
                                                       tertiary: Edition) -> None:
    out = compute_edition(catalog, tertiary, _source(), period="2025",
                          institutions=["H1", "H9"], reported=REPORTED)
    assert set(out.items["institution"]) == {"H1", "H9"}
    assert set(out.departments["institution"]) == {"H1"}
    assert _row(out, "4", "H9")["reason"] == "no records for this institution in the period"
    assert _row(out, "24", "H9")["reason"] == "no reported value"


def test_one_engine_call_per_question(monkeypatch: pytest.MonkeyPatch, catalog: Catalog,
                                      tertiary: Edition) -> None:
    calls: list[tuple[str, Any, int]] = []
    real = compute_module.compute

    def spy(catalog: Catalog, indicators: Any, source: Any, **kw: Any) -> pd.DataFrame:
        calls.append((kw["period"], kw["by"], len(indicators)))
        return real(catalog, indicators, source, **kw)

    monkeypatch.setattr(compute_module, "compute", spy)
    compute_edition(catalog, tertiary, _source(), period="2025", reported=REPORTED)
    refs = len(tertiary.refs)
    # reported items and #25 (bed-days ÷ reported physicians) have no department or month cut
    reported = sum(catalog.get(r).kind == "reported" for r in tertiary.refs) + 1
    assert calls == [("2025", "institution", refs), ("2024", "institution", refs),
                     ("2025", ["institution", "department"], refs - reported),
                     ("2025", ["institution", "month"], refs - reported)]


def test_each_fact_is_read_once_for_the_four_calls(catalog: Catalog,
                                                 tertiary: Edition) -> None:
    reads: list[str] = []

    class Source(dict):  # a lakehouse looks a table's schema up at every read
        def __getitem__(self, name: str) -> Any:
            reads.append(name)
            return super().__getitem__(name)

    compute_edition(catalog, tertiary, Source(_source()), period="2025", reported=REPORTED)
    assert reads and sorted(reads) == sorted(set(reads))


def test_a_composite_with_a_reported_part_is_listed_with_its_submissions(
        catalog: Catalog, tertiary: Edition) -> None:
    # #25 = bed-days ÷ average licensed physicians (reported) ÷ 365: the form's value is listed
    # under item 25 in the reported inputs, and the item has no department or month rows
    reported = pd.DataFrame([{"institution_id": "H1", "period": "2025", "version": "1",
                              "indicator_id": "average_licensed_physicians",
                              "value_number": 4.0, "source_file": "hr.csv"}])
    out = compute_edition(catalog, tertiary, _source(), period="2025", reported=reported)
    assert out.reported[["item", "institution", "period", "indicator_id", "value"]
                        ].values.tolist() == [["25", "H1", "2025",
                                               "average_licensed_physicians", 4.0]]
    assert "25" not in set(out.departments["item"]) | set(out.trend["item"])
    assert _row(out, "25", "H1")["status"] == "ok"
    assert _row(out, "25", "H2")["reason"] == "no reported value of average_licensed_physicians"


def test_the_period_must_be_a_year(catalog: Catalog, tertiary: Edition) -> None:
    with pytest.raises(IndicatorError, match=r"^period '2025-03' is not a year \(YYYY\)"):
        compute_edition(catalog, tertiary, _source(), period="2025-03")


def test_a_fact_without_departments_skips_the_department_breakdown(catalog: Catalog,
                                                                   tertiary: Edition) -> None:
    """procurement_fact is per institution and month: its items get institution values and a
    monthly trend but no department rows (never a crash, never a row with a null department);
    exam_fact is cut by the ordering department.

    Item 21 (vbp_drug_use_share), H1: 2025 A (winner) 80 + A2 (same generic) 20 -> 80/100 = 80 %;
    2024: 10/(10 + 30) = 25 %: change +55, +220 %. Months: 2025-01 80/80 = 100 %, 2025-03
    0/20 = 0 %. Item 11 (large_equipment_positive_rate), H1 2025: SUR 1 positive of 2 CT = 50 %,
    MED 1 of 1 MR = 100 %, all 2/3.
    """
    def item(number: str, ref: str) -> Any:
        return dataclasses.replace(tertiary.items[0], item=number, indicator=ref, missing=None,
                                   national_reference=None)

    chosen = dataclasses.replace(tertiary, items=(
        item("11", "large_equipment_positive_rate@1"), item("21", "vbp_drug_use_share@1")))
    bought = [("2025-01-01", "A", True, 80.0), ("2025-03-01", "A2", False, 20.0),
              ("2024-06-01", "A", True, 10.0), ("2024-06-01", "A2", False, 30.0)]
    exams = [("E1", "SUR", True), ("E2", "SUR", False), ("E3", "MED", True)]
    source = {**_source(),
              "procurement_fact": fact_memtable("procurement_fact", [
                  {"institution_id": "H1", "month": date.fromisoformat(m), "drug_code": code,
                   "is_vbp": vbp, "generic_has_vbp": True, "quantity": qty}
                  for m, code, vbp, qty in bought]),
              "exam_fact": fact_memtable("exam_fact", [
                  {"institution_id": "H1", "exam_id": e, "order_time": "2025-05-05T08:00:00",
                   "ordering_dept_id": dept, "is_large_equipment": True, "has_result": True,
                   "is_positive": positive} for e, dept, positive in exams])}
    out = compute_edition(catalog, chosen, source, period="2025", reported=REPORTED)
    assert _numbers(_row(out, "21", "H1")) == [80.0, 25.0, 55.0, 220.0]
    assert round(float(_row(out, "11", "H1")["value"]), 4) == 66.6667
    deps = out.departments
    assert "21" not in set(deps["item"])
    assert deps[deps["item"] == "11"][["department", "value"]].values.tolist() == [
        ["MED", 100.0], ["SUR", 50.0]]
    trend = out.trend[out.trend["item"] == "21"]
    assert trend[["period", "value"]].values.tolist() == [["2025-01", 100.0], ["2025-03", 0.0]]
