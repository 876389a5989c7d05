"""Atomic file replacement: the old file or the new one, never a part, no temporary left."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from hospital_sdk.store.files import replace_file


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    replace_file(target, b"old")
    with mock.patch("os.replace", side_effect=OSError("disk full")), \
            pytest.raises(OSError, match="disk full"):
        replace_file(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_the_file_is_readable_by_others_and_its_folder_created(tmp_path: Path) -> None:
    target = replace_file(tmp_path / "a" / "b" / "x.csv", b"1,2\n")
    assert target.read_bytes() == b"1,2\n"
    assert os.stat(target).st_mode & 0o777 == 0o644
