"""`smallpose train`: reserved for the baselines, which are not in this release.

The baselines (SimpleBaseline, HRNet, SimCC, RLE, ViTPose, CAL) have no issue yet; rather
than a stub that pretends, the command says so and exits non-zero.
"""

from __future__ import annotations

import argparse

from smallpose.errors import SmallPoseError

HELP = "train a baseline pose model (not in this release)"
EXAMPLE = "smallpose train --model simplebaseline_resnet50 --store STORE"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="baseline name (timm-registry style)")
    p.add_argument("--store", help="a SmallPose store")


def run(args: argparse.Namespace) -> int:
    raise SmallPoseError(
        "baselines are not part of this release yet (see docs/roadmap.md); "
        "score your own model's predictions with 'smallpose eval'"
    )
