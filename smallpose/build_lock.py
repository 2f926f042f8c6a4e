"""One build at a time per ``--out``, and the clean-up of what a killed build left behind.

Apart from the build because it is about the file system around the store, not its rows;
the atomic write itself is smallpose.store.write_store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from smallpose.errors import SmallPoseError
from smallpose.store import MANIFEST


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` (flock: released by the kernel even on SIGKILL) while building.

    Holding it means no other build writes this store, so any ``.<name>.building-*`` left
    beside it is from a dead build and is removed, and a ``.<name>.old-*`` (a previous store
    renamed away just before a crash) is put back if the store itself is missing.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.parent / f".{out.name}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (
            ImportError
        ):  # pragma: no cover - no flock (Windows): skip cleaning, mkdtemp keeps builds apart
            yield
            return
        except OSError:
            raise SmallPoseError(f"{out}: another build into this store is running (lock {lock})") from None
        _clean_stale(out)
        yield
    finally:
        os.close(fd)


def _clean_stale(out: Path) -> None:
    for p in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists() and (p / MANIFEST).is_file():
            os.rename(p, out)
            print(f"smallpose build: restored {out} from an interrupted swap ({p.name})", file=sys.stderr)
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p in out.parent.glob(f".{out.name}.building-*"):
        shutil.rmtree(p, ignore_errors=True)
