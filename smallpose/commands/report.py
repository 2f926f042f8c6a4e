"""`smallpose report`: leaderboard (Markdown + static HTML) and figures from metrics files."""

from __future__ import annotations

import argparse

HELP = "Write the leaderboard (leaderboard.md, leaderboard.html) and figures from metrics files."
EXAMPLE = "smallpose report runs/*/metrics.json --out report/ --store store/"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "metrics", nargs="+", metavar="METRICS.json", help="metrics files written by `smallpose eval`"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument(
        "--store",
        metavar="STORE",
        default=None,
        help="also draw the dataset figures of this store and embed them",
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from smallpose.reports.report import write_report

    out = write_report(args.metrics, args.out, store=args.store)
    print(f"wrote {out['markdown']} and {out['html']} ({len(args.metrics)} run file(s))", file=sys.stderr)
    return 0
