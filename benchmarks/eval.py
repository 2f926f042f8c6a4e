"""Benchmark: scoring a submission at the paper's test scale, against pycocotools and faster-coco-eval.

Generates (seeded) a COCO-format ground truth of 10,296 images / 142,319 persons with 21
keypoints, sizes S:M:L ~ 56:36:8 by box area and crowded-scene person counts per image, plus a
results file (90% of persons detected with noise, 10% extra false positives). Then times, each
side in its own subprocess so that peak RSS (ru_maxrss) is its own, file loading included:

- ours:        smallpose.metrics.evaluate.evaluate(gt, res, protocol="smallpose"): exactly what
               `smallpose eval --gt gt.json --pred results.json --protocol smallpose` computes by
               default (no bootstrap): load + validate both files, match, the SmallPose table
               (all, S, M, L, 3 density classes, AR), surprise and L2 per bucket, PCKh (none
               here: no head boxes), the KD curve (10 bins) and per-keypoint AP (21 types),
               rendered as the table and the metrics document.
- ours-engine: the bare engine (json parse + arrays + match + accumulate + summarize of the
               table only), no validation, no extras: a floor for the comparison.
- pycocotools: COCO(gt), loadRes, evaluate, accumulate, summarize (all/medium/large), K=21 sigmas.
- faster-coco-eval: the same with COCOeval_faster (if importable).

    python benchmarks/eval.py            # paper scale (~3 min, mostly pycocotools)
    python benchmarks/eval.py --quick    # 600 images, a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_IMAGES, N_PERSONS = 10_296, 142_319  # the paper's test split
SIZE_SHARE = (0.56, 0.36, 0.08)  # S, M, L by box area


def generate(n_images: int, n_persons: int, seed: int, out: Path) -> tuple[Path, Path]:
    """Write gt.json (COCO keypoints, 21 points) and results.json; return their paths."""
    from smallpose import skeleton

    rng = np.random.default_rng(seed)
    K = skeleton.NUM_KEYPOINTS
    # crowded scenes: a heavy-tailed share of the persons per image (many images > 20 persons)
    share = rng.gamma(1.2, size=n_images)
    per_img = rng.multinomial(n_persons, share / share.sum())
    img_of = np.repeat(np.arange(n_images), per_img) + 1
    size = rng.choice(3, size=n_persons, p=SIZE_SHARE)
    lo = np.array([200.0, 128 * 96, 256 * 192])[size]
    hi = np.array([128 * 96, 256 * 192, 640 * 480])[size]
    area = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    aspect = rng.uniform(1.6, 2.6, n_persons)  # h / w
    w = np.sqrt(area / aspect)
    h = area / w
    x = rng.uniform(0, 1920 - w)
    y = rng.uniform(0, 1080 - h)
    # points inside the box: a fixed template plus noise; about 15% not annotated
    template = rng.uniform(0.1, 0.9, (K, 2))
    pts = template[None] + rng.normal(0, 0.04, (n_persons, K, 2))
    kx = x[:, None] + pts[:, :, 0] * w[:, None]
    ky = y[:, None] + pts[:, :, 1] * h[:, None]
    vis = np.where(rng.random((n_persons, K)) < 0.85, 2, 0)
    vis[rng.random(n_persons) < 0.01] = 0  # a few instances with no annotated point
    crowd = rng.random(n_persons) < 0.005
    kp = np.stack([np.where(vis > 0, kx, 0), np.where(vis > 0, ky, 0), vis], axis=2).round(2)
    anns = [
        {"id": i + 1, "image_id": int(img_of[i]), "category_id": 1, "iscrowd": int(crowd[i]),
         "bbox": [round(float(x[i]), 2), round(float(y[i]), 2), round(float(w[i]), 2), round(float(h[i]), 2)],
         "area": round(float(w[i] * h[i]), 2), "num_keypoints": int((vis[i] > 0).sum()),
         "keypoints": kp[i].ravel().tolist()}
        for i in range(n_persons)
    ]  # fmt: skip
    cat = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(skeleton.KEYPOINT_NAMES),
           "skeleton": [[a + 1, b + 1] for a, b in skeleton.SKELETON_EDGES]}  # fmt: skip
    images = [
        {"id": i + 1, "file_name": f"{i + 1:06d}.jpg", "width": 1920, "height": 1080} for i in range(n_images)
    ]
    gt_path = out / "gt.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [cat]}))

    det = rng.random(n_persons) < 0.9
    scale = np.sqrt(area)[det, None]
    dx = kx[det] + rng.normal(0, 1, (det.sum(), K)) * scale * rng.uniform(0.01, 0.08, (det.sum(), 1))
    dy = ky[det] + rng.normal(0, 1, (det.sum(), K)) * scale * rng.uniform(0.01, 0.08, (det.sum(), 1))
    n_fp = n_persons // 10
    fw = np.sqrt(np.exp(rng.uniform(np.log(200), np.log(256 * 192), n_fp)) / 2)
    fx = rng.uniform(0, 1800, n_fp)[:, None] + template[None, :, 0] * fw[:, None]
    fy = rng.uniform(0, 1000, n_fp)[:, None] + template[None, :, 1] * 2 * fw[:, None]
    px = np.concatenate([dx, fx]).round(2)
    py = np.concatenate([dy, fy]).round(2)
    ps = rng.random(px.shape).round(3)
    img = np.concatenate([img_of[det], rng.integers(1, n_images + 1, n_fp)])
    score = np.concatenate([rng.uniform(0.3, 1.0, det.sum()), rng.uniform(0.0, 0.7, n_fp)]).round(4)
    order = rng.permutation(len(img))
    results = [
        {"image_id": int(img[i]), "category_id": 1, "score": float(score[i]),
         "keypoints": np.stack([px[i], py[i], ps[i]], axis=1).ravel().tolist()}
        for i in order
    ]  # fmt: skip
    res_path = out / "results.json"
    res_path.write_text(json.dumps(results))
    return gt_path, res_path


# ---- the sides (each runs in its own process) ---------------------------------------------------
def side_ours(gt: str, res: str) -> dict:
    """What ``smallpose eval --gt gt.json --pred results.json --protocol smallpose`` computes by
    default (no bootstrap): the full SmallPose table, surprise, L2, PCKh where head boxes exist,
    the KD curve and per-keypoint AP, rendered as the table and the metrics document."""
    from smallpose.metrics.evaluate import evaluate

    r = evaluate(gt, res, protocol="smallpose")
    r.summary  # noqa: B018 - the table the CLI prints is part of the run
    return dict(r.document["stats"])


def side_engine(gt: str, res: str) -> dict:
    from smallpose.metrics.arrays import detections_from_results, ground_truth_from_coco, load_json
    from smallpose.metrics.cocoeval import evaluate_arrays
    from smallpose.metrics.params import Params

    g = ground_truth_from_coco(load_json(gt))
    d = detections_from_results(load_json(res))
    return evaluate_arrays(g, d, Params.smallpose())


def _coco_like(COCO, COCOeval, gt: str, res: str, **kw) -> dict:  # noqa: N803 - class arguments
    from smallpose import skeleton

    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(gt)
        d = g.loadRes(res)
        ev = COCOeval(g, d, "keypoints", **kw)
        ev.params.kpt_oks_sigmas = skeleton.SIGMAS.copy()
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    keys = ["AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L"]
    return dict(zip(keys, map(float, ev.stats[:10])))


def side_pycocotools(gt: str, res: str) -> dict:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    return _coco_like(COCO, COCOeval, gt, res)


def side_faster(gt: str, res: str) -> dict:
    import logging

    logging.disable(logging.WARNING)
    from faster_coco_eval import COCO, COCOeval_faster

    return _coco_like(COCO, COCOeval_faster, gt, res, print_function=lambda *a, **k: None)


SIDES = {"ours": side_ours, "ours-engine": side_engine, "pycocotools": side_pycocotools,
         "faster-coco-eval": side_faster}  # fmt: skip


def run_side(name: str, gt: Path, res: Path) -> dict:
    """Run one side in a fresh interpreter; wall time (imports excluded) and peak RSS."""
    cmd = [sys.executable, __file__, "--side", name, "--gt", str(gt), "--res", str(res)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(name: str, gt: str, res: str) -> None:
    fn = SIDES[name]
    # module imports are interpreter start-up on every side, not scoring: done before the clock
    if name.startswith("ours"):
        import smallpose.metrics.evaluate  # noqa: F401
    elif name == "pycocotools":
        import pycocotools.cocoeval  # noqa: F401
    else:
        with contextlib.suppress(ImportError):
            import faster_coco_eval  # noqa: F401
    t0 = time.perf_counter()
    stats = fn(gt, res)
    dt = time.perf_counter() - t0
    print(json.dumps({"seconds": dt, "peak_rss_mib": peak_rss_mib(), "stats": stats}))


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM where /proc has it (it starts afresh at exec, whereas
    ru_maxrss can carry the forking parent's peak over), else getrusage's ru_maxrss."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="600 images / ~8,300 persons (smoke run)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip", nargs="*", default=[], choices=list(SIDES), help="sides not to run")
    ap.add_argument("--side", choices=list(SIDES), help=argparse.SUPPRESS)
    ap.add_argument("--gt", help=argparse.SUPPRESS)
    ap.add_argument("--res", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        _child(args.side, args.gt, args.res)
        return 0
    n_img, n_per = (600, 8_294) if args.quick else (N_IMAGES, N_PERSONS)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        # generated in a child process so this parent stays small while the sides run
        gen = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import eval as e; "
            f"from pathlib import Path; e.generate({n_img}, {n_per}, {args.seed}, Path({tmp!r}))"
        )
        subprocess.run([sys.executable, "-c", gen], check=True)
        gt, res = Path(tmp) / "gt.json", Path(tmp) / "results.json"
        mb = (gt.stat().st_size + res.stat().st_size) / 1e6
        print(f"case: {n_img:,} images, {n_per:,} persons, 21 keypoints, {mb:.0f} MB of json "
              f"(generated in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
        print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
        # fill numba's on-disk cache once (a tiny case) so 'ours' measures a normal run, not the
        # first compile ever; loading the cached kernels still counts in every run
        warm = Path(tmp) / "warm"
        warm.mkdir()
        subprocess.run([sys.executable, "-c", gen.replace(f"Path({tmp!r})", f"Path({str(warm)!r})")
                        .replace(f"e.generate({n_img}, {n_per},", "e.generate(20, 200,")
                        + f"; e.side_ours({str(warm / 'gt.json')!r}, {str(warm / 'results.json')!r})"],
                       check=False)  # fmt: skip
        results = {}
        for name in SIDES:
            if name in args.skip:
                continue
            results[name] = r = run_side(name, gt, res)
            if "error" in r:
                print(f"{name:>17}: not run ({r['error']})")
            else:
                print(f"{name:>17}: {r['seconds']:7.2f} s   peak RSS {r['peak_rss_mib']:6.0f} MiB   "
                      f"AP {r['stats']['AP']:.4f}")  # fmt: skip
    for mine in ("ours", "ours-engine"):
        r0 = results.get(mine)
        if not r0 or "error" in r0:
            continue
        for ref in ("pycocotools", "faster-coco-eval"):
            r = results.get(ref)
            if r and "error" not in r:
                print(f"{mine} vs {ref}: {r['seconds'] / r0['seconds']:.1f}x faster")
    print("targets: >= 10x pycocotools, >= 2x faster-coco-eval, peak RSS < 1024 MiB")
    ours = results.get("ours")
    if ours and "error" not in ours:
        checks = [(ref, want) for ref, want in (("pycocotools", 10.0), ("faster-coco-eval", 2.0))
                  if ref in results and "error" not in results[ref]]  # fmt: skip
        for ref, want in checks:
            ratio = results[ref]["seconds"] / ours["seconds"]
            print(f"  ours >= {want:g}x {ref}: {'met' if ratio >= want else 'MISSED'} ({ratio:.2f}x)")
        peak = ours["peak_rss_mib"]
        print(f"  ours peak RSS < 1024 MiB: {'met' if peak < 1024 else 'MISSED'} ({peak:.0f} MiB)")
    aps = {k: round(v["stats"]["AP"], 12) for k, v in results.items() if "error" not in v}
    print(f"AP (all bucket) per side: {aps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
