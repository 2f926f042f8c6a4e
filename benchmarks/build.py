"""Benchmark: a whole `smallpose build` against the cost of just parsing its inputs.

The floor is ``json.load`` of every source json in a synth corpus plus ``scipy.io.loadmat``
of the MPII .mat: no build can be faster than reading its input. The build runs as a
subprocess over all five sources, in the same run, under a fresh parent so the peak RSS
(``RUSAGE_CHILDREN``) is the build's alone. Targets: build / floor <= 3, peak RSS < 4 GiB.

    python benchmarks/build.py                 # synth --scale full into a temp dir
    python benchmarks/build.py --corpus DIR    # reuse a corpus made by `smallpose synth`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 3.0
TARGET_RSS_GIB = 4.0

_CHILD = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:]).returncode
dt = time.perf_counter() - t
print(rc, dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def make_corpus(out: Path, scale: str) -> None:
    """`smallpose synth --out DIR --scale S`; the library call where the CLI is not there yet."""
    p = subprocess.run([sys.executable, "-m", "smallpose", "synth", "--out", str(out), "--scale", scale])
    if p.returncode != 0:
        from smallpose.synth import generate

        print("  (smallpose synth CLI failed; calling smallpose.synth.generate)", file=sys.stderr)
        generate(out, scale, False, 0)


def sources(corpus: Path) -> list[str]:
    listing = json.loads((corpus / "SOURCES.json").read_text())
    out = []
    for e in listing:
        head = e["kind"] + (f":{e['split']}" if e.get("split") else "")
        out += ["--source", f"{head}={corpus / e['path']}"]
    return out


def parse_floor(corpus: Path) -> tuple[float, int]:
    """Seconds to json.load / loadmat every annotation file of the corpus (cache warmed first)."""
    import scipy.io

    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".json", ".mat") and p.name != "SOURCES.json")
    for f in files:  # warm the page cache so both timings read from memory
        f.read_bytes()
    t = time.perf_counter()
    for f in files:
        if f.suffix == ".mat":
            scipy.io.loadmat(str(f), squeeze_me=True, struct_as_record=False)
        else:
            with open(f, "rb") as fh:
                json.load(fh)
    return time.perf_counter() - t, len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="an existing synth corpus (has SOURCES.json)")
    ap.add_argument("--scale", default="full", choices=("tiny", "small", "full"))
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="smallpose-bench-") as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp) / "corpus"
            t = time.perf_counter()
            make_corpus(corpus, args.scale)
            print(f"synth --scale {args.scale}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
        floor, n_files = parse_floor(corpus)
        store = Path(tmp) / "store"
        cmd = [sys.executable, "-m", "smallpose", "build", *sources(corpus), "--out", str(store)]
        env = {**os.environ, "SMALLPOSE_QUIET": "1"}
        p = subprocess.run([sys.executable, "-c", _CHILD, *cmd], capture_output=True, text=True, env=env)
        rc, build_s, rss_kib = p.stdout.strip().splitlines()[-1].split()
        if int(rc) != 0:
            print(p.stderr, file=sys.stderr)
            return 1
        manifest = json.loads((store / "manifest.json").read_text())
    build_s, rss_gib = float(build_s), int(rss_kib) / 2**20
    ratio = build_s / floor
    res = {
        "machine": machine(),
        "corpus": str(args.corpus or f"synth --scale {args.scale}"),
        "files_parsed": n_files,
        "images": manifest["counts"]["images"],
        "instances": manifest["counts"]["instances"],
        "parse_floor_s": round(floor, 3),
        "build_s": round(build_s, 3),
        "ratio": round(ratio, 2),
        "peak_rss_gib": round(rss_gib, 3),
        "targets": {"ratio": TARGET_RATIO, "peak_rss_gib": TARGET_RSS_GIB},
    }
    print(f"machine: {res['machine']}")
    print(f"corpus: {res['corpus']}: {n_files} files, {res['images']} images, {res['instances']} instances")
    print(f"parse floor (json.load + loadmat): {floor:8.2f} s")
    print(f"smallpose build (all sources):     {build_s:8.2f} s")
    ok_ratio = ratio <= TARGET_RATIO
    print(f"ratio build / floor: {ratio:.2f}  (target <= {TARGET_RATIO})  {'OK' if ok_ratio else 'MISS'}")
    ok_mem = rss_gib < TARGET_RSS_GIB
    print(
        f"peak RSS of the build: {rss_gib:.2f} GiB  (target < {TARGET_RSS_GIB})  {'OK' if ok_mem else 'MISS'}"
    )
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
