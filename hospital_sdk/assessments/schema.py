"""The shape of the assessment files, declared once (as :mod:`hospital_sdk.indicators.schema`
declares the indicator files'): what :func:`~hospital_sdk.assessments.editions.load_assessments`
checks before reading meaning, and the JSON Schema editors can use.

The format itself is described in :mod:`hospital_sdk.assessments.editions`.

Examples
--------
>>> from hospital_sdk.indicators.schema import check_shape
>>> for p in check_shape({"item": "4", "sub_dimensoin": "quality_safety", "data_source": "病案首页",
...                       "national_monitoring": True}, ITEM, file="e.yaml", owner="item 4",
...                      path="items[3]"):
...     print(p)
e.yaml: item 4: items[3].sub_dimensoin: unknown key (did you mean 'sub_dimension'?)
e.yaml: item 4: items[3].sub_dimension: missing (Sub-dimension id)
>>> sorted(assessment_json_schemas())
['assessment', 'edition']
"""

from __future__ import annotations

from typing import Any

from hospital_sdk.indicators.schema import (
    CONFIDENCE,
    DIRECTIONS,
    SOURCE,
    Key,
    Shape,
    json_schema,
)

__all__ = ["ASSESSMENT_FILE", "DATA_SOURCES", "EDITION_FILE", "EDITION_TOP", "ITEM",
           "assessment_json_schemas"]

DATA_SOURCES = ("病案首页", "财务", "填报", "平台", "满意度")
"""The manuals' data sources: discharge abstract, financial report, self-report, platform,
satisfaction survey."""

# ---- shapes -----------------------------------------------------------------------------------

_NAMES = (Key("id", "str", "Id", True), Key("name_zh", "str", "Chinese name", True),
          Key("name_en", "str", "English name", True))
SUB_DIMENSION = Shape("sub_dimension", "A second-level dimension (二级指标).", _NAMES)
DIMENSION = Shape("dimension", "A first-level dimension (一级指标).", (
    *_NAMES, Key("sub_dimensions", "shapes", "Its sub-dimensions", True, shape=SUB_DIMENSION)))
ASSESSMENT_FILE = Shape("assessment", "An assessment: the structure its editions share.", (
    Key("id", "str", "Assessment id (the folder's name)", True),
    Key("name_zh", "str", "Chinese name", True), Key("name_en", "str", "English name", True),
    Key("source", "shape", "Source document and how sure it is", True, shape=SOURCE),
    Key("comparison", "str", "How peers are grouped for comparison", True),
    Key("dimensions", "shapes", "First-level dimensions, in order", True, shape=DIMENSION)))
MISSING = Shape("missing", "Why an item has no catalog indicator yet.", (
    Key("reason", "str", "Why (shown as the item's reason)", True),
    Key("data_source", "str", "Where its inputs would come from")))
REFERENCE = Shape("national_reference", "A published national figure.", (
    Key("value", "number", "The value", True), Key("year", "int", "Its data year", True),
    Key("note", "str", "Source and confidence")))
ITEM = Shape("item", "One item of an edition.", (
    Key("item", "text", "Item number as printed ('4', '增1')", True),
    Key("sub_dimension", "str", "Sub-dimension id", True),
    Key("indicator", "ref", "Catalog indicator, id@version"),
    Key("missing", "shape", "Instead of indicator: why there is none yet", shape=MISSING),
    Key("components", "strs", "Instead of indicator: the catalog indicators (id@version) the item "
        "is shown as, with no single value of its own (#10's 40 single-disease measures)"),
    Key("component_weight", "number", "Weight of each component in the total (default 0: "
        "shown and scored, not counted in the total)"),
    Key("name_zh", "str", "Name as printed (required without an indicator)"),
    Key("name_en", "str", "English name (required without an indicator)"),
    Key("unit", "str", "Unit (without an indicator)"),
    Key("direction", "str", "Overrides the indicator's direction", enum=DIRECTIONS),
    Key("national_monitoring", "bool", "National monitoring item (▲) in this edition", True),
    Key("data_source", "str", "The manual's data source", True, enum=DATA_SOURCES),
    Key("responsible_department", "str", "Responsible department (without an indicator)"),
    Key("weight", "number", "Weight in the total (default: the scoring's)"),
    Key("national_reference", "shape", "Published national figure", shape=REFERENCE),
    Key("notes", "str", "Notes shown with the item")))
TIER = Shape("tier_cut_off", "A tier and the top share of peers it covers.", (
    Key("tier", "str", "Tier name (A++, A+, …)", True),
    Key("top_percent", "number", "Upper bound of the tier, percent of peers from the top", True),
    Key("confidence", "str", "Published (confirmed) or an assumption (chosen)", True,
        enum=CONFIDENCE),
    Key("note", "str", "Source or assumption")))
SCORING = Shape("scoring", "How items are scored and tiers estimated.", (
    Key("scope", "str", "Items entering the total", True, enum=("national_monitoring", "all")),
    Key("weights", "shape", "Default weight", True, shape=Shape("weights", "Weights.", (
        Key("default", "text", "'equal' or a number", True), Key("note", "str", "Why")))),
    Key("tier_cut_offs", "shapes", "Tiers, best first", True, shape=TIER),
    Key("tiers_note", "str", "What the tiers are and are not"),
    Key("monitor_items", "shape", "Monitor-only items", True, shape=Shape(
        "monitor_items", "Treatment of items with direction monitor.", (
            Key("treatment", "str", "How they are scored", True,
                enum=("excluded", "distance_from_median")),
            Key("note", "str", "Why"))))))
EDITION_FILE = Shape("edition", "An edition of an assessment.", (
    Key("assessment", "str", "Assessment id", True),
    Key("edition", "text", "Edition label (the file's stem)", True),
    Key("provisional", "bool", "The item list itself is unconfirmed"),
    Key("valid_from", "int", "First data year", True),
    Key("valid_to", "int", "Last data year"),
    Key("name_zh", "str", "Chinese name", True), Key("name_en", "str", "English name", True),
    Key("source", "shape", "Source document and how sure it is", True, shape=SOURCE),
    Key("changes", "str", "What differs from the previous edition, and why", True),
    Key("expected", "shape", "Counts the manual states", shape=Shape("expected", "Counts.", (
        Key("items", "int", "Items"), Key("national_monitoring", "int", "▲ items")))),
    Key("scoring", "shape", "Scoring", True, shape=SCORING),
    Key("items", "shapes", "Items in the manual's order", True, shape=ITEM)))
EDITION_TOP = Shape(EDITION_FILE.name, EDITION_FILE.description, tuple(
    Key("items", "mapping", k.description, True) if k.name == "items" else k
    for k in EDITION_FILE.keys))
"""The edition shape with ``items`` left unchecked: the loader checks each item on its own so
that a problem names the item's number."""


def assessment_json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of ``assessment.yaml`` and of an edition file, by kind."""
    return {kind: {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "title": f"hospital_sdk {kind} file", **json_schema(shape)}
            for kind, shape in (("assessment", ASSESSMENT_FILE), ("edition", EDITION_FILE))}
