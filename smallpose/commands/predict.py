"""`smallpose predict`: reserved for the baselines, which are not in this release.

It shares ``smallpose train``'s arguments and its honest refusal (docs/roadmap.md).
"""

from __future__ import annotations

from smallpose.commands.train import add_arguments, run  # noqa: F401 - the same refusal

HELP = "predict keypoints with a baseline (not in this release)"
EXAMPLE = "smallpose predict --model simplebaseline_resnet50 --store STORE"
