"""Check types: each one a function building ONE set-wise Ibis aggregate per declaration.

A check type is declared once here; :mod:`hospital_sdk.quality.declarations` applies it to tables
and fields. Every builder returns an Ibis table with two integer columns:

``violating``
    rows that break the rule;
``applicable``
    rows the rule applies to (e.g. rows with a non-null value for a code-set check).

It has one row, or, when the context asks for results per month (``by_month``) and the checked
table has a period column, one row per month present, keyed by :data:`PARTITION` (the month as
``year * 12 + month - 1``; :func:`month_label` writes it ``YYYY-MM``). The month always comes
from the checked (subject) table's rows, also when a builder joins a parent or child table.

Builders never loop over rows in Python, never execute anything, and read any table or column
through :class:`CheckContext`, which raises :class:`CheckNotApplicable` (with the reason) when the
table or column is missing.

Examples
--------
>>> sorted(CHECK_TYPES)[:4]
['catalog_membership', 'exactly_one_child', 'in_code_set', 'in_range']
>>> CHECK_TYPES["row_rule"].required
('op',)
>>> month_label(2024 * 12 + 0), month_label(2023 * 12 + 11)
('2024-01', '2023-12')
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir

from hospital_sdk.errors import HospitalSDKError

if TYPE_CHECKING:
    from hospital_sdk.model.contract import Contract
    from hospital_sdk.quality.declarations import CheckDeclaration

Arity = Literal["none", "one", "many"]
Builder = Callable[["CheckContext", "CheckDeclaration"], ir.Table]
Period = tuple[date | datetime, date | datetime]

PARTITION = "_partition"
"""Column holding a subject row's month (``year * 12 + month - 1``) when results go by month."""


class CheckNotApplicable(HospitalSDKError):
    """A check cannot apply here (table or column missing); the message is the reason."""


@dataclass(frozen=True)
class CheckType:
    """One kind of check: its builder, how many fields it takes, and its parameters.

    Parameters
    ----------
    name
        Identifier used by ``check_type`` in declarations.
    build
        ``(context, declaration) -> one-row ibis table (violating, applicable)``.
    fields
        ``"one"`` (``field``), ``"many"`` (``fields``, at least one) or ``"none"``.
    required, optional
        Names of the parameters the type needs and accepts.
    """

    name: str
    build: Builder
    fields: Arity
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def params(self) -> tuple[str, ...]:
        """Every accepted parameter name."""
        return (*self.required, *self.optional)


CHECK_TYPES: dict[str, CheckType] = {}


def check_type(name: str, *, fields: Arity, required: Sequence[str] = (),
               optional: Sequence[str] = ()) -> Callable[[Builder], Builder]:
    """Register a builder as check type ``name`` (used as a decorator)."""

    def register(build: Builder) -> Builder:
        CHECK_TYPES[name] = CheckType(name, build, fields, tuple(required), tuple(optional))
        return build

    return register


@dataclass
class CheckContext:
    """Where builders get their tables: period filtering, month keys and missing-table reasons.

    Parameters
    ----------
    fetch
        ``name -> ibis table``; raises :class:`CheckNotApplicable` when the table is absent.
    period
        ``(start, end)``: the *checked* table (the declaration's ``table``) keeps only rows whose
        period column falls in ``[start, end)``. Tables it is compared with (catalogs, parents,
        children) are read whole, so a procedure in January still finds its stay discharged in
        February.
    period_columns
        Table name -> period column (from the contract, possibly overridden).
    contract
        Resolves ``code_set`` parameters.
    as_of
        The reference date of ``not_in_future``.
    by_month
        Give the checked table a :data:`PARTITION` column (its rows' month) when it has a period
        column, so builders aggregate per month.
    """

    fetch: Callable[[str], ir.Table]
    period: Period | None = None
    period_columns: Mapping[str, str] = field(default_factory=dict)
    contract: Contract | None = None
    as_of: date | datetime = field(default_factory=date.today)
    by_month: bool = False

    def table(self, name: str, *columns: str, subject: bool = False,
              lookback_months: int = 0) -> ir.Table:
        """Table ``name`` holding ``columns``.

        As the ``subject`` (the checked table) it is period-filtered -- from ``lookback_months``
        whole months before the period's first month, when asked -- and, with ``by_month``,
        gains the :data:`PARTITION` column.
        """
        t = self.fetch(name)
        missing = [c for c in columns if c not in t.columns]
        if missing:
            raise CheckNotApplicable(f"table {name!r} has no column {', '.join(map(repr, missing))}")
        period_col = self.period_columns.get(name)
        if not subject or period_col is None or (self.period is None and not self.by_month):
            return t
        if period_col not in t.columns:
            raise CheckNotApplicable(f"table {name!r} has no period column {period_col!r}")
        if self.period is not None:
            col = t[period_col]
            first, end = self.period
            if lookback_months:
                first = months_before(first, lookback_months)
            start, stop = (_literal_like(col, v) for v in (first, end))
            t = t.filter(col >= start, col < stop)
        if self.by_month:
            t = t.mutate(**{PARTITION: month_index(t[period_col], f"{name}.{period_col}")})
        return t

    def month_window(self) -> tuple[int, int] | None:
        """First and last month (as :func:`month_index` numbers) the period touches, if any.

        >>> CheckContext({}.__getitem__, period=(date(2024, 1, 1), date(2024, 3, 1))).month_window()
        (24288, 24289)
        """
        if self.period is None:
            return None
        start, end = self.period
        last = end.year * 12 + end.month - 1
        at_month_start = end.day == 1 and (not isinstance(end, datetime) or end.time() == time())
        return start.year * 12 + start.month - 1, last - 1 if at_month_start else last


def month_index(col: ir.Value, name: str = "period column") -> ir.IntegerValue:
    """The month of a date or timestamp column as one integer: ``year * 12 + month - 1``.

    Raises
    ------
    TypeError
        When ``col`` is neither a date nor a timestamp (``name`` says which column).
    """
    if not (col.type().is_date() or col.type().is_timestamp()):
        raise TypeError(f"{name} is {col.type()}, not a date or timestamp")
    return col.year().cast("int64") * 12 + col.month().cast("int64") - 1


def month_label(index: int) -> str:
    """``YYYY-MM`` of a :func:`month_index` number."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_before(value: date | datetime, months: int) -> date | datetime:
    """The first day (midnight) of the month ``months`` before ``value``'s month.

    >>> months_before(date(2024, 1, 15), 1), months_before(datetime(2024, 3, 2, 8), 2)
    (datetime.date(2023, 12, 1), datetime.datetime(2024, 1, 1, 0, 0))
    """
    index = value.year * 12 + value.month - 1 - months
    first = date(index // 12, index % 12 + 1, 1)
    return datetime.combine(first, time(), value.tzinfo) if isinstance(value, datetime) else first


def _literal_like(col: ir.Column, value: date | datetime) -> ir.Scalar:
    """``value`` as a literal of ``col``'s type (dates become midnight for timestamps)."""
    if col.type().is_timestamp() and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    elif col.type().is_date() and isinstance(value, datetime):
        value = value.date()
    return ibis.literal(value)


def _count_if(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return cond.fill_null(False).ifelse(1, 0).sum()


def _aggregate(t: ir.Table, **metrics: ir.Scalar) -> ir.Table:
    """``metrics`` over ``t``: one row, or one per month when ``t`` carries :data:`PARTITION`."""
    if PARTITION in t.columns:
        return t.group_by(PARTITION).aggregate(**metrics)
    return t.aggregate(**metrics)


def _counts(t: ir.Table, violating: ir.BooleanValue,
            applicable: ir.BooleanValue | None = None) -> ir.Table:
    """The ``(violating, applicable)`` result; violating counts only applicable rows.

    ``applicable=None`` means every row applies. One row, or one per month of the subject rows
    when ``t`` carries :data:`PARTITION` (it survives joins, as builders join the subject on the
    left).
    """
    if applicable is None:
        return _aggregate(t, violating=_count_if(violating), applicable=t.count())
    return _aggregate(t, violating=_count_if(applicable & violating),
                      applicable=_count_if(applicable))


def _all_not_null(t: ir.Table, names: Sequence[str]) -> ir.BooleanValue:
    conds = [t[name].notnull() for name in names]
    cond = conds[0]
    for more in conds[1:]:
        cond = cond & more
    return cond


@check_type("not_null", fields="one")
def not_null(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Completeness: every row has a value."""
    t = ctx.table(decl.table, decl.field, subject=True)
    return _counts(t, t[decl.field].isnull())


@check_type("in_code_set", fields="one", optional=("codes", "code_set"))
def in_code_set(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Conformance: a non-null value is one of ``codes`` (or of the contract's ``code_set``)."""
    codes = decl.params.get("codes")
    if codes is None:
        if ctx.contract is None or "code_set" not in decl.params:
            raise CheckNotApplicable("give the codes, or a code_set and a contract")
        codes = ctx.contract.code_set(decl.params["code_set"]).values
    t = ctx.table(decl.table, decl.field, subject=True)
    col = t[decl.field]
    return _counts(t, ~col.cast("string").isin([str(c) for c in codes]), col.notnull())


@check_type("matches_pattern", fields="one", required=("pattern",))
def matches_pattern(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Conformance: a non-null value matches the regular expression ``pattern`` in full."""
    t = ctx.table(decl.table, decl.field, subject=True)
    col = t[decl.field].cast("string")
    full = f"^(?:{decl.params['pattern']})$"
    return _counts(t, ~col.re_search(full), col.notnull())


@check_type("in_range", fields="one", optional=("minimum", "maximum"))
def in_range(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Plausibility: a non-null value lies within ``[minimum, maximum]`` (either may be absent)."""
    t = ctx.table(decl.table, decl.field, subject=True)
    col = t[decl.field]
    lo, hi = decl.params.get("minimum"), decl.params.get("maximum")
    below = col < lo if lo is not None else col.isnull()
    above = col > hi if hi is not None else col.isnull()
    return _counts(t, below | above, col.notnull())


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "=": operator.eq, "!=": operator.ne,
}


@check_type("row_rule", fields="many", required=("op",))
def row_rule(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Plausibility: ``fields[0] <op> fields[1]`` holds on rows where both sides have a value."""
    if len(decl.fields) != 2 or decl.params["op"] not in _OPS:
        raise ValueError(f"row_rule needs two fields and an op in {sorted(_OPS)}")
    left, right = decl.fields
    t = ctx.table(decl.table, left, right, subject=True)
    holds = _OPS[decl.params["op"]](t[left], t[right])
    return _counts(t, ~holds, _all_not_null(t, decl.fields))


@check_type("unique_key", fields="many")
def unique_key(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Conformance: ``fields`` identify a row. Violating = rows beyond the first of each key.

    By month, a key's first row is in its earliest month: a key seen in January and again in
    February counts as one violating row in February.
    """
    t = ctx.table(decl.table, *decl.fields, subject=True)
    keys = list(decl.fields)
    if PARTITION not in t.columns:
        groups = t.group_by(keys).aggregate(n=t.count())
        return groups.aggregate(violating=(groups.n - 1).sum(), applicable=groups.n.sum())
    groups = t.group_by([*keys, PARTITION]).aggregate(_n=t.count())
    first = groups[PARTITION].min().over(group_by=[groups[k] for k in keys])
    has_first = groups[PARTITION].identical_to(first)
    groups = groups.mutate(_extra=has_first.ifelse(groups._n - 1, groups._n))
    return _aggregate(groups, violating=groups._extra.sum(), applicable=groups._n.sum())


@check_type("catalog_membership", fields="one", required=("catalog",))
def catalog_membership(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Conformance: a non-null value exists in ``catalog`` (``"table.column"``)."""
    cat_table, cat_col = str(decl.params["catalog"]).split(".")
    t = ctx.table(decl.table, decl.field, subject=True)
    cat = ctx.table(cat_table, cat_col)
    known = cat.filter(cat[cat_col].notnull())[cat_col]
    return _counts(t, ~t[decl.field].isin(known), t[decl.field].notnull())


@check_type("referential_integrity", fields="many", required=("parent",),
            optional=("parent_fields",))
def referential_integrity(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Conformance: the (composite) key ``fields`` exists in ``parent`` (``parent_fields``).

    Rows with any null key part are not applicable (completeness checks see those).
    """
    parent_fields = tuple(decl.params.get("parent_fields") or decl.fields)
    if len(parent_fields) != len(decl.fields):
        raise ValueError("fields and parent_fields differ in length")
    t = ctx.table(decl.table, *decl.fields, subject=True)
    parent = ctx.table(decl.params["parent"], *parent_fields)
    keys = parent.select(**{f"_k{i}": parent[c] for i, c in enumerate(parent_fields)})
    keys = keys.distinct().mutate(_found=ibis.literal(True))
    joined = t.left_join(keys, [t[c] == keys[f"_k{i}"] for i, c in enumerate(decl.fields)])
    return _counts(joined, joined._found.isnull(), _all_not_null(joined, decl.fields))


@check_type("exactly_one_child", fields="many", required=("child",),
            optional=("child_fields", "where"))
def exactly_one_child(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Completeness: each parent row (key ``fields``) has exactly one ``child`` row.

    ``where`` (column -> value, equality only) selects the child rows that count, e.g. the
    principal diagnosis ``{diagnosis_kind: discharge, seq: 1}``. Children are counted per key
    before the join, so several children cannot multiply parent rows.
    """
    child_fields = tuple(decl.params.get("child_fields") or decl.fields)
    where: Mapping[str, Any] = decl.params.get("where") or {}
    t = ctx.table(decl.table, *decl.fields, subject=True)
    child = ctx.table(decl.params["child"], *child_fields, *where)
    for col, value in where.items():
        child = child.filter(child[col] == value)
    per_key = child.group_by([child[c].name(f"_k{i}") for i, c in enumerate(child_fields)])
    counts = per_key.aggregate(_n=child.count())
    joined = t.left_join(counts, [t[c] == counts[f"_k{i}"] for i, c in enumerate(decl.fields)])
    return _counts(joined, joined._n.fill_null(0) != 1)


@check_type("within_parent_interval", fields="one", required=("parent", "keys", "start", "end"))
def within_parent_interval(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Plausibility: ``field`` lies in the parent's ``[start, end]`` (joined on ``keys``).

    Applies to rows with a value and a parent; orphans are referential integrity's concern.
    Parents are reduced to one interval per key first (earliest start, latest end).
    """
    keys = tuple(decl.params["keys"])
    start, end = decl.params["start"], decl.params["end"]
    t = ctx.table(decl.table, decl.field, *keys, subject=True)
    parent = ctx.table(decl.params["parent"], *keys, start, end)
    spans = parent.group_by([parent[k].name(f"_k{i}") for i, k in enumerate(keys)]).aggregate(
        _start=parent[start].min(), _end=parent[end].max())
    joined = t.left_join(spans, [t[k] == spans[f"_k{i}"] for i, k in enumerate(keys)])
    value = joined[decl.field]
    outside = (value < joined._start) | (value > joined._end)
    applicable = value.notnull() & joined._start.notnull() & joined._end.notnull()
    return _counts(joined, outside, applicable)


@check_type("not_in_future", fields="one")
def not_in_future(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Timeliness/plausibility: a non-null date/time is not after the run's ``as_of`` date.

    With a date ``as_of`` any time on that day is still on time; with a datetime, the instant.
    """
    t = ctx.table(decl.table, decl.field, subject=True)
    col = t[decl.field]
    if isinstance(ctx.as_of, datetime) and col.type().is_timestamp():
        late = col > ibis.literal(ctx.as_of)
    else:
        as_of = ctx.as_of.date() if isinstance(ctx.as_of, datetime) else ctx.as_of
        late = (col.date() if col.type().is_timestamp() else col) > ibis.literal(as_of)
    return _counts(t, late, col.notnull())


@check_type("timely_arrival", fields="one", optional=("min_ratio",))
def timely_arrival(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table:
    """Plausibility (temporal): each institution's rows keep arriving month after month.

    ``field`` is the institution column. Per institution and month, the rows of the month are
    compared with the previous month's: an institution-month is *applicable* when the previous
    month had rows, and *violating* when it has fewer than ``min_ratio`` (default 0.5) times as
    many -- zero rows included, so an institution that stops sending is seen. Counts are of
    institution-months, not rows. Timeliness is no category of its own in Kahn et al. (2016):
    it is *temporal plausibility*, under plausibility.

    The table is read from the month before the period's first month (periods should start on
    the first of a month); without a period, months up to the latest month in the data are
    judged. Needs the table's period column; by month, the judged month is the partition.
    """
    ratio = decl.params.get("min_ratio", 0.5)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        raise ValueError(f"min_ratio must be a number in (0, 1], got {ratio!r}")
    period_col = ctx.period_columns.get(decl.table)
    if period_col is None:
        raise CheckNotApplicable(f"table {decl.table!r} has no period column")
    inst = decl.field
    t = ctx.table(decl.table, inst, period_col, subject=True, lookback_months=1)
    t = t.filter(t[inst].notnull(), t[period_col].notnull())
    month = month_index(t[period_col], f"{decl.table}.{period_col}")
    per = t.group_by([t[inst].name("_inst"), month.name("_month")]).aggregate(_rows=t.count())
    due = per.select(_inst=per._inst, _due=per._month + 1, _previous=per._rows)
    window = ctx.month_window()
    if window is None:
        due = due.filter(due._due <= per._month.max())
    else:
        due = due.filter(due._due >= window[0], due._due <= window[1])
    now = per.select(_now_inst=per._inst, _now_month=per._month, _now=per._rows)
    joined = due.left_join(now, [due._inst == now._now_inst, due._due == now._now_month])
    if ctx.by_month:
        joined = joined.mutate(**{PARTITION: joined._due})
    short = joined._now.fill_null(0) < joined._previous * ratio
    return _counts(joined, short)
