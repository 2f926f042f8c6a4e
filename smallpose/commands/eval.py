"""`smallpose eval`: not implemented yet."""

from __future__ import annotations

import argparse

from smallpose.errors import SmallPoseError

HELP = "(not implemented yet)"
EXAMPLE = "smallpose eval --help"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SmallPoseError("'eval' is not implemented yet")
