"""Indicator values kept in the lakehouse: ``application.indicator_value``, month by month.

The asset graph's application layer computes every indicator of the catalog that is computed
from facts alone (reported values, and composites with a reported part such as #25, exist per
institution and year and are computed with the assessments) by institution × department ×
month, and stores the tidy result with a ``month`` DATE column so a month's rerun
replaces exactly that month (:func:`~hospital_sdk.store.partitions.replace_months`). Notebooks
and reports read it instead of recomputing. ``application.indicator_signal`` holds the
control charts of those monthly series (:func:`refresh_indicator_signals`).

The table keeps what an analyst filters and joins on: the indicator key, names, kind, unit,
direction, domain, ▲, the cell (institution, department, month), numerator, denominator, value,
status and reason, and the catalog version it was computed with (the catalog folder's
content hash, so a changed definition is visible).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from hospital_sdk.indicators.catalog import Catalog, load_catalog
from hospital_sdk.indicators.engine import compute, reads_reported
from hospital_sdk.indicators.periods import parse_period
from hospital_sdk.indicators.signals import signals
from hospital_sdk.store import Lakehouse
from hospital_sdk.store.partitions import replace_months

__all__ = ["BY", "SIGNAL_BY", "SIGNAL_TABLE", "TABLE", "RefreshedSignals", "RefreshedValues",
           "catalog_digest", "monthly_values", "refresh_indicator_signals",
           "refresh_indicator_values"]

TABLE = "indicator_value"
"""Name of the table in the application layer."""
BY: tuple[str, ...] = ("institution", "department", "month")
"""The cells stored: one row per indicator × institution × department × month."""
SIGNAL_TABLE = "indicator_signal"
"""Name of the table of control-chart signals over :data:`TABLE` in the application layer."""
SIGNAL_BY: tuple[str, ...] = ("indicator_id", "version", "institution", "department")
"""One chart per indicator version and cell (a new version is a new definition: a new series)."""

_COLUMNS = ("indicator_id", "version", "name_zh", "name_en", "kind", "unit", "direction",
            "domain", "national_monitoring", "responsible_department", "institution",
            "department", "period", "numerator", "denominator", "value", "status", "reason")


def catalog_digest(catalog: Catalog) -> str:
    """SHA-256 (first 16 hex digits) of every spec file of the catalog, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in catalog.root.rglob("*.yaml") if p.is_file()):
        digest.update(path.relative_to(catalog.root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def monthly_values(catalog: Catalog, source: Any, *, first: str, last: str) -> pd.DataFrame:
    """Every fact-based indicator for months ``first``..``last`` by :data:`BY`, each year in the
    versions in force that year, with a ``month`` DATE column and the catalog digest."""
    period = parse_period(f"{first}..{last}")
    months = period.months()
    frames = []
    for year in period.years():
        chosen = [i for i in catalog.in_force(year) if not reads_reported(catalog, i, year=year)]
        inside = [m for m in months if m.startswith(f"{year}-")]
        part = compute(catalog, chosen, source, period=f"{inside[0]}..{inside[-1]}",
                       by=list(BY))
        frames.append(part[list(_COLUMNS)])
    out = pd.concat(frames, ignore_index=True)
    out["month"] = [date(int(p[:4]), int(p[5:7]), 1) for p in out["period"]]
    out["catalog_digest"] = catalog_digest(catalog)
    return out.drop(columns=["period"])


@dataclass(frozen=True)
class RefreshedValues:
    """What one refresh wrote: rows, indicators, cells not computable."""

    rows: int
    indicators: int
    not_computable: int

    def metadata(self) -> dict[str, int]:
        """For the asset's materialization."""
        return {"rows": self.rows, "indicators": self.indicators,
                "not computable": self.not_computable}


def refresh_indicator_values(lake: Lakehouse, *, first: str, last: str,
                             catalog: Catalog | None = None) -> RefreshedValues:
    """Recompute ``application.indicator_value`` for months ``first``..``last`` (one
    transaction; other months untouched).

    Examples
    --------
    See ``tests/indicators/test_results.py``.
    """
    catalog = catalog or load_catalog()
    values = monthly_values(catalog, lake, first=first, last=last)
    rows = replace_months(lake, TABLE, values, layer="application", period_column="month",
                          first=first, last=last)
    return RefreshedValues(rows, int(values["indicator_id"].nunique()),
                           int((values["status"] != "ok").sum()))


@dataclass(frozen=True)
class RefreshedSignals:
    """What one refresh of the signals wrote: rows, series, and points that signal."""

    rows: int
    series: int
    signals: int
    deteriorations: int

    def metadata(self) -> dict[str, int]:
        """For the asset's materialization."""
        return {"rows": self.rows, "series": self.series, "signals": self.signals,
                "deteriorations": self.deteriorations}


def refresh_indicator_signals(lake: Lakehouse, *, chart: str = "xmr",
                              baseline: int = 12) -> RefreshedSignals:
    """Chart every series of ``application.indicator_value`` and replace
    ``application.indicator_signal`` with the result (one transaction).

    A series is one indicator version in one cell (:data:`SIGNAL_BY`) over its months; the chart
    (:func:`~hospital_sdk.indicators.signals.signals`: XmR with run rules by default) reads the
    indicator's direction, so each signal says whether it is an improvement or a deterioration.
    The baseline is each series' first ``baseline`` valid months; a series shorter than that
    has no limits and no signal. Months not ``ok`` are gaps (kept, never charted).

    Examples
    --------
    See ``tests/indicators/test_results.py``.
    """
    values = lake.table(TABLE, "application").select(
        *SIGNAL_BY, "month", "value", "status", "direction").execute()
    charted = signals(values, by=SIGNAL_BY, order="month", chart=chart, baseline=baseline)
    for column in charted.columns:  # plain strings in the lakehouse, not dictionary types
        if isinstance(charted[column].dtype, pd.CategoricalDtype):
            charted[column] = charted[column].astype(object)
    charted["month"] = pd.to_datetime(charted["month"]).dt.date  # a DATE, as in TABLE
    rows = lake.replace(SIGNAL_TABLE, charted, layer="application")
    series = charted[list(SIGNAL_BY)].drop_duplicates().shape[0]
    return RefreshedSignals(rows, int(series), int(charted["signal"].sum()),
                            int((charted["assessment"] == "deterioration").sum()))
