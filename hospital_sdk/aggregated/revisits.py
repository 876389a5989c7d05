"""Emergency revisits: an emergency visit followed by the same patient's next one within 72 h.

急诊 72 小时内重返 (return to the emergency department within 72 hours). The reference notes
(/work/shared/reference/*.md) give no rule for it, so the reading here is ours:

* **Visits**: rows of ``outpatient_visit`` with ``visit_type = 'emergency'`` that are not
  cancelled (``is_cancelled`` true is a registration withdrawn: no visit took place; null is
  read as not cancelled).
* **Same patient**: same ``institution_id`` and the same non-null ``empi_id`` (the cleaned layer's
  patient index, as on ``visit_fact``); a visit without one is never revisited nor a revisit.
* **Anchor times**: both the visit and its return are placed at their ``visit_time``
  (registration). ``visit_time`` is the one time the contract requires (``end_time`` and
  ``checkin_time`` may be missing, and an emergency consultation's end is not the patient's
  departure), so the window runs from registration to registration: slightly stricter than one
  measured from the first visit's departure.
* **Next visit**: the same patient's following emergency visit in the order ``visit_time, then
  visit_id``; of two visits registered at the same instant, the first (smaller ``visit_id``)
  returns in 0 hours. A visit is **revisited** when its next visit starts at most
  ``window_hours`` (72, inclusive: exactly 72 h counts) after it.

A visit belongs to the month of its ``visit_time``. Unlike the episodes of
:mod:`hospital_sdk.aggregated.episodes` this looks **forward**: the visits read run to
``window_hours`` past the month's end, so a month's figure is final only once the next month's
first three days are loaded.

Computed by the SQL path (``lead`` over the patient's visits) or by the kernel
:func:`hospital_sdk.kernels.episodes.revisits_within` over DuckDB-sorted arrays; ``method`` is
chosen as in :mod:`hospital_sdk.aggregated.episodes` (:func:`choose_method`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from hospital_sdk.aggregated.episodes import Method, arrays, choose_method
from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.kernels.episodes import revisits_within

__all__ = ["EMERGENCY", "REVISIT_NEEDS", "emergency_revisits"]

EMERGENCY = "emergency"
"""``visit_type`` code of an emergency visit (急诊)."""

REVISIT_NEEDS: Needs = {
    "outpatient_visit": ("institution_id", "visit_id", "empi_id", "visit_type", "visit_time",
                         "is_cancelled"),
}
"""What :func:`emergency_revisits` reads."""

_KEYS = ("institution_id", "visit_id")


def emergency_revisits(tables: Mapping[str, ir.Table], start: datetime, end: datetime, *,
                       window_hours: float = 72.0, method: Method = "auto") -> ir.Table:
    """Whether each emergency visit of ``[start, end)`` is followed by a revisit (see module).

    Parameters
    ----------
    tables
        Cleaned tables by name (see :data:`REVISIT_NEEDS`).
    start, end
        The month's bounds; a visit belongs to it by ``visit_time``.
    window_hours
        Largest time from a visit to the next, inclusive (72).
    method
        ``"sql"``, ``"kernel"`` (DuckDB only) or ``"auto"`` (see
        :func:`~hospital_sdk.aggregated.episodes.choose_method`).

    Returns
    -------
    Table
        ``institution_id, visit_id, has_return_visit`` (bool): one row per emergency visit of
        the month that is not cancelled.

    Raises
    ------
    ContractError
        An input table or column is missing.
    ValueError
        ``window_hours`` is negative or not finite, or ``method`` unknown (or ``"kernel"``
        off DuckDB).

    Examples
    --------
    >>> import datetime as dt
    >>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
    >>> t = lambda d, h: dt.datetime(2024, 3, d, h)
    >>> visits = table("outpatient_visit", institution_id=["H1"] * 3, visit_id=["V1", "V2", "V3"],
    ...     empi_id=["E1"] * 3, visit_type=["emergency"] * 3, visit_time=[t(1, 10), t(4, 10),
    ...     t(7, 11)], is_cancelled=[False] * 3)
    >>> march = dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1)
    >>> out = emergency_revisits({"outpatient_visit": visits}, *march)  # 72 h, then 73 h
    >>> out.order_by("visit_id").execute()
      institution_id visit_id  has_return_visit
    0             H1       V1              True
    1             H1       V2             False
    2             H1       V3             False
    """
    if not np.isfinite(window_hours) or window_hours < 0:
        raise ValueError(f"window_hours must be a finite number >= 0, got {window_hours!r}")
    require(tables, REVISIT_NEEDS, "emergency revisits")
    v = tables["outpatient_visit"]
    window_us = int(round(window_hours * 3_600_000_000))
    v = v.filter(v.visit_type == EMERGENCY, ~v.is_cancelled.fill_null(False),
                 v.visit_time >= start,
                 v.visit_time <= end + timedelta(microseconds=window_us))
    v = v.select(*_KEYS, "empi_id", "visit_time", _in_month=v.visit_time < end)
    if choose_method(method, v, "revisit") == "kernel":
        return _revisits_kernel(v, window_hours)
    after = ibis.window(group_by=[v.institution_id, v.empi_id],
                        order_by=[v.visit_time, v.visit_id])
    following = v.visit_time.lead().over(after)
    returned = (v.empi_id.notnull()
                & (following.delta(v.visit_time, unit="microsecond") <= window_us))
    v = v.mutate(has_return_visit=returned.fill_null(False))
    return v.filter(v._in_month).select(*_KEYS, "has_return_visit")


def _revisits_kernel(v: ir.Table, window_hours: float) -> ir.Table:
    """:func:`emergency_revisits` by :func:`~hospital_sdk.kernels.episodes.revisits_within`:
    DuckDB sorts by patient, ``visit_time``, ``visit_id``; a visit without ``empi_id`` is a
    group of its own (:func:`~hospital_sdk.aggregated.episodes.arrays`), so never linked."""
    prepared = v.select(*_KEYS, "empi_id", "_in_month", _time=v.visit_time).order_by(
        "institution_id", "empi_id", "_time", "visit_id")
    rows, a = arrays(prepared, ("institution_id", "empi_id"))
    returned = revisits_within(a["_group"], a["_time"], window_hours=window_hours)
    keep = pa.array(a["_in_month"])
    out = rows.select(list(_KEYS)).filter(keep).append_column(
        "has_return_visit", pa.array(returned, pa.bool_()).filter(keep))
    return ibis.memtable(out)
