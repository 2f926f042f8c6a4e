"""The skeleton table against the SPEC's hand-written facts."""

from collections import deque

import numpy as np

from smallpose import skeleton as sk


def test_names_and_order_match_spec():
    assert sk.NUM_KEYPOINTS == 21
    assert sk.KEYPOINT_NAMES[0] == "nose" and sk.KEYPOINT_NAMES[6] == "head_bottom"
    assert sk.KEYPOINT_NAMES[7] == "chest" and sk.KEYPOINT_NAMES[16] == "pelvis"
    assert sk.KEYPOINT_NAMES[20] == "right_ankle"


def test_sigmas_hand_checked():
    s = dict(zip(sk.KEYPOINT_NAMES, sk.SIGMAS))
    assert s["nose"] == 0.026 and s["head_top"] == 0.079 and s["head_bottom"] == 0.079
    assert s["chest"] == 0.079 and s["pelvis"] == 0.107 and s["left_ankle"] == 0.089
    # pycocotools' COCOeval kpt_oks_sigmas, copied from its source
    coco = (
        np.array(
            [
                0.26,
                0.25,
                0.25,
                0.35,
                0.35,
                0.79,
                0.79,
                0.72,
                0.72,
                0.62,
                0.62,
                1.07,
                1.07,
                0.87,
                0.87,
                0.89,
                0.89,
            ]
        )
        / 10
    )
    np.testing.assert_allclose(sk.COCO17_SIGMAS, coco, rtol=0, atol=1e-15)
    assert sk.sigmas({"nose": 0.5})[0] == 0.5 and sk.SIGMAS[0] == 0.026


def test_flip_pairs_are_left_right():
    for a, b in sk.FLIP_PAIRS:
        assert sk.KEYPOINT_NAMES[a].replace("left_", "") == sk.KEYPOINT_NAMES[b].replace("right_", "")
    perm = sk.flip_index()
    assert sorted(perm) == list(range(21)) and (perm[perm] == np.arange(21)).all()
    assert len(sk.FLIP_PAIRS) == 8


def test_edges_draw_one_connected_figure():
    adj = {i: set() for i in range(21)}
    for a, b in sk.SKELETON_EDGES:
        assert a != b
        adj[a].add(b)
        adj[b].add(a)
    seen, todo = {0}, deque([0])
    while todo:
        for n in adj[todo.popleft()] - seen:
            seen.add(n)
            todo.append(n)
    assert seen == set(range(21))


def test_source_mappings():
    assert {s: m.K for s, m in sk.SOURCE_SKELETONS.items()} == {
        "coco": 17,
        "mpii": 16,
        "aic": 14,
        "hieve": 14,
        "posetrack": 17,
        "crowdpose": 14,
    }
    mpii = sk.SOURCE_SKELETONS["mpii"]
    native = np.zeros((1, 16, 3))
    native[0, 7] = (10, 20, 2)  # thorax
    native[0, 8] = (11, 21, 1)  # upper_neck
    out = mpii.to_unified(native)
    assert tuple(out[0, sk.INDEX["chest"]]) == (10, 20, 2)
    assert tuple(out[0, sk.INDEX["head_bottom"]]) == (11, 21, 1)
    pt = sk.SOURCE_SKELETONS["posetrack"]
    src, dst = pt.index_arrays()
    assert 3 not in src and 4 not in src and len(src) == 15  # ears dropped
    aic = sk.SOURCE_SKELETONS["aic"]
    assert aic.unified[13] == "head_bottom" and aic.unified[12] == "head_top"
