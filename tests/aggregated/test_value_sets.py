"""The surgical-complication list: transcription of §4.8, prefix and range boundaries."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from hospital_sdk.aggregated.value_sets import (
    CodePrefix, CodeRange, load_code_list, surgical_complications,
)
from hospital_sdk.errors import ContractError

# (code, on the list?) — each pair sits on one side of a boundary of §4.8.
BOUNDARIES = [
    # I60–I64: a range of 3-character categories, both ends included
    ("I59.900", False), ("I60.000", True), ("I62.900x001", True), ("I64", True),
    ("I64.x00x001", True), ("I65.000", False),
    # T88.2–T88.5: a range of 4-character subcategories; bare T88 is in no subcategory
    ("T88.100", False), ("T88.2", True), ("T88.200", True), ("T88.500x002", True),
    ("T88.600", False), ("T88", False),
    # J95.1–J95.9 includes J95.5 (S4's range, not S5's list); J95.0 is outside
    ("J95.000", False), ("J95.100", True), ("J95.500", True), ("J95.900", True),
    # N98–N99 covers both categories; N97 is not on the list
    ("N97.000", False), ("N98.000", True), ("N99.000", True),
    # T87.0–T87.6: T87.6 in, T87.7 out
    ("T87.600", True), ("T87.700", False),
    # prefixes: T81.4 covers T81.4xx but not T81.5 (T81.5 is on the list as its own prefix)
    ("T81.400", True), ("T81.411", True), ("T81.500", True), ("T81.000x001", True),
    # a longer prefix matches only its own extension
    ("J95.800x004", True), ("J95.800x005", True),   # J95.8 is inside the J95.1–J95.9 range
    ("B37.700", True), ("B37.700x001", True),       # the prefix B37.700 and its extensions ...
    ("B37.701", False), ("B37.800", False),         # ... but not a sibling code of B37.7
    # I26 prefix: I26.x in, I27 out; I46.1 in, I46.0 out
    ("I26.900x002", True), ("I27.000", False), ("I46.100", True), ("I46.000", False),
    # H59.0/.8/.9 listed, H59.1 not
    ("H59.000", True), ("H59.100", False), ("H59.800", True),
    # plain codes never on the list
    ("I21.000x001", False), ("K35.800", False),
]


def test_transcription_of_section_4_8() -> None:
    comp = surgical_complications()
    assert len(comp.categories) == 19  # "Nineteen categories" (§4.8)
    by_id = {c.id: c for c in comp.categories}
    assert [str(r) for r in by_id["anaesthesia_complication"].rules] == ["T88.2-T88.5"]
    assert [str(r) for r in by_id["postop_sepsis"].rules] == [
        "A40", "A41", "T81.411", "B37.700", "B49"]
    assert len(by_id["organ_system_postprocedural"].rules) == 17  # the row of §4.8, counted
    assert comp.source.startswith("national-indicators.md §4.8")
    assert comp.confidence.startswith("C ")


@pytest.mark.parametrize(("code", "expected"), BOUNDARIES)
def test_boundaries_in_python(code: str, expected: bool) -> None:
    assert surgical_complications().matches(code) is expected


def test_boundaries_in_ibis_agree_with_python() -> None:
    codes = [c for c, _ in BOUNDARIES] + [None]
    t = ibis.memtable({"code": codes}, schema={"code": "string"})
    got = t.mutate(hit=surgical_complications().predicate(t.code)).hit.to_pyarrow().to_pylist()
    comp = surgical_complications()
    assert got == [comp.matches(c) for c in codes]
    assert got[-1] is False  # null code: false, not null


def test_rule_objects() -> None:
    assert CodePrefix("T81.4").matches("T81.4") and not CodePrefix("T81.4").matches("T81")
    r = CodeRange("T88.2", "T88.5")
    assert r.width == 5
    assert [r.matches(c) for c in ("T88.1", "T88.2", "T88.5", "T88.6", "T88")] == [
        False, True, True, False, False]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "list.yaml"
    path.write_text("name: x\nzh: x\nen: x\nsource: s\nconfidence: K\n" + body, encoding="utf-8")
    return path


def test_en_dash_range_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "categories:\n  - {id: a, zh: a, en: a, codes: [I60–I64]}\n")
    assert load_code_list(path).categories[0].rules == (CodeRange("I60", "I64"),)


@pytest.mark.parametrize(("codes", "message"), [
    ("[I64-I60]", "runs backwards"),
    ("[I60-I64.1]", "same length"),
    ("[i60]", "not an ICD-10 code prefix"),
    ("[60]", "is not a string"),
    ("[]", "non-empty list"),
])
def test_bad_entries_name_file_and_category(tmp_path: Path, codes: str, message: str) -> None:
    path = _write(tmp_path, f"categories:\n  - {{id: cat1, zh: a, en: a, codes: {codes}}}\n")
    with pytest.raises(ContractError, match=message) as err:
        load_code_list(path)
    assert str(path) in str(err.value) and "cat1" in str(err.value)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "categories:\n  - {id: a, zh: a, en: a, code: [I26]}\n")
    with pytest.raises(ContractError, match=r"unknown key 'code' \(did you mean 'codes'\?\)"):
        load_code_list(path)
