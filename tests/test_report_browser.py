"""Open leaderboard.html from disk in headless Chromium: rows, figures, sorting JS, not blank."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from smallpose.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
]  # fmt: skip


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs headless chromium for the report browser test (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); the browser test needs it")
    return exe


def _run(exe: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_leaderboard_renders_in_chromium(tmp_path):
    from test_report import RUNS, write_runs
    from test_report_dataset import make_store

    exe = _chromium()
    store = make_store(tmp_path)
    metrics = write_runs(tmp_path / "m")
    out = tmp_path / "out"
    assert main(["report", *map(str, metrics), "--out", str(out), "--store", str(store.path)]) == 0
    url = (out / "leaderboard.html").resolve().as_uri()
    assert url.startswith("file://")

    dom = _run(exe, tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    for run in RUNS:  # every run appears in both groupings
        assert len(re.findall(rf'<tr class="run[^"]*" data-run="{re.escape(run[0])}"', html)) == 2, run[0]
    imgs = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', html)
    assert len(imgs) == 3 + 4  # run figures + dataset figures
    assert len(re.findall(r"<th data-type=\"num\"", html)) == 2 * 9
    assert "addEventListener" in html and "tr.run" in html
    assert html.count('class="num best"') >= 17

    shot = tmp_path / "shot.png"
    res = _run(exe, tmp_path, f"--screenshot={shot}", "--window-size=1400,2000", url)
    assert shot.is_file(), res.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1400, 2000)
        px = np.asarray(im.convert("RGB"))
    assert px.std() > 15
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 50
    # the best-value cells' green background is on screen
    assert (np.abs(px.astype(int) - (0xE8, 0xF5, 0xE9)).max(axis=2) <= 2).sum() > 500
