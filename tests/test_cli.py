"""Every subcommand has --help with an example and fails on bad input with one line."""

import subprocess
import sys

import pytest

from smallpose.cli import COMMANDS, main


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_has_example(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"smallpose {cmd}" in out.split("example:")[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["build"],
        ["build", "--source", "nosuch=/tmp", "--out", "/tmp/x-store"],
        ["stats", "/nonexistent/store"],
        ["eval", "--gt", "/nonexistent/store", "--pred", "/nonexistent.json"],
        ["report", "/nonexistent/metrics.json", "--out", "/tmp/x-report"],
        ["push", "/nonexistent/store", "--repo", "a/b", "--dry-run", "/tmp/x-hub"],
        ["export", "/nonexistent/store", "--out", "/tmp/x.json"],
        ["synth", "--out", "/tmp/x-synth", "--scale", "huge"],
        ["train"],
        ["nosuch"],
    ],
)
def test_bad_input_is_one_line(argv):
    r = subprocess.run([sys.executable, "-m", "smallpose", *argv], capture_output=True, text=True)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and "error" in lines[0]
