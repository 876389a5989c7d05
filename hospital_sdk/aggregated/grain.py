"""Joining child tables at a declared grain without fan-out.

A stay has several diagnoses, procedures, orders and charge lines. Joining them to the stays
directly would repeat each stay once per child row and inflate every count and sum. Each child
is therefore first aggregated to the parent's key (one row per stay, per visit), and only then
attached with :func:`attach`: a left join on key *names* in which the right side has, by
construction, at most one row per key.

Examples
--------
>>> import ibis
>>> stays = ibis.memtable({"institution_id": ["H1", "H1"], "stay_id": ["S1", "S2"]})
>>> procs = ibis.memtable({"institution_id": ["H1"] * 3, "stay_id": ["S1"] * 3, "seq": [1, 2, 3]})
>>> per_stay = procs.group_by("institution_id", "stay_id").aggregate(n=procs.count())
>>> attach(stays, per_stay, ("institution_id", "stay_id")).order_by("stay_id").execute()
  institution_id stay_id    n
0             H1      S1  3.0
1             H1      S2  NaN
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir

from hospital_sdk.errors import ContractError

__all__ = ["attach"]


def attach(left: ir.Table, right: ir.Table, keys: Sequence[str]) -> ir.Table:
    """Left-join ``right`` (one row per ``keys``) to ``left``; keep ``left``'s key columns.

    Parameters
    ----------
    left
        The parent rows (e.g. the month's stays); every one is kept, in the same number.
    right
        A table aggregated to ``keys``: at most one row per key, so no row of ``left`` repeats.
    keys
        Key column names present in both tables.

    Returns
    -------
    Table
        ``left``'s columns followed by ``right``'s non-key columns (null where no match).

    Raises
    ------
    ContractError
        A non-key column of ``right`` has the name of a column of ``left``.
    """
    clash = sorted(set(left.columns) & set(right.columns) - set(keys))
    if clash:
        raise ContractError(f"cannot attach: both sides have non-key column(s) {clash}")
    joined = left.left_join(right, list(keys))
    extra = [c for c in right.columns if c not in keys]
    return joined.select(*left.columns, *extra)
