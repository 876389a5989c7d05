"""Monthly partitions: replace one calendar month of a table, atomically and idempotently.

A table written through :func:`replace_month` is partitioned by ``year(col), month(col)`` of
its period column (discharge or visit date), so each month lives in its own Parquet files.
Replacing a month deletes that month's rows and inserts the new ones in one transaction:
running it twice gives the same rows, never duplicates, and a writer killed halfway leaves the
previous version readable and complete (the rerun completes it).

Examples
--------
>>> import tempfile, pyarrow as pa
>>> from hospital_sdk.store import Lakehouse
>>> month_bounds("2024-03")
(datetime.datetime(2024, 3, 1, 0, 0), datetime.datetime(2024, 4, 1, 0, 0))
>>> month_bounds(date(2024, 12, 25))[1]
datetime.datetime(2025, 1, 1, 0, 0)
>>> march = pa.table({"visit_date": [date(2024, 3, 1), date(2024, 3, 31)], "n": [1, 2]})
>>> lh = Lakehouse.open(tempfile.mkdtemp())
>>> replace_month(lh, "visits", march, period_column="visit_date", month="2024-03")
2
>>> replace_month(lh, "visits", march, period_column="visit_date", month="2024-03")
2
>>> int(lh.table("visits").count().execute())  # replaced, not appended
2
>>> replace_month(lh, "visits", march, period_column="visit_date", month="2024-04")
Traceback (most recent call last):
...
hospital_sdk.errors.StoreError: cannot replace month 2024-04 of lake.raw.visits: 2 of 2 rows
have visit_date outside [2024-04-01, 2024-05-01) (0 of them NULL); nothing was written
>>> april_may = pa.table({"visit_date": [date(2024, 4, 2), date(2024, 5, 9)], "n": [3, 4]})
>>> replace_months(lh, "visits", april_may, period_column="visit_date", first="2024-04",
...                last="2024-05")  # a backfill of several months: one transaction
2
>>> lh.close()
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import StoreError
from hospital_sdk.store.catalog import CATALOG
from hospital_sdk.store.lakehouse import Lakehouse
from hospital_sdk.store.tables import RowSource, ident, table_columns

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_bounds(month: str | date) -> tuple[datetime, datetime]:
    """``[start, end)`` of ``month``: ``'2024-03'`` (or any date in it) -> March 1st, April 1st.

    Raises :class:`ValueError` for a string that is not ``YYYY-MM`` or a month outside 1..12.
    """
    if isinstance(month, date):  # datetime is a date too
        year, mon = month.year, month.month
    elif isinstance(month, str) and (m := _MONTH.fullmatch(month.strip())):
        year, mon = int(m.group(1)), int(m.group(2))
        if not 1 <= mon <= 12:
            raise ValueError(f"month {month!r} is not between 01 and 12")
    else:
        raise ValueError(f"expected a month as 'YYYY-MM' or a date, got {month!r}")
    start = datetime(year, mon, 1)
    end = datetime(year + 1, 1, 1) if mon == 12 else datetime(year, mon + 1, 1)
    return start, end


def replace_month(lake: Lakehouse, name: str, obj: pa.Table | pd.DataFrame | ir.Table, *,
                  layer: str = "raw", period_column: str, month: str | date) -> int:
    """Replace the rows of ``lake.<layer>.<name>`` whose ``period_column`` falls in ``month``.

    The one-month case of :func:`replace_months` (see there for the checks and errors).
    """
    return replace_months(lake, name, obj, layer=layer, period_column=period_column,
                          first=month, last=month)


def replace_months(lake: Lakehouse, name: str, obj: pa.Table | pd.DataFrame | ir.Table, *,
                   layer: str = "raw", period_column: str, first: str | date,
                   last: str | date) -> int:
    """Replace the rows of ``lake.<layer>.<name>`` in the months ``first`` .. ``last`` (inclusive).

    In one transaction under the writer lock: check that every row of ``obj`` has
    ``period_column`` in ``[start of first, end of last)`` (a DATE or TIMESTAMP column; NULL counts
    as outside), create the table from ``obj``'s columns if missing, partitioned by
    ``year(period_column), month(period_column)``, then :meth:`Lakehouse.replace` with
    ``where`` = those months. Other months are untouched (a backfill of a year is one
    transaction, a one-month rerun touches one month); an existing table keeps its
    partitioning. Returns the number of rows inserted. An Ibis query on the lakehouse that
    does not read the table itself (:meth:`RowSource.may_read`) is streamed into it instead of
    staged, and checked after the insert in the same transaction: the months were emptied, so
    what they hold then is what was inserted, and any row outside rolls everything back.

    Raises
    ------
    StoreError
        Rows of ``obj`` fall outside ``month`` (the message names the table, the month and how
        many), ``period_column`` is missing or not a date/timestamp, or the write failed.
        Nothing is written in any of these cases.
    """
    start, end = month_bounds(first)[0], month_bounds(last)[1]
    if end <= start:
        raise ValueError(f"month range {first}..{last} is empty: {last} is before {first}")
    label = f"month {start:%Y-%m}" if end == month_bounds(first)[1] else \
        f"months {start:%Y-%m}..{month_bounds(last)[0]:%Y-%m}"
    target = lake._qualified(name, layer)
    sql = Lakehouse._sql(name, layer)
    col = ident(period_column)
    if isinstance(obj, ir.Table) and ibis.get_backend(obj) is not lake.con:
        obj = obj.to_pyarrow()  # fetched once, for the check and the write
    source = RowSource.of(obj, lake.con)
    stage = f"__hospital_sdk_month_{threading.get_ident()}"
    # A query that does not read the table is streamed into it and checked after the insert
    # (the months were emptied first, so every inserted row in them is counted); staging a
    # year of charge lines in a temporary table spilled more than 30 GB at SF 1.
    streamed = source.query is not None and not source.may_read(layer, name)

    def where(column_type: str) -> str:
        return (f"{col} >= {_literal(column_type, start, target, period_column)} AND "
                f"{col} < {_literal(column_type, end, target, period_column)}")

    def refuse(outside: int, total: int, nulls: int) -> None:
        if outside:
            raise StoreError(
                f"cannot replace {label} of {target}: {outside} of {total} rows have "
                f"{period_column} outside [{start:%Y-%m-%d}, {end:%Y-%m-%d}) ({nulls} of "
                f"them NULL); nothing was written")

    def work(duck: duckdb.DuckDBPyConnection) -> int:
        # staged: the rows are computed once, into a temporary table (or a registered Arrow
        # view), then checked and inserted from there; streamed: inserted, then checked
        if streamed:
            rows = f"({source.query})"
        else:
            source.stage(duck, stage)
            rows = ident(stage)
        try:
            types = dict(duck.execute(f"SELECT column_name, column_type FROM "
                                      f"(DESCRIBE SELECT * FROM {rows})").fetchall())
            if period_column not in types:
                raise StoreError(f"cannot replace {label} of {target}: the rows have no "
                                 f"column {period_column!r} (they have {list(types)})")
            if not streamed:
                refuse(*duck.execute(
                    f"SELECT count(*) FILTER (WHERE NOT coalesce({where(types[period_column])}, "
                    f"false)), count(*), count(*) FILTER (WHERE {col} IS NULL) FROM {rows}"
                ).fetchone())
            columns = table_columns(duck, CATALOG, layer, name)
            if columns is None:
                duck.execute(f"CREATE TABLE {sql} AS SELECT * FROM {rows} LIMIT 0")
                duck.execute(f"ALTER TABLE {sql} SET PARTITIONED BY (year({col}), month({col}))")
                columns = table_columns(duck, CATALOG, layer, name)
                assert columns is not None
            if period_column not in columns:
                raise StoreError(f"cannot replace {label} of {target}: the table has no "
                                 f"column {period_column!r}")
            # in this transaction: check, create, delete and insert commit together or not at all
            duck.execute(f"DELETE FROM {sql} WHERE {where(columns[period_column][0])}")
            inserted = int(duck.execute(f"INSERT INTO {sql} BY NAME FROM {rows}").fetchone()[0])
            if streamed:  # the months were emptied: what they hold now is what was inserted
                in_months, nulls = duck.execute(
                    f"SELECT count(*) FILTER (WHERE {where(columns[period_column][0])}), "
                    f"count(*) FILTER (WHERE {col} IS NULL) FROM {sql}").fetchone()
                refuse(inserted - in_months, inserted, nulls)  # raising rolls it all back
            return inserted
        finally:
            if not streamed:
                source.unstage(duck, stage)

    try:
        return lake.write(work, description=f"replace {layer}.{name} {label}")
    except duckdb.Error as exc:
        raise StoreError(f"cannot replace {label} of {target}: {exc}") from exc


def _literal(column_type: str, value: datetime, target: str, column: str) -> str:
    """``value`` as a SQL literal of ``column_type`` (DATE or a TIMESTAMP type)."""
    kind = column_type.upper()
    if kind == "DATE":
        return f"DATE '{value:%Y-%m-%d}'"
    if kind.startswith("TIMESTAMP"):  # TIMESTAMP, TIMESTAMP_NS, TIMESTAMP WITH TIME ZONE, ...
        return f"CAST('{value:%Y-%m-%d %H:%M:%S}' AS {column_type})"
    raise StoreError(f"cannot split {target} into months by {column!r}: it is {column_type}, "
                     f"expected DATE or TIMESTAMP")
