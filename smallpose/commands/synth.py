"""`smallpose synth`: write a synthetic corpus in the five native source formats.

The corpus is what `build` reads: COCO, MPII (.mat), AIC, HiEve and PoseTrack18 files in
their own layouts, plus ``SOURCES.json`` listing each source root. At the end the command
prints the ready `smallpose build` line.
"""

from __future__ import annotations

import argparse
import shlex

HELP = "write a synthetic corpus in the native COCO/MPII/AIC/HiEve/PoseTrack formats"
EXAMPLE = "smallpose synth --out synth-corpus --scale small --images --seed 0"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder to write (replaced if an earlier synth run made it)")
    p.add_argument(
        "--scale",
        default="tiny",
        help="tiny (a few images per source), small (a few hundred images, the demo), "
        "full (the paper's ~78k images / ~770k people, annotations only); default tiny",
    )
    p.add_argument("--images", action="store_true", help="also render JPEG images (tiny and small only)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same bytes")


def run(args: argparse.Namespace) -> int:
    import time

    from smallpose.errors import SmallPoseError
    from smallpose.synth import SCALES, generate

    if args.scale not in SCALES:
        raise SmallPoseError(f"--scale {args.scale!r} is not one of {', '.join(SCALES)}")
    t0 = time.perf_counter()
    pairs = generate(args.out, scale=args.scale, images=args.images, seed=args.seed)
    took = time.perf_counter() - t0
    kinds = ", ".join(k for k, _ in pairs)
    print(f"wrote a {args.scale} synthetic corpus ({kinds}) to {args.out} in {took:.1f}s")
    cmd = ["smallpose", "build", "--out", "smallpose-store"]
    for kind, path in pairs:
        cmd += ["--source", f"{kind}={path}"]
    print("build it with:")
    print("  " + " ".join(shlex.quote(c) for c in cmd))
    return 0
