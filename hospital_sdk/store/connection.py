"""The one connection: embedded lakehouse by default, any Ibis backend by URL.

Examples
--------
>>> from hospital_sdk.store import connect
>>> con = connect("duckdb://")
>>> con.name
'duckdb'
>>> con.sql("SELECT 41 + 1 AS answer").execute().answer.item()
42
"""

from __future__ import annotations

import os
import re

import ibis
from ibis.backends import BaseBackend

from hospital_sdk.store.lakehouse import Lakehouse

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def connect(target: str | os.PathLike[str] | None = None, *,
            read_only: bool = False) -> BaseBackend:
    """Return the Ibis connection notebooks, the CLI and Dagster read through.

    Parameters
    ----------
    target
        ``None`` or a folder path
            The embedded DuckLake lakehouse in that folder (``None``: ``HOSPITAL_SDK_HOME``,
            default ``~/.hospital_sdk``), created on first use. Returns
            ``Lakehouse.open(target).con``: a DuckDB backend with ``USE lake`` done, so layers
            are databases: ``con.table("visits", database="raw")``.
        a URL with a scheme
            Passed to :func:`ibis.connect`: ``"duckdb://"`` (in-memory DuckDB),
            ``"duckdb:///path/file.db"``, ``"pyspark://..."`` and so on.
    read_only
        Open the lakehouse (or, for a URL, the backend where it supports it) read-only.

    Notes
    -----
    Write to the lakehouse through :meth:`Lakehouse.write` / :meth:`Lakehouse.replace`, which
    take the cross-process writer lock; writes through this connection bypass it.
    """
    if target is not None and not isinstance(target, os.PathLike) and _URL.match(str(target)):
        kwargs = {"read_only": True} if read_only else {}
        return ibis.connect(str(target), **kwargs)
    return Lakehouse.open(target, read_only=read_only).con
