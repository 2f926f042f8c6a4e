"""`smallpose predict`: not implemented yet."""

from __future__ import annotations

import argparse

from smallpose.errors import SmallPoseError

HELP = "(not implemented yet)"
EXAMPLE = "smallpose predict --help"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SmallPoseError("'predict' is not implemented yet")
