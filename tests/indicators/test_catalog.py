"""Spec validation: every rule has a failing example with its exact message.

Each test writes a small catalog into a temporary folder — a valid base (one measures file, two
indicators) with one thing broken — and compares the full list of problems, so a rule that stops
firing, fires twice or changes its wording fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hospital_sdk.errors import IndicatorError, SpecError
from hospital_sdk.indicators import load_catalog, validate_catalog

MEASURES: dict[str, Any] = {"fact": "stay_fact", "measures": {
    "discharges": {"name_zh": "出院人次", "name_en": "Discharges", "aggregation": "count",
                   "unit": "人次", "counting_unit": "admission", "additive": True},
    "bed_days": {"name_zh": "床日", "name_en": "Bed-days", "aggregation": "sum",
                 "expression": "_.los_days", "unit": "床日", "counting_unit": "day",
                 "additive": True},
}}
VISITS: dict[str, Any] = {"fact": "visit_fact", "measures": {
    "visits": {"name_zh": "就诊人次", "name_en": "Visits", "aggregation": "count", "unit": "人次",
               "counting_unit": "visit", "additive": True}}}
TAGS: dict[str, Any] = {
    "subject": "医院", "matter": "功能定位", "purpose": "监测", "responsible_department": "医务处",
    "domain": "surgery", "source": {"document": "手册", "clause": "4", "confidence": "confirmed"},
    "direction": "higher_better", "unit": "%", "national_monitoring": True, "owner": "质控办"}


def _share() -> dict[str, Any]:
    return {"id": "share", "name_zh": "手术占比", "name_en": "Surgical share", "tags": TAGS,
            "versions": [{"version": "1", "kind": "proportion", "population": {
                "counting_unit": "admission", "denominator": {"measure": "discharges"},
                "numerator": {"where": "_.has_surgery"}}}]}


def _count() -> dict[str, Any]:
    return {"id": "count", "name_zh": "出院", "name_en": "Discharges", "tags": TAGS,
            "versions": [{"version": "1", "kind": "derived", "measure": "discharges"}]}


def _write(root: Path, files: dict[str, Any]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False,
                                                                        allow_unicode=True)
        path.write_text(text, encoding="utf-8")
    return root


def _problems(tmp_path: Path, **changes: Any) -> list[str]:
    files: dict[str, Any] = {"measures/stay_fact.yaml": MEASURES,
                             "measures/visit_fact.yaml": VISITS,
                             "indicators/share.yaml": _share(),
                             "indicators/count.yaml": _count()}
    for rel, content in changes.items():
        files[rel.replace("__", "/").replace("_yaml", ".yaml")] = content
    files = {k: v for k, v in files.items() if v is not None}
    return [str(p) for p in validate_catalog(_write(tmp_path / "catalog", files))]


def _share_with(**version: Any) -> dict[str, Any]:
    spec = _share()
    spec["versions"][0].update(version)
    return spec


def test_the_base_catalog_is_valid(tmp_path: Path) -> None:
    assert _problems(tmp_path) == []
    catalog = load_catalog(tmp_path / "catalog")
    assert sorted(catalog.indicators) == ["count", "share"]


def test_unknown_key_suggests_the_near_spelling(tmp_path: Path) -> None:
    spec = _share()
    spec["versions"][0]["population"]["numerater"] = spec["versions"][0]["population"].pop(
        "numerator")
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].population.numerater: unknown key "
        "(did you mean 'numerator'?)",
        "indicators/share.yaml: share: versions[0].population.numerator: missing (The numerator: "
        "the denominator population restricted further)"]


def test_wrong_type_and_enum(tmp_path: Path) -> None:
    spec = _share()
    spec["tags"] = {**TAGS, "national_monitoring": "yes", "domain": "surgry"}
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: tags.domain: 'surgry' is not one of ['inpatient', "
        "'outpatient_emergency', 'examination', 'laboratory', 'surgery', 'drugs', 'nursing', "
        "'materials', 'billing', 'cost', 'performance', 'hr'] (did you mean 'surgery'?)",
        "indicators/share.yaml: share: tags.national_monitoring: expected true or false, "
        "got 'yes'"]


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    assert _problems(tmp_path, indicators__share_yaml="id: share\nname_zh: [unclosed\n") == [
        "indicators/share.yaml: not valid YAML at line 3, column 1: expected ',' or ']', "
        "but got '<stream end>'"]


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    # PyYAML would keep the second silently: an edited copy of a key would hide the first
    text = "id: count\nname_zh: 出院\nname_en: Discharges\nname_en: Again\n"
    assert _problems(tmp_path, indicators__count_yaml=text) == [
        "indicators/count.yaml: not valid YAML at line 4, column 1: key 'name_en' appears "
        "twice (first at line 3)"]


def test_file_name_must_be_the_id(tmp_path: Path) -> None:
    assert _problems(tmp_path, indicators__other_yaml={**_count(), "id": "count2"}) == [
        "indicators/other.yaml: count2: id: the file of indicator 'count2' must be named "
        "count2.yaml"]


def test_ids_are_unique_across_indicators_and_measures(tmp_path: Path) -> None:
    assert _problems(tmp_path, indicators__sub__discharges_yaml={**_count(),
                                                                 "id": "discharges"}) == [
        "indicators/sub/discharges.yaml: discharges: id: the id is already used by another "
        "indicator or a measure"]


def test_measure_rules(tmp_path: Path) -> None:
    measures = {"fact": "stay_fact", "measures": {
        **MEASURES["measures"],
        "bad_count": {"name_zh": "x", "name_en": "x", "aggregation": "count",
                      "expression": "_.los_days", "unit": "x", "counting_unit": "x",
                      "additive": True},
        "bad_sum": {"name_zh": "x", "name_en": "x", "aggregation": "sum", "unit": "x",
                    "counting_unit": "x", "additive": False, "time_field": "admision_time"},
        "bad_distinct": {"name_zh": "x", "name_en": "x", "aggregation": "count_distinct",
                         "expression": "_.drg_code", "unit": "x", "counting_unit": "x",
                         "additive": True, "time_field": "los_days"},
    }}
    assert _problems(tmp_path, measures__stay_fact_yaml=measures) == [
        "measures/stay_fact.yaml: bad_count: measures.bad_count.expression: a count counts "
        "rows; give no expression",
        "measures/stay_fact.yaml: bad_sum: measures.bad_sum.expression: missing (a sum "
        "aggregates an expression)",
        "measures/stay_fact.yaml: bad_sum: measures.bad_sum.additive: a sum is additive",
        "measures/stay_fact.yaml: bad_sum: measures.bad_sum.time_field: fact 'stay_fact' has no "
        "column 'admision_time' (did you mean 'admission_time'?)",
        "measures/stay_fact.yaml: bad_distinct: measures.bad_distinct.additive: a "
        "count_distinct is not additive",
        "measures/stay_fact.yaml: bad_distinct: measures.bad_distinct.time_field: 'los_days' is "
        "not a date or time"]


def test_repeated_measure_id(tmp_path: Path) -> None:
    again = {"fact": "visit_fact", "measures": {"discharges": VISITS["measures"]["visits"]}}
    assert _problems(tmp_path, measures__visit_fact_yaml=again) == [
        "measures/visit_fact.yaml: discharges: measures.discharges: measure id repeats (also in "
        "measures/stay_fact.yaml)"]


def test_expression_errors_are_reported_with_their_key(tmp_path: Path) -> None:
    spec = _share()
    spec["versions"][0]["population"]["numerator"]["where"] = ["_.has_surgery and _.is_death",
                                                               "_.has_surgry"]
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].population.numerator.where[0]: expression "
        "\"_.has_surgery and _.is_death\": 'and' is not allowed (at column 14); use & for and, "
        "| for or, ~ for not",
        "indicators/share.yaml: share: versions[0].population.numerator.where[1]: expression "
        "\"_.has_surgry\": unknown column 'has_surgry' (did you mean 'has_surgery'?)"]


def test_a_filter_must_be_a_condition(tmp_path: Path) -> None:
    spec = _share()
    spec["versions"][0]["population"]["numerator"]["where"] = "_.los_days"
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].population.numerator.where: expression "
        "\"_.los_days\": must be a boolean condition, got int32"]


def test_unknown_value_set(tmp_path: Path) -> None:
    spec = _share()
    spec["versions"][0]["population"]["exclusions"] = [{
        "id": "ob", "name_zh": "产科", "name_en": "Obstetric",
        "where": "in_value_set(_.principal_diagnosis_code, 'obstetric')"}]
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].population.exclusions[0].where: expression "
        "\"in_value_set(_.principal_diagnosis_code, 'obstetric')\": unknown value set "
        "'obstetric'"]


def test_kind_rules(tmp_path: Path) -> None:
    assert _problems(tmp_path, indicators__share_yaml=_share_with(measure="discharges",
                                                                 numerator="count")) == [
        "indicators/share.yaml: share: versions[0].measure: not used by a proportion indicator "
        "(it uses ['denominator', 'dimensions', 'numerator', 'per', 'population'])",
        "indicators/share.yaml: share: versions[0]: a proportion indicator needs either a "
        "population or both numerator and denominator refs"]
    growth = {**_count(), "versions": [{"version": "1", "kind": "growth", "of": "share"}]}
    assert _problems(tmp_path, indicators__count_yaml=growth) == [
        "indicators/count.yaml: count: versions[0].over: missing (a growth indicator needs it)"]


def test_references_resolve(tmp_path: Path) -> None:
    ratio = {**_share(), "versions": [{"version": "1", "kind": "ratio", "numerator": "visit",
                                       "denominator": "count@2"}]}
    assert _problems(tmp_path, indicators__share_yaml=ratio) == [
        "indicators/share.yaml: share: versions[0].numerator: 'visit' is neither a measure nor "
        "an indicator (did you mean 'visits'?)",
        "indicators/share.yaml: share: versions[0].denominator: indicator 'count' has no "
        "version '2' (it has ['1'])"]


def test_population_rules(tmp_path: Path) -> None:
    spec = _share()
    pop = spec["versions"][0]["population"]
    pop["counting_unit"] = "patient"
    pop["numerator"]["measure"] = "bed_days"
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].population.counting_unit: the population "
        "counts 'patient' but measure 'discharges' counts 'admission'",
        "indicators/share.yaml: share: versions[0].population.numerator.measure: a proportion "
        "counts the same measure in numerator and denominator (use kind ratio, rate or mean)"]
    spec = _share()
    spec["versions"][0]["kind"] = "ratio"
    spec["versions"][0]["population"]["numerator"]["measure"] = "visits"
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].population.numerator.measure: measure "
        "'visits' is on 'visit_fact' but the denominator's is on 'stay_fact'; a population is "
        "one fact (use numerator/denominator refs across facts)"]


def test_rate_scale_dimensions_and_years(tmp_path: Path) -> None:
    spec = _share_with(kind="rate", per=50, dimensions=["departmnet"], valid_from=2024,
                       valid_to=2020)
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[0].per: a rate is per 100, 1000, 10000 or "
        "100000, got 50",
        "indicators/share.yaml: share: versions[0].valid_to: 2020 is before valid_from 2024",
        "indicators/share.yaml: share: versions[0].dimensions: unknown dimension 'departmnet' "
        "(did you mean 'department'?)"]


def test_cycles_are_refused(tmp_path: Path) -> None:
    a = {**_count(), "versions": [{"version": "1", "kind": "difference", "left": "share",
                                   "right": "discharges"}]}
    b = {**_share(), "versions": [{"version": "1", "kind": "ratio", "numerator": "count",
                                   "denominator": "discharges"}]}
    assert _problems(tmp_path, indicators__count_yaml=a, indicators__share_yaml=b) == [
        "indicators/count.yaml: count: versions: refers to itself: count@1 -> share@1 -> count@1",
        "indicators/share.yaml: share: versions: refers to itself: share@1 -> count@1 -> share@1"]


def test_versions_inherit_and_must_be_distinct(tmp_path: Path) -> None:
    spec = _share()
    spec["versions"].append({"version": "2", "changes": "elective only",
                             "population": {"denominator": {"where": "_.has_elective_surgery"}}})
    assert _problems(tmp_path, indicators__share_yaml=spec) == []
    v2 = load_catalog(tmp_path / "catalog")["share@2"]
    assert v2.population is not None and v2.population.counting_unit == "admission"
    assert [e.text for e in v2.population.numerator.where] == ["_.has_elective_surgery",
                                                                "_.has_surgery"]
    spec["versions"].append({"version": "2"})
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[2].version: version '2' repeats"]


def test_a_version_restating_the_kind_starts_afresh(tmp_path: Path) -> None:
    spec = _share()
    spec["versions"].append({"version": "2", "kind": "ratio"})
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: versions[1]: a ratio indicator needs either a population "
        "or both numerator and denominator refs"]


def test_target_range_needs_a_target(tmp_path: Path) -> None:
    spec = _share()
    spec["tags"] = {**TAGS, "direction": "target_range"}
    assert _problems(tmp_path, indicators__share_yaml=spec) == [
        "indicators/share.yaml: share: tags.target: missing (direction target_range needs a "
        "target)"]


def test_reported_rule_problems_carry_their_key(tmp_path: Path) -> None:
    spec = {**_count(), "versions": [{"version": "1", "kind": "reported",
                                      "reported": {"value_type": "levle"}}]}
    problems = _problems(tmp_path, indicators__count_yaml=spec)
    assert problems == [
        "indicators/count.yaml: count: versions[0].reported.value_type: unknown type 'levle' "
        "(did you mean 'level'?); expected one of number, integer, percent, level, grade, "
        "boolean, text"]


def test_value_set_versions_must_be_ordered(tmp_path: Path) -> None:
    cats = [{"id": "o", "zh": "O", "en": "O", "codes": ["O00-O99"]}]
    vs = {"id": "ob", "zh": "产科", "en": "Obstetric", "source": "-", "confidence": "chosen",
          "versions": [{"version": "2022", "valid_from": 2022, "categories": cats},
                       {"version": "2019", "valid_from": 2019, "categories": cats}]}
    assert _problems(tmp_path, value_sets__ob_yaml=vs) == [
        "value_sets/ob.yaml: ob: versions[1].valid_from: versions must be listed oldest first "
        "with increasing valid_from"]


def test_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    broken_count = {**_count(), "versions": [{"version": "1", "kind": "derived",
                                              "measure": "dischargez"}]}
    problems = _problems(tmp_path, indicators__count_yaml=broken_count,
                         indicators__share_yaml=_share_with(per="x"))
    assert problems == [
        "indicators/share.yaml: share: versions[0].per: expected a number, got 'x'",
        "indicators/count.yaml: count: versions[0].measure: unknown measure 'dischargez' "
        "(did you mean 'discharges'?)"]
    with pytest.raises(SpecError) as caught:
        load_catalog(tmp_path / "catalog")
    assert len(caught.value.problems) == 2
    assert str(caught.value).startswith("2 problem(s) in the indicator catalog ")


def test_lookups_name_what_is_missing() -> None:
    catalog = load_catalog()
    with pytest.raises(IndicatorError, match=r"unknown indicator 'surgery_shar' "
                                             r"\(did you mean 'surgery_share'\?\)"):
        catalog.get("surgery_shar")
    with pytest.raises(IndicatorError, match=r"indicator 'surgery_share' has no version '9' "
                                             r"\(it has \['1'\]\)"):
        catalog.get("surgery_share@9")


def test_shipped_catalog_is_valid() -> None:
    assert [str(p) for p in validate_catalog()] == []


def test_a_sum_needs_both_parts_and_names_them_left_and_right(tmp_path: Path) -> None:
    spec = {**_count(), "versions": [{"version": "1", "kind": "sum", "left": "discharges",
                                      "right": "dischargse", "per": 100}]}
    assert _problems(tmp_path, indicators__count_yaml=spec) == [
        "indicators/count.yaml: count: versions[0].per: not used by a sum indicator (it uses "
        "['dimensions', 'left', 'right'])",
        "indicators/count.yaml: count: versions[0].right: 'dischargse' is neither a measure "
        "nor an indicator (did you mean 'discharges'?)"]
    spec["versions"][0] = {"version": "1", "kind": "sum", "left": "discharges"}
    assert _problems(tmp_path, indicators__count_yaml=spec) == [
        "indicators/count.yaml: count: versions[0].right: missing (a sum indicator needs it)"]
