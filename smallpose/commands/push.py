"""`smallpose push`: publish a store to the Hugging Face Hub as a `datasets`-ready repo."""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from smallpose.errors import SmallPoseError

HELP = "Publish a store to the Hugging Face Hub (Parquet shards + dataset card)"
EXAMPLE = "smallpose push out/store --repo my-org/smallpose --dry-run out/hub"

_REPO_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("store", help="store directory (from `smallpose build`)")
    p.add_argument("--repo", required=True, metavar="ORG/NAME", help="dataset repository id on the Hub")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument(
        "--with-images",
        action="store_true",
        help="also upload the image files, under images/<source>/<file_name> (check the sources' terms)",
    )
    p.add_argument(
        "--image-root",
        action="append",
        default=[],
        metavar="SOURCE=DIR",
        help="where a source's images are, tried before the manifest's root; repeatable, also per "
        "source (COCO: --image-root coco=DIR/train2017 --image-root coco=DIR/val2017)",
    )
    p.add_argument("--dry-run", metavar="DIR", help="write exactly what would be uploaded to DIR and stop")
    p.add_argument(
        "--max-shard-mb",
        type=float,
        default=500.0,
        metavar="N",
        help="largest Parquet shard, in MB of 10^6 bytes (default 500, as datasets' push_to_hub)",
    )
    p.add_argument(
        "--revision", metavar="BRANCH", help="branch to push to (created if missing; default main)"
    )
    p.add_argument(
        "--large-folder",
        action="store_true",
        help="force the resumable multi-commit upload (chosen automatically for big folders)",
    )


def _image_roots(items: list[str]) -> dict[str, list[Path]]:
    roots: dict[str, list[Path]] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SmallPoseError(f"--image-root {item!r}: expected SOURCE=DIR")
        roots.setdefault(name, []).append(Path(path))
    return roots


def run(args: argparse.Namespace) -> int:
    from smallpose import hub, hub_upload
    from smallpose.store import open_store

    if not _REPO_RE.match(args.repo):
        raise SmallPoseError(f"--repo {args.repo!r}: expected ORG/NAME")
    if args.max_shard_mb <= 0:
        raise SmallPoseError(f"--max-shard-mb {args.max_shard_mb}: must be positive")
    roots = _image_roots(args.image_root)
    token = None if args.dry_run else hub_upload.resolve_token()  # before any work: fail fast
    store = open_store(args.store)
    options = dict(
        with_images=args.with_images,
        max_shard_bytes=int(args.max_shard_mb * 10**6),
        image_roots=roots,
    )
    if args.dry_run:
        staged = hub.stage_dry_run(store, args.dry_run, args.repo, **options)
        print(
            f"dry run: {len(staged.files)} files, {staged.total_bytes / 1e6:.1f} MB in {staged.folder} "
            f"(nothing uploaded); push with: smallpose push {args.store} --repo {args.repo}"
        )
        return 0
    folder = hub_upload.staging_dir(args.repo)
    for child in folder.glob("*") if folder.is_dir() else []:
        if child.name != ".cache":  # keep upload_large_folder's resume state
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    staged = hub.stage(store, folder, args.repo, link_images=True, **options)
    print(
        f"uploading {len(staged.files)} files ({staged.total_bytes / 1e6:.1f} MB) to {args.repo}",
        file=sys.stderr,
    )
    result = hub_upload.upload(
        folder,
        args.repo,
        token,
        private=args.private,
        revision=args.revision,
        with_images=args.with_images,
        large=True if args.large_folder else None,
    )
    shutil.rmtree(folder, ignore_errors=True)
    rev = f"/tree/{args.revision}" if args.revision else ""
    endpoint = hub_upload.endpoint().rstrip("/")
    print(f"pushed {result['files']} files with {result['method']}: {endpoint}/datasets/{args.repo}{rev}")
    return 0
