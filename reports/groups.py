"""Which group a model's leaderboard row goes in: paradigm and prediction type.

The paper's Table 2 groups rows by design paradigm and Table 3 by prediction type. A
metrics file only names the model, so a small table maps known model names to both;
a run can override either with ``run.paradigm`` / ``run.prediction_type``, and a model
not in the table lands in "other" rather than in a guessed group.
"""

from __future__ import annotations

import re

PARADIGMS = ("top-down", "bottom-up", "single-stage")
PREDICTION_TYPES = ("heatmap", "regression", "classification")
OTHER = "other"

_TD, _BU, _SS = PARADIGMS
_HM, _RG, _CL = PREDICTION_TYPES

#: normalised model name (lower case, letters and digits only) -> (paradigm, prediction type).
#: CID and RTMO sit under single-stage as in the paper's Table 2; DEKR under bottom-up.
KNOWN_MODELS: dict[str, tuple[str, str]] = {
    "simplebaseline": (_TD, _HM),
    "simplebaselines": (_TD, _HM),
    "hrnet": (_TD, _HM),
    "hrformer": (_TD, _HM),
    "vitpose": (_TD, _HM),
    "cal": (_TD, _HM),
    "udp": (_TD, _HM),
    "darkpose": (_TD, _HM),
    "dark": (_TD, _HM),
    "recurrentpose": (_TD, _HM),
    "tinypeoplepose": (_TD, _HM),
    "rle": (_TD, _RG),
    "vitposerle": (_TD, _RG),
    "vitposesrle": (_TD, _RG),
    "deeppose": (_TD, _RG),
    "simcc": (_TD, _CL),
    "rtmpose": (_TD, _CL),
    "dekr": (_BU, _RG),
    "associativeembedding": (_BU, _HM),
    "higherhrnet": (_BU, _HM),
    "cid": (_SS, _HM),
    "rtmo": (_SS, _CL),
    "yolopose": (_SS, _RG),
}

_ALIASES = {
    "topdown": _TD,
    "bottomup": _BU,
    "singlestage": _SS,
    "onestage": _SS,
    "heatmapbased": _HM,
    "regressionbased": _RG,
    "classificationbased": _CL,
}


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _canonical_group(value: str) -> str:
    key = normalise(value)
    if key in _ALIASES:
        return _ALIASES[key]
    for known in (*PARADIGMS, *PREDICTION_TYPES):
        if normalise(known) == key:
            return known
    return value.strip().lower()


def lookup_model(model: str) -> tuple[str, str]:
    """(paradigm, prediction type) of a model name, or ("other", "other").

    Exact match first, then the longest known name the model starts with, so registry-style
    names such as ``hrnet_w32`` or ``simcc-res50`` still find their family.
    """
    key = normalise(model)
    if key in KNOWN_MODELS:
        return KNOWN_MODELS[key]
    best = max((k for k in KNOWN_MODELS if key.startswith(k)), key=len, default=None)
    if best is None or (key.endswith("rle") and KNOWN_MODELS[best][1] != _RG):
        return (_TD, _RG) if key.endswith("rle") else (OTHER, OTHER)
    return KNOWN_MODELS[best]


def groups_for(
    model: str, paradigm: str | None = None, prediction_type: str | None = None
) -> tuple[str, str]:
    """Groups of a run: the model table, overridden by the run's own fields when present."""
    p, t = lookup_model(model)
    if paradigm:
        p = _canonical_group(paradigm)
    if prediction_type:
        t = _canonical_group(prediction_type)
    return p, t


def group_order(known: tuple[str, ...], present: set[str]) -> list[str]:
    """Known groups in the paper's order, then any custom ones alphabetically, "other" last."""
    custom = sorted(present - set(known) - {OTHER})
    return [g for g in known if g in present] + custom + ([OTHER] if OTHER in present else [])
