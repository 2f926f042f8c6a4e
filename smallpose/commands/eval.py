"""`smallpose eval`: score a submission (or compare two) against a store or a COCO json."""

from __future__ import annotations

import argparse
import json
import re
import sys

from smallpose.errors import SmallPoseError

HELP = "Score a keypoint submission: COCO-exact AP/AR, AP^S/M/L, density APs, surprise, PCKh, CIs."
EXAMPLE = (
    "smallpose eval --gt data/smallpose --split test --pred results.json --bootstrap 1000 --out metrics.json"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gt", required=True, help="a SmallPose store directory or a COCO keypoints json")
    p.add_argument("--split", default="test", help="store split to evaluate (default: test)")
    p.add_argument("--pred", help="the submission: a COCO results json (K = 21, or 17 in COCO order)")
    p.add_argument(
        "--compare", nargs=2, metavar=("A.json", "B.json"),
        help="paired bootstrap comparison of two submissions (uses --bootstrap, default 1000)",
    )  # fmt: skip
    p.add_argument("--protocol", choices=("smallpose", "coco", "coco17"),
                   help="default: smallpose for a 21-point submission on a store, coco17 for a 17-point "
                        "one (Setting A), coco for a COCO json")  # fmt: skip
    p.add_argument("--bootstrap", type=int, default=0, metavar="N", help="image resamples for 95%% CIs")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--calibration", metavar="FILE",
                   help='per-keypoint variances {"keypoint_variances": [v]*K} for submissions without '
                        "uncertainty (default: fitted on the evaluated set, flagged)")  # fmt: skip
    p.add_argument(
        "--save-calibration",
        metavar="FILE",
        help="write the variances used for surprise (e.g. fitted on a validation split)",
    )
    p.add_argument("--max-dets", type=int, default=20, metavar="N", help="detections per image (default 20)")
    p.add_argument("--skip-invalid", action="store_true", help="score valid records, list the skipped ones")
    p.add_argument("--no-per-keypoint", action="store_true", help="skip per-keypoint AP (one matching each)")
    p.add_argument("--out", metavar="FILE", help="write the metrics file (smallpose-metrics/1) here")
    p.add_argument(
        "--json", action="store_true", help="print the metrics file to stdout instead of the table"
    )
    g = p.add_argument_group("run description (recorded in the metrics file, shown by report)")
    g.add_argument("--name", help="run name (default: the submission's file stem)")
    g.add_argument("--model", help="model, e.g. HRNet")
    g.add_argument("--backbone", help="backbone, e.g. hrnet_w32")
    g.add_argument("--input-size", metavar="WxH", help="input size, e.g. 256x192")
    g.add_argument("--setting", choices=("A", "B"), help="A: trained on COCO; B: trained on SmallPose")
    g.add_argument("--train-data", help="training data, e.g. coco-train2017")


def run(args: argparse.Namespace) -> int:
    if bool(args.pred) == bool(args.compare):
        raise SmallPoseError("give either --pred FILE or --compare A.json B.json")
    if args.max_dets < 1:
        raise SmallPoseError(f"--max-dets must be at least 1, got {args.max_dets}")
    if args.bootstrap < 0:
        raise SmallPoseError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    if args.input_size and not re.fullmatch(r"\d+x\d+", args.input_size):
        raise SmallPoseError(f"--input-size must look like 256x192, got {args.input_size!r}")
    if args.compare:
        return _compare(args)

    from smallpose.metrics.evaluate import evaluate
    from smallpose.metrics.metrics_file import write_metrics
    from smallpose.metrics.surprise import write_calibration

    run_info = {"model": args.model, "backbone": args.backbone, "input_size": args.input_size,
                "setting": args.setting, "train_data": args.train_data}  # fmt: skip
    res = evaluate(
        args.gt, args.pred, protocol=args.protocol, split=args.split, bootstrap=args.bootstrap,
        seed=args.seed, calibration=args.calibration, max_dets=args.max_dets, skip_invalid=args.skip_invalid,
        name=args.name, run=run_info, per_keypoint=not args.no_per_keypoint,
    )  # fmt: skip
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        print(res.summary)
        for s in res.document["submission"]["skipped"][:20]:
            print(f"  skipped record {s['record']}: {s['field']}: {s['reason']}", file=sys.stderr)
    if args.out:
        write_metrics(args.out, res.to_json())
        if not args.json:
            print(f"wrote {args.out}")
    if args.save_calibration:
        var = res.extras.get("variances")
        if var is None:
            raise SmallPoseError(
                "--save-calibration: the submission carries its own uncertainty; nothing to save"
            )
        write_calibration(args.save_calibration, var, note=f"fitted on {args.gt} split {args.split}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from smallpose.metrics.compare import compare, format_compare
    from smallpose.metrics.metrics_file import clean

    n = args.bootstrap or 1000
    doc = compare(args.gt, *args.compare, protocol=args.protocol, split=args.split, n_boot=n, seed=args.seed,
                  max_dets=args.max_dets, skip_invalid=args.skip_invalid)  # fmt: skip
    print(json.dumps(doc, indent=2) if args.json else format_compare(doc))
    if args.out:
        from smallpose.atomic import write_text_atomic

        write_text_atomic(args.out, json.dumps(clean(doc), indent=2, allow_nan=False) + "\n")
    return 0
