"""CrowdPose: K=14, head/neck mapping and the published crowdIndex, by hand from the fixture."""

from __future__ import annotations

import json

import pytest
from smallpose.converters import crowdpose

from smallpose.errors import InputError
from smallpose.skeleton import INDEX


def test_fixture_values_by_hand(fixtures_dir):
    t = crowdpose.convert(fixtures_dir / "crowdpose" / "test_crowdpose.json")
    assert t.K == 14 and len(t.images) == 2 and len(t.instances) == 5 and len(t.rejects) == 0
    ci = dict(zip(t.images.source_image_id, t.images.source_crowd_index))
    assert ci == {"106848": 0.33, "103319": 0.39}
    assert set(t.images.source_split) == {"test"}  # the file is named test_crowdpose.json
    row = t.instances.iloc[0]
    assert row.source_ann_id == "123803" and row.source_image_id == "106848"
    assert [row.bbox_x, row.bbox_y, row.bbox_w, row.bbox_h] == [106.01, 13.43, 273.15, 352.42]
    kp = t.keypoints[0]
    # native: l_sho 0,0,0 | r_sho 208,108,2 | l_elb 0 | r_elb 278,158,2 | l_wri 262,206,2 | r_wri 348,98,2
    #         l_hip 0 | r_hip 173,299,2 | knees/ankles 0 | head 256,27,1 | neck 220,89,1
    expected = {
        "right_shoulder": [208, 108, 2], "right_elbow": [278, 158, 2], "left_wrist": [262, 206, 2],
        "right_wrist": [348, 98, 2], "right_hip": [173, 299, 2], "head_top": [256, 27, 1],
        "head_bottom": [220, 89, 1],
    }  # fmt: skip
    for name, i in INDEX.items():
        assert kp[i].tolist() == expected.get(name, [0, 0, 0]), name
    assr = row.source_area
    assert assr != assr  # no area in CrowdPose: NaN


def test_bad_crowd_index(tmp_path):
    data = {
        "images": [{"id": 1, "file_name": "1.jpg", "width": 10, "height": 10, "crowdIndex": "high"}],
        "annotations": [],
    }
    f = tmp_path / "crowdpose_train.json"
    f.write_text(json.dumps(data))
    t = crowdpose.convert(f)
    assert len(t.images) == 0 and t.rejects.counts() == {"wrong type": 1}
    with pytest.raises(InputError, match=r"record 1: field 'crowdIndex': wrong type"):
        crowdpose.convert(f, strict=True)
