"""Shared fixtures. Tests that read ../shared skip with a reason where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SMALLPOSE_SHARED", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    """../shared/fixtures (real native samples); skips where a user's clone lacks it."""
    if not FIXTURES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the real fixtures at {FIXTURES}")
        pytest.skip(f"real fixtures not present at {FIXTURES} (a clone without ../shared)")
    return FIXTURES
