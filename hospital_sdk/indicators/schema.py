"""The shape of the spec files, declared once: structural validation and the JSON Schema.

Each kind of mapping in a spec file (a measure, an indicator, a version, its tags, a population…)
is a :class:`Shape`: its keys with their kind, whether they are required, allowed values and a
description. :func:`check_shape` walks a parsed YAML value against a shape and returns every
:class:`Problem` it finds (unknown keys with the near spelling, missing keys, wrong types, values
outside an enumeration); :func:`json_schema` turns the same declarations into a JSON Schema so
editors autocomplete and underline the spec files. Meaning (references between specs, expression
parsing, kind-specific rules) is checked afterwards by :mod:`hospital_sdk.indicators.catalog`.

Examples
--------
>>> problems = check_shape({"name_zh": "出院人次", "agregation": "count"}, MEASURE,
...                        file="m.yaml", owner="discharges", path="measures.discharges")
>>> print(problems[0])
m.yaml: discharges: measures.discharges.agregation: unknown key (did you mean 'aggregation'?)
>>> json_schema(MEASURE_FILE)["properties"]["fact"]["enum"]
['stay_fact', 'procedure_fact', 'visit_fact', 'exam_fact', 'procurement_fact']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hospital_sdk.indicators.facts import FACTS
from hospital_sdk.model import suggest

__all__ = [
    "read_spec_file",
    "AGGREGATIONS",
    "CONFIDENCE",
    "DIRECTIONS",
    "DOMAINS",
    "INDICATOR_FILE",
    "KINDS",
    "MEASURE",
    "MEASURE_FILE",
    "VALUE_SET_FILE",
    "Key",
    "Problem",
    "Shape",
    "check_shape",
    "json_schema",
    "spec_json_schemas",
]

KINDS = ("derived", "proportion", "rate", "ratio", "mean", "difference", "sum", "growth",
         "standardized_ratio", "reported")
"""Indicator kinds: a derived indicator (派生指标), the composite kinds (复合指标), reported values."""
AGGREGATIONS = ("count", "count_distinct", "sum", "min", "max")
DOMAINS = ("inpatient", "outpatient_emergency", "examination", "laboratory", "surgery", "drugs",
           "nursing", "materials", "billing", "cost", "performance", "hr")
"""Business domains (业务域) an indicator belongs to."""
DIRECTIONS = ("higher_better", "lower_better", "monitor", "target_range")
CONFIDENCE = ("confirmed", "unconfirmed", "chosen")
"""How sure the rule is: confirmed by a source, unconfirmed in the reference, or our choice."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one spec file.

    Parameters
    ----------
    file
        The spec file.
    owner
        The indicator, measure or value-set id the problem belongs to (``""`` when unknown).
    key
        Dotted path to the key inside the file (``versions[1].population.numerator.where``).
    message
        What is wrong, and what was expected.
    """

    file: str
    owner: str
    key: str
    message: str

    def __str__(self) -> str:
        owner = f" {self.owner}:" if self.owner else ""
        key = f" {self.key}:" if self.key else ""
        return f"{self.file}:{owner}{key} {self.message}"


@dataclass(frozen=True)
class Key:
    """One key of a :class:`Shape`.

    ``kind`` is one of ``str`` (text), ``text`` (str or number, read as text), ``int``,
    ``number``, ``bool``, ``date``, ``expr`` (an expression string), ``exprs`` (an expression
    or a list of them), ``ref`` (an id, optionally ``id@version``), ``strs`` (list of text),
    ``mapping`` (free mapping checked elsewhere), ``shape`` (nested :attr:`shape`), ``shapes``
    (list of :attr:`shape`), ``shape_map`` (id -> :attr:`shape`).
    """

    name: str
    kind: str
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    shape: Shape | None = None


@dataclass(frozen=True)
class Shape:
    """A mapping with declared keys."""

    name: str
    description: str
    keys: tuple[Key, ...] = field(default=())
    inherits: bool = False
    """In a list, items after the first inherit missing keys from the one before (so their
    required keys are checked after merging, not here)."""

    def key(self, name: str) -> Key | None:
        """The declared key ``name``, or ``None``."""
        return next((k for k in self.keys if k.name == name), None)


def _k(name: str, kind: str, description: str, *, required: bool = False,
       enum: tuple[str, ...] = (), shape: Shape | None = None) -> Key:
    return Key(name, kind, description, required, enum, shape)


SOURCE = Shape("source", "Where the rule comes from (来源文件与条款) and how sure it is.", (
    _k("document", "str", "Source document (e.g. 国家三级公立医院绩效考核操作手册（2024版）)",
       required=True),
    _k("clause", "text", "Clause, indicator number or section"),
    _k("confidence", "str", "confirmed / unconfirmed (per the reference) / chosen (our choice)",
       required=True, enum=CONFIDENCE),
    _k("note", "str", "Why, and what is assumed"),
))
TARGET = Shape("target", "Target range of a target_range indicator.", (
    _k("low", "number", "Lowest value on target"),
    _k("high", "number", "Highest value on target"),
))
TAGS = Shape("tags", "Governance tags of an indicator.", (
    _k("subject", "str", "Evaluation subject (评价主体), e.g. 医院 / 科室 / 医师", required=True),
    _k("matter", "str", "Evaluation matter (评价事项)", required=True),
    _k("purpose", "str", "Evaluation purpose (评价目的)", required=True),
    _k("responsible_department", "str", "Responsible department (归口科室)", required=True),
    _k("domain", "str", "Business domain (业务域)", required=True, enum=DOMAINS),
    _k("source", "shape", "Source document and clause", required=True, shape=SOURCE),
    _k("direction", "str", "Which way is better", required=True, enum=DIRECTIONS),
    _k("target", "shape", "Target range (direction target_range)", shape=TARGET),
    _k("unit", "str", "Unit of the value (%, ‰, 人次, 天, 元, DDDs, …)", required=True),
    _k("national_monitoring", "bool", "National monitoring indicator (▲)", required=True),
    _k("owner", "str", "Who maintains the definition", required=True),
    _k("reviewer", "str", "Who reviewed it last"),
    _k("review_date", "date", "When it was reviewed last (YYYY-MM-DD)"),
))
EXCLUSION = Shape("exclusion", "Records taken out of the denominator (and so the numerator).", (
    _k("id", "str", "Exclusion id", required=True),
    _k("name_zh", "str", "Chinese name", required=True),
    _k("name_en", "str", "English name", required=True),
    _k("where", "expr", "Condition of an excluded record", required=True),
))
TERM = Shape("term", "One side of a population: a measure counted over records meeting `where`.", (
    _k("measure", "ref", "Measure id (numerator: defaults to the denominator's measure)"),
    _k("where", "exprs", "Condition(s) a record meets to be counted (all must hold)"),
))
POPULATION = Shape("population", "Denominator, exclusions and numerator over one fact.", (
    _k("counting_unit", "str", "What is counted: admission, procedure, visit, patient, day, …",
       required=True),
    _k("denominator", "shape", "The denominator population", required=True, shape=TERM),
    _k("exclusions", "shapes", "Denominator exclusions", shape=EXCLUSION),
    _k("numerator", "shape", "The numerator: the denominator population restricted further",
       required=True, shape=TERM),
))
_RULE_KEYS: tuple[Key, ...] = (
    _k("kind", "str", "Indicator kind", enum=KINDS),
    _k("measure", "ref", "derived: the measure"),
    _k("where", "exprs", "derived: business qualifiers (all must hold)"),
    _k("exclusions", "shapes", "derived: records left out", shape=EXCLUSION),
    _k("population", "shape", "proportion/rate/mean/ratio over one fact", shape=POPULATION),
    _k("numerator", "ref", "Numerator: a measure or indicator id (observed, for "
       "standardized_ratio)"),
    _k("denominator", "ref", "Denominator: a measure or indicator id (expected, for "
       "standardized_ratio)"),
    _k("left", "ref", "difference: left - right; sum: left + right"),
    _k("right", "ref", "difference: left - right; sum: left + right"),
    _k("of", "ref", "growth: the indicator whose change is measured"),
    _k("over", "str", "growth: compared with the year before or the month before",
       enum=("year", "month")),
    _k("per", "number", "Scale: 100 for %, 1000 for ‰, 10000 for ‱, 1 for a plain ratio"),
    _k("dimensions", "strs", "Dimensions the indicator may be cut by (default: all its facts'"
       " dimensions)"),
    _k("reported", "mapping", "reported: value type, unit, range (see reported.ReportedRule)"),
)
VERSION = Shape("version", "One version of an indicator's rule; later versions inherit every "
                "key they do not restate from the version before.", inherits=True, keys=(
    _k("version", "text", "Version label", required=True),
    _k("valid_from", "int", "First year the version applies to"),
    _k("valid_to", "int", "Last year the version applies to"),
    _k("changes", "str", "What changed from the previous version, and why"),
    _k("name_zh", "str", "Chinese name, when the version renames the indicator"),
    _k("name_en", "str", "English name, when the version renames the indicator"),
    _k("notes", "str", "Assumptions and choices where the manual is silent"),
    *_RULE_KEYS,
))
INDICATOR_FILE = Shape("indicator", "An indicator file: one indicator, all its versions.", (
    _k("id", "str", "Indicator id (the file is named <id>.yaml)", required=True),
    _k("name_zh", "str", "Chinese name", required=True),
    _k("name_en", "str", "English name", required=True),
    _k("description_zh", "str", "Definition in Chinese"),
    _k("description_en", "str", "Definition in English"),
    _k("tags", "shape", "Governance tags", required=True, shape=TAGS),
    _k("versions", "shapes", "Versions, oldest first", required=True, shape=VERSION),
))
MEASURE = Shape("measure", "An atomic measure (原子指标): one aggregation over one fact.", (
    _k("name_zh", "str", "Chinese name", required=True),
    _k("name_en", "str", "English name", required=True),
    _k("aggregation", "str", "How rows are aggregated", required=True, enum=AGGREGATIONS),
    _k("expression", "expr", "What is aggregated (not for count)"),
    _k("unit", "str", "Unit of the measure", required=True),
    _k("counting_unit", "str", "What one counted item is (admission, visit, patient, day…)",
       required=True),
    _k("time_field", "str", "Field placing a row in a period (default: the fact's)"),
    _k("additive", "bool", "Whether values of sub-periods and sub-groups add up", required=True),
    _k("description_zh", "str", "Definition in Chinese"),
    _k("description_en", "str", "Definition in English"),
))
MEASURE_FILE = Shape("measures", "A measures file: the atomic measures of one fact.", (
    _k("fact", "str", "The fact table", required=True, enum=tuple(FACTS)),
    _k("measures", "shape_map", "Measures by id", required=True, shape=MEASURE),
))
VALUE_SET_VERSION = Shape("value_set_version", "One version of a code list.", (
    _k("version", "text", "Version label (a year)", required=True),
    _k("valid_from", "int", "First year the version applies to", required=True),
    _k("categories", "mapping", "Categories: id, zh, en, codes (prefixes or ranges)",
       required=True),
))
VALUE_SET_FILE = Shape("value_set", "A value set (code list) with versions by year.", (
    _k("id", "str", "Value-set id (the file is named <id>.yaml)", required=True),
    _k("zh", "str", "Chinese name", required=True),
    _k("en", "str", "English name", required=True),
    _k("source", "str", "Source document", required=True),
    _k("confidence", "str", "How sure the list is", required=True),
    _k("versions", "shapes", "Versions, oldest first", required=True, shape=VALUE_SET_VERSION),
))

_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "text": (str, int, float), "int": (int,), "number": (int, float),
    "bool": (bool,), "date": (dt.date, str), "expr": (str,), "ref": (str,),
    "mapping": (Mapping, list), "shape": (Mapping,), "shapes": (list,), "shape_map": (Mapping,),
    "strs": (list,), "exprs": (str, list),
}
_TYPE_NAMES = {"str": "text", "text": "text", "int": "a whole number", "number": "a number",
               "bool": "true or false", "date": "a date YYYY-MM-DD", "expr": "an expression",
               "ref": "an id", "mapping": "a mapping", "shape": "a mapping",
               "shapes": "a list of mappings", "shape_map": "a mapping of ids",
               "strs": "a list of texts", "exprs": "an expression or a list of them"}


def _type_ok(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("int", "number", "text"):
        return False
    if kind == "date" and isinstance(value, str):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
    return isinstance(value, _TYPES[kind])


def check_shape(raw: Any, shape: Shape, *, file: str, owner: str, path: str,
                partial: bool = False) -> list[Problem]:
    """Every structural problem of ``raw`` against ``shape`` (``[]`` when it fits).

    Parameters
    ----------
    raw
        The parsed YAML value.
    shape
        What it should look like.
    file, owner, path
        Context for the problems: file name, owning id, dotted key path of ``raw``.
    partial
        Do not require the required keys (a version inheriting from the one before).
    """
    def problem(key: str, message: str) -> Problem:
        return Problem(file, owner, key, message)

    if not isinstance(raw, Mapping):
        return [problem(path, f"expected a mapping ({shape.description}), got "
                              f"{type(raw).__name__}")]
    out: list[Problem] = []
    names = [k.name for k in shape.keys]
    for name in raw:
        if shape.key(str(name)) is None:
            out.append(problem(_join(path, str(name)), f"unknown key{suggest(str(name), names)}"))
    for key in shape.keys:
        where = _join(path, key.name)
        if key.name not in raw or raw[key.name] is None:
            if key.required and not partial:
                out.append(problem(where, f"missing ({key.description})"))
            continue
        value = raw[key.name]
        if not _type_ok(value, key.kind):
            out.append(problem(where, f"expected {_TYPE_NAMES[key.kind]}, got {value!r}"))
            continue
        if key.enum and value not in key.enum:
            out.append(problem(where, f"{value!r} is not one of {list(key.enum)}"
                                      f"{suggest(str(value), key.enum)}"))
        elif key.kind == "strs" or (key.kind == "exprs" and isinstance(value, list)):
            out += [problem(f"{where}[{i}]", f"expected text, got {v!r}")
                    for i, v in enumerate(value) if not isinstance(v, str)]
        elif key.kind == "shape" and key.shape is not None:
            out += check_shape(value, key.shape, file=file, owner=owner, path=where,
                               partial=partial)
        elif key.kind == "shapes" and key.shape is not None:
            if not value:
                out.append(problem(where, "must not be empty"))
            for i, item in enumerate(value):
                out += check_shape(item, key.shape, file=file, owner=owner, path=f"{where}[{i}]",
                                   partial=partial or (key.shape.inherits and i > 0))
        elif key.kind == "shape_map" and key.shape is not None:
            for name, item in value.items():
                out += check_shape(item, key.shape, file=file, owner=str(name),
                                   path=_join(where, str(name)))
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _key_schema(key: Key) -> dict[str, Any]:
    kind = key.kind
    out: dict[str, Any]
    if kind in ("str", "expr", "ref"):
        out = {"type": "string"}
    elif kind == "text":
        out = {"type": ["string", "number"]}
    elif kind == "int":
        out = {"type": "integer"}
    elif kind == "number":
        out = {"type": "number"}
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "date":
        out = {"type": "string", "format": "date"}
    elif kind == "strs":
        out = {"type": "array", "items": {"type": "string"}}
    elif kind == "exprs":
        out = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    elif kind == "mapping":
        out = {"type": ["object", "array"]}
    elif kind == "shape":
        assert key.shape is not None
        out = json_schema(key.shape)
    elif kind == "shapes":
        assert key.shape is not None
        out = {"type": "array", "minItems": 1, "items": json_schema(key.shape)}
    else:  # shape_map
        assert key.shape is not None
        out = {"type": "object", "additionalProperties": json_schema(key.shape)}
    if key.enum:
        out["enum"] = list(key.enum)
    out["description"] = key.description
    return out


def json_schema(shape: Shape) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``shape``, nested shapes inlined."""
    return {
        "type": "object",
        "description": shape.description,
        "properties": {k.name: _key_schema(k) for k in shape.keys},
        "required": [k.name for k in shape.keys if k.required],
        "additionalProperties": False,
    }


def spec_json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each kind of spec file, by file kind (``indicator``, ``measures``,
    ``value_set``), each with ``$schema`` and ``title`` set.

    >>> sorted(spec_json_schemas())
    ['indicator', 'measures', 'value_set']
    """
    out = {}
    for kind, shape in (("indicator", INDICATOR_FILE), ("measures", MEASURE_FILE),
                        ("value_set", VALUE_SET_FILE)):
        out[kind] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                     "title": f"hospital_sdk {kind} spec", **json_schema(shape)}
    return out


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last one
    silently, so an edited copy of a key would hide the original)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first at line {seen[key] + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_spec_file(path: Path, file: str, problems: list[Problem]) -> Any:
    """The parsed content of a spec file, or ``None`` with a :class:`Problem` added: the file
    cannot be read, is not YAML (line and column given), or repeats a key in one mapping.

    >>> import tempfile
    >>> problems: list[Problem] = []
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "x.yaml"
    ...     _ = path.write_text("id: a\\nnotes: one\\nnotes: two\\n", encoding="utf-8")
    ...     read_spec_file(path, "x.yaml", problems)
    >>> print(problems[0])
    x.yaml: not valid YAML at line 3, column 1: key 'notes' appears twice (first at line 2)
    """
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(file, "", "", f"cannot read: {exc}"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(file, "", "",
                                f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"))
    return None
