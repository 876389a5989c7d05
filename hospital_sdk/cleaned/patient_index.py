"""The patient master index (EMPI): one group-wide person id per institution's patient record.

Deterministic linkage of every ``(institution_id, patient_local_id)`` of the ``patient`` table
(as stored in the raw layer, identity numbers only as ``id_number_token``) to an ``empi_id``:

``id_token``
    records sharing a non-null identity-document token are one person, across institutions;
``record_number``
    records of *one* institution sharing a non-null medical record number (病案号) are one
    person, also when only one of them carries a token;
``new``
    a record linked to no other one is a person of its own.

A person is a connected component of the graph whose edges are both link types, so links chain:
A ~ B by token and B ~ C by record number make A, B and C one person.

How components are computed, set-wise
-------------------------------------
Instead of materialising pairwise edges (quadratic inside large groups), each record is a member
of at most a few *link groups*: its token group and its ``(institution_id, record number)`` group.
Every record starts with its own key as label; one pass replaces each label with the smallest
label of the record's token group, then does the same over record-number groups (min-label
propagation, one ``group_by``/``min`` and one join per link type). Labels only decrease, so passes
stop when no label changes; the number of passes is bounded by the longest alternating chain of
links (usually 1–3). Each pass is cached with :meth:`ibis.expr.types.Table.cache`, so the query
of pass *n* does not nest the *n − 1* before it. Past ``max_passes`` a
:class:`LinkageNotConvergedError` is raised rather than returning half-linked persons.

Why ``empi_id`` stays stable
----------------------------
A record's key is ``institution_id + "#" + patient_local_id``. ``#`` sorts before every character
the contract allows in an id, so string order of keys is the order of the key tuples. The empi id
of a person is ``"P"`` + the first 16 hex digits of the SHA-256 of the smallest key of its
component, computed in Ibis (``hexdigest``, the same digest on every backend): it depends on no
load order, row order, counter or random draw, and holds no identifier in clear. When new records
arrive the id only changes if the component gains a member with a smaller key, or merges with
another component (then the merged person keeps the id of whichever held the smaller key); a
component that splits (a corrected token or record number) gives the part without the smallest
key a new id.

Examples
--------
>>> from datetime import datetime
>>> import ibis
>>> patients = ibis.memtable({
...     "institution_id": ["H1", "H2", "H2"], "patient_local_id": ["a", "b", "c"],
...     "medical_record_number": [None, "M1", "M1"], "id_number_token": ["t1", "t1", None]})
>>> index = build_patient_index(patients, linked_at=datetime(2024, 1, 1))
>>> out = index.order_by("patient_local_id").execute()
>>> out.link_rule.tolist(), out.empi_id.nunique()
(['id_token', 'id_token', 'record_number'], 1)
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from hospital_sdk.errors import ContractError, LinkageNotConvergedError
from hospital_sdk.model import CONTRACT

__all__ = ["DEFAULT_MAX_PASSES", "LinkageNotConvergedError", "build_patient_index", "empi_id"]

DEFAULT_MAX_PASSES = 32
"""Label-propagation passes allowed before linkage is declared not converged."""

_SEP = "#"  # sorts before every character of the contract's id pattern [A-Za-z0-9_\-.]
_REQUIRED = ("institution_id", "patient_local_id", "medical_record_number", "id_number_token")


def empi_id(key: ir.StringValue) -> ir.StringValue:
    """The empi id of a component whose smallest record key is ``key``.

    Parameters
    ----------
    key
        ``institution_id + "#" + patient_local_id`` of the component's smallest record.

    Returns
    -------
    StringValue
        ``"P"`` followed by the first 16 hex digits of SHA-256(``key``).

    Examples
    --------
    >>> import hashlib, ibis
    >>> value = empi_id(ibis.literal("H1#a")).execute()
    >>> value == "P" + hashlib.sha256(b"H1#a").hexdigest()[:16]
    True
    """
    return ibis.literal("P") + key.hexdigest("sha256").substr(0, 16)


def _blank_to_null(value: ir.StringValue) -> ir.StringValue:
    return value.strip().nullif("")


def _propagate(labels: ir.Table, members: ir.Table) -> ir.Table:
    """One min-label step over link groups: ``labels(node, label)``, ``members(node, grp)``."""
    group_min = (members.join(labels, "node")
                 .group_by("grp").aggregate(grp_label=lambda t: t.label.min()))
    node_min = (members.join(group_min, "grp")
                .group_by("node").aggregate(new_label=lambda t: t.grp_label.min()))
    joined = labels.left_join(node_min, "node")
    return joined.select(
        "node",
        label=ibis.least(joined.label, joined.new_label.fill_null(joined.label)),
    )


def _check_columns(patients: ir.Table) -> None:
    missing = [c for c in _REQUIRED if c not in patients.columns]
    if missing:
        raise ContractError(
            f"build_patient_index: the patient table lacks column(s) {missing}; expected the "
            f"raw-layer patient table with {list(_REQUIRED)} (identity numbers as tokens only)")


def build_patient_index(patients: ir.Table, *, linked_at: datetime,
                        max_passes: int = DEFAULT_MAX_PASSES) -> ir.Table:
    """Link every patient record of the group to a group-wide ``empi_id``.

    Parameters
    ----------
    patients
        The raw-layer ``patient`` table (or any table with ``institution_id``,
        ``patient_local_id``, ``medical_record_number`` and ``id_number_token``; other columns,
        lineage included, are ignored; repeated rows of one record are allowed). Blank tokens and
        record numbers count as missing.
    linked_at
        Timestamp written to ``linked_at`` (the run's time, passed in so results are reproducible).
    max_passes
        Bound on label-propagation passes (see the module docstring).

    Returns
    -------
    Table
        One row per ``(institution_id, patient_local_id)`` with exactly the columns and types of
        the contract's ``patient_index``; ``link_rule`` is ``id_token`` if the record shares its
        token with another record, else ``record_number`` if it shares its record number with
        another record of its institution, else ``new``; ``link_score`` is 1.0.

    Raises
    ------
    ContractError
        A required column is missing.
    LinkageNotConvergedError
        Labels still changed after ``max_passes`` passes.

    Examples
    --------
    >>> import ibis
    >>> p = ibis.memtable({"institution_id": ["H1", "H1"], "patient_local_id": ["a", "b"],
    ...                    "medical_record_number": ["M1", "M1"], "id_number_token": [None, None]})
    >>> build_patient_index(p, linked_at=datetime(2024, 1, 1)).execute().link_rule.tolist()
    ['record_number', 'record_number']
    """
    _check_columns(patients)
    if max_passes < 1:
        raise ValueError(f"max_passes must be at least 1, got {max_passes}")
    records = patients.select(
        institution_id=patients.institution_id.cast("string"),
        patient_local_id=patients.patient_local_id.cast("string"),
        node=patients.institution_id.cast("string") + _SEP
        + patients.patient_local_id.cast("string"),
        token=_blank_to_null(patients.id_number_token.cast("string")),
        mrn=_blank_to_null(patients.medical_record_number.cast("string")),
    ).distinct()
    nodes = records.select("institution_id", "patient_local_id", "node").distinct()
    by_token = (records.filter(records.token.notnull())
                .select("node", grp=records.token).distinct()).cache()
    by_number = (records.filter(records.mrn.notnull())
                 .select("node", grp=records.institution_id + _SEP + records.mrn)
                 .distinct()).cache()

    labels = nodes.select("node", label=nodes.node).cache()
    for _ in range(max_passes):
        step = _propagate(_propagate(labels, by_token), by_number).cache()
        changed = (step.join(labels, "node", lname="", rname="{name}_old")
                   .filter(lambda t: t.label != t.label_old).count().execute())
        labels = step
        if changed == 0:
            break
    else:
        raise LinkageNotConvergedError(
            f"patient linkage still changed {changed} label(s) after {max_passes} passes; "
            f"raise max_passes or look for an implausibly long chain of shared tokens / record "
            f"numbers")

    out = (nodes.join(labels, "node")
           .left_join(_shared(by_token).rename(by_token="shared"), "node")
           .left_join(_shared(by_number).rename(by_number="shared"), "node")
           # a plain projection first: casts inside a join's select lose their nullability
           .select("institution_id", "patient_local_id", "label", "by_token", "by_number"))
    schema = CONTRACT.table("patient_index").schema()
    rule = ibis.cases((out.by_token.fill_null(False), "id_token"),
                      (out.by_number.fill_null(False), "record_number"),
                      else_="new")
    values = {
        "institution_id": out.institution_id,
        "patient_local_id": out.patient_local_id,
        "empi_id": empi_id(out.label),
        "link_rule": rule,
        "link_score": ibis.literal(1.0),
        "linked_at": ibis.literal(linked_at),
    }
    return out.select(**{name: values[name].cast(dtype) for name, dtype in schema.items()})


def _shared(members: ir.Table) -> ir.Table:
    """Nodes whose link group holds at least one other node: ``(node, shared=True)``."""
    sizes = members.group_by("grp").aggregate(size=lambda t: t.node.nunique())
    linked = members.join(sizes.filter(sizes.size > 1), "grp")
    return linked.select("node").distinct().mutate(shared=ibis.literal(True))
