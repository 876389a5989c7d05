"""Rich progress bars for the long-running commands, fed by the library's progress callbacks.

The library never prints; it calls ``progress(...)`` callbacks. These adapters turn the calls into
a live display.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn,
)


class _Bars:
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self):
        self._progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def _task(self, name: str, total: int | None) -> TaskID:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=total)
        return self._tasks[name]


class GenerationProgress(_Bars):
    """Rows written per table: ``update(table, rows_added)``."""

    def update(self, table: str, rows: int) -> None:
        self._progress.advance(self._task(f"generate {table}", None), rows)


class LoadProgress(_Bars):
    """Rows read per file: ``update(file, rows_done, rows_total_or_None)``."""

    def update(self, file: str, rows_done: int, rows_total: int | None) -> None:
        task = self._task(f"load {file}", rows_total)
        self._progress.update(task, completed=rows_done, total=rows_total)


class StepProgress(_Bars):
    """Steps of an asset-graph run: ``update(event, step)`` with Dagster's step events."""

    def __init__(self, console: Console, total: int) -> None:
        super().__init__(console)
        self._run = self._task("materialize asset graph", total)
        self.failed: list[str] = []

    def update(self, event: str, step: str) -> None:
        if event == "STEP_START":
            self._progress.update(self._run, description=f"materialize: {step}")
            return
        if event == "STEP_FAILURE":
            self.failed.append(step)
        self._progress.advance(self._run, 1)
