"""Outputs are replaced whole or not at all."""

import os

import pytest

from smallpose.atomic import atomic_open, write_text_atomic


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half of the new")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_write_replaces_and_respects_umask(tmp_path):
    target = tmp_path / "sub" / "report.md"
    old = os.umask(0o022)
    try:
        write_text_atomic(target, "new\n")
    finally:
        os.umask(old)
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.md"]
