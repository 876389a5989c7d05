"""Drill-down (下钻): the records behind an indicator's numerator and denominator, and why.

For an indicator computed from facts, :func:`cases` returns one row per record of each fact it
reads, in the period (and the dimension cells asked for), with whether the record counts in the
numerator and in the denominator, what it contributes (1 for a count, the value for a sum, null
for a distinct count), and the reason it is in or out:

* ``in numerator and denominator``
* ``in denominator only: not <numerator condition>``
* ``excluded: <exclusion> (<name>)`` — a denominator exclusion applies
* ``not in denominator: not <denominator condition>``

A composite over refs (visits ÷ discharges) lists the records of both facts, each with its role;
a growth lists the records of its base indicator in the period and in the period before; a
reported indicator lists its stored submissions for the period, the one in use marked. Record
keys (stay, visit, procedure ids) identify records for the analyst; patient identifiers are never
listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators.catalog import Catalog
from hospital_sdk.indicators.engine import _SHIFT
from hospital_sdk.indicators.facts import FACTS, fact_table
from hospital_sdk.indicators.periods import Period, parse_period
from hospital_sdk.indicators.reported import REPORTED_TABLE
from hospital_sdk.indicators.spec import Indicator, Measure, Term
from hospital_sdk.indicators.submissions import latest_values

__all__ = ["cases"]


@dataclass(frozen=True)
class _Side:
    role: str  # "numerator" or "denominator"
    term: Term
    shift: int = 0


def _sides(catalog: Catalog, node: Indicator | Measure, role: str, shift: int,
           year: int | None = None) -> list[_Side]:
    if isinstance(node, Measure):
        return [_Side(role, Term(node.id), shift)]
    if node.kind == "reported":
        raise IndicatorError(f"{node.key} is a reported indicator inside a composite; drill into "
                             f"it on its own to see its submissions")
    if node.term is not None:
        return [_Side(role, node.term, shift)]
    if node.population is not None:
        return [_Side("numerator", node.population.numerator, shift),
                _Side("denominator", node.population.denominator, shift)]
    if node.kind == "growth":
        assert node.of is not None
        base = catalog.resolve(node.of, year=year)  # its records now and in the period before
        return [*_sides(catalog, base, role, shift, year),
                *_sides(catalog, base, role, shift + _SHIFT[node.over or "year"], year)]
    out = []
    for ref, r in ((node.numerator, "numerator"), (node.denominator, "denominator")):
        assert ref is not None
        out += _sides(catalog, catalog.resolve(ref, year=year), r, shift, year)
    return out


def _describe(term: Term, flags: pd.DataFrame, prefix: str) -> pd.Series:
    """Why each row is out of ``term`` (``""`` when in)."""
    reason = pd.Series("", index=flags.index, dtype="object")
    for i, e in enumerate(term.where):
        failed = ~flags[f"{prefix}w{i}"] & (reason == "")
        reason[failed] = f"not {e.text}"
    for i, x in enumerate(term.exclusions):
        hit = flags[f"{prefix}x{i}"] & (reason == "")
        reason[hit] = f"excluded: {x.id} ({x.name_zh} / {x.name_en})"
    return reason


def cases(catalog: Catalog, indicator: Indicator | str, source: Any, *,
          period: str | int | Period, where: Mapping[str, Any] | None = None,
          include_out: bool = True, limit: int | None = None) -> pd.DataFrame:
    """The records behind ``indicator`` in ``period``, with the reason each is in or out.

    Parameters
    ----------
    catalog
        The catalog.
    indicator
        An indicator version or ref.
    source
        Where the facts are (as for :func:`~hospital_sdk.indicators.engine.compute`).
    period
        The period, as for ``compute``.
    where
        Dimension values to drill into, e.g. ``{"institution": "H01", "department": "D0102"}``.
    include_out
        Keep records that count nowhere (with the reason they are out).
    limit
        At most this many records per fact and period (``None``: all).

    Returns
    -------
    pandas.DataFrame
        ``fact, period`` then the fact's keys and case columns, ``in_numerator``,
        ``in_denominator``, ``numerator_value``, ``denominator_value``, ``reason``.
    """
    p = parse_period(period)
    year = p.years()[-1]
    ind = catalog.get(indicator, year=year) if isinstance(indicator, str) else indicator
    if ind.kind == "reported":
        return _submissions(ind, source, p, dict(where or {}))
    sides = _sides(catalog, ind, "numerator", 0, year)
    where = dict(where or {})
    frames = []
    groups: dict[tuple[str, str, int], list[_Side]] = {}
    for side in sides:
        m = catalog.measure(side.term.measure)
        groups.setdefault((m.fact, m.time_field, side.shift), []).append(side)
    for (fact_name, time_field, shift), group in groups.items():
        window = p.shift(months=shift) if shift else p
        frames.append(_records(catalog, source, fact_name, time_field, window, group, where,
                               include_out, limit))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _submissions(ind: Indicator, source: Any, period: Period,
                 where: Mapping[str, Any]) -> pd.DataFrame:
    """A reported indicator's records: every stored submission of it for the period, the one in
    use marked (the latest per institution; the others superseded)."""
    if hasattr(source, "has_table") and source.has_table(REPORTED_TABLE, "raw"):
        table = source.table(REPORTED_TABLE, "raw")
    elif isinstance(source, Mapping) and REPORTED_TABLE in source:
        table = source[REPORTED_TABLE]
    else:
        raise IndicatorError(f"{ind.key} is a reported indicator and the source holds no "
                             f"{REPORTED_TABLE} table (no value was ever submitted)")
    rows = table.filter(table.indicator_id == ind.id, table.version == ind.version,
                        table.period == period.label)
    if "institution" in where:
        rows = rows.filter(rows.institution_id == where["institution"])
    used = latest_values(rows).select("source_sha256", "source_row", "institution_id")
    in_use = {(r.institution_id, r.source_sha256, r.source_row)
              for r in used.execute().itertuples()}
    frame = rows.select("institution_id", "period", "value_number", "value_text", "unit",
                        "note", "source_file", "source_row", "source_sha256",
                        "submitted_at").order_by(["institution_id", "submitted_at"]).execute()
    frame["in_use"] = [(i, h, r) in in_use for i, h, r in
                       zip(frame.institution_id, frame.source_sha256, frame.source_row)]
    frame["reason"] = frame["in_use"].map({True: "latest submission: the value in use",
                                           False: "superseded by a later submission"})
    frame.insert(0, "fact", REPORTED_TABLE)
    return frame.drop(columns=["source_sha256"]).reset_index(drop=True)


def _contribution(measure: Any, t: ir.Table, value_sets: Mapping[str, Any]) -> ir.Value:
    """What one record adds to ``measure``: 1 for a count, its value for a sum, min or max;
    null for a distinct count, where a record adds 1 only if its value was not seen before (and
    the value may be text: ``generic_item``, a patient id that is never shown)."""
    if measure.aggregation == "count":
        return ibis.literal(1.0)
    if measure.aggregation == "count_distinct":
        return ibis.null("float64")
    return measure.expression.resolve(t, value_sets).cast("float64")


def _records(catalog: Catalog, source: Any, fact_name: str, time_field: str, period: Period,
             sides: list[_Side], where: Mapping[str, Any], include_out: bool,
             limit: int | None) -> pd.DataFrame:
    fact = FACTS[fact_name]
    t = fact_table(source, fact_name)
    ts = t[time_field]
    t = t.filter(ts >= datetime.combine(period.start, datetime.min.time()),
                 ts < datetime.combine(period.end, datetime.min.time()))
    for dim, value in where.items():
        if dim in fact.dimensions:
            col = t[fact.dimension_column(dim)]
            t = t.filter(col.isnull() if value is None else col == value)
    value_sets = catalog.value_sets.for_year(period.start.year)
    shown = [c for c in (*fact.keys, *fact.case_columns) if c in t.columns]
    columns: dict[str, ir.Value] = {c: t[c] for c in dict.fromkeys(shown)}
    by_role: dict[str, _Side] = {}
    for side in sides:
        by_role.setdefault(side.role, side)
    for role, side in by_role.items():
        prefix = role[0]
        for i, e in enumerate(side.term.where):
            columns[f"{prefix}w{i}"] = e.resolve(t, value_sets).fill_null(False)
        for i, x in enumerate(side.term.exclusions):
            columns[f"{prefix}x{i}"] = x.where.resolve(t, value_sets).fill_null(False)
        measure = catalog.measure(side.term.measure)
        columns[f"{role}_value"] = _contribution(measure, t, value_sets)
    query = t.select(**columns).order_by(list(fact.keys))
    if limit is not None:
        query = query.limit(limit)
    frame = query.execute()
    for role in ("numerator", "denominator"):
        side = by_role.get(role)
        if side is None:
            frame[f"in_{role}"] = False
            frame[f"{role}_value"] = float("nan")
            frame[f"_{role}_why"] = ""
            continue
        why = _describe(side.term, frame, role[0])
        frame[f"in_{role}"] = why == ""
        frame[f"_{role}_why"] = why
        frame.loc[~frame[f"in_{role}"], f"{role}_value"] = float("nan")
    frame["reason"] = [_reason(n, d, nw, dw, "numerator" in by_role, "denominator" in by_role)
                       for n, d, nw, dw in zip(frame["in_numerator"], frame["in_denominator"],
                                               frame["_numerator_why"], frame["_denominator_why"])]
    if not include_out:
        frame = frame[frame["in_numerator"] | frame["in_denominator"]]
    frame.insert(0, "period", period.label)
    frame.insert(0, "fact", fact_name)
    keep = ["fact", "period", *columns_in(shown), "in_numerator", "in_denominator",
            "numerator_value", "denominator_value", "reason"]
    return frame[keep].reset_index(drop=True)


def columns_in(shown: list[str]) -> list[str]:
    """The fact columns shown, in order and once each."""
    return list(dict.fromkeys(shown))


def _reason(in_num: bool, in_den: bool, num_why: str, den_why: str, has_num: bool,
            has_den: bool) -> str:
    if in_num and in_den:
        return "in numerator and denominator"
    if in_den:
        return f"in denominator only: {num_why}" if has_num else "in denominator"
    if in_num:
        return "in numerator" if not has_den else f"in numerator only: {den_why}"
    why = den_why if has_den else num_why
    if why.startswith("excluded"):
        return why
    return f"not in denominator: {why}" if has_den else f"not counted: {why}"
