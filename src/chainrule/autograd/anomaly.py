"""Anomaly detection: remember where each node was created, and stop at the first backward step that
produces NaN or infinity, naming that op and the forward-pass line that created it."""
import os
import traceback

import numpy as np

from .._errors import GraphError

enabled = False  # anomaly mode on: record where nodes are made (and check, if check_nan_enabled)
check_nan_enabled = True

# Frames from files inside the chainrule package are left out of recorded stacks (by location, not by
# name: a user's project may itself live in a folder called "chainrule").
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_internal = {}


def _is_internal(filename):
    inside = _internal.get(filename)
    if inside is None:
        inside = _internal[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR)
    return inside


def record_creation(node):
    """Called when a node is made while anomaly mode is on: keep the user's stack (without chainrule frames)."""
    stack = traceback.extract_stack()
    node._extras().trace = [frame for frame in stack if not _is_internal(frame.filename)] or stack[:-1]


def checked_step(node, grad, wanted, raw):
    """One backward step in anomaly mode: an error raised by it, or NaN/inf in what it returns, is
    reported with the forward call that created the node."""
    try:
        grads = node.backward_raw(grad, wanted) if raw else node.backward_grads(grad, wanted)
    except Exception as error:
        if hasattr(error, "add_note"):
            error.add_note(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                           f"{creation_text(node)}")
        raise
    if check_nan_enabled:
        check_grads(node, grads)
    return grads


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
        data = np.asarray(getattr(grad, "_data", grad))  # Tensors, or arrays in the engine's raw mode
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
        global enabled, check_nan_enabled
        self._prev = enabled, check_nan_enabled
        enabled, check_nan_enabled = True, bool(self.check_nan)
        return self

    def __exit__(self, *exc):
        global enabled, check_nan_enabled
        enabled, check_nan_enabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly mode on or off. Takes effect at once (as a function call); as a context manager it
    restores the previous mode on exit."""

    def __init__(self, mode, check_nan=True):
        global enabled, check_nan_enabled
        self._prev = enabled, check_nan_enabled
        enabled, check_nan_enabled = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global enabled, check_nan_enabled
        enabled, check_nan_enabled = self._prev
        return False


def is_anomaly_enabled():
    return enabled


def is_anomaly_check_nan_enabled():
    return enabled and check_nan_enabled
