"""The wheel installs in a fresh venv and exposes the four sibling packages under smallpose."""

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_imports_all_four(tmp_path):
    wheel_dir = tmp_path / "wheels"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheel_dir),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = wheel_dir.glob("smallpose-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not any(n.startswith(("metrics/", "converters/", "reports/", "baselines/")) for n in names)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py = env_dir / "bin" / "python"
    r = subprocess.run(
        [py, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr[-2000:]
    code = (
        "import smallpose, smallpose.converters, smallpose.metrics, smallpose.baselines, smallpose.reports;"
        "print(smallpose.metrics.__file__)"
    )
    r = subprocess.run([py, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert str(env_dir) in r.stdout and str(REPO) not in r.stdout
    r = subprocess.run(
        [env_dir / "bin" / "smallpose", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert r.returncode == 0 and "demo" in r.stdout
