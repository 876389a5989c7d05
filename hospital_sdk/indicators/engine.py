"""Computing indicators: batch every aggregate of one fact into one query, then combine.

How a computation runs
----------------------
1. **Plan.** Every indicator asked for is broken down to its *terms*: a measure over the records
   of one fact meeting some conditions (a derived indicator is one term, a proportion two, a ratio
   of refs the terms of its parts, a growth the terms of its base in this period and the one
   before). Equal terms are computed once.
2. **One query per fact.** The terms of one fact, one period window and one set of dimensions
   become the aggregates of a single ``GROUP BY`` (``measure(...) FILTER (WHERE ...)``), compiled
   from Ibis — one pass over the fact whatever the number of indicators
   (:func:`batch_queries`; its SQL is what :func:`~hospital_sdk.indicators.explain` shows).
3. **Combine.** Values are formed from the small aggregated frames: numerator ÷ denominator ×
   per; refs are lined up on the conformed dimensions; a growth divides by the same cell of the
   period before.

Results are tidy (:data:`RESULT_COLUMNS`): one row per indicator × period × dimension values,
with numerator, denominator, value, unit, direction, the tags, and a ``status``: ``ok`` or
``not_computable`` with the reason (a zero or empty denominator gives no value — never 0 or
infinity).

Dimensions an indicator cannot be cut by (a reported value by department; a fact without a
doctor) are left out of its rows (null) and listed in ``cut`` — the dimensions actually applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators.catalog import Catalog
from hospital_sdk.indicators.facts import DIMENSIONS, FACTS, FactTables, fact_table
from hospital_sdk.indicators.periods import TIME_GRAINS, Period, parse_period
from hospital_sdk.indicators.spec import Indicator, Measure, Term
from hospital_sdk.model import suggest

__all__ = ["RESULT_COLUMNS", "Batch", "Plan", "batch_queries", "compute", "normalise_by",
           "reads_reported", "term_condition", "term_value"]

RESULT_COLUMNS: tuple[str, ...] = (
    "indicator_id", "version", "name_zh", "name_en", "kind", "period", *DIMENSIONS,
    "numerator", "denominator", "value", "unit", "direction", "status", "reason", "cut",
    "domain", "national_monitoring", "subject", "matter", "purpose", "responsible_department",
    "owner", "source", "clause", "confidence")
"""Columns of a result, in order (dimensions not asked for are dropped)."""

_TIME_PARTS = {"year": ("_y",), "quarter": ("_y", "_q"), "month": ("_y", "_m")}
_SHIFT = {"year": -12, "month": -1}


def normalise_by(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """Check dimension names; at most one time grain (``year``, ``quarter`` or ``month``).

    >>> normalise_by("institution, month")
    ('institution', 'month')
    >>> normalise_by(["departmnet"])
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.IndicatorError: unknown dimension 'departmnet' (did you mean 'department'?); known: institution, campus, department, doctor, payer, visit_type, drg, year, quarter, month
    """
    if by is None:
        return ()
    names = [b.strip() for b in by.split(",")] if isinstance(by, str) else list(by)
    known = [*DIMENSIONS, *TIME_GRAINS]
    for b in names:
        if b not in known:
            raise IndicatorError(f"unknown dimension {b!r}{suggest(b, known)}; known: "
                                 + ", ".join(known))
    if sum(b in TIME_GRAINS for b in names) > 1:
        raise IndicatorError(f"cut by one time grain at most, got {names}")
    return tuple(dict.fromkeys(n for n in names if n))


def term_condition(term: Term, table: ir.Table,
                   value_sets: Mapping[str, Any]) -> ir.BooleanValue | None:
    """The condition a record meets to count in ``term`` (``None``: every record).

    Each ``where`` must be true and each exclusion not true; a null counts as not meeting a
    condition and as not excluded.
    """
    parts = [e.resolve(table, value_sets).fill_null(False) for e in term.where]
    parts += [~x.where.resolve(table, value_sets).fill_null(False) for x in term.exclusions]
    if not parts:
        return None
    cond = parts[0]
    for p in parts[1:]:
        cond = cond & p
    return cond


def term_value(measure: Measure, table: ir.Table, cond: ir.BooleanValue | None,
               value_sets: Mapping[str, Any]) -> ir.Scalar:
    """The aggregate of ``measure`` over the rows of ``table`` meeting ``cond``.

    The condition is a ``CASE WHEN`` inside the aggregate rather than a ``FILTER (WHERE …)``
    clause: the same values (a count of 0 where no row meets it, a null sum, min, max or mean),
    and DuckDB evaluates the many conditional aggregates of a batch markedly faster this way
    (BENCHMARKS.md, the assessment group).
    """
    if measure.aggregation == "count":
        if cond is None:
            return table.count()
        return ibis.ifelse(cond, 1, 0).sum().cast("int64")  # a null condition: ELSE 0
    assert measure.expression is not None
    value = measure.expression.resolve(table, value_sets)
    if measure.aggregation == "sum" and value.type().is_floating():
        # floats summed as DECIMAL(38, 9): exact, so the same in any order — a parallel float
        # sum is not reproducible in its last digits, and reruns must give the same numbers
        value = value.cast("decimal(38, 9)")
    if cond is not None:
        value = ibis.ifelse(cond, value, ibis.null(value.type()))
    if measure.aggregation == "count_distinct":
        return value.nunique()
    out = getattr(value, measure.aggregation)()
    # summed in the column's own type (exact for money), then one float per cell: the values
    # are combined as floats anyway, and Decimal objects are slow to fetch
    return out.cast("float64") if out.type().is_decimal() else out


@dataclass
class Batch:
    """The terms of one fact, time field, period window and dimension set: one query."""

    fact: str
    time_field: str
    period: Period
    dims: tuple[str, ...]
    time_grain: str | None
    terms: dict[tuple[Any, ...], tuple[str, Term]] = field(default_factory=dict)

    def column(self, term: Term) -> str:
        """The result column of ``term`` in this batch (added when new)."""
        if term.key not in self.terms:
            self.terms[term.key] = (f"t{len(self.terms)}", term)
        return self.terms[term.key][0]

    def query(self, catalog: Catalog, source: Any) -> ir.Table:
        """The Ibis expression of the batch: one ``GROUP BY`` over the fact."""
        t = fact_table(source, self.fact)
        ts = t[self.time_field]
        t = t.filter(ts >= datetime.combine(self.period.start, datetime.min.time()),
                     ts < datetime.combine(self.period.end, datetime.min.time()))
        ts = t[self.time_field]
        fact = FACTS[self.fact]
        groups: dict[str, ir.Value] = {d: t[fact.dimension_column(d)] for d in self.dims}
        if self.time_grain is not None:
            groups["_y"] = ts.year()
            if self.time_grain == "quarter":
                groups["_q"] = ts.quarter()
            if self.time_grain == "month":
                groups["_m"] = ts.month()
        value_sets = catalog.value_sets.for_year(self.period.start.year)
        metrics = {}
        for name, term in self.terms.values():
            measure = catalog.measure(term.measure)
            metrics[name] = term_value(measure, t, term_condition(term, t, value_sets),
                                       value_sets)
        return t.aggregate(metrics, by=groups) if groups else t.aggregate(metrics)


class Plan:
    """Which batches a set of indicators needs, and how to combine their results."""

    def __init__(self, catalog: Catalog, period: Period, by: tuple[str, ...],
                 reported: pd.DataFrame | None = None) -> None:
        self.catalog, self.period, self.by, self.reported = catalog, period, by, reported
        self.year = period.years()[-1]
        self.time_grain = next((b for b in by if b in TIME_GRAINS), None)
        self.batches: dict[tuple[Any, ...], Batch] = {}
        self._frames: dict[tuple[Any, ...], pd.DataFrame] = {}
        self._values: dict[tuple[Any, ...], pd.DataFrame] = {}
        self.unavailable: dict[str, str] = {}
        """Facts the source does not hold -> why (filled by :meth:`run`)."""

    def _resolve(self, ref: str) -> Indicator | Measure:
        """A composite's part: bare ids in the version in force in the period's last year."""
        return self.catalog.resolve(ref, year=self.year)

    # -- what an indicator reads --------------------------------------------------------------
    def facts_of(self, node: Indicator | Measure) -> set[str]:
        """Facts an indicator or measure reads (recursively)."""
        if isinstance(node, Measure):
            return {node.fact}
        if node.term is not None:
            return {self.catalog.measure(node.term.measure).fact}
        if node.population is not None:
            return {self.catalog.measure(node.population.denominator.measure).fact}
        return set().union(*(self.facts_of(self._resolve(r)) for r in
                             (node.numerator, node.denominator, node.of) if r is not None))

    def reads_reported(self, node: Indicator | Measure) -> bool:
        """Whether ``node`` is, or is composed of, a reported indicator (recursively)."""
        return reads_reported(self.catalog, node, year=self.year)

    def dims_of(self, node: Indicator | Measure) -> tuple[str, ...]:
        """The requested non-time dimensions ``node`` can be cut by (a reported value, and so
        anything composed of one, only by institution)."""
        facts = self.facts_of(node)
        allowed = set.intersection(*(set(FACTS[f].dimensions) for f in facts)) if facts else {
            "institution"}
        if self.reads_reported(node):
            allowed &= {"institution"}
        if isinstance(node, Indicator) and node.dimensions is not None:
            allowed &= set(node.dimensions)
        return tuple(d for d in self.by if d in allowed)

    def _batch(self, measure: Measure, shift: int, dims: tuple[str, ...]) -> Batch:
        period = self.period.shift(months=shift) if shift else self.period
        key = (measure.fact, measure.time_field, shift, dims)
        if key not in self.batches:
            self.batches[key] = Batch(measure.fact, measure.time_field, period, dims,
                                      self.time_grain)
        return self.batches[key]

    def need(self, node: Indicator | Measure, shift: int = 0,
             dims: tuple[str, ...] | None = None) -> None:
        """Register the terms ``node`` needs at ``shift`` months from the period."""
        dims = self.dims_of(node) if dims is None else dims
        if isinstance(node, Measure):
            self._batch(node, shift, dims).column(Term(node.id))
            return
        if node.kind == "reported":
            return
        for term in self._terms(node):
            self._batch(self.catalog.measure(term.measure), shift, dims).column(term)
        for ref in (node.numerator, node.denominator):
            if ref is not None:
                self.need(self._resolve(ref), shift, dims)
        if node.of is not None:
            self.need(self._resolve(node.of), shift, dims)
            self.need(self._resolve(node.of), shift + _SHIFT[node.over or "year"], dims)

    @staticmethod
    def _terms(node: Indicator) -> list[Term]:
        if node.term is not None:
            return [node.term]
        if node.population is not None:
            return [node.population.numerator, node.population.denominator]
        return []

    # -- running ------------------------------------------------------------------------------
    def run(self, source: Any) -> None:
        """Execute every batch (one query each). A fact the source does not hold (a lakehouse
        built before the fact existed) leaves the indicators reading it not computable, with
        the reason, instead of failing the others."""
        for key, batch in self.batches.items():
            if batch.fact in self.unavailable:
                continue
            try:
                query = batch.query(self.catalog, source)
            except IndicatorError as exc:
                self.unavailable[batch.fact] = str(exc)
                continue
            self._frames[key] = self._label(query.execute(), key[2])

    def _label(self, frame: pd.DataFrame, shift: int) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for c in frame.columns:  # built at once: a frame of many terms is not fragmented
            if c.startswith("t") and c[1:].isdigit():
                columns[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
            elif c in DIMENSIONS:  # plain objects: frames from different facts line up
                columns[c] = pd.Series(frame[c].tolist(), index=frame.index, dtype="object")
            else:
                columns[c] = frame[c]
        frame = pd.DataFrame(columns, index=frame.index)
        grain = self.time_grain
        if grain is None:
            frame["period"] = self.period.label
        else:
            index = frame["_y"].astype(int) * 12 - shift  # align the earlier period's cells
            if grain == "year":
                frame["period"] = (index // 12).astype(str)
            elif grain == "quarter":
                q = (index // 12).astype(str) + "-Q" + frame["_q"].astype(int).astype(str)
                frame["period"] = q
            else:
                idx = index + frame["_m"].astype(int) - 1
                frame["period"] = ((idx // 12).astype(str) + "-"
                                   + (idx % 12 + 1).astype(str).str.zfill(2))
            frame["period"] = frame["period"].astype("object")
            frame = frame.drop(columns=[c for c in ("_y", "_q", "_m") if c in frame])
        return frame

    def _keys(self, dims: tuple[str, ...]) -> list[str]:
        return [*dims, "period"]

    def _term_frame(self, term: Term, shift: int, dims: tuple[str, ...]) -> pd.DataFrame:
        measure = self.catalog.measure(term.measure)
        key = (measure.fact, measure.time_field, shift, dims)
        frame = self._frames[key]
        column = self.batches[key].terms[term.key][0]
        out = frame[self._keys(dims)].copy()
        values = frame[column]
        if measure.aggregation in ("count", "count_distinct", "sum"):
            values = values.fillna(0.0)  # no matching record in an existing cell: zero
        out["value"] = values.to_numpy()
        return out

    def value(self, node: Indicator | Measure, shift: int = 0,
              dims: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Numerator, denominator, value, status and reason of ``node`` per cell."""
        dims = self.dims_of(node) if dims is None else dims
        memo = (node.id if isinstance(node, Measure) else node.key, shift, dims)
        if memo not in self._values:
            lacking = sorted(self.facts_of(node) & set(self.unavailable))
            self._values[memo] = (self._value(node, shift, dims) if not lacking else pd.DataFrame(
                [{**{d: None for d in dims}, "period": self.period.label, "numerator": np.nan,
                  "denominator": np.nan, "value": np.nan, "status": "not_computable",
                  "reason": self.unavailable[lacking[0]]}]))
        return self._values[memo]

    def _value(self, node: Indicator | Measure, shift: int,
               dims: tuple[str, ...]) -> pd.DataFrame:
        if isinstance(node, Measure):
            out = self._term_frame(Term(node.id), shift, dims)
            return _single(out)
        if node.kind == "reported":  # a composite's part; cells labelled with this period
            period = self.period.shift(months=shift) if shift else self.period
            values = _reported(node, period, self.reported).assign(period=self.period.label)
            if "institution" not in dims:  # no group total of a reported value
                return values.iloc[:1].assign(value=np.nan, institution=None)[
                    [*dims, "period", "numerator", "denominator", "value", "status", "reason"]]
            return values
        if node.kind == "derived":
            assert node.term is not None
            return _single(self._term_frame(node.term, shift, dims))
        keys = self._keys(dims)
        if node.population is not None:
            num = self._term_frame(node.population.numerator, shift, dims)
            den = self._term_frame(node.population.denominator, shift, dims)
        elif node.kind == "growth":
            assert node.of is not None
            base = self._resolve(node.of)
            num = self.value(base, shift, dims)[[*keys, "value"]]
            den = self.value(base, shift + _SHIFT[node.over or "year"], dims)[[*keys, "value"]]
        else:
            assert node.numerator is not None and node.denominator is not None
            num = self.value(self._resolve(node.numerator), shift, dims)[[*keys, "value"]]
            den = self.value(self._resolve(node.denominator), shift,
                             dims)[[*keys, "value"]]
        if len(num) == len(den) and num[keys].equals(den[keys]):
            # both sides from the same batch (a population; parts on one fact): same cells in
            # the same order, nothing to line up
            merged = num[keys].reset_index(drop=True)
            n = num["value"].reset_index(drop=True).astype("float64")
            d = den["value"].reset_index(drop=True).astype("float64")
        else:
            merged = num.merge(den, on=keys, how="outer", suffixes=("_n", "_d"))
            n = merged.pop("value_n").astype("float64")
            d = merged.pop("value_d").astype("float64")
        if node.kind != "growth":
            n, d = _absent_is_zero(self, node, n, "numerator"), _absent_is_zero(
                self, node, d, "denominator")
        out = _combine(merged, n, d, node)
        if self.reads_reported(node):
            self._explain_reported_gaps(node, out, n, d, dims)
        return out

    def _explain_reported_gaps(self, node: Indicator, out: pd.DataFrame, n: pd.Series,
                               d: pd.Series, dims: tuple[str, ...]) -> None:
        """Reasons of a composite with a reported part: a missing submission is named, and the
        cuts a reported value cannot follow (a group total, a month) leave no value at all."""
        for side, ref in ((n, node.numerator), (d, node.denominator)):
            part = self._resolve(ref) if ref is not None else None
            if isinstance(part, Indicator) and part.kind == "reported":
                missing = side.isna().to_numpy()
                out.loc[missing, "reason"] = f"no reported value of {part.id}"
        why = ("a part is a reported value per institution: cut by institution"
               if "institution" not in dims else
               f"a part is a yearly reported value: not computable by {self.time_grain}"
               if self.time_grain in ("quarter", "month") else "")
        if why:
            out["value"], out["status"], out["reason"] = np.nan, "not_computable", why


def _absent_is_zero(plan: Plan, node: Indicator, values: pd.Series, side: str) -> pd.Series:
    """A cell with records on one side only has a count or sum of 0 on the other."""
    if node.population is not None:
        return values.fillna(0.0)
    ref = node.numerator if side == "numerator" else node.denominator
    target = plan._resolve(ref) if ref is not None else None
    additive = isinstance(target, Measure) and target.additive or (
        isinstance(target, Indicator) and target.kind == "derived" and target.term is not None
        and plan.catalog.measure(target.term.measure).additive)
    return values.fillna(0.0) if additive else values


def _single(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["numerator"] = out["value"]
    out["denominator"] = np.nan
    out["status"], out["reason"] = "ok", ""
    return out


_REASONS: dict[str, tuple[str, str, str]] = {
    "ratio": ("numerator is empty", "denominator is empty", "denominator is 0"),
    "growth": ("no value this period", "no value in the period before",
               "the value in the period before is 0"),
    "difference": ("left is empty", "right is empty", ""),
    "sum": ("left is empty", "right is empty", ""),
}
"""Why a cell has no value: numerator missing, denominator missing, denominator zero."""


def _combine(cells: pd.DataFrame, n: pd.Series, d: pd.Series, node: Indicator) -> pd.DataFrame:
    out = cells.copy()
    out["numerator"], out["denominator"] = n.to_numpy(), d.to_numpy()
    reason = np.select(
        [n.isna().to_numpy(), d.isna().to_numpy(), (d == 0).to_numpy()],
        _REASONS.get(node.kind, _REASONS["ratio"]), default="")
    if node.kind in ("difference", "sum"):
        reason = np.where(n.isna() | d.isna(), reason, "")
        value = (n - d if node.kind == "difference" else n + d).to_numpy()
    elif node.kind == "growth":
        with np.errstate(divide="ignore", invalid="ignore"):
            value = ((n - d) / d * node.scale).to_numpy()
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (n / d * node.scale).to_numpy()
    ok = reason == ""
    out["value"] = np.where(ok, value, np.nan)
    out["status"] = np.where(ok, "ok", "not_computable")
    out["reason"] = reason
    return out


def reads_reported(catalog: Catalog, node: Indicator | Measure, *,
                   year: int | None = None) -> bool:
    """Whether ``node`` is, or is composed of, a reported indicator (its parts resolved in
    ``year``). Such a value exists per institution and year only.

    >>> from hospital_sdk.indicators.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> reads_reported(catalog, catalog["surgery_share"]), reads_reported(
    ...     catalog, catalog["physician_nurse_ratio"])
    (False, True)
    """
    if isinstance(node, Measure):
        return False
    return node.kind == "reported" or any(
        reads_reported(catalog, catalog.resolve(r, year=year), year=year)
        for r in (node.numerator, node.denominator, node.of) if r is not None)


def compute(catalog: Catalog, indicators: Sequence[Indicator | str], source: Any, *,
            period: str | int | Period, by: str | Sequence[str] | None = None,
            reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compute ``indicators`` over ``period``, cut by ``by``; one query per fact and dimension set.

    Parameters
    ----------
    catalog
        The catalog the indicators and their refs come from.
    indicators
        Indicator versions or refs: ``id@version``, or ``id`` for the version in force in the
        period's last year (:meth:`Catalog.get`); a composite's parts likewise.
    source
        Where the facts are: a :class:`~hospital_sdk.store.Lakehouse`, an Ibis backend or a
        mapping of fact names to Ibis tables; wrap it in a
        :class:`~hospital_sdk.indicators.facts.FactTables` to share the facts' tables between
        calls (each call reads each fact once anyway).
    period
        ``2024``, ``2024-Q2``, ``2024-03`` or ``2024-01..2024-06`` (:func:`parse_period`).
    by
        Dimensions: ``institution``, ``campus``, ``department``, ``doctor``, ``payer``,
        ``visit_type``, ``drg`` and one of ``year``, ``quarter``, ``month``.
    reported
        Latest reported values (``institution_id, period, indicator_id, version, value_number``)
        for reported indicators; ``None`` leaves them not computable.

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS` (dimensions not asked for left out).
    """
    p, dims = parse_period(period), normalise_by(by)
    chosen = [catalog.get(i, year=p.years()[-1]) if isinstance(i, str) else i
              for i in indicators]
    plan = Plan(catalog, p, dims, reported)
    for ind in chosen:
        plan.need(ind)
    plan.run(source if isinstance(source, FactTables) else FactTables(source))
    frames, meta = [], []
    for n, ind in enumerate(chosen):
        values = _reported(ind, p, reported) if ind.kind == "reported" else plan.value(ind)
        frames.append(_cells(values, dims).assign(_n=n))
        meta.append(_meta(ind, plan.dims_of(ind), plan.time_grain))
    if not frames:
        return pd.DataFrame(columns=_columns(dims))
    keys = [d for d in dims if d not in TIME_GRAINS]
    cells = pd.concat(frames, ignore_index=True).sort_values(
        ["_n", *keys, "period"], ignore_index=True, na_position="first", kind="stable")
    out = cells.merge(pd.DataFrame(meta).assign(_n=range(len(meta))), on="_n", how="left")
    return out[_columns(dims)]


def _columns(dims: tuple[str, ...]) -> list[str]:
    return [c for c in RESULT_COLUMNS if c not in DIMENSIONS or c in dims]


def _reported(ind: Indicator, period: Period, reported: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["institution", "period", "numerator", "denominator", "value", "status", "reason"]
    if reported is None or reported.empty:
        return pd.DataFrame([{"institution": None, "period": period.label, "numerator": np.nan,
                              "denominator": np.nan, "value": np.nan,
                              "status": "not_computable", "reason": "no reported value"}],
                            columns=cols)
    rows = reported[(reported["indicator_id"] == ind.id)
                    & (reported["version"].astype(str) == ind.version)
                    & (reported["period"].astype(str) == period.label)]
    out = pd.DataFrame({"institution": rows["institution_id"].to_numpy(),
                        "period": period.label,
                        "value": pd.to_numeric(rows["value_number"], errors="coerce")
                        .to_numpy(dtype="float64")})
    out["numerator"], out["denominator"] = out["value"], np.nan
    out["status"] = np.where(out["value"].isna(), "not_computable", "ok")
    texts = (rows["value_text"] if "value_text" in rows else pd.Series(None, index=rows.index))
    out["reason"] = [
        "" if not np.isnan(v) else
        (f"reported as {t!r}: a grade or text, not a number" if isinstance(t, str) and t
         else "reported value is not a number")
        for v, t in zip(out["value"], texts.tolist())]
    return out[cols]


def _cells(values: pd.DataFrame, dims: tuple[str, ...]) -> pd.DataFrame:
    """The cells of one indicator with every requested dimension column (null where not cut)."""
    missing = {d: None for d in dims if d not in TIME_GRAINS and d not in values}
    return values.assign(**missing) if missing else values


def _meta(ind: Indicator, cut: tuple[str, ...], grain: str | None) -> dict[str, Any]:
    """The columns every cell of ``ind`` shares: identity, unit, direction, cut and tags."""
    tags = ind.tags
    applied = [*cut, *([grain] if grain is not None and ind.kind != "reported" else [])]
    return {"indicator_id": ind.id, "version": ind.version, "name_zh": ind.name_zh,
            "name_en": ind.name_en, "kind": ind.kind, "unit": tags.unit,
            "direction": tags.direction, "cut": ",".join(applied), "domain": tags.domain,
            "national_monitoring": tags.national_monitoring, "subject": tags.subject,
            "matter": tags.matter, "purpose": tags.purpose,
            "responsible_department": tags.responsible_department, "owner": tags.owner,
            "source": tags.source.document, "clause": tags.source.clause,
            "confidence": tags.source.confidence}


def batch_queries(catalog: Catalog, indicators: Sequence[Indicator | str], source: Any, *,
                  period: str | int | Period, by: str | Sequence[str] | None = None
                  ) -> list[tuple[Batch, ir.Table]]:
    """The batches computing ``indicators`` would run, each with its Ibis query (not run)."""
    p = parse_period(period)
    chosen = [catalog.get(i, year=p.years()[-1]) if isinstance(i, str) else i
              for i in indicators]
    plan = Plan(catalog, p, normalise_by(by))
    for ind in chosen:
        plan.need(ind)
    facts = source if isinstance(source, FactTables) else FactTables(source)
    return [(b, b.query(catalog, facts)) for b in plan.batches.values()]


def empty_source() -> dict[str, ir.Table]:
    """Unbound tables of every fact (for :func:`batch_queries` without data, e.g. ``explain``)."""
    return {name: ibis.table(f.schema(), name=name) for name, f in FACTS.items()}
