"""PoseTrack18 / PoseTrack21: one COCO-like json per video (or mmpose's merge of several).

Only labelled frames (``is_labeled`` true) become images: the others carry no ground truth,
and counting them as images without people would punish correct detections. The ears are
placeholders (never annotated) and the skeleton mapping drops them. Visibility is only 0/1
in PoseTrack (1 = annotated, no occlusion flag), so 1 is stored as COCO's 2 (visible).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from smallpose.records import SourceTable

from ._cocolike import SKIP, read_coco_like
from ._jsonio import UNPARSED, load_json, split_from_name
from ._roots import Place, above_annotations, ancestors, probe
from ._validate import WRONG_TYPE, TableBuilder, convert_files

KIND = "posetrack"
# 2 is not in PoseTrack's format; if a file has it, it means visible there too
POSETRACK_VIS = {0: 0, 1: 2, 2: 2}
# video names such as 003418_mpii_test name MPII's split of the source clip, not PoseTrack's
_NOT_A_SPLIT_AFTER = ("mpii",)


def file_split(f: Path) -> str:
    """The annotation folder (``annotations/val/``) first, then the file name, else train."""
    return (
        split_from_name(f.parent.name, _NOT_A_SPLIT_AFTER)
        or split_from_name(f.stem, _NOT_A_SPLIT_AFTER)
        or "train"
    )


def frame_index(name: object, frame_id: object) -> int | None:
    """Frame number from the file name (``000042.jpg``), else PoseTrack's ``frame_id`` (last 4 digits)."""
    if type(name) is str:
        stem = PurePosixPath(name.replace("\\", "/")).stem
        if stem.isdigit():
            return int(stem)
    if type(frame_id) is int:
        return frame_id % 10000
    return None


def _image_hook(img: dict, file: str, rec: str, b: TableBuilder):
    labeled = img.get("is_labeled", True)
    if type(labeled) is not bool and labeled not in (0, 1):
        b.reject(file, rec, "is_labeled", WRONG_TYPE)
        return None
    if not labeled:
        return SKIP
    vid = img.get("vid_id")
    name = img.get("file_name")
    if vid is None and type(name) is str:
        parent = PurePosixPath(name.replace("\\", "/")).parent.name
        vid = parent or None
    elif vid is not None and type(vid) is not str and type(vid) is not int:
        b.reject(file, rec, "vid_id", WRONG_TYPE)
        return None
    return {
        "video_id": None if vid is None else str(vid),
        "frame_index": frame_index(name, img.get("frame_id")),
    }


def _read(b: TableBuilder, f: Path, split: str | None) -> None:
    data = load_json(f, b.rejects)
    if data is not UNPARSED:
        read_coco_like(
            b, f, data, split or file_split(f), vis_map=POSETRACK_VIS, image_hook=_image_hook,
            use_area=False, head_field="bbox_head", track_field="track_id",
        )  # fmt: skip


def locate(f: Path, names: list[str]) -> tuple[Place, bool]:
    """PoseTrack's ``file_name`` (``images/val/<video>/000000.jpg``) is already relative to the
    folder holding ``annotations/`` and ``images/``: the nearest of the json's folder and its
    ancestors where the images are; without images, the folder above ``annotations/`` (else the
    json's folder)."""
    d = f.parent
    top = above_annotations(d)
    return probe(names, [Place(a) for a in ancestors(d)], Place(top if top is not None else d))


def convert(path: Path, *, split: str | None = None, strict: bool = False) -> SourceTable:
    """Convert a PoseTrack json, or every ``*.json`` under a folder (recursive: one file per video)."""
    return convert_files(KIND, path, split, strict, _read, recursive=True, locate=locate)
