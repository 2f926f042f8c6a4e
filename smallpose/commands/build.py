"""`smallpose build`: native source annotations -> a SmallPose store (Parquet + manifest)."""

from __future__ import annotations

import argparse
import sys

HELP = "build a SmallPose store from native source annotations (COCO, MPII, AIC, HiEve, PoseTrack, CrowdPose)"
EXAMPLE = (
    "smallpose build --source coco:val=person_keypoints_val2017.json "
    "--source posetrack=posetrack18/annotations --out smallpose_store --keep-buckets S,M"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="KIND[:SPLIT]=PATH",
        help="a source file or folder; KIND in coco, mpii, aic, hieve, posetrack, crowdpose; "
        "SPLIT (train|val|test) overrides the source's own split. Repeat for more sources.",
    )
    p.add_argument("--out", required=True, metavar="STORE", help="store directory (replaced atomically)")
    p.add_argument(
        "--strict", action="store_true", help="fail at the first bad record instead of skipping it"
    )
    g = p.add_argument_group("splits (default: source train -> train, source val/test -> test)")
    g.add_argument(
        "--test-fraction",
        type=float,
        metavar="F",
        help="hash-split groups without source-train images: each goes to test with probability F",
    )
    g.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the hash split (default 0)")
    g.add_argument(
        "--allow-train-in-test",
        action="store_true",
        help="let the hash split also send groups with source-train images to test",
    )
    s = p.add_argument_group("selection (the paper's curation; recorded in the manifest)")
    s.add_argument("--keep-buckets", metavar="S,M", help="keep only images with an instance in these buckets")
    s.add_argument(
        "--min-keypoints",
        type=int,
        default=0,
        metavar="N",
        help="drop instances with fewer than N annotated points",
    )
    s.add_argument(
        "--frame-stride",
        type=int,
        default=1,
        metavar="N",
        help="video sources: keep frames with frame_index %% N == 0",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from smallpose.build import BuildConfig, SourceSpec, build
    from smallpose.selection import Selection
    from smallpose.splits import SplitConfig

    config = BuildConfig(
        sources=[SourceSpec.parse(t) for t in args.source],
        out=Path(args.out),
        strict=args.strict,
        split=SplitConfig(args.test_fraction, args.seed, args.allow_train_in_test),
        selection=Selection(
            Selection.parse_buckets(args.keep_buckets), args.min_keypoints, args.frame_stride
        ),
    )
    result = build(config)
    c = result.counts
    per_split = ", ".join(
        f"{sp} {c['images_per_split'].get(sp, 0)} images / {c['instances_per_split'].get(sp, 0)} instances"
        for sp in ("train", "test")
    )
    print(f"wrote {result.out}: {per_split}")
    for reason, n in sorted(result.reject_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(
            f"smallpose build: skipped {n} record(s): {reason} (see {result.out}/rejects.jsonl)",
            file=sys.stderr,
        )
    return 0
