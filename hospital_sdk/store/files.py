"""Files written so a reader (or a crash) sees the old file or the new one, never a part.

The report exports and the reported-indicator templates both write through
:func:`replace_file`; each caller turns an :class:`OSError` into its own error.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = replace_file(Path(tmp) / "x.bin", b"old")
...     _ = replace_file(Path(tmp) / "x.bin", b"new!")
...     content = (Path(tmp) / "x.bin").read_bytes()
...     leftovers = [p.name for p in Path(tmp).iterdir() if p.name != "x.bin"]
>>> content, leftovers
(b'new!', [])
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, flushed to
    disk, made readable by everyone (0644: exports are meant to be shared), then renamed over
    ``path``. The folder is created if missing; the temporary file never outlives a failure.

    Raises
    ------
    OSError
        The folder or file cannot be written; ``path`` is then as it was.
    """
    target = Path(path)
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return target
