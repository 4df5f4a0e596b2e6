"""Gradient clipping: rescale all gradients together so their total norm is at most max_norm
(clip_grad_norm_), or clamp each gradient element (clip_grad_value_). Gradients are changed in place, outside
the graph; parameters without a gradient are skipped."""
import math
import numbers

import numpy as np

from ..._tensor import Tensor, make_tensor
from ...autograd.grad_mode import no_grad
from ...ops.reduction import vector_norm
from ...ops.shape import stack


def _tensors(name, parameters):
    """A single tensor or an iterable of tensors, as a list."""
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        items = list(parameters)
    except TypeError:
        raise TypeError(f"{name}(): parameters must be a Tensor or an iterable of Tensors, not "
                        f"{type(parameters).__name__}") from None
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}(): parameters must be Tensors, got an element of type {type(item).__name__}")
    return items


def _grads(name, parameters):
    return [p.grad for p in _tensors(name, parameters) if p.grad is not None]


def _norm_type(name, norm_type):
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"{name}(): norm_type must be a number (2.0, 1, float('inf'), ...), not {norm_type!r}")
    return float(norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of ``tensors`` (the norm of all their elements taken as one vector)."""
    norm_type = _norm_type("get_total_norm", norm_type)
    tensors = _tensors("get_total_norm", tensors)
    if not tensors:
        return make_tensor(np.zeros((), dtype=np.float32))
    with no_grad():
        norms = [vector_norm(t, norm_type) for t in tensors]
        total = vector_norm(stack([n.to(norms[0].dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1."""
    grads = _grads("clip_grads_with_norm_", parameters)
    if not grads:
        return
    total = total_norm.item() if isinstance(total_norm, Tensor) else float(total_norm)
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    with no_grad(), np.errstate(invalid="ignore"):  # a non-finite total norm makes inf * 0 = nan, as in PyTorch
        for g in grads:
            g.mul_(coefficient)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` in place so that their total ``norm_type``-norm is at most
    ``max_norm``; returns the total norm before clipping (a 0-d tensor). With ``error_if_nonfinite`` a NaN or
    infinite total norm raises instead."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"clip_grad_norm_(): max_norm must be a number, not {type(max_norm).__name__}")
    parameters = _tensors("clip_grad_norm_", parameters)
    total = get_total_norm(_grads("clip_grad_norm_", parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element of ``parameters`` into [-clip_value, clip_value], in place."""
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real):
        raise TypeError(f"clip_grad_value_(): clip_value must be a number, not {type(clip_value).__name__}")
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads("clip_grad_value_", parameters):
            g.clamp_(-clip_value, clip_value)
