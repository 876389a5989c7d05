"""The Dagster code location: ``dagster dev -m assets.definitions`` (see the README).

Settings (lakehouse folder, landing folder, first month) come from the environment through
:class:`hospital_sdk.config.Settings`; tests and the CLI build their own with
:func:`build_definitions`.
"""

from __future__ import annotations

import dagster as dg

from assets import aggregated, application, cleaned, orchestration, raw, reported
from assets.resources import LakeResource
from hospital_sdk.config import Settings


def monthly_partitions(first_month: str) -> dg.TimeWindowPartitionsDefinition:
    """Calendar months from ``first_month`` to the month in progress (keys ``YYYY-MM``).

    >>> monthly_partitions("2024-01").get_partition_keys()[:2]
    ['2024-01', '2024-02']
    """
    return dg.MonthlyPartitionsDefinition(start_date=first_month, fmt="%Y-%m", end_offset=1)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The whole graph (raw → cleaned → aggregated → application), its checks, jobs, schedules
    and sensor, on the lakehouse and landing folder of ``settings``."""
    settings = settings or Settings()
    months = monthly_partitions(settings.first_month or "2024-01")
    ingest, aggregate = orchestration.jobs()
    return dg.Definitions(
        assets=[raw.raw_layer, reported.reported_value, *cleaned.build(months),
                *aggregated.build(months), *application.build(months)],
        jobs=[ingest, aggregate],
        schedules=orchestration.schedules(ingest, aggregate),
        sensors=[orchestration.landing_sensor(ingest, months)],
        resources={"lake": LakeResource.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
