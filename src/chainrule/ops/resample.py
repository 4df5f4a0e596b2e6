"""Resampling: interpolate (modes 'nearest', 'nearest-exact', 'linear', 'bilinear', 'area') and
pixel_shuffle/pixel_unshuffle. Public through chainrule.nn.functional.

'nearest' is a gather with precomputed indices (``upsample_nearest``; its backward sums runs of equal indices);
the linear modes are products with small interpolation matrices, 'area' is adaptive_avg_pool (pooling.py), and
pixel_shuffle/pixel_unshuffle are reshapes and permutes.
"""
import math

import numpy as np

from .._errors import ShapeError, shape_str
from .._tensor import make_tensor
from ._conv_utils import _check_float, _check_tensor, _positive
from ._registry import defop, apply, S
from .pooling import _adaptive_avg_poolnd, _separable

__all__ = ["pixel_shuffle", "pixel_unshuffle"]
FUNCTIONAL = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]
TENSOR_METHODS = []


# ------------------------------------------------------------------------------------- interpolation
def _nearest_forward(xp, x, *, indices):
    if x.ndim == 3:
        return x[:, :, indices[0]]
    return x[:, :, indices[0][:, None], indices[1][None, :]]


def _sum_runs(xp, g, index, n, axis):
    """The adjoint of taking ``index`` (non-decreasing) along ``axis``: add each run of equal indices
    (np.add.reduceat) and place the sums; positions nobody took get zero."""
    positions, starts = np.unique(index, return_index=True)
    sums = xp.add.reduceat(g, starts, axis=axis)
    if len(positions) == n:
        return sums
    shape = list(g.shape)
    shape[axis] = n
    out = xp.zeros(shape, dtype=g.dtype)
    out[(slice(None),) * axis + (positions,)] = sums
    return out


def _nearest_backward_forward(xp, g, *, indices, in_size):
    for axis, (index, n) in enumerate(zip(indices, in_size)):
        g = _sum_runs(xp, g, index, n, 2 + axis)
    return g


def _torch_nearest(torch, x, *, indices):
    i = [torch.from_numpy(a) for a in indices]
    return x[:, :, i[0]] if x.ndim == 3 else x[:, :, i[0][:, None], i[1][None, :]]


def _torch_nearest_backward(torch, g, *, indices, in_size):
    x = torch.zeros(g.shape[:2] + tuple(in_size), dtype=g.dtype, requires_grad=True)
    return torch.autograd.grad(_torch_nearest(torch, x, indices=indices), x, g, create_graph=True)[0]


NEAREST = defop(
    "upsample_nearest", _nearest_forward,
    vjp={"x": lambda g, out, x, *, indices: apply(NEAREST_BACKWARD, g, indices=indices, in_size=tuple(x.shape[2:]))},
    jvp="linear", display="UpsampleNearest2DBackward0", torch=_torch_nearest,
    samples=[S((2, 2, 3, 4), indices=(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 3]))),
             S((1, 3, 4), indices=(np.array([0, 0, 1, 1, 2, 2, 3, 3]),))])
NEAREST_BACKWARD = defop(
    "upsample_nearest_backward", _nearest_backward_forward,
    vjp={"g": lambda gg, out, g, *, indices, in_size: apply(NEAREST, gg, indices=indices)},
    jvp="linear", display="UpsampleNearest2DBackwardBackward0", torch=_torch_nearest_backward,
    samples=[S((2, 2, 5, 3), indices=(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 3])), in_size=(3, 4)),
             S((1, 3, 8), indices=(np.array([0, 0, 1, 1, 2, 2, 3, 3]),), in_size=(4,))])


def _scale(n_in, n_out, scale, align_corners, dtype):
    """PyTorch's source-index scale (area_pixel_compute_scale), in the input's precision."""
    if align_corners:
        return dtype((n_in - 1) / (n_out - 1)) if n_out > 1 else dtype(0)
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(n_in) / dtype(n_out)


def _nearest_index(n_in, n_out, scale, exact, keep_equal):
    """PyTorch's source index along one axis, computed as it does, in float32: floor(dst * scale) ('nearest') or
    floor((dst + 0.5) * scale) ('nearest-exact'), where scale is 1 / scale_factor when one was given. PyTorch's 2-D
    'nearest' copies an axis whose size does not change (its 1-D kernel and 'nearest-exact' do not)."""
    if keep_equal and n_out == n_in:
        return np.arange(n_out)
    s = _scale(n_in, n_out, scale, False, np.float32)
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        dst = dst + np.float32(0.5)
    return np.minimum(np.floor(dst * s).astype(np.int64), n_in - 1)


def _linear_matrix(n_in, n_out, scale, align_corners, dtype):
    """(n_out, n_in) weights of PyTorch's (bi)linear interpolation along one axis."""
    s = _scale(n_in, n_out, scale, align_corners, dtype.type)
    dst = np.arange(n_out, dtype=dtype)
    src = s * dst if align_corners else np.maximum(s * (dst + dtype.type(0.5)) - dtype.type(0.5), 0)
    i0 = src.astype(np.int64)
    l1 = np.clip(src - i0, 0, 1).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    j = np.arange(n_in)
    matrix = (j == i0[:, None]) * (1 - l1)[:, None] + (j == i1[:, None]) * l1[:, None]
    return make_tensor(matrix.astype(dtype))


_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 1, "bilinear": 2, "area": 1}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize (N, C, L) or (N, C, H, W): modes 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D),
    'area'; size or scale_factor, align_corners for the linear modes, as PyTorch."""
    op = "interpolate"
    _check_tensor(op, "input", input)
    ndim = input._data.ndim
    if mode not in _MODES:
        raise NotImplementedError(f"{op}(): mode {mode!r} is not supported; chainrule has 'nearest', 'nearest-exact', "
                                  "'linear', 'bilinear' and 'area'")
    if ndim not in (3, 4):
        raise ShapeError(f"{op}(): expected a 3D (N, C, L) or 4D (N, C, H, W) input, got shape {shape_str(input.shape)}")
    if mode == "linear" and ndim != 3 or mode == "bilinear" and ndim != 4:
        raise NotImplementedError(f"{op}(): Got {ndim}D input, but {mode} mode needs {3 if mode == 'linear' else 4}D "
                                  "input")
    if antialias:
        raise NotImplementedError(f"{op}(): antialias=True is not supported")
    linear = mode in ("linear", "bilinear")
    if align_corners is not None and not linear:
        raise ValueError(f"{op}(): align_corners option can only be set with the interpolating modes: linear | "
                         f"bilinear | bicubic | trilinear (mode is {mode!r})")
    _check_float(op, input)
    dims = ndim - 2
    in_size = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}(): {'only one' if size is not None else 'either'} of size or scale_factor should be "
                         "defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(sizes) != dims:
            raise ValueError(f"{op}(): Input and output must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(in_size)} and output size of {list(sizes)}")
        sizes = tuple(int(s) for s in sizes)
        scales = (None,) * dims
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
        if len(scales) != dims:
            raise ValueError(f"{op}(): Input and scale_factor must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(in_size)} and scale_factor of {list(scales)}")
        scales = tuple(float(s) for s in scales)
        sizes = tuple(int(math.floor(i * s)) for i, s in zip(in_size, scales))
        if recompute_scale_factor:
            scales = (None,) * dims
    _positive(op, "output size", sizes)
    if mode == "area":
        return _adaptive_avg_poolnd(op, dims, input, sizes)
    if mode.startswith("nearest"):
        exact = mode == "nearest-exact"
        indices = tuple(_nearest_index(i, o, s, exact, dims == 2 and not exact) for i, o, s in zip(in_size, sizes, scales))
        return apply(NEAREST, input, indices=indices)
    dtype = input._data.dtype
    # PyTorch copies an axis whose size does not change, whatever the scale factor says
    mats = [None if o == i else _linear_matrix(i, o, s, bool(align_corners), dtype)
            for i, o, s in zip(in_size, sizes, scales)]
    out = _separable(input, mats[0], mats[1]) if dims == 2 else _separable(input, None, mats[0])
    return input * 1 if out is input else out


# -------------------------------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input, upscale_factor):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r): rearranges channels into space (sub-pixel convolution)."""
    _check_tensor("pixel_shuffle", "input", input)
    r = upscale_factor
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ShapeError(f"pixel_shuffle(): expects input to have at least 3 dimensions, but got input with shape "
                         f"{shape_str(shape)}")
    if not isinstance(r, (int, np.integer)) or r <= 0:
        raise ShapeError(f"pixel_shuffle(): upscale_factor must be a positive int, got {r!r}")
    *lead, C, H, W = shape
    if C % (r * r):
        raise ShapeError(f"pixel_shuffle(): expects its input's 'channel' dimension to be divisible by the square of "
                         f"upscale_factor, but input.size(-3)={C} is not divisible by {r * r}")
    n = len(lead)
    out = input.reshape(*lead, C // (r * r), r, r, H, W)
    out = out.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return out.reshape(*lead, C // (r * r), H * r, W * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W): the inverse of pixel_shuffle."""
    _check_tensor("pixel_unshuffle", "input", input)
    r = downscale_factor
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ShapeError(f"pixel_unshuffle(): expects input to have at least 3 dimensions, but got input with shape "
                         f"{shape_str(shape)}")
    if not isinstance(r, (int, np.integer)) or r <= 0:
        raise ShapeError(f"pixel_unshuffle(): downscale_factor must be a positive int, got {r!r}")
    *lead, C, H, W = shape
    if H % r or W % r:
        raise ShapeError(f"pixel_unshuffle(): expects height and width to be divisible by downscale_factor={r}, but "
                         f"input has shape {shape_str(shape)}")
    n = len(lead)
    out = input.reshape(*lead, C, H // r, r, W // r, r)
    out = out.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return out.reshape(*lead, C * r * r, H // r, W // r)
