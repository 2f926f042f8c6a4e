"""Every converted image is ``table.root / file_name``, on real fixtures, synth corpora and hand layouts.

The independent check is the file system: the fixtures' and synth's images exist where their
datasets put them, and the hand-made layouts below are written here with known paths.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

import pytest
from smallpose.converters import convert

from smallpose import cli, synth
from smallpose.store import open_store


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("SMALLPOSE_QUIET", "1")


def _assert_resolvable(t, kind: str) -> None:
    assert t.root is not None and Path(t.root).is_absolute(), kind
    assert len(t.images) > 0, kind
    for name in t.images.file_name:
        parts = PurePosixPath(name).parts
        assert "\\" not in name and not name.startswith("/") and ".." not in parts, (kind, name)
        assert (Path(t.root) / name).is_file(), (kind, t.root, name)


FIXTURES = [
    ("coco", "coco/test_coco.json"),
    ("mpii", "mpii/test_mpii.json"),
    ("aic", "aic/test_aic.json"),
    ("aic", "aic/native/keypoint_annotations_3images.json"),  # images one folder up
    ("posetrack", "posetrack18/annotations/val"),
    ("posetrack", "posetrack18/annotations/test_posetrack18_val.json"),
    ("crowdpose", "crowdpose/test_crowdpose.json"),
]


@pytest.mark.parametrize("kind,rel", FIXTURES, ids=[r for _, r in FIXTURES])
def test_real_fixtures_resolve(fixtures_dir, kind, rel):
    t = convert(kind, fixtures_dir / rel)
    _assert_resolvable(t, kind)


def test_fixture_roots_and_ids(fixtures_dir):
    pt = convert("posetrack", fixtures_dir / "posetrack18" / "annotations" / "val")
    assert pt.root == fixtures_dir / "posetrack18"  # the folder holding annotations/ and images/
    aic = convert("aic", fixtures_dir / "aic" / "native")
    assert aic.root == fixtures_dir / "aic"
    assert aic.images.file_name.iloc[0] == "054d9ce9201beffc76e5ff2169d2af2f027002ca.jpg"
    assert aic.images.source_image_id.iloc[0] == "054d9ce9201beffc76e5ff2169d2af2f027002ca"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "corpus"
    mp = pytest.MonkeyPatch()
    mp.setenv("SMALLPOSE_QUIET", "1")
    try:
        synth.generate(out, scale="tiny", images=True, seed=0)
    finally:
        mp.undo()
    return out


@pytest.mark.parametrize("kind", synth.KINDS)
def test_synth_corpus_resolves(corpus, kind):
    path = dict(synth.sources(corpus))[kind]
    t = convert(kind, path)
    _assert_resolvable(t, kind)
    assert t.root == path  # synth writes each source in its own folder, the dataset root
    assert t.images.file_name.is_unique


def test_synth_prefixes_by_hand(corpus):
    src = dict(synth.sources(corpus))
    coco = convert("coco", src["coco"])
    # ids stay COCO's numeric ids; the prefix is the image set of the json each image came from
    for sid, name, split in zip(coco.images.source_image_id, coco.images.file_name, coco.images.source_split):
        folder = {"train": "train2017", "val": "val2017"}[split]
        assert name == f"{folder}/{int(sid):012d}.jpg"
    mpii = convert("mpii", src["mpii"])
    assert all(n.startswith("images/") and "/" not in n[7:] for n in mpii.images.file_name)
    hieve = convert("hieve", src["hieve"])
    for sid, name in zip(hieve.images.source_image_id, hieve.images.file_name):
        assert name == f"images/{sid}"  # source_image_id is <seq>/<frame>, without the prefix


def test_without_images_names_are_the_same(corpus, tmp_path):
    """Annotations shipped without images fall back to the official layout: same file_name."""
    bare = tmp_path / "bare"
    shutil.copytree(corpus, bare, ignore=shutil.ignore_patterns("*.jpg"))
    for kind, path in synth.sources(corpus):
        with_images = convert(kind, path)
        without = convert(kind, bare / kind)
        assert without.root == bare / kind, kind
        assert without.images.file_name.tolist() == with_images.images.file_name.tolist(), kind
        assert not (bare / kind / without.images.file_name.iloc[0]).exists()


# ------------------------------------------------------------------ hand-made official layouts

_COCO = {
    "images": [{"id": 785, "file_name": "000000000785.jpg", "width": 640, "height": 425}],
    "annotations": [
        {"id": 1, "image_id": 785, "category_id": 1, "bbox": [10, 20, 30, 60], "area": 1200.0, "iscrowd": 0,
         "num_keypoints": 1, "keypoints": [15, 25, 2] + [0] * 48}
    ],
    "categories": [{"id": 1, "name": "person"}],
}  # fmt: skip


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8jpeg")


@pytest.mark.parametrize("with_image", [True, False])
def test_official_coco_layout(tmp_path, with_image):
    ann = _write(tmp_path / "annotations" / "person_keypoints_val2017.json", _COCO)
    if with_image:
        _touch(tmp_path / "val2017" / "000000000785.jpg")
    t = convert("coco", ann)
    assert t.root == tmp_path
    assert t.images.file_name.tolist() == ["val2017/000000000785.jpg"]
    assert t.images.source_image_id.tolist() == ["785"]
    # the whole dataset folder: train and val jsons get their own prefixes under one root
    _write(tmp_path / "annotations" / "person_keypoints_train2017.json",
           {**_COCO, "images": [{**_COCO["images"][0], "id": 9, "file_name": "000000000009.jpg"}],
            "annotations": [{**_COCO["annotations"][0], "id": 2, "image_id": 9}]})  # fmt: skip
    both = convert("coco", tmp_path)
    assert both.root == tmp_path
    assert sorted(both.images.file_name) == ["train2017/000000000009.jpg", "val2017/000000000785.jpg"]


def test_coco_images_beside_the_json_win(tmp_path):
    ann = _write(tmp_path / "annotations" / "person_keypoints_val2017.json", _COCO)
    _touch(tmp_path / "annotations" / "000000000785.jpg")
    _touch(tmp_path / "val2017" / "000000000785.jpg")
    t = convert("coco", ann)
    assert (t.root, t.images.file_name.tolist()) == (tmp_path / "annotations", ["000000000785.jpg"])


def test_official_mpii_json_layout(tmp_path):
    entry = {"image": "015601864.jpg", "center": [100.0, 200.0], "scale": 1.0,
             "joints": [[50.0 + i, 100.0 + 5 * i] for i in range(16)], "joints_vis": [1] * 16}  # fmt: skip
    ann = _write(tmp_path / "annotations" / "mpii_train.json", [entry])
    _touch(tmp_path / "images" / "015601864.jpg")
    t = convert("mpii", ann)
    assert (t.root, t.images.file_name.tolist()) == (tmp_path, ["images/015601864.jpg"])


_AIC = [{"image_id": "abc123", "keypoint_annotations": {"human1": [20, 30, 1] * 14},
         "human_annotations": {"human1": [10, 20, 40, 80]}}]  # fmt: skip


def test_official_aic_layout(tmp_path):
    ann = _write(tmp_path / "keypoint_train_annotations_20170909.json", _AIC)
    _touch(tmp_path / "keypoint_train_images_20170902" / "abc123.jpg")
    t = convert("aic", ann)
    assert (t.root, t.images.file_name.tolist()) == (tmp_path, ["keypoint_train_images_20170902/abc123.jpg"])
    assert t.images.source_image_id.tolist() == ["abc123"]


def test_aic_without_images_uses_the_split_folder(tmp_path):
    ann = _write(tmp_path / "keypoint_validation_annotations_20170911.json", _AIC)
    t = convert("aic", ann)
    assert (t.root, t.images.file_name.tolist()) == (tmp_path, ["validation/abc123.jpg"])


def test_official_crowdpose_layout(tmp_path):
    data = {
        "images": [{"id": 7, "file_name": "100000.jpg", "width": 100, "height": 100, "crowdIndex": 0.1}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 2, 30, 60], "iscrowd": 0,
                         "num_keypoints": 1, "keypoints": [5, 6, 2] + [0] * 39}],
        "categories": [{"id": 1, "name": "person"}],
    }  # fmt: skip
    ann = _write(tmp_path / "json" / "crowdpose_val.json", data)
    for with_image in (False, True):
        if with_image:
            _touch(tmp_path / "images" / "100000.jpg")
        t = convert("crowdpose", ann)
        assert (t.root, t.images.file_name.tolist()) == (tmp_path, ["images/100000.jpg"])


# ------------------------------------------------------------------ end to end through the build


def test_build_manifest_roots_resolve_every_image(corpus, tmp_path):
    out = tmp_path / "store"
    args = ["build", "--out", str(out)]
    for kind, path in synth.sources(corpus):
        args += ["--source", f"{kind}={path}"]
    assert cli.main(args) == 0
    st = open_store(out)
    roots = {s["kind"]: Path(s["root"]) for s in st.manifest["sources"]}
    assert set(roots) == set(synth.KINDS)
    assert all(s["images_found_under_root"] for s in st.manifest["sources"])
    im = st.images_df()
    assert len(im) > 0 and set(im.source) == set(synth.KINDS)
    missing = [(s, f) for s, f in zip(im.source, im.file_name) if not (roots[s] / f).is_file()]
    assert missing == []
