"""The metrics file: one JSON per evaluated run, written by ``eval`` and read by ``report``.

Versioned by its ``schema`` key so that a report never misreads a file written by another
version: reading refuses an unknown schema with a message instead of guessing. Written
atomically (temp file + rename) and as strict JSON: NaN and infinity become ``null``
(a metric that does not apply, such as AP of an empty bucket, is ``null``, not pycocotools' -1).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from smallpose.atomic import write_text_atomic
from smallpose.errors import InputError

SCHEMA = "smallpose-metrics/1"
KNOWN_SCHEMAS = (SCHEMA,)
REQUIRED = ("schema", "run", "gt", "protocol", "metrics")
RUN_KEYS = ("name", "model", "backbone", "input_size", "setting", "train_data")
GT_KEYS = ("store", "split", "fingerprint")
#: every metric key a file may hold (SPEC section 7), in table order
METRIC_KEYS = (
    "AP", "AP50", "AP75", "AP_S", "AP_M", "AP_L", "AP_S_sparse", "AP_S_moderate", "AP_S_dense",
    "AR", "AR50", "AR75", "AR_S", "AR_M", "AR_L", "surprise",
)  # fmt: skip


def clean(obj: Any) -> Any:
    """Plain JSON values: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def validate(doc: Any, name: str = "<metrics>") -> dict:
    """Check the structure a report relies on; raise InputError naming the field."""
    if not isinstance(doc, dict):
        raise InputError(name, None, None, "not a metrics file (expected a JSON object)")
    schema = doc.get("schema")
    if schema not in KNOWN_SCHEMAS:
        raise InputError(
            name, None, "schema",
            f"unknown metrics schema {schema!r}; this version reads {', '.join(KNOWN_SCHEMAS)} "
            "(re-run 'smallpose eval' with this version, or upgrade smallpose)",
        )  # fmt: skip
    for key in REQUIRED:
        if key not in doc:
            raise InputError(name, None, key, "missing")
    for key, sub in (("run", RUN_KEYS), ("gt", GT_KEYS)):
        if not isinstance(doc[key], dict):
            raise InputError(name, None, key, "expected an object")
        for k in sub:
            if k not in doc[key]:
                raise InputError(name, None, f"{key}.{k}", "missing")
    metrics = doc["metrics"]
    if not isinstance(metrics, dict) or "AP" not in metrics:
        raise InputError(name, None, "metrics", "expected an object with at least 'AP'")
    for k, v in metrics.items():
        if k not in METRIC_KEYS:
            raise InputError(name, None, f"metrics.{k}", f"unknown metric (known: {', '.join(METRIC_KEYS)})")
        if v is not None and (type(v) not in (int, float) or (k != "surprise" and not 0.0 <= v <= 1.0)):
            raise InputError(name, None, f"metrics.{k}", f"expected a number in [0, 1] or null, got {v!r}")
    for k, v in (doc.get("ci") or {}).items():
        if not (isinstance(v, list) and len(v) == 2):
            raise InputError(name, None, f"ci.{k}", "expected [lo, hi]")
    return doc


def write_metrics(path: str | os.PathLike, doc: dict) -> Path:
    """Validate and write atomically; returns the path."""
    doc = validate(clean(doc), str(path))
    return write_text_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


def read_metrics(path: str | os.PathLike) -> dict:
    """Read and validate a metrics file; a one-line InputError for anything unreadable."""
    name = str(path)
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(name, None, None, "no such metrics file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(name, None, None, f"not a readable JSON metrics file: {e}") from None
    return validate(doc, name)
