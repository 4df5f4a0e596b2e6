"""Creating tensors: zeros, ones, full, empty, arange, linspace, eye, random tensors, *_like, manual_seed.
Floating results are float32 unless a dtype is given, as in PyTorch."""
import numpy as np

from . import _dtype
from ._tensor import Tensor, make_tensor
from .ops._shape_utils import as_shape

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed chainrule's random generator (rand, randn, randint, dropout, init…)."""
    global _rng
    _rng = np.random.default_rng(int(seed))
    return _rng


def default_generator():
    return _rng


def _finish(array, dtype, requires_grad, default=_dtype.float32):
    array = array.astype(_dtype.to_numpy_dtype(dtype if dtype is not None else default), copy=False)
    out = make_tensor(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _check_sizes(op, shape):
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_check_sizes("zeros", as_shape("zeros", size))), dtype, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_check_sizes("ones", as_shape("ones", size))), dtype, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    # Allocate in the target dtype: casting uninitialised float64 memory to float32 can warn about overflow.
    target = _dtype.to_numpy_dtype(dtype if dtype is not None else _dtype.float32)
    return _finish(np.empty(_check_sizes("empty", as_shape("empty", size)), dtype=target), dtype, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    default = _dtype.from_numpy_dtype(np.asarray(fill_value).dtype) if not isinstance(fill_value, float) else None
    if default is _dtype.float64:
        default = None
    shape = _check_sizes("full", as_shape("full", (size,)))
    return _finish(np.full(shape, fill_value), dtype, requires_grad, default or _dtype.float32)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    integral = all(isinstance(v, (int, np.integer)) for v in values)
    return _finish(np.arange(*values), dtype, requires_grad, _dtype.int64 if integral else _dtype.float32)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, int(steps)), dtype, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    return _finish(base ** np.linspace(start, end, int(steps)), dtype, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m), dtype, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _finish((generator or _rng).random(as_shape("rand", size)), dtype, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _finish((generator or _rng).standard_normal(as_shape("randn", size)), dtype, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), as PyTorch allows
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing the 'size' argument (a tuple), e.g. randint(0, 10, (3,))")
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    return _finish((generator or _rng).integers(low, high, as_shape("randint", (size,))), dtype, requires_grad,
                   _dtype.int64)


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    return _finish((generator or _rng).permutation(n), dtype, requires_grad, _dtype.int64)


def _like(fill):
    def like(input, *, dtype=None, device=None, requires_grad=False):
        dtype = dtype if dtype is not None else input.dtype
        return fill(*input.shape, dtype=dtype, requires_grad=requires_grad)

    like.__name__ = fill.__name__ + "_like"
    like.__doc__ = f"{fill.__name__}() with the shape (and, unless given, the dtype) of ``input``."
    return like


zeros_like, ones_like, empty_like, rand_like, randn_like = (_like(f) for f in (zeros, ones, empty, rand, randn))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype if dtype is not None else input.dtype, requires_grad=requires_grad)


def randint_like(input, low, high=None, *, dtype=None, device=None, requires_grad=False):
    return randint(low, high, input.shape, dtype=dtype if dtype is not None else input.dtype, requires_grad=requires_grad)
