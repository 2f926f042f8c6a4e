"""Reading input files and naming things in them: json parsing, file discovery, splits, paths.

Every converter goes through these so that a malformed file, an unsafe path or a split
read from a file name are treated (and rejected) the same way for all sources.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from smallpose.errors import RejectLog, SmallPoseError
from smallpose.gcpause import gc_paused

SPLITS = ("train", "val", "test")

# Words in file names that name a split. "trainval" counts as train: its images include the
# source's training set, and training images must never reach test.
_SPLIT_WORDS = {
    "train": "train", "trainval": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val",
    "test": "test", "testdev": "test", "testa": "test", "testb": "test",
}  # fmt: skip
_TRAILING_DIGITS = re.compile(r"\d+$")
_NON_WORD = re.compile(r"[^a-z0-9]+")

MISSING = object()  # sentinel for "key absent" in dict.get calls


class Unparsed:
    """Marker returned by :func:`load_json` for a file that was rejected as a whole."""


UNPARSED = Unparsed()


def load_json(path: Path, rejects: RejectLog) -> Any:
    """``json.load`` once; a file that does not parse is rejected whole (``UNPARSED`` returned).

    The record is the line and column where parsing stopped, so a person can open the file there.
    """
    try:
        with open(path, "rb") as fh, gc_paused():
            return json.load(fh)
    except json.JSONDecodeError as err:
        rejects.reject(str(path), f"line {err.lineno} col {err.colno}", None, "malformed json")
    except UnicodeDecodeError as err:
        rejects.reject(str(path), f"byte {err.start}", None, "malformed json")
    except RecursionError:
        rejects.reject(str(path), None, None, "malformed json")
    return UNPARSED


def check_split(split: str | None) -> str | None:
    if split is not None and split not in SPLITS:
        raise SmallPoseError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    return split


def split_from_name(name: str, ignore_after: tuple[str, ...] = ()) -> str | None:
    """The split a file or folder name states (``person_keypoints_val2017`` -> val), or None.

    The name is cut into words at every non-alphanumeric character and trailing digits are
    dropped (``train2017`` -> ``train``). Where several split words appear the last one wins
    (``test_posetrack18_val`` -> val: mmpose's ``test_`` prefix means "test data"). A word right
    after one of ``ignore_after`` is not a split (PoseTrack video names ``..._mpii_test``).
    """
    found = None
    prev = ""
    for token in _NON_WORD.split(name.lower()):
        word = _TRAILING_DIGITS.sub("", token)
        if word in _SPLIT_WORDS and prev not in ignore_after:
            found = _SPLIT_WORDS[word]
        prev = token
    return found


def safe_file_name(name: object) -> str | None:
    """``name`` with forward slashes if it stays inside the source root, else None.

    Absolute paths, Windows drive paths and any ``..`` component are refused: a store's
    file names are joined to a user's image folder, and must not point outside it.
    """
    if type(name) is not str or not name:
        return None
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return None
    parts = PurePosixPath(name).parts
    if ".." in parts or not parts:
        return None
    return "/".join(p for p in parts if p != ".")


def list_files(
    path: Path, suffixes: tuple[str, ...], recursive: bool, kind: str, prefer: str | None = None
) -> list[Path]:
    """The input files: ``path`` itself, or every file with one of ``suffixes`` under the folder.

    A source root whose files sit in ``annotations/`` (COCO's and MPII's layout) can be given
    as it is. ``prefer``: a name pattern that, where any file matches it, selects those files
    only (COCO's annotations folder also holds ``instances_*`` and ``captions_*``). Sorted by
    path relative to ``path``, so the same folder always converts in the same order (the
    built store's bytes depend on it).
    """
    path = Path(path)
    if not path.exists():
        raise SmallPoseError(f"{path}: no such file or folder ({kind} annotations)")
    if path.is_file():
        return [path]
    pattern = "**/*" if recursive else "*"

    def find(folder: Path) -> list[Path]:
        found = [p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in suffixes]
        if prefer and any(p.match(prefer) for p in found):
            found = [p for p in found if p.match(prefer)]
        return sorted(found, key=lambda p: p.relative_to(path).as_posix())

    files = find(path)
    if not files and not recursive and (path / "annotations").is_dir():
        files = find(path / "annotations")
    if not files:
        how = "under" if recursive else "in"
        raise SmallPoseError(f"{path}: no {'/'.join(suffixes)} files {how} this folder ({kind} annotations)")
    return files


def is_int(value: object) -> bool:
    """A json integer (bool excluded: ``true`` is not an id or a count)."""
    return type(value) is int


def is_num(value: object) -> bool:
    return type(value) is int or type(value) is float


def id_string(value: object) -> str | None:
    """An id as the store keeps it (a string), or None when it is not an int or a string."""
    t = type(value)
    if t is int or (t is str and value):
        return str(value)
    return None
