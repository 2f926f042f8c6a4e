"""`smallpose demo`: the whole story on data the package generates itself.

synth (small, with images) -> build -> stats -> eval of labelled sample submissions ->
report -> push --dry-run. Each step runs through the same CLI a user types, so the demo
is also a smoke test of the commands as they are documented.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from smallpose.errors import SmallPoseError

HELP = "run synth -> build -> stats -> eval -> report -> push --dry-run on generated data"
EXAMPLE = "smallpose demo --out smallpose-demo"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="smallpose-demo", help="working folder (default: ./smallpose-demo)")
    p.add_argument("--scale", default="small", choices=["tiny", "small"], help="synthetic corpus size")
    p.add_argument("--seed", type=int, default=0, help="seed for the corpus and the sample submissions")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the CIs (0: none)")
    p.add_argument("--no-images", action="store_true", help="skip rendering images (faster)")


def _step(title: str, argv: list[str]) -> None:
    from smallpose.cli import main

    print(f"\n== {title}: smallpose {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    code = main(argv)
    if code != 0:
        raise SmallPoseError(f"demo step '{title}' failed (exit {code})")
    print(f"   ({time.perf_counter() - t0:.1f}s)", flush=True)


def run(args: argparse.Namespace) -> int:
    from smallpose.sample_submissions import DEMO_PERTURBATIONS, perturbed_submission, write_submission
    from smallpose.store import open_store
    from smallpose.synth import sources

    t0 = time.perf_counter()
    out = Path(args.out).resolve()
    if out.exists() and not (out / ".smallpose-demo").exists():
        if any(out.iterdir()):
            raise SmallPoseError(f"{out}: exists and is not a demo folder; choose another --out")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / ".smallpose-demo").write_text("created by smallpose demo; safe to delete\n")
    src, store, subs = out / "sources", out / "store", out / "submissions"
    subs.mkdir()

    synth = ["synth", "--out", str(src), "--scale", args.scale, "--seed", str(args.seed)]
    _step("1/6 synthesise native sources", synth + ([] if args.no_images else ["--images"]))
    build = ["build", "--out", str(store)]
    for kind, path in sources(src):
        build += ["--source", f"{kind}={path}"]
    _step("2/6 build the store", build)
    _step("3/6 dataset statistics", ["stats", str(store)])

    test = open_store(store).split("test")
    metrics = []
    for i, p in enumerate(DEMO_PERTURBATIONS):
        sub = write_submission(perturbed_submission(test, p, seed=args.seed + i), subs / f"{p.run_name}.json")
        m = out / "metrics" / f"{p.run_name}.json"
        m.parent.mkdir(exist_ok=True)
        argv = ["eval", "--gt", str(store), "--split", "test", "--pred", str(sub), "--out", str(m)]
        argv += ["--name", p.run_name, "--model", p.name, "--setting", p.setting]
        argv += ["--train-data", "none (ground truth + noise)", "--bootstrap", str(args.bootstrap)]
        argv += ["--seed", str(args.seed)]
        what = "17 COCO points, Setting A" if p.coco17 else "21 points, Setting B"
        _step(f"4/6 score sample '{p.run_name}' (ground truth + noise, {what}; not a model)", argv)
        metrics.append(str(m))
    report = out / "report"
    _step("5/6 leaderboard report", ["report", *metrics, "--out", str(report), "--store", str(store)])
    hub = out / "hub"
    push = ["push", str(store), "--repo", "smallpose/smallpose-demo", "--dry-run", str(hub)]
    _step("6/6 Hub export (dry run)", push)

    html = report / "leaderboard.html"
    print(f"\nDone in {time.perf_counter() - t0:.0f}s.", flush=True)
    print(f"Open the leaderboard: file://{html}")
    print(f"Store: {store}   Hub upload preview: {hub}")
    sys.stdout.flush()
    return 0
