"""Assessments and their editions as data: the file format, the typed objects, the loader.

An assessment lives in ``national_assessments/<id>/``::

    assessment.yaml           the structure every edition shares
    editions/<edition>.yaml   one edition: its items, ▲ flags, indicator versions and scoring

``assessment.yaml``
    ``id`` (the folder's name), ``name_zh``, ``name_en``, ``source`` {``document``,
    ``confidence`` (confirmed / unconfirmed / chosen), ``clause``, ``note``}, ``comparison``
    (text: how peers are grouped) and ``dimensions``: a list of {``id``, ``name_zh``,
    ``name_en``, ``sub_dimensions``: [{``id``, ``name_zh``, ``name_en``}]}.

``editions/<edition>.yaml``
    ``assessment``, ``edition`` (the file's stem), ``valid_from`` (first data year),
    ``valid_to`` (optional, last data year), ``provisional`` (optional: the list itself is
    unconfirmed), ``name_zh``, ``name_en``, ``source`` {``document``, ``clause``,
    ``confidence``, ``note``}, ``changes`` (what differs from the previous edition and why),
    ``expected`` (optional {``items``, ``national_monitoring``}: counts the manual states,
    checked), ``scoring`` and ``items``.

    ``scoring``: ``scope`` (``national_monitoring``: only ▲ items enter the total, or ``all``),
    ``weights`` {``default``: ``equal`` or a number, ``note``}, ``tier_cut_offs``: a list of
    {``tier``, ``top_percent``, ``confidence``, ``note``} rising to 100 (``A++`` top 1 %…; the
    bands that are not published are ``confidence: chosen``), ``tiers_note``, ``monitor_items``
    {``treatment``: ``excluded`` (shown, not scored) or ``distance_from_median``,
    ``note``}.

    ``items``, in the manual's order, each: ``item`` (the number as printed, ``"4"``,
    ``"增1"``), ``sub_dimension`` (an id of ``assessment.yaml``), **one of** ``indicator``
    (``<id>@<version>`` in the indicator catalog), ``components`` (a list of such refs: an
    item the manual defines as several measures with no single value, like #10's cases, mean
    LOS, mean cost and fatality of 10 conditions; each is shown as a row of its own, item
    ``<item>.<k>``, weighing ``component_weight`` in the total, default 0) **or** ``missing``
    {``reason``, ``data_source``} when the catalog has no definition yet — computing gives such
    an item status ``not_computable`` with that reason, a visible gap, never a silent drop; an
    item without an indicator also states ``name_zh``, ``name_en`` and ``direction`` (and may
    state ``unit`` and ``responsible_department``). Then ``national_monitoring`` (▲ in this
    edition), ``data_source`` (病案首页 / 财务 / 填报 / 平台 / 满意度), optional ``direction``
    (overrides the indicator's), ``weight``, ``national_reference`` {``value``, ``year``,
    ``note``} and ``notes``.

:func:`load_assessments` reads every assessment, checks each file's shape (declared in
:mod:`~hospital_sdk.assessments.schema`) and then its meaning —
indicator refs exist in the catalog, sub-dimensions exist, item numbers are unique, the ▲ and
item counts match ``expected``, cut-offs rise to 100, editions of one assessment do not
overlap — and raises one :class:`~hospital_sdk.errors.SpecError` listing every problem.

Examples
--------
>>> tertiary = load_assessments()["tertiary"]
>>> latest = tertiary.edition()
>>> latest.edition, latest.summary()["items"], latest.summary()["national_monitoring"]
('2024', 56, 26)
>>> edition("tertiary", year=2019).item("32").indicator
'adjuvant_drug_revenue_share@1'
>>> latest.place("cost_control")[0].name_en
'Operational efficiency'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hospital_sdk.assessments.schema import ASSESSMENT_FILE, EDITION_TOP, ITEM
from hospital_sdk.config import Settings
from hospital_sdk.errors import IndicatorError, SpecError
from hospital_sdk.indicators.catalog import Catalog, load_catalog
from hospital_sdk.indicators.schema import Problem, check_shape, read_spec_file
from hospital_sdk.indicators.spec import Source, split_ref
from hospital_sdk.model import suggest

__all__ = ["Assessment", "Dimension", "Edition", "EditionItem", "Missing", "NationalReference",
           "Scoring", "SubDimension", "TierCutOff", "edition", "load_assessments"]

# ---- objects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubDimension:
    """A second-level dimension (二级指标)."""

    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Dimension:
    """A first-level dimension (一级指标) and its sub-dimensions."""

    id: str
    name_zh: str
    name_en: str
    sub_dimensions: tuple[SubDimension, ...]


@dataclass(frozen=True)
class Missing:
    """Why an item has no catalog indicator yet, and where its inputs would come from."""

    reason: str
    data_source: str = ""


@dataclass(frozen=True)
class NationalReference:
    """A published national figure for an item (value, data year, source note)."""

    value: float
    year: int
    note: str = ""


@dataclass(frozen=True)
class EditionItem:
    """One item of an edition: an ``indicator`` ref (``id@version``) or ``missing``."""

    item: str
    order: int
    sub_dimension: str
    national_monitoring: bool
    data_source: str
    indicator: str | None = None
    missing: Missing | None = None
    name_zh: str = ""
    name_en: str = ""
    unit: str = ""
    direction: str | None = None
    responsible_department: str = ""
    weight: float | None = None
    national_reference: NationalReference | None = None
    notes: str = ""
    components: tuple[str, ...] = ()
    component_weight: float = 0.0
    parent: str | None = None

    @property
    def computable(self) -> bool:
        """Whether the item names a catalog indicator, or the indicators it is shown as."""
        return self.indicator is not None or bool(self.components)

    def parts(self) -> tuple[EditionItem, ...]:
        """The item's components as items of their own (``10.1``, ``10.2``…): the indicator's
        own name and direction, the item's sub-dimension, ▲ and data source, weight
        ``component_weight``; empty for an item without components."""
        return tuple(
            EditionItem(f"{self.item}.{k}", self.order, self.sub_dimension,
                        self.national_monitoring, self.data_source, indicator=ref,
                        weight=self.component_weight, parent=self.item,
                        notes=f"component {k} of {len(self.components)} of item {self.item}")
            for k, ref in enumerate(self.components, start=1))


@dataclass(frozen=True)
class TierCutOff:
    """A tier covering institutions down to ``top_percent`` of peers from the top."""

    tier: str
    top_percent: float
    confidence: str
    note: str = ""


@dataclass(frozen=True)
class Scoring:
    """Scope, default weight, tier cut-offs and monitor-item treatment of an edition."""

    scope: str
    weights: str | float
    weights_note: str
    tier_cut_offs: tuple[TierCutOff, ...]
    tiers_note: str
    monitor_treatment: str
    monitor_note: str

    def default_weight(self) -> float:
        """The weight of an item that states none (``equal``: 1)."""
        return 1.0 if self.weights == "equal" else float(self.weights)

    def score_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~hospital_sdk.assessments.scoring.score_items` that apply
        this scoring (weights from the result's ``weight`` column, filled from the edition).

        >>> edition("tertiary").scoring.score_options()["tier_cut_offs"][:3]
        (('A++', 1.0), ('A+', 10.0), ('A', 20.0))
        """
        return {"weights": "edition", "monitor": self.monitor_treatment, "scope": self.scope,
                "tier_cut_offs": tuple((t.tier, t.top_percent) for t in self.tier_cut_offs)}

    def assumptions(self) -> tuple[str, ...]:
        """The statements a report prints with scores and tiers."""
        bands = ", ".join(f"{t.tier} ≤{t.top_percent:g}%"
                          + ("" if t.confidence == "confirmed" else " (assumed)")
                          for t in self.tier_cut_offs)
        return tuple(s for s in (
            f"weights: {self.weights}" + (f" — {self.weights_note}" if self.weights_note else ""),
            f"scored items: {self.scope}",
            f"tier cut-offs: {bands}" + (f" — {self.tiers_note}" if self.tiers_note else ""),
            f"monitor-only items: {self.monitor_treatment}"
            + (f" — {self.monitor_note}" if self.monitor_note else "")) if s)


@dataclass(frozen=True)
class Edition:
    """One edition of an assessment: its items in the manual's order, with the structure."""

    assessment: str
    edition: str
    name_zh: str
    name_en: str
    valid_from: int
    valid_to: int | None
    source: Source
    changes: str
    scoring: Scoring
    items: tuple[EditionItem, ...]
    dimensions: tuple[Dimension, ...]
    assessment_name_zh: str = ""
    assessment_name_en: str = ""
    provisional: bool = False
    file: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return f"Edition({self.assessment} {self.edition}, {len(self.items)} items)"

    def valid_in(self, year: int) -> bool:
        """Whether the edition applies to data year ``year``."""
        return self.valid_from <= year and (self.valid_to is None or year <= self.valid_to)

    def item(self, number: str | int) -> EditionItem:
        """The item numbered ``number`` as printed (``'4'``, ``'增1'``)."""
        for it in self.items:
            if it.item == str(number):
                return it
        raise IndicatorError(f"{self.assessment} {self.edition} has no item {str(number)!r}"
                             f"{suggest(str(number), [i.item for i in self.items])}")

    def place(self, sub_dimension: str) -> tuple[Dimension, SubDimension]:
        """The dimension and sub-dimension of a sub-dimension id."""
        for d in self.dimensions:
            for s in d.sub_dimensions:
                if s.id == sub_dimension:
                    return d, s
        raise IndicatorError(f"unknown sub-dimension {sub_dimension!r}")

    @property
    def refs(self) -> tuple[str, ...]:
        """Indicator refs of the computable items and components, each once, in item order."""
        return tuple(dict.fromkeys(i.indicator for i in self.rows() if i.indicator is not None))

    def rows(self) -> tuple[EditionItem, ...]:
        """The items with each item's components right after it: the rows a result has.

        >>> rows = edition("tertiary", year=2024).rows()
        >>> [(r.item, r.indicator) for r in rows if r.item.startswith("10")][:2]
        [('10', None), ('10.1', 'single_disease_ami_cases@1')]
        """
        return tuple(row for it in self.items for row in (it, *it.parts()))

    def summary(self) -> dict[str, int]:
        """Counts: items, ▲ items, computable (with an indicator) and missing items."""
        computable = sum(i.computable for i in self.items)
        return {"items": len(self.items),
                "national_monitoring": sum(i.national_monitoring for i in self.items),
                "computable": computable, "missing": len(self.items) - computable}

    def assumptions(self) -> tuple[str, ...]:
        """Statements a report prints: provisional status, source confidence and scoring."""
        head = [f"{self.name_en}: PROVISIONAL — the item list is unconfirmed"] \
            if self.provisional else []
        head.append(f"edition source: {self.source.document} ({self.source.confidence})")
        return (*head, *self.scoring.assumptions())


@dataclass(frozen=True)
class Assessment:
    """An assessment: its dimensions and editions (by label)."""

    id: str
    name_zh: str
    name_en: str
    source: Source
    comparison: str
    dimensions: tuple[Dimension, ...]
    editions: Mapping[str, Edition]
    file: str = field(default="", compare=False)

    def edition(self, edition: str | int | None = None, *, year: int | None = None) -> Edition:
        """An edition by label, the one in force in data year ``year``, or (neither) the
        latest.

        Raises
        ------
        IndicatorError
            No such edition, or none is in force in ``year``.
        """
        if edition is not None:
            if str(edition) not in self.editions:
                raise IndicatorError(f"assessment {self.id!r} has no edition {str(edition)!r} "
                                     f"(it has {sorted(self.editions)})")
            return self.editions[str(edition)]
        ordered = sorted(self.editions.values(), key=lambda e: e.valid_from)
        if not ordered:
            raise IndicatorError(f"assessment {self.id!r} has no edition")
        if year is None:
            return ordered[-1]
        for e in ordered:
            if e.valid_in(int(year)):
                return e
        spans = ", ".join(f"{e.edition} ({e.valid_from}–{e.valid_to or ''})" for e in ordered)
        raise IndicatorError(f"no {self.id} edition is in force in {year} (editions: {spans})")


# ---- loading ----------------------------------------------------------------------------------

def _source(raw: Mapping[str, Any]) -> Source:
    return Source(raw["document"], str(raw.get("clause", "")), raw["confidence"],
                  raw.get("note", ""))


def _assessment(raw: Mapping[str, Any], folder: str, file: str,
                problems: list[Problem]) -> Assessment:
    if raw["id"] != folder:
        problems.append(Problem(file, raw["id"], "id",
                                f"the assessment in folder {folder!r} must have id {folder!r}"))
    dims, seen, seen_sub = [], set(), set()
    for i, d in enumerate(raw["dimensions"]):
        if d["id"] in seen:
            problems.append(Problem(file, folder, f"dimensions[{i}].id",
                                    f"dimension id {d['id']!r} repeats"))
        seen.add(d["id"])
        subs = []
        for j, s in enumerate(d["sub_dimensions"]):
            if s["id"] in seen_sub:
                problems.append(Problem(file, folder, f"dimensions[{i}].sub_dimensions[{j}].id",
                                        f"sub-dimension id {s['id']!r} repeats"))
            seen_sub.add(s["id"])
            subs.append(SubDimension(s["id"], s["name_zh"], s["name_en"]))
        dims.append(Dimension(d["id"], d["name_zh"], d["name_en"], tuple(subs)))
    return Assessment(folder, raw["name_zh"], raw["name_en"], _source(raw["source"]),
                      raw["comparison"], tuple(dims), {}, file)


def _item(raw: Mapping[str, Any], i: int, file: str, subs: list[str], catalog: Catalog,
          problems: list[Problem]) -> EditionItem:
    number = str(raw["item"])
    owner, key = f"item {number}", f"items[{i}]"

    def problem(where: str, message: str) -> None:
        problems.append(Problem(file, owner, where, message))

    ref, missing = raw.get("indicator"), raw.get("missing")
    components = tuple(raw.get("components") or ())
    given = [k for k in ("indicator", "components", "missing") if raw.get(k)]
    if len(given) > 1:
        problem(key, f"states {' and '.join(given)}: give only one of indicator, components "
                     f"and missing")
    elif not given:
        problem(key, "states none of indicator, components and missing: give one")
    for where, r in ([(f"{key}.indicator", ref)] if ref is not None else []) + [
            (f"{key}.components[{k}]", r) for k, r in enumerate(components)]:
        if split_ref(r)[1] is None:
            problem(where, f"{r!r} must name its version (id@version)")
        else:
            try:
                catalog.get(r)
            except IndicatorError as exc:
                problem(where, str(exc))
    if len(set(components)) != len(components):
        problem(f"{key}.components", "an indicator is listed twice")
    if raw.get("component_weight") is not None and not components:
        problem(f"{key}.component_weight", "only for an item with components")
    elif raw.get("component_weight", 0) < 0:
        problem(f"{key}.component_weight", f"{raw['component_weight']} is negative")
    if ref is None:
        for name in ("name_zh", "name_en", "direction"):
            if not raw.get(name):
                problem(f"{key}.{name}", "missing (an item without an indicator states it)")
    if (sub := raw["sub_dimension"]) not in subs:
        problem(f"{key}.sub_dimension", f"unknown sub-dimension {sub!r}{suggest(sub, subs)}")
    if raw.get("weight") is not None and raw["weight"] < 0:
        problem(f"{key}.weight", f"{raw['weight']} is negative")
    ref_raw = raw.get("national_reference")
    return EditionItem(
        number, i + 1, raw["sub_dimension"], raw["national_monitoring"], raw["data_source"],
        ref, Missing(missing["reason"], missing.get("data_source", "")) if missing else None,
        raw.get("name_zh", ""), raw.get("name_en", ""), raw.get("unit", ""), raw.get("direction"),
        raw.get("responsible_department", ""),
        None if raw.get("weight") is None else float(raw["weight"]),
        None if ref_raw is None else NationalReference(float(ref_raw["value"]), ref_raw["year"],
                                                       ref_raw.get("note", "")),
        raw.get("notes", ""), components, float(raw.get("component_weight") or 0.0))


def _scoring(raw: Mapping[str, Any], file: str, problems: list[Problem]) -> Scoring:
    def problem(key: str, message: str) -> None:
        problems.append(Problem(file, "", f"scoring.{key}", message))

    default = raw["weights"]["default"]
    if default != "equal" and (isinstance(default, str) or default <= 0):
        problem("weights.default", f"{default!r} is neither 'equal' nor a positive number")
    tiers, before, names = [], 0.0, set()
    for i, t in enumerate(raw["tier_cut_offs"]):
        top, key = t["top_percent"], f"tier_cut_offs[{i}]"
        if t["tier"] in names:
            problem(f"{key}.tier", f"tier {t['tier']!r} repeats")
        names.add(t["tier"])
        if not 0 < top <= 100:
            problem(f"{key}.top_percent", f"{top} is not in (0, 100]")
        elif top <= before:
            problem(f"{key}.top_percent", f"{top} must be above the tier before's {before:g}")
        before = max(before, top)
        tiers.append(TierCutOff(t["tier"], float(top), t["confidence"], t.get("note", "")))
    if tiers and tiers[-1].top_percent != 100:
        problem("tier_cut_offs", "the last tier must reach top_percent 100 so every "
                                 "institution gets one")
    monitor = raw["monitor_items"]
    return Scoring(raw["scope"], default, raw["weights"].get("note", ""), tuple(tiers),
                   raw.get("tiers_note", ""), monitor["treatment"], monitor.get("note", ""))


def _edition(raw: Mapping[str, Any], stem: str, file: str, owner: Assessment,
             catalog: Catalog, problems: list[Problem]) -> Edition | None:
    def problem(key: str, message: str) -> None:
        problems.append(Problem(file, "", key, message))

    label = str(raw["edition"])
    if raw["assessment"] != owner.id:
        problem("assessment", f"{raw['assessment']!r} does not match the folder's assessment "
                              f"{owner.id!r}")
    if label != stem:
        problem("edition", f"the edition in {stem}.yaml must be {stem!r}")
    if raw.get("valid_to") is not None and raw["valid_to"] < raw["valid_from"]:
        problem("valid_to", f"{raw['valid_to']} is before valid_from {raw['valid_from']}")
    scoring = _scoring(raw["scoring"], file, problems)
    if not isinstance(raw["items"], list) or not raw["items"]:
        problem("items", "expected a non-empty list of items")
        return None
    subs = [s.id for d in owner.dimensions for s in d.sub_dimensions]
    items, seen, unread = [], {}, False
    for i, it in enumerate(raw["items"]):
        number = str(it.get("item", "")) if isinstance(it, Mapping) else ""
        found = check_shape(it, ITEM, file=file, owner=f"item {number}" if number else "",
                            path=f"items[{i}]")
        if found:
            problems += found
            unread = True
            continue
        if number in seen:
            problems.append(Problem(file, f"item {number}", f"items[{i}].item",
                                    f"item {number!r} repeats (also items[{seen[number]}])"))
        seen.setdefault(number, i)
        items.append(_item(it, i, file, subs, catalog, problems))
    result = Edition(owner.id, label, raw["name_zh"], raw["name_en"], raw["valid_from"],
                     raw.get("valid_to"), _source(raw["source"]), raw["changes"], scoring,
                     tuple(items), owner.dimensions, owner.name_zh, owner.name_en,
                     bool(raw.get("provisional", False)), file)
    expected = raw.get("expected") or {}
    if not unread:  # counts only mean something once every item was read
        counts = result.summary()
        for key, what in (("items", "lists {n} items"),
                          ("national_monitoring", "flags {n} items ▲")):
            if expected.get(key) is not None and counts[key] != expected[key]:
                problem(f"expected.{key}", f"the edition {what.format(n=counts[key])}, "
                                           f"expected {expected[key]}")
    return result


def _overlaps(editions: list[Edition], problems: list[Problem]) -> None:
    ordered = sorted(editions, key=lambda e: e.valid_from)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.valid_to is None or before.valid_to >= after.valid_from:
            problems.append(Problem(after.file, "", "valid_from", (
                f"{after.valid_from} falls inside edition {before.edition!r} "
                f"({before.valid_from}–{before.valid_to or ''}): one edition per data year")))


def _load(root: Path, catalog: Catalog) -> tuple[dict[str, Assessment], list[Problem]]:
    problems: list[Problem] = []
    out: dict[str, Assessment] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        path, name = folder / "assessment.yaml", folder.name
        if not path.is_file():
            if (folder / "editions").is_dir():
                problems.append(Problem(f"{name}/assessment.yaml", name, "",
                                        "missing (the folder has editions/)"))
            continue
        file = f"{name}/assessment.yaml"
        raw = read_spec_file(path, file, problems)
        if raw is None:
            continue
        if found := check_shape(raw, ASSESSMENT_FILE, file=file, owner=name, path=""):
            problems += found
            continue
        assessment = _assessment(raw, name, file, problems)
        editions: dict[str, Edition] = {}
        for epath in sorted((folder / "editions").glob("*.yaml")):
            efile = f"{name}/editions/{epath.name}"
            eraw = read_spec_file(epath, efile, problems)
            if eraw is None:
                continue
            if found := check_shape(eraw, EDITION_TOP, file=efile, owner="", path=""):
                problems += found
                continue
            if (ed := _edition(eraw, epath.stem, efile, assessment, catalog,
                               problems)) is not None:
                editions[ed.edition] = ed
        _overlaps(list(editions.values()), problems)
        out[name] = replace(assessment, editions=editions)
    return out, problems


def load_assessments(root: str | Path | None = None, *,
                     catalog: Catalog | None = None) -> Mapping[str, Assessment]:
    """Load and validate every assessment under ``root`` (default :attr:`Settings.catalog`).

    Parameters
    ----------
    root
        The folder holding ``<assessment>/assessment.yaml`` and ``editions/``.
    catalog
        The indicator catalog the items' refs must exist in (default: the catalog at
        ``root``).

    Raises
    ------
    SpecError
        Anything is wrong anywhere: one line per problem, ``file: owner: key: message``;
        :attr:`SpecError.problems` holds the :class:`~hospital_sdk.indicators.schema.Problem`
        objects.
    """
    path = Path(root) if root is not None else Settings().catalog
    if not path.is_dir():
        raise SpecError(f"national assessments folder {path} is not a folder")
    assessments, problems = _load(path, catalog if catalog is not None else load_catalog(path))
    if problems:
        raise SpecError(f"{len(problems)} problem(s) in the national assessments {path}:\n"
                        + "\n".join(str(p) for p in problems), tuple(problems))
    return assessments


def edition(assessment: str, edition: str | int | None = None, *, year: int | None = None,
            root: str | Path | None = None, catalog: Catalog | None = None) -> Edition:
    """An edition of a shipped (or ``root``'s) assessment: by label, in force in ``year``,
    or the latest (see :meth:`Assessment.edition`).

    >>> s = edition("secondary").summary()
    >>> s["items"], s["national_monitoring"], s["computable"] + s["missing"]
    (28, 21, 28)
    """
    assessments = load_assessments(root, catalog=catalog)
    if assessment not in assessments:
        raise IndicatorError(f"unknown assessment {assessment!r}"
                             f"{suggest(assessment, assessments)}; known: "
                             + ", ".join(sorted(assessments)))
    return assessments[assessment].edition(edition, year=year)
