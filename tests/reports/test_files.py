"""Atomic writes and manifests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hospital_sdk.errors import HospitalSDKError, ReportError
from hospital_sdk.reports import files
from hospital_sdk.reports.files import (
    manifest_path,
    verify_manifest,
    write_atomic,
    write_manifest,
)


def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_atomic(tmp_path / "r.html", "old")
    f = write_atomic(tmp_path / "r.html", "新")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == "新"
    assert f.size == 3  # one CJK character is 3 bytes of UTF-8
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    assert oct((tmp_path / "r.html").stat().st_mode & 0o777) == oct(0o644)


def test_write_atomic_creates_the_folder(tmp_path: Path) -> None:
    f = write_atomic(tmp_path / "a" / "b" / "x.bin", b"\x00\x01")
    assert f.path.read_bytes() == b"\x00\x01"


def test_a_failed_rename_keeps_the_previous_file_whole(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.xlsx"
    write_atomic(target, b"previous complete file")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(ReportError, match=r"cannot write report file .*report\.xlsx.*disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"previous complete file"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]  # temporary file removed


def test_unwritable_target_is_a_report_error(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(HospitalSDKError, match="blocker"):
        write_atomic(tmp_path / "blocker" / "r.html", "x")


def test_manifest_lists_files_relative_with_checksums(tmp_path: Path) -> None:
    a = write_atomic(tmp_path / "a.xlsx", b"abc")
    b = write_atomic(tmp_path / "sub" / "b.html", "<p>")
    m = write_manifest(tmp_path, "demo", [a, b], facts={"input_rows": 2, "period": None})
    assert m.path == manifest_path(tmp_path, "demo") == tmp_path / "demo_manifest.json"
    doc = json.loads(m.path.read_text(encoding="utf-8"))
    assert doc == {
        "report": "demo",
        "files": [
            {"name": "a.xlsx", "bytes": 3,  # SHA-256 of b"abc" (FIPS 180-2 test vector)
             "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
            {"name": "sub/b.html", "sha256": b.sha256, "bytes": 3},
        ],
        "facts": {"input_rows": 2, "period": None},
    }
    assert verify_manifest(m.path) == []
    # the same files give the same manifest bytes (no timestamp inside)
    again = write_manifest(tmp_path, "demo", [a, b], facts={"input_rows": 2, "period": None})
    assert again.sha256 == m.sha256


def test_verify_manifest_names_missing_and_changed_files(tmp_path: Path) -> None:
    a = write_atomic(tmp_path / "a.txt", "a")
    b = write_atomic(tmp_path / "b.txt", "b")
    m = write_manifest(tmp_path, "r", [a, b])
    os.remove(a.path)
    b.path.write_text("bb")
    assert verify_manifest(m.path) == [
        "a.txt: missing",
        "b.txt: sha256 differs from the manifest's (2 bytes now, 1 listed)",
    ]


def test_manifest_refuses_files_outside_the_folder(tmp_path: Path) -> None:
    outside = write_atomic(tmp_path / "elsewhere.txt", "x")
    with pytest.raises(ReportError, match="not inside the report folder"):
        write_manifest(tmp_path / "reports", "r", [outside])


def test_manifest_refuses_facts_that_are_not_json(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="not JSON"):
        write_manifest(tmp_path, "r", [], facts={"when": object()})


def test_unreadable_manifest_is_a_report_error(tmp_path: Path) -> None:
    (tmp_path / "bad_manifest.json").write_text("{not json")
    with pytest.raises(ReportError, match="cannot read report manifest"):
        verify_manifest(tmp_path / "bad_manifest.json")
