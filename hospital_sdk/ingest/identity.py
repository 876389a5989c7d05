"""Tokens for direct identifiers: identity-document numbers never reach the lake in clear.

A token is ``HMAC-SHA256(key, normalised value)`` written as 64 lowercase hex digits. The value is
normalised first (surrounding blanks removed, letters upper-cased: the check character ``x`` of
a resident identity card number is the same as ``X``), so the same person gets the same token in
every file and every institution loaded with the same key. That is what lets the cleaned layer link
patients across institutions without ever holding their numbers.

The key is a secret string: :attr:`hospital_sdk.config.Settings.token_key` when set (from
``HOSPITAL_SDK_TOKEN_KEY``), otherwise a random key created once in ``<home>/token.key``, readable
by its owner only. Losing the key file means new loads produce tokens that no longer match the old
ones; copy it to every machine that loads data for the same group.

Examples
--------
>>> tok = Tokeniser(b"secret")
>>> tok.token("11010119900307123x") == tok.token(" 11010119900307123X ")
True
>>> len(tok.token("11010119900307123X"))
64
>>> import duckdb
>>> sql = tok.sql("'11010119900307123X'")
>>> duckdb.execute(f"SELECT {sql}", tok.params()).fetchone()[0] == tok.token("11010119900307123X")
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from hospital_sdk.config import Settings
from hospital_sdk.errors import ConfigError

KEY_FILE = "token.key"
"""Name of the key file inside the lakehouse home."""

_BLOCK = 64  # SHA-256 block size in bytes, as HMAC needs it (RFC 2104)


@dataclass(frozen=True)
class Tokeniser:
    """Turns identifier values into keyed tokens, in Python or inside a DuckDB query.

    Parameters
    ----------
    key
        The secret, as bytes. It is kept out of ``repr`` and never written into SQL text: queries
        receive the two padded keys as parameters (:meth:`params`).
    """

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.key:
            raise ConfigError("the token key is empty; set HOSPITAL_SDK_TOKEN_KEY or remove it "
                              "to use the key file")

    @staticmethod
    def normalise(value: str) -> str:
        """The form of ``value`` that is tokenised: stripped and upper-cased.

        >>> Tokeniser.normalise(" 11010119900307123x ")
        '11010119900307123X'
        """
        return value.strip().upper()

    def token(self, value: str) -> str:
        """Token of one value (the reference implementation of :meth:`sql`)."""
        return hmac.new(self.key, self.normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()

    def params(self) -> dict[str, bytes]:
        """Query parameters used by :meth:`sql`: the inner and outer padded keys of HMAC."""
        block = (hashlib.sha256(self.key).digest() if len(self.key) > _BLOCK
                 else self.key).ljust(_BLOCK, b"\0")
        return {
            "token_ipad": bytes(b ^ 0x36 for b in block),
            "token_opad": bytes(b ^ 0x5C for b in block),
        }

    def sql(self, expr: str) -> str:
        """DuckDB expression computing the token of ``expr``; see :func:`token_sql`."""
        return token_sql(expr)


def token_sql(expr: str) -> str:
    """DuckDB expression computing the token of the string expression ``expr``.

    HMAC is spelled out with DuckDB's ``sha256`` over BLOBs, so tokenising runs vectorised inside
    the load query. The key is not part of the text: run the query with
    :meth:`Tokeniser.params` bound. NULL stays NULL.
    """
    inner = f"unhex(sha256($token_ipad || encode(upper(trim({expr})))))"
    return f"sha256($token_opad || {inner})"


def token_key(home: Path, settings: Settings | None = None) -> bytes:
    """The secret key for tokens: from ``settings`` if given there, else from ``<home>/token.key``.

    The key file is created on first use with 32 random bytes (as hex) and mode ``0600``; creation
    is atomic, so two processes starting together end up with the same key.

    Parameters
    ----------
    home
        Lakehouse home folder.
    settings
        Settings of the session; only :attr:`~hospital_sdk.config.Settings.token_key` is read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> token_key(home) == token_key(home)
    True
    >>> oct((home / "token.key").stat().st_mode & 0o777)
    '0o600'
    >>> token_key(home, Settings(home=home, token_key="from-env"))
    b'from-env'
    """
    if settings is not None and settings.token_key:
        return settings.token_key.encode("utf-8")
    path = Path(home) / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token key file {path}: {exc}") from exc
    if not key:
        raise ConfigError(f"the token key file {path} is empty; restore it from a backup "
                          "(tokens made with another key will not match)")
    return key.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` unless another process did it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic "create if absent": the first writer wins
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
