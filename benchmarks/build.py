"""Benchmark: a whole `smallpose build` against the cost of just parsing its inputs.

The floor is ``json.load`` of every source json in a synth corpus plus ``scipy.io.loadmat``
of the MPII .mat: no build can be faster than reading its input. It is taken twice: with
Python's cyclic garbage collector as it is by default, and paused (as the converters pause
it while they read a file, ``converters/_jsonio.gc_paused``); the paused one is the real
floor and the headline ratio uses it. The build runs as a subprocess over all five sources,
in the same run, under a fresh parent so the peak RSS (``RUSAGE_CHILDREN``) is the build's
alone; inside it each source's convert call is timed. Targets: build / floor <= 3, peak RSS
< 4 GiB.

    python benchmarks/build.py                 # synth --scale full into a temp dir
    python benchmarks/build.py --corpus DIR    # reuse a corpus made by `smallpose synth`
"""

from __future__ import annotations

import argparse
import gc
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

# `smallpose build` in-process, with each source's convert call timed (written to argv[1]).
_BUILD = """
import json, sys, time
import smallpose.build as sb
from smallpose.cli import main
times, inner = [], sb.default_convert
def timed(kind, path, split=None, strict=False):
    t = time.perf_counter()
    table = inner(kind, path, split=split, strict=strict)
    times.append([kind, time.perf_counter() - t])
    return table
sb.default_convert = timed
rc = main(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    json.dump(times, fh)
sys.exit(rc)
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


def sources(corpus: Path) -> tuple[list[str], dict[str, str]]:
    """The build's ``--source`` arguments, and each source kind's folder in the corpus."""
    listing = json.loads((corpus / "SOURCES.json").read_text())
    out, paths = [], {}
    for e in listing:
        head = e["kind"] + (f":{e['split']}" if e.get("split") else "")
        out += ["--source", f"{head}={corpus / e['path']}"]
        paths[e["kind"]] = e["path"]
    return out, paths


def parse_floor(corpus: Path, paths: dict[str, str], gc_on: bool) -> tuple[dict[str, float], int]:
    """Seconds per source to json.load / loadmat every annotation file (cache warmed first)."""
    import scipy.io

    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".json", ".mat") and p.name != "SOURCES.json")
    for f in files:  # warm the page cache so both timings read from memory
        f.read_bytes()
    owner = {f: next((k for k, v in paths.items() if f.is_relative_to(corpus / v)), "other") for f in files}
    per: dict[str, float] = {}
    was_enabled = gc.isenabled()
    (gc.enable if gc_on else gc.disable)()
    try:
        for f in files:
            t = time.perf_counter()
            if f.suffix == ".mat":
                scipy.io.loadmat(str(f), squeeze_me=True, struct_as_record=False)
            else:
                with open(f, "rb") as fh:
                    json.load(fh)
            per[owner[f]] = per.get(owner[f], 0.0) + time.perf_counter() - t
    finally:
        (gc.enable if was_enabled else gc.disable)()
    return per, len(files)


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
        src_args, paths = sources(corpus)
        floor_gc, n_files = parse_floor(corpus, paths, gc_on=True)
        floor_src, _ = parse_floor(corpus, paths, gc_on=False)
        store, times_file = Path(tmp) / "store", Path(tmp) / "convert_times.json"
        cmd = [sys.executable, "-c", _BUILD, str(times_file), "build", *src_args, "--out", str(store)]
        env = {**os.environ, "SMALLPOSE_QUIET": "1"}
        p = subprocess.run([sys.executable, "-c", _CHILD, *cmd], capture_output=True, text=True, env=env)
        rc, build_s, rss_kib = p.stdout.strip().splitlines()[-1].split()
        if int(rc) != 0:
            print(p.stderr, file=sys.stderr)
            return 1
        manifest = json.loads((store / "manifest.json").read_text())
        convert_s: dict[str, float] = {}
        for kind, sec in json.loads(times_file.read_text()):
            convert_s[kind] = convert_s.get(kind, 0.0) + sec
    floor, floor_default = sum(floor_src.values()), sum(floor_gc.values())
    build_s, rss_gib = float(build_s), int(rss_kib) / 2**20
    ratio = build_s / floor
    res = {
        "machine": machine(),
        "corpus": str(args.corpus or f"synth --scale {args.scale}"),
        "files_parsed": n_files,
        "images": manifest["counts"]["images"],
        "instances": manifest["counts"]["instances"],
        "parse_floor_s": round(floor, 3),
        "parse_floor_default_gc_s": round(floor_default, 3),
        "build_s": round(build_s, 3),
        "ratio": round(ratio, 2),
        "ratio_default_gc_floor": round(build_s / floor_default, 2),
        "peak_rss_gib": round(rss_gib, 3),
        "convert_s": {k: round(v, 3) for k, v in convert_s.items()},
        "parse_floor_by_source_s": {k: round(v, 3) for k, v in floor_src.items()},
        "targets": {"ratio": TARGET_RATIO, "peak_rss_gib": TARGET_RSS_GIB},
    }
    print(f"machine: {res['machine']}")
    print(f"corpus: {res['corpus']}: {n_files} files, {res['images']} images, {res['instances']} instances")
    print(f"parse floor (json.load + loadmat, gc paused):  {floor:8.2f} s")
    print(f"parse floor (json.load + loadmat, default gc): {floor_default:8.2f} s")
    print(f"smallpose build (all sources):                 {build_s:8.2f} s")
    print("  per source:   convert s   parse floor s   ratio")
    for kind, sec in convert_s.items():
        fl = floor_src.get(kind, 0.0)
        print(f"  {kind:12s} {sec:10.2f} {fl:15.2f} {sec / fl if fl else float('nan'):7.2f}")
    print(f"  rest of build (start-up, combine, derive, write): {build_s - sum(convert_s.values()):.2f} s")
    ok_ratio = ratio <= TARGET_RATIO
    print(f"ratio build / floor: {ratio:.2f}  (target <= {TARGET_RATIO})  {'OK' if ok_ratio else 'MISS'}")
    print(f"  (against the default-gc floor: {res['ratio_default_gc_floor']:.2f})")
    ok_mem = rss_gib < TARGET_RSS_GIB
    print(
        f"peak RSS of the build: {rss_gib:.2f} GiB  (target < {TARGET_RSS_GIB})  {'OK' if ok_mem else 'MISS'}"
    )
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
