"""``smallpose <subcommand>``: one entry point for the whole toolkit.

Each subcommand lives in ``smallpose/commands/<name>.py`` and exposes ``HELP`` (one line),
``EXAMPLE`` (shown in ``--help``), ``add_arguments(parser)`` and ``run(args) -> int``.
Heavy imports happen inside ``run`` so ``smallpose --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from smallpose import __version__
from smallpose.errors import SmallPoseError

COMMANDS = ("synth", "build", "stats", "export", "eval", "report", "push", "train", "predict", "demo")


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage text is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="smallpose",
        description="Build, score and publish the SmallPose benchmark (small human pose estimation).",
        epilog="Start with: smallpose demo",
    )
    parser.add_argument("--version", action="version", version=f"smallpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name in COMMANDS:
        mod = importlib.import_module(f"smallpose.commands.{name}")
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=mod.HELP,
            epilog=f"example:\n  {mod.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except SmallPoseError as e:
        print(f"smallpose {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"smallpose {args.command}: interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as e:
        print(f"smallpose {args.command}: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - the one place that turns surprises into one line
        if os.environ.get("SMALLPOSE_DEBUG"):
            raise
        print(
            f"smallpose {args.command}: internal error: {type(e).__name__}: {e} "
            "(set SMALLPOSE_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
