"""hospital_sdk: a hospital group's operational data as layered data assets, and China's national
public-hospital assessment indicators computed on them.

The entry point for analysts is :func:`connect`, an Ibis connection to the embedded lakehouse
(DuckLake on local disk) or to any Ibis backend by URL. The data contract lives in
:mod:`hospital_sdk.model`, the synthetic group generator in :mod:`hospital_sdk.synth`, loading in
:mod:`hospital_sdk.ingest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hospital_sdk.errors import HospitalSDKError

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.store import Lakehouse


def connect(target: Any = None, *, read_only: bool = False):
    """Open the one connection notebooks, the CLI and Dagster use (see
    :func:`hospital_sdk.store.connect`)."""
    from hospital_sdk.store import connect as _connect

    return _connect(target, read_only=read_only)


def __getattr__(name: str) -> Any:
    if name == "Lakehouse":
        from hospital_sdk.store import Lakehouse

        return Lakehouse
    raise AttributeError(name)


__all__ = ["HospitalSDKError", "Lakehouse", "__version__", "connect"]
