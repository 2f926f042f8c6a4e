"""Pause Python's cyclic garbage collector around bulk parsing and array building.

A parsed annotation or submission file is 10^5-10^6 dicts and lists; while they live, every
burst of new container objects makes the collector walk all of them again, which measured at
about half of a parse and most of the HiEve conversion (docs/benchmarks.md). JSON values and
the tables built from them hold no reference cycles, so reference counting frees them and
pausing is safe. The previous state is restored on exit, even on error.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
