"""Status events: every transition of a visit, stay, medication order or lab order.

Each entity's life is a row of candidate statuses in order, with the time each was reached
(:data:`~hospital_sdk.synth.schema.NULL_TIME` where the entity never reached it). The events are
the reached statuses; ``from_status`` is the previous reached status of the same row (empty for
the first). The times are the ones of the fact tables, so replaying the events gives back the
timestamps of ``outpatient_visit``, ``inpatient_stay``, ``medication_order`` and ``lab_order``.

The source system records an event a few seconds after it happened, and now and then (1 %)
minutes to hours later, which is what makes "as recorded at time t" differ from "as it happened".

Examples
--------
>>> times = np.array([[100, 200, NULL_TIME], [NULL_TIME, 300, 400]])
>>> part = transitions("visit", np.array([0, 0]), pa.array(["V1", "V2"]),
...                    ("booked", "registered", "completed"), times)
>>> [(STATUSES[f] if f >= 0 else None, STATUSES[t])
...  for f, t in zip(part.from_status, part.to_status)]
[(None, 'booked'), ('booked', 'registered'), (None, 'registered'), ('registered', 'completed')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.schema import NULL_TIME, build_table, pick, text_ids

STATUSES: tuple[str, ...] = CONTRACT.code_set("business_status").values
ENTITIES: tuple[str, ...] = CONTRACT.code_set("entity_type").values


@dataclass(frozen=True)
class EventPart:
    """Events of one kind of entity, as parallel arrays."""

    entity: int
    inst: np.ndarray
    entity_id: pa.Array
    from_status: np.ndarray
    to_status: np.ndarray
    time: np.ndarray
    operator: np.ndarray

    def __len__(self) -> int:
        return len(self.time)


def transitions(entity: str, inst: np.ndarray, ids: pa.Array, statuses: Sequence[str],
                times: np.ndarray, operators: np.ndarray | None = None) -> EventPart:
    """Events of ``len(ids)`` entities of type ``entity`` from their status ``times``.

    Parameters
    ----------
    entity
        An ``entity_type`` code.
    inst
        Member institution index of each entity.
    ids
        Entity id of each entity.
    statuses
        The candidate statuses, in the order an entity passes them (``business_status`` codes).
    times
        ``(entities, statuses)`` array of times, :data:`NULL_TIME` where not reached.
    operators
        ``(entities, statuses)`` staff positions, -1 when unknown; default unknown.
    """
    times = np.asarray(times, dtype=np.int64)
    n, k = times.shape
    if k != len(statuses):
        raise ValueError(f"{len(statuses)} statuses for {k} time columns")
    code = np.array([STATUSES.index(s) for s in statuses])
    reached = times != NULL_TIME
    col = np.where(reached, np.arange(k)[None, :], -1)
    last = np.maximum.accumulate(col, axis=1)
    previous = np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)
    from_code = np.where(previous >= 0, code[np.maximum(previous, 0)], -1)
    rows, cols = np.nonzero(reached)
    ops = np.full((n, k), -1) if operators is None else operators
    return EventPart(entity=ENTITIES.index(entity), inst=np.asarray(inst)[rows],
                     entity_id=ids.take(pa.array(rows)), from_status=from_code[rows, cols],
                     to_status=code[cols], time=times[rows, cols], operator=ops[rows, cols])


def event_table(parts: Sequence[EventPart], institution_ids: Sequence[str],
                staff_ids: np.ndarray, prefix: str, rng: np.random.Generator) -> pa.Table:
    """The ``status_event`` table of ``parts``, sorted by institution and time.

    ``event_id`` is ``prefix`` and a per-institution sequence in time order.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return build_table("status_event", {"institution_id": pa.array([], pa.string()),
                                            "event_id": pa.array([], pa.string()),
                                            "entity_type": pa.array([], pa.string()),
                                            "entity_id": pa.array([], pa.string()),
                                            "to_status": pa.array([], pa.string()),
                                            "event_time": np.array([], np.int64),
                                            "recorded_time": np.array([], np.int64)}, n=0)
    inst = np.concatenate([p.inst for p in parts])
    time = np.concatenate([p.time for p in parts])
    entity = np.concatenate([np.full(len(p), p.entity, dtype=np.int8) for p in parts])
    ids = pa.concat_arrays([p.entity_id for p in parts])
    frm = np.concatenate([p.from_status for p in parts])
    to = np.concatenate([p.to_status for p in parts])
    op = np.concatenate([p.operator for p in parts])
    order = np.argsort(inst.astype(np.int64) * (1 << 40) + (time - time.min()), kind="stable")
    inst, time, entity, frm, to, op = (a[order] for a in (inst, time, entity, frm, to, op))
    ids = ids.take(pa.array(order))
    n = len(time)
    lag = np.where(rng.random(n) < 0.01, rng.integers(120, 6 * 3600, n), rng.integers(0, 30, n))
    seq = np.arange(n) - np.searchsorted(inst, inst, side="left") + 1
    return build_table("status_event", {
        "institution_id": pick(list(institution_ids), inst),
        "event_id": text_ids(prefix, seq, 9),
        "entity_type": pick(list(ENTITIES), entity),
        "entity_id": ids,
        "from_status": pick(list(STATUSES), np.maximum(frm, 0), mask=frm < 0),
        "to_status": pick(list(STATUSES), to),
        "event_time": time,
        "recorded_time": time + lag,
        "operator_id": pick(staff_ids, np.maximum(op, 0), mask=op < 0),
    }, n=n)
