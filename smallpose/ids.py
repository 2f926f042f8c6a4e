"""Stable 53-bit ids for images and instances.

An id is a hash of the record's own natural key (source, source image id, and for an
instance its source annotation id), so it does not depend on which other sources are in
the build, on their order, or on row positions: a rebuild, or a build with one more
source, gives every record the same id. 53 bits keep ids exact in JavaScript and in any
JSON reader that parses numbers as doubles. A collision between two different keys is
astronomically unlikely (~n^2 / 2^54), but it is checked and fails the build loudly
rather than merging two records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smallpose.errors import SmallPoseError

ID_BITS = 53
_MASK = (1 << ID_BITS) - 1
_SEP = "\x1f"  # unit separator: cannot occur inside ids read from json/text
_NA = "<NA>"  # how a missing part reads inside a key


class IdCollisionError(SmallPoseError):
    pass


def natural_key(*parts: str) -> str:
    return _SEP.join(parts)


def hash53(key: str) -> int:
    """blake2b-64 of the UTF-8 key, truncated to 53 bits; never 0 (0 reads as 'missing')."""
    h = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") & _MASK
    return h or 1


_HASH53 = hash53  # the stock definition; stable_ids_utf8 is its batch form


def stable_ids(keys: Iterable[str]) -> np.ndarray:
    """53-bit ids of many keys as int64 (one hashlib call each: ~1 µs per key)."""
    return np.fromiter((hash53(k) for k in keys), dtype=np.int64)


def stable_ids_utf8(keys: Sequence[bytes]) -> np.ndarray:
    """``hash53`` of many UTF-8 encoded keys as int64, the same numbers as :func:`stable_ids`.

    blake2b is per key by nature; what is saved is everything around it: the digests are
    joined into one buffer and truncated as a uint64 array instead of an int per key.
    A replaced ``hash53`` (tests force a collision with it) stays the definition.
    """
    if hash53 is not _HASH53:
        return np.fromiter((hash53(k.decode("utf-8")) for k in keys), dtype=np.int64, count=len(keys))
    blake = hashlib.blake2b
    raw = b"".join([blake(k, digest_size=8).digest() for k in keys])
    ids = (np.frombuffer(raw, dtype="<u8") & np.uint64(_MASK)).astype(np.int64)
    ids[ids == 0] = 1
    return ids


def key_array(*columns: pa.Array | str) -> pa.Array:
    """Natural keys of parallel Arrow string columns (or constant strings), as one Arrow array.

    The same strings as :func:`key_columns` (a missing part reads "<NA>"), joined by Arrow
    in C: a million keys cost no Python string operations.
    """
    typ = pa.large_string()
    parts = [pa.scalar(c, typ) if isinstance(c, str) else c.cast(typ).fill_null(_NA) for c in columns]
    joined = pc.binary_join_element_wise(*parts, pa.scalar(_SEP, typ))
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def utf8_keys(keys: pa.Array) -> np.ndarray:
    """An Arrow string array as an object array of UTF-8 ``bytes`` (for stable_ids_utf8)."""
    return keys.cast(pa.large_binary()).to_numpy(zero_copy_only=False)


def key_columns(*columns: Sequence[str]) -> list[str]:
    """Join parallel string columns into natural keys, row by row.

    pandas columns are turned into object arrays first: iterating an Arrow-backed string
    Series element by element is ~10x slower than the join itself.
    """
    cols = [c.to_numpy(dtype=object, na_value=_NA) if hasattr(c, "to_numpy") else c for c in columns]
    return [_SEP.join(parts) for parts in zip(*cols)]


def check_unique(ids: np.ndarray, keys: Sequence[str], what: str) -> None:
    """Fail when two *different* keys got the same id (equal keys are the caller's duplicates)."""
    if len(ids) < 2:
        return
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    for d in dup:
        a, b = (_text(keys[order[d + i]]) for i in (0, 1))
        if a != b:
            raise IdCollisionError(
                f"{what} id collision: {a.replace(_SEP, '/')!r} and {b.replace(_SEP, '/')!r} both hash to "
                f"{int(s[d])}; rename one source image/annotation id or report this as a bug"
            )


def _text(key: str | bytes) -> str:
    return key.decode("utf-8") if isinstance(key, bytes) else key
