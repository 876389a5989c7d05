"""Settings, read from the environment in exactly one place.

The rest of the package never reads ``os.environ``; it asks this module, which is why a test or a
Dagster resource can override any setting by passing values explicitly.

Environment variables
---------------------
``HOSPITAL_SDK_HOME``
    Folder of the embedded lakehouse (catalog, Parquet data, extension cache, token key).
    Default: ``~/.hospital_sdk``.
``HOSPITAL_SDK_TOKEN_KEY``
    Secret used to tokenise identity-document numbers (HMAC-SHA256). Default: a random key
    created once in ``<home>/token.key`` with owner-only permissions.
``HOSPITAL_SDK_SOURCE``
    The landing folder the hospitals' source files arrive in (read by the asset graph's raw
    layer and watched by its sensor). Default: ``<home>/source``.
``HOSPITAL_SDK_FIRST_MONTH``
    First month (``YYYY-MM``) of the asset graph's monthly partitions. Default: ``2024-01``.
``HOSPITAL_SDK_CATALOG``
    Folder of the indicator catalog (measures, indicators, value sets). Default: the
    ``national_assessments`` folder shipped with the SDK (:func:`default_catalog`).
``HOSPITAL_SDK_MEMORY_LIMIT``
    DuckDB ``memory_limit`` of the lakehouse connections the asset graph opens, such as ``4GB``
    (beyond it DuckDB spills to disk). Default: 40 % of physical memory, so a notebook and a
    scheduled run can both run big queries; set it lower to bound a run's peak memory.

Examples
--------
>>> from hospital_sdk.config import Settings
>>> Settings(home="/tmp/lake").home.name
'lake'
>>> Settings(home="/tmp/lake").source.as_posix(), Settings(home="/tmp/lake").first_month
('/tmp/lake/source', '2024-01')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from hospital_sdk.errors import ConfigError


def default_catalog() -> Path:
    """The indicator catalog shipped with the SDK: ``national_assessments/`` beside the package
    in a checkout, or inside it in an installed wheel.

    >>> default_catalog().name
    'national_assessments'
    """
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "national_assessments", package / "national_assessments"):
        if candidate.is_dir():
            return candidate
    return package.parent / "national_assessments"


_MEMORY = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
"""A DuckDB memory size (``memory_limit``)."""


def _default_home() -> Path:
    env = os.environ.get("HOSPITAL_SDK_HOME")
    return Path(env).expanduser() if env else Path.home() / ".hospital_sdk"


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one SDK session.

    Parameters
    ----------
    home
        Lakehouse folder; ``None`` reads ``HOSPITAL_SDK_HOME`` (default ``~/.hospital_sdk``).
    token_key
        Secret for identity tokens; ``None`` reads ``HOSPITAL_SDK_TOKEN_KEY`` or the key file.
    source
        Landing folder of source files; ``None`` reads ``HOSPITAL_SDK_SOURCE`` (default
        ``<home>/source``).
    first_month
        First monthly partition, ``YYYY-MM``; ``None`` reads ``HOSPITAL_SDK_FIRST_MONTH``
        (default ``2024-01``).
    catalog
        Indicator catalog folder; ``None`` reads ``HOSPITAL_SDK_CATALOG`` (default
        :func:`default_catalog`).
    memory_limit
        DuckDB memory limit such as ``"4GB"``; ``None`` reads ``HOSPITAL_SDK_MEMORY_LIMIT``
        (default: 40 % of physical memory).
    """

    home: Path = field(default_factory=_default_home)
    token_key: str | None = None
    source: Path | None = None
    first_month: str | None = None
    catalog: Path | None = None
    memory_limit: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).expanduser())
        source = self.source if self.source is not None else os.environ.get("HOSPITAL_SDK_SOURCE")
        object.__setattr__(self, "source",
                           Path(source).expanduser() if source else self.home / "source")
        first = self.first_month or os.environ.get("HOSPITAL_SDK_FIRST_MONTH") or "2024-01"
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", first):
            raise ConfigError(f"first_month {first!r} is not a month YYYY-MM "
                              "(from HOSPITAL_SDK_FIRST_MONTH or the first_month argument)")
        object.__setattr__(self, "first_month", first)
        catalog = self.catalog or os.environ.get("HOSPITAL_SDK_CATALOG")
        object.__setattr__(self, "catalog",
                           Path(catalog).expanduser() if catalog else default_catalog())
        limit = self.memory_limit or os.environ.get("HOSPITAL_SDK_MEMORY_LIMIT") or None
        if limit is not None and not _MEMORY.fullmatch(limit.strip()):
            raise ConfigError(f"memory_limit {limit!r} is not a size such as '4GB' or '512MB' "
                              "(from HOSPITAL_SDK_MEMORY_LIMIT or the memory_limit argument)")
        object.__setattr__(self, "memory_limit", limit.strip() if limit else None)
        if self.token_key is None and os.environ.get("HOSPITAL_SDK_TOKEN_KEY"):
            object.__setattr__(self, "token_key", os.environ["HOSPITAL_SDK_TOKEN_KEY"])
