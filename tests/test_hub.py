"""`smallpose push`: the Hub folder layout, the card, the shard bound, and the upload calls.

Everything runs offline: a small store is written here from hand-made Arrow tables (its
counts and values are literals of this file, the independent source), pushed with
``--dry-run``, and read back with ``datasets.load_dataset`` from the local folder. The
upload path runs against recorders in place of ``HfApi``'s network methods.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from smallpose.cli import main
from smallpose.store import IMAGES_SCHEMA, INSTANCES_SCHEMA, write_store

TOKEN = "hf_TESTsecretTOKEN0123456789abcdef"

# (image_id, source, split, file_name, instances on it)
IMAGES = [
    (101, "coco", "train", "train2017/000000000101.jpg", 4),
    (102, "coco", "train", "train2017/000000000102.jpg", 3),
    (103, "coco", "train", "train2017/000000000103.jpg", 3),
    (201, "mpii", "train", "images/015601864.jpg", 4),
    (202, "mpii", "train", "images/015599452.jpg", 4),
    (301, "posetrack", "test", "images/val/000342_mpii_test/000000.jpg", 5),
    (302, "posetrack", "test", "images/val/000342_mpii_test/000001.jpg", 4),
    (104, "coco", "test", "val2017/000000000104.jpg", 3),
]
N_TRAIN_INSTANCES, N_TEST_INSTANCES = 18, 12
N_TRAIN_IMAGES, N_TEST_IMAGES = 5, 3
K = {"coco": 17, "mpii": 16, "posetrack": 17}
# the hand-picked row: instance 1000 + 3 (4th instance overall, on image 101)
PICKED_ID = 1003
PICKED_KP = [[10.25 + i, 20.5 + 2 * i, float(2 - i % 3)] for i in range(21)]
for _i, _p in enumerate(PICKED_KP):
    if _p[2] == 0:
        PICKED_KP[_i] = [0.0, 0.0, 0.0]
PICKED_KP[5] = [1 / 3, 1e-300, 1.0]  # values that a float32 or text round trip would change


def make_store(tmp_path: Path, scale: int = 1) -> Path:
    """30 instances on 8 images in 2 splits from 3 sources; some null head_box, track_id, kd.
    ``scale`` multiplies the instances per image (for the shard-size tests)."""
    rng = np.random.default_rng(7)
    img_rows, ins_rows = [], []
    iid = 1000
    for image_id, source, split, file_name, n in IMAGES:
        video = "000342" if source == "posetrack" else None
        img_rows.append(
            dict(
                image_id=image_id, source=source, source_image_id=str(image_id), split=split,
                file_name=file_name, width=640, height=480, crowd_index=0.25 if n > 3 else None,
                num_instances=n * scale, video_id=video, frame_index=(image_id - 301) if video else None,
            )
        )  # fmt: skip
        for j in range(n * scale):
            kp = rng.uniform(0, 400, size=(21, 3)).round(2)
            kp[:, 2] = rng.integers(0, 3, size=21)
            if iid == PICKED_ID:
                kp = np.array(PICKED_KP)
            if iid in (1001, 1020):  # no annotated points: kd null
                kp[:, 2] = 0
            kp[kp[:, 2] == 0] = 0
            w, h = (40.0, 90.0) if j % 3 else (150.0, 260.0)
            n_kp = int((kp[:, 2] > 0).sum())
            bucket = "S" if w * h < 128 * 96 else "M" if w * h < 256 * 192 else "L"
            kd = None if n_kp == 0 else 0.1 + 0.01 * j
            head = [5.0, 6.0, 7.0, 8.0] if source in ("mpii", "posetrack") and j != 1 else None
            ins_rows.append(
                dict(
                    instance_id=iid, image_id=image_id, source=source, source_ann_id=f"{image_id}#{j}",
                    split=split, bbox=[10.0 * j, 5.0, w, h], bbox_area=w * h, area=w * h,
                    source_area=None, iscrowd=False, keypoints=kp.tolist(), num_keypoints=n_kp,
                    source_num_keypoints=K[source], size_bucket=bucket, kd=kd,
                    kd_class=("sparse" if bucket == "S" and kd is not None else None), head_box=head,
                    track_id=(j if source == "posetrack" and j != 2 else None),
                )
            )  # fmt: skip
            iid += 1
    images = pa.Table.from_pylist(img_rows, schema=IMAGES_SCHEMA)
    instances = pa.Table.from_pylist(ins_rows, schema=INSTANCES_SCHEMA)
    roots = {s: tmp_path / "roots" / s for s in K}
    # shaped like smallpose.build's manifest; coco given twice (the first root lacks the images)
    entries = [("coco", roots["coco"].parent / "coco_elsewhere"), *roots.items()]
    manifest = {
        "created": "2026-01-02T03:04:05Z",
        "tool": {"name": "smallpose", "version": "0.1.0"},
        "build": {"seed": 0, "sources": [f"{s}={r / 'annotations' / 'ann.json'}" for s, r in entries]},
        "sources": [
            {
                "kind": s,
                "path": str(r / "annotations" / "ann.json"),
                "root": str(r),
                "K": K[s],
                "files": [{"path": str(r / "annotations" / "ann.json"), "sha256": "ab" * 32, "size": 10}],
            }
            for s, r in entries
        ],  # fmt: skip
        "counts": {"images": len(img_rows), "instances": len(ins_rows)},
    }
    return write_store(tmp_path / "store", images, instances, manifest)


def write_image_files(tmp_path: Path) -> None:
    for image_id, source, _, file_name, _ in IMAGES:
        p = tmp_path / "roots" / source / file_name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"jpeg-bytes-of-{image_id}".encode())


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, no user cache: HF caches and the staging dir inside tmp_path."""
    for k, v in {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf_home"),
        "HF_DATASETS_CACHE": str(tmp_path / "hf_datasets"),
        "SMALLPOSE_CACHE": str(tmp_path / "sp_cache"),
        "SMALLPOSE_QUIET": "1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    return tmp_path


def load(folder: Path, tmp_path: Path, config: str | None = None):
    import datasets

    return datasets.load_dataset(str(folder), config, cache_dir=str(tmp_path / "hf_datasets"))


def dry_run(store: Path, out: Path, *extra: str) -> int:
    return main(["push", str(store), "--repo", "my-org/smallpose", "--dry-run", str(out), *extra])


def front_matter(readme: Path) -> dict:
    text = readme.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_dry_run_loads_back_with_datasets(offline, capsys):
    from datasets import List, Value

    store = make_store(offline)
    out = offline / "hub"
    assert dry_run(store, out) == 0
    assert "nothing uploaded" in capsys.readouterr().out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "LICENSE.md",
        "README.md",
        "data/images/test-00000-of-00001.parquet",
        "data/images/train-00000-of-00001.parquet",
        "data/instances/test-00000-of-00001.parquet",
        "data/instances/train-00000-of-00001.parquet",
    ]

    ds = load(out, offline)
    assert set(ds) == {"train", "test"}
    assert (ds["train"].num_rows, ds["test"].num_rows) == (N_TRAIN_INSTANCES, N_TEST_INSTANCES)
    f = ds["train"].features
    assert f["keypoints"] == List(List(Value("float64"), length=3), length=21)
    assert f["bbox"] == List(Value("float64"), length=4)
    assert f["head_box"] == List(Value("float64"), length=4)
    assert f["instance_id"] == Value("int64") and f["track_id"] == Value("int64")
    assert f["num_keypoints"] == Value("int32") and f["iscrowd"] == Value("bool")
    assert f["kd"] == Value("float64") and f["size_bucket"] == Value("string")
    assert ds["train"].data.schema.field("keypoints").type == pa.list_(pa.list_(pa.float64(), 3), 21)

    rows = {r["instance_id"]: r for split in ("train", "test") for r in ds[split]}
    assert len(rows) == 30
    assert rows[PICKED_ID]["keypoints"] == PICKED_KP
    assert rows[PICKED_ID]["bbox"] == [30.0, 5.0, 150.0, 260.0]
    assert rows[1001]["kd"] is None and rows[1001]["num_keypoints"] == 0
    assert rows[1001]["head_box"] is None and rows[1001]["track_id"] is None  # coco
    posetrack = [r for r in rows.values() if r["source"] == "posetrack"]
    assert sorted(r["track_id"] for r in posetrack if r["track_id"] is not None) == [0, 0, 1, 1, 3, 3, 4]
    assert sum(r["head_box"] is None for r in posetrack) == 2
    assert [r["head_box"] for r in posetrack if r["head_box"] is not None][0] == [5.0, 6.0, 7.0, 8.0]
    assert {r["split"] for r in ds["test"]} == {"test"}

    im = load(out, offline, "images")
    assert (im["train"].num_rows, im["test"].num_rows) == (N_TRAIN_IMAGES, N_TEST_IMAGES)
    fi = im["train"].features
    assert fi["width"] == Value("int32") and fi["crowd_index"] == Value("float64")
    assert fi["file_name"] == Value("string") and fi["frame_index"] == Value("int32")
    test_images = {r["image_id"]: r for r in im["test"]}
    assert test_images[302]["video_id"] == "000342" and test_images[302]["frame_index"] == 1
    assert test_images[104]["video_id"] is None and test_images[104]["crowd_index"] is None


def test_card_front_matter_and_body(offline):
    store = make_store(offline)
    out = offline / "hub"
    assert dry_run(store, out) == 0
    meta = front_matter(out / "README.md")
    for key in ("license", "license_name", "license_link", "task_categories", "size_categories", "configs",
                "dataset_info", "pretty_name"):  # fmt: skip
        assert key in meta, key
    assert meta["license"] == "other"  # coco cc-by-4.0 + mpii bsd-2-clause + posetrack research-only
    assert meta["task_categories"] == ["keypoint-detection"]
    assert meta["size_categories"] == ["n<1K"]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["instances"]["default"] is True and "default" not in configs["images"]
    assert configs["instances"]["data_files"] == [
        {"split": "train", "path": "data/instances/train-*.parquet"},
        {"split": "test", "path": "data/instances/test-*.parquet"},
    ]
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    splits = {s["name"]: s["num_examples"] for s in infos["instances"]["splits"]}
    assert splits == {"train": N_TRAIN_INSTANCES, "test": N_TEST_INSTANCES}
    feats = {f["name"]: f for f in infos["instances"]["features"]}
    assert feats["keypoints"] == {"name": "keypoints", "list": {"list": "float64", "length": 3}, "length": 21}
    assert feats["head_box"] == {"name": "head_box", "list": "float64", "length": 4}
    assert {s["name"]: s["num_examples"] for s in infos["images"]["splits"]} == {"train": 5, "test": 3}
    # and the Hub's own card parser and datasets' reader of dataset_info agree
    from datasets import List, Value
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(out / "README.md")
    assert card.data.license == "other" and card.data.license_link == "LICENSE.md"
    info = DatasetInfosDict.from_dataset_card_data(card.data)
    assert info["instances"].features["keypoints"] == List(List(Value("float64"), length=3), length=21)
    assert info["images"].splits["test"].num_examples == N_TEST_IMAGES

    body = (out / "README.md").read_text().split("---\n", 2)[2]
    assert "| 20 | right_ankle | 0.089 |" in body and "| 1 | head_top | 0.079 |" in body
    assert "left_knee-left_ankle" in body
    assert "| coco | train | 3 | 10 |" in body and "| posetrack | test | 2 | 9 |" in body
    assert "| mpii | train | 2 | 8 |" in body
    assert body.index("| coco | train |") < body.index("| coco | test |")
    for key in ("@inproceedings{lin2014coco", "@inproceedings{andriluka14cvpr", "andriluka2018posetrack",
                "@inproceedings{smallpose"):  # fmt: skip
        assert key in body
    assert "hieve2020" not in body and "lin2020hieve" not in body  # only sources in the store
    assert "2026-01-02T03:04:05Z" in body
    assert str(offline) not in body  # no local paths (source roots) leak into the card
    assert '"annotations/ann.json"' in body  # source files relative to their root
    assert '"coco=annotations/ann.json"' in body  # also inside the build config's strings
    assert "KD_p = 2 * (1 - sigmoid(" in body and "AP_S_sparse" in body
    assert "cocodataset.org" in body  # where to get the images
    lic = (out / "LICENSE.md").read_text()
    assert "CC BY 4.0" in lic and "BSD-2-Clause" in lic and "PoseTrack" in lic

    # deterministic: a second dry run writes the same bytes
    out2 = offline / "hub2"
    assert dry_run(store, out2) == 0
    for p in out.rglob("*"):
        if p.is_file():
            assert p.read_bytes() == (out2 / p.relative_to(out)).read_bytes(), p


def test_licence_and_size_category_rules():
    from smallpose.hub_card import licence_metadata, size_category

    assert licence_metadata(["coco"]) == {"license": "cc-by-4.0"}
    assert licence_metadata(["mpii"]) == {"license": "bsd-2-clause"}
    assert licence_metadata(["aic"])["license"] == "other"
    assert licence_metadata(["coco", "mpii"])["license"] == "other"
    assert [size_category(n) for n in (0, 999, 1000, 9999, 10_000, 250_000, 1_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M",
    ]  # fmt: skip


def test_shard_bound_is_respected(offline):
    from smallpose import hub
    from smallpose.errors import SmallPoseError
    from smallpose.store import open_store

    store = open_store(make_store(offline, scale=10))  # 180 train, 120 test instances
    bound = 30_000  # bytes; the train instances split alone is ~100 kB of Parquet
    staged = hub.stage(store, offline / "hub", "my-org/smallpose", max_shard_bytes=bound)
    for config in ("instances", "images"):
        for split, shards in staged.shards[config].items():
            n = len(shards)
            assert shards == [f"data/{config}/{split}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
            for rel in shards:
                assert (offline / "hub" / rel).stat().st_size <= bound
    assert len(staged.shards["instances"]["train"]) >= 3
    rows = sum(pq.read_metadata(offline / "hub" / r).num_rows for r in staged.shards["instances"]["train"])
    assert rows == 10 * N_TRAIN_INSTANCES
    ds = load(offline / "hub", offline)
    assert (ds["train"].num_rows, ds["test"].num_rows) == (10 * N_TRAIN_INSTANCES, 10 * N_TEST_INSTANCES)
    assert sorted(ds["train"]["instance_id"]) == list(range(1000, 1180))  # coco 101-103, mpii 201-202
    assert ds["train"].filter(lambda r: r["instance_id"] == PICKED_ID)[0]["keypoints"] == PICKED_KP

    with pytest.raises(SmallPoseError, match="smaller than a one-row Parquet file"):
        hub.write_shards(store.instances, offline / "tiny", "train", 500)


def test_cli_max_shard_mb(offline):
    store = make_store(offline, scale=10)
    out = offline / "hub"
    assert dry_run(store, out, "--max-shard-mb", "0.03") == 0
    shards = sorted((out / "data" / "instances").glob("train-*.parquet"))
    assert len(shards) >= 3 and all(p.stat().st_size <= 30_000 for p in shards)
    meta = front_matter(out / "README.md")
    assert meta["configs"][0]["data_files"][0] == {"split": "train", "path": "data/instances/train-*.parquet"}
    # a second dry run into the same folder replaces it: no stale shard stays to match the glob
    assert dry_run(store, out) == 0
    assert [p.name for p in (out / "data" / "instances").glob("train-*")] == ["train-00000-of-00001.parquet"]


def test_with_images_copies_files(offline, capsys):
    store = make_store(offline)
    out = offline / "hub"
    assert dry_run(store, out, "--with-images") == 2  # the image files do not exist yet
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "image file" in err and "not found" in err and "Traceback" not in err

    write_image_files(offline)
    assert dry_run(store, out, "--with-images") == 0
    for image_id, source, _, file_name, _ in IMAGES:
        assert (out / "images" / source / file_name).read_bytes() == f"jpeg-bytes-of-{image_id}".encode()
    body = (out / "README.md").read_text()
    assert "images/<source>/<file_name>" in body


def test_image_root_override_and_bad_paths(offline, capsys):
    store = make_store(offline)
    write_image_files(offline)
    moved = offline / "elsewhere"
    (offline / "roots" / "coco").rename(moved)
    out = offline / "hub"
    assert dry_run(store, out, "--with-images", "--image-root", f"coco={moved}") == 0
    assert (out / "images/coco/val2017/000000000104.jpg").read_bytes() == b"jpeg-bytes-of-104"
    assert dry_run(store, offline / "x", "--image-root", "nonsense") == 2
    assert "expected SOURCE=DIR" in capsys.readouterr().err


class Recorder:
    """Stands in for HfApi's network methods; remembers calls and the folder's files then."""

    def __init__(self, stale: list[str] | None = None, fail: str | None = None):
        self.calls: list[tuple[str, dict]] = []
        self.stale = stale or []
        self.fail = fail

    def install(self, monkeypatch, large: bool = False):
        import huggingface_hub

        rec = self

        def make(name):
            real = getattr(huggingface_hub.HfApi, name, None)

            def method(api, *args, **kwargs):
                if real is not None:  # the arguments we pass must fit the installed client
                    inspect.signature(real).bind(api, *args, **kwargs)
                if name == rec.fail:
                    raise RuntimeError(f"401 Unauthorized for {name}\nAuthorization: Bearer {TOKEN}")
                kw = dict(kwargs, _args=args, _endpoint=api.endpoint, _token_ok=api.token == TOKEN)
                if "folder_path" in kwargs:
                    root = Path(kwargs["folder_path"])
                    kw["_files"] = sorted(
                        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
                    )
                rec.calls.append((name, kw))
                if name == "list_repo_files":
                    return ["README.md", "data/instances/train-00000-of-00001.parquet"] + rec.stale
                return None

            return method

        names = ["create_repo", "create_branch", "upload_folder", "list_repo_files", "create_commit"]
        for name in names:
            monkeypatch.setattr(huggingface_hub.HfApi, name, make(name))
        monkeypatch.setattr(
            huggingface_hub.HfApi, "upload_large_folder", make("upload_large_folder"), raising=False
        )

    def named(self, name: str) -> list[dict]:
        return [kw for n, kw in self.calls if n == name]


def test_upload_calls_hfapi_without_leaking_token(offline, monkeypatch, capsys):
    store = make_store(offline)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.test")
    rec = Recorder()
    rec.install(monkeypatch)
    argv = ["push", str(store), "--repo", "my-org/smallpose", "--private", "--revision", "v1"]
    assert main(argv) == 0
    assert [n for n, _ in rec.calls] == ["create_repo", "create_branch", "upload_folder"]
    (repo,) = rec.named("create_repo")
    assert repo["_args"] == ("my-org/smallpose",) and repo["repo_type"] == "dataset"
    assert repo["private"] is True and repo["exist_ok"] is True
    assert repo["_endpoint"] == "https://hub.example.test" and repo["_token_ok"]
    (branch,) = rec.named("create_branch")
    assert branch["branch"] == "v1" and branch["repo_type"] == "dataset"
    (up,) = rec.named("upload_folder")
    assert up["repo_id"] == "my-org/smallpose" and up["repo_type"] == "dataset" and up["revision"] == "v1"
    assert Path(up["folder_path"]) == offline / "sp_cache" / "hub" / "my-org--smallpose"
    assert "README.md" in up["_files"] and "data/instances/train-00000-of-00001.parquet" in up["_files"]
    assert up["delete_patterns"] == ["data/**"]  # stale shards go; images of an earlier push stay
    assert not Path(up["folder_path"]).exists()  # staging removed after success
    out = capsys.readouterr()
    assert TOKEN not in out.out and TOKEN not in out.err
    assert "https://hub.example.test/datasets/my-org/smallpose/tree/v1" in out.out


def test_large_upload_removes_stale_shards(offline, monkeypatch, capsys):
    store = make_store(offline)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    write_image_files(offline)
    stale = ["data/instances/train-00000-of-00002.parquet", "data/images/old.parquet", "images/coco/gone.jpg"]
    rec = Recorder(stale=stale + ["notes/keep.txt"])
    rec.install(monkeypatch)
    assert main(["push", str(store), "--repo", "my-org/smallpose", "--large-folder", "--with-images"]) == 0
    names = [n for n, _ in rec.calls]
    assert names == ["create_repo", "upload_large_folder", "list_repo_files", "create_commit"]
    (up,) = rec.named("upload_large_folder")
    assert up["repo_type"] == "dataset" and up["repo_id"] == "my-org/smallpose" and up["private"] is False
    assert "LICENSE.md" in up["_files"] and "images/mpii/images/015601864.jpg" in up["_files"]
    assert len(up["_files"]) == 6 + len(IMAGES)
    assert (offline / "roots/coco/train2017/000000000101.jpg").read_bytes() == b"jpeg-bytes-of-101"  # linked
    (commit,) = rec.named("create_commit")
    assert sorted(op.path_in_repo for op in commit["operations"]) == sorted(stale)
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err


def test_hub_error_is_one_line_without_token(offline, monkeypatch, capsys):
    store = make_store(offline)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    rec = Recorder(fail="upload_folder")
    rec.install(monkeypatch)
    assert main(["push", str(store), "--repo", "my-org/smallpose"]) == 2
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    last = out.err.strip().splitlines()[-1]
    assert "Traceback" not in out.err and last.startswith(
        "smallpose push: error: my-org/smallpose: upload to"
    )
    assert "401 Unauthorized" in last


def test_missing_token_fails_before_any_work(offline, monkeypatch, capsys):
    import huggingface_hub

    store = make_store(offline)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    rec = Recorder()
    rec.install(monkeypatch)
    assert main(["push", str(store), "--repo", "my-org/smallpose"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Hugging Face token" in err
    assert rec.calls == [] and not (offline / "sp_cache").exists()


def test_bad_arguments(offline, capsys):
    store = make_store(offline)
    assert main(["push", str(store), "--repo", "no-slash", "--dry-run", str(offline / "o")]) == 2
    assert "expected ORG/NAME" in capsys.readouterr().err
    assert main(["push", str(offline / "nope"), "--repo", "a/b", "--dry-run", str(offline / "o")]) == 2
    assert "not a SmallPose store" in capsys.readouterr().err
    (offline / "busy").mkdir()
    (offline / "busy" / "thesis.tex").write_text("keep me")
    assert dry_run(store, offline / "busy") == 2
    assert "not an earlier dry run" in capsys.readouterr().err
    assert (offline / "busy" / "thesis.tex").read_text() == "keep me"
