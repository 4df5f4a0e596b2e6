"""Anomaly detection: remember where each node was created, and stop at the first backward step that
produces NaN or infinity, naming that op and the forward-pass line that created it."""
import traceback

import numpy as np

from .._errors import GraphError

enabled = False


def record_creation(node):
    """Called by apply() while anomaly mode is on: keep the user's stack (without chainrule frames)."""
    stack = traceback.extract_stack()[:-3]
    node._extras().trace = [frame for frame in stack if "/chainrule/" not in frame.filename.replace("\\", "/")] or stack


def creation_text(node):
    trace = node.extras.trace if node.extras is not None else None
    if not trace:
        return "(created before anomaly detection was enabled: no traceback recorded)"
    return "".join(traceback.format_list(trace)).rstrip()


def check_grads(node, grads):
    """Raise if a backward step of ``node`` returned NaN or infinity."""
    for position, grad in enumerate(grads):
        if grad is None:
            continue
        data = grad._data
        if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
            bad = "nan" if np.isnan(data).any() else "inf"
            raise GraphError(
                f"Function '{node.name()}' returned {bad} values in its {position}th output (gradient of its "
                f"input {position}, shape {list(data.shape)}).\nThe forward call that created it:\n"
                f"{creation_text(node)}"
            )


class detect_anomaly:
    """Context manager (and decorator): record node creation sites and check every backward step."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        global enabled
        self._prev = enabled
        enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        global enabled
        enabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode):
    global enabled
    enabled = bool(mode)


def is_anomaly_enabled():
    return enabled
