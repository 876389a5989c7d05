"""Assessment and edition files: the shipped sets, and one test per validation rule.

Each rule is tested on a small assessment written to a temporary folder (``demo``) and checked
against the shipped indicator catalog; the expected problem text is spelled out in full.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from hospital_sdk.assessments.editions import edition, load_assessments
from hospital_sdk.errors import IndicatorError, SpecError
from hospital_sdk.indicators import load_catalog
from hospital_sdk.indicators.catalog import Catalog

# ---- the shipped sets -------------------------------------------------------------------------

TERTIARY_MONITORING = {"4", "5", "6", "8", "9", "10", "13", "14", "17", "24", "31", "33", "34",
                       "35", "36", "38", "39", "40", "41", "45", "46", "48", "50", "53", "54",
                       "55"}
"""national-indicators.md §1.2 "Counts check": the 26 ▲ items."""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def shipped(catalog: Catalog) -> Any:
    return load_assessments(catalog=catalog)


def test_the_shipped_assessments_load(shipped: Any) -> None:
    assert sorted(shipped) == ["high_quality", "secondary", "tertiary"]
    assert sorted(shipped["tertiary"].editions) == ["2019", "2024"]


def test_tertiary_2024_has_56_items_26_monitoring_in_4_dimensions(shipped: Any) -> None:
    tertiary = shipped["tertiary"]
    e = tertiary.edition("2024")
    assert len(e.items) == 56 and e.summary()["national_monitoring"] == 26
    assert {i.item for i in e.items if i.national_monitoring} == TERTIARY_MONITORING
    assert [i.item for i in e.items] == [*map(str, range(1, 33)), "增1", *map(str, range(33, 56))]
    assert [d.name_zh for d in tertiary.dimensions] == ["医疗质量", "运营效率", "持续发展",
                                                         "满意度评价"]
    assert sum(len(d.sub_dimensions) for d in tertiary.dimensions) == 14
    assert e.place(e.item("增1").sub_dimension)[1].name_zh == "收支结构"
    assert [i.order for i in e.items] == list(range(1, 57))
    # every item has a definition in the catalog (#10 as its 40 components)
    assert e.summary() == {"items": 56, "national_monitoring": 26, "computable": 56,
                           "missing": 0}


def test_tertiary_2019_is_the_base_edition(shipped: Any) -> None:
    old, new = shipped["tertiary"].edition("2019"), shipped["tertiary"].edition("2024")
    assert len(old.items) == 55 and old.summary()["national_monitoring"] == 26
    assert "增1" not in {i.item for i in old.items}
    # and #32 in its 2019 (adjuvant-drug) form
    assert old.summary() == {"items": 55, "national_monitoring": 26, "computable": 55,
                             "missing": 0}
    assert [load_catalog().get(str(e.item("32").indicator)).name_zh for e in (old, new)] == [
        "辅助用药收入占比", "重点监控化学药品和生物制品收入占比"]
    assert (old.item("8").indicator, new.item("8").indicator) == (
        "surgical_complication_rate@1", "surgical_complication_rate@2")
    # where the rule did not change, both editions use the same catalog indicator: only #8
    # (complications' version) and #32 (another indicator) differ
    changed = [i.item for i in old.items
               if i.computable and i.indicator != new.item(i.item).indicator]
    assert changed == ["8", "32"]


def test_every_missing_item_says_what_the_catalog_lacks(shipped: Any) -> None:
    for assessment in shipped.values():
        for e in assessment.editions.values():
            for it in e.items:
                assert (it.indicator is None) == (it.missing is not None or bool(it.components))
                if it.missing is not None:
                    assert it.missing.reason.startswith("not yet defined in the catalog: ")
                    assert it.name_zh and it.name_en and it.direction


def test_secondary_reuses_the_tertiary_indicators(shipped: Any) -> None:
    secondary = shipped["secondary"].edition()
    assert secondary.summary() == {"items": 28, "national_monitoring": 21, "computable": 28,
                                   "missing": 0}
    tertiary = shipped["tertiary"].edition("2024")
    for s, t in (("1", "4"), ("2", "5"), ("5", "14"), ("6", "17"), ("11", "24"), ("15", "36"),
                 ("23", "46")):
        assert secondary.item(s).indicator == tertiary.item(t).indicator
    # the growths of cost per visit and per discharge are tertiary #38 and #40, as components
    assert secondary.item("21").components == (tertiary.item("38").indicator,
                                               tertiary.item("40").indicator)


def test_high_quality_is_provisional(shipped: Any) -> None:
    hq = shipped["high_quality"].edition()
    assert hq.provisional and hq.source.confidence == "unconfirmed"
    assert len(hq.items) == 18 and len(shipped["high_quality"].dimensions) == 5
    assert hq.assumptions()[0].endswith("PROVISIONAL — the item list is unconfirmed")


def test_the_edition_in_force_by_year(shipped: Any) -> None:
    tertiary = shipped["tertiary"]
    assert [tertiary.edition(year=y).edition for y in (2019, 2020, 2025)] == ["2019", "2024",
                                                                             "2024"]
    assert tertiary.edition().edition == "2024"
    with pytest.raises(IndicatorError, match=r"^no tertiary edition is in force in 2018 "
                                             r"\(editions: 2019 \(2019–2019\), 2024 \(2020–\)\)$"):
        tertiary.edition(year=2018)
    with pytest.raises(IndicatorError, match=r"has no edition '2030' \(it has \['2019', "
                                             r"'2024'\]\)"):
        tertiary.edition("2030")
    with pytest.raises(IndicatorError, match=r"unknown assessment 'tertairy' \(did you mean "
                                             r"'tertiary'\?\); known: high_quality, "
                                             r"secondary, tertiary"):
        edition("tertairy")


def test_scoring_of_an_edition(shipped: Any) -> None:
    scoring = shipped["tertiary"].edition("2024").scoring
    assert scoring.default_weight() == 1.0
    options = scoring.score_options()
    assert options["weights"] == "edition" and options["monitor"] == "excluded"
    assert options["scope"] == "national_monitoring"
    assert options["tier_cut_offs"][-1] == ("D", 100.0)
    assert [t.confidence for t in scoring.tier_cut_offs[:3]] == ["confirmed"] * 3


# ---- validation rules, on a small assessment ---------------------------------------------------

ASSESSMENT: dict[str, Any] = {
    "id": "demo", "name_zh": "演示", "name_en": "Demo",
    "source": {"document": "demo", "confidence": "chosen"},
    "comparison": "all institutions",
    "dimensions": [
        {"id": "quality", "name_zh": "质量", "name_en": "Quality",
         "sub_dimensions": [{"id": "surgery", "name_zh": "手术", "name_en": "Surgery"},
                            {"id": "drugs", "name_zh": "用药", "name_en": "Drugs"}]}]}
EDITION: dict[str, Any] = {
    "assessment": "demo", "edition": "2024", "valid_from": 2024,
    "name_zh": "演示 2024", "name_en": "Demo 2024",
    "source": {"document": "demo", "confidence": "chosen"},
    "changes": "first",
    "expected": {"items": 2, "national_monitoring": 1},
    "scoring": {"scope": "all", "weights": {"default": "equal"},
                "tier_cut_offs": [{"tier": "A", "top_percent": 20, "confidence": "chosen"},
                                  {"tier": "B", "top_percent": 100, "confidence": "chosen"}],
                "monitor_items": {"treatment": "excluded"}},
    "items": [
        {"item": "1", "sub_dimension": "surgery", "indicator": "surgery_share@1",
         "national_monitoring": True, "data_source": "病案首页"},
        {"item": "2", "sub_dimension": "drugs", "national_monitoring": False,
         "data_source": "填报", "missing": {"reason": "not yet defined in the catalog: x"},
         "name_zh": "某指标", "name_en": "Something", "direction": "higher_better"}]}


def _write(root: Path, assessment: dict[str, Any] | None = None,
           editions: dict[str, dict[str, Any]] | None = None) -> Path:
    folder = root / "demo"
    (folder / "editions").mkdir(parents=True, exist_ok=True)
    (folder / "assessment.yaml").write_text(
        yaml.safe_dump(assessment or ASSESSMENT, allow_unicode=True), encoding="utf-8")
    for stem, raw in (editions if editions is not None else {"2024": EDITION}).items():
        (folder / "editions" / f"{stem}.yaml").write_text(
            yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return root


def _problems(root: Path, catalog: Catalog) -> list[str]:
    with pytest.raises(SpecError) as exc:
        load_assessments(root, catalog=catalog)
    assert str(exc.value).startswith(f"{len(exc.value.problems)} problem(s) in the national "
                                     f"assessments {root}:\n")
    return [str(p) for p in exc.value.problems]


def _edited(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(EDITION)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = raw
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return raw


F = "demo/editions/2024.yaml"


def test_a_valid_assessment_loads(tmp_path: Path, catalog: Catalog) -> None:
    e = load_assessments(_write(tmp_path), catalog=catalog)["demo"].edition()
    assert e.summary() == {"items": 2, "national_monitoring": 1, "computable": 1, "missing": 1}
    assert e.refs == ("surgery_share@1",)


def test_components_are_rows_of_their_own(tmp_path: Path, catalog: Catalog) -> None:
    raw = _edited(items__1__missing=None, items__1__component_weight=0.5,
                  items__1__components=["surgery_share@1", "inpatient_mortality@1"])
    e = load_assessments(_write(tmp_path, editions={"2024": raw}), catalog=catalog)[
        "demo"].edition()
    assert e.summary() == {"items": 2, "national_monitoring": 1, "computable": 2, "missing": 0}
    assert [(r.item, r.order, r.indicator, r.weight, r.parent) for r in e.rows()] == [
        ("1", 1, "surgery_share@1", None, None), ("2", 2, None, None, None),
        ("2.1", 2, "surgery_share@1", 0.5, "2"), ("2.2", 2, "inpatient_mortality@1", 0.5, "2")]
    assert e.refs == ("surgery_share@1", "inpatient_mortality@1")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"items__0__indicatr": "x@1"},
     [f"{F}: item 1: items[0].indicatr: unknown key (did you mean 'indicator'?)"]),
    ({"items__0__data_source": "病案"},
     [f"{F}: item 1: items[0].data_source: '病案' is not one of ['病案首页', '财务', '填报', "
      f"'平台', '满意度'] (did you mean '病案首页'?)"]),
    ({"scoring__scope": None}, [f"{F}: scoring.scope: missing (Items entering the total)"]),
    ({"assessment": "other"},
     [f"{F}: assessment: 'other' does not match the folder's assessment 'demo'"]),
    ({"edition": "2025"}, [f"{F}: edition: the edition in 2024.yaml must be '2024'"]),
    ({"valid_to": 2023}, [f"{F}: valid_to: 2023 is before valid_from 2024"]),
    ({"items__1__indicator": "surgery_share@1"},
     [f"{F}: item 2: items[1]: states indicator and missing: give only one of indicator, "
      f"components and missing"]),
    ({"items__0__indicator": None, "expected": None},
     [f"{F}: item 1: items[0]: states none of indicator, components and missing: give one",
      f"{F}: item 1: items[0].name_zh: missing (an item without an indicator states it)",
      f"{F}: item 1: items[0].name_en: missing (an item without an indicator states it)",
      f"{F}: item 1: items[0].direction: missing (an item without an indicator states it)"]),
    ({"items__0__indicator": "surgery_share"},
     [f"{F}: item 1: items[0].indicator: 'surgery_share' must name its version (id@version)"]),
    ({"items__0__indicator": "surgery_shar@1"},
     [f"{F}: item 1: items[0].indicator: unknown indicator 'surgery_shar' (did you mean "
      f"'surgery_share'?)"]),
    ({"items__0__indicator": "surgery_share@9"},
     [f"{F}: item 1: items[0].indicator: indicator 'surgery_share' has no version '9' (it has "
      f"['1'])"]),
    ({"items__0__sub_dimension": "surgey"},
     [f"{F}: item 1: items[0].sub_dimension: unknown sub-dimension 'surgey' (did you mean "
      f"'surgery'?)"]),
    ({"items__1__item": "1"}, [f"{F}: item 1: items[1].item: item '1' repeats (also items[0])"]),
    ({"items__1__direction": None},
     [f"{F}: item 2: items[1].direction: missing (an item without an indicator states it)"]),
    ({"items__0__weight": -1}, [f"{F}: item 1: items[0].weight: -1 is negative"]),
    ({"items__1__missing": None, "items__1__components": ["surgery_share@1", "surgery_share",
                                                          "surgery_shar@1", "surgery_share@1"],
      "items__1__component_weight": -0.5},
     [f"{F}: item 2: items[1].components[1]: 'surgery_share' must name its version "
      f"(id@version)",
      f"{F}: item 2: items[1].components[2]: unknown indicator 'surgery_shar' (did you mean "
      f"'surgery_share'?)",
      f"{F}: item 2: items[1].components: an indicator is listed twice",
      f"{F}: item 2: items[1].component_weight: -0.5 is negative"]),
    ({"items__0__component_weight": 1},
     [f"{F}: item 1: items[0].component_weight: only for an item with components"]),
    ({"expected": {"items": 3, "national_monitoring": 2}},
     [f"{F}: expected.items: the edition lists 2 items, expected 3",
      f"{F}: expected.national_monitoring: the edition flags 1 items ▲, expected 2"]),
    ({"scoring__weights__default": "heavy"},
     [f"{F}: scoring.weights.default: 'heavy' is neither 'equal' nor a positive number"]),
    ({"scoring__tier_cut_offs__1__top_percent": 20},
     [f"{F}: scoring.tier_cut_offs[1].top_percent: 20 must be above the tier before's 20",
      f"{F}: scoring.tier_cut_offs: the last tier must reach top_percent 100 so every "
      f"institution gets one"]),
    ({"scoring__tier_cut_offs__1__top_percent": 120},
     [f"{F}: scoring.tier_cut_offs[1].top_percent: 120 is not in (0, 100]",
      f"{F}: scoring.tier_cut_offs: the last tier must reach top_percent 100 so every "
      f"institution gets one"]),
    ({"scoring__tier_cut_offs__1__tier": "A"},
     [f"{F}: scoring.tier_cut_offs[1].tier: tier 'A' repeats"]),
])
def test_each_edition_rule(tmp_path: Path, catalog: Catalog, changes: dict[str, Any],
                           expected: list[str]) -> None:
    root = _write(tmp_path, editions={"2024": _edited(**changes)})
    assert _problems(root, catalog) == expected


def test_assessment_rules(tmp_path: Path, catalog: Catalog) -> None:
    raw = copy.deepcopy(ASSESSMENT)
    raw["id"] = "other"
    raw["dimensions"].append(copy.deepcopy(raw["dimensions"][0]))
    raw["dimensions"][0]["sub_dimensions"][1]["id"] = "surgery"
    assert _problems(_write(tmp_path, raw), catalog) == [
        "demo/assessment.yaml: other: id: the assessment in folder 'demo' must have id 'demo'",
        "demo/assessment.yaml: demo: dimensions[0].sub_dimensions[1].id: sub-dimension id "
        "'surgery' repeats",
        "demo/assessment.yaml: demo: dimensions[1].id: dimension id 'quality' repeats",
        "demo/assessment.yaml: demo: dimensions[1].sub_dimensions[0].id: sub-dimension id "
        "'surgery' repeats"]


def test_assessment_shape(tmp_path: Path, catalog: Catalog) -> None:
    raw = copy.deepcopy(ASSESSMENT)
    del raw["comparison"]
    raw["dimensions"][0]["sub_dimensions"][0]["nme_zh"] = "x"
    assert _problems(_write(tmp_path, raw), catalog) == [
        "demo/assessment.yaml: demo: comparison: missing (How peers are grouped for comparison)",
        "demo/assessment.yaml: demo: dimensions[0].sub_dimensions[0].nme_zh: unknown key (did "
        "you mean 'name_zh'?)"]


def test_editions_may_not_overlap(tmp_path: Path, catalog: Catalog) -> None:
    old = _edited(edition="2019", valid_from=2019)
    assert _problems(_write(tmp_path, editions={"2019": old, "2024": EDITION}), catalog) == [
        f"{F}: valid_from: 2024 falls inside edition '2019' (2019–): one edition per data year"]
    old["valid_to"] = 2023
    assert sorted(load_assessments(_write(tmp_path, editions={"2019": old, "2024": EDITION}),
                                   catalog=catalog)["demo"].editions) == ["2019", "2024"]


def test_editions_without_an_assessment_and_unreadable_files(tmp_path: Path,
                                                             catalog: Catalog) -> None:
    (tmp_path / "lonely" / "editions").mkdir(parents=True)
    _write(tmp_path)
    (tmp_path / "demo" / "editions" / "2025.yaml").write_text("items: [", encoding="utf-8")
    problems = _problems(tmp_path, catalog)
    assert problems[0] == ("demo/editions/2025.yaml: not valid YAML at line 1, column 9: "
                           "expected the node content, but found '<stream end>'")
    assert problems[1:] == ["lonely/assessment.yaml: lonely: missing (the folder has editions/)"]


def test_every_problem_is_reported_at_once(tmp_path: Path, catalog: Catalog) -> None:
    bad = _edited(items__0__indicator="surgery_shar@1", items__1__sub_dimension="drug",
                  valid_to=2020)
    other = _edited(edition="2030", valid_from=2030, items__0__weight=-2)
    problems = _problems(_write(tmp_path, editions={"2024": bad, "2030": other}), catalog)
    assert [p.split(": ")[0] for p in problems] == [F, F, F, "demo/editions/2030.yaml"]
    assert len(problems) == 4


def test_the_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is not a folder"):
        load_assessments(tmp_path / "nowhere")
