"""Row validation compiled to DuckDB SQL: per source row, its typed values and its problems.

The contract's rules for a table become one ``SELECT`` over a relation of source rows (an Arrow
batch registered in DuckDB) and one over the keys of the whole file for duplicates, so
validation runs set-wise and vectorised, never row by row in Python. Each row gets a list of
problems ``{field, reason, value}``; a row with none is loaded.

Checks, in the order problems are listed:

* per column -- ``not a valid <type>`` (the value is there but does not convert), ``required value
  missing``, ``code 'X' not in <code set>``, ``does not match <pattern>``, ``out of range [a, b]``;
* per row rule -- ``violates rule <name>: <rule text>`` (holds when either side is null);
* per primary key, among rows without other problems, once the whole file is read --
  ``duplicate primary key, first seen at row N`` (same file; the first row is kept) or
  ``duplicate primary key, already loaded from <file>``.

Conversion follows DuckDB's ``TRY_CAST`` (dates ``2024-01-05`` or ``2024/1/5``, timestamps with
``T`` or a space), except that integers must be whole (``1.5`` is not a valid int32, ``12.0`` is)
and floats finite; decimals are rounded to the column's scale. Blank strings (empty or only
spaces) count as missing. Values of ``direct_identifier`` columns are checked in their normalised
form (stripped, upper-case; see :mod:`hospital_sdk.ingest.identity`), shown as ``***`` in problems
and records, and stored only as tokens.

Examples
--------
>>> import duckdb, pyarrow as pa
>>> from hospital_sdk.model.contract import Column, Contract, Table
>>> t = Table("visit", "outpatient", "就诊", "Visit", "每次一行", "one row per visit", ("visit_id",),
...           (Column("visit_id", "string", "编号", "Id", nullable=False),
...            Column("age", "int16", "年龄", "Age", minimum=0, maximum=130)))
>>> query = compile_validation(t, Contract("1", (t,), ()))
>>> source = pa.table({"visit_id": ["V1", "V2", "V1", None], "age": ["40", "x", "41", "200"],
...                    "_source_row": [1, 2, 3, 4]})
>>> con = duckdb.connect()
>>> keys = con.execute(query.rows_sql).to_arrow_table()
>>> for row in keys.to_pylist():
...     print(row["_source_row"], [p["reason"] for p in row["_problems"]])
1 []
2 ['not a valid int16']
3 []
4 ['required value missing', 'out of range [0, 130]']
>>> [(row, problems[0]["reason"]) for row, problems in con.execute(query.duplicates_sql).fetchall()]
[(3, 'duplicate primary key, first seen at row 1')]
>>> con.execute(f"SELECT {query.stored_record} FROM keys WHERE _source_row = 3").fetchone()[0]
'{"visit_id":"V1","age":41}'
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from hospital_sdk.errors import ContractError
from hospital_sdk.ingest.identity import Tokeniser, token_sql
from hospital_sdk.model.contract import Column, Contract, RowRule, Table

PROBLEMS = "_problems"
"""Output column: list of ``STRUCT(field, reason, value)``, empty for a row that loads."""
RECORD = "_record"
"""Output column: the source row as JSON text (identifiers masked), only on rejected rows."""
KEY_HASH = "_key_hash"
"""Output column: 64-bit hash of the stored key, only on rows without problems."""
MASK = "***"

_DUCK_TYPES = {
    "string": "VARCHAR", "boolean": "BOOLEAN", "int8": "TINYINT", "int16": "SMALLINT",
    "int32": "INTEGER", "int64": "BIGINT", "float64": "DOUBLE", "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_INTEGER = {"int8", "int16", "int32", "int64"}
_PROBLEM_TYPE = "STRUCT(field VARCHAR, reason VARCHAR, value VARCHAR)"
_SQL_OP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "!=": "<>"}


def duckdb_type(dtype: str) -> str:
    """DuckDB type of a contract type string.

    >>> duckdb_type("int16"), duckdb_type("decimal(18, 2)")
    ('SMALLINT', 'DECIMAL(18,2)')
    """
    if dtype.startswith("decimal"):
        return "DECIMAL(" + re.sub(r"\s+", "", dtype[len("decimal("):-1]) + ")"
    return _DUCK_TYPES[dtype]


@dataclass(frozen=True)
class ValidationQuery:
    """The compiled validation of one table: a query per batch, then one per file for keys.

    Attributes
    ----------
    rows_sql
        ``SELECT`` over the source relation returning, per source row, ``_source_row``, the stored
        columns (typed; direct identifiers tokenised), :data:`PROBLEMS` (empty when the row is
        good), :data:`RECORD` (only on rows with problems) and :data:`KEY_HASH` (only on good
        rows).
    duplicates_sql
        ``SELECT`` over the key hashes of a whole file (``_source_row`` and :data:`KEY_HASH`
        from ``rows_sql``'s output), returning ``_source_row`` and :data:`PROBLEMS` of every
        good row whose key repeats an earlier good row of the file or a row loaded from another
        file (when compiled with ``existing``, bind ``$source_file``: the name the file is
        loaded under).
    stored_record
        SQL expression: a stored row (``rows_sql``'s output or the lake table) as JSON text,
        with direct identifiers masked -- the record of a row rejected as a duplicate.
    tokenised
        Whether ``rows_sql`` tokenises direct identifiers (and so needs the token parameters).
    """

    rows_sql: str
    duplicates_sql: str
    stored_record: str
    tokenised: bool

    def parameters(self, tokeniser: Tokeniser | None = None) -> dict[str, object]:
        """Values to bind when running :attr:`rows_sql`."""
        if not self.tokenised:
            return {}
        if tokeniser is None:
            raise ContractError("this table has direct identifiers: a Tokeniser is needed")
        return tokeniser.params()


def compile_validation(table: Table, contract: Contract, *, source: str = "source",
                       keys: str = "keys", rows: str | None = None,
                       existing: str | None = None,
                       text_columns: Collection[str] | None = None) -> ValidationQuery:
    """Compile the validation of ``table`` into DuckDB queries.

    Parameters
    ----------
    table
        The contract table the rows belong to.
    contract
        The contract, for code sets.
    source
        Relation holding a batch of source rows: every column of ``table`` plus ``_source_row``.
    keys
        Relation with ``_source_row`` and :data:`KEY_HASH` of the rows of the whole file.
    rows
        Relation with ``_source_row`` and the stored key columns of the good rows of the whole
        file, read for the few rows whose key hash repeats; default ``keys``.
    existing
        Table of rows loaded from other files (``lake.raw.<table>`` with ``_source_file`` and
        ``_source_row``); a key found there under another name than the ``$source_file``
        parameter is a duplicate. ``None`` skips that check.
    text_columns
        Source columns holding text (CSV: all; Parquet: its string columns). Text is converted
        with ``TRY_CAST`` and blank text counts as missing. ``None`` means all columns.
    """
    cols = table.columns
    text = set(table.column_names if text_columns is None else text_columns)
    norm = ", ".join(f"{_blank_to_null(_q(c.name))} AS {_s(c)}" if c.name in text
                     else f"{_q(c.name)} AS {_s(c)}" for c in cols)
    typed = ", ".join(f"{_convert(c, c.name in text)} AS {_v(c)}" for c in cols)
    checks = [chk for c in cols for chk in _column_checks(c, contract, c.name in text)]
    checks += [_rule_check(r, table) for r in table.rules]
    bad = " OR ".join(cond for cond, _ in checks) or "false"
    listed = ", ".join(f"CASE WHEN {cond} THEN {problem} END" for cond, problem in checks)
    stored = ", ".join(f"{_stored_expr(c)} AS {_q(c.stored_name)}" for c in cols)
    source_record = _json({c.name: (_masked(_s(c)) if c.sensitivity == "direct_identifier"
                                    else _s(c)) for c in cols})
    key = ", ".join(_q(table.column(k).stored_name) for k in table.primary_key)
    rows_sql = f"""
WITH n AS (SELECT _source_row, {norm} FROM {source}),
t AS (SELECT *, {typed} FROM n),
c AS (SELECT *, ({bad}) AS _bad FROM t),
s AS (SELECT *, {stored} FROM c)
SELECT _source_row, {', '.join(_q(c.stored_name) for c in cols)},
  CASE WHEN _bad THEN list_filter([{listed}], lambda x: x IS NOT NULL)
       ELSE []::{_PROBLEM_TYPE}[] END AS {PROBLEMS},
  CASE WHEN _bad THEN {source_record} END AS {RECORD},
  CASE WHEN NOT _bad THEN hash({key}) END AS {KEY_HASH}
FROM s"""
    stored_record = _json({c.name: (_masked(_q(c.stored_name))
                                    if c.sensitivity == "direct_identifier"
                                    else _q(c.stored_name)) for c in cols})
    return ValidationQuery(rows_sql, _duplicates_sql(table, keys, rows or keys, existing),
                           stored_record,
                           any(c.sensitivity == "direct_identifier" for c in cols))


def _duplicates_sql(table: Table, keys_relation: str, rows_relation: str,
                    existing: str | None) -> str:
    """Good rows whose key repeats an earlier good row of the file or a row of another file.

    Keys are compared through their 64-bit hash first (one integer column to group and join on),
    then exactly, on the few rows whose hash repeats or is found in other files.
    """
    pk = [table.column(k) for k in table.primary_key]
    key = [_q(c.stored_name) for c in pk]
    keys = ", ".join(key)
    key_hash = "hash(" + ", ".join(f"CAST({k} AS {_stored_type(c)})"
                                   for c, k in zip(pk, key)) + ")"
    if existing is None:
        other, in_other, seen = "", "", ""
    else:
        other = f"""
other AS (SELECT {keys}, _source_file, _source_row, {key_hash} AS {KEY_HASH} FROM {existing}
          WHERE _source_file <> $source_file AND {key_hash} IN (SELECT {KEY_HASH} FROM ok)),"""
        in_other = f" UNION ALL SELECT {KEY_HASH} FROM other"
        seen = f"""
  UNION ALL
  SELECT {', '.join('h.' + k for k in key)}, NULL, arg_min(o._source_file, o._source_row)
  FROM hit h JOIN other o ON h.{KEY_HASH} = o.{KEY_HASH}
    AND {' AND '.join(f"h.{k} = o.{k}" for k in key)}
  GROUP BY ALL"""
    key_text = "concat_ws('|', " + ", ".join(
        f"CAST({_masked(k) if c.sensitivity == 'direct_identifier' else k} AS VARCHAR)"
        for c, k in zip(pk, key)) + ")"
    reason = ("CASE WHEN _seen_file IS NOT NULL "
              "THEN 'duplicate primary key, already loaded from ' || _seen_file "
              "ELSE 'duplicate primary key, first seen at row ' || _first END")
    return f"""
WITH ok AS (SELECT {KEY_HASH}, _source_row FROM {keys_relation} WHERE {KEY_HASH} IS NOT NULL),
repeated AS (SELECT {KEY_HASH} FROM ok GROUP BY ALL HAVING count(*) > 1),{other}
candidate AS (SELECT _source_row FROM ok
              WHERE {KEY_HASH} IN (SELECT {KEY_HASH} FROM repeated{in_other})),
hit AS (SELECT _source_row, {keys}, {key_hash} AS {KEY_HASH} FROM {rows_relation}
        WHERE _source_row IN (SELECT _source_row FROM candidate)),
dup AS (
  SELECT {keys}, min(_source_row) AS _first, NULL::VARCHAR AS _seen_file
  FROM hit GROUP BY ALL HAVING count(*) > 1{seen}
),
per_key AS (SELECT {keys}, min(_first) AS _first, min(_seen_file) AS _seen_file
            FROM dup GROUP BY ALL)
SELECT _source_row,
  [{{'field': {_lit(",".join(table.primary_key))}, 'reason': {reason},
     'value': {key_text}}}]::{_PROBLEM_TYPE}[] AS {PROBLEMS}
FROM hit JOIN per_key USING ({keys})
WHERE _seen_file IS NOT NULL OR _source_row > _first"""


def _stored_type(c: Column) -> str:
    return "VARCHAR" if c.sensitivity == "direct_identifier" else duckdb_type(c.dtype)


def _blank_to_null(expr: str) -> str:
    """NULL for empty or all-space text (``ascii`` first: most values skip the ``trim``)."""
    return f"CASE WHEN {expr} = '' OR (ascii({expr}) = 32 AND trim({expr}) = '') " \
           f"THEN NULL ELSE {expr} END"


def _masked(expr: str) -> str:
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE '{MASK}' END"


def _json(fields: dict[str, str]) -> str:
    return "to_json({" + ", ".join(f"{_lit(k)}: {v}" for k, v in fields.items()) + "})::VARCHAR"


def _convert(c: Column, is_text: bool) -> str:
    """Typed value: the source value converted to the column type, NULL when it does not convert."""
    s = _s(c)
    target = duckdb_type(c.dtype)
    if c.dtype == "string":
        text = s if is_text else f"CAST({s} AS VARCHAR)"
        # identifiers are checked in the form that is tokenised (11010119850512432x == ...X)
        return f"upper(trim({text}))" if c.sensitivity == "direct_identifier" else text
    if c.dtype in _INTEGER:
        # TRY_CAST rounds '1.5' to 2: accept only whole numbers ('12', '12.0', '1e3').
        as_double = f"TRY_CAST({s} AS DOUBLE)"
        return f"CASE WHEN {as_double} = trunc({as_double}) THEN TRY_CAST({s} AS {target}) END"
    if c.dtype == "float64":
        as_double = f"TRY_CAST({s} AS DOUBLE)"
        return f"CASE WHEN isfinite({as_double}) THEN {as_double} END"
    return f"TRY_CAST({s} AS {target})"


def _column_checks(c: Column, contract: Contract, is_text: bool) -> list[tuple[str, str]]:
    """``(condition, problem struct)`` pairs for one column; conditions are never NULL."""
    s, v = _s(c), _v(c)
    field = _lit(c.name)
    shown = _shown(c)
    out: list[tuple[str, str]] = []

    def problem(reason: str, value: str = shown) -> str:
        return f"{{'field': {field}, 'reason': {reason}, 'value': {value}}}"

    if c.dtype != "string":
        out.append((f"({s} IS NOT NULL AND {v} IS NULL)",
                    problem(_lit(f"not a valid {c.dtype}"))))
    if not c.nullable:
        out.append((f"({s} IS NULL)", problem(_lit("required value missing"), "NULL::VARCHAR")))
    text_v = v if c.dtype == "string" else f"CAST({v} AS VARCHAR)"
    if c.codes is not None:
        code_set = contract.code_set(c.codes)
        allowed = ", ".join(_lit(code) for code in code_set.values)
        out.append((f"({v} IS NOT NULL AND {text_v} NOT IN ({allowed}))",
                    problem(f"'code ''' || {shown} || ''' not in {code_set.id}'")))
    if c.pattern is not None:
        out.append((f"({v} IS NOT NULL AND NOT regexp_full_match({text_v}, {_lit(c.pattern)}))",
                    problem(_lit(f"does not match {c.pattern}"))))
    if c.minimum is not None or c.maximum is not None:
        bounds = [f"{v} < {_num(c.minimum)}"] if c.minimum is not None else []
        bounds += [f"{v} > {_num(c.maximum)}"] if c.maximum is not None else []
        out.append((f"({v} IS NOT NULL AND ({' OR '.join(bounds)}))",
                    problem(_lit(_range_reason(c.minimum, c.maximum)))))
    return out


def _rule_check(rule: RowRule, table: Table) -> tuple[str, str]:
    left, right = table.column(rule.left), table.column(rule.right)
    cond = (f"({_v(left)} IS NOT NULL AND {_v(right)} IS NOT NULL AND "
            f"NOT ({_v(left)} {_SQL_OP[rule.op]} {_v(right)}))")
    value = (f"{_lit(left.name + '=')} || {_shown(left)} || "
             f"{_lit('; ' + right.name + '=')} || {_shown(right)}")
    reason = _lit(f"violates rule {rule.name}: {rule.en}")
    return cond, f"{{'field': {_lit(left.name)}, 'reason': {reason}, 'value': {value}}}"


def _range_reason(lo: float | None, hi: float | None) -> str:
    """>>> _range_reason(0, 130), _range_reason(1, None)
    ('out of range [0, 130]', 'out of range (minimum 1)')
    """
    if lo is not None and hi is not None:
        return f"out of range [{_num(lo)}, {_num(hi)}]"
    return f"out of range (minimum {_num(lo)})" if lo is not None else \
        f"out of range (maximum {_num(hi)})"


def _stored_expr(c: Column) -> str:
    if c.sensitivity == "direct_identifier":
        return token_sql(_v(c))
    return _v(c)


def _shown(c: Column) -> str:
    """The source value as text for messages: masked for direct identifiers."""
    if c.sensitivity == "direct_identifier":
        return f"CASE WHEN {_s(c)} IS NULL THEN NULL ELSE '{MASK}' END"
    return f"CAST({_s(c)} AS VARCHAR)"


def _num(x: float | None) -> str:
    assert x is not None
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _s(c: Column) -> str:
    return _q(f"_s_{c.name}")


def _v(c: Column) -> str:
    return _q(f"_v_{c.name}")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
