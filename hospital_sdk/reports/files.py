"""Report files on disk: written atomically, listed with their checksums in a manifest.

A reader never sees half a file: every file is written to a temporary name in its own folder,
flushed to disk, then renamed over the target with :func:`os.replace` (atomic on one file
system). A report writes its manifest *last*, so a manifest on disk means every file it lists
was complete when it was written; :func:`verify_manifest` says whether they still are.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from hospital_sdk.reports.files import verify_manifest, write_atomic, write_manifest
>>> with tempfile.TemporaryDirectory() as tmp:
...     f = write_atomic(Path(tmp) / "a.txt", "本月 / this month\\n")
...     m = write_manifest(tmp, "demo", [f])
...     names = sorted(p.name for p in Path(tmp).iterdir())
...     problems = verify_manifest(m.path)
>>> names, f.size, problems
(['a.txt', 'demo_manifest.json'], 20, [])
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hospital_sdk.errors import ReportError
from hospital_sdk.store.files import replace_file

MANIFEST_SUFFIX = "_manifest.json"
"""A report's manifest is ``<report>_manifest.json`` next to its files."""


@dataclass(frozen=True)
class WrittenFile:
    """One file a report wrote.

    Attributes
    ----------
    path
        Where it is.
    sha256
        Hex SHA-256 of its bytes.
    size
        Its length in bytes.
    """

    path: Path
    sha256: str
    size: int


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> WrittenFile:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    Parameters
    ----------
    path
        Target file; its folder is created if missing.
    data
        Bytes, or text (encoded as UTF-8).

    Returns
    -------
    WrittenFile
        The path with the checksum and size of what was written.

    Raises
    ------
    ReportError
        The folder or file cannot be written (the message names the path); the temporary file
        is removed and any previous file at ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = write_atomic(Path(tmp) / "x.bin", b"old")
    ...     second = write_atomic(Path(tmp) / "x.bin", b"new!")
    ...     content = (Path(tmp) / "x.bin").read_bytes()
    ...     leftovers = [p.name for p in Path(tmp).iterdir() if p.name != "x.bin"]
    >>> content, second.size, leftovers
    (b'new!', 4, [])
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        replace_file(target, payload)
    except OSError as exc:
        raise ReportError(f"cannot write report file {str(target)!r}: {exc}") from exc
    return WrittenFile(target, hashlib.sha256(payload).hexdigest(), len(payload))


def manifest_path(out_dir: str | os.PathLike[str], report: str) -> Path:
    """Where the manifest of ``report`` lives in ``out_dir``.

    Examples
    --------
    >>> manifest_path("/reports/2025-06", "quality_scorecard").as_posix()
    '/reports/2025-06/quality_scorecard_manifest.json'
    """
    return Path(out_dir) / f"{report}{MANIFEST_SUFFIX}"


def write_manifest(out_dir: str | os.PathLike[str], report: str, files: Iterable[WrittenFile],
                   *, facts: Mapping[str, Any] | None = None) -> WrittenFile:
    """Write ``<report>_manifest.json`` listing ``files`` (names relative to ``out_dir``).

    The manifest holds no timestamp, so the same files give the same manifest bytes.

    Parameters
    ----------
    out_dir
        The report folder; every file must be inside it.
    report
        Report name, e.g. ``"quality_scorecard"``.
    files
        What the report wrote, in the order to list them.
    facts
        JSON-serialisable facts about the input (row counts, period covered …).

    Raises
    ------
    ReportError
        A file lies outside ``out_dir``, or the facts are not JSON-serialisable.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = write_atomic(Path(tmp) / "t.csv", "a,b\\n")
    ...     m = write_manifest(tmp, "t", [f], facts={"input_rows": 0})
    ...     doc = json.loads(m.path.read_text(encoding="utf-8"))
    >>> doc["report"], doc["facts"], [e["name"] for e in doc["files"]]
    ('t', {'input_rows': 0}, ['t.csv'])
    """
    root = Path(out_dir).resolve()
    entries = []
    for f in files:
        try:
            name = f.path.resolve().relative_to(root).as_posix()
        except ValueError:
            raise ReportError(f"report {report!r}: file {str(f.path)!r} is not inside the "
                              f"report folder {str(root)!r}") from None
        entries.append({"name": name, "sha256": f.sha256, "bytes": f.size})
    doc = {"report": report, "files": entries, "facts": dict(facts or {})}
    try:
        text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False)
    except TypeError as exc:
        raise ReportError(f"report {report!r}: manifest facts are not JSON: {exc}") from exc
    return write_atomic(manifest_path(out_dir, report), text + "\n")


def verify_manifest(path: str | os.PathLike[str]) -> list[str]:
    """Compare the files a manifest lists with what is on disk now.

    Returns
    -------
    list of str
        One line per missing or changed file; empty when every file matches.

    Raises
    ------
    ReportError
        The manifest itself cannot be read as a manifest.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = write_atomic(Path(tmp) / "r.html", "<p>ok</p>")
    ...     m = write_manifest(tmp, "r", [f])
    ...     _ = (Path(tmp) / "r.html").write_text("<p>edited</p>")
    ...     problems = verify_manifest(m.path)
    >>> problems
    ["r.html: sha256 differs from the manifest's (13 bytes now, 9 listed)"]
    """
    mpath = Path(path)
    try:
        doc = json.loads(mpath.read_text(encoding="utf-8"))
        entries = [(e["name"], e["sha256"], int(e["bytes"])) for e in doc["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"cannot read report manifest {str(mpath)!r}: {exc}") from exc
    problems = []
    for name, sha, size in entries:
        f = mpath.parent / name
        if not f.is_file():
            problems.append(f"{name}: missing")
            continue
        data = f.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"{name}: sha256 differs from the manifest's "
                            f"({len(data)} bytes now, {size} listed)")
    return problems
