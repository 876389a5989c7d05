"""The SQL an indicator runs, for audit: one statement per fact batch, in any SQL dialect.

:func:`explain` compiles the batches :func:`~hospital_sdk.indicators.engine.compute` would run
for the indicator (its terms, its refs' terms, the period before for a growth) against unbound
fact tables, so no data is needed, and renders them with sqlglot in the dialect asked for
(``duckdb``, ``spark``, ``postgres``…). A header comment on each statement names the fact, the
period window, the dimensions and what each result column is; a closing comment says how the
value is formed from them.

Examples
--------
>>> from hospital_sdk.indicators.catalog import load_catalog
>>> sql = explain(load_catalog(), "surgery_share", period="2024", by=["institution"])
>>> print(sql.splitlines()[0])
-- surgery_share@1 出院患者手术占比 (Surgical share of discharges): proportion
>>> "GROUP BY" in sql and 'FROM "stay_fact"' in sql
True
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import sqlglot
import sqlglot.errors

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators.catalog import Catalog
from hospital_sdk.indicators.engine import batch_queries, empty_source
from hospital_sdk.indicators.periods import Period, parse_period
from hospital_sdk.indicators.spec import Indicator, Term

__all__ = ["explain", "formula"]


def _term_text(catalog: Catalog, term: Term) -> str:
    measure = catalog.measure(term.measure)
    what = (f"{measure.aggregation}({measure.expression.text})" if measure.expression
            else "count(*)")
    conds = [e.text for e in term.where] + [f"not excluded by {x.id}: {x.where.text}"
                                            for x in term.exclusions]
    return f"{term.measure} = {what}" + (f" where {' and '.join(conds)}" if conds else "")


def formula(indicator: Indicator) -> str:
    """How the value is formed from numerator and denominator, in words.

    >>> from hospital_sdk.indicators.catalog import load_catalog
    >>> formula(load_catalog()["surgery_share"])
    'value = numerator / denominator * 100; not computable when the denominator is 0 or empty'
    """
    guard = "; not computable when the denominator is 0 or empty"
    if indicator.kind in ("derived",):
        return "value = the measure"
    if indicator.kind == "reported":
        return "value = the latest reported value"
    if indicator.kind == "difference":
        return "value = left - right"
    if indicator.kind == "sum":
        return "value = left + right"
    if indicator.kind == "growth":
        return (f"value = (this period - the {indicator.over or 'year'} before) / the "
                f"{indicator.over or 'year'} before * {indicator.scale:g}; not computable when "
                f"the earlier value is 0 or empty")
    return f"value = numerator / denominator * {indicator.scale:g}{guard}"


def _sql(query: ibis.Table, dialect: str) -> str:
    """Ibis's own compiler for the dialect where it has one that works without the backend's
    driver installed; otherwise sqlglot transpiles the DuckDB SQL (e.g. ``spark`` without
    pyspark), which the statement's header says."""
    try:
        return str(ibis.to_sql(query, dialect=dialect))
    except (ValueError, AttributeError, ImportError):
        pass
    duck = str(ibis.to_sql(query, dialect="duckdb"))
    try:
        out = sqlglot.transpile(duck, read="duckdb", write=dialect, pretty=True)
    except (ValueError, KeyError, sqlglot.errors.SqlglotError) as exc:
        raise IndicatorError(f"cannot write SQL in dialect {dialect!r}: {exc} (e.g. duckdb, "
                             f"spark, postgres, mysql, sqlite, trino)") from exc
    return f"-- transpiled from DuckDB SQL by sqlglot\n{out[0]}"


def explain(catalog: Catalog, indicator: Indicator | str, *, period: str | int | Period = "2024",
            by: str | Sequence[str] | None = ("institution",), dialect: str = "duckdb") -> str:
    """The SQL computing ``indicator`` over ``period`` cut by ``by``, in ``dialect``.

    Parameters
    ----------
    catalog
        The catalog.
    indicator
        An indicator version or ref.
    period, by
        As for :func:`~hospital_sdk.indicators.engine.compute` (they appear in the SQL).
    dialect
        A sqlglot dialect name (``duckdb``, ``spark``, ``postgres``, ``mysql``…).
    """
    ind = (catalog.get(indicator, year=parse_period(period).years()[-1])
           if isinstance(indicator, str) else indicator)
    lines = [f"-- {ind.key} {ind.name_zh} ({ind.name_en}): {ind.kind}"]
    if ind.kind == "reported":
        lines.append("-- reported value: read from raw.reported_value (latest submission per "
                     "institution, period, indicator and version); no fact query")
        return "\n".join(lines) + "\n"
    for batch, query in batch_queries(catalog, [ind], empty_source(), period=period, by=by):
        lines.append(f"-- fact {batch.fact}, {batch.time_field} in [{batch.period.start}, "
                     f"{batch.period.end}), by {', '.join(batch.dims) or 'nothing'}"
                     f"{' and ' + batch.time_grain if batch.time_grain else ''}")
        for column, term in batch.terms.values():
            lines.append(f"--   {column}: {_term_text(catalog, term)}")
        lines.append(_sql(query, dialect).strip() + ";")
    lines.append(f"-- {formula(ind)}")
    return "\n".join(lines) + "\n"
