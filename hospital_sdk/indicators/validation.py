"""Meaning checks of a parsed catalog: each rule a small function adding problems.

:func:`~hospital_sdk.indicators.catalog.load_catalog` builds the typed objects first, then runs
these over them, collecting every problem before anything is raised:

* a measure: a count has no expression and anything else has one; additive exactly when the
  aggregation is (count, sum); its time field exists and is a date or time; its expression fits
  the fact's columns;
* an indicator version: every condition (``where``, exclusions) fits its measure's fact and is a
  boolean condition, and value sets it names exist; refs resolve (near spelling suggested); a
  population is one fact, counts the unit its measure counts, and a proportion counts the same
  measure above and below; a rate is per 100, 1,000, 10,000 or 100,000; years are ordered;
  dimensions exist;
* the catalog: no indicator refers to itself through its parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hospital_sdk.errors import ExpressionError
from hospital_sdk.indicators.expressions import Expression
from hospital_sdk.indicators.facts import DIMENSIONS, FACTS
from hospital_sdk.indicators.periods import TIME_GRAINS
from hospital_sdk.indicators.schema import Problem
from hospital_sdk.indicators.spec import Indicator, Measure, Term, split_ref
from hospital_sdk.indicators.value_sets import ValueSets
from hospital_sdk.model import suggest

if TYPE_CHECKING:
    from hospital_sdk.indicators.catalog import Catalog

__all__ = ["Site", "check_cycles", "check_indicator", "check_measure"]

Site = tuple[str, Expression, str]
"""Where a condition sits in a spec: its key, the expression, the measure whose fact it reads."""


def check_measure(m: Measure, value_sets: ValueSets, problems: list[Problem]) -> None:
    schema = FACTS[m.fact].schema()
    key = f"measures.{m.id}"
    if m.aggregation == "count" and m.expression is not None:
        problems.append(Problem(m.file, m.id, f"{key}.expression",
                                "a count counts rows; give no expression"))
    if m.aggregation != "count" and m.expression is None and not any(
            p.owner == m.id and p.key == f"{key}.expression" for p in problems):
        problems.append(Problem(m.file, m.id, f"{key}.expression",
                                f"missing (a {m.aggregation} aggregates an expression)"))
    additive = m.aggregation in ("count", "sum")
    if m.additive != additive:
        problems.append(Problem(m.file, m.id, f"{key}.additive",
                                f"a {m.aggregation} is {'' if additive else 'not '}additive"))
    if m.time_field not in schema:
        problems.append(Problem(m.file, m.id, f"{key}.time_field",
                                f"fact {m.fact!r} has no column {m.time_field!r}"
                                f"{suggest(m.time_field, schema.names)}"))
    elif not schema[m.time_field].is_temporal():
        problems.append(Problem(m.file, m.id, f"{key}.time_field",
                                f"{m.time_field!r} is not a date or time"))
    if m.expression is not None:
        _check_expr(m.expression, m.fact, value_sets, m.file, m.id, f"{key}.expression",
                    problems, boolean=False)


def _check_expr(expr: Expression, fact: str, value_sets: ValueSets, file: str, owner: str,
                key: str, problems: list[Problem], *, boolean: bool = True) -> None:
    for ref in sorted(expr.value_sets):
        if (why := value_sets.check_ref(ref)) is not None:
            problems.append(Problem(file, owner, key, f"expression {expr.text!r}: {why}"))
            return
    try:
        expr.check(FACTS[fact].schema(), value_sets.for_year(9999), boolean=boolean)
    except ExpressionError as exc:
        problems.append(Problem(file, owner, key, str(exc)))


def _ref_problem(catalog: Catalog, ref: str) -> str | None:
    name, version = split_ref(ref)
    if version is None and name in catalog.measures:
        return None
    if name not in catalog.indicators:
        known = [*catalog.measures, *catalog.indicators]
        return f"{ref!r} is neither a measure nor an indicator{suggest(name, known)}"
    if version is not None and version not in [v.version for v in catalog.indicators[name]]:
        return (f"indicator {name!r} has no version {version!r} "
                f"(it has {[v.version for v in catalog.indicators[name]]})")
    return None


def _check_term(term: Term, catalog: Catalog, ind: Indicator, key: str,
                problems: list[Problem]) -> str | None:
    if term.measure not in catalog.measures:
        problems.append(Problem(ind.file, ind.id, f"{key}.measure",
                                f"unknown measure {term.measure!r}"
                                f"{suggest(term.measure, catalog.measures)}"))
        return None
    return catalog.measures[term.measure].fact


def check_indicator(ind: Indicator, i: int, catalog: Catalog, problems: list[Problem],
                     sites: list[Site]) -> None:
    key = f"versions[{i}]"
    for where, expr, measure in sites:  # each condition against its measure's fact
        if measure in catalog.measures:
            _check_expr(expr, catalog.measures[measure].fact, catalog.value_sets, ind.file,
                        ind.id, where, problems)
    if ind.term is not None:
        _check_term(ind.term, catalog, ind, key, problems)
    if ind.population is not None:
        p, pkey = ind.population, f"{key}.population"
        den_fact = _check_term(p.denominator, catalog, ind, f"{pkey}.denominator", problems)
        num_fact = _check_term(Term(p.numerator.measure), catalog, ind, f"{pkey}.numerator",
                               problems)
        if den_fact and num_fact and den_fact != num_fact:
            problems.append(Problem(ind.file, ind.id, f"{pkey}.numerator.measure",
                                    f"measure {p.numerator.measure!r} is on {num_fact!r} but the "
                                    f"denominator's is on {den_fact!r}; a population is one "
                                    f"fact (use numerator/denominator refs across facts)"))
        if den_fact:
            unit = catalog.measures[p.denominator.measure].counting_unit
            if unit != p.counting_unit:
                problems.append(Problem(ind.file, ind.id, f"{pkey}.counting_unit",
                                        f"the population counts {p.counting_unit!r} but measure "
                                        f"{p.denominator.measure!r} counts {unit!r}"))
        if ind.kind == "proportion" and p.numerator.measure != p.denominator.measure:
            problems.append(Problem(ind.file, ind.id, f"{pkey}.numerator.measure",
                                    "a proportion counts the same measure in numerator and "
                                    "denominator (use kind ratio, rate or mean)"))
    for name in ("numerator", "denominator", "of"):
        ref = getattr(ind, name)
        if ref is not None and (why := _ref_problem(catalog, ref)) is not None:
            shown = {"numerator": "left", "denominator": "right"}.get(name, name) \
                if ind.kind in ("difference", "sum") else name
            problems.append(Problem(ind.file, ind.id, f"{key}.{shown}", why))
    if ind.kind == "rate" and ind.per not in (None, 100, 1000, 10000, 100000):
        problems.append(Problem(ind.file, ind.id, f"{key}.per",
                                f"a rate is per 100, 1000, 10000 or 100000, got {ind.per}"))
    if ind.valid_from and ind.valid_to and ind.valid_from > ind.valid_to:
        problems.append(Problem(ind.file, ind.id, f"{key}.valid_to",
                                f"{ind.valid_to} is before valid_from {ind.valid_from}"))
    known = [*DIMENSIONS, *TIME_GRAINS]
    for d in ind.dimensions or ():
        if d not in known:
            problems.append(Problem(ind.file, ind.id, f"{key}.dimensions",
                                    f"unknown dimension {d!r}{suggest(d, known)}"))


def check_cycles(catalog: Catalog, problems: list[Problem]) -> None:
    def parts(ind: Indicator) -> list[str]:
        return [r for r in (ind.numerator, ind.denominator, ind.of) if r is not None]
    for versions in catalog.indicators.values():
        for ind in versions:
            seen, stack = {ind.key}, [(ind, [ind.key])]
            while stack:
                cur, path = stack.pop()
                for ref in parts(cur):
                    if _ref_problem(catalog, ref) is not None or ref in catalog.measures:
                        continue
                    nxt = catalog.get(ref)
                    if nxt.key == ind.key:
                        problems.append(Problem(ind.file, ind.id, "versions",
                                                "refers to itself: " + " -> ".join(
                                                    [*path, nxt.key])))
                        stack.clear()
                        break
                    if nxt.key not in seen:
                        seen.add(nxt.key)
                        stack.append((nxt, [*path, nxt.key]))
