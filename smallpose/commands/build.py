"""`smallpose build`: not implemented yet."""

from __future__ import annotations

import argparse

from smallpose.errors import SmallPoseError

HELP = "(not implemented yet)"
EXAMPLE = "smallpose build --help"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SmallPoseError("'build' is not implemented yet")
