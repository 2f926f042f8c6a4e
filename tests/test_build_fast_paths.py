"""The build's batch code paths, checked against hand-computed values and hashlib itself."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

from smallpose import derive, ids


def _blake53(text: str) -> int:  # the id definition, written out again from hashlib
    h = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") & ((1 << 53) - 1)
    return h or 1


def test_batch_ids_and_keys_match_the_definition():
    src = pa.array(["coco", "coco", "hieve", "aic"])
    sid = pa.array(["1", None, "ü/ß 7", "x" * 300])  # a missing id, non-ASCII, a multi-block key
    keys = ids.key_array(src, sid, "a")
    assert keys.to_pylist() == [
        "coco\x1f1\x1fa",
        "coco\x1f<NA>\x1fa",
        "hieve\x1fü/ß 7\x1fa",
        f"aic\x1f{'x' * 300}\x1fa",
    ]
    got = ids.stable_ids_utf8(ids.utf8_keys(keys))
    assert got.dtype == np.int64 and got.tolist() == [_blake53(k) for k in keys.to_pylist()]


def test_gather_keypoints_reorders_checks_and_zeroes():
    a = np.zeros((2, 21, 3))
    a[0, 0] = (5.0, 6.0, 2)
    a[0, 1] = (7.0, 8.0, 0)  # unannotated with stray coordinates: becomes (0, 0, 0)
    a[1, 2] = (np.nan, 1.0, 1)  # annotated, x not finite
    b = np.zeros((1, 21, 3))
    b[0, 3] = (1.0, 1.0, 3)  # visibility 3
    b[0, 4] = (2.0, 2.0, 1)
    out, bad_v, bad_xy, n_p = derive.gather_keypoints([a, b], np.array([2, 0, 1]))
    assert bad_v.tolist() == [False, False, True]  # in input order
    assert bad_xy.tolist() == [False, True, False]
    assert n_p.tolist() == [1, 1, 2]
    assert out[2, 0].tolist() == [5.0, 6.0, 2.0] and out[2, 1].tolist() == [0.0, 0.0, 0.0]  # a[0] -> row 2
    assert np.isnan(out[0, 2, 0]) and out[1, 4].tolist() == [2.0, 2.0, 1.0]
    assert a[0, 1].tolist() == [7.0, 8.0, 0.0]  # the inputs are left alone


def test_crowd_index_sums_in_rank_order():
    # N_b / N_a: person 0 -> 1/1, person 1 -> 3/1, person 2 -> 1/3, donor 3 -> 0/5; in floats
    # (1 + 3) + 1/3 = 4.333333333333333 but (1/3 + 3) + 1 = 4.333333333333334
    boxes = np.array([[0, 0, 10, 10], [100, 0, 10, 10], [200, 0, 10, 10], [900, 900, 1, 1]], float)
    kp = np.zeros((4, 21, 3))
    kp[0, 0] = (500, 500, 2)  # each person's own points lie outside every box
    kp[1, 0] = (510, 500, 2)
    kp[2, :3] = [(520, 500, 2)] * 3
    kp[3, :5] = [(5, 5, 2), (105, 5, 2), (105, 6, 2), (105, 7, 2), (205, 5, 2)]  # the donor's
    img = np.zeros(4, np.int64)
    ci = derive.crowd_index(img, 1, boxes, kp)
    assert ci[0] == 4.333333333333333 / 4
    perm = np.array([2, 1, 0, 3])  # rows reordered: the plain sum would change in the last bit
    assert derive.crowd_index(img, 1, boxes[perm], kp[perm])[0] == 4.333333333333334 / 4
    assert derive.crowd_index(img, 1, boxes[perm], kp[perm], rank=perm)[0] == ci[0]
