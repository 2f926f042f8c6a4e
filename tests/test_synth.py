"""`smallpose synth`: every file checked in its native format, independently of the writer.

Structure is compared with the real samples in ../shared/fixtures (key sets, key names,
types), values against the SPEC (visibility codes, point orders, splits), and the size
mix against the paper's 56:36:8, with box areas computed here from the native files.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

from smallpose.errors import SmallPoseError
from smallpose.synth import KINDS, generate, sources

S_MAX, M_MAX = 128 * 96, 256 * 192
_SECONDS: dict[str, float] = {}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tiny"
    t0 = time.perf_counter()
    generate(out, "tiny", images=False, seed=0)
    _SECONDS["tiny"] = time.perf_counter() - t0
    return out


@pytest.fixture(scope="module")
def tiny_images(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tiny_img"
    generate(out, "tiny", images=True, seed=3)
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "small"
    generate(out, "small", images=False, seed=0)
    return out


def _load_mpii(root: Path):
    m = sio.loadmat(root / "mpii" / "mpii_human_pose_v1_u12_1.mat", squeeze_me=True, struct_as_record=False)
    return m["RELEASE"]


def _as_list(x) -> list:
    """A squeezed MATLAB struct array is a bare struct when it had one element."""
    return list(x) if isinstance(x, np.ndarray) else [x]


# ---------------------------------------------------------------- the listing


def test_tiny_generates_all_sources_in_order(tiny):
    pairs = sources(tiny)
    assert [k for k, _ in pairs] == ["coco", "mpii", "aic", "hieve", "posetrack"] == list(KINDS)
    assert all(p.is_absolute() and p.is_dir() and p.parent == tiny.resolve() for _, p in pairs)
    listing = json.loads((tiny / "SOURCES.json").read_text())
    assert listing == [{"kind": k, "path": k} for k in KINDS]
    assert _SECONDS["tiny"] < 10  # target < 2 s; loose here because CI machines are shared


def test_sources_missing_listing_is_one_line_error(tmp_path):
    with pytest.raises(SmallPoseError, match="SOURCES.json: not found"):
        sources(tmp_path)


def test_refuses_foreign_folder_and_bad_scale(tmp_path):
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(SmallPoseError, match="not written by smallpose synth"):
        generate(tmp_path, "tiny")
    assert (tmp_path / "mine.txt").read_text() == "precious"
    with pytest.raises(SmallPoseError, match="unknown scale"):
        generate(tmp_path / "x", "medium")
    with pytest.raises(SmallPoseError, match="not available with --scale full"):
        generate(tmp_path / "y", "full", images=True)


# ---------------------------------------------------------------- COCO


def test_coco_matches_real_layout(tiny, fixtures_dir):
    real = json.loads((fixtures_dir / "coco" / "test_coco.json").read_text())
    real_ann_keys = set().union(*(a.keys() for a in real["annotations"]))
    real_img_keys = set().union(*(i.keys() for i in real["images"]))
    crowd = zero = 0
    for split in ("train2017", "val2017"):
        d = json.loads((tiny / "coco" / "annotations" / f"person_keypoints_{split}.json").read_text())
        assert set(d) == set(real)
        assert d["categories"][0]["keypoints"] == real["categories"][0]["keypoints"]
        assert d["categories"][0]["skeleton"] == real["categories"][0]["skeleton"]
        assert d["images"] and all(set(i) == real_img_keys for i in d["images"])
        sizes = {i["id"]: (i["width"], i["height"]) for i in d["images"]}
        for a in d["annotations"]:
            assert set(a) == real_ann_keys
            assert a["category_id"] == 1 and a["image_id"] in sizes
            kp = np.array(a["keypoints"]).reshape(17, 3)
            assert all(isinstance(v, int) for v in a["keypoints"])
            assert set(kp[:, 2]) <= {0, 1, 2}
            assert a["num_keypoints"] == int((kp[:, 2] > 0).sum())
            assert (kp[kp[:, 2] == 0] == 0).all()
            x, y, w, h = a["bbox"]
            W, H = sizes[a["image_id"]]
            assert 0 <= x and 0 <= y and x + w <= W + 1e-6 and y + h <= H + 1e-6
            assert 0 < a["area"] < w * h  # a segmentation area, smaller than the box
            on = kp[kp[:, 2] > 0]
            assert ((on[:, 0] >= x - 0.5) & (on[:, 0] <= x + w + 0.5)).all()
            assert ((on[:, 1] >= y - 0.5) & (on[:, 1] <= y + h + 0.5)).all()
            crowd += a["iscrowd"] == 1
            zero += a["iscrowd"] == 0 and a["num_keypoints"] == 0
            if a["iscrowd"]:
                assert set(a["segmentation"]) == {"counts", "size"} and a["num_keypoints"] == 0
            else:
                assert isinstance(a["segmentation"], list) and len(a["segmentation"][0]) % 2 == 0
    assert crowd >= 1 and zero >= 1


def test_coco_loads_in_pycocotools_and_crowd_rle_is_exact(tiny):
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    path = tiny / "coco" / "annotations" / "person_keypoints_train2017.json"
    api = COCO(str(path))
    crowd = [a for a in api.dataset["annotations"] if a["iscrowd"]]
    assert crowd
    for a in crowd:
        img = api.imgs[a["image_id"]]
        rle = mask_utils.frPyObjects(a["segmentation"], img["height"], img["width"])
        assert mask_utils.area(rle) == a["area"]
        np.testing.assert_allclose(mask_utils.toBbox(rle), a["bbox"])
        # polygons: pycocotools' own area of the polygon agrees with the written area
    poly = [a for a in api.dataset["annotations"] if not a["iscrowd"]][:5]
    for a in poly:
        img = api.imgs[a["image_id"]]
        rles = mask_utils.frPyObjects(a["segmentation"], img["height"], img["width"])
        assert abs(float(mask_utils.area(mask_utils.merge(rles))) - a["area"]) <= 0.15 * a["area"] + 20


def test_crowd_rle_against_a_brute_force_mask():
    from pycocotools import mask as mask_utils

    from smallpose.synth.coco import _crowd_rle

    x, y, bw, bh, W, H = 41.3, 182.2, 171.4, 104.6, 640, 360
    rle, area, bbox = _crowd_rle(np.array([x, y, bw, bh]), W, H)
    yy, xx = np.mgrid[0:H, 0:W]
    brute = ((xx + 0.5 - (x + bw / 2)) / (bw / 2)) ** 2 + ((yy + 0.5 - (y + bh / 2)) / (bh / 2)) ** 2 <= 1
    decoded = mask_utils.decode(mask_utils.frPyObjects(rle, H, W))
    assert (decoded == brute).all() and area == brute.sum() and sum(rle["counts"]) == W * H


# ---------------------------------------------------------------- MPII


def test_mpii_mat_reads_like_the_real_release(tiny):
    R = _load_mpii(tiny)
    assert {"annolist", "img_train", "version", "single_person", "act"} <= set(R._fieldnames)
    annolist = _as_list(R.annolist)
    assert len(annolist) == len(np.atleast_1d(R.img_train)) == 4
    bare_rect = bare_point = test_images = 0
    vis_kinds: set[str] = set()
    for a, train in zip(annolist, np.atleast_1d(R.img_train)):
        assert re.fullmatch(r"\d{9}\.jpg", a.image.name)
        bare_rect += not isinstance(a.annorect, np.ndarray)
        for r in _as_list(a.annorect):
            assert r.scale > 0 and r.objpos.x > 0 and r.objpos.y > 0
            if not train:
                assert "annopoints" not in r._fieldnames  # test images carry no keypoints
                continue
            assert r.x1 < r.x2 and r.y1 < r.y2
            pts = r.annopoints.point
            bare_point += not isinstance(pts, np.ndarray)
            ids = [int(p.id) for p in _as_list(pts)]
            assert len(set(ids)) == len(ids) and set(ids) <= set(range(16))
            for p in _as_list(pts):
                v = p.is_visible
                if isinstance(v, str):
                    assert v in ("0", "1")
                    vis_kinds.add("str")
                elif isinstance(v, np.ndarray) and v.size == 0:
                    vis_kinds.add("empty")
                else:
                    assert int(v) in (0, 1)
                    vis_kinds.add("num")
        test_images += not train
    assert bare_rect >= 1 and bare_point >= 1 and test_images == 1
    assert vis_kinds == {"str", "empty", "num"}


def test_mpii_joint_count_matches_fixture(tiny, fixtures_dir):
    real = json.loads((fixtures_dir / "mpii" / "test_mpii.json").read_text())
    K = len(real[0]["joints"])
    assert K == 16
    for a in _as_list(_load_mpii(tiny).annolist):
        for r in _as_list(a.annorect):
            if "annopoints" in r._fieldnames:
                assert max(int(p.id) for p in _as_list(r.annopoints.point)) < K


# ---------------------------------------------------------------- AIC


def test_aic_matches_real_layout(tiny, fixtures_dir):
    real = json.loads((fixtures_dir / "aic" / "native" / "keypoint_annotations_3images.json").read_text())
    keys = set(real[0])
    crowded = unsorted = 0
    for name in ("keypoint_train_annotations_20170909.json", "keypoint_validation_annotations_20170911.json"):
        entries = json.loads((tiny / "aic" / name).read_text())
        assert isinstance(entries, list) and entries
        for e in entries:
            assert set(e) == keys
            assert re.fullmatch(r"[0-9a-f]{40}", e["image_id"])
            assert list(e["keypoint_annotations"]) == list(e["human_annotations"])
            humans = list(e["keypoint_annotations"])
            assert sorted(humans, key=lambda h: int(h[5:])) == [f"human{i + 1}" for i in range(len(humans))]
            unsorted += humans != sorted(humans)
            crowded += len(humans) > 20
            for h in humans:
                kp = np.array(e["keypoint_annotations"][h]).reshape(14, 3)
                assert set(kp[:, 2]) <= {1, 2, 3}
                assert (kp[kp[:, 2] == 3, :2] == 0).all()
                x1, y1, x2, y2 = e["human_annotations"][h]
                on = kp[kp[:, 2] < 3]
                assert x1 < x2 and y1 < y2
                assert ((on[:, 0] >= x1) & (on[:, 0] <= x2) & (on[:, 1] >= y1) & (on[:, 1] <= y2)).all()
    assert crowded >= 1 and unsorted >= 1


# ---------------------------------------------------------------- PoseTrack18


def test_posetrack_matches_real_layout(tiny, fixtures_dir):
    real = [
        json.loads(p.read_text())
        for p in sorted((fixtures_dir / "posetrack18/annotations/val").glob("*.json"))
    ]
    img_keys = set().union(*(i.keys() for r in real for i in r["images"]))
    ann_keys = set().union(*(a.keys() for r in real for a in r["annotations"]))
    files = sorted((tiny / "posetrack" / "annotations").glob("*/*.json"))
    assert {f.parent.name for f in files} == {"train", "val"}
    for f in files:
        split = f.parent.name
        assert re.fullmatch(r"\d{6}_mpii_(train|test)\.json", f.name)
        d = json.loads(f.read_text())
        assert set(d) == set(real[0])
        assert d["categories"][0]["keypoints"] == real[0]["categories"][0]["keypoints"]
        vid = f.name[:6]
        ids = set()
        for im in d["images"]:
            assert set(im) == img_keys
            assert im["vid_id"] == vid and im["nframes"] == len(d["images"])
            assert im["file_name"] == f"images/{split}/{f.stem}/{im['frame_id'] % 10000:06d}.jpg"
            ids.add(im["id"])
        for a in d["annotations"]:
            assert set(a) == ann_keys and a["image_id"] in ids and a["iscrowd"] is False
            kp = np.array(a["keypoints"], dtype=float).reshape(17, 3)
            assert set(kp[:, 2]) <= {0, 1}
            assert (kp[3:5] == 0).all()  # ear placeholders
            assert a["num_keypoints"] == int(kp[:, 2].sum()) > 0
            assert len(a["bbox_head"]) == 4 and isinstance(a["track_id"], int)


# ---------------------------------------------------------------- HiEve


def _scalar_lists(obj) -> bool:
    """Layout (b): every numeric leaf is wrapped in a 1-element list (image names are strings)."""
    if isinstance(obj, dict):
        return all(isinstance(v, str) if k == "name" else _scalar_lists(v) for k, v in obj.items())
    if isinstance(obj, list):
        if obj and not isinstance(obj[0], (dict, list)):
            return len(obj) == 1
        return all(_scalar_lists(v) for v in obj)
    return False


def test_hieve_layout_b(tiny):
    root = tiny / "hieve" / "annotations"
    seqs = {p.parent.name: int(p.stem) for p in root.glob("*/*.json")}
    train = sorted(int(p.stem) for p in (root / "train").glob("*.json"))
    test = sorted(int(p.stem) for p in (root / "test").glob("*.json"))
    assert train and test and max(train) <= 19 and min(test) >= 20 and max(test) <= 32
    assert seqs
    most = 0
    for p in root.glob("*/*.json"):
        d = json.loads(p.read_text())
        assert set(d) == {"annolist"}
        tracks: dict[int, list] = {}
        for frame in d["annolist"]:
            assert set(frame) == {"image", "annorect"} and _scalar_lists(frame)
            assert re.fullmatch(r"\d{6}\.jpg", frame["image"][0]["name"])
            most = max(most, len(frame["annorect"]))
            for r in frame["annorect"]:
                assert set(r) == {"x1", "y1", "x2", "y2", "track_id", "annopoints"}
                pts = r["annopoints"][0]["point"]
                assert pts and all(set(q) == {"id", "x", "y", "score"} for q in pts)
                assert all(0 <= q["id"][0] < 14 for q in pts)
                x1, y1, x2, y2 = r["x1"][0], r["y1"][0], r["x2"][0], r["y2"][0]
                assert all(x1 <= q["x"][0] <= x2 and y1 <= q["y"][0] <= y2 for q in pts)
                tracks.setdefault(r["track_id"][0], []).append(((x1 + x2) / 2, (y1 + y2) / 2, y2 - y1))
        for path in tracks.values():  # smooth motion: a centre moves less than a body height a frame
            c = np.array(path)
            if len(c) > 1:
                step = np.hypot(*np.diff(c[:, :2], axis=0).T)
                assert (step <= 0.25 * c[1:, 2] + 5).all()
    assert most > 20


def test_hieve_layout_a(tiny):
    files = sorted((tiny / "hieve" / "annotations" / "frames").glob("*/*/*.json"))
    assert files
    for p in files:
        d = json.loads(p.read_text())["annotation"]
        assert d["filename"] == p.stem + ".jpg"
        assert d["size"]["width"].isdigit() and d["size"]["height"].isdigit()
        (tiny / "hieve" / "images" / p.parent.name).exists()
        for obj in d["object"]:
            assert re.fullmatch(r"P-\d+", obj["name"])
            box = obj["bndbox"]
            assert all(isinstance(v, str) for v in box.values()) and len(box) == 4 + 14
            for part, v in box.items():
                if part in ("xmin", "ymin", "xmax", "ymax"):
                    continue
                x, y, flag = (int(t) for t in v.split(","))
                assert flag in (0, 1, -1)
                if flag == -1:
                    assert (x, y) == (0, 0)
                else:
                    assert int(box["xmin"]) <= x <= int(box["xmax"])


# ---------------------------------------------------------------- size mix


def _native_box_areas(root: Path) -> np.ndarray:
    """Box areas read from the native files (MPII has no person box: its joints' extent)."""
    areas: list[float] = []
    for p in (root / "coco" / "annotations").glob("*.json"):
        areas += [a["bbox"][2] * a["bbox"][3] for a in json.loads(p.read_text())["annotations"]]
    for p in (root / "aic").glob("*.json"):
        for e in json.loads(p.read_text()):
            areas += [(b[2] - b[0]) * (b[3] - b[1]) for b in e["human_annotations"].values()]
    for p in (root / "posetrack" / "annotations").glob("*/*.json"):
        areas += [a["bbox"][2] * a["bbox"][3] for a in json.loads(p.read_text())["annotations"]]
    for p in (root / "hieve" / "annotations").glob("*/*.json"):
        for fr in json.loads(p.read_text())["annolist"]:
            areas += [(r["x2"][0] - r["x1"][0]) * (r["y2"][0] - r["y1"][0]) for r in fr["annorect"]]
    for p in (root / "hieve" / "annotations" / "frames").glob("*/*/*.json"):
        for o in json.loads(p.read_text())["annotation"]["object"]:
            b = {k: int(o["bndbox"][k]) for k in ("xmin", "ymin", "xmax", "ymax")}
            areas.append((b["xmax"] - b["xmin"]) * (b["ymax"] - b["ymin"]))
    for a in _as_list(_load_mpii(root).annolist):
        for r in _as_list(a.annorect):
            if "annopoints" in r._fieldnames:
                pts = _as_list(r.annopoints.point)
                xs, ys = [q.x for q in pts], [q.y for q in pts]
                areas.append((max(xs) - min(xs)) * (max(ys) - min(ys)))
    return np.array(areas)


def test_small_corpus_size_mix_is_the_papers(small):
    areas = _native_box_areas(small)
    assert len(areas) > 2000
    share = np.array(
        [(areas < S_MAX).mean(), ((areas >= S_MAX) & (areas < M_MAX)).mean(), (areas >= M_MAX).mean()]
    )
    np.testing.assert_allclose(share, [0.556, 0.364, 0.080], atol=0.03)


@pytest.mark.slow
def test_full_plan_has_the_papers_counts():
    """Scenes only (no files): about 78.6k images, 770k people, test ~13% of images."""
    from smallpose.synth.scenes import scene

    n_img = n_test = n_people = 0
    for i, kind in enumerate(KINDS):
        sc = scene(np.random.default_rng([0, i]), kind, "full")
        n_img += sc.n_images
        n_test += int(sc.img_test.sum())
        annotated = (sc.fig.vis > 0).any(1) | (kind == "coco")
        if kind == "mpii":
            annotated &= ~sc.img_test[sc.p_img]
        n_people += int(annotated.sum())
    assert abs(n_img - 78_607) / 78_607 < 0.02
    assert abs(n_people - 769_444) / 769_444 < 0.05
    assert 0.11 < n_test / n_img < 0.15


# ---------------------------------------------------------------- images and determinism


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tiny_images, tmp_path):
    again = tmp_path / "again"
    generate(again, "tiny", images=True, seed=3)
    first, second = _digests(tiny_images), _digests(again)
    assert (
        first == second and any(k.endswith(".mat") for k in first) and any(k.endswith(".jpg") for k in first)
    )
    other = tmp_path / "other"
    generate(other, "tiny", images=False, seed=4)
    json_a = (tiny_images / "coco/annotations/person_keypoints_train2017.json").read_bytes()
    assert (other / "coco/annotations/person_keypoints_train2017.json").read_bytes() != json_a


def test_images_decode_at_declared_sizes(tiny_images):
    from PIL import Image

    def check(path: Path, size: tuple[int, int] | None = None) -> None:
        with Image.open(path) as im:
            assert im.format == "JPEG"
            im.load()
            if size is not None:
                assert im.size == size

    n = 0
    for split in ("train2017", "val2017"):
        d = json.loads((tiny_images / f"coco/annotations/person_keypoints_{split}.json").read_text())
        for i in d["images"]:
            check(tiny_images / "coco" / split / i["file_name"], (i["width"], i["height"]))
            n += 1
    for p in (tiny_images / "posetrack" / "annotations").glob("*/*.json"):
        for i in json.loads(p.read_text())["images"]:
            check(tiny_images / "posetrack" / i["file_name"], (i["width"], i["height"]))
            n += 1
    for p in (tiny_images / "hieve" / "annotations" / "frames").glob("*/*/*.json"):
        a = json.loads(p.read_text())["annotation"]
        size = (int(a["size"]["width"]), int(a["size"]["height"]))
        check(tiny_images / "hieve" / "images" / p.parent.name / a["filename"], size)
        n += 1
    for p in (tiny_images / "hieve" / "annotations").glob("*/*.json"):
        for fr in json.loads(p.read_text())["annolist"]:
            check(tiny_images / "hieve" / "images" / p.stem / fr["image"][0]["name"])
            n += 1
    for name, folder in (("keypoint_train_annotations_20170909.json", "train"),
                         ("keypoint_validation_annotations_20170911.json", "validation")):  # fmt: skip
        for e in json.loads((tiny_images / "aic" / name).read_text()):
            check(tiny_images / "aic" / folder / f"{e['image_id']}.jpg")
            n += 1
    for a in _as_list(_load_mpii(tiny_images).annolist):
        check(tiny_images / "mpii" / "images" / a.image.name)
        n += 1
    assert n == len(list(tiny_images.rglob("*.jpg")))


# ---------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smallpose", "synth", *args], capture_output=True, text=True)


def test_cli_help_and_bad_scale(tmp_path):
    h = _cli("--help")
    assert h.returncode == 0 and "smallpose synth --out" in h.stdout and "--scale" in h.stdout
    bad = _cli("--out", str(tmp_path / "x"), "--scale", "huge")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    assert "huge" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_prints_the_build_command(tmp_path):
    r = _cli("--out", str(tmp_path / "c"), "--scale", "tiny")
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("smallpose build")]
    assert len(line) == 1
    for kind in KINDS:
        assert f"--source {kind}={(tmp_path / 'c' / kind).resolve()}" in line[0]


# ---------------------------------------------------------------- the converters read it


@pytest.mark.parametrize("kind", KINDS)
def test_converters_read_every_source_without_rejects(small, kind):
    import importlib.util

    if importlib.util.find_spec(f"smallpose.converters.{kind}") is None:
        pytest.skip(f"converters/{kind}.py not written yet")
    from smallpose.converters import convert

    table = convert(kind, dict(sources(small))[kind])
    assert len(table.rejects) == 0, table.rejects.counts()
    assert len(table.images) > 0 and len(table.instances) > 0
