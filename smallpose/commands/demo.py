"""`smallpose demo`: not implemented yet."""

from __future__ import annotations

import argparse

from smallpose.errors import SmallPoseError

HELP = "(not implemented yet)"
EXAMPLE = "smallpose demo --help"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SmallPoseError("'demo' is not implemented yet")
