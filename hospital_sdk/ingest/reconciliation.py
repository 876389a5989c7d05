"""Reconciliation of a load: per file, rows in = rows loaded + rows rejected.

Every file load ends as one :class:`FileLoad` record, stored in ``lake.raw.load_batches`` and
returned in a :class:`LoadReport`. The loader checks the equation before it commits, so a load
that would lose or invent rows never becomes visible.

Examples
--------
>>> from datetime import datetime, timezone
>>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> f = FileLoad("L1", "stay_diagnosis", "stay_diagnosis.csv", "ab12", "utf-8", 10, 7, 3, t, t,
...              "loaded", {"required value missing": 1,
...                         "duplicate primary key, first seen at row 2": 1,
...                         "duplicate primary key, first seen at row 5": 1})
>>> report = LoadReport((f,))
>>> print(report.summary())
1 file: 10 rows in = 7 loaded + 3 rejected (1 loaded)
rejected rows by reason (details in lake.raw.load_rejects):
       2  duplicate primary key, first seen at row N
       1  required value missing
>>> report.to_frame()[["source_file", "rows_in", "rows_loaded", "rows_rejected"]]
          source_file  rows_in  rows_loaded  rows_rejected
0  stay_diagnosis.csv       10            7              3
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Literal

import ibis
import pandas as pd

from hospital_sdk.errors import ReconciliationError

Status = Literal["loaded", "replaced", "unchanged"]
"""``loaded``: first load of the file; ``replaced``: the file changed and its rows and rejects
were replaced; ``unchanged``: same name and same SHA-256 as the current load, nothing written."""

_ROW_NUMBER = re.compile(r"\brow \d+\b")

BATCHES = "load_batches"
"""Raw-layer table with one row per file load (the reconciliation ledger)."""
REJECTS = "load_rejects"
"""Raw-layer table with one row per rejected source row."""

BATCHES_SCHEMA = ibis.schema({
    "load_id": "!string", "table_name": "!string", "source_file": "!string",
    "file_sha256": "!string", "encoding": "string", "rows_in": "!int64",
    "rows_loaded": "!int64", "rows_rejected": "!int64", "started_at": "!timestamp('UTC')",
    "finished_at": "!timestamp('UTC')", "status": "!string",
})
REJECTS_SCHEMA = ibis.schema({
    "load_id": "!string", "table_name": "!string", "source_file": "!string",
    "source_row": "!int64", "field": "string", "reason": "!string", "problems": "!string",
    "record": "!string", "rejected_at": "!timestamp('UTC')",
})
"""``source_row`` is the 1-based data row (CSV line = source_row + 1, after the header);
``field``/``reason`` are the first problem; ``problems`` is a JSON list of every
``{field, reason, value}``; ``record`` is the row as JSON. Direct identifiers show as ``***``."""


@dataclass(frozen=True)
class FileLoad:
    """What happened to one source file: the row of ``lake.raw.load_batches``, plus the count of
    rejected rows by reason (first problem of each row)."""

    load_id: str
    table_name: str
    source_file: str
    file_sha256: str
    encoding: str | None
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    started_at: datetime
    finished_at: datetime
    status: Status
    reject_reasons: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_balance(self.source_file, self.rows_in, self.rows_loaded, self.rows_rejected)

    def ledger_row(self) -> dict[str, object]:
        """The values of the ``load_batches`` row."""
        return {name: getattr(self, name) for name in BATCHES_SCHEMA.names}


def check_balance(source_file: str, rows_in: int, rows_loaded: int, rows_rejected: int) -> None:
    """Raise unless ``rows_in == rows_loaded + rows_rejected`` (rows are never dropped silently).

    >>> check_balance("a.csv", 3, 2, 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReconciliationError: reconciliation failed for a.csv: 3 rows in, but 2 ...
    """
    if rows_in != rows_loaded + rows_rejected or min(rows_in, rows_loaded, rows_rejected) < 0:
        raise ReconciliationError(
            f"reconciliation failed for {source_file}: {rows_in} rows in, but {rows_loaded} "
            f"loaded + {rows_rejected} rejected = {rows_loaded + rows_rejected}")


@dataclass(frozen=True)
class LoadReport:
    """The result of loading a folder or a file: one :class:`FileLoad` per file, in load order."""

    files: tuple[FileLoad, ...]

    @property
    def rows_in(self) -> int:
        """Rows read from all files."""
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        """Rows in the raw tables from these files."""
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        """Rows in ``lake.raw.load_rejects`` from these files."""
        return sum(f.rows_rejected for f in self.files)

    def file(self, source_file: str) -> FileLoad:
        """The record of one file, by its name relative to the folder."""
        for f in self.files:
            if f.source_file == source_file:
                return f
        raise KeyError(f"{source_file!r} is not in this report; files: "
                       + ", ".join(f.source_file for f in self.files))

    def reject_reasons(self, *, by_kind: bool = False) -> Counter[str]:
        """Rejected rows by reason, over all files.

        With ``by_kind``, reasons that differ only by a row number count together
        (``duplicate primary key, first seen at row N``).
        """
        total: Counter[str] = Counter()
        for f in self.files:
            for reason, count in f.reject_reasons.items():
                total[_ROW_NUMBER.sub("row N", reason) if by_kind else reason] += count
        return total

    def to_frame(self) -> pd.DataFrame:
        """One row per file, with the columns of ``lake.raw.load_batches``."""
        names = [f.name for f in fields(FileLoad) if f.name != "reject_reasons"]
        rows = [{k: v for k, v in asdict(f).items() if k in names} for f in self.files]
        return pd.DataFrame(rows, columns=names)

    def summary(self) -> str:
        """A few lines of text: totals, files by status, rejected rows by reason."""
        statuses = Counter(f.status for f in self.files)
        n = len(self.files)
        lines = [f"{n} file{'s' if n != 1 else ''}: {self.rows_in:,} rows in = "
                 f"{self.rows_loaded:,} loaded + {self.rows_rejected:,} rejected ("
                 + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
                 + ")"]
        reasons = self.reject_reasons(by_kind=True)
        if reasons:
            lines.append(f"rejected rows by reason (details in lake.raw.{REJECTS}):")
            lines += [f"  {count:>6,}  {reason}" for reason, count in
                      sorted(reasons.items(), key=lambda item: (-item[1], item[0]))]
        return "\n".join(lines)
