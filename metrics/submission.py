"""Load and validate a submission: COCO keypoint results, optionally with uncertainty.

A submission is a JSON list of ``{"image_id", "category_id": 1, "keypoints": [x, y, s] * K,
"score"}`` with K = 21 (the SmallPose skeleton) or 17 (COCO order, scored with the coco17
protocol), plus optionally ``"keypoint_sigmas": [s] * K`` (isotropic std in pixels) or
``"keypoint_covs": [[sxx, sxy, syy]] * K`` (pixels squared) for the surprise metric.

Why so strict: a half-valid file scored silently gives a wrong number that ends up in a
paper. The first bad record raises :class:`~smallpose.errors.InputError` naming the file,
the record's position in the list and the field; ``skip_invalid=True`` scores the rest and
returns what it skipped. Checks run on whole numpy arrays built once after ``json.load``;
only the offending records are re-inspected in Python, to word the message.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from smallpose.metrics.arrays import gc_paused, parse_json

from smallpose.errors import InputError
from smallpose.skeleton import COCO17_INDEX, NUM_KEYPOINTS

#: refuse files above this size before reading them (json.load holds ~10x the file in memory)
MAX_BYTES = 2 * 1024**3
REQUIRED = ("image_id", "category_id", "keypoints", "score")
OPTIONAL = ("keypoint_sigmas", "keypoint_covs")
#: keys some tools write into COCO results; ignored (pycocotools recomputes bbox and area itself)
TOLERATED = ("bbox", "area", "id", "track_id")
_KNOWN = frozenset(REQUIRED + OPTIONAL + TOLERATED)
_REQUIRED_SET = frozenset(REQUIRED)
_NUM = (int, float)


@dataclass(frozen=True)
class Skipped:
    """A record left out under ``skip_invalid``: its position in the file, field and reason."""

    record: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "field": self.field, "reason": self.reason}


@dataclass
class Submission:
    """The valid records of a submission as arrays, in file order.

    ``keypoints`` is (D, K, 3) with the submission's own K (21, or 17 in COCO order);
    ``sigmas`` (D, K) and ``covs`` (D, K, 3) are in pixels. ``record_index`` maps each row
    back to its position in the file, so messages and reports can point at the record.
    """

    path: str
    image_ids: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    sigmas: np.ndarray | None
    covs: np.ndarray | None
    record_index: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)
    num_records: int = 0

    @property
    def K(self) -> int:  # noqa: N802 - the usual symbol
        return int(self.keypoints.shape[1])

    @property
    def has_uncertainty(self) -> bool:
        return self.sigmas is not None or self.covs is not None

    def to_unified(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Keypoints, sigmas and covs in the 21-point layout (17-point rows fill COCO's slots;
        the other four slots get (0, 0, 0), sigma NaN, cov NaN and are outside coco17's OKS)."""
        if self.K == NUM_KEYPOINTS:
            return self.keypoints, self.sigmas, self.covs
        d = len(self.keypoints)
        kp = np.zeros((d, NUM_KEYPOINTS, 3))
        kp[:, COCO17_INDEX] = self.keypoints
        sig = cov = None
        if self.sigmas is not None:
            sig = np.full((d, NUM_KEYPOINTS), np.nan)
            sig[:, COCO17_INDEX] = self.sigmas
        if self.covs is not None:
            cov = np.full((d, NUM_KEYPOINTS, 3), np.nan)
            cov[:, COCO17_INDEX] = self.covs
        return kp, sig, cov


def load_submission(
    source: str | os.PathLike | list,
    known_image_ids: Iterable[int] | np.ndarray | None = None,
    skip_invalid: bool = False,
    max_bytes: int = MAX_BYTES,
    allowed_k: tuple[int, ...] = (NUM_KEYPOINTS, 17),
    on_parsed: Callable[[], None] | None = None,
) -> Submission:
    """Read and validate a submission file (or an already loaded list of records).

    ``known_image_ids``: the ground truth's images; a record naming any other image is
    invalid (pycocotools asserts the same). ``max_bytes``: larger files are refused before
    reading. ``on_parsed``: called once the file is parsed and its bytes freed, before the
    validation. Raises :class:`InputError` at the first bad record unless ``skip_invalid``.
    """
    # the collector stays paused until the parsed records are freed (see arrays.gc_paused)
    with gc_paused():
        return _load(source, known_image_ids, skip_invalid, max_bytes, allowed_k, on_parsed)


def _load(
    source: str | os.PathLike | list,
    known_image_ids: Iterable[int] | np.ndarray | None,
    skip_invalid: bool,
    max_bytes: int,
    allowed_k: tuple[int, ...],
    on_parsed: Callable[[], None] | None,
) -> Submission:
    if isinstance(source, list):
        name, records, may_hold_bools = "<submission>", source, True
    else:
        name = str(source)
        path = Path(source)
        if not path.is_file():
            raise InputError(name, None, None, "no such file")
        size = os.path.getsize(path)
        if size > max_bytes:
            raise InputError(
                name, None, None, f"file is {size / 1e9:.2f} GB, above the {max_bytes / 1e9:.2f} GB limit; "
                "split the submission or raise the limit (max_bytes)"
            )  # fmt: skip
        raw = path.read_bytes()
        try:
            records, may_hold_bools, _ = parse_json(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(name, None, None, f"not valid JSON: {e}") from None
    if not isinstance(records, list):
        raise InputError(name, None, None, f"expected a JSON list of results, got a {type(records).__name__}")
    known = None if known_image_ids is None else np.unique(np.asarray(list(known_image_ids), dtype=np.int64))
    raw = None  # the file's bytes are not needed once parsed (peak memory)
    if on_parsed is not None:  # e.g. start loading the kernels, now that the peak is past
        on_parsed()
    sub = _Validator(name, records, known, allowed_k, may_hold_bools).run(skip_invalid)
    del records  # freed here, while the collector is still paused
    return sub


class _Validator:
    """Array checks over all records, then per-record wording for the offending ones."""

    def __init__(
        self, name: str, records: list, known: np.ndarray | None, allowed_k: tuple[int, ...], bools: bool
    ):
        self.name, self.records, self.known, self.allowed_k, self.bools = (
            name,
            records,
            known,
            allowed_k,
            bools,
        )
        self.n = len(records)

    def run(self, skip_invalid: bool) -> Submission:
        recs, n = self.records, self.n
        # column reads and checks go through map() with C-level callables (dict.get, type,
        # tuple): no Python frame per record, which is most of the cost at 10^5 records
        if set(map(type, recs)) <= {dict}:
            objs, is_obj = recs, np.ones(n, bool)
        else:
            is_obj = np.fromiter((type(r) is dict for r in recs), bool, n)
            objs = [r if type(r) is dict else {} for r in recs]
        layouts = set(map(tuple, objs))  # key orders: a handful at most in a written file
        if all(_REQUIRED_SET <= set(keys) <= _KNOWN for keys in layouts):
            keys_ok = np.ones(n, bool)
        else:
            keys_ok = np.fromiter((_REQUIRED_SET <= r.keys() <= _KNOWN for r in objs), bool, n)
        bad = ~(is_obj & keys_ok)
        self.K = self._pick_k(objs, bad)
        k = self.K
        ids, ids_ok = self._ints(_column(objs, "image_id"))
        cat, cat_ok = self._ints(_column(objs, "category_id"))
        cat_ok &= cat == 1
        score, score_ok = self._matrix(_column(objs, "score"), ())
        score_ok &= np.isfinite(score) & (score >= 0)
        kp, kp_ok = self._matrix(_column(objs, "keypoints"), (3 * k,))
        kp_ok &= np.isfinite(kp).all(axis=1)
        bad |= ~(ids_ok & cat_ok & score_ok & kp_ok)
        if self.known is not None:
            bad |= ~np.isin(ids, self.known)
        self.ref_sig, self.ref_cov = (
            ("keypoint_sigmas" in objs[0], "keypoint_covs" in objs[0]) if n else (0, 0)
        )
        sig = cov = None
        if self.ref_sig:
            sig, ok = self._matrix(_column(objs, "keypoint_sigmas"), (k,))
            bad |= ~(ok & np.isfinite(sig).all(axis=1) & (sig > 0).all(axis=1))
        if self.ref_cov:
            cov, ok = self._matrix(_column(objs, "keypoint_covs"), (k, 3))
            sxx, sxy, syy = cov[..., 0], cov[..., 1], cov[..., 2]
            pd_ok = np.isfinite(cov).all(axis=(1, 2)) & (sxx > 0).all(1) & (sxx * syy - sxy * sxy > 0).all(1)
            bad |= ~(ok & pd_ok)
        for key, ref in (("keypoint_sigmas", self.ref_sig), ("keypoint_covs", self.ref_cov)):
            if len({key in keys for keys in layouts}) > 1 or any(
                (key in keys) != bool(ref) for keys in layouts
            ):
                bad |= np.fromiter((key in r for r in objs), bool, n) != bool(ref)
        self.dup_of = self._duplicates(ids, kp, ~bad)
        bad |= self.dup_of >= 0
        skipped: list[Skipped] = []
        for i in np.flatnonzero(bad):
            fld, reason = self._explain(int(i))
            if not skip_invalid:
                raise InputError(self.name, int(i), fld or None, reason)
            skipped.append(Skipped(int(i), fld, reason))
        good = np.flatnonzero(~bad)
        return Submission(
            path=self.name,
            image_ids=ids[good],
            keypoints=kp[good].reshape(-1, k, 3),
            scores=score[good],
            sigmas=None if sig is None else sig[good],
            covs=None if cov is None else cov[good],
            record_index=good,
            skipped=skipped,
            num_records=n,
        )

    # -- array builders: (values, ok mask); rows that are not ok hold NaN / 0 ----------------

    def _pick_k(self, objs: list[dict], bad: np.ndarray) -> int:
        """K of the submission: that of the first record with an allowed keypoint count."""
        for r in objs:
            kp = r.get("keypoints")
            if type(kp) is list and len(kp) % 3 == 0 and len(kp) // 3 in self.allowed_k:
                return len(kp) // 3
        return self.allowed_k[0]

    def _ints(self, values: list) -> tuple[np.ndarray, np.ndarray]:
        if set(map(type, values)) <= {int}:
            try:
                return np.asarray(values, dtype=np.int64), np.ones(len(values), bool)
            except OverflowError:
                pass
        ok = np.fromiter((type(v) is int for v in values), bool, len(values))
        out = np.zeros(len(values), dtype=np.int64)
        for i in np.flatnonzero(ok):
            try:
                out[i] = values[i]
            except OverflowError:
                ok[i] = False
        return out, ok

    def _matrix(self, values: list, tail: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Numbers of shape ``tail`` per record, at once when the whole column is well formed."""
        n = len(values)
        out = np.full((n, *tail), np.nan)
        if not self.bools:
            try:
                arr = np.asarray(values)
            except (ValueError, TypeError):
                arr = None
            if arr is not None and arr.dtype.kind in "iuf" and arr.shape == (n, *tail):
                return arr.astype(np.float64, copy=False), np.ones(n, bool)
        ok = np.fromiter((_is_numeric(v, tail) for v in values), bool, n)
        if ok.any():
            out[ok] = np.asarray([values[i] for i in np.flatnonzero(ok)], dtype=np.float64).reshape(-1, *tail)
        return out, ok

    def _duplicates(self, ids: np.ndarray, kp: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """For each record, the position of an earlier identical one (same image and keypoints), else -1.

        Sorts by (image id, an integer hash of the keypoint bits) and compares whole rows only
        between neighbours with equal keys: far cheaper than sorting the rows themselves.
        """
        out = np.full(self.n, -1, dtype=np.int64)
        idx = np.flatnonzero(valid)
        if len(idx) < 2:
            return out
        rows = kp[idx] + 0.0  # +0.0 turns -0.0 into 0.0
        mult = np.random.default_rng(0).integers(1, 2**62, rows.shape[1], dtype=np.uint64) | np.uint64(1)
        key = (np.ascontiguousarray(rows).view(np.uint64) * mult).sum(axis=1)  # exact, wraps mod 2^64
        order = np.lexsort((key, ids[idx]))  # stable: equal rows stay in file order
        r, i = rows[order], ids[idx][order]
        same = (i[1:] == i[:-1]) & (r[1:] == r[:-1]).all(axis=1)
        if not same.any():
            return out
        group_start = np.maximum.accumulate(
            np.where(np.concatenate([[False], same]), 0, np.arange(len(order)))
        )
        dup = np.flatnonzero(np.concatenate([[False], same]))
        out[idx[order[dup]]] = idx[order[group_start[dup]]]
        return out

    # -- per-record wording ------------------------------------------------------------------

    def _explain(self, i: int) -> tuple[str, str]:
        r, k = self.records[i], self.K
        if type(r) is not dict:
            return "", f"expected an object, got {_kind(r)}"
        for key in REQUIRED:
            if key not in r:
                return key, "missing"
        for key in r:
            if key not in _KNOWN:
                hint = difflib.get_close_matches(key, sorted(_KNOWN), n=1)
                return key, "unknown field" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        v = r["image_id"]
        if type(v) is float and v.is_integer() and not -(2**63) <= v < 2**63:
            v = int(v)  # orjson reads an integer beyond 64 bits as a float
        if type(v) is not int:
            return "image_id", f"expected an integer, got {_kind(v)}"
        if not -(2**63) <= v < 2**63:
            return "image_id", f"integer {v} does not fit in 64 bits"
        if self.known is not None and not np.isin(r["image_id"], self.known):
            return "image_id", f"image {r['image_id']} is not in the ground truth"
        if type(r["category_id"]) is not int or r["category_id"] != 1:
            return "category_id", f"expected 1 (person), got {r['category_id']!r}"
        fld, why = _number_problem(r["score"], "score", negative_ok=False)
        if fld:
            return fld, why
        kp = r["keypoints"]
        if type(kp) is not list:
            return "keypoints", f"expected a list of [x, y, score] * {k}, got {_kind(kp)}"
        if len(kp) != 3 * k:
            ks = " or ".join(str(a) for a in self.allowed_k)
            return (
                "keypoints",
                f"expected {3 * k} numbers ({k} keypoints x 3, like record 0), got {len(kp)}"
                + (f"; K must be {ks}" if len(kp) // 3 not in self.allowed_k or len(kp) % 3 else ""),
            )
        for j, v in enumerate(kp):
            fld, why = _number_problem(v, f"keypoints[{j}]", negative_ok=True)
            if fld:
                return fld, why
        for key, ref, tail in (
            ("keypoint_sigmas", self.ref_sig, (k,)),
            ("keypoint_covs", self.ref_cov, (k, 3)),
        ):
            if (key in r) != bool(ref):
                other = "carries" if ref else "does not carry"
                return (
                    key,
                    f"{'missing' if ref else 'present'} while record 0 {other} it (all records or none)",
                )
            if key in r:
                why = _uncertainty_problem(r[key], key, tail)
                if why:
                    return why
        if self.dup_of[i] >= 0:
            return "keypoints", f"duplicate of record {self.dup_of[i]} (same image_id and keypoints)"
        return "", "invalid record"


def _column(objs: list[dict], key: str) -> list:
    """``[r.get(key) for r in objs]`` without a Python frame per record."""
    return list(map(dict.get, objs, repeat(key)))


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(type(v), repr(v))


def _number_problem(v: Any, fld: str, negative_ok: bool) -> tuple[str, str]:
    if type(v) not in _NUM:
        return fld, f"expected a number, got {_kind(v)}"
    if not np.isfinite(v):
        return fld, f"not a finite number ({v})"
    if not negative_ok and v < 0:
        return fld, f"negative ({v})"
    return "", ""


def _is_numeric(v: Any, tail: tuple[int, ...]) -> bool:
    if not tail:
        return type(v) in _NUM
    if type(v) is not list or len(v) != tail[0]:
        return False
    return all(_is_numeric(x, tail[1:]) for x in v)


def _uncertainty_problem(v: Any, key: str, tail: tuple[int, ...]) -> tuple[str, str] | None:
    k = tail[0]
    if type(v) is not list or len(v) != k:
        n = f"got {len(v)} entries" if type(v) is list else f"got {_kind(v)}"
        return key, f"expected {k} entries, {n}"
    for j, x in enumerate(v):
        f = f"{key}[{j}]"
        if len(tail) == 1:
            fld, why = _number_problem(x, f, negative_ok=False)
            if fld:
                return fld, why
            if x == 0:
                return f, "must be positive (a standard deviation in pixels)"
            continue
        if type(x) is not list or len(x) != 3:
            return f, f"expected [sxx, sxy, syy], got {_kind(x)}"
        for c in x:
            fld, why = _number_problem(c, f, negative_ok=True)
            if fld:
                return fld, why
        sxx, sxy, syy = x
        if not (sxx > 0 and sxx * syy - sxy * sxy > 0):
            return f, f"covariance {x} is not positive definite"
    return None
