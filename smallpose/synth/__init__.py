"""Synthetic corpora in the five native source formats.

``generate(out_dir, scale, images, seed)`` writes COCO, MPII, AIC, HiEve and PoseTrack18
annotations (and, on request, JPEG images) exactly in each dataset's own layout, so the
converters, the build and the demo run on data the package makes itself. See docs/synth.md.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from smallpose.atomic import replace_dir
from smallpose.errors import SmallPoseError
from smallpose.progress import Progress
from smallpose.synth.scenes import SCALES, scene

#: the five sources, in the order they are written and listed in SOURCES.json
KINDS = ("coco", "mpii", "aic", "hieve", "posetrack")
SOURCES_FILE = "SOURCES.json"
_MARK = ".smallpose-synth"

__all__ = ["KINDS", "SCALES", "generate", "sources"]


def _write_source(kind: str, root: Path, scale: str, seed: int, images: bool) -> None:
    from smallpose.synth import aic, coco, hieve, mpii, posetrack

    # one generator per source: changing one source's layout never reshuffles another's
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    sc = scene(rng, kind, scale)
    if kind == "coco":
        files = coco.write(sc, root, rng)
    elif kind == "mpii":
        files = mpii.write(sc, root, rng, seed)
    elif kind == "aic":
        files = aic.write(sc, root, rng, seed)
    elif kind == "hieve":
        files = hieve.write(sc, root, scale)
    else:
        files = posetrack.write(sc, root, rng)
    if images:
        from smallpose.synth.render import render

        render(sc, root, files, np.random.default_rng([seed, KINDS.index(kind), 1]))


def generate(
    out_dir: str | os.PathLike, scale: str = "tiny", images: bool = False, seed: int = 0
) -> list[tuple[str, Path]]:
    """Write a corpus to ``out_dir``; returns ``[(kind, absolute source root)]`` in KINDS order.

    The corpus is written beside ``out_dir`` and renamed into place, so a failed run never
    leaves a half corpus; an existing ``out_dir`` is replaced only if an earlier run of this
    function made it (it would otherwise mix old and new per-video files).
    """
    if scale not in SCALES:
        raise SmallPoseError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if images and scale == "full":
        raise SmallPoseError("--images is not available with --scale full (about 78k images); "
                             "use small for a corpus with pixels")  # fmt: skip
    out = Path(out_dir).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / _MARK).exists())):
        raise SmallPoseError(f"{out}: exists and was not written by smallpose synth; choose another --out")
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        (tmp / _MARK).write_text(f"written by smallpose synth --scale {scale} --seed {seed}\n")
        bar = Progress("synth", len(KINDS))
        for kind in KINDS:
            _write_source(kind, tmp / kind, scale, seed, images)
            bar.update(note=kind)
        listing = [{"kind": k, "path": k} for k in KINDS]
        (tmp / SOURCES_FILE).write_text(json.dumps(listing, indent=1) + "\n")
        replace_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return sources(out)


def sources(out_dir: str | os.PathLike) -> list[tuple[str, Path]]:
    """``[(kind, absolute path)]`` from ``out_dir/SOURCES.json``, ready for ``build --source``."""
    out = Path(out_dir).resolve()
    path = out / SOURCES_FILE
    try:
        listing = json.loads(path.read_text())
    except FileNotFoundError:
        raise SmallPoseError(f"{path}: not found; run 'smallpose synth --out {out_dir}' first") from None
    except json.JSONDecodeError as e:
        raise SmallPoseError(f"{path}: not valid JSON ({e})") from None
    result = []
    for i, item in enumerate(listing if isinstance(listing, list) else [None]):
        if not isinstance(item, dict) or not {"kind", "path"} <= item.keys():
            raise SmallPoseError(f"{path}: record {i}: expected an object with 'kind' and 'path'")
        result.append((str(item["kind"]), (out / item["path"]).resolve()))
    return result
