"""Code mapping: standard codes valid at each row's date, no dropped or duplicated rows."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import pytest

from hospital_sdk.cleaned import CodeMappingError, map_codes, unmapped_codes
from hospital_sdk.errors import ContractError

D = date


def _map(rows: list[tuple]) -> ibis.Table:
    inst, system, local, std, start, end = (list(c) for c in zip(*rows))
    return ibis.memtable(
        {"institution_id": inst, "code_system": system, "local_code": local,
         "local_name": [None] * len(rows), "standard_code": std, "valid_from": start,
         "valid_to": end},
        schema={"institution_id": "string", "code_system": "string", "local_code": "string",
                "local_name": "string", "standard_code": "string", "valid_from": "date",
                "valid_to": "date"})


def _facts(rows: list[tuple], at_type: str = "date") -> ibis.Table:
    rid, inst, code, at = (list(c) for c in zip(*rows))
    return ibis.memtable({"row_id": rid, "institution_id": inst, "item_code": code, "at": at},
                         schema={"row_id": "int64", "institution_id": "string",
                                 "item_code": "string", "at": at_type})


CODE_MAP = _map([
    ("H1", "drug", "S100", "S100", D(2020, 1, 1), None),            # identity mapping
    ("H1", "drug", "L01", "S200", D(2024, 1, 1), D(2024, 7, 1)),    # local code, first period
    ("H1", "drug", "L01", "S201", D(2024, 7, 1), None),             # ... replaced on 1 July
    ("H2", "drug", "L01", "S999", D(2020, 1, 1), None),             # same local code, other inst
    ("H1", "charge_item", "L01", "C1", D(2020, 1, 1), None),        # other code system
])


def _mapped(facts: ibis.Table, **kw) -> dict[int, str | None]:
    out = map_codes(facts, CODE_MAP, column="item_code", code_system="drug", at="at", **kw)
    table = out.to_pyarrow()
    std = kw.get("standard_column", "item_code_std")
    return dict(zip(table["row_id"].to_pylist(), table[std].to_pylist()))


def test_identity_and_local_mapping_and_institution_scope() -> None:
    facts = _facts([(1, "H1", "S100", D(2024, 3, 1)), (2, "H1", "L01", D(2024, 3, 1)),
                    (3, "H2", "L01", D(2024, 3, 1))])
    assert _mapped(facts) == {1: "S100", 2: "S200", 3: "S999"}


def test_validity_boundaries() -> None:
    facts = _facts([(1, "H1", "L01", D(2023, 12, 31)),   # before valid_from
                    (2, "H1", "L01", D(2024, 1, 1)),     # exactly valid_from: included
                    (3, "H1", "L01", D(2024, 6, 30)),    # last day of the first period
                    (4, "H1", "L01", D(2024, 7, 1)),     # exactly valid_to: next period
                    (5, "H1", "L01", D(2099, 1, 1))])    # open-ended period
    assert _mapped(facts) == {1: None, 2: "S200", 3: "S200", 4: "S201", 5: "S201"}


def test_timestamp_counts_by_its_date() -> None:
    facts = _facts([(1, "H1", "L01", datetime(2024, 6, 30, 23, 59)),
                    (2, "H1", "L01", datetime(2024, 7, 1, 0, 0))], at_type="timestamp")
    out = map_codes(facts, CODE_MAP, column="item_code", code_system="drug", at="at")
    assert out.count().execute() == 2  # regression: a self-join predicate once fanned out
    assert _mapped(facts, standard_column="drug_std") == {1: "S200", 2: "S201"}


def test_unmapped_and_null_rows_kept_row_count_unchanged() -> None:
    facts = _facts([(1, "H1", "NOPE", D(2024, 3, 1)), (2, "H1", None, D(2024, 3, 1)),
                    (3, None, "L01", D(2024, 3, 1)), (4, "H1", "L01", None),
                    (5, "H1", "L01", D(2024, 3, 1)), (6, "H1", "L01", D(2024, 3, 1))])
    out = map_codes(facts, CODE_MAP, column="item_code", code_system="drug", at="at")
    assert out.columns == (*facts.columns, "item_code_std")
    assert out.count().execute() == 6
    assert _mapped(facts) == {1: None, 2: None, 3: None, 4: None, 5: "S200", 6: "S200"}


def test_duplicate_map_rows_do_not_inflate() -> None:
    doubled = CODE_MAP.union(CODE_MAP, distinct=False).union(
        _map([("H1", "drug", "L01", "S200", D(2023, 1, 1), D(2024, 3, 1))]), distinct=False)
    facts = _facts([(1, "H1", "L01", D(2024, 2, 1)), (2, "H1", "S100", D(2024, 2, 1))])
    out = map_codes(facts, doubled, column="item_code", code_system="drug", at="at")
    assert out.count().execute() == 2
    assert dict(zip(*out.to_pyarrow().select(["row_id", "item_code_std"]).to_pydict()
                    .values())) == {1: "S200", 2: "S100"}


def test_ambiguous_map_raises_naming_the_codes() -> None:
    ambiguous = CODE_MAP.union(
        _map([("H1", "drug", "L01", "S777", D(2024, 6, 1), D(2024, 8, 1))]), distinct=False)
    ok = _facts([(1, "H1", "L01", D(2024, 3, 1))])  # outside the overlap: fine
    assert map_codes(ok, ambiguous, column="item_code", code_system="drug",
                     at="at").count().execute() == 1
    clash = _facts([(1, "H1", "L01", D(2024, 6, 15)), (2, "H1", "L01", D(2024, 7, 15))])
    with pytest.raises(CodeMappingError, match=r"2 \(institution, code, date\).*H1.*'L01'.*"
                       r"2024-06-15.*\['S200', 'S777'\].*\['S201', 'S777'\]"):
        map_codes(clash, ambiguous, column="item_code", code_system="drug", at="at")


def test_unmapped_codes_counts() -> None:
    facts = _facts([(1, "H1", "NOPE", D(2024, 3, 1)), (2, "H1", "NOPE", D(2024, 4, 1)),
                    (3, "H1", "L01", D(2023, 3, 1)), (4, "H1", "L01", D(2024, 3, 1)),
                    (5, "H1", None, D(2024, 3, 1)), (6, "H3", "S100", D(2024, 3, 1))])
    out = unmapped_codes(facts, CODE_MAP, column="item_code", code_system="drug", at="at")
    assert out.columns == ("institution_id", "local_code", "row_count")
    rows = out.to_pyarrow().to_pylist()
    assert rows == [{"institution_id": "H1", "local_code": "L01", "row_count": 1},
                    {"institution_id": "H1", "local_code": "NOPE", "row_count": 2},
                    {"institution_id": "H3", "local_code": "S100", "row_count": 1}]


@pytest.mark.parametrize(("kw", "message"), [
    ({"code_system": "drugs"}, "did you mean 'drug'"),
    ({"column": "itm_code"}, "did you mean 'item_code'"),
    ({"standard_column": "at"}, "already have a column 'at'"),
])
def test_bad_arguments_are_contract_errors(kw: dict, message: str) -> None:
    args = {"column": "item_code", "code_system": "drug", "at": "at", **kw}
    with pytest.raises(ContractError, match=message):
        map_codes(_facts([(1, "H1", "L01", D(2024, 3, 1))]), CODE_MAP, **args)
