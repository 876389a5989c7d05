"""The one resource of the code location: the lakehouse and the landing folder it is fed from.

Every asset opens the same embedded lakehouse (DuckLake in ``home``) once per run; writes go
through :meth:`hospital_sdk.store.Lakehouse.write` (one writer at a time across processes, with
the commit-conflict retry), so notebooks keep reading while a run writes.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from hospital_sdk.config import Settings
from hospital_sdk.store import Lakehouse

POOL = "lakehouse_writer"
"""Dagster concurrency pool of every asset that writes to the lakehouse (limit it to 1 in the
instance's ``dagster.yaml``: ``concurrency: pools: default_limit: 1``)."""


class LakeResource(dg.ConfigurableResource):  # type: ignore[misc]
    """Where the data lives: ``home`` (the lakehouse folder) and ``source`` (the landing folder
    of the hospitals' files) and the DuckDB ``memory_limit`` of the run's connection (``None``:
    40 % of physical memory). Defaults come from :class:`hospital_sdk.config.Settings`."""

    home: str
    source: str
    memory_limit: str | None = None
    _lake: Lakehouse | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> LakeResource:
        """The resource for ``settings`` (default: the environment)."""
        settings = settings or Settings()
        return cls(home=str(settings.home), source=str(settings.source),
                   memory_limit=settings.memory_limit)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:  # noqa: ARG002
        self._lake = Lakehouse.open(self.home, memory_limit=self.memory_limit)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:  # noqa: ARG002
        if self._lake is not None:
            self._lake.close()
            self._lake = None

    @property
    def lake(self) -> Lakehouse:
        """The lakehouse opened for this run."""
        if self._lake is None:  # used outside a run (e.g. a sensor): open on first use
            self._lake = Lakehouse.open(self.home, memory_limit=self.memory_limit)
        return self._lake

    @property
    def source_folder(self) -> Path:
        """The landing folder."""
        return Path(self.source)

    @property
    def reports_folder(self) -> Path:
        """Where the application layer writes report files: ``<home>/reports``."""
        return Path(self.home) / "reports"
