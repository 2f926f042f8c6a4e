"""Progress lines on stderr for work longer than a few seconds.

Plain lines, at most one a second, rather than a redrawn bar: they read well in CI
logs and in a terminal alike. ``SMALLPOSE_QUIET=1`` silences them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Progress:
    def __init__(self, desc: str, total: int | None = None, every: float = 1.0, delay: float = 2.0):
        self.desc, self.total, self.every = desc, total, every
        self.start = time.monotonic()
        self.next = self.start + delay
        self.n = 0
        self.quiet = bool(os.environ.get("SMALLPOSE_QUIET"))

    def update(self, n: int = 1, note: str = "") -> None:
        self.n += n
        now = time.monotonic()
        if not self.quiet and now >= self.next:
            self.next = now + self.every
            of = f"/{self.total}" if self.total else ""
            print(
                f"  {self.desc}: {self.n}{of} {note} ({now - self.start:.0f}s)", file=sys.stderr, flush=True
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    p = Progress(desc, total)
    for item in items:
        yield item
        p.update()
