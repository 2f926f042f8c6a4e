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


def test_replace_dir_swaps_and_cleans_up(tmp_path):
    from smallpose.atomic import replace_dir

    out, new = tmp_path / "corpus", tmp_path / ".corpus.partial"
    out.mkdir()
    (out / "old.txt").write_text("old")
    new.mkdir()
    (new / "new.txt").write_text("new")
    replace_dir(new, out)
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no .old left


def test_replace_dir_puts_old_back_when_the_swap_fails(tmp_path, monkeypatch):
    from smallpose import atomic

    out, new = tmp_path / "store", tmp_path / ".store.building"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    new.mkdir()
    real_rename = os.rename

    def failing_rename(src, dst):
        if str(src) == str(new):
            raise OSError("disk gone")
        real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", failing_rename)
    with pytest.raises(OSError):
        atomic.replace_dir(new, out)
    assert (out / "manifest.json").read_text() == "{}"
