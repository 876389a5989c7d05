"""Patient master index: deterministic linkage rules, stable ids, contract schema, ground truth."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import ibis
import pandas as pd
import pytest

from hospital_sdk.cleaned import LinkageNotConvergedError, build_patient_index
from hospital_sdk.errors import ContractError, HospitalSDKError
from hospital_sdk.model import CONTRACT

AT = datetime(2024, 5, 1, 12, 0)


def _patients(rows: list[tuple[str, str, str | None, str | None]]) -> ibis.Table:
    inst, local, mrn, tok = (list(c) for c in zip(*rows))
    return ibis.memtable(
        {"institution_id": inst, "patient_local_id": local, "medical_record_number": mrn,
         "id_number_token": tok, "_load_id": ["L1"] * len(rows)},
        schema={"institution_id": "string", "patient_local_id": "string",
                "medical_record_number": "string", "id_number_token": "string",
                "_load_id": "string"})


def _index(rows, **kw) -> pd.DataFrame:
    out = build_patient_index(_patients(rows), linked_at=AT, **kw).execute()
    return out.set_index(["institution_id", "patient_local_id"]).sort_index()


def _empi(min_key: str) -> str:
    return "P" + hashlib.sha256(min_key.encode()).hexdigest()[:16]


def test_schema_equals_contract() -> None:
    expr = build_patient_index(_patients([("H1", "a", None, None)]), linked_at=AT)
    assert expr.schema() == CONTRACT.table("patient_index").schema()


def test_token_links_across_institutions() -> None:
    out = _index([("H1", "a", "M1", "t1"), ("H2", "x", "M9", "t1"), ("H2", "y", None, "t2")])
    assert out.loc[("H1", "a"), "empi_id"] == out.loc[("H2", "x"), "empi_id"] == _empi("H1#a")
    assert out.loc[("H2", "y"), "empi_id"] == _empi("H2#y")
    assert out.link_rule.tolist() == ["id_token", "id_token", "new"]
    assert (out.link_score == 1.0).all() and (out.linked_at == pd.Timestamp(AT)).all()


def test_record_number_links_only_inside_one_institution() -> None:
    out = _index([("H1", "a", "M1", None), ("H1", "b", "M1", "t1"), ("H2", "c", "M1", None)])
    assert out.loc[("H1", "a"), "empi_id"] == out.loc[("H1", "b"), "empi_id"]
    assert out.loc[("H2", "c"), "empi_id"] != out.loc[("H1", "a"), "empi_id"]
    assert out.link_rule.tolist() == ["record_number", "record_number", "new"]


def test_chain_of_token_and_record_number_is_one_person() -> None:
    # A ~ B by token (across institutions), B ~ C by record number, C ~ D by another token.
    rows = [("H2", "A", None, "t1"), ("H1", "B", "M1", "t1"), ("H1", "C", "M1", "t2"),
            ("H3", "D", None, "t2"), ("H3", "E", None, None)]
    out = _index(rows)
    person = out.drop(("H3", "E"))
    assert person.empi_id.nunique() == 1 and person.empi_id.iloc[0] == _empi("H1#B")
    assert out.loc[("H3", "E"), "link_rule"] == "new"
    assert set(person.link_rule) == {"id_token"}


def test_chain_needing_several_passes_converges_or_raises() -> None:
    # H1#z ~ H1#y by number, H1#y ~ H1#x by token, ... : the smallest key travels the whole chain.
    rows = []
    for i in range(6):
        rows.append(("H1", f"z{9 - i}", f"M{i}", f"t{i}"))
        rows.append(("H1", f"z{9 - i}b", f"M{i}", f"t{i + 1}"))
    out = _index(rows)
    assert out.empi_id.nunique() == 1
    with pytest.raises(LinkageNotConvergedError, match="after 1 passes") as err:
        _index(rows, max_passes=1)
    assert isinstance(err.value, HospitalSDKError)


def test_record_number_rule_when_token_is_not_shared() -> None:
    out = _index([("H1", "a", "M1", "t1"), ("H1", "b", "M1", "t2")])
    assert out.empi_id.nunique() == 1
    assert out.link_rule.tolist() == ["record_number", "record_number"]


def test_null_and_blank_tokens_and_numbers_never_link() -> None:
    out = _index([("H1", "a", None, None), ("H1", "b", None, None), ("H2", "c", "", " "),
                  ("H2", "d", " ", "")])
    assert out.empi_id.nunique() == 4
    assert set(out.link_rule) == {"new"}


def test_repeated_rows_of_one_record_give_one_row() -> None:
    out = _index([("H1", "a", "M1", "t1"), ("H1", "a", "M1", "t1"), ("H1", "a", None, None)])
    assert len(out) == 1 and out.link_rule.iloc[0] == "new"


def test_deterministic_and_independent_of_row_order() -> None:
    rows = [("H1", "a", "M1", "t1"), ("H2", "x", None, "t1"), ("H1", "b", "M1", None),
            ("H2", "y", "M2", None), ("H2", "z", "M2", "t3"), ("H3", "q", None, "t4")]
    first = _index(rows)
    again = _index(rows)
    shuffled = _index(list(reversed(rows[3:])) + rows[:3][::-1])
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, shuffled)
    assert first.empi_id.str.fullmatch(r"P[0-9a-f]{16}").all()


def test_new_record_keeps_existing_ids_unless_smaller_key_joins() -> None:
    rows = [("H2", "b", None, "t1"), ("H2", "c", None, "t1")]
    before = _index(rows)
    later = _index([*rows, ("H3", "d", None, "t1")])  # larger key joins: ids unchanged
    assert (later.loc[before.index, "empi_id"] == before.empi_id).all()
    smaller = _index([*rows, ("H1", "a", None, "t1")])  # smaller key joins: id moves to it
    assert set(smaller.empi_id) == {_empi("H1#a")}


def test_missing_column_is_a_contract_error() -> None:
    t = ibis.memtable({"institution_id": ["H1"], "patient_local_id": ["a"]})
    with pytest.raises(ContractError, match="id_number_token"):
        build_patient_index(t, linked_at=AT)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hospital_sdk.synth import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, scale=0.0005, years=(2024,), seed=5)
    return out


def test_generated_group_against_truth(generated: Path) -> None:
    from hospital_sdk.ingest import Tokeniser

    tok = Tokeniser(b"k")
    raw = pd.read_parquet(generated / "patient.parquet")
    raw["id_number_token"] = raw.pop("id_number").map(lambda v: tok.token(v) if isinstance(v, str) else None)
    index = build_patient_index(ibis.memtable(raw), linked_at=AT).execute()
    truth = pd.read_parquet(generated / "_truth" / "patient_identity.parquet")
    both = truth.merge(index, on=["institution_id", "patient_local_id"], how="outer",
                       validate="one_to_one", indicator=True)
    assert (both._merge == "both").all() and len(index) == len(raw.drop_duplicates(
        ["institution_id", "patient_local_id"]))
    # Precision: no empi id mixes two true persons.
    assert both.groupby("empi_id").person_id.nunique().max() == 1
    # Recall on what the rules can see: a true person whose records all carry a token is one id.
    has_token = raw.set_index(["institution_id", "patient_local_id"]).id_number_token.notna()
    both["has_token"] = both.set_index(["institution_id", "patient_local_id"]).index.map(has_token)
    tokened = both[both.groupby("person_id").has_token.transform("all")]
    assert tokened.groupby("person_id").empi_id.nunique().max() == 1
    assert index.link_rule.isin(["id_token", "record_number", "new"]).all()
