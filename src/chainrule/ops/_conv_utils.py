"""Private helpers shared by ops/conv.py, ops/pooling.py and ops/resample.py: the (N, C, H, W) array helpers
(1-D ops are 2-D ops with height 1; padded buffers and the strided slice each kernel offset reads), PyTorch's
pooling output size, and the argument checks of the public functions."""
import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor


# ------------------------------------------------------------------------------------- array helpers
def _to4d(a):
    """(N, C, L) -> (N, C, 1, L): 1-D ops are 2-D ops with height 1."""
    return a[:, :, None, :] if a.ndim == 3 else a


def _from4d(a, ndim):
    return a[:, :, 0, :] if ndim == 3 else a


def _spatial(shape):
    """The (height, width) of an (N, C, H, W) or (N, C, L) shape."""
    return tuple(shape[2:]) if len(shape) == 4 else (1, shape[-1])


def _buffer_size(in_size, out_size, kernel, stride, dilation, pad):
    """How large the padded input must be: it holds the input at offset ``pad`` and every window."""
    return tuple(max(i + p, (o - 1) * s + d * (k - 1) + 1)
                 for i, o, k, s, d, p in zip(in_size, out_size, kernel, stride, dilation, pad))


def _padded(xp, x, pad, size, fill=0):
    """x (N, C, H, W) at offset ``pad`` = (top, left) in an (N, C, *size) buffer filled with ``fill``."""
    N, C, H, W = x.shape
    (pt, pl), (Hb, Wb) = pad, size
    if pt == 0 and pl == 0 and Hb == H and Wb == W:
        return x
    buffer = xp.full((N, C, Hb, Wb), fill, dtype=x.dtype)
    buffer[:, :, pt:pt + H, pl:pl + W] = x
    return buffer


def _offset_slice(i, j, stride, dilation, out_size):
    """The strided slice of the padded buffer that kernel offset (i, j) reads for every output position."""
    (sh, sw), (dh, dw), (Ho, Wo) = stride, dilation, out_size
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw))


# ------------------------------------------------------------------------------- pooling output size
def _pool_size(in_size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size; with ceil_mode the last window must start inside the input or the left
    padding."""
    sizes = []
    for i, k, s, p, d in zip(in_size, kernel, stride, padding, dilation):
        numerator = i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
        o = numerator // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        sizes.append(o)
    return tuple(sizes)


# ------------------------------------------------------------------------------------ argument checks
def _tuple(op, name, value, n):
    """An int or a sequence of n (or 1) ints, as an n-tuple: PyTorch's _pair/_single."""
    if isinstance(value, (tuple, list)):
        values = tuple(value)
    else:
        values = (value,)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values) or len(values) not in (1, n):
        raise TypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {value!r}")
    values = tuple(int(v) for v in values)
    return values * n if len(values) == 1 else values


def _positive(op, name, values):
    if any(v <= 0 for v in values):
        raise ShapeError(f"{op}(): non-positive {name} is not supported (got {name}={values}); use values >= 1")


def _non_negative(op, name, values):
    if any(v < 0 for v in values):
        raise ShapeError(f"{op}(): negative {name} is not supported (got {name}={values})")


def _check_tensor(op, name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(value).__name__}")


def _check_float(op, *tensors):
    dtypes = [t._data.dtype for t in tensors if t is not None]
    if any(d.kind != "f" for d in dtypes):
        raise DTypeError(f"{op}(): expected floating-point tensors, got dtype(s) "
                         f"{', '.join(str(t.dtype) for t in tensors if t is not None)}; convert with .float()")
    if len(set(dtypes)) > 1:
        raise DTypeError(f"{op}(): input, weight and bias must have the same dtype, got "
                         f"{', '.join(str(t.dtype) for t in tensors if t is not None)}; convert with .to(input.dtype)")


def _batched(op, input, dims):
    """Check that input has ``dims`` spatial dims with or without a batch dim; return it batched and whether
    a batch dim was added (unbatched inputs, as PyTorch allows)."""
    _check_tensor(op, "input", input)
    ndim = input._data.ndim
    if ndim == dims + 2:
        return input, False
    if ndim == dims + 1:
        return input.unsqueeze(0), True
    raise ShapeError(f"{op}(): Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input, but got input of "
                     f"size: {shape_str(input.shape)}")


def _unbatch(out, squeeze):
    return out.squeeze(0) if squeeze else out


def _fit(values, dims):
    """n-tuples (n = 1 or 2 spatial dims) as the (height, width) pairs the ops take."""
    return values if dims == 2 else (1,) + values


def _fit_pad(values, dims):
    return values if dims == 2 else (0,) + values
