"""Business status-change events: every transition of a visit, stay, order, test or charge."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, Table
from hospital_sdk.model.keys import INSTITUTION_ID, key, staff

STATUS_EVENT = Table(
    "status_event", "event", "业务状态变更事件（全量留痕，可按任意时点回放）",
    "Business status-change events, kept in full so any visit, stay or order can be replayed as it "
    "was at any time", "每次状态变更一行", "one row per status transition",
    ("institution_id", "event_id"),
    (
        INSTITUTION_ID,
        key("event_id", "事件号", "Event id"),
        Column("entity_type", "string", "业务对象类型", "Entity type", nullable=False,
               codes="entity_type"),
        key("entity_id", "业务对象编号", "Id of the visit, stay, order ... that changed"),
        Column("from_status", "string", "原状态（空=新建）", "Previous status (empty = created)",
               codes="business_status"),
        Column("to_status", "string", "新状态", "New status", nullable=False, codes="business_status"),
        Column("event_time", "timestamp", "业务发生时间", "When it happened", nullable=False),
        Column("recorded_time", "timestamp", "系统记录时间", "When the source system recorded it",
               nullable=False),
        staff("operator_id", "操作人", "Operator"),
    ),
    period_column="event_time",
)

TABLES = (STATUS_EVENT,)
