"""SQL snapshots of the compiled queries, and the batching they show.

``tests/indicators/sql/<id>@<version>.sql`` holds what :func:`explain` prints for each indicator
version of the shipped catalog (DuckDB dialect, 2024, by institution, department and month). A
change to the engine or a spec that changes the SQL shows up as a diff here; after checking it is
intended, regenerate with ``UPDATE_SQL_SNAPSHOTS=1 make test`` (or pytest on this file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators import FACTS, explain, load_catalog
from hospital_sdk.indicators.catalog import Catalog
from hospital_sdk.indicators.engine import batch_queries, empty_source

SNAPSHOTS = Path(__file__).parent / "sql"
BY = ["institution", "department", "month"]
CATALOG = load_catalog()
KEYS = sorted(i.key for versions in CATALOG.indicators.values() for i in versions)


@pytest.mark.parametrize("key", KEYS)
def test_sql_snapshot(key: str) -> None:
    sql = explain(CATALOG, key, period="2024", by=BY)
    path = SNAPSHOTS / f"{key}.sql"
    if os.environ.get("UPDATE_SQL_SNAPSHOTS") or not path.exists():
        if not os.environ.get("UPDATE_SQL_SNAPSHOTS"):
            pytest.fail(f"no SQL snapshot {path.name}; create it with UPDATE_SQL_SNAPSHOTS=1")
        path.write_text(sql, encoding="utf-8")
    assert sql == path.read_text(encoding="utf-8"), (
        f"the SQL of {key} changed; if intended, regenerate with UPDATE_SQL_SNAPSHOTS=1")


def test_no_snapshot_is_left_over() -> None:
    stale = sorted(p.stem for p in SNAPSHOTS.glob("*.sql") if p.stem not in KEYS)
    assert not stale, f"SQL snapshots of indicators that no longer exist: {stale}"


def test_the_whole_catalog_is_one_query_per_fact_and_period() -> None:
    # every latest version at once: one batch per (fact, time field, period window, cut);
    # growth indicators add the year before of the facts their bases read, and an indicator
    # with a reported part (#25) is cut by institution only, a cut of its own
    batches = [b for b, _ in batch_queries(CATALOG, CATALOG.latest(), empty_source(),
                                           period="2024", by=BY)]
    windows = {(b.fact, b.time_field, b.period.label, b.dims) for b in batches}
    assert len(batches) == len(windows)
    assert {b.fact for b in batches} <= set(FACTS)
    assert len({w[:3] for w in windows}) <= 2 * len(FACTS)
    assert {b.dims for b in batches} == {("institution", "department"), ("institution",)}
    terms = sum(len(b.terms) for b in batches)
    # many indicators, few scans (a reported indicator reads no fact)
    assert terms >= len([i for i in CATALOG.latest() if i.kind != "reported"])


def test_equal_terms_are_computed_once(catalog: Catalog = CATALOG) -> None:
    # surgery_share's denominator (all discharges) is the same aggregate as average length of
    # stay's denominator: one column in the batch
    batches = [b for b, _ in batch_queries(catalog, ["surgery_share", "outpatient_discharge_ratio"],
                                           empty_source(), period="2024")]
    stay = next(b for b in batches if b.fact == "stay_fact")
    measures = [t.measure for _, t in stay.terms.values() if not t.where]
    assert measures.count("discharges") == 1


def test_other_dialects() -> None:
    spark = explain(CATALOG, "surgery_share", period="2024", dialect="spark")
    assert "`stay_fact`" in spark and "GROUP BY" in spark
    postgres = explain(CATALOG, "surgery_share", period="2024", dialect="postgres")
    assert 'FROM "stay_fact"' in postgres
    with pytest.raises(IndicatorError, match="cannot write SQL in dialect 'cobol'"):
        explain(CATALOG, "surgery_share", dialect="cobol")
