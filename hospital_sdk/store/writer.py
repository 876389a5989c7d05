"""One writer at a time: a cross-process writer lock and a transaction retried on conflicts.

DuckLake on a SQLite catalog lets any number of processes read while one writes, but two
processes committing together fail with ``TransactionException ... database is locked``
(SQLite cannot upgrade one reader to writer while another writes). The store therefore
serialises writers with an advisory ``fcntl.flock`` on ``<home>/writer.lock`` and, for what
still slips through (a writer that does not take the lock), retries the whole transaction on
:class:`duckdb.TransactionException` (or "database is locked") with jittered exponential
backoff.

Examples
--------
>>> import tempfile, pathlib
>>> lock = FileLock(pathlib.Path(tempfile.mkdtemp()) / "writer.lock", timeout=1.0)
>>> with lock:
...     lock.locked
True
>>> lock.locked
False
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import duckdb

from hospital_sdk.errors import StoreError, WriteConflictError

T = TypeVar("T")


def _commit_author() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


COMMIT_AUTHOR = _commit_author()
"""``user@host`` recorded as the author of every snapshot this process commits."""


class FileLock:
    """Exclusive advisory lock on a file (``fcntl.flock``), waited for up to ``timeout`` seconds.

    The lock belongs to the open file, so it is released when the holder closes it or dies;
    a crashed writer never leaves a stale lock. While held, the file names the holder (process
    id and note) so a waiter that times out can say who it waited for.

    Parameters
    ----------
    path
        Lock file; created if missing.
    timeout
        Seconds to wait for the lock; ``0`` tries once.
    purpose
        Words naming the lock in error messages.
    """

    def __init__(self, path: Path, timeout: float, *, purpose: str = "writer lock") -> None:
        self.path = Path(path)
        self.timeout = float(timeout)
        self.purpose = purpose
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, note: str = "") -> None:
        """Take the lock, polling until ``timeout``; raise :class:`StoreError` naming the file."""
        if self._fd is not None:
            raise StoreError(f"{self.purpose} {self.path} is already held by this object")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + self.timeout
        pause = 0.005
        try:
            while not _try_flock(fd):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    holder = _read_holder(fd)
                    raise StoreError(
                        f"timed out after {self.timeout:g} s waiting for the {self.purpose} "
                        f"{self.path} (held by {holder or 'another process'}); retry later "
                        f"or wait longer (Lakehouse.open(lock_timeout=...))"
                    )
                time.sleep(min(pause, remaining))
                pause = min(pause * 2, 0.1)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}{': ' + note if note else ''}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (no-op when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        return ""


def backoff_delay(attempt: int, *, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait after failed ``attempt`` (1-based): exponential, capped, jittered.

    Examples
    --------
    >>> 0.025 <= backoff_delay(1) <= 0.05
    True
    >>> backoff_delay(20) <= 2.0
    True
    """
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)


def run_transaction(duck: duckdb.DuckDBPyConnection,
                    fn: Callable[[duckdb.DuckDBPyConnection], T], *, attempts: int = 8,
                    description: str = "", author: str | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``fn(duck)`` in ``BEGIN … COMMIT``, retrying it whole on transaction conflicts.

    Parameters
    ----------
    duck
        Connection with the lake attached as ``lake``.
    fn
        The work; it may run several times, so it must not consume one-shot inputs.
    attempts
        Tries before giving up with :class:`WriteConflictError`.
    description, author
        Recorded on the snapshot with ``lake.set_commit_message`` when given.
    sleep
        Waits between tries (injectable for tests).

    Conflicts (see :func:`is_conflict`) roll back and retry; any other exception rolls back
    and propagates.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    last: duckdb.Error | None = None
    for attempt in range(1, attempts + 1):
        try:
            duck.execute("BEGIN TRANSACTION")
        except duckdb.TransactionException as exc:
            raise StoreError(
                f"cannot start a write: a transaction is already open on this connection ({exc})"
            ) from exc
        try:
            result = fn(duck)
            if description or author:
                duck.execute("CALL lake.set_commit_message(?, ?)", [author, description or None])
            duck.execute("COMMIT")
            return result
        except duckdb.Error as exc:
            _rollback(duck)
            if not is_conflict(exc):
                raise
            last = exc
            if attempt < attempts:
                sleep(backoff_delay(attempt))
        except BaseException:
            _rollback(duck)
            raise
    what = f" ({description})" if description else ""
    raise WriteConflictError(
        f"write{what} still conflicted after {attempts} attempts; last error: {last}"
    ) from last


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying: a transaction conflict or a busy SQLite catalog.

    DuckLake reports commit conflicts as :class:`duckdb.TransactionException`; a catalog read
    that found SQLite busy past its busy timeout comes as a plain :class:`duckdb.Error` saying
    "database is locked".

    Examples
    --------
    >>> is_conflict(duckdb.TransactionException("Failed to commit"))
    True
    >>> is_conflict(duckdb.Error("Failed to prepare query ...: database is locked"))
    True
    >>> is_conflict(duckdb.BinderException("column x not found"))
    False
    """
    return isinstance(exc, duckdb.TransactionException) or (
        isinstance(exc, duckdb.Error) and "database is locked" in str(exc))


def _rollback(duck: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is open; a failed COMMIT has usually closed it already."""
    with contextlib.suppress(duckdb.Error):
        duck.execute("ROLLBACK")
