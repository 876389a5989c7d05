"""Lineage: the columns an indicator reads, hand-checked; every fact column has declared lineage;
the data dictionary's "Indicators reading each column" section is committed up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators import FACTS, load_catalog
from hospital_sdk.indicators.lineage import (
    BUILDER_NEEDS,
    DERIVED_FROM,
    LINEAGE_COLUMNS,
    MAIN_TABLE,
    column_usage,
    data_dictionary,
    fact_column_sources,
    lineage,
    lineage_markdown,
)

REPO = Path(__file__).resolve().parents[2]

STAY_DIMS = {"institution_id", "campus_id", "discharge_dept_id", "attending_doctor_id", "payer",
             "drg_code"}
VISIT_DIMS = {"institution_id", "campus_id", "dept_id", "doctor_id", "payer", "visit_type"}

TAGS = {"subject": "医院", "matter": "功能定位", "purpose": "test", "responsible_department": "医务处",
        "domain": "inpatient", "source": {"document": "test", "confidence": "chosen"},
        "direction": "monitor", "unit": "%", "national_monitoring": False, "owner": "质控办"}


def _indicator(root: Path, iid: str, *versions: dict, unit: str = "%") -> None:
    doc = {"id": iid, "name_zh": iid, "name_en": iid, "tags": {**TAGS, "unit": unit},
           "versions": [{"version": str(i + 1), **v} for i, v in enumerate(versions)]}
    path = root / "indicators" / f"{iid}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A catalog written here, so the expected lineage does not move with the national one."""
    root = tmp_path_factory.mktemp("catalog")
    (root / "measures").mkdir()
    (root / "indicators").mkdir()
    count = {"aggregation": "count", "unit": "人次", "additive": True}
    (root / "measures" / "stay_fact.yaml").write_text(yaml.safe_dump({"fact": "stay_fact",
        "measures": {
            "discharges": {"name_zh": "出院", "name_en": "Discharges", **count,
                           "counting_unit": "admission"},
            "bed_days": {"name_zh": "床日", "name_en": "Bed-days", "aggregation": "sum",
                         "expression": "_.los_days", "unit": "床日", "counting_unit": "day",
                         "additive": True}}}, allow_unicode=True), encoding="utf-8")
    (root / "measures" / "visit_fact.yaml").write_text(yaml.safe_dump({"fact": "visit_fact",
        "measures": {"visits": {"name_zh": "门诊", "name_en": "Visits", **count,
                                "counting_unit": "visit"}}}, allow_unicode=True),
        encoding="utf-8")
    _indicator(root, "deaths_of_surgery", {
        "kind": "proportion", "population": {
            "counting_unit": "admission", "denominator": {"measure": "discharges",
                                                          "where": "_.has_surgery"},
            "numerator": {"where": "_.is_death"}}}, {
        "population": {"exclusions": [{"id": "newborn", "name_zh": "新生儿", "name_en": "Newborn",
                                       "where": "_.is_newborn"}]}})
    _indicator(root, "mean_stay", {"kind": "mean", "numerator": "bed_days",
                                   "denominator": "discharges", "dimensions": ["institution"]},
               unit="天")
    _indicator(root, "visits_per_discharge", {
        "kind": "ratio", "numerator": "outpatient", "denominator": "discharges"}, unit=":1")
    _indicator(root, "outpatient", {"kind": "derived", "measure": "visits",
                                    "where": "_.visit_type == 'outpatient'"}, unit="人次")
    _indicator(root, "ratio_growth", {"kind": "growth", "of": "visits_per_discharge",
                                      "over": "year"})
    _indicator(root, "emr", {"kind": "reported", "reported": {
        "value_type": "level", "minimum": 0, "maximum": 8, "period": "year"}}, unit="级")
    return load_catalog(root)


def _cols(frame, layer: str, table: str) -> set[str]:
    return set(frame[(frame.layer == layer) & (frame.table == table)].column)


def test_every_fact_column_has_declared_lineage():
    """A new fact column must be a column of the fact's main table or be declared."""
    for name, fact in FACTS.items():
        for column in fact.schema().names:
            sources = fact_column_sources(name, column)
            assert sources, (name, column)
    for (fact, column), sources in DERIVED_FROM.items():
        assert column in FACTS[fact].schema(), f"{fact}.{column} is declared but not built"
        for table, source in sources:
            assert source in BUILDER_NEEDS[fact].get(table, ()), (
                f"{fact}.{column} is declared from {table}.{source}, which its builder does "
                f"not read")


def test_a_column_without_lineage_is_a_clear_error():
    with pytest.raises(IndicatorError, match="stay_fact.made_up has no declared lineage"):
        fact_column_sources("stay_fact", "made_up")
    with pytest.raises(IndicatorError, match="unknown fact"):
        fact_column_sources("stay_facts", "is_death")


def test_pass_through_and_derived_columns():
    assert fact_column_sources("stay_fact", "los_days") == (("inpatient_stay", "los_days"),)
    assert fact_column_sources("procedure_fact", "surgeon_id") == (
        ("stay_procedure", "surgeon_id"),)
    # the procedure's stay columns come from the stay, not from the procedure row
    assert fact_column_sources("procedure_fact", "discharge_dept_id") == (
        ("inpatient_stay", "discharge_dept_id"),)
    assert set(fact_column_sources("visit_fact", "wait_minutes")) == {
        ("outpatient_visit", "checkin_time"), ("outpatient_visit", "call_time")}
    assert set(fact_column_sources("stay_fact", "drg_mortality")) == {
        ("inpatient_stay", "grouper_version"), ("inpatient_stay", "drg_code"),
        ("inpatient_stay", "discharge_disposition")}
    assert MAIN_TABLE["visit_fact"] == "outpatient_visit"


def test_proportion_with_exclusion_hand_computed(tiny):
    v1, v2 = lineage(tiny, "deaths_of_surgery@1"), lineage(tiny, "deaths_of_surgery@2")
    assert list(v1.columns) == list(LINEAGE_COLUMNS)
    assert _cols(v1, "aggregated", "stay_fact") == {
        "has_surgery", "is_death", "discharge_time", *STAY_DIMS}
    assert _cols(v2, "aggregated", "stay_fact") == _cols(v1, "aggregated", "stay_fact") | {
        "is_newborn"}
    assert set(v2.table) == {"stay_fact", "inpatient_stay", "stay_procedure", "procedure_catalog"}
    assert _cols(v2, "cleaned", "inpatient_stay") == {
        "discharge_time", "discharge_disposition", "is_newborn", *STAY_DIMS}
    assert _cols(v2, "cleaned", "stay_procedure") == {"procedure_code"}
    assert _cols(v2, "cleaned", "procedure_catalog") == {"category"}
    used = dict(zip(v2.column + "@" + v2.layer, v2.used_for, strict=True))
    assert used["is_newborn@aggregated"] == "exclusion newborn"
    assert used["has_surgery@aggregated"] == "condition"
    assert used["discharge_time@aggregated"] == "time"
    assert used["discharge_dept_id@aggregated"] == "dimension department"
    assert used["category@cleaned"] == "stay_fact.has_surgery"
    assert used["discharge_disposition@cleaned"] == "stay_fact.is_death"


def test_refs_across_facts_read_both_and_only_shared_dimensions(tiny):
    frame = lineage(tiny, "visits_per_discharge")
    shared = {"institution", "campus", "department", "doctor", "payer"}  # no drg, no visit_type
    assert _cols(frame, "aggregated", "stay_fact") == {
        "discharge_time", *(FACTS["stay_fact"].dimensions[d] for d in shared)}
    assert _cols(frame, "aggregated", "visit_fact") == {
        "visit_time", "visit_type", *(FACTS["visit_fact"].dimensions[d] for d in shared)}
    row = frame[(frame.table == "visit_fact") & (frame.column == "visit_type")].iloc[0]
    assert row.used_for == "condition"  # the derived numerator's where, not a dimension
    # a growth reads what its base reads
    growth = lineage(tiny, "ratio_growth")
    assert growth[["layer", "table", "column"]].equals(frame[["layer", "table", "column"]])


def test_declared_dimensions_and_measure_expression(tiny):
    frame = lineage(tiny, "mean_stay")
    assert _cols(frame, "aggregated", "stay_fact") == {"los_days", "discharge_time",
                                                       "institution_id"}
    assert set(frame[frame.column == "los_days"].used_for) == {"measure bed_days",
                                                               "stay_fact.los_days"}


def test_reported_indicator_reads_the_reported_values(tiny):
    frame = lineage(tiny, "emr")
    assert set(frame.layer) == {"raw"} and set(frame.table) == {"reported_value"}
    assert {"institution_id", "period", "value_number"} <= set(frame.column)


def test_national_surgery_share():
    catalog = load_catalog()
    frame = lineage(catalog, "surgery_share@1")
    assert _cols(frame, "aggregated", "stay_fact") == {"has_surgery", "discharge_time",
                                                       *STAY_DIMS}
    assert _cols(frame, "cleaned", "inpatient_stay") == {"discharge_time", *STAY_DIMS}
    assert _cols(frame, "cleaned", "stay_procedure") == {"procedure_code"}
    assert _cols(frame, "cleaned", "procedure_catalog") == {"category"}
    assert set(frame.table) == {"stay_fact", "inpatient_stay", "stay_procedure",
                                "procedure_catalog"}


def test_column_usage_agrees_with_lineage(tiny):
    usage = column_usage(tiny)
    assert list(usage.columns) == ["layer", "table", "column", "indicators"]
    by_column = {(r.layer, r.table, r.column): r.indicators for r in usage.itertuples()}
    for versions in tiny.indicators.values():
        for ind in versions:
            for r in lineage(tiny, ind).itertuples():
                assert ind.key in by_column[r.layer, r.table, r.column]
    assert by_column["aggregated", "stay_fact", "is_newborn"] == ("deaths_of_surgery@2",)
    assert by_column["cleaned", "outpatient_visit", "visit_type"] == (
        "outpatient@1", "ratio_growth@1", "visits_per_discharge@1")


def test_markdown_section(tiny):
    md = lineage_markdown(tiny)
    assert md.startswith("## Indicators reading each column")
    assert "#### `aggregated.stay_fact`" in md
    assert "#### `cleaned.stay_procedure` ([contract](#stay_procedure))" in md
    assert "#### `raw.reported_value`" in md
    # a column only one version reads names the version; one every version reads, the id
    assert "| `is_newborn` | `inpatient_stay.is_newborn` | `deaths_of_surgery@2` |" in md
    assert ("| `has_surgery` | `stay_procedure.procedure_code`, `procedure_catalog.category` | "
            "`deaths_of_surgery` |") in md
    assert "| `visit_time` | `outpatient_visit.visit_time` | all of them |" in md
    assert md.endswith("|\n")


def test_committed_data_dictionary_is_current():
    """DATA_DICTIONARY.md is the contract followed by the indicator section; regenerate it with
    ``hospital-sdk contract --format markdown --out DATA_DICTIONARY.md`` after a change to the
    contract or the catalog."""
    committed = (REPO / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(load_catalog()), (
        "DATA_DICTIONARY.md is stale: run hospital-sdk contract --format markdown "
        "--out DATA_DICTIONARY.md")
