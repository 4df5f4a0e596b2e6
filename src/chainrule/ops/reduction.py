"""Reductions: sum, mean, max/min (whole tensor and along a dim), and sum_to, which the engine uses to
undo broadcasting."""
import collections

import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, S, arg
from ._shape_utils import normalize_dim, reduced_count

__all__ = ["sum", "mean", "max", "min"]
TENSOR_METHODS = ["sum", "mean", "max", "min"]

REDUCE_SAMPLES = [S((3, 4), dim=None, keepdim=False), S((3, 4), dim=(1,), keepdim=False),
                  S((3, 4), dim=(0,), keepdim=True), S((2, 3, 4), dim=(0, 2), keepdim=False), S((), dim=None, keepdim=True)]
DIM_SAMPLES = [S(arg((3, 4), distinct=True), dim=1, keepdim=False), S(arg((3, 4), distinct=True), dim=0, keepdim=True),
               S(arg((2, 3, 4), distinct=True), dim=2, keepdim=False)]


def expand_reduced(g, shape, dim, keepdim):
    """Broadcast the gradient of a reduction back over the reduced dims (the VJP of every reduction)."""
    if dim is not None and not keepdim:
        for d in sorted(dim):
            g = g.unsqueeze(d)
    return g.expand(shape)


def _sum_forward(xp, x, *, dim, keepdim):
    return xp.sum(x, axis=dim, keepdims=keepdim)


def _mean_forward(xp, x, *, dim, keepdim):
    return xp.mean(x, axis=dim, keepdims=keepdim)


def _sum_vjp(g, out, x, *, dim, keepdim):
    return expand_reduced(g, x.shape, dim, keepdim)


def _mean_vjp(g, out, x, *, dim, keepdim):
    return expand_reduced(g, x.shape, dim, keepdim) / reduced_count(x.shape, dim)


# PyTorch names the whole-tensor and the along-dims forms differently (SumBackward0 / SumBackward1).
def _torch_reduction(name):
    def reduce(torch, x, *, dim, keepdim):
        fn = getattr(torch, name)
        if dim is None:
            return fn(x, dim=tuple(range(x.ndim)), keepdim=True) if keepdim and x.ndim else fn(x)
        return fn(x, dim=dim, keepdim=keepdim)

    return reduce


SUM, SUM_DIM = (defop(name, _sum_forward, vjp={"x": _sum_vjp}, jvp="linear", display=display, samples=REDUCE_SAMPLES,
                      torch=_torch_reduction("sum"))
                for name, display in (("sum", "SumBackward0"), ("sum_dim", "SumBackward1")))
MEAN, MEAN_DIM = (defop(name, _mean_forward, vjp={"x": _mean_vjp}, jvp="linear", display=display,
                        samples=REDUCE_SAMPLES, torch=_torch_reduction("mean"))
                  for name, display in (("mean", "MeanBackward0"), ("mean_dim", "MeanBackward1")))


def _extreme_all_vjp(g, out, x):
    # Ties share the gradient evenly, as PyTorch's max()/min() without dim do.
    hits = (x == out)
    return g * hits / hits.sum()


def _extreme_dim_vjp(g, out, x, *, dim, keepdim, pick):
    return expand_reduced(g, x.shape, (dim,), keepdim) * _first_hit(x, dim, pick)


def _first_hit(x, dim, pick):
    """A 0/1 mask with a single 1 along ``dim``: where argmax/argmin points (ties go to the first)."""
    data = x._data
    index = (np.argmax if pick == "max" else np.argmin)(data, axis=dim)
    mask = np.zeros(data.shape, dtype=bool)
    np.put_along_axis(mask, np.expand_dims(index, dim), True, axis=dim)
    return make_tensor(mask)


def _extreme_all_jvp(t, out, x):
    hits = (x == out)
    return (t * hits).sum() / hits.sum()


def _extreme_dim_jvp(t, out, x, *, dim, keepdim, pick):
    return (t * _first_hit(x, dim, pick)).sum(dim, keepdim)


MAX_ALL = defop("max", lambda xp, x: xp.max(x), vjp={"x": _extreme_all_vjp}, jvp={"x": _extreme_all_jvp},
                display="MaxBackward1", torch=lambda torch, x: torch.max(x), raw=True,
                samples=[S(arg((3, 4), distinct=True)), S(arg(value=[1.0, 3.0, 3.0, 2.0])).first_order_only()])
MIN_ALL = defop("min", lambda xp, x: xp.min(x), vjp={"x": _extreme_all_vjp}, jvp={"x": _extreme_all_jvp},
                display="MinBackward1", torch=lambda torch, x: torch.min(x), raw=True,
                samples=[S(arg((3, 4), distinct=True)), S(arg(value=[1.0, 0.5, 0.5])).first_order_only()])
MAX_DIM = defop("max_dim", lambda xp, x, *, dim, keepdim, pick: xp.max(x, axis=dim, keepdims=keepdim),
                vjp={"x": _extreme_dim_vjp}, jvp={"x": _extreme_dim_jvp}, display="MaxBackward0", torch=lambda torch, x, *, dim, keepdim, pick: torch.max(x, dim=dim, keepdim=keepdim).values,
                samples=[S(*s.inputs, **s.params, pick="max") for s in DIM_SAMPLES])
MIN_DIM = defop("min_dim", lambda xp, x, *, dim, keepdim, pick: xp.min(x, axis=dim, keepdims=keepdim),
                vjp={"x": _extreme_dim_vjp}, jvp={"x": _extreme_dim_jvp}, display="MinBackward0", torch=lambda torch, x, *, dim, keepdim, pick: torch.min(x, dim=dim, keepdim=keepdim).values,
                samples=[S(*s.inputs, **s.params, pick="min") for s in DIM_SAMPLES])


def _sum_to_forward(xp, x, *, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    return xp.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


SUM_TO = defop("sum_to", _sum_to_forward, vjp={"x": lambda g, out, x, *, shape: g.expand(x.shape)},
               jvp="linear", display="SumToBackward0", torch=lambda torch, x, *, shape: x.sum_to_size(shape),
               samples=[S((2, 3, 4), shape=(3, 1)), S((3, 4), shape=(4,)), S((3, 4), shape=(3, 4)), S((5,), shape=())])


# ------------------------------------------------------------------------------ the functions users call
def _dims(op, x, dim):
    if dim is None:
        return None
    dims = normalize_dim(op, dim, x._data.ndim)
    return dims if isinstance(dims, tuple) else (dims,)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to("int64")
    dims = _dims("sum", input, dim)
    return apply(SUM if dims is None else SUM_DIM, input, dim=dims, keepdim=keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise DTypeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got "
                         f"{input.dtype}; call .float() first or pass dtype=chainrule.float32")
    dims = _dims("mean", input, dim)
    return apply(MEAN if dims is None else MEAN_DIM, input, dim=dims, keepdim=keepdim)


ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__module__ = "chainrule"


def _extreme(pick, whole, along, input, dim, keepdim):
    if isinstance(dim, Tensor):
        raise TypeError(f"{pick}(input, other) (the elementwise form) is not supported yet; use "
                        f"{'maximum' if pick == 'max' else 'minimum'} or where()")
    if input._data.size == 0:
        raise ShapeError(f"{pick}(): Expected reduction dim to be specified for input.numel() == 0 "
                         f"(input has shape {shape_str(input.shape)})")
    if dim is None:
        return apply(whole, input)
    d = normalize_dim(pick, dim, input._data.ndim)
    values = apply(along, input, dim=d, keepdim=keepdim, pick=pick)
    from ._nondiff import argmax, argmin
    indices = (argmax if pick == "max" else argmin)(input, d, keepdim)
    return ValuesIndices(values, indices)


def max(input, dim=None, keepdim=False):
    """max(x): the largest element; max(x, dim): (values, indices) along dim."""
    return _extreme("max", MAX_ALL, MAX_DIM, input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    """min(x): the smallest element; min(x, dim): (values, indices) along dim."""
    return _extreme("min", MIN_ALL, MIN_DIM, input, dim, keepdim)


def sum_to_array(array, shape):
    """sum_to on a raw array (the engine's raw-mode backward)."""
    return _sum_to_forward(np, array, shape=shape)


def sum_to(input, shape):
    """Sum ``input`` down to ``shape`` (the inverse of broadcasting ``shape`` up to input's shape)."""
    return apply(SUM_TO, input, shape=tuple(shape))
