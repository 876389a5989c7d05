"""Local codes to standard codes, through the ``code_map`` table, as valid at each row's date.

Each institution's HIS has its own codes for drugs, charge items, diagnoses …; ``code_map`` holds
``(institution_id, code_system, local_code) → standard_code`` with a validity period
``valid_from ≤ date < valid_to`` (``valid_to`` empty = still valid). :func:`map_codes` adds the
standard code to every fact row, never dropping or duplicating one: unmapped rows get null.

No fan-out, by construction
---------------------------
The facts are first reduced to their distinct ``(institution_id, local code, date)`` keys; those
are matched to the map and aggregated back to one row per key (the declared grain) *before* the
single left join to the facts. A map row repeated, or two overlapping periods giving the same
standard code, therefore cannot inflate rows. When a key matches two *different* standard codes the
map is ambiguous and :class:`CodeMappingError` is raised, naming the institution, code, date and
candidate codes.

Examples
--------
>>> import datetime as dt, ibis
>>> facts = ibis.memtable({"institution_id": ["H1", "H1"], "drug_code": ["L01", "L99"],
...                        "ordered_at": [dt.date(2024, 3, 1), dt.date(2024, 3, 1)]})
>>> cmap = ibis.memtable({"institution_id": ["H1"], "code_system": ["drug"],
...                       "local_code": ["L01"], "local_name": ["aspirin"],
...                       "standard_code": ["XB01AC06"], "valid_from": [dt.date(2024, 1, 1)],
...                       "valid_to": [None]})
>>> out = map_codes(facts, cmap, column="drug_code", code_system="drug", at="ordered_at")
>>> out.order_by("drug_code").drug_code_std.to_pyarrow().to_pylist()
['XB01AC06', None]
"""

from __future__ import annotations

import ibis.expr.types as ir

from hospital_sdk.errors import CodeMappingError, ContractError
from hospital_sdk.model import CONTRACT, suggest

__all__ = ["CodeMappingError", "map_codes", "unmapped_codes"]

_MAP_COLUMNS = ("institution_id", "code_system", "local_code", "standard_code", "valid_from",
                "valid_to")
_SHOWN = 10  # ambiguous keys listed in an error message
_AT_KEY = "__code_map_date"


def _check(facts: ir.Table, code_map: ir.Table, column: str, code_system: str, at: str) -> None:
    systems = CONTRACT.code_set("code_system").values
    if code_system not in systems:
        raise ContractError(f"unknown code system {code_system!r}{suggest(code_system, systems)}; "
                            f"expected one of {list(systems)}")
    for name in ("institution_id", column, at):
        if name not in facts.columns:
            raise ContractError(f"facts have no column {name!r}{suggest(name, facts.columns)}")
    missing = [c for c in _MAP_COLUMNS if c not in code_map.columns]
    if missing:
        raise ContractError(f"code map lacks column(s) {missing}; expected the contract's code_map")


def _resolved(facts: ir.Table, code_map: ir.Table, column: str, code_system: str,
              at: str) -> ir.Table:
    """One row per distinct ``(institution_id, code, date)`` of the facts with its candidates."""
    keys = facts.select(_inst=facts.institution_id, _code=facts[column],
                        _at=facts[at].cast("date")).distinct()
    keys = keys.filter(keys._inst.notnull() & keys._code.notnull() & keys._at.notnull())
    m = code_map.filter(code_map.code_system == code_system)
    m = m.select("institution_id", "local_code", "standard_code",
                 valid_from=m.valid_from.cast("date"), valid_to=m.valid_to.cast("date"))
    matched = keys.join(m, [keys._inst == m.institution_id, keys._code == m.local_code,
                            m.valid_from <= keys._at,
                            m.valid_to.isnull() | (keys._at < m.valid_to)])
    return matched.group_by("_inst", "_code", "_at").aggregate(
        _std=matched.standard_code.min(), _n=matched.standard_code.nunique(),
        _candidates=matched.standard_code.collect(distinct=True))


def map_codes(facts: ir.Table, code_map: ir.Table, *, column: str, code_system: str, at: str,
              standard_column: str | None = None) -> ir.Table:
    """Add the standard code of ``column``, as valid at each row's ``at``, to ``facts``.

    Parameters
    ----------
    facts
        Any table with ``institution_id``, the local-code column and the date/timestamp ``at``.
    code_map
        The contract's ``code_map`` table (all code systems; filtered to ``code_system`` here).
    column
        Name of the local-code column of ``facts``.
    code_system
        Code system of ``column``, from the contract's ``code_system`` code set.
    at
        Date or timestamp column of ``facts``; a timestamp counts by its calendar date, and a row
        is mapped when ``valid_from <= date < valid_to`` (``valid_to`` null = open-ended).
    standard_column
        Name of the added column; ``<column>_std`` by default.

    Returns
    -------
    Table
        ``facts`` with its columns and rows unchanged (same count) plus the standard-code column,
        null where no map row is valid for the row (or the code, institution or date is null).

    Raises
    ------
    ContractError
        Unknown code system, a missing column, or ``standard_column`` already in ``facts``.
    CodeMappingError
        For some row, valid map rows give different standard codes (the message names them).

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> facts = ibis.memtable({"institution_id": ["H1"], "item": ["A"],
    ...                        "at": [dt.date(2024, 6, 30)]})
    >>> cmap = ibis.memtable({"institution_id": ["H1", "H1"], "code_system": ["drug"] * 2,
    ...     "local_code": ["A", "A"], "standard_code": ["S1", "S2"],
    ...     "valid_from": [dt.date(2024, 1, 1), dt.date(2024, 7, 1)],
    ...     "valid_to": [dt.date(2024, 7, 1), None]})
    >>> map_codes(facts, cmap, column="item", code_system="drug", at="at",
    ...           standard_column="std").std.execute().tolist()
    ['S1']
    """
    _check(facts, code_map, column, code_system, at)
    target = standard_column or f"{column}_std"
    if target in facts.columns:
        raise ContractError(f"facts already have a column {target!r}; pass another "
                            f"standard_column")
    resolved = _resolved(facts, code_map, column, code_system, at)
    _raise_if_ambiguous(resolved, column, code_system)
    # Join on column *names*: ``resolved`` derives from ``facts``, and an expression predicate
    # such as ``facts[at].cast("date") == resolved._at`` is dereferenced by Ibis to
    # ``resolved._at == resolved._at`` (always true: a silent fan-out).
    keyed = facts.mutate(**{_AT_KEY: facts[at].cast("date")})
    right = resolved.select(institution_id="_inst", **{column: "_code", _AT_KEY: "_at"},
                            _std="_std")
    joined = keyed.left_join(right, ["institution_id", column, _AT_KEY])
    return joined.select(*facts.columns, **{target: joined._std.cast("string")})


def _raise_if_ambiguous(resolved: ir.Table, column: str, code_system: str) -> None:
    bad = resolved.filter(resolved._n > 1)
    n_bad = bad.count().execute()
    if n_bad == 0:
        return
    rows = bad.order_by("_inst", "_code", "_at").limit(_SHOWN).to_pyarrow().to_pylist()
    listed = "; ".join(
        f"institution {r['_inst']} {column}={r['_code']!r} on {r['_at']}: "
        f"{sorted(r['_candidates'])}" for r in rows)
    raise CodeMappingError(
        f"code_map ({code_system}) is ambiguous for {n_bad} (institution, code, date) key(s) of "
        f"the facts — overlapping validity periods with different standard codes: {listed}"
        + (" …" if n_bad > _SHOWN else ""))


def unmapped_codes(facts: ir.Table, code_map: ir.Table, *, column: str, code_system: str,
                   at: str) -> ir.Table:
    """The distinct local codes of ``facts`` with no valid standard code, and their row counts.

    Rows whose local code is null are not listed (a missing code is a completeness problem, not a
    mapping one). Same parameters as :func:`map_codes`.

    Returns
    -------
    Table
        ``institution_id``, ``local_code``, ``row_count`` (rows of ``facts`` left unmapped),
        one row per unmapped ``(institution_id, local_code)``.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> facts = ibis.memtable({"institution_id": ["H1"] * 3, "item": ["A", "B", "B"],
    ...                        "at": [dt.date(2024, 6, 30)] * 3})
    >>> cmap = ibis.memtable({"institution_id": ["H1"], "code_system": ["drug"],
    ...     "local_code": ["A"], "standard_code": ["S1"], "valid_from": [dt.date(2024, 1, 1)],
    ...     "valid_to": [None]})
    >>> unmapped_codes(facts, cmap, column="item", code_system="drug", at="at").execute()
      institution_id local_code  row_count
    0             H1          B          2
    """
    mapped = map_codes(facts, code_map, column=column, code_system=code_system, at=at,
                       standard_column="_std_code")
    left = mapped.filter(mapped._std_code.isnull() & mapped[column].notnull())
    return (left.group_by(institution_id=left.institution_id, local_code=left[column])
            .aggregate(row_count=lambda t: t.count())
            .order_by("institution_id", "local_code"))
