"""Typed spec objects: measures, populations, tags and indicator versions.

These are what the spec files become after :mod:`~hospital_sdk.indicators.catalog` has parsed,
normalised and validated them: frozen records that the engine compiles to Ibis. Nothing in them
is executable; expressions are :class:`~hospital_sdk.indicators.expressions.Expression` trees
built from an allow-list.

Kinds of indicator
------------------
=================== ======================================================= =================
kind                value                                                   defined by
=================== ======================================================= =================
derived             the measure over records meeting ``where``             ``measure``
proportion          numerator ÷ denominator × per (per = 100)              ``population``
rate                numerator ÷ denominator × per (100, 1000, 10000)       ``population`` or
                                                                            refs
ratio               numerator ÷ denominator × per (per = 1)                refs or population
mean                numerator ÷ denominator (a sum over a count)           refs or population
standardized_ratio  observed ÷ expected                                    refs
difference          left − right                                           refs
sum                 left + right (e.g. outpatient + inpatient, two facts)   refs
growth              (this period − same period before) ÷ before × 100      ``of``, ``over``
reported            a value entered through the reported-input template    ``reported``
=================== ======================================================= =================

"refs" are ids of measures or other indicators (``id`` or ``id@version``): a composite never
restates its parts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hospital_sdk.indicators.expressions import Expression
from hospital_sdk.indicators.reported import ReportedRule

__all__ = ["Exclusion", "Indicator", "Measure", "Population", "Source", "Tags", "Term",
           "split_ref"]


def split_ref(ref: str) -> tuple[str, str | None]:
    """``'id@version'`` -> ``('id', 'version')``; ``'id'`` -> ``('id', None)``.

    >>> split_ref("surgery_share@2"), split_ref("discharges")
    (('surgery_share', '2'), ('discharges', None))
    """
    name, sep, version = ref.partition("@")
    return name.strip(), (version.strip() if sep else None)


@dataclass(frozen=True)
class Source:
    """Source document and clause of a rule, and how sure it is (confirmed/unconfirmed/chosen)."""

    document: str
    clause: str = ""
    confidence: str = "chosen"
    note: str = ""


@dataclass(frozen=True)
class Tags:
    """Governance tags (evaluation subject, matter, purpose, responsible department, domain,
    source, direction, unit, ▲ flag, owner, reviewer, review date)."""

    subject: str
    matter: str
    purpose: str
    responsible_department: str
    domain: str
    source: Source
    direction: str
    unit: str
    national_monitoring: bool
    owner: str
    reviewer: str = ""
    review_date: dt.date | None = None
    target: tuple[float | None, float | None] | None = None


@dataclass(frozen=True)
class Measure:
    """An atomic measure (原子指标): one aggregation over one fact.

    ``count`` counts rows (one row = one counting unit of the fact); ``count_distinct``,
    ``sum``, ``min`` and ``max`` aggregate ``expression``.
    """

    id: str
    fact: str
    name_zh: str
    name_en: str
    aggregation: str
    expression: Expression | None
    unit: str
    counting_unit: str
    time_field: str
    additive: bool
    description_zh: str = ""
    description_en: str = ""
    file: str = ""


@dataclass(frozen=True)
class Exclusion:
    """A reason a record leaves the denominator (and so the numerator)."""

    id: str
    name_zh: str
    name_en: str
    where: Expression


@dataclass(frozen=True)
class Term:
    """One aggregate: ``measure`` over the records of its fact meeting every ``where`` and none
    of ``exclusions`` (nulls count as not meeting a condition)."""

    measure: str
    where: tuple[Expression, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()

    @property
    def key(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """Identity for batching: terms with equal keys are computed once."""
        return (self.measure, tuple(sorted(e.text for e in self.where)),
                tuple(sorted(x.where.text for x in self.exclusions)))


@dataclass(frozen=True)
class Population:
    """Denominator, exclusions and numerator over one fact, with the counting unit stated.

    The numerator is the denominator population (after exclusions) restricted by
    ``numerator_where`` — a record can only be in the numerator if it is in the denominator.
    """

    counting_unit: str
    denominator: Term
    numerator: Term


@dataclass(frozen=True)
class Indicator:
    """One version of one indicator, ready to compute.

    ``numerator`` / ``denominator`` hold either :class:`Term` objects (a population or a derived
    indicator) or refs (``str``) to other indicators or measures; the catalog resolves refs.
    """

    id: str
    version: str
    kind: str
    name_zh: str
    name_en: str
    tags: Tags
    description_zh: str = ""
    description_en: str = ""
    valid_from: int | None = None
    valid_to: int | None = None
    changes: str = ""
    notes: str = ""
    term: Term | None = None
    population: Population | None = None
    numerator: str | None = None
    denominator: str | None = None
    of: str | None = None
    over: str | None = None
    per: float | None = None
    dimensions: tuple[str, ...] | None = None
    reported: ReportedRule | None = None
    file: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """``'id@version'``."""
        return f"{self.id}@{self.version}"

    @property
    def unit(self) -> str:
        """Unit of the value."""
        return self.tags.unit

    @property
    def direction(self) -> str:
        """``higher_better``, ``lower_better``, ``monitor`` or ``target_range``."""
        return self.tags.direction

    @property
    def scale(self) -> float:
        """What a ratio of numerator to denominator is multiplied by."""
        if self.per is not None:
            return float(self.per)
        return 100.0 if self.kind in ("proportion", "growth") else 1.0

    def __repr__(self) -> str:
        return f"Indicator({self.key}, {self.kind}, {self.name_en!r})"

    def valid_in(self, year: int) -> bool:
        """Whether the version applies to ``year`` (no bounds: always)."""
        return ((self.valid_from is None or self.valid_from <= year)
                and (self.valid_to is None or year <= self.valid_to))
