"""Computing an edition: every item for a data year and the year before, by institution.

:func:`compute_edition` turns an :class:`~hospital_sdk.assessments.editions.Edition` into an
:class:`~hospital_sdk.assessments.result.AssessmentResult`. The indicator engine is called once
per question, each call batching every indicator of the edition (one query per fact):

==================== ============================ =============================================
call                 cut                          fills
==================== ============================ =============================================
the period           institution                  ``items``: value, numerator, denominator
the year before      institution                  ``items``: prior value, change, change %
the period           institution × department     ``departments`` (items computed from records)
the period           institution × month          ``trend`` (items computed from records)
==================== ============================ =============================================

Prior-year values use the same indicator versions as the period (the edition pins them), so the
change compares like with like. An item without a catalog indicator (``missing:`` in the
edition) gets one row per institution with status ``not_computable`` and the edition's reason;
an institution without records (or without a reported value) for an item gets
``not_computable`` with the reason too — never a silent 0 or a dropped row.

Reported indicators read the latest submissions (``raw.reported_value`` through
:func:`~hospital_sdk.indicators.selection.reported_values`, or the ``reported`` frame given);
``reported`` lists those used for the period and the year before, with file and time. When the
source is a :class:`~hospital_sdk.store.Lakehouse`, department names come from
``cleaned.department`` and ``quality`` holds the latest data-quality results of the period's
monthly partitions plus the unpartitioned checks (whole-table checks apply to every period).

The score columns (:data:`~hospital_sdk.assessments.result.SCORE_COLUMNS`), the department
funnel columns and ``tiers`` are left empty for scoring
(:func:`~hospital_sdk.assessments.scoring.score_items`, e.g. with
``**edition.scoring.score_options()``).

Examples
--------
>>> from hospital_sdk.assessments.editions import edition
>>> from hospital_sdk.indicators import fact_memtable, load_catalog
>>> stays = fact_memtable("stay_fact", [
...     {"institution_id": "H1", "stay_id": s, "discharge_time": t, "has_surgery": op}
...     for s, t, op in (("S1", "2025-03-05", True), ("S2", "2025-05-09", False),
...                      ("S3", "2024-06-01", True), ("S4", "2024-07-01", True))])
>>> source = {"stay_fact": stays, "procedure_fact": fact_memtable("procedure_fact"),
...           "visit_fact": fact_memtable("visit_fact")}
>>> result = compute_edition(load_catalog(), edition("tertiary", "2024"), source, period=2025)
>>> result.items.set_index("item").loc["4", ["value", "prior_value", "change", "change_pct"]
...                                    ].tolist()
[50.0, 100.0, -50.0, -50.0]
>>> result.items.set_index("item").loc["增1", "status"]
'not_computable'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hospital_sdk.assessments.editions import Edition, EditionItem
from hospital_sdk.assessments.result import (
    DEPARTMENT_COLUMNS,
    ITEM_COLUMNS,
    REPORTED_COLUMNS,
    SCORE_COLUMNS,
    TREND_COLUMNS,
    AssessmentResult,
)
from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators.catalog import Catalog
from hospital_sdk.indicators.engine import compute, reads_reported
from hospital_sdk.indicators.facts import FactTables, fact_table
from hospital_sdk.indicators.selection import reported_values
from hospital_sdk.indicators.spec import Indicator
from hospital_sdk.quality.scorecard import latest_scorecard
from hospital_sdk.store import Lakehouse

__all__ = ["compute_edition", "latest_complete_year"]

_CELL = ("numerator", "denominator", "value", "status", "reason")
_NO_RECORDS = "no records for this institution in the period"
_NO_REPORT = "no reported value"


def _year(period: str | int) -> str:
    text = str(period).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise IndicatorError(f"period {period!r} is not a year (YYYY): an assessment is computed "
                             f"for a data year")
    return text


def _index(frame: pd.DataFrame) -> dict[tuple[str, Any], tuple[Any, ...]]:
    """``(id@version, institution) -> (numerator, denominator, value, status, reason)``."""
    if frame.empty:
        return {}
    keys = frame["indicator_id"].astype(str) + "@" + frame["version"].astype(str)
    insts = frame["institution"].astype(object).where(frame["institution"].notna(), None)
    cells = frame[list(_CELL)].itertuples(index=False, name=None)
    return {(k, i): c for k, i, c in zip(keys, insts, cells, strict=True)}


def _cell(index: Mapping[tuple[str, Any], tuple[Any, ...]], ind: Indicator,
          institution: Any) -> tuple[Any, ...]:
    """The cell of ``ind`` for ``institution``; a stated reason when there is none."""
    if (ind.key, institution) in index:
        return index[(ind.key, institution)]
    blanket = index.get((ind.key, None))  # a row for no institution: its reason applies to all
    reason = (blanket[4] if blanket is not None and blanket[4]
              else _NO_REPORT if ind.kind == "reported" else _NO_RECORDS)
    return (np.nan, np.nan, np.nan, "not_computable", reason)


def _institutions(given: Sequence[str] | None, *frames: pd.DataFrame) -> list[Any]:
    if given is not None:
        return list(dict.fromkeys(given))
    found = sorted({i for f in frames if not f.empty for i in f["institution"].dropna()})
    return found or [None]


def _static(edition: Edition, it: EditionItem, ind: Indicator | None,
            default_weight: float) -> dict[str, Any]:
    """The columns of an item that do not depend on the institution."""
    dim, sub = edition.place(it.sub_dimension)
    ref = it.national_reference
    notes = [ind.notes.strip() if ind is not None else "", it.notes.strip()]
    if it.missing is not None and it.missing.data_source:
        notes.append(f"inputs: {it.missing.data_source}")
    return {
        "assessment": edition.assessment, "edition": edition.edition, "item": it.item,
        "order": it.order, "dimension": dim.id, "dimension_zh": dim.name_zh,
        "dimension_en": dim.name_en, "sub_dimension": sub.id, "sub_dimension_zh": sub.name_zh,
        "sub_dimension_en": sub.name_en,
        "indicator_id": ind.id if ind is not None else None,
        "version": ind.version if ind is not None else None,
        "name_zh": it.name_zh or (ind.name_zh if ind is not None else ""),
        "name_en": it.name_en or (ind.name_en if ind is not None else ""),
        "kind": ind.kind if ind is not None else None,
        "unit": ind.unit if ind is not None else (it.unit or None),
        "direction": it.direction or (ind.direction if ind is not None else None),
        "national_monitoring": it.national_monitoring,
        "weight": it.weight if it.weight is not None else default_weight,
        "national_reference": ref.value if ref is not None else np.nan,
        "national_reference_note": (f"{ref.year}: {ref.note}".rstrip(": ")
                                    if ref is not None else None),
        "data_source": it.data_source,
        "responsible_department": (ind.tags.responsible_department if ind is not None
                                   else it.responsible_department or None),
        "confidence": (ind.tags.source.confidence if ind is not None
                       else edition.source.confidence),
        "notes": "\n".join(n for n in notes if n) or None,
    }


def _no_single_value(it: EditionItem) -> str:
    """The reason of an item without an indicator: the edition's, or its components."""
    if it.missing is not None:
        return it.missing.reason
    n = len(it.components)
    return (f"shown as its {n} components, items {it.item}.1–{it.item}.{n}: the item has no "
            f"single value")


def _change(value: float, prior: float) -> tuple[float, float]:
    if np.isnan(value) or np.isnan(prior):
        return np.nan, np.nan
    change = value - prior
    return change, (change / abs(prior) * 100.0 if prior != 0 else np.nan)


def _items(edition: Edition, indicators: Mapping[str, Indicator], now: pd.DataFrame,
           before: pd.DataFrame, institutions: list[Any], year: str,
           prior: str) -> pd.DataFrame:
    now_ix, before_ix = _index(now), _index(before)
    weight = edition.scoring.default_weight()
    rows = []
    for it in edition.rows():
        ind = indicators.get(it.indicator) if it.indicator is not None else None
        static = _static(edition, it, ind, weight)
        for inst in institutions:
            if ind is None:
                cell = (np.nan, np.nan, np.nan, "not_computable", _no_single_value(it))
                prior_value = np.nan
            else:
                cell = _cell(now_ix, ind, inst)
                p = _cell(before_ix, ind, inst)
                prior_value = float(p[2]) if p[3] == "ok" else np.nan
            value = float(cell[2]) if cell[3] == "ok" else np.nan
            change, change_pct = _change(value, prior_value)
            rows.append({**static, "institution": inst, "period": year,
                         "numerator": cell[0], "denominator": cell[1], "value": value,
                         "status": cell[3], "reason": cell[4] or None, "prior_period": prior,
                         "prior_value": prior_value, "change": change,
                         "change_pct": change_pct})
    items = pd.DataFrame(rows, columns=list(ITEM_COLUMNS))
    for c in ("numerator", "denominator", "value", "prior_value", "change", "change_pct",
              "national_reference", "weight"):
        items[c] = pd.to_numeric(items[c], errors="coerce").astype("float64")
    for c in SCORE_COLUMNS:
        items[c] = None
    return items


def _by_item(edition: Edition, indicators: Mapping[str, Indicator], frame: pd.DataFrame,
             dim: str, institutions: list[Any], explicit: bool) -> pd.DataFrame:
    """Rows of ``frame`` (an engine result cut by institution and ``dim``) for each item whose
    indicator it holds (those computed from records alone), keyed by item."""
    refs = pd.DataFrame([(it.item, it.order, n, it.indicator)
                         for n, it in enumerate(edition.rows()) if it.indicator is not None],
                        columns=["item", "order", "_row", "_key"])
    if frame.empty or refs.empty:
        return pd.DataFrame(columns=["item", "order", "indicator_id", "version", "institution",
                                     "period", "department", *_CELL])
    frame = frame[frame["cut"].astype(str).str.split(",").map(lambda cut: dim in cut)]
    frame = frame.assign(_key=frame["indicator_id"].astype(str) + "@"
                         + frame["version"].astype(str))
    if explicit:
        frame = frame[frame["institution"].isin(institutions)]
    out = refs.merge(frame, on="_key", how="inner")
    column = "period" if dim == "month" else dim  # a month cut labels its cells in period
    return out.sort_values(["order", "_row", "institution", column], kind="stable",
                           ignore_index=True).drop(columns="_row")


def _department_names(source: Any) -> pd.DataFrame | None:
    if not isinstance(source, Lakehouse) or not source.has_table("department", "cleaned"):
        return None
    names = source.table("department", "cleaned").select(
        "institution_id", "dept_id", "name_zh", "name_en", "valid_from").execute()
    names = names.sort_values("valid_from", na_position="first", kind="stable")
    names = names.drop_duplicates(["institution_id", "dept_id"], keep="last")
    return names.rename(columns={"institution_id": "institution", "dept_id": "department",
                                 "name_zh": "department_name_zh",
                                 "name_en": "department_name_en"}).drop(columns="valid_from")


def _departments(cells: pd.DataFrame, source: Any) -> pd.DataFrame:
    out = cells.copy()
    names = _department_names(source)
    if names is not None and not out.empty:
        out = out.merge(names, on=["institution", "department"], how="left")
    for c in ("department_name_zh", "department_name_en", "funnel_low", "funnel_high",
              "funnel_flag"):
        if c not in out:
            out[c] = None
    out["suppressed"] = False
    return out[list(DEPARTMENT_COLUMNS)].reset_index(drop=True)


def _trend(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[list(TREND_COLUMNS)].reset_index(drop=True)


def _reported_parts(catalog: Catalog, node: Indicator, year: int) -> list[Indicator]:
    """The reported indicators ``node`` is or is composed of (``#25``'s physicians)."""
    if node.kind == "reported":
        return [node]
    parts = [catalog.resolve(r, year=year) for r in (node.numerator, node.denominator, node.of)
             if r is not None]
    return [leaf for part in parts if isinstance(part, Indicator)
            for leaf in _reported_parts(catalog, part, year)]


def _reported(catalog: Catalog, edition: Edition, indicators: Mapping[str, Indicator],
              reported: pd.DataFrame | None, periods: tuple[str, str],
              institutions: list[Any], explicit: bool) -> pd.DataFrame:
    """The submissions the items read for the period and the year before: reported items
    and the reported parts of composite items."""
    refs = pd.DataFrame([(it.item, it.order, part.id, part.version) for it in edition.rows()
                         if it.indicator is not None
                         for part in _reported_parts(catalog, indicators[it.indicator],
                                                     int(periods[0]))],
                        columns=["item", "order", "indicator_id", "version"])
    if reported is None or reported.empty or refs.empty:
        return pd.DataFrame(columns=list(REPORTED_COLUMNS))
    rows = reported.rename(columns={"institution_id": "institution"}).assign(
        version=lambda f: f["version"].astype(str), period=lambda f: f["period"].astype(str))
    rows = rows[rows["period"].isin(periods)]
    if explicit:
        rows = rows[rows["institution"].isin(institutions)]
    out = refs.merge(rows, on=["indicator_id", "version"], how="inner")
    number = pd.to_numeric(out["value_number"], errors="coerce")
    text = out["value_text"] if "value_text" in out else pd.Series(None, index=out.index)
    out["value"] = number.astype(object).where(number.notna(), text)
    out["status"] = np.where(number.notna(), "ok", "not_computable")
    out["reason"] = np.where(number.notna(), None, "reported value is not a number")
    for c in ("unit", "source_file", "submitted_at"):
        if c not in out:
            out[c] = None
    out = out.sort_values(["order", "institution", "period"], kind="stable", ignore_index=True)
    return out[list(REPORTED_COLUMNS)]


def _quality(source: Any, year: str) -> pd.DataFrame:
    if not isinstance(source, Lakehouse):
        return pd.DataFrame()
    card = latest_scorecard(source)
    if card.empty:
        return card
    partition = card["partition"]
    keep = partition.isna() | partition.astype(str).str.startswith(year)
    return card[keep.to_numpy()].reset_index(drop=True)


def compute_edition(catalog: Catalog, edition: Edition, source: Any, *, period: str | int,
                    institutions: Sequence[str] | None = None,
                    reported: pd.DataFrame | None = None) -> AssessmentResult:
    """Compute every item of ``edition`` for data year ``period`` and the year before.

    Parameters
    ----------
    catalog
        The indicator catalog the edition's ``id@version`` refs resolve in.
    edition
        The edition (:func:`~hospital_sdk.assessments.editions.edition`).
    source
        A :class:`~hospital_sdk.store.Lakehouse`, an Ibis backend or a mapping of fact names to
        Ibis tables (see :func:`~hospital_sdk.indicators.engine.compute`).
    period
        The data year, ``'2025'`` or ``2025``. An edition may be computed for a year outside its
        ``valid_from``/``valid_to`` (to compare editions); the result's assumptions say so.
    institutions
        The institutions to report (every one of them gets a row per item, ``not_computable``
        where it has no value); default: every institution with a value in either year.
    reported
        Latest reported values (``institution_id, period, indicator_id, version,
        value_number`` and optionally ``value_text, unit, source_file, submitted_at``);
        default: read from ``source`` (``raw.reported_value``).

    Returns
    -------
    AssessmentResult
        ``items``, ``departments``, ``trend``, ``reported`` and ``quality`` filled; score
        columns, funnel columns and ``tiers`` empty. Checked (:meth:`AssessmentResult.check`).

    Raises
    ------
    IndicatorError
        ``period`` is not a year, or a ref is not in ``catalog``.
    """
    year = _year(period)
    prior = str(int(year) - 1)
    indicators = {ref: catalog.get(ref) for ref in edition.refs}
    chosen = list(dict.fromkeys(indicators.values()))
    if reported is None:
        reported = reported_values(source)
    facts = FactTables(source)  # each fact's table read once for the four calls
    now = compute(catalog, chosen, facts, period=year, by="institution", reported=reported)
    before = compute(catalog, chosen, facts, period=prior, by="institution", reported=reported)
    # departments and months: indicators computed from records alone (a reported value, or a
    # composite with a reported part, exists per institution and year only)
    from_records = [i for i in chosen if not reads_reported(catalog, i, year=int(year))]
    by_dept = compute(catalog, from_records, facts, period=year, by=["institution", "department"])
    by_month = compute(catalog, from_records, facts, period=year, by=["institution", "month"])
    explicit = institutions is not None
    insts = _institutions(institutions, now, before)
    assumptions = list(edition.assumptions())
    if not edition.valid_in(int(year)):
        assumptions.insert(0, f"edition {edition.edition} applies to data years "
                              f"{edition.valid_from}–{edition.valid_to or ''}; computed for "
                              f"{year} for comparison")
    assumptions.append(f"prior-year values ({prior}) use the same indicator versions as {year}")
    result = AssessmentResult(
        edition.assessment, edition.edition, edition.assessment_name_zh,
        edition.assessment_name_en, year,
        items=_items(edition, indicators, now, before, insts, year, prior),
        departments=_departments(_by_item(edition, indicators, by_dept, "department", insts,
                                          explicit), source),
        trend=_trend(_by_item(edition, indicators, by_month, "month", insts, explicit)),
        reported=_reported(catalog, edition, indicators, reported, (year, prior), insts,
                           explicit),
        quality=_quality(source, year), assumptions=tuple(assumptions))
    return result.check()


def latest_complete_year(source: Any) -> str | None:
    """The latest calendar year whose twelve months all have discharges in ``stay_fact`` (the
    year an assessment report is written for), or ``None`` when no year is complete.

    >>> from hospital_sdk.indicators.facts import fact_memtable
    >>> stays = fact_memtable("stay_fact", [
    ...     {"institution_id": "H1", "stay_id": f"S{m}", "discharge_time": f"2024-{m:02d}-15"}
    ...     for m in range(1, 13)] + [{"institution_id": "H1", "stay_id": "T1",
    ...                                "discharge_time": "2025-01-15"}])
    >>> latest_complete_year({"stay_fact": stays})
    '2024'
    """
    stays = fact_table(source, "stay_fact")
    months = stays.select(y=stays.discharge_time.year(), m=stays.discharge_time.month()) \
        .distinct().group_by("y").aggregate(n=lambda t: t.count())
    full = months.filter(months.n == 12).y.max().execute()
    return None if full is None or pd.isna(full) else str(int(full))
