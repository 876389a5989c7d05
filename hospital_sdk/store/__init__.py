"""The embedded lakehouse store: DuckLake tables on a SQLite catalog, in one folder.

:class:`Lakehouse` opens the folder and is the one way to write; :func:`connect` returns the
Ibis connection notebooks, the CLI and Dagster read through.
"""

from hospital_sdk.store.connection import connect
from hospital_sdk.store.lakehouse import Lakehouse

__all__ = ["Lakehouse", "connect"]
