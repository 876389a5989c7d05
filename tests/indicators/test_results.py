"""``application.indicator_value``: monthly indicator values stored in the lakehouse."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from hospital_sdk.indicators import FACTS, fact_memtable, load_catalog
from hospital_sdk.indicators.engine import reads_reported
from hospital_sdk.indicators.results import TABLE, catalog_digest, refresh_indicator_values
from hospital_sdk.store import Lakehouse


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lake = Lakehouse.open(tmp_path / "lake")
    stays = [  # H1/SUR: 2 discharges in March (1 surgical), 1 in April (surgical)
        {"institution_id": "H1", "stay_id": "S1", "discharge_dept_id": "SUR",
         "discharge_time": datetime(2024, 3, 3), "has_surgery": True, "los_days": 4},
        {"institution_id": "H1", "stay_id": "S2", "discharge_dept_id": "SUR",
         "discharge_time": datetime(2024, 3, 30), "los_days": 2},
        {"institution_id": "H1", "stay_id": "S3", "discharge_dept_id": "SUR",
         "discharge_time": datetime(2024, 4, 2), "has_surgery": True, "los_days": 6}]
    visits = [{"institution_id": "H1", "visit_id": "V1", "dept_id": "SUR",
               "visit_type": "outpatient", "visit_time": datetime(2024, 3, 5)}]
    procedures = [{"institution_id": "H1", "stay_id": "S1", "seq": 1, "is_surgery": True,
                   "discharge_dept_id": "SUR", "discharge_time": datetime(2024, 3, 3)}]
    exams = [{"institution_id": "H1", "exam_id": "E1", "ordering_dept_id": "SUR",
              "order_time": datetime(2024, 3, 5), "is_large_equipment": True,
              "has_result": True, "is_positive": True}]
    bought = [{"institution_id": "H1", "month": date(2024, 3, 1), "drug_code": "A",
               "generic_item": "a", "is_essential": True, "is_vbp": True,
               "generic_has_vbp": True, "quantity": 1.0, "amount": 1.0}]
    given = {"stay_fact": stays, "visit_fact": visits, "procedure_fact": procedures,
             "exam_fact": exams, "procurement_fact": bought}
    for name in FACTS:  # every fact the catalog reads, empty when not given
        lake.replace(name, fact_memtable(name, given.get(name, [])).to_pyarrow(), "aggregated")
    yield lake
    lake.close()


def _share(lake: Lakehouse) -> dict[date, tuple[float, float, float]]:
    rows = lake.duck.execute(
        f"SELECT month, numerator, denominator, value FROM lake.application.{TABLE} "
        "WHERE indicator_id = 'surgery_share' ORDER BY month").fetchall()
    return {m if isinstance(m, date) else m.date(): (n, d, v) for m, n, d, v in rows}


def test_values_by_month_and_rerun_replaces_the_month(lake: Lakehouse) -> None:
    result = refresh_indicator_values(lake, first="2024-03", last="2024-04")
    catalog = load_catalog()
    fact_based = [i for i in catalog.in_force(2024) if not reads_reported(catalog, i, year=2024)]
    assert result.indicators == len(fact_based)  # every one has a March cell
    # March 1 / 2 = 50 %; April 1 / 1 = 100 %
    assert _share(lake) == {date(2024, 3, 1): (1.0, 2.0, 50.0),
                            date(2024, 4, 1): (1.0, 1.0, 100.0)}
    rows = lake.duck.execute(f"SELECT count(*) FROM lake.application.{TABLE}").fetchone()[0]
    refresh_indicator_values(lake, first="2024-04", last="2024-04")  # April again: same rows
    assert lake.duck.execute(f"SELECT count(*) FROM lake.application.{TABLE}").fetchone()[0] \
        == rows
    assert _share(lake)[date(2024, 4, 1)] == (1.0, 1.0, 100.0)
    digests = lake.duck.execute(
        f"SELECT DISTINCT catalog_digest FROM lake.application.{TABLE}").fetchall()
    assert digests == [(catalog_digest(catalog),)]


def test_signals_chart_every_series_of_the_stored_values(tmp_path: Path) -> None:
    import pandas as pd

    from hospital_sdk.indicators.results import SIGNAL_TABLE, refresh_indicator_signals
    lake = Lakehouse.open(tmp_path / "signals")
    months = [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(14)]
    values = [10.0, 12.0] * 6 + [20.0, None]

    def series(indicator: str, direction: str) -> pd.DataFrame:
        return pd.DataFrame({
            "indicator_id": indicator, "version": 1, "institution": "H1", "department": "SUR",
            "month": months, "value": values,
            "status": ["ok"] * 13 + ["not_computable"], "direction": direction})
    lake.replace(TABLE, pd.concat([series("mortality", "lower_better"),
                                   series("cure_rate", "higher_better")]), "application")
    out = refresh_indicator_signals(lake)
    # baseline = the 12 alternating months: centre 11, average moving range 2 (11 ranges of 2),
    # limits 11 ± 2.66 × 2 = 5.68 .. 16.32; month 13 (20) is beyond the upper limit (rule 1)
    # in both series; month 14 is a gap. Above the centre is a deterioration for the
    # lower_better mortality and an improvement for the higher_better cure rate.
    assert (out.rows, out.series, out.signals, out.deteriorations) == (28, 2, 2, 1)
    stored = lake.table(SIGNAL_TABLE, "application").execute()
    flagged = stored[stored["signal"]].set_index("indicator_id")
    assert flagged.loc["mortality", "assessment"] == "deterioration"
    assert flagged.loc["cure_rate", "assessment"] == "improvement"
    assert lake.table(SIGNAL_TABLE, "application").schema()["month"].is_date()
    assert flagged["month"].tolist() == [pd.Timestamp("2025-01-01")] * 2
    assert flagged["upper_limit"].round(2).tolist() == [16.32, 16.32]
    assert set(stored.loc[stored["month"] == pd.Timestamp("2025-02-01"), "point"]) == {"gap"}
    # a rerun replaces the table whole: the same rows, not twice as many
    assert refresh_indicator_signals(lake).rows == 28
    assert len(lake.table(SIGNAL_TABLE, "application").execute()) == 28
    lake.close()
