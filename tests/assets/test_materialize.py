"""The whole graph on a small synthetic group: a year's backfill materializes every layer and
writes the reports; re-running one month afterwards replaces that month with the same rows the
backfill wrote (no duplicates) and leaves the other months alone."""

from __future__ import annotations

import json

import pytest

from assets.materialize import materialize
from hospital_sdk.config import Settings
from hospital_sdk.store import Lakehouse
from hospital_sdk.synth import generate

MONTHLY = {  # layer.table -> period column (the month a row belongs to)
    "cleaned.inpatient_stay": "discharge_time", "cleaned.stay_diagnosis": "discharge_time",
    "cleaned.outpatient_visit": "visit_time", "cleaned.charge_line": "charge_time",
    "aggregated.stay_fact": "discharge_time", "aggregated.visit_fact": "visit_time",
    "aggregated.procedure_fact": "discharge_time", "aggregated.department_month": "month",
    "aggregated.exam_fact": "order_time", "aggregated.procurement_fact": "month",
    "application.indicator_value": "month",
}


def fingerprint(lake: Lakehouse, table: str, period: str) -> dict[str, tuple[int, int]]:
    """Per month: rows, and an order-independent sum of hashes of the whole rows."""
    rows = lake.duck.execute(f"SELECT strftime({period}, '%Y-%m') AS m, count(*), sum(hash(t)) "
                             f"FROM lake.{table} t GROUP BY m ORDER BY m").fetchall()
    return {m: (int(n), int(h)) for m, n, h in rows}


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("graph")
    generate(root / "source", scale=0.001, years=(2025,), seed=7)
    settings = Settings(home=root / "lake", source=root / "source", first_month="2025-01")
    result = materialize(settings, "2025-01", "2025-12")
    assert result.success, [e.message for e in result.all_events
                            if e.event_type_value == "STEP_FAILURE"]
    return settings


def test_every_layer_is_materialized_and_reconciled(group: Settings) -> None:
    with Lakehouse.open(group.home, read_only=True) as lake:
        for layer, expected in {"cleaned": {"inpatient_stay", "patient_index", "status_interval",
                                            "code_map"},
                                "aggregated": {"stay_fact", "procedure_fact", "visit_fact",
                                               "drg_risk", "department_month", "exam_fact",
                                               "procurement_fact"},
                                "application": {"quality_check_history", "quality_scorecard",
                                                "indicator_value", "indicator_signal"}}.items():
            assert expected <= set(lake.list_tables(layer)), layer
        raw = lake.duck.execute("SELECT count(*) FROM lake.raw.inpatient_stay").fetchone()[0]
        facts = lake.duck.execute("SELECT count(*) FROM lake.aggregated.stay_fact").fetchone()[0]
        summed = lake.duck.execute(
            "SELECT sum(discharges) FROM lake.aggregated.department_month").fetchone()[0]
        # a clean group: every loaded stay is one stay fact and one discharge of its department
        assert raw == facts == summed
        manifest = json.loads((group.source / "_manifest.json").read_text())
        assert raw == manifest["row_counts"]["inpatient_stay"]
    reports = group.home / "reports"
    for name in ("quality/quality_scorecard.xlsx", "quality/quality_scorecard.html",
                 "activity/activity_summary.xlsx", "activity/activity_summary.html",
                 # every assessment in the edition in force for 2025, the latest complete year
                 "assessment/assessment_tertiary_2024_2025.xlsx",
                 "assessment/assessment_tertiary_2024_2025.html",
                 "assessment/assessment_tertiary_2024_2025.pdf",
                 "assessment/assessment_secondary_2020_2025.xlsx",
                 "assessment/assessment_high_quality_2022_2025.html"):
        assert (reports / name).stat().st_size > 0, name


def test_on_clean_data_no_check_fails_and_no_row_is_quarantined(group: Settings) -> None:
    from hospital_sdk.quality.scorecard import latest_scorecard

    with Lakehouse.open(group.home, read_only=True) as lake:
        card = latest_scorecard(lake)
        rejected = lake.duck.execute("SELECT count(*) FROM lake.raw.load_rejects").fetchone()[0]
    assert rejected == 0
    assert set(card.layer) == {"raw", "cleaned", "aggregated"}
    bad = card[card.status.isin(["failed", "error"])]
    # a handful of discharges per institution and month at this scale: a month under half the
    # previous one happens by chance, which is why the arrival check only warns
    chance = bad.check_type.eq("timely_arrival") & bad.severity.eq("warning") \
        & bad.status.eq("failed")
    assert bad[~chance].empty, bad[["layer", "check_id", "partition", "status", "reason"]]
    assert int(card.quarantined_rows.fillna(0).sum()) == 0


def test_selecting_one_part_of_the_discharge_record_builds_the_whole_record(
        group: Settings) -> None:
    from assets.materialize import planned_steps

    steps = planned_steps(group, 'key:"cleaned/stay_movement"')
    assert steps == ["cleaned__discharge_record"]
    result = materialize(group, "2025-06", "2025-06", selection='key:"cleaned/stay_movement"')
    assert result.success
    written = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert written == {"cleaned/inpatient_stay", "cleaned/stay_diagnosis",
                       "cleaned/stay_procedure", "cleaned/stay_movement"}


def test_rerunning_a_month_replaces_exactly_that_month(group: Settings) -> None:
    with Lakehouse.open(group.home, read_only=True) as lake:
        before = {t: fingerprint(lake, t, p) for t, p in MONTHLY.items()}
        snapshot = lake.current_snapshot()
    result = materialize(group, "2025-03", "2025-03", selection="group:cleaned or "
                                                                "group:aggregated or "
                                                                'key:"application/indicator_value"')
    assert result.success
    with Lakehouse.open(group.home, read_only=True) as lake:
        assert lake.current_snapshot() > snapshot  # it did write
        after = {t: fingerprint(lake, t, p) for t, p in MONTHLY.items()}
    assert after == before  # same rows in every month: no duplicates, nothing lost


def test_indicator_values_agree_with_the_facts(group: Settings) -> None:
    # the stored surgery_share of each institution x department x month has the month's
    # discharges of that department as denominator, and they add up to the stay facts
    with Lakehouse.open(group.home, read_only=True) as lake:
        stored = lake.duck.execute(
            "SELECT strftime(month, '%Y-%m'), sum(denominator) FROM lake.application."
            "indicator_value WHERE indicator_id = 'surgery_share' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        facts = lake.duck.execute(
            "SELECT strftime(discharge_time, '%Y-%m'), count(*) FROM lake.aggregated.stay_fact "
            "GROUP BY 1 ORDER BY 1").fetchall()
    assert [(m, int(n)) for m, n in stored] == [(m, int(n)) for m, n in facts]


def test_every_stored_indicator_value_is_a_point_of_a_signal_chart(group: Settings) -> None:
    # indicator_signal charts every row of indicator_value (gaps included): one row each
    with Lakehouse.open(group.home, read_only=True) as lake:
        values, charted, unmatched = lake.duck.execute(
            "SELECT (SELECT count(*) FROM lake.application.indicator_value), "
            "(SELECT count(*) FROM lake.application.indicator_signal), "
            "(SELECT count(*) FROM lake.application.indicator_value v WHERE NOT EXISTS ("
            "SELECT 1 FROM lake.application.indicator_signal s WHERE s.indicator_id = "
            "v.indicator_id AND s.version = v.version AND s.institution = v.institution AND "
            "s.department IS NOT DISTINCT FROM v.department AND s.month = v.month))"
        ).fetchone()
    assert values == charted > 0 and unmatched == 0


def test_the_reported_indicators_compute_from_the_landed_forms(group: Settings) -> None:
    # the synthetic group ships filled forms (reported/reported_2025.csv); raw/reported_value
    # loads them, so every reported indicator of every member computes
    from hospital_sdk.indicators import load_catalog

    import pandas as pd

    with Lakehouse.open(group.home, read_only=True) as lake:
        result = load_catalog().select(kind="reported").compute(lake, period="2025",
                                                                by=["institution"])
    form = pd.read_csv(group.source / "reported" / "reported_2025.csv", dtype=str,
                       encoding="utf-8-sig", keep_default_na=False)
    entered = form[form["value"] != ""]
    # every value entered on the form is in the result, nothing else is
    assert set(zip(result.indicator_id, result.institution)) == set(
        zip(entered.indicator_id, entered.institution_id))
    # numbers compute; grades are named as such (the engine carries numbers only)
    grades = set(entered.loc[entered.value_type.isin(["grade", "text"]), "indicator_id"])
    bad = result[(result.status != "ok") & ~result.indicator_id.isin(grades)]
    assert bad.empty, bad[["indicator_id", "institution", "reason"]]
    assert result.loc[result.indicator_id.isin(grades), "reason"].str.startswith(
        "reported as ").all()
