"""Two editions of one assessment computed for the same period, item by item: what changed.

``hospital-sdk assess diff`` prints this. An item is matched across editions by its number; for
each it says whether the indicator or its version changed, gives both values, and quotes why —
the later edition's ``changes`` text and the indicator version's own ``changes``. An item only in
one edition (tertiary 增1 arrived after 2019) is listed as added or removed.
"""

from __future__ import annotations

import pandas as pd

from hospital_sdk.assessments.editions import Edition
from hospital_sdk.assessments.result import AssessmentResult
from hospital_sdk.indicators.catalog import Catalog

__all__ = ["DIFF_COLUMNS", "diff_editions"]

DIFF_COLUMNS: tuple[str, ...] = (
    "item", "institution", "change", "indicator_a", "indicator_b", "name_a", "name_b",
    "value_a", "value_b", "difference", "status_a", "status_b", "why")
"""Columns of :func:`diff_editions`; ``change`` is ``same``, ``renamed``, ``new version``,
``other indicator``, ``added`` or ``removed``."""


def _ref(row: pd.Series) -> str | None:
    return None if pd.isna(row["indicator_id"]) else f"{row['indicator_id']}@{row['version']}"


def _kind(a: pd.Series | None, b: pd.Series | None) -> str:
    if a is None:
        return "added"
    if b is None:
        return "removed"
    if a["indicator_id"] != b["indicator_id"] and not (pd.isna(a["indicator_id"])
                                                       and pd.isna(b["indicator_id"])):
        return "other indicator"
    if str(a["version"]) != str(b["version"]) and not pd.isna(a["indicator_id"]):
        return "new version"
    if a["name_zh"] != b["name_zh"]:
        return "renamed"
    return "same"


def diff_editions(catalog: Catalog, a: AssessmentResult, b: AssessmentResult,
                  edition_b: Edition) -> pd.DataFrame:
    """Item-by-item comparison of edition ``a`` and the later edition ``b`` over one period.

    Returns one row per item number × institution (:data:`DIFF_COLUMNS`), items that changed
    first.
    """
    rows = []
    left = {(r["item"], r["institution"]): r for _, r in a.items.iterrows()}
    right = {(r["item"], r["institution"]): r for _, r in b.items.iterrows()}
    for key in sorted(set(left) | set(right), key=lambda k: (str(k[0]), str(k[1]))):
        ra, rb = left.get(key), right.get(key)
        kind = _kind(ra, rb)
        why = []
        if kind != "same":
            why.append(f"edition {edition_b.edition}: {edition_b.changes}".strip())
        if kind == "new version" and rb is not None:
            why.append(f"{_ref(rb)}: {catalog.get(_ref(rb)).changes}")
        va = None if ra is None else ra["value"]
        vb = None if rb is None else rb["value"]
        rows.append({
            "item": key[0], "institution": key[1], "change": kind,
            "indicator_a": None if ra is None else _ref(ra),
            "indicator_b": None if rb is None else _ref(rb),
            "name_a": None if ra is None else ra["name_zh"],
            "name_b": None if rb is None else rb["name_zh"],
            "value_a": va, "value_b": vb,
            "difference": (vb - va) if va is not None and vb is not None
            and not (pd.isna(va) or pd.isna(vb)) else None,
            "status_a": None if ra is None else ra["status"],
            "status_b": None if rb is None else rb["status"],
            "why": " | ".join(w for w in why if w)})
    out = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    order = (out["change"] == "same").astype(int)
    return out.assign(_o=order).sort_values(["_o", "item", "institution"], kind="stable") \
        .drop(columns="_o").reset_index(drop=True)
