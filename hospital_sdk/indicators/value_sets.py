"""Value sets: code lists referenced by id from expressions, with versions by year.

A value set is a file ``value_sets/<id>.yaml`` of a catalog: ``id, zh, en, source, confidence``
and ``versions``, each with ``version``, ``valid_from`` (a year) and ``categories`` in the
code-list format of :mod:`hospital_sdk.aggregated.value_sets` (ICD-10 prefixes such as ``O`` or
``T81.4``, ranges such as ``I60-I64``). An expression names it with
``in_value_set(_.principal_diagnosis_code, 'obstetric_perinatal')`` — the version in force in the
year computed — or pins a version with ``'obstetric_perinatal@2019'``.

The surgical-complication list the aggregated layer flags stays with that layer
(``hospital_sdk/aggregated/reference/surgical_complications.yaml``) and is registered here as
``surgical_complications`` so there is one copy.

Examples
--------
>>> sets = ValueSets.builtin()
>>> sets.for_year(2024)["surgical_complications"].matches("T81.400")
True
>>> sets.for_year(2024)["surgical_complications@1"].name
'surgical_complications'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hospital_sdk.aggregated.value_sets import CodeList, parse_code_list, surgical_complications
from hospital_sdk.errors import ContractError
from hospital_sdk.indicators.schema import Problem
from hospital_sdk.model import suggest

__all__ = ["ValueSet", "ValueSetVersion", "ValueSets", "parse_value_set"]


@dataclass(frozen=True)
class ValueSetVersion:
    """One version of a value set: its label, first year and code list."""

    version: str
    valid_from: int
    codes: CodeList


@dataclass(frozen=True)
class ValueSet:
    """A code list with versions, oldest first."""

    id: str
    zh: str
    en: str
    source: str
    confidence: str
    versions: tuple[ValueSetVersion, ...]
    file: str = ""

    def for_year(self, year: int) -> CodeList:
        """The version in force in ``year``: the latest whose ``valid_from`` is not after it;
        before the first version, the first."""
        chosen = self.versions[0]
        for v in self.versions:
            if v.valid_from <= year:
                chosen = v
        return chosen.codes


class ValueSets(Mapping[str, ValueSet]):
    """Value sets by id."""

    def __init__(self, sets: Mapping[str, ValueSet]) -> None:
        self._sets = dict(sets)

    @classmethod
    def builtin(cls) -> ValueSets:
        """The value sets the SDK ships outside any catalog (the surgical-complication list)."""
        comp = surgical_complications()
        return cls({"surgical_complications": ValueSet(
            "surgical_complications", comp.zh, comp.en, comp.source, comp.confidence,
            (ValueSetVersion("1", 2019, comp),), "hospital_sdk/aggregated/reference/"
            "surgical_complications.yaml")})

    def __getitem__(self, key: str) -> ValueSet:
        return self._sets[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def for_year(self, year: int) -> dict[str, CodeList]:
        """Code lists by reference for a computation in ``year``: ``id`` (the version in force)
        and every ``id@version``."""
        out: dict[str, CodeList] = {}
        for vs in self._sets.values():
            out[vs.id] = vs.for_year(year)
            for v in vs.versions:
                out[f"{vs.id}@{v.version}"] = v.codes
        return out

    def check_ref(self, ref: str) -> str | None:
        """Why ``ref`` names no value set or version (``None`` when it does)."""
        name, _, version = ref.partition("@")
        if name not in self._sets:
            return f"unknown value set {name!r}{suggest(name, self._sets)}"
        versions = [v.version for v in self._sets[name].versions]
        if version and version not in versions:
            return f"value set {name!r} has no version {version!r} (it has {versions})"
        return None


def parse_value_set(raw: Mapping[str, Any], file: str) -> tuple[ValueSet | None, list[Problem]]:
    """Build a :class:`ValueSet` from a structurally valid file's mapping, or list why not."""
    problems: list[Problem] = []
    versions: list[ValueSetVersion] = []
    vid = str(raw["id"])
    for i, item in enumerate(raw["versions"]):
        label = str(item["version"])
        try:
            codes = parse_code_list(
                {"name": vid, "zh": raw["zh"], "en": raw["en"], "source": raw["source"],
                 "confidence": raw["confidence"], "categories": item["categories"]},
                f"versions[{i}]")
        except ContractError as exc:
            problems.append(Problem(file, vid, f"versions[{i}].categories", str(exc)))
            continue
        if versions and int(item["valid_from"]) <= versions[-1].valid_from:
            problems.append(Problem(file, vid, f"versions[{i}].valid_from",
                                    "versions must be listed oldest first with increasing "
                                    "valid_from"))
        versions.append(ValueSetVersion(label, int(item["valid_from"]), codes))
    if problems:
        return None, problems
    return ValueSet(vid, str(raw["zh"]), str(raw["en"]), str(raw["source"]),
                    str(raw["confidence"]), tuple(versions), file), []
