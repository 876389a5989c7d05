"""Building blocks of the data contract: code sets, columns, row rules, tables, the contract.

Every definition is a frozen record validated when it is built, so a contract that imports is a
contract that is consistent: primary keys name real columns, code sets exist, references point at
real tables, and types are Ibis types.

Examples
--------
>>> from hospital_sdk.model.contract import Column, Table
>>> t = Table(
...     name="example", domain="master", zh="示例", en="Example", grain_zh="每行一个示例",
...     grain_en="one row per example", primary_key=("example_id",),
...     columns=(Column("example_id", "string", "编号", "Identifier", nullable=False),),
... )
>>> t.schema()
ibis.Schema {
  example_id  !string
}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.datatypes as dt

from hospital_sdk.errors import ContractError

Domain = Literal[
    "master", "catalog", "patient", "outpatient", "inpatient", "order", "charge",
    "diagnostic", "referral", "reported", "event",
]
DOMAINS: tuple[str, ...] = Domain.__args__  # type: ignore[attr-defined]

Sensitivity = Literal["none", "direct_identifier", "quasi_identifier", "record_identifier"]
"""How a column identifies a person.

``direct_identifier`` columns (identity-document numbers) are tokenised on load and never stored
in clear; ``quasi_identifier`` (birth date) and ``record_identifier`` (local record numbers) are
kept in the raw and cleaned layers but dropped or coarsened in exports.
"""

RuleOp = Literal["<", "<=", ">", ">=", "=", "!="]

# Types a contract column may take, as Ibis type strings. Kept small on purpose: every backend
# (DuckDB, Spark) maps these the same way.
_ALLOWED_TYPE = re.compile(
    r"^(string|boolean|int8|int16|int32|int64|float64|date|timestamp|decimal\(\d+,\s*\d+\))$"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return a ``" (did you mean 'x'?)"`` hint for a near-miss name, or ``""``.

    >>> suggest("inpatient_stays", ["inpatient_stay", "outpatient_visit"])
    " (did you mean 'inpatient_stay'?)"
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Code:
    """One allowed value of a code set, with its meaning in Chinese and English."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class CodeSet:
    """A closed list of allowed codes for a column (e.g. 离院方式 1/2/3/4/5/9).

    Parameters
    ----------
    id
        Identifier used by :attr:`Column.codes`.
    zh, en
        Name in Chinese and English.
    codes
        The allowed codes.
    source
        Where the coding comes from (standard, manual, or "hospital_sdk" when chosen here).
    """

    id: str
    zh: str
    en: str
    codes: tuple[Code, ...]
    source: str = "hospital_sdk"

    def __post_init__(self) -> None:
        if not _NAME.match(self.id):
            raise ContractError(f"code set id {self.id!r} must be snake_case")
        seen = [c.code for c in self.codes]
        dupes = {c for c in seen if seen.count(c) > 1}
        if dupes:
            raise ContractError(f"code set {self.id!r} repeats codes {sorted(dupes)}")
        if not self.codes:
            raise ContractError(f"code set {self.id!r} has no codes")

    @property
    def values(self) -> tuple[str, ...]:
        """The allowed code strings, in declaration order."""
        return tuple(c.code for c in self.codes)

    def label(self, code: str, lang: Literal["zh", "en"] = "en") -> str:
        """Meaning of ``code``.

        >>> CodeSet("yn", "是否", "Yes/no", (Code("1", "是", "yes"), Code("2", "否", "no"))).label("2")
        'no'
        """
        for c in self.codes:
            if c.code == code:
                return c.zh if lang == "zh" else c.en
        raise ContractError(f"code {code!r} is not in code set {self.id!r}{suggest(code, self.values)}")


def code_set(id: str, zh: str, en: str, rows: Iterable[tuple[str, str, str]],
             source: str = "hospital_sdk") -> CodeSet:
    """Build a :class:`CodeSet` from ``(code, zh, en)`` tuples."""
    return CodeSet(id, zh, en, tuple(Code(*r) for r in rows), source)


@dataclass(frozen=True)
class Column:
    """A typed column of a contract table.

    Parameters
    ----------
    name
        snake_case column name, as it appears in source files.
    dtype
        Ibis type string: ``string``, ``boolean``, ``int8/16/32/64``, ``float64``, ``date``,
        ``timestamp`` or ``decimal(p,s)``.
    zh, en
        Description in Chinese and English.
    nullable
        Whether a row may leave the value empty; required columns reject the row on load.
    codes
        Id of the :class:`CodeSet` the value must belong to.
    pattern
        Regular expression a string value must match in full (code formats such as ICD-10).
    references
        ``"table.column"`` this value points at (referential integrity is checked in the cleaned
        layer, since the referenced row may arrive in another file).
    unit
        Unit of measure for numeric columns (``yuan``, ``g``, ``day`` ...).
    minimum, maximum
        Inclusive plausible range for numeric columns; out-of-range values reject the row.
    sensitivity
        See :data:`Sensitivity`.
    """

    name: str
    dtype: str
    zh: str
    en: str
    nullable: bool = True
    codes: str | None = None
    pattern: str | None = None
    references: str | None = None
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    sensitivity: Sensitivity = "none"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ContractError(f"column name {self.name!r} must be snake_case")
        if not _ALLOWED_TYPE.match(self.dtype):
            raise ContractError(f"column {self.name!r}: type {self.dtype!r} is not a contract type")
        if self.pattern is not None:
            re.compile(self.pattern)
        if self.references is not None and self.references.count(".") != 1:
            raise ContractError(f"column {self.name!r}: references must be 'table.column'")

    @property
    def ibis_type(self) -> dt.DataType:
        """The Ibis data type, with nullability."""
        return dt.dtype(self.dtype).copy(nullable=self.nullable)

    @property
    def stored_name(self) -> str:
        """Name in stored tables: direct identifiers are stored only as ``<name>_token``."""
        return f"{self.name}_token" if self.sensitivity == "direct_identifier" else self.name


@dataclass(frozen=True)
class RowRule:
    """A consistency rule between two columns of one row, checked on load.

    The rule holds when either side is null (completeness is the job of ``nullable``).

    >>> RowRule("discharge_after_admission", "出院时间不早于入院时间",
    ...         "discharge is not before admission", "discharge_time", ">=", "admission_time").op
    '>='
    """

    name: str
    zh: str
    en: str
    left: str
    op: RuleOp
    right: str


@dataclass(frozen=True)
class Table:
    """A table of the contract: what one row means, its key, its typed columns.

    Parameters
    ----------
    name
        snake_case table name; also the stem of its source files.
    domain
        Business domain (see :data:`DOMAINS`).
    zh, en
        Description in Chinese and English.
    grain_zh, grain_en
        What one row stands for.
    primary_key
        Columns whose values identify a row; duplicates are rejected on load.
    columns
        The columns, in source-file order.
    period_column
        Date/timestamp column that places a row in a month (the partition of later layers).
    rules
        Row-level consistency rules.
    source
        ``True`` for tables hospitals deliver; ``False`` for tables the SDK derives.
    """

    name: str
    domain: Domain
    zh: str
    en: str
    grain_zh: str
    grain_en: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    period_column: str | None = None
    rules: tuple[RowRule, ...] = ()
    source: bool = True
    _by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ContractError(f"table name {self.name!r} must be snake_case")
        if self.domain not in DOMAINS:
            raise ContractError(f"table {self.name!r}: unknown domain {self.domain!r}")
        by_name: dict[str, Column] = {}
        for col in self.columns:
            if col.name in by_name:
                raise ContractError(f"table {self.name!r} repeats column {col.name!r}")
            by_name[col.name] = col
        object.__setattr__(self, "_by_name", by_name)
        if not self.primary_key:
            raise ContractError(f"table {self.name!r} has no primary key")
        for name in (*self.primary_key, *([self.period_column] if self.period_column else [])):
            self.column(name)
        for name in self.primary_key:
            if by_name[name].nullable:
                raise ContractError(f"table {self.name!r}: key column {name!r} must be non-null")
        for rule in self.rules:
            self.column(rule.left)
            self.column(rule.right)

    def column(self, name: str) -> Column:
        """The column called ``name``; a clear error with a suggestion otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ContractError(
                f"table {self.name!r} has no column {name!r}{suggest(name, self._by_name)}"
            ) from None

    @property
    def column_names(self) -> tuple[str, ...]:
        """Source column names in order."""
        return tuple(c.name for c in self.columns)

    def schema(self) -> ibis.Schema:
        """Ibis schema of the source file (identity numbers in clear, as delivered)."""
        return ibis.schema({c.name: c.ibis_type for c in self.columns})

    def stored_schema(self) -> ibis.Schema:
        """Ibis schema as stored in the lakehouse: direct identifiers replaced by tokens."""
        return ibis.schema(
            {c.stored_name: (dt.String(nullable=c.nullable) if c.sensitivity == "direct_identifier"
                             else c.ibis_type) for c in self.columns}
        )


@dataclass(frozen=True)
class Contract:
    """The whole data contract: tables and code sets, cross-checked.

    Parameters
    ----------
    version
        Contract version; bumped whenever a table or column changes meaning.
    tables
        Every table.
    code_sets
        Every code set referenced by a column.
    """

    version: str
    tables: tuple[Table, ...]
    code_sets: tuple[CodeSet, ...]

    def __post_init__(self) -> None:
        tables = {t.name: t for t in self.tables}
        if len(tables) != len(self.tables):
            raise ContractError("contract repeats a table name")
        sets = {s.id: s for s in self.code_sets}
        if len(sets) != len(self.code_sets):
            raise ContractError("contract repeats a code set id")
        problems = []
        for t in self.tables:
            for c in t.columns:
                if c.codes is not None and c.codes not in sets:
                    problems.append(f"{t.name}.{c.name}: unknown code set {c.codes!r}"
                                    f"{suggest(c.codes, sets)}")
                if c.references is not None:
                    ref_table, ref_col = c.references.split(".")
                    if ref_table not in tables:
                        problems.append(f"{t.name}.{c.name}: references unknown table "
                                        f"{ref_table!r}{suggest(ref_table, tables)}")
                    elif ref_col not in tables[ref_table].column_names:
                        problems.append(f"{t.name}.{c.name}: references unknown column "
                                        f"{c.references!r}")
        if problems:
            raise ContractError("invalid contract:\n  " + "\n  ".join(problems))

    def table(self, name: str) -> Table:
        """The table called ``name``; a clear error with a suggestion otherwise."""
        for t in self.tables:
            if t.name == name:
                return t
        raise ContractError(f"no table {name!r} in the contract"
                            f"{suggest(name, self.table_names)}")

    def code_set(self, id: str) -> CodeSet:
        """The code set called ``id``."""
        for s in self.code_sets:
            if s.id == id:
                return s
        raise ContractError(f"no code set {id!r} in the contract"
                            f"{suggest(id, [s.id for s in self.code_sets])}")

    @property
    def table_names(self) -> tuple[str, ...]:
        """Names of all tables, in contract order."""
        return tuple(t.name for t in self.tables)

    def source_tables(self) -> tuple[Table, ...]:
        """Tables that hospitals deliver as source files."""
        return tuple(t for t in self.tables if t.source)
