"""Bootstrap confidence intervals over images, and a paired test between two submissions.

Images are the resampling unit because people in one image share a scene, a camera and a
detector's mistakes: resampling people would pretend they are independent and give
intervals that are too narrow. Matching is per image and does not change when an image is
drawn twice, so a resample is only a re-weighting: each image gets the number of times it
was drawn as its weight, and AP is re-accumulated from the one matching (``stats_fn``
below wraps ``cocoeval.accumulate(match, params, image_weights=counts)``). This is what
makes 1000 resamples affordable.

Interval: the percentile interval, the 2.5th and 97.5th percentiles of the resampled
statistic (numpy's default linear interpolation). A resample where a statistic is
undefined (its bucket drew no ground truth; pycocotools' -1) is left out of that
statistic's interval, and ``n_valid`` says how many remained.

Paired comparison (``smallpose eval --compare A B``): both submissions are re-accumulated on
the *same* resampled image sets, so the difference ``delta_b = stat_A(b) - stat_B(b)``
keeps the pairing. With observed difference ``delta``, the two-sided p-value is::

    p = min(1, 2 * #{b : delta_b * sign(delta) <= 0} / B)

the fraction of resamples where the difference vanishes or flips sign, doubled for two
sides (``p = 1`` when ``delta == 0``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from smallpose.progress import Progress

StatsFn = Callable[[np.ndarray | None], dict[str, float]]
LEVEL = 0.95


def resample_counts(n_images: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Per-image draw counts of ``n_boot`` resamples with replacement (seeded, reproducible)."""
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield np.bincount(rng.integers(0, n_images, size=n_images), minlength=n_images)


def _sample_matrix(
    stats_fns: list[StatsFn], keys: list[str], n_images: int, n_boot: int, seed: int
) -> list[np.ndarray]:
    """(n_boot, len(keys)) resampled statistics for each stats function, on shared resamples."""
    out = [np.full((n_boot, len(keys)), np.nan) for _ in stats_fns]
    with Progress("bootstrap", total=n_boot) as prog:
        for b, counts in enumerate(resample_counts(n_images, n_boot, seed)):
            for m, fn in enumerate(stats_fns):
                stats = fn(counts)
                out[m][b] = [stats.get(k, np.nan) for k in keys]
            prog.update()
    for m in out:
        m[m < 0] = np.nan  # pycocotools' -1: undefined in this resample
    return out


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    s = samples[np.isfinite(samples)]
    if s.size == 0:
        return (float("nan"), float("nan"))
    a = (1.0 - level) / 2.0
    lo, hi = np.percentile(s, [100.0 * a, 100.0 * (1.0 - a)])
    return (float(lo), float(hi))


def bootstrap_ci(
    stats_fn: StatsFn, keys: list[str], n_images: int, n_boot: int, seed: int = 0, level: float = LEVEL
) -> dict[str, dict]:
    """``{key: {"ci": [lo, hi], "n_valid": int}}`` from ``n_boot`` image resamples."""
    if n_boot <= 0 or n_images == 0:
        return {}
    (samples,) = _sample_matrix([stats_fn], keys, n_images, n_boot, seed)
    return {
        k: {
            "ci": list(percentile_interval(samples[:, j], level)),
            "n_valid": int(np.isfinite(samples[:, j]).sum()),
        }
        for j, k in enumerate(keys)
    }


def paired_bootstrap(
    stats_a: StatsFn,
    stats_b: StatsFn,
    keys: list[str],
    n_images: int,
    n_boot: int,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, dict]:
    """Per key: observed A, B, difference A - B, its percentile CI and the two-sided p-value."""
    full_a, full_b = stats_a(None), stats_b(None)
    sa, sb = _sample_matrix([stats_a, stats_b], keys, n_images, n_boot, seed)
    out = {}
    for j, k in enumerate(keys):
        a, b = full_a.get(k, np.nan), full_b.get(k, np.nan)
        if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)) or a < 0 or b < 0:
            continue
        delta = float(a - b)
        d = sa[:, j] - sb[:, j]
        d = d[np.isfinite(d)]
        out[k] = {
            "A": float(a),
            "B": float(b),
            "diff": delta,
            "ci": list(percentile_interval(d, level)),
            "p_value": paired_p_value(delta, d),
            "n_valid": int(d.size),
        }
    return out


def paired_p_value(delta: float, resampled: np.ndarray) -> float:
    """``min(1, 2 * fraction of resamples with delta_b * sign(delta) <= 0)``; 1 when delta == 0."""
    resampled = np.asarray(resampled, dtype=np.float64)
    if delta == 0 or resampled.size == 0:
        return 1.0
    flips = np.count_nonzero(resampled * np.sign(delta) <= 0)
    return float(min(1.0, 2.0 * flips / resampled.size))
