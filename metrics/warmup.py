"""Load the evaluator's compiled kernels ahead of use, on a second thread.

numba keeps the kernels compiled on disk (``cache=True``), but the first one a process loads
costs about 0.3 s (LLVM start-up), and about 65 MB that stay. ``evaluate`` starts this once the
submission is parsed: by then the memory peak (the parsed json) is behind it, and the load,
partly outside the GIL, overlaps with the submission's validation instead of delaying the
matching. It runs the real entry points on a two-person case, so the very same compiled
variants (dtypes, layouts) are loaded that the real data will use. Nothing is shared with
the caller's data and every failure is swallowed: at worst the kernels load on first use.
"""

from __future__ import annotations

import threading

import numpy as np

_started = threading.Lock()
_done = False


def _tiny_case():
    from smallpose.metrics.arrays import Detections, GroundTruth

    kp = np.zeros((2, 21, 3))
    kp[:, :, 0] = np.linspace(10.0, 30.0, 21)
    kp[:, :, 1] = np.linspace(10.0, 60.0, 21)
    kp[:, :, 2] = 2.0
    kp[1, :, :2] += 200.0
    bbox = np.array([[10.0, 10.0, 20.0, 50.0], [210.0, 210.0, 20.0, 50.0]])
    gt = GroundTruth(image_ids=np.array([1, 1]), keypoints=kp, bbox=bbox, area=np.array([1000.0, 1000.0]),
                     iscrowd=np.zeros(2, bool), num_keypoints=np.array([21, 21]),
                     eval_image_ids=np.array([1]), kd=np.array([0.5, 0.5]))  # fmt: skip
    dt = Detections(image_ids=np.array([1, 1]), keypoints=kp + 1.0, scores=np.array([0.9, 0.8]))
    return gt, dt


def warm_up() -> None:
    """Run match, the KD curve, per-keypoint AP and the compiled accumulation once, tiny."""
    global _done
    if _done or not _started.acquire(blocking=False):
        return
    try:
        from smallpose.metrics.cocoeval import match
        from smallpose.metrics.kd_curve import accumulate_fast, kd_curve, per_keypoint_ap
        from smallpose.metrics.params import Params

        from smallpose.skeleton import KEYPOINT_NAMES

        gt, dt = _tiny_case()
        params = Params.smallpose()
        result = match(gt, dt, params)
        accumulate_fast(result)
        kd_curve(gt, dt, params, 2, result)
        per_keypoint_ap(gt, dt, params, list(KEYPOINT_NAMES), result)
        _done = True
    except Exception:  # noqa: BLE001 - an optimisation only: the kernels then load on first use
        pass
    finally:
        _started.release()


def warm_up_in_background() -> None:
    """:func:`warm_up` on a daemon thread (returns at once; a no-op once done)."""
    if not _done:
        threading.Thread(target=warm_up, name="smallpose-warm-up", daemon=True).start()
