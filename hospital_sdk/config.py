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

Examples
--------
>>> from hospital_sdk.config import Settings
>>> Settings(home="/tmp/lake").home.name
'lake'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


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
    """

    home: Path = field(default_factory=_default_home)
    token_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).expanduser())
        if self.token_key is None and os.environ.get("HOSPITAL_SDK_TOKEN_KEY"):
            object.__setattr__(self, "token_key", os.environ["HOSPITAL_SDK_TOKEN_KEY"])
