"""The dataset card (README.md) and licence file of a Hub upload.

The card is what the Hub and ``datasets`` read: YAML front matter with the licence, task,
size category, the two configs and their explicit features; then a body a researcher can
cite and use without the toolkit (skeleton, buckets, keypoint density, metrics, counts,
source terms, BibTeX). It is a pure function of the store: no clock, no machine paths,
so the same store always gives the same card bytes.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import yaml

from smallpose.hub import CONFIGS, dumps_sorted, features, manifest_summary, ordered_splits
from smallpose.hub_sources import SMALLPOSE_BIBTEX, source_info
from smallpose.skeleton import FLIP_PAIRS, KEYPOINT_NAMES, SIGMAS, SKELETON_EDGES, SOURCE_SKELETONS
from smallpose.store import Store

LICENSE_NAME = "smallpose-source-terms"

_SIZE_CATEGORIES = [
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
]  # fmt: skip


def size_category(n: int) -> str:
    """The Hub's size_categories bucket for ``n`` rows (its boundaries: n<1K, 1K<n<10K, ...)."""
    for bound, name in _SIZE_CATEGORIES:
        if n < bound:
            return name
    return (
        "n>1T" if n >= 10**12 else "1B<n<10B" if n < 10**10 else "10B<n<100B" if n < 10**11 else "100B<n<1T"
    )


def store_sources(store: Store) -> list[str]:
    names = set(store.images.column("source").to_pylist()) | set(store.instances.column("source").to_pylist())
    return sorted(names)


def licence_metadata(sources: list[str]) -> dict[str, Any]:
    """One SPDX id when every source shares it; otherwise ``other`` with the terms listed."""
    ids = {source_info(s).spdx for s in sources}
    if len(ids) == 1 and None not in ids:
        return {"license": ids.pop()}
    details = "; ".join(f"{s}: {source_info(s).spdx or 'research use only, own terms'}" for s in sources)
    return {
        "license": "other",
        "license_name": LICENSE_NAME,
        "license_link": "LICENSE.md",
        "license_details": f"Each source keeps its own terms ({details}). See LICENSE.md.",
    }


def _front_matter(
    store: Store, shards: dict[str, dict[str, list[str]]], sizes: dict[str, int]
) -> dict[str, Any]:
    sources = store_sources(store)
    tables = {"instances": store.instances, "images": store.images}
    configs, infos = [], []
    for config in CONFIGS:
        splits = list(shards[config])
        prefix = f"data/{config}"
        configs.append(
            {
                "config_name": config,
                **({"default": True} if config == "instances" else {}),
                "data_files": [{"split": s, "path": f"{prefix}/{s}-*.parquet"} for s in splits],
            }
        )
        table = tables[config].cast(features(config).arrow_schema)
        split_info = []
        for s in splits:
            part = table.filter(pa.compute.equal(table["split"], s))
            split_info.append({"name": s, "num_bytes": int(part.nbytes), "num_examples": part.num_rows})
        infos.append(
            {
                "config_name": config,
                "features": features(config)._to_yaml_list(),
                "splits": split_info,
                "download_size": sum(sizes[f] for s in splits for f in shards[config][s]),
                "dataset_size": sum(i["num_bytes"] for i in split_info),
            }
        )
    return {
        "pretty_name": "SmallPose",
        **licence_metadata(sources),
        "task_categories": ["keypoint-detection"],
        "tags": ["human-pose-estimation", "small-objects", "keypoints", "surveillance", "smallpose"],
        "size_categories": [size_category(store.instances.num_rows)],
        "configs": configs,
        "dataset_info": infos,
    }


def _counts_table(store: Store) -> str:
    """Per source and split: images, instances, size buckets, small-instance density classes."""
    im = store.images.select(["source", "split"]).to_pandas()
    ins = store.instances.select(["source", "split", "size_bucket", "kd_class", "head_box", "track_id"])
    df = ins.to_pandas()
    pairs = set(zip(im["source"], im["split"])) | set(zip(df["source"], df["split"]))
    order = {s: i for i, s in enumerate(ordered_splits(sorted({p[1] for p in pairs})))}
    keys = sorted(pairs, key=lambda p: (p[0], order[p[1]]))
    head = (
        "| source | split | images | instances | S | M | L | S sparse | S moderate | S dense "
        "| head boxes | tracked |"
    )
    rows = [head, "|" + "---|" * 12]
    for src, split in keys:
        d = df[(df["source"] == src) & (df["split"] == split)]
        n_img = int(((im["source"] == src) & (im["split"] == split)).sum())
        b = d["size_bucket"].value_counts()
        k = d.loc[d["size_bucket"] == "S", "kd_class"].value_counts()
        cells = [src, split, n_img, len(d), *(int(b.get(x, 0)) for x in "SML")]
        cells += [int(k.get(x, 0)) for x in ("sparse", "moderate", "dense")]
        cells += [int(d["head_box"].notna().sum()), int(d["track_id"].notna().sum())]
        rows.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(rows)


def _skeleton_section() -> str:
    rows = ["| index | name | OKS sigma |", "|---|---|---|"]
    rows += [f"| {i} | {n} | {SIGMAS[i]:.3f} |" for i, n in enumerate(KEYPOINT_NAMES)]
    edges = ", ".join(f"({a}, {b})" for a, b in SKELETON_EDGES)
    edge_names = ", ".join(f"{KEYPOINT_NAMES[a]}-{KEYPOINT_NAMES[b]}" for a, b in SKELETON_EDGES)
    flips = ", ".join(f"({a}, {b})" for a, b in FLIP_PAIRS)
    native = ", ".join(f"{s} K={sk.K}" for s, sk in SOURCE_SKELETONS.items())
    return (
        "## Skeleton\n\n21 keypoints, 0-based. `keypoints` holds 21 `(x, y, v)` triples in pixels with COCO "
        "visibility: 0 not annotated (stored as `(0, 0, 0)`), 1 annotated but occluded, 2 visible. A point "
        "a source does not annotate is never invented.\n\n" + "\n".join(rows) + "\n\n"
        f"Edges (0-based index pairs): {edges}\n\nEdges by name: {edge_names}\n\n"
        f"Left/right flip pairs: {flips}\n\nSource skeleton sizes (`source_num_keypoints`, the K of KD): "
        f"{native}.\n"
    )


_DEFINITIONS = """## Size buckets

Bucketed by the ground-truth **bounding-box** area `S_p = w * h` (column `bbox_area`, not a segmentation
area): **S** = (0, 128x96), **M** = [128x96, 256x192), **L** = [256x192, inf). Column `size_bucket`.

## Keypoint density (KD)

For every instance, `KD_p = 2 * (1 - sigmoid((S_p / (128*96)) * (K / n_p)))`, with `K` the source
skeleton size (`source_num_keypoints`) and `n_p` the annotated points (`num_keypoints`, v > 0). KD is
null when `n_p = 0`. Density classes of **small** instances (`kd_class`, null for M and L):
**sparse** (0, 0.35), **moderate** [0.35, 0.95), **dense** [0.95, 1) (ties at 0.95 go up).

`crowd_index` (images config) is CrowdPose's CrowdIndex: the mean over instances with annotated points
of (annotated points of *other* instances inside its box) / (its own annotated points); null when no
instance has annotated points.

## Metrics

- **AP, AP50, AP75, AR**: COCO's keypoint OKS AP/AR (10 OKS thresholds .50:.05:.95, 101 recall points,
  maxDets 20 by default, crowd and `num_keypoints == 0` ground truths ignored), over the 21 points with
  the sigmas above and `area` as the OKS scale.
- **AP^S, AP^M, AP^L** (`AP_S`, `AP_M`, `AP_L`): AP restricted to one size bucket; ground truths outside
  the bucket are ignored.
- **AP^S_Sp, AP^S_Mo, AP^S_De** (`AP_S_sparse`, `AP_S_moderate`, `AP_S_dense`): AP over small instances
  of one density class.
- **Surprise**: mean negative log-likelihood of the ground-truth points under the predicted per-keypoint
  distribution, coordinates normalised by the ground-truth box height, per bucket.
- Also PCKh@0.5 where `head_box` exists, mean normalised L2 error, per-keypoint AP, AP as a function of
  KD, and bootstrap confidence intervals over images.
- **COCO-subset protocol**: OKS over the 17 COCO keypoint types only.

Score a submission with `smallpose eval` (the `smallpose` toolkit).
"""


def _columns_section() -> str:
    rows = ["| config | column | feature |", "|---|---|---|"]
    for config in CONFIGS:
        for name, feat in features(config).items():
            rows.append(f"| {config} | `{name}` | `{feat}` |")
    intro = (
        "## Columns\n\nNullable where the source lacks the value: `head_box`, `track_id`, `kd`, `kd_class`, "
        "`source_area`, `crowd_index`, `video_id`, `frame_index`.\n\n"
    )
    return intro + "\n".join(rows) + "\n"


def _images_section(sources: list[str], with_images: bool) -> str:
    if with_images:
        return (
            "## Images\n\nThe image files are in this repository under `images/<source>/<file_name>` "
            "(`source` and `file_name` from the images config), e.g. with\n"
            '`huggingface_hub.hf_hub_download(repo_id, f"images/{source}/{file_name}", '
            'repo_type="dataset")`.\n'
        )
    lines = [f"- **{s}**: {source_info(s).images}" for s in sources]
    return (
        "## Images\n\nThis repository holds annotations only. Download each source's images under its own "
        "terms and find an image at `<that source's root>/<file_name>`:\n\n" + "\n".join(lines) + "\n"
    )


def license_text(store: Store) -> str:
    sources = store_sources(store)
    parts = [
        "# Terms of the SmallPose sources\n\nSmallPose re-packages annotations of existing datasets; each "
        "keeps its own terms. Using this dataset means accepting the terms of every source it contains.\n"
    ]
    for s in sources:
        info = source_info(s)
        spdx = f" (SPDX: `{info.spdx}`)" if info.spdx else ""
        link = f" {info.homepage}" if info.homepage else ""
        parts.append(f"## {s}: {info.title}{spdx}\n\n{info.terms}{link}\n")
    return "\n".join(parts)


def card_text(
    store: Store,
    repo_id: str,
    shards: dict[str, dict[str, list[str]]],
    sizes: dict[str, int],
    with_images: bool,
) -> str:
    """The README.md of the upload: YAML front matter, then the body."""
    sources = store_sources(store)
    meta = yaml.safe_dump(
        _front_matter(store, shards, sizes), sort_keys=False, allow_unicode=True, width=1000
    )
    created = next((str(v) for k, v in sorted(store.manifest.items()) if "creat" in k), "unknown")
    licences = "\n".join(f"- **{s}** ({source_info(s).title}): {source_info(s).terms}" for s in sources)
    bib = [SMALLPOSE_BIBTEX] + [source_info(s).bibtex for s in sources if source_info(s).bibtex]
    n_ins, n_img = store.instances.num_rows, store.images.num_rows
    body = f"""# SmallPose

A benchmark for **small human pose estimation**: people roughly 20-130 px tall, as seen by
surveillance and driving cameras. {n_ins} person instances on {n_img} images from
{", ".join(sources)}, mapped to one 21-keypoint skeleton, with size buckets, keypoint density (KD)
and CrowdIndex. Built with the `smallpose` toolkit.

## Load it

```python
from datasets import load_dataset

instances = load_dataset("{repo_id}")            # config "instances" (default): one row per person
images = load_dataset("{repo_id}", "images")     # one row per image
small = instances["test"].filter(lambda r: r["size_bucket"] == "S")
```

Each config has the splits {", ".join(f"`{s}`" for s in shards["instances"])}; no image or video is in
two splits. The files are Parquet shards under `data/<config>/<split>-NNNNN-of-NNNNN.parquet`, readable
as they are by pandas, polars and DuckDB.

{_columns_section()}
{_skeleton_section()}
{_DEFINITIONS}
## Counts

{_counts_table(store)}

{_images_section(sources, with_images)}
## Licenses

This dataset combines sources with different terms; each keeps its own (also in `LICENSE.md`):

{licences}

## Provenance

Store created {created}, fingerprint `{store.fingerprint}`. Manifest (without local paths):

```json
{dumps_sorted(manifest_summary(store.manifest))}
```

## Citation

Please cite SmallPose and every source you use:

```bibtex
{chr(10).join(bib)}
```
"""
    return f"---\n{meta}---\n\n{body}"
