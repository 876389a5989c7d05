"""Status history: the ``status_event`` log as validity intervals, and as-of queries over it.

The contract keeps every business status change (``status_event``, one row per transition) with
two clocks: ``event_time`` (when it happened) and ``recorded_time`` (when the source system knew
it). This module turns that log into the *status history* of each entity (visit, stay, order …)
so that any entity can be shown as it was at any time, and as a report run at a given time saw it.

Entity
    ``(institution_id, entity_type, entity_id)``; ids are only unique within an institution and
    an entity type.
Interval
    One per event: the entity holds ``status`` (the event's ``to_status``) from ``valid_from``
    (its ``event_time``) until ``valid_to`` (the ``event_time`` of the entity's next event, null
    while current). Intervals are half-open, ``valid_from <= t < valid_to``: exactly at an event
    time the NEW status applies.
Ties
    Events of one entity are ordered by ``(event_time, tie_rank, recorded_time, event_id)``.
    ``tie_rank`` reads the source's own ``from_status`` chain among the entity's events at the
    same ``event_time``: 0 for a chain start (nothing tied leads into it, and it creates the
    entity or leads into a tied event), 1 for an event on neither side, 2 for a chain middle,
    3 for a chain end. So ``ordered -> verified -> dispensed`` at one instant replays in that
    order whatever order the system recorded them in; unrelated tied events and the middle of
    longer chains fall back to the order they were recorded in, then to ``event_id``. Every
    event of a tie but the last gets an empty interval (``valid_from == valid_to``) that no
    as-of query returns. (Ordering ties by ``recorded_time`` alone is wrong on realistic data:
    the synthetic group records events 0-30 s after they happen, which reverses ``verified`` and
    ``dispensed`` of about 4 % of its medication orders, dispensed at the instant of review.)
Bitemporal
    ``recorded_from`` is the ``recorded_time`` of the event opening the interval and
    ``recorded_to`` the one of the event closing it (null while open). They tell when the
    interval's start and end became known. An interval computed from *all* events is today's
    knowledge; what was known at ``known_at`` is the interval set of the events recorded by then,
    which is what :func:`status_as_of` computes (``known_at=...``). Hence a late-recorded event can
    have ``recorded_to < recorded_from`` on the interval before it (it was inserted after).

Everything is set-wise, backend-agnostic Ibis (one window over each entity's events); nothing is
executed here.

Examples
--------
>>> from datetime import datetime
>>> import ibis
>>> t = lambda h: datetime(2024, 1, 1, h)
>>> events = ibis.memtable({
...     "institution_id": ["H1", "H1", "H1"], "event_id": ["e1", "e2", "e3"],
...     "entity_type": ["visit"] * 3, "entity_id": ["V1"] * 3,
...     "from_status": [None, "booked", "checked_in"],
...     "to_status": ["booked", "checked_in", "completed"],
...     "event_time": [t(8), t(9), t(10)], "recorded_time": [t(8), t(9), t(12)],
...     "operator_id": [None, None, None]})
>>> iv = status_intervals(events).order_by("valid_from").to_pandas()
>>> [(r.status, r.valid_from.hour, r.valid_to.hour if r.valid_to == r.valid_to else None)
...  for r in iv.itertuples()]
[('booked', 8, 9), ('checked_in', 9, 10), ('completed', 10, None)]
>>> status_as_of(events, t(10)).status.to_pandas().tolist()
['completed']
>>> status_as_of(events, t(10), known_at=t(11)).status.to_pandas().tolist()
['checked_in']
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from hospital_sdk.errors import StatusHistoryError

if TYPE_CHECKING:
    from ibis.expr.builders import LegacyWindowBuilder

__all__ = ["ENTITY_KEY", "INTERVAL_COLUMNS", "status_as_of", "status_intervals",
           "transition_breaks"]

ENTITY_KEY: tuple[str, ...] = ("institution_id", "entity_type", "entity_id")
"""Columns identifying one entity whose status changes."""

INTERVAL_COLUMNS: tuple[str, ...] = (*ENTITY_KEY, "status", "valid_from", "valid_to",
                                     "recorded_from", "recorded_to", "event_id", "seq")
"""Columns of :func:`status_intervals` (and :func:`status_as_of`), in order."""

_REQUIRED: tuple[str, ...] = (*ENTITY_KEY, "event_id", "from_status", "to_status",
                              "event_time", "recorded_time")


def _checked(events: ir.Table) -> ir.Table:
    missing = [c for c in _REQUIRED if c not in events.columns]
    if missing:
        raise StatusHistoryError(
            f"status events lack column(s) {missing}; expected the contract's status_event "
            f"columns {list(_REQUIRED)}, got {list(events.columns)}")
    return events


def _ordered(events: ir.Table) -> ir.Table:
    """``events`` with the ``tie_rank`` column (see *Ties* in the module docstring)."""
    tied = events.select(*ENTITY_KEY, "event_time", "event_id", "from_status", "to_status")
    other = tied.view()
    on = [tied[c] == other[c] for c in (*ENTITY_KEY, "event_time")]
    on.append(tied.event_id != other.event_id)
    led_into = (tied.join(other, [*on, tied.from_status == other.to_status])
                .select(*(tied[c] for c in ENTITY_KEY), ev=tied.event_id).distinct())
    leads_on = (tied.join(other, [*on, tied.to_status == other.from_status])
                .select(*(tied[c] for c in ENTITY_KEY), ev=tied.event_id).distinct())
    e = events
    for name, flags in (("_pred", led_into), ("_succ", leads_on)):
        flags = flags.mutate(**{name: ibis.literal(1, type="int8")}).rename(_ev="ev")
        cond = [e[c] == flags[c] for c in ENTITY_KEY] + [e.event_id == flags._ev]
        e = e.left_join(flags, cond).select(*e.columns, flags[name])
    starts = (e._succ.notnull() | e.from_status.isnull()).cast("int8")
    rank = 2 * e._pred.fill_null(0).cast("int8") + 1 - starts
    return e.mutate(tie_rank=rank).drop("_pred", "_succ")


def _entity_window() -> LegacyWindowBuilder:
    """Each entity's events in their deterministic order (after :func:`_ordered`)."""
    return ibis.window(group_by=list(ENTITY_KEY),
                       order_by=["event_time", "tie_rank", "recorded_time", "event_id"])


def status_intervals(events: ir.Table) -> ir.Table:
    """The validity interval of every status each entity has held.

    Parameters
    ----------
    events
        A ``status_event`` table (at least the entity key, ``event_id``, ``from_status``,
        ``to_status``, ``event_time`` and ``recorded_time``).

    Returns
    -------
    ibis.Table
        One row per event, columns :data:`INTERVAL_COLUMNS`: the entity key; ``status``;
        ``valid_from``/``valid_to`` (half-open, ``valid_to`` null while current);
        ``recorded_from``/``recorded_to`` (recorded times of the opening and closing events);
        ``event_id`` of the opening event (for tracing back); ``seq``, the 1-based position of
        the interval in the entity's history.

    Notes
    -----
    Events of one entity are ordered by ``(event_time, tie_rank, recorded_time, event_id)``,
    ``tie_rank`` following the ``from_status`` chain among events at the same ``event_time``
    (module docstring, *Ties*); every event of a tie but the last gets an empty interval.
    """
    e = _ordered(_checked(events))
    w = _entity_window()
    return e.select(
        *ENTITY_KEY,
        status=e.to_status,
        valid_from=e.event_time,
        valid_to=e.event_time.lead().over(w),
        recorded_from=e.recorded_time,
        recorded_to=e.recorded_time.lead().over(w),
        event_id=e.event_id,
        seq=(ibis.row_number().over(w) + 1).cast("int64"),
    )


def status_as_of(events: ir.Table, at: datetime, *,
                 known_at: datetime | None = None) -> ir.Table:
    """Each entity's status at time ``at``, as known at ``known_at``.

    Parameters
    ----------
    events
        A ``status_event`` table.
    at
        The business time (``event_time`` clock): the interval with
        ``valid_from <= at < valid_to`` (or ``valid_to`` null) is returned.
    known_at
        The knowledge time (``recorded_time`` clock): only events recorded at or before it are
        used, so the answer is what a report run at ``known_at`` saw; a correction recorded later
        does not change it. ``None`` (default) uses every event, i.e. today's knowledge.

    Returns
    -------
    ibis.Table
        At most one row per entity, columns :data:`INTERVAL_COLUMNS`; ``valid_to`` and
        ``recorded_to`` describe the history known at ``known_at``. Entities with no event at or
        before ``at`` (created later) are absent.
    """
    e = _checked(events)
    if known_at is not None:
        e = e.filter(e.recorded_time <= ibis.literal(known_at, type="timestamp"))
    iv = status_intervals(e)
    when = ibis.literal(at, type="timestamp")
    return iv.filter(iv.valid_from <= when, iv.valid_to.isnull() | (iv.valid_to > when))


def transition_breaks(events: ir.Table) -> ir.Table:
    """Events whose ``from_status`` is not the status the entity held just before.

    The first event of an entity should have an empty ``from_status`` (created); every later one
    the previous event's ``to_status`` (in the order of :func:`status_intervals`). A break points
    to a missing, duplicated or mis-timed event in the source.

    Parameters
    ----------
    events
        A ``status_event`` table, with ``from_status``.

    Returns
    -------
    ibis.Table
        The breaking events with their columns plus ``expected_from_status`` (null = created).
    """
    e = _ordered(_checked(events))
    expected = e.to_status.lag().over(_entity_window())
    flagged = e.mutate(expected_from_status=expected)
    f = flagged.from_status
    x = flagged.expected_from_status
    broken = (f.isnull() != x.isnull()) | (f.notnull() & x.notnull() & (f != x))
    return flagged.filter(broken).drop("tie_rank")
