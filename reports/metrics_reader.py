"""Reading ``smallpose-metrics/1`` files (SPEC section 7) into one plain record per run.

The evaluator owns the format (``smallpose.metrics.metrics_file``: schema check, required
fields, value ranges); :func:`read_metrics` uses its reader so both refuse the same files
with the same one-line message. :func:`parse_metrics` then flattens a document into the
record the tables and figures use, and checks the parts only the report reads (CI pairs,
KD-curve bins, per-keypoint values) so a malformed one is named rather than mis-drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smallpose.errors import InputError

SCHEMA = "smallpose-metrics/1"
KNOWN_SCHEMAS = (SCHEMA,)


@dataclass
class RunMetrics:
    """One evaluated run, as the report uses it. Missing metrics are simply absent keys."""

    path: str
    name: str
    model: str
    backbone: str = ""
    input_size: str = ""
    setting: str = ""
    train_data: str = ""
    paradigm: str | None = None  # run-level override of the model table
    prediction_type: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    kd_curve: list[dict[str, float]] = field(default_factory=list)
    per_keypoint: dict[str, float] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    gt: dict[str, Any] = field(default_factory=dict)

    @property
    def pair_key(self) -> tuple[str, str, str]:
        """Runs sharing this key are one model evaluated under different settings."""
        return (self.model, self.backbone, self.input_size)


def _number(path: str, fld: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise InputError(path, None, fld, f"expected a number, got {value!r}")
    return float(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def parse_metrics(doc: Any, path: str) -> RunMetrics:
    """Validate one decoded metrics document; raises InputError naming file and field."""
    if not isinstance(doc, dict):
        raise InputError(path, None, None, f"not a metrics file (top level is {type(doc).__name__})")
    schema = doc.get("schema")
    if schema not in KNOWN_SCHEMAS:
        raise InputError(
            path, None, "schema", f"unknown metrics schema {schema!r} (this tool reads {SCHEMA!r})"
        )
    run = doc.get("run")
    if not isinstance(run, dict):
        raise InputError(path, None, "run", "missing or not an object")
    name = _text(run.get("name")).strip() or Path(path).stem
    # eval writes model null when it was not told; the run name then stands in for it
    model = _text(run.get("model")).strip() or name
    metrics_in = doc.get("metrics")
    if not isinstance(metrics_in, dict):
        raise InputError(path, None, "metrics", "missing or not an object")
    metrics = {}
    for k, v in metrics_in.items():
        x = _number(path, f"metrics.{k}", v)
        if x is not None:
            metrics[str(k)] = x
    ci: dict[str, tuple[float, float]] = {}
    for k, v in (doc.get("ci") or {}).items():
        if v is None:
            continue
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise InputError(path, None, f"ci.{k}", f"expected [lo, hi], got {v!r}")
        lo, hi = (_number(path, f"ci.{k}", x) for x in v)
        if lo is None or hi is None:
            continue
        if lo > hi:
            raise InputError(path, None, f"ci.{k}", f"lower bound {lo} above upper bound {hi}")
        ci[str(k)] = (lo, hi)
    curve = []
    kd_in = doc.get("kd_curve") or []
    if not isinstance(kd_in, list):
        raise InputError(path, None, "kd_curve", "expected a list of {kd_lo, kd_hi, n_gt, AP}")
    for i, b in enumerate(kd_in):
        if not isinstance(b, dict) or "kd_lo" not in b or "kd_hi" not in b:
            raise InputError(path, i, "kd_curve", "each bin needs kd_lo and kd_hi")
        lo = _number(path, f"kd_curve[{i}].kd_lo", b["kd_lo"])
        hi = _number(path, f"kd_curve[{i}].kd_hi", b["kd_hi"])
        ap = _number(path, f"kd_curve[{i}].AP", b.get("AP"))
        n = _number(path, f"kd_curve[{i}].n_gt", b.get("n_gt"))
        curve.append({"kd_lo": lo, "kd_hi": hi, "AP": math.nan if ap is None else ap, "n_gt": n or 0.0})
    per_kp = {}
    pk_in = doc.get("per_keypoint") or {}
    if not isinstance(pk_in, dict):
        raise InputError(path, None, "per_keypoint", "expected {keypoint_name: AP or {AP: ..}}")
    for k, v in pk_in.items():
        if isinstance(v, dict):  # eval writes {"AP", "AP50", "n_gt"} per keypoint
            v = v.get("AP")
        x = _number(path, f"per_keypoint.{k}", v)
        per_kp[str(k)] = math.nan if x is None else x

    def opt(key: str) -> str | None:
        v = run.get(key)
        return str(v).strip().lower().replace("_", "-") if v else None

    return RunMetrics(
        path=path,
        name=name,
        model=model,
        backbone=_text(run.get("backbone")),
        input_size=_text(run.get("input_size")),
        setting=_text(run.get("setting")).strip(),
        train_data=_text(run.get("train_data")),
        paradigm=opt("paradigm"),
        prediction_type=opt("prediction_type"),
        metrics=metrics,
        ci=ci,
        kd_curve=curve,
        per_keypoint=per_kp,
        protocol=doc.get("protocol") if isinstance(doc.get("protocol"), dict) else {},
        gt=doc.get("gt") if isinstance(doc.get("gt"), dict) else {},
    )


def read_metrics(path: str | Path) -> RunMetrics:
    """Read one metrics file with the evaluator's own reader (same schema check, same
    one-line errors), then flatten it into the record the report uses."""
    from smallpose.metrics.metrics_file import read_metrics as read_doc

    return parse_metrics(read_doc(path), str(path))
