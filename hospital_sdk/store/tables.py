"""Names, column types, DDL and row sources of lake tables.

Ibis types map to DuckDB types through Ibis' own DuckDB type mapper, then through DuckDB's
parser, so the spelling compared with an existing table is DuckDB's (``VARCHAR``, not ``TEXT``).

Examples
--------
>>> import ibis
>>> expected = expected_columns(ibis.schema({"id": "!int64", "amount": "decimal(18,2)"}))
>>> expected
{'id': ('BIGINT', False), 'amount': ('DECIMAL(18,2)', True)}
>>> column_definitions(expected)
'"id" BIGINT NOT NULL, "amount" DECIMAL(18,2)'
>>> check_columns({"id": ("BIGINT", True)}, expected, "lake.raw.t")
Traceback (most recent call last):
...
hospital_sdk.errors.StoreError: lake.raw.t exists with different columns: missing columns
['amount']; id is nullable, expected NOT NULL
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends.duckdb import Backend
from ibis.backends.sql.datatypes import DuckDBType

from hospital_sdk.errors import StoreError

Columns = dict[str, tuple[str, bool]]
"""``{column: (DuckDB type, nullable)}`` in table order."""


def ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: object) -> str:
    """``str(value)`` escaped for use inside a single-quoted SQL string."""
    return str(value).replace("'", "''")


def sql_type(text: str) -> str:
    """DuckDB's own spelling of type ``text`` (``TEXT`` -> ``VARCHAR``)."""
    return str(duckdb.sqltype(text))


def expected_columns(schema: ibis.Schema) -> Columns:
    """Columns a table of Ibis ``schema`` has in DuckDB."""
    return {c: (sql_type(DuckDBType.to_string(t)), t.nullable) for c, t in schema.items()}


def column_definitions(columns: Columns) -> str:
    """Column list of a ``CREATE TABLE``."""
    return ", ".join(f"{ident(c)} {t}{'' if null else ' NOT NULL'}"
                     for c, (t, null) in columns.items())


def table_columns(duck: duckdb.DuckDBPyConnection, catalog: str, layer: str,
                  name: str) -> Columns | None:
    """Columns of ``<catalog>.<layer>.<name>`` as seen by ``duck``'s transaction, or None."""
    rows = duck.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index", [catalog, layer, name]
    ).fetchall()
    return {c: (sql_type(t), bool(n)) for c, t, n in rows} or None


def check_columns(actual: Columns | None, expected: Columns, target: str) -> bool:
    """False if the table is missing, True if it has the ``expected`` columns in any order.

    Raises
    ------
    StoreError
        The table exists with other columns; the message lists every difference.
    """
    if actual is None:
        return False
    problems = []
    if missing := [c for c in expected if c not in actual]:
        problems.append(f"missing columns {missing}")
    if extra := [c for c in actual if c not in expected]:
        problems.append(f"unexpected columns {extra}")
    for col in [c for c in expected if c in actual]:
        (want_type, want_null), (has_type, has_null) = expected[col], actual[col]
        if want_type != has_type:
            problems.append(f"{col} is {has_type}, expected {want_type}")
        if want_null != has_null:
            problems.append(f"{col} is {'nullable' if has_null else 'NOT NULL'}, expected "
                            f"{'nullable' if want_null else 'NOT NULL'}")
    if problems:
        raise StoreError(f"{target} exists with different columns: {'; '.join(problems)}")
    return True


def append_rows(duck: duckdb.DuckDBPyConnection, target: str, rows: pa.Table | pd.DataFrame,
                stage: str) -> int:
    """``INSERT INTO target BY NAME`` the Python ``rows``, read through a view named ``stage``
    (registered for the statement only); returns the number of rows inserted. Called inside a
    :meth:`~hospital_sdk.store.Lakehouse.write` transaction."""
    duck.register(stage, rows)
    try:
        return int(duck.execute(f"INSERT INTO {target} BY NAME FROM {ident(stage)}")
                   .fetchone()[0])
    finally:
        duck.unregister(stage)


@dataclass(frozen=True)
class RowSource:
    """Rows to write: a query DuckDB runs itself, or a Python table registered as a view."""

    query: str | None = None
    data: pa.Table | pd.DataFrame | None = None

    @classmethod
    def of(cls, obj: pa.Table | pd.DataFrame | ir.Table, con: Backend) -> RowSource:
        """Source for ``obj``; an Ibis expression on ``con`` stays SQL, others are fetched."""
        if isinstance(obj, ir.Table):
            if ibis.get_backend(obj) is con:
                con._run_pre_execute_hooks(obj)  # registers the memtables the expression uses
                return cls(query=con.compile(obj))
            return cls(data=obj.to_pyarrow())
        if isinstance(obj, pa.Table | pd.DataFrame):
            return cls(data=obj)
        raise TypeError(f"expected a pyarrow Table, pandas DataFrame or Ibis table, "
                        f"not {type(obj).__name__}")

    def may_read(self, layer: str, name: str) -> bool:
        """Whether the query may read the lake table ``<layer>.<name>`` — then a replace of
        that table must stage the rows before its DELETE; any other query can stream into it.

        Conservative: every mention of ``name`` as a whole identifier counts unless it is
        qualified by another name (``"raw"."charge_line"`` while ``cleaned.charge_line`` is
        replaced, or a column ``"t0"."charge_line"``). Rows from Python never read the lake.

        Examples
        --------
        >>> q = RowSource(query='SELECT * FROM "lake"."raw"."charge_line" AS "t0"')
        >>> q.may_read("cleaned", "charge_line"), q.may_read("raw", "charge_line")
        (False, True)
        >>> RowSource(query="SELECT * FROM charge_line").may_read("cleaned", "charge_line")
        True
        >>> q.may_read("cleaned", "line")
        False
        """
        if self.query is None:
            return False
        mention = re.compile(r'(?:"?(\w+)"?\s*\.\s*)?"?(?<!\w)' + re.escape(name) + r"(?!\w)",
                             re.IGNORECASE)
        return any(m.group(1) is None or m.group(1).lower() == layer.lower()
                   for m in mention.finditer(self.query))

    def stage(self, duck: duckdb.DuckDBPyConnection, name: str) -> None:
        """Make the rows readable as ``name``; a query is run now, into a temporary table, so
        it sees the data as it was before the write changes anything."""
        if self.data is not None:
            duck.register(name, self.data)
        else:
            duck.execute(f"CREATE TEMP TABLE {ident(name)} AS {self.query}")

    def unstage(self, duck: duckdb.DuckDBPyConnection, name: str) -> None:
        """Drop what :meth:`stage` made (a failed transaction's rollback already dropped it)."""
        if self.data is not None:
            duck.unregister(name)
        else:
            with contextlib.suppress(duckdb.Error):
                duck.execute(f"DROP TABLE IF EXISTS {ident(name)}")
