"""Materialize the asset graph in this process (the CLI's and the tests' way to run it).

``dagster dev`` and the schedules run the same definitions; this path runs them without a
daemon: one run, in-process executor, monthly assets over ``first`` .. ``last`` (a single-run
backfill), unpartitioned assets whole. Progress is reported step by step through a callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dagster as dg

from assets.definitions import build_definitions
from assets.orchestration import range_tags
from hospital_sdk.config import Settings

Progress = Callable[[str, str], None]
"""``progress(event, step)``: event is ``STEP_START``, ``STEP_SUCCESS``, ``STEP_FAILURE`` or
``STEP_SKIPPED``; step is the op name (e.g. ``cleaned__charge_line``). Steps held back by an
upstream failure report nothing: see :func:`not_started`."""

_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")


class _StepHandler(logging.Handler):
    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        kind = getattr(event, "event_type_value", None)
        if kind in _EVENTS and getattr(event, "step_key", None):
            self.progress(kind, event.step_key)


def _loggers(progress: Progress | None) -> dict[str, dg.LoggerDefinition]:
    """A console logger for warnings and errors, and one feeding ``progress`` step events."""
    console = dg.colored_console_logger.configured({"log_level": "WARNING"})
    if progress is None:
        return {"console": console}

    @dg.logger
    def steps(init_context: dg.InitLoggerContext) -> logging.Logger:  # noqa: ARG001
        out = logging.Logger("hospital_sdk.steps", logging.DEBUG)
        out.addHandler(_StepHandler(progress))
        return out

    return {"console": console, "steps": steps}


def _selection(selection: str | None) -> dg.AssetSelection:
    """``selection`` widened to whole steps: the discharge record's tables are built together,
    so selecting one of them selects all four."""
    if not selection:
        return dg.AssetSelection.all()
    return dg.AssetSelection.from_string(selection).required_multi_asset_neighbors()


def planned_steps(settings: Settings | None = None, selection: str | None = None) -> list[str]:
    """The steps (ops) a run of ``selection`` (default: everything) has, sorted."""
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = _selection(selection).resolve(graph)
    return sorted({graph.get(k).assets_def.node_def.name for k in keys})


def not_started(result: dg.ExecuteInProcessResult, planned: list[str]) -> list[str]:
    """Planned steps that never started: held back by a failed step or blocking check upstream
    (this Dagster version logs them but emits no ``STEP_SKIPPED`` event)."""
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    return [step for step in planned if step not in started]


def materialize(settings: Settings, first: str, last: str, *, selection: str | None = None,
                progress: Progress | None = None, instance: dg.DagsterInstance | None = None,
                tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """Run the graph (or ``selection``, a Dagster asset-selection string such as
    ``'group:aggregated'``) for months ``first`` .. ``last`` in one in-process run.

    Never raises for a failed step: inspect ``result.success`` and the step events (a blocking
    check that fails skips its downstream steps, as it should).
    """
    base = build_definitions(settings)
    job = dg.define_asset_job("materialize", selection=_selection(selection))
    defs = dg.Definitions(assets=base.assets, resources=base.resources, jobs=[job],
                          executor=dg.in_process_executor, loggers=_loggers(progress))
    return defs.resolve_job_def("materialize").execute_in_process(
        tags={**range_tags(first, last), **(tags or {})}, raise_on_error=False,
        instance=instance, run_config={"loggers": {name: {} for name in _loggers(progress)}})
