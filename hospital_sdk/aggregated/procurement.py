"""``procurement_fact``: one row per institution, month and drug received (药品采购入库).

The fact of the procurement indicators: tertiary #20 基本药物采购品种数占比 and #21
国家组织药品集中采购中标药品使用比例, secondary #7 基本药物采购金额占比 and #8
国家组织药品集中采购中标药品金额占比 (national-indicators.md §1.4 #20/#21, §2).

Rows
----
``drug_procurement`` is delivered per institution, month and *local* drug code; the cleaned
layer adds the standard code (``drug_code``) and keeps the local one (``drug_code_local``).
Two local codes mapped to one standard code would give two rows of one drug, so rows are summed
to the declared grain ``(institution_id, month, drug_code)`` before the catalog is attached.
A local code without a standard code (unmapped) is kept as its own drug under its local code,
flagged ``is_mapped = false`` and without catalog flags: it was still procured, and dropping it
would make the item counts look better than they are.

Catalog flags (``drug_catalog``, one row per standard code; its latest row by ``valid_from``)
------------------------------------------------------------------------------------------------
* ``generic_name``, ``is_essential`` (国家基本药物), ``is_vbp`` (国家组织集中采购中标药品);
  false when the drug is not in the catalog (``is_in_catalog`` false).
* ``generic_has_vbp``: some product of the catalog with the same ``generic_name`` is a VBP
  winning product, i.e. the drug is one of "the drugs with the same generic names" of #21's
  denominator (the winner itself included). Catalog validity dates are not applied: the flag
  says whether the generic name *has* a winner in the catalog as delivered.
* ``generic_item``: what the drug counts as in a number of items (品种数): its generic name, or
  its own code when the catalog does not know it (so an unknown drug is still one item).

``quantity`` is summed as delivered. For #21 to compare like with like, the quantities of the
products of one generic name must be in the same unit (the smallest dosage unit, 最小制剂单位);
the contract's ``drug_procurement.quantity`` does not say, so a group mixing boxes and tablets
must convert before loading. ``amount`` is the purchase amount in yuan (DECIMAL(18,2)).

There is no department and no campus: procurement is reported per institution.

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
>>> march = dt.date(2024, 3, 1)
>>> tables = {
...     "drug_procurement": table("drug_procurement", institution_id=["H1"] * 3,
...         month=[march] * 3, drug_code=["A", "A", "B"], drug_code_local=["a1", "a2", "b"],
...         quantity=[10.0, 5.0, 7.0], amount=[100.0, 50.0, 70.0]),
...     "drug_catalog": table("drug_catalog", code=["A", "B"], generic_name=["x", "x"],
...         is_essential=[True, False], is_vbp=[True, False],
...         valid_from=[dt.date(2020, 1, 1)] * 2),
... }
>>> out = build_procurement_fact(tables, "2024-03").order_by("drug_code").execute()
>>> out[["drug_code", "quantity", "amount", "is_vbp", "generic_has_vbp"]]
  drug_code  quantity  amount  is_vbp  generic_has_vbp
0         A      15.0  150.00    True             True
1         B       7.0   70.00   False             True
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from hospital_sdk.aggregated.grain import attach
from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.store.partitions import month_bounds

__all__ = ["COLUMNS", "NEEDS", "PROCUREMENT_KEYS", "build_procurement_fact"]

PROCUREMENT_KEYS = ("institution_id", "month", "drug_code")
_MONEY = "decimal(18,2)"

NEEDS: Needs = {
    "drug_procurement": ("institution_id", "month", "drug_code", "drug_code_local", "quantity",
                         "amount"),
    "drug_catalog": ("code", "generic_name", "is_essential", "is_vbp", "valid_from"),
}
"""The cleaned tables and columns :func:`build_procurement_fact` reads."""

COLUMNS: tuple[str, ...] = (
    "institution_id", "month", "drug_code", "is_mapped", "is_in_catalog", "generic_name",
    "generic_item", "is_essential", "is_vbp", "generic_has_vbp", "quantity", "amount")
"""Columns of ``procurement_fact``, in order."""


def _catalog(drug_catalog: ir.Table) -> ir.Table:
    """One row per standard code (its latest row), with ``generic_has_vbp``."""
    c = drug_catalog
    latest = c.group_by(drug_code=c.code).aggregate(
        generic_name=c.generic_name.argmax(c.valid_from),
        is_essential=c.is_essential.argmax(c.valid_from),
        is_vbp=c.is_vbp.argmax(c.valid_from))
    winners = latest.group_by("generic_name").aggregate(
        generic_has_vbp=latest.is_vbp.fill_null(False).any())
    return attach(latest, winners.filter(winners.generic_name.notnull()), ("generic_name",))


def build_procurement_fact(tables: Mapping[str, ir.Table], month: str) -> ir.Table:
    """Build ``procurement_fact`` for ``month``: one row per institution and drug received in it.

    Parameters
    ----------
    tables
        Cleaned tables by name: ``drug_procurement`` and ``drug_catalog`` (see :data:`NEEDS`).
    month
        ``'YYYY-MM'`` (the rows whose ``month`` is that month's first day).

    Returns
    -------
    Table
        One row per ``(institution_id, month, drug_code)`` with the columns of :data:`COLUMNS`.

    Raises
    ------
    ContractError
        An input table or column is missing.
    """
    require(tables, NEEDS, "procurement_fact")
    start, end = month_bounds(month)
    p = tables["drug_procurement"]
    p = p.filter(p.month >= start.date(), p.month < end.date())
    p = p.mutate(_mapped=p.drug_code.notnull(),
                 _code=p.drug_code.fill_null(p.drug_code_local))
    rows = p.group_by(institution_id=p.institution_id, month=p.month, drug_code=p._code).aggregate(
        is_mapped=p._mapped.any(),  # a standard code equal to a local one counts as mapped
        quantity=p.quantity.sum(),
        amount=p.amount.sum())
    fact = attach(rows, _catalog(tables["drug_catalog"]), ("drug_code",))
    in_catalog = fact.is_essential.notnull() & fact.is_mapped
    generic_name = in_catalog.ifelse(fact.generic_name, ibis.null("string"))
    return fact.select(
        "institution_id", "month", "drug_code", "is_mapped",
        is_in_catalog=in_catalog,
        generic_name=generic_name,
        generic_item=generic_name.fill_null(fact.drug_code),
        is_essential=(in_catalog & fact.is_essential).fill_null(False),
        is_vbp=(in_catalog & fact.is_vbp).fill_null(False),
        generic_has_vbp=(in_catalog & fact.generic_has_vbp).fill_null(False),
        quantity=fact.quantity.cast("float64"),
        amount=fact.amount.cast(_MONEY),
    )
