"""Loading a catalog of specs: parse → normalise → validate, every problem reported at once.

A catalog is a folder::

    measures/<fact>.yaml        atomic measures of one fact (原子指标)
    indicators/**/<id>.yaml     one indicator per file, all its versions inside (派生/复合/填报)
    value_sets/<id>.yaml        code lists with versions by year

:func:`load_catalog` reads every file, checks its shape (:mod:`~.schema`), builds the typed
objects (:mod:`~.spec`, expressions through the allow-list parser), then checks meaning:
references resolve (with the near spelling suggested), expressions fit the fact's columns and
are conditions where a condition is needed, populations count the unit their measure counts, a
proportion's numerator and denominator count the same thing, versions are ordered, there are no
cycles. Nothing is raised until every file has been read; then one :class:`SpecError` lists every
:class:`~.schema.Problem` with its file, id and key.

Versions inherit: each version restates only what changed from the one before (a version that
restates ``kind`` starts its rule afresh). Nothing is copied between files.

Examples
--------
>>> catalog = load_catalog()
>>> catalog["surgery_share"].kind, catalog["surgery_share"].unit
('proportion', '%')
>>> catalog.measure("discharges").fact
'stay_fact'
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hospital_sdk.config import Settings
from hospital_sdk.errors import ExpressionError, IndicatorError, SpecError
from hospital_sdk.indicators.expressions import Expression, parse_expression
from hospital_sdk.indicators.facts import FACTS
from hospital_sdk.indicators.reported import ReportedRule
from hospital_sdk.indicators.schema import (
    INDICATOR_FILE,
    MEASURE_FILE,
    VALUE_SET_FILE,
    VERSION,
    Problem,
    check_shape,
    read_spec_file,
)
from hospital_sdk.indicators.spec import (
    Exclusion,
    Indicator,
    Measure,
    Population,
    Source,
    Tags,
    Term,
    split_ref,
)
from hospital_sdk.indicators.validation import Site, check_cycles, check_indicator, check_measure
from hospital_sdk.indicators.value_sets import ValueSets, parse_value_set
from hospital_sdk.model import suggest

if TYPE_CHECKING:
    from hospital_sdk.indicators.selection import IndicatorSet

__all__ = ["Catalog", "load_catalog", "validate_catalog"]

_NOT_INHERITED = ("version", "valid_from", "valid_to", "changes", "notes")
_RULE = ("measure", "where", "exclusions", "population", "numerator", "denominator", "left",
         "right", "of", "over", "per", "dimensions", "reported")
_KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required one-of groups expressed as allowed keys, allowed keys)
    "derived": ({"measure"}, {"measure", "where", "exclusions", "dimensions"}),
    "proportion": (set(), {"population", "numerator", "denominator", "per", "dimensions"}),
    "rate": ({"per"}, {"population", "numerator", "denominator", "per", "dimensions"}),
    "ratio": (set(), {"population", "numerator", "denominator", "per", "dimensions"}),
    "mean": (set(), {"population", "numerator", "denominator", "dimensions"}),
    "standardized_ratio": ({"numerator", "denominator"},
                           {"numerator", "denominator", "per", "dimensions"}),
    "difference": ({"left", "right"}, {"left", "right", "dimensions"}),
    "sum": ({"left", "right"}, {"left", "right", "dimensions"}),
    "growth": ({"of", "over"}, {"of", "over", "dimensions"}),
    "reported": ({"reported"}, {"reported"}),
}


@dataclass(frozen=True)
class Catalog:
    """Measures, indicators (every version) and value sets, validated.

    Use :func:`load_catalog` to build one; index it with an indicator ref (``'id'`` for the
    latest version, ``'id@version'`` for a given one).
    """

    root: Path
    measures: Mapping[str, Measure]
    indicators: Mapping[str, tuple[Indicator, ...]]
    value_sets: ValueSets

    def __getitem__(self, ref: str) -> Indicator:
        return self.get(ref)

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and split_ref(ref)[0] in self.indicators

    def get(self, ref: str, *, year: int | None = None) -> Indicator:
        """The indicator version ``ref`` names.

        ``id@version`` is that version; a bare ``id`` is the version in force in ``year`` (the
        latest whose ``valid_from``/``valid_to`` include it), or the latest version when no
        ``year`` is given or none is in force then.

        Raises
        ------
        IndicatorError
            No such indicator or version (the message suggests the near spelling).

        Examples
        --------
        >>> catalog = load_catalog()
        >>> catalog.get("surgical_complication_rate", year=2020).version
        '1'
        >>> catalog.get("surgical_complication_rate").version
        '2'
        """
        name, version = split_ref(ref)
        if name not in self.indicators:
            raise IndicatorError(f"unknown indicator {name!r}{suggest(name, self.indicators)}")
        versions = self.indicators[name]
        if version is None:
            in_force = [v for v in versions if year is not None and v.valid_in(year)]
            return (in_force or versions)[-1]
        for v in versions:
            if v.version == version:
                return v
        raise IndicatorError(f"indicator {name!r} has no version {version!r} "
                             f"(it has {[v.version for v in versions]})")

    def in_force(self, year: int) -> tuple[Indicator, ...]:
        """Every indicator in the version in force in ``year`` (see :meth:`get`), by id."""
        return tuple(self.get(name, year=year) for name in sorted(self.indicators))

    def measure(self, name: str) -> Measure:
        """The measure ``name``."""
        if name not in self.measures:
            raise IndicatorError(f"unknown measure {name!r}{suggest(name, self.measures)}")
        return self.measures[name]

    def versions(self, name: str) -> tuple[Indicator, ...]:
        """Every version of indicator ``name``, oldest first."""
        return self.indicators[self.get(name).id]

    def latest(self) -> tuple[Indicator, ...]:
        """The latest version of every indicator, by id."""
        return tuple(v[-1] for _, v in sorted(self.indicators.items()))

    def select(self, *refs: str, domain: str | Sequence[str] | None = None,
               kind: str | Sequence[str] | None = None,
               national_monitoring: bool | None = None) -> IndicatorSet:
        """Indicators by ref, or (no refs) the latest version of each, filtered by tags.

        >>> chosen = load_catalog().select(domain="surgery", national_monitoring=True)
        >>> "surgery_share@1" in chosen.keys
        True
        """
        from hospital_sdk.indicators.selection import IndicatorSet

        chosen = tuple(self.get(r) for r in refs) if refs else self.latest()
        return IndicatorSet(self, chosen).filter(domain=domain, kind=kind,
                                                 national_monitoring=national_monitoring)

    def list(self) -> pd.DataFrame:
        """One row per indicator version: id, version, kind, names, domain, direction, unit, ▲,
        responsible department, source and confidence."""
        rows = [{"id": i.id, "version": i.version, "kind": i.kind, "name_zh": i.name_zh,
                 "name_en": i.name_en, "domain": i.tags.domain, "direction": i.tags.direction,
                 "unit": i.tags.unit, "national_monitoring": i.tags.national_monitoring,
                 "responsible_department": i.tags.responsible_department,
                 "source": i.tags.source.document, "clause": i.tags.source.clause,
                 "confidence": i.tags.source.confidence, "valid_from": i.valid_from,
                 "valid_to": i.valid_to}
                for versions in self.indicators.values() for i in versions]
        return pd.DataFrame(rows).sort_values(["id", "version"], ignore_index=True)

    def resolve(self, ref: str, *, year: int | None = None) -> Measure | Indicator:
        """A ref of a composite: a measure id or an indicator ref (bare ids in the version in
        force in ``year``)."""
        name, version = split_ref(ref)
        if version is None and name in self.measures:
            return self.measures[name]
        return self.get(ref, year=year)


# ---- parse ------------------------------------------------------------------------------------

def _expr(text: str, file: str, owner: str, key: str,
          problems: list[Problem]) -> Expression | None:
    try:
        return parse_expression(text)
    except ExpressionError as exc:
        problems.append(Problem(file, owner, key, str(exc)))
        return None


def _exprs(raw: Any, file: str, owner: str, key: str, problems: list[Problem],
           sites: list[Site], measure: str) -> tuple[Expression, ...]:
    items = [raw] if isinstance(raw, str) else list(raw or [])
    out = []
    for i, text in enumerate(items):
        here = key if isinstance(raw, str) else f"{key}[{i}]"
        if (e := _expr(text, file, owner, here, problems)) is not None:
            out.append(e)
            sites.append((here, e, measure))
    return tuple(out)


# ---- normalise --------------------------------------------------------------------------------

def _measures(raw: Mapping[str, Any], file: str, problems: list[Problem]) -> list[Measure]:
    fact = FACTS[raw["fact"]]
    out = []
    for mid, m in raw["measures"].items():
        expr = (_expr(m["expression"], file, mid, f"measures.{mid}.expression", problems)
                if m.get("expression") else None)
        out.append(Measure(str(mid), fact.name, m["name_zh"], m["name_en"], m["aggregation"],
                           expr, m["unit"], m["counting_unit"],
                           m.get("time_field") or fact.time_field, bool(m["additive"]),
                           m.get("description_zh", ""), m.get("description_en", ""), file))
    return out


def _deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _effective_versions(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in raw["versions"]:
        if not out:
            out.append(dict(item))
            continue
        base = {k: v for k, v in out[-1].items() if k not in _NOT_INHERITED}
        if "kind" in item:
            base = {k: v for k, v in base.items() if k not in _RULE}
        out.append(_deep_merge(base, item))
    return out


def _tags(raw: Mapping[str, Any]) -> Tags:
    src = raw["source"]
    target = raw.get("target")
    review = raw.get("review_date")
    return Tags(raw["subject"], raw["matter"], raw["purpose"], raw["responsible_department"],
                raw["domain"], Source(src["document"], str(src.get("clause", "")),
                                      src["confidence"], src.get("note", "")),
                raw["direction"], raw["unit"], bool(raw["national_monitoring"]), raw["owner"],
                raw.get("reviewer", ""),
                None if review is None else pd.Timestamp(str(review)).date(),
                None if target is None else (target.get("low"), target.get("high")))


def _exclusions(raw: Any, file: str, owner: str, key: str, problems: list[Problem],
                sites: list[Site], measure: str) -> tuple[Exclusion, ...]:
    out = []
    for i, x in enumerate(raw or []):
        e = _expr(x["where"], file, owner, f"{key}[{i}].where", problems)
        if e is not None:
            out.append(Exclusion(x["id"], x["name_zh"], x["name_en"], e))
            sites.append((f"{key}[{i}].where", e, measure))
    return tuple(out)


def _indicator(raw: Mapping[str, Any], v: Mapping[str, Any], i: int, file: str, tags: Tags,
               problems: list[Problem], sites: list[Site]) -> Indicator | None:
    iid, key = raw["id"], f"versions[{i}]"
    kind = v.get("kind")
    if kind is None:
        problems.append(Problem(file, iid, f"{key}.kind", "missing (the first version states "
                                                          "the kind)"))
        return None
    required, allowed = _KIND_KEYS[kind]
    for name in _RULE:
        if name in v and name not in allowed:
            problems.append(Problem(file, iid, f"{key}.{name}",
                                    f"not used by a {kind} indicator (it uses {sorted(allowed)})"))
    for name in sorted(required - set(v)):
        problems.append(Problem(file, iid, f"{key}.{name}", f"missing (a {kind} indicator "
                                                            f"needs it)"))
    if kind in ("proportion", "rate", "ratio", "mean"):
        has_refs = "numerator" in v or "denominator" in v
        if ("population" in v) == has_refs or (has_refs and not
                                               ("numerator" in v and "denominator" in v)):
            problems.append(Problem(file, iid, key, f"a {kind} indicator needs either a "
                                                    f"population or both numerator and "
                                                    f"denominator refs"))
    term = population = rule = None
    if kind == "derived" and "measure" in v:
        m = v["measure"]
        term = Term(m, _exprs(v.get("where"), file, iid, f"{key}.where", problems, sites, m),
                    _exclusions(v.get("exclusions"), file, iid, f"{key}.exclusions", problems,
                                sites, m))
    if "population" in v and isinstance(v["population"], Mapping) and kind != "derived":
        p = v["population"]
        den, num = p["denominator"], p["numerator"]
        dm = den.get("measure", "")
        excl = _exclusions(p.get("exclusions"), file, iid, f"{key}.population.exclusions",
                           problems, sites, dm)
        den_where = _exprs(den.get("where"), file, iid, f"{key}.population.denominator.where",
                           problems, sites, dm)
        if "measure" not in den:
            problems.append(Problem(file, iid, f"{key}.population.denominator.measure",
                                    "missing (the denominator names its measure)"))
        num_where = _exprs(num.get("where"), file, iid, f"{key}.population.numerator.where",
                           problems, sites, dm)
        den_term = Term(den.get("measure", ""), den_where, excl)
        num_term = Term(num.get("measure", den.get("measure", "")), den_where + num_where, excl)
        population = Population(p["counting_unit"], den_term, num_term)
    if kind == "reported" and isinstance(v.get("reported"), Mapping):
        try:
            rule = ReportedRule.from_mapping(v["reported"])
        except SpecError as exc:  # its problems read "reported.<key>: <message>"
            for text in exc.problems or (str(exc),):
                where, _, message = str(text).partition(": ")
                problems.append(Problem(file, iid, f"{key}.{where}", message))
    numerator = v.get("numerator", v.get("left"))
    denominator = v.get("denominator", v.get("right"))
    return Indicator(
        iid, str(v["version"]), kind, v.get("name_zh", raw["name_zh"]),
        v.get("name_en", raw["name_en"]), tags, raw.get("description_zh", ""),
        raw.get("description_en", ""), v.get("valid_from"), v.get("valid_to"),
        v.get("changes", ""), v.get("notes", ""), term, population,
        numerator, denominator, v.get("of"), v.get("over"), v.get("per"),
        tuple(v["dimensions"]) if v.get("dimensions") is not None else None, rule, file)


# ---- entry points -----------------------------------------------------------------------------

def _files(root: Path, sub: str) -> list[Path]:
    return sorted((root / sub).rglob("*.yaml")) if (root / sub).is_dir() else []


def _load(root: Path) -> tuple[Catalog, list[Problem]]:
    def display_path(path: Path) -> str:  # problems name files relative to the catalog
        return path.relative_to(root).as_posix()

    problems: list[Problem] = []
    value_sets = dict(ValueSets.builtin())
    for path in _files(root, "value_sets"):
        file, raw = display_path(path), read_spec_file(path, display_path(path), problems)
        if raw is None or (new := check_shape(raw, VALUE_SET_FILE, file=file,
                                              owner=str(raw.get("id", "")) if isinstance(
                                                  raw, Mapping) else "", path="")):
            problems += new if raw is not None else []
            continue
        vs, found = parse_value_set(raw, file)
        problems += found
        if vs is not None:
            value_sets[vs.id] = vs
    measures: dict[str, Measure] = {}
    for path in _files(root, "measures"):
        file, raw = display_path(path), read_spec_file(path, display_path(path), problems)
        if raw is None or (new := check_shape(raw, MEASURE_FILE, file=file, owner="", path="")):
            problems += new if raw is not None else []
            continue
        for m in _measures(raw, file, problems):
            if m.id in measures:
                problems.append(Problem(file, m.id, f"measures.{m.id}",
                                        f"measure id repeats (also in {measures[m.id].file})"))
                continue
            measures[m.id] = m
    indicators: dict[str, tuple[Indicator, ...]] = {}
    sites: dict[str, list[Site]] = {}
    for path in _files(root, "indicators"):
        file, raw = display_path(path), read_spec_file(path, display_path(path), problems)
        owner = str(raw.get("id", "")) if isinstance(raw, Mapping) else ""
        if raw is None or (new := check_shape(raw, INDICATOR_FILE, file=file, owner=owner,
                                              path="")):
            problems += new if raw is not None else []
            continue
        if path.stem != raw["id"]:
            problems.append(Problem(file, owner, "id", f"the file of indicator {owner!r} must be "
                                                       f"named {owner}.yaml"))
        if owner in indicators or owner in measures:
            problems.append(Problem(file, owner, "id", "the id is already used by another "
                                                       "indicator or a measure"))
            continue
        tags, versions = _tags(raw["tags"]), []
        if tags.direction == "target_range" and tags.target is None:
            problems.append(Problem(file, owner, "tags.target",
                                    "missing (direction target_range needs a target)"))
        labels: list[str] = []
        for i, v in enumerate(_effective_versions(raw)):
            if i > 0 and (new := [q for q in check_shape(v, VERSION, file=file, owner=owner,
                                                         path=f"versions[{i}]")
                                  if q.message.startswith("missing")]):
                problems += new  # what a later version still lacks after inheriting
                continue
            if str(v["version"]) in labels:
                problems.append(Problem(file, owner, f"versions[{i}].version",
                                        f"version {v['version']!r} repeats"))
            labels.append(str(v["version"]))
            ind = _indicator(raw, v, i, file, tags, problems, here := [])
            if ind is not None:
                versions.append(ind)
                sites[ind.key] = here
        if versions:
            indicators[owner] = tuple(versions)
    catalog = Catalog(root, measures, indicators, ValueSets(value_sets))
    for m in measures.values():
        check_measure(m, catalog.value_sets, problems)
    for versions in indicators.values():
        for i, ind in enumerate(versions):
            check_indicator(ind, i, catalog, problems, sites[ind.key])
    check_cycles(catalog, problems)
    return catalog, problems


def validate_catalog(root: str | Path | None = None) -> list[Problem]:
    """Every problem of the catalog at ``root`` (``[]`` when it is valid)."""
    return _load(Path(root) if root is not None else Settings().catalog)[1]


def load_catalog(root: str | Path | None = None) -> Catalog:
    """Load and validate the catalog at ``root`` (default: :attr:`Settings.catalog`).

    Raises
    ------
    SpecError
        Anything is wrong anywhere: the message lists every problem, one per line, as
        ``file: id: key: message``; :attr:`SpecError.problems` holds them.
    """
    path = Path(root) if root is not None else Settings().catalog
    if not path.is_dir():
        raise SpecError(f"indicator catalog {path} is not a folder")
    catalog, problems = _load(path)
    if problems:
        raise SpecError(f"{len(problems)} problem(s) in the indicator catalog {path}:\n"
                        + "\n".join(str(p) for p in problems), tuple(problems))
    return catalog
