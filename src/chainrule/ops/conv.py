"""Convolution and pooling: conv1d/conv2d/conv_transpose1d/conv_transpose2d through im2col (strided views plus
one matrix multiply), max/avg/adaptive pooling, unfold/fold, interpolate, pixel_shuffle. Public through
chainrule.nn.functional.

How the pieces fit:
- Every op works on (N, C, H, W) arrays; a 1-D op is the 2-D one with H = 1 (its forward inserts and removes
  that axis), so conv1d and conv2d share one declaration. Parameters are always pairs (height, width).
- A convolution y = conv(x, w) is bilinear. Its three primitives close under differentiation:
  ``conv`` (x, w -> y), ``conv_transpose`` (y-shaped g, w -> x-shaped; the adjoint in x, which is also
  conv_transpose2d) and ``conv_weight`` (x, y-shaped g -> w-shaped; the adjoint in w). Each one's VJP and
  JVP rules are the other two, so derivatives of any order work.
- Padding is given as the (top, left) offsets plus the size of the other side: the right/bottom padding is
  implied, which covers symmetric padding, ``padding='same'`` with an even kernel, ceil_mode and
  output_padding alike.
- Forward: im2col through a strided view, one np.matmul. Backward (col2im): one strided add per kernel
  offset (kh * kw vectorised adds), never np.add.at.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ..autograd.grad_mode import is_grad_enabled
from ._registry import defop, apply, S, arg

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle"]
FUNCTIONAL = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
              "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
              "adaptive_max_pool2d", "interpolate", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle"]
TENSOR_METHODS = []


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


def _windows(buffer, kernel, stride, dilation, out_size):
    """A read-only (N, C, kh, kw, Ho, Wo) strided view of every window of ``buffer`` (no copy)."""
    N, C = buffer.shape[:2]
    sN, sC, sH, sW = buffer.strides
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_size
    return as_strided(buffer, (N, C, kh, kw, Ho, Wo), (sN, sC, sH * dh, sW * dw, sH * sh, sW * sw), writeable=False)


def _offset_slice(i, j, stride, dilation, out_size):
    """The strided slice of the padded buffer that kernel offset (i, j) reads for every output position."""
    (sh, sw), (dh, dw), (Ho, Wo) = stride, dilation, out_size
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw))


def _im2col(xp, x, kernel, stride, padding, dilation, out_size, fill=0):
    """The window view of x (N, C, H, W) padded by ``padding`` = (top, left): (N, C, kh, kw, Ho, Wo)."""
    buffer = _padded(xp, x, padding, _buffer_size(x.shape[2:], out_size, kernel, stride, dilation, padding), fill)
    return _windows(buffer, kernel, stride, dilation, out_size)


def _col2im(xp, cols, in_size, stride, padding, dilation):
    """The adjoint of _im2col: cols (N, C, kh, kw, Ho, Wo) added back to (N, C, H, W), one strided add per
    kernel offset."""
    N, C, kh, kw, Ho, Wo = cols.shape
    Hb, Wb = _buffer_size(in_size, (Ho, Wo), (kh, kw), stride, dilation, padding)
    buffer = xp.zeros((N, C, Hb, Wb), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            buffer[_offset_slice(i, j, stride, dilation, (Ho, Wo))] += cols[:, :, i, j]
    (pt, pl), (H, W) = padding, in_size
    if (pt, pl) == (0, 0) and (Hb, Wb) == (H, W):
        return buffer
    return xp.ascontiguousarray(buffer[:, :, pt:pt + H, pl:pl + W])


# ---------------------------------------------------------------------------------------- convolution
def _channels_last_cols(xp, x, kernel, stride, padding, dilation, size, groups):
    """im2col in channels-last order: x (N, C, H, W) -> (groups, N * Ho * Wo, kh * kw * C / groups).
    x is copied once into a zero-padded (N, Hb, Wb, C) buffer, whose windows are then copied once into rows
    (copies with the channels innermost are fast, and so is the matrix multiply on these rows)."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo), (pt, pl) = kernel, stride, dilation, size, padding
    Hb, Wb = _buffer_size((H, W), size, kernel, stride, dilation, padding)
    buffer = xp.zeros((N, Hb, Wb, C), dtype=x.dtype)
    buffer[:, pt:pt + H, pl:pl + W, :] = x.transpose(0, 2, 3, 1)
    Cg = C // groups
    sN, sH, sW, sC = buffer.strides
    view = as_strided(buffer, (groups, N, Ho, Wo, kh, kw, Cg), (Cg * sC, sN, sH * sh, sW * sw, sH * dh, sW * dw, sC),
                      writeable=False)
    return view.reshape(groups, N * Ho * Wo, kh * kw * Cg)


def _weight_matrix(w, groups):
    """(Co, Cg, kh, kw) -> (groups, kh * kw * Cg, Co / groups), rows in the order of _channels_last_cols."""
    Co, Cg, kh, kw = w.shape
    return w.reshape(groups, Co // groups, Cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * Cg, Co // groups)


def _conv_arrays(xp, x, w, *, stride, padding, dilation, groups, size, cols=None):
    """conv2d on 4-D arrays: one im2col copy (unless ``cols`` has it already) and one matrix multiply (per group,
    in one np.matmul call)."""
    N = x.shape[0]
    Co = w.shape[0]
    if cols is None:
        cols = _channels_last_cols(xp, x, w.shape[2:], stride, padding, dilation, size, groups)
    out = xp.matmul(cols, _weight_matrix(w, groups))  # (groups, N * Ho * Wo, Co / groups)
    out = out.reshape(groups, N, size[0], size[1], Co // groups).transpose(1, 0, 4, 2, 3)
    return xp.ascontiguousarray(out).reshape(N, Co, *size)


def _conv_forward(xp, x, w, b, cols, *, stride, padding, dilation, groups, size):
    ndim = x.ndim
    out = _conv_arrays(xp, _to4d(x), _to4d(w), stride=stride, padding=padding, dilation=dilation, groups=groups,
                       size=size, cols=cols)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return _from4d(out, ndim)


def _conv_transpose_arrays(xp, g, w, *, stride, padding, dilation, groups, size):
    """The adjoint of _conv_arrays in x: g (N, Co, Ho, Wo) -> (N, C, H, W)."""
    N, Co, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    reach = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
    if stride == (1, 1) and padding[0] <= reach[0] and padding[1] <= reach[1]:
        # Stride 1: the adjoint is itself a convolution, of g padded by reach - padding with the flipped kernel,
        # its in/out channels swapped within each group (a GEMM instead of a GEMM plus col2im).
        flipped = w.reshape(groups, Co // groups, Cg, kh, kw).transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1]
        return _conv_arrays(xp, g, flipped.reshape(groups * Cg, Co // groups, kh, kw), stride=stride,
                            padding=(reach[0] - padding[0], reach[1] - padding[1]), dilation=dilation, groups=groups,
                            size=size)
    rows = g.reshape(N, groups, Co // groups, Ho * Wo).transpose(1, 0, 3, 2).reshape(groups, N * Ho * Wo, Co // groups)
    cols = xp.matmul(rows, _weight_matrix(w, groups).transpose(0, 2, 1))  # (groups, N * Ho * Wo, kh * kw * Cg)
    cols = cols.reshape(groups, N, Ho, Wo, kh, kw, Cg)
    H, W = size
    Hb, Wb = _buffer_size(size, (Ho, Wo), (kh, kw), stride, dilation, padding)
    buffer = xp.zeros((N, Hb, Wb, groups, Cg), dtype=g.dtype)
    (sh, sw), (dh, dw), (pt, pl) = stride, dilation, padding
    for i in range(kh):  # col2im: one strided add per kernel offset
        for j in range(kw):
            buffer[:, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += \
                cols[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
    out = buffer[:, pt:pt + H, pl:pl + W].reshape(N, H, W, groups * Cg).transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(out)


def _conv_transpose_forward(xp, g, w, b, *, stride, padding, dilation, groups, size):
    ndim = g.ndim
    out = _conv_transpose_arrays(xp, _to4d(g), _to4d(w), stride=stride, padding=padding, dilation=dilation,
                                 groups=groups, size=size)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return _from4d(out, ndim)


def _conv_weight_forward(xp, x, g, cols, *, stride, padding, dilation, groups, kernel):
    ndim = x.ndim
    x, g = _to4d(x), _to4d(g)
    N, C = x.shape[:2]
    Co, Ho, Wo = g.shape[1:]
    (kh, kw), Cg, Cog = kernel, C // groups, Co // groups
    if cols is None:  # (G, N * Ho * Wo, kh * kw * Cg)
        cols = _channels_last_cols(xp, x, kernel, stride, padding, dilation, (Ho, Wo), groups)
    rows = g.reshape(N, groups, Cog, Ho * Wo).transpose(1, 2, 0, 3).reshape(groups, Cog, N * Ho * Wo)
    w = xp.matmul(rows, cols)  # one GEMM per group over batch and positions: (G, Cog, kh * kw * Cg)
    w = w.reshape(groups, Cog, kh, kw, Cg).transpose(0, 1, 4, 2, 3).reshape(Co, Cg, kh, kw)
    return w[:, :, 0, :] if ndim == 3 else w


def _conv_params(p):
    return dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"], groups=p["groups"])


def _channel_sum(g):
    return g.sum((0, 2, 3)) if g.ndim == 4 else g.sum((0, 2))


def _bias_tangent(t, out):
    return t.reshape((1, -1, 1, 1) if out.ndim == 4 else (1, -1, 1)).expand(out.shape)


def _conv(x, w, b, p, size, cols=None):
    return apply(CONV, x, w, b, cols, **_conv_params(p), size=size)


def _conv_t(g, w, b, p, size):
    return apply(CONV_TRANSPOSE, g, w, b, **_conv_params(p), size=size)


def _conv_w(x, g, p, kernel, cols=None):
    return apply(CONV_WEIGHT, x, g, cols, **_conv_params(p), kernel=kernel)


def _kernel(w):
    return _spatial(w.shape)


# y = conv(x, w) + b.  dL/dx = conv_transpose(g, w), dL/dw = conv_weight(x, g), dL/db = sum of g per channel.
# ``cols`` (not differentiable) is x's im2col when the forward was asked to keep it for the weight's gradient
# (conv2d does when the weight requires grad), or None: then conv_weight builds it again.
def _conv_vjp_x(g, out, x, w, b, cols, **p):
    return _conv_t(g, w, None, p, _spatial(x.shape))


def _conv_vjp_w(g, out, x, w, b, cols, **p):
    return _conv_w(x, g, p, _kernel(w), cols)


# x' = conv_transpose(g, w) + b (the adjoint of conv in x): d/dg = conv(gg, w), d/dw = conv_weight(gg, g).
def _conv_t_vjp_g(gg, out, g, w, b, **p):
    return _conv(gg, w, None, p, _spatial(g.shape))


def _conv_t_vjp_w(gg, out, g, w, b, **p):
    return _conv_w(gg, g, p, _kernel(w))


# w' = conv_weight(x, g) (the adjoint of conv in w): d/dx = conv_transpose(g, gg), d/dg = conv(x, gg).
def _conv_w_vjp_x(gg, out, x, g, cols, **p):
    return _conv_t(g, gg, None, p, _spatial(x.shape))


def _conv_w_vjp_g(gg, out, x, g, cols, **p):
    return _conv(x, gg, None, p, _spatial(g.shape), cols)


def _torch_conv(torch, x, w, b, cols=None, *, stride, padding, dilation, groups, size):
    F = torch.nn.functional
    if x.ndim == 3:
        return F.conv1d(x, w, b, stride[1], padding[1], dilation[1], groups)
    return F.conv2d(x, w, b, stride, padding, dilation, groups)


def _torch_conv_transpose(torch, g, w, b, *, stride, padding, dilation, groups, size):
    F = torch.nn.functional
    in_size = _spatial(g.shape)
    kernel = _spatial(w.shape)
    extra = tuple(o - ((i - 1) * s - 2 * p + d * (k - 1) + 1)
                  for o, i, s, p, d, k in zip(size, in_size, stride, padding, dilation, kernel))
    if g.ndim == 3:
        return F.conv_transpose1d(g, w, b, stride[1], padding[1], extra[1], groups, dilation[1])
    return F.conv_transpose2d(g, w, b, stride, padding, extra, groups, dilation)


def _torch_conv_weight(torch, x, g, cols, *, stride, padding, dilation, groups, kernel):
    shape = (g.shape[1], x.shape[1] // groups) + (kernel if x.ndim == 4 else kernel[1:])
    w = torch.zeros(shape, dtype=x.dtype, requires_grad=True)
    out = _torch_conv(torch, x, w, None, stride=stride, padding=padding, dilation=dilation, groups=groups, size=None)
    return torch.autograd.grad(out, w, g, create_graph=True)[0]


_CONV_PARAMS = [dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1),
                dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2),
                dict(stride=(1, 2), padding=(0, 1), dilation=(1, 1), groups=1)]

CONV = defop("conv", _conv_forward, vjp={"x": _conv_vjp_x, "w": _conv_vjp_w, "b": lambda g, out, x, w, b, cols, **p: _channel_sum(g)},
             jvp={"x": lambda t, out, x, w, b, cols, **p: _conv(t, w, None, p, p["size"]),
                  "w": lambda t, out, x, w, b, cols, **p: _conv(x, t, None, p, p["size"], cols),
                  "b": lambda t, out, x, w, b, cols, **p: _bias_tangent(t, out)},
             display="ConvolutionBackward0", torch=_torch_conv,
             samples=[S((2, 3, 5, 5), (4, 3, 3, 3), (4,), None, **_CONV_PARAMS[0], size=(5, 5)),
                      S((1, 4, 6, 5), (4, 2, 2, 3), None, None, **_CONV_PARAMS[1], size=(3, 3)),
                      S((2, 2, 7), (3, 2, 3), (3,), None, **_CONV_PARAMS[2], size=(1, 4))])
CONV_TRANSPOSE = defop(
    "conv_transpose", _conv_transpose_forward,
    vjp={"g": _conv_t_vjp_g, "w": _conv_t_vjp_w, "b": lambda gg, out, g, w, b, **p: _channel_sum(gg)},
    jvp={"g": lambda t, out, g, w, b, **p: _conv_t(t, w, None, p, p["size"]),
         "w": lambda t, out, g, w, b, **p: _conv_t(g, t, None, p, p["size"]),
         "b": lambda t, out, g, w, b, **p: _bias_tangent(t, out)},
    display="ConvolutionBackward0", torch=_torch_conv_transpose,
    samples=[S((2, 4, 3, 3), (4, 1, 3, 3), (1,), **{**_CONV_PARAMS[0], "stride": (2, 2)}, size=(5, 6)),
             S((1, 4, 4, 3), (4, 1, 2, 3), None, **_CONV_PARAMS[1], size=(9, 5)),
             S((2, 3, 4), (3, 2, 3), None, **_CONV_PARAMS[2], size=(1, 8))])
CONV_WEIGHT = defop(
    "conv_weight", _conv_weight_forward, vjp={"x": _conv_w_vjp_x, "g": _conv_w_vjp_g},
    jvp={"x": lambda t, out, x, g, cols, **p: _conv_w(t, g, p, p["kernel"]),
         "g": lambda t, out, x, g, cols, **p: _conv_w(x, t, p, p["kernel"], cols)},
    display="ConvolutionBackwardBackward0", torch=_torch_conv_weight,
    samples=[S((2, 3, 5, 5), (2, 4, 5, 5), None, **_CONV_PARAMS[0], kernel=(3, 3)),
             S((1, 4, 6, 5), (1, 4, 3, 3), None, **_CONV_PARAMS[1], kernel=(2, 3)),
             S((2, 2, 7), (2, 3, 4), None, **_CONV_PARAMS[2], kernel=(1, 3))])


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


# ----------------------------------------------------------------------------------- conv functions
def _convnd(op, dims, input, weight, bias, stride, padding, dilation, groups):
    input, unbatched = _batched(op, input, dims)
    _check_tensor(op, "weight", weight)
    if bias is not None:
        _check_tensor(op, "bias", bias)
    _check_float(op, input, weight, bias)
    if weight._data.ndim != dims + 2:
        raise ShapeError(f"{op}(): weight must be {dims + 2}D (out_channels, in_channels / groups, kernel...), got "
                         f"shape {shape_str(weight.shape)}")
    stride, dilation = _tuple(op, "stride", stride, dims), _tuple(op, "dilation", dilation, dims)
    _positive(op, "stride", stride)
    _positive(op, "dilation", dilation)
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ShapeError(f"{op}(): non-positive groups is not supported (got groups={groups!r})")
    groups = int(groups)
    C, Co, Cg = input.shape[1], weight.shape[0], weight.shape[1]
    if Co % groups:
        raise ShapeError(f"{op}(): Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                         f"but got weight of size {shape_str(weight.shape)} instead")
    if C != Cg * groups:
        raise ShapeError(f"{op}(): Given groups={groups}, weight of size {shape_str(weight.shape)}, expected "
                         f"input{shape_str(input.shape)} to have {Cg * groups} channels, but got {C} channels instead")
    if bias is not None and tuple(bias.shape) != (Co,):
        raise ShapeError(f"{op}(): bias must have shape [{Co}] (one value per output channel), got "
                         f"{shape_str(bias.shape)}")
    in_size, kernel = tuple(input.shape[2:]), tuple(weight.shape[2:])
    reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if isinstance(padding, str):
        if padding == "valid":
            before = after = (0,) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(f"{op}(): padding='same' is not supported for strided convolutions (stride={stride})")
            total = tuple(r - 1 for r in reach)
            before = tuple(t // 2 for t in total)
            after = tuple(t - b for t, b in zip(total, before))
        else:
            raise ValueError(f"{op}(): Invalid padding string {padding!r}, should be one of ['valid', 'same'] "
                             "or an int / tuple of ints")
    else:
        before = after = _tuple(op, "padding", padding, dims)
        _non_negative(op, "padding", before)
    padded = tuple(i + b + a for i, b, a in zip(in_size, before, after))
    if any(p < r for p, r in zip(padded, reach)):
        raise ShapeError(f"{op}(): Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                         f"size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than actual input size")
    size = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    params = dict(stride=_fit(stride, dims), padding=_fit_pad(before, dims), dilation=_fit(dilation, dims),
                  groups=groups, size=_fit(size, dims))
    cols = None
    if weight.requires_grad and is_grad_enabled():  # keep x's im2col for the weight's gradient (as THNN did)
        cols = make_tensor(_channels_last_cols(np, _to4d(input._data), _fit(kernel, dims), params["stride"],
                                               params["padding"], params["dilation"], params["size"], groups))
    out = apply(CONV, input, weight, bias, cols, **params)
    return _unbatch(out, unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L); padding int, tuple, 'valid' or 'same'."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W); padding int, tuple, 'valid' or 'same'."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    input, unbatched = _batched(op, input, dims)
    _check_tensor(op, "weight", weight)
    if bias is not None:
        _check_tensor(op, "bias", bias)
    _check_float(op, input, weight, bias)
    if weight._data.ndim != dims + 2:
        raise ShapeError(f"{op}(): weight must be {dims + 2}D (in_channels, out_channels / groups, kernel...), got "
                         f"shape {shape_str(weight.shape)}")
    if isinstance(padding, str):
        raise ValueError(f"{op}(): padding must be an int or a tuple of ints, not {padding!r} ('same'/'valid' are "
                         "only for convolutions)")
    stride, padding = _tuple(op, "stride", stride, dims), _tuple(op, "padding", padding, dims)
    output_padding, dilation = _tuple(op, "output_padding", output_padding, dims), _tuple(op, "dilation", dilation, dims)
    _positive(op, "stride", stride)
    _positive(op, "dilation", dilation)
    _non_negative(op, "padding", padding)
    _non_negative(op, "output_padding", output_padding)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(f"{op}(): output padding must be smaller than either stride or dilation, but got "
                         f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ShapeError(f"{op}(): non-positive groups is not supported (got groups={groups!r})")
    groups = int(groups)
    C = input.shape[1]
    if weight.shape[0] != C:
        raise ShapeError(f"{op}(): weight of size {shape_str(weight.shape)} expects input with {weight.shape[0]} "
                         f"channels (its dim 0), but got input{shape_str(input.shape)} with {C} channels")
    if C % groups:
        raise ShapeError(f"{op}(): Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                         f"but got weight of size {shape_str(weight.shape)} instead")
    Co = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (Co,):
        raise ShapeError(f"{op}(): bias must have shape [{Co}] (one value per output channel), got "
                         f"{shape_str(bias.shape)}")
    kernel = tuple(weight.shape[2:])
    size = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                 for i, s, p, d, k, o in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(s <= 0 for s in size):
        raise ShapeError(f"{op}(): the output size {size} is too small (input {shape_str(input.shape)}, kernel "
                         f"{kernel}, stride {stride}, padding {padding}); use less padding")
    out = apply(CONV_TRANSPOSE, input, weight, bias, stride=_fit(stride, dims), padding=_fit_pad(padding, dims),
                dilation=_fit(dilation, dims), groups=groups, size=_fit(size, dims))
    return _unbatch(out, unbatched)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input); weight (C_in, C_out/groups, k)."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input); weight
    (C_in, C_out/groups, kh, kw)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


# ---------------------------------------------------------------------------------------- pooling
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


def _first_inside(n_out, stride, pad, dilation, n_in):
    """For each output position: the first input position of its window that is not padding."""
    start = np.arange(n_out) * stride - pad
    skip = np.where(start < 0, (-start + dilation - 1) // dilation, 0)
    return np.clip(start + skip * dilation, 0, n_in - 1)


def _running_argmax(xp, candidates, first, shape, dtype, check_nan):
    """PyTorch's max-pool scan: start at the first valid position with -inf, take a value when it is larger
    (or NaN). ``candidates`` yields (values, flat input positions) per kernel offset."""
    best = xp.full(shape, -np.inf, dtype=dtype)
    index = xp.array(xp.broadcast_to(first, shape), dtype=np.int64)
    for values, positions in candidates:
        take = values > best
        if check_nan:
            take |= xp.isnan(values)
        xp.copyto(best, values, where=take)
        xp.copyto(index, xp.broadcast_to(positions, shape), where=take)
    return index


def _max_pool_index(xp, x, *, kernel_size, stride, padding, dilation, ceil_mode):
    """The flat (H * W) input position of each window's maximum: (N, C, Ho, Wo), or (N, C, Lo) for 1-D."""
    ndim = x.ndim
    x = _to4d(x)
    N, C, H, W = x.shape
    size = _pool_size((H, W), kernel_size, stride, padding, dilation, ceil_mode)
    buffer = _padded(xp, x, padding, _buffer_size((H, W), size, kernel_size, stride, dilation, padding), -np.inf)
    rows0 = _first_inside(size[0], stride[0], padding[0], dilation[0], H)
    cols0 = _first_inside(size[1], stride[1], padding[1], dilation[1], W)
    out_rows = np.arange(size[0]) * stride[0] - padding[0]
    out_cols = np.arange(size[1]) * stride[1] - padding[1]

    def candidates():
        for i in range(kernel_size[0]):
            for j in range(kernel_size[1]):
                rows, cols = out_rows + i * dilation[0], out_cols + j * dilation[1]
                yield buffer[_offset_slice(i, j, stride, dilation, size)], rows[:, None] * W + cols[None, :]

    index = _running_argmax(xp, candidates(), rows0[:, None] * W + cols0[None, :], (N, C) + size, x.dtype,
                            bool(xp.isnan(x).any()))
    return index[:, :, 0, :] if ndim == 3 else index


def _adaptive_bounds(n_in, n_out):
    i = np.arange(n_out)
    return (i * n_in) // n_out, ((i + 1) * n_in + n_out - 1) // n_out


def _adaptive_max_index(xp, x, *, output_size):
    ndim = x.ndim
    x = _to4d(x)
    N, C, H, W = x.shape
    (h0, h1), (w0, w1) = _adaptive_bounds(H, output_size[0]), _adaptive_bounds(W, output_size[1])

    def candidates():
        for a in range(int((h1 - h0).max())):
            rows = np.minimum(h0 + a, h1 - 1)  # shorter windows repeat their last row: the max is unchanged
            band = x[:, :, rows]
            for b in range(int((w1 - w0).max())):
                cols = np.minimum(w0 + b, w1 - 1)
                yield band[:, :, :, cols], rows[:, None] * W + cols[None, :]

    index = _running_argmax(xp, candidates(), h0[:, None] * W + w0[None, :], (N, C) + tuple(output_size), x.dtype,
                            bool(xp.isnan(x).any()))
    return index[:, :, 0, :] if ndim == 3 else index


def _gather_forward(xp, x, *, index):
    N, C = x.shape[:2]
    flat = xp.take_along_axis(x.reshape(N, C, -1), index.reshape(N, C, -1), axis=2)
    return flat.reshape(index.shape)


def _scatter_forward(xp, g, *, index, size):
    """Add g (N, C, *out) into zeros of ``size`` at the flat positions ``index``: np.bincount over (n, c, position),
    vectorised, repeated positions (overlapping windows) add up."""
    N, C = size[:2]
    plane = int(np.prod(size[2:]))
    offsets = (np.arange(N * C, dtype=np.int64) * plane).reshape((N, C) + (1,) * (index.ndim - 2))
    out = xp.bincount((index + offsets).ravel(), weights=g.ravel(), minlength=N * C * plane)
    return out.astype(g.dtype, copy=False).reshape(size)


def _index(x, index, finder, params):
    """The max positions: those the public function computed, or (for the registry's samples) found now."""
    return index if index is not None else finder(np, x._data, **params)


def _max_pool_forward(xp, x, *, kernel_size, stride, padding, dilation, ceil_mode, index):
    if index is None:
        index = _max_pool_index(xp, x, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                                ceil_mode=ceil_mode)
    return _gather_forward(xp, x, index=index)


def _max_pool_positions(x, kernel_size, stride, padding, dilation, ceil_mode, index):
    return _index(x, index, _max_pool_index, dict(kernel_size=kernel_size, stride=stride, padding=padding,
                                                  dilation=dilation, ceil_mode=ceil_mode))


def _adaptive_max_forward(xp, x, *, output_size, index):
    if index is None:
        index = _adaptive_max_index(xp, x, output_size=output_size)
    return _gather_forward(xp, x, index=index)


def pool_gather(x, index):
    return apply(POOL_GATHER, x, index=index)


def pool_scatter(g, index, size):
    return apply(POOL_SCATTER, g, index=index, size=tuple(size))


def _torch_max_pool(torch, x, *, kernel_size, stride, padding, dilation, ceil_mode, index):
    F = torch.nn.functional
    if x.ndim == 3:
        return F.max_pool1d(x, kernel_size[1], stride[1], padding[1], dilation[1], ceil_mode)
    return F.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


def _torch_adaptive_max(torch, x, *, output_size, index):
    F = torch.nn.functional
    return F.adaptive_max_pool1d(x, output_size[1]) if x.ndim == 3 else F.adaptive_max_pool2d(x, output_size)


def _torch_gather(torch, x, *, index):
    i = torch.from_numpy(index)
    return torch.gather(x.flatten(2), 2, i.flatten(2)).reshape(i.shape)


def _torch_scatter(torch, g, *, index, size):
    i = torch.from_numpy(index)
    return torch.zeros(size, dtype=g.dtype).flatten(2).scatter_add(2, i.flatten(2), g.flatten(2)).reshape(size)


def _pool(kernel, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)


MAX_POOL = defop(
    "max_pool2d", _max_pool_forward,
    vjp={"x": lambda g, out, x, *, index, **p: pool_scatter(g, _max_pool_positions(x, index=index, **p), x.shape)},
    jvp={"x": lambda t, out, x, *, index, **p: pool_gather(t, _max_pool_positions(x, index=index, **p))},
    display="MaxPool2DWithIndicesBackward0", torch=_torch_max_pool,
    samples=[S(arg((2, 2, 4, 5), distinct=True), **_pool((2, 2), (2, 2)), index=None),
             S(arg((1, 2, 5, 5), distinct=True), **_pool((3, 2), (2, 1), (1, 1), (1, 2), True), index=None),
             S(arg((2, 3, 7), distinct=True), **_pool((1, 3), (1, 2), (0, 1), ceil_mode=True), index=None)])
ADAPTIVE_MAX_POOL = defop(
    "adaptive_max_pool2d", _adaptive_max_forward,
    vjp={"x": lambda g, out, x, *, output_size, index: pool_scatter(
        g, _index(x, index, _adaptive_max_index, dict(output_size=output_size)), x.shape)},
    jvp={"x": lambda t, out, x, *, output_size, index: pool_gather(
        t, _index(x, index, _adaptive_max_index, dict(output_size=output_size)))},
    display="AdaptiveMaxPool2DBackward0", torch=_torch_adaptive_max,
    samples=[S(arg((2, 2, 5, 7), distinct=True), output_size=(3, 4), index=None),
             S(arg((1, 3, 6), distinct=True), output_size=(1, 4), index=None)])
_RNG = np.random.default_rng(0)
POOL_GATHER = defop(
    "pool_gather", _gather_forward,
    vjp={"x": lambda g, out, x, *, index: pool_scatter(g, index, x.shape)}, jvp="linear",
    display="GatherBackward0", torch=_torch_gather,
    samples=[S((2, 3, 4, 4), index=_RNG.integers(0, 16, (2, 3, 2, 3))), S((1, 2, 5), index=_RNG.integers(0, 5, (1, 2, 7)))])
POOL_SCATTER = defop(
    "pool_scatter", _scatter_forward,
    vjp={"g": lambda gg, out, g, *, index, size: pool_gather(gg, index)}, jvp="linear",
    display="MaxPool2DWithIndicesBackwardBackward0", torch=_torch_scatter,
    samples=[S((2, 3, 2, 3), index=_RNG.integers(0, 16, (2, 3, 2, 3)), size=(2, 3, 4, 4)),
             S((1, 2, 7), index=_RNG.integers(0, 5, (1, 2, 7)), size=(1, 2, 5))])


# avg pooling: a linear map (windows summed, divided per output position) and its adjoint.
def _avg_divisor(in_size, out_size, kernel, stride, padding, count_include_pad, divisor_override):
    """PyTorch's divisor per output position: (Ho, Wo), or a number with divisor_override."""
    if divisor_override:
        return divisor_override
    counts = []
    for i, o, k, s, p in zip(in_size, out_size, kernel, stride, padding):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, i + p)
        whole = end - start
        inside = np.minimum(end, i) - np.maximum(start, 0)
        counts.append(whole if count_include_pad else inside)
    return np.multiply.outer(counts[0], counts[1])


def _avg_geometry(in_size, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    size = _pool_size(in_size, kernel_size, stride, padding, (1, 1), ceil_mode)
    divisor = _avg_divisor(in_size, size, kernel_size, stride, padding, count_include_pad, divisor_override)
    return size, divisor


def _avg_pool_forward(xp, x, *, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    ndim = x.ndim
    x = _to4d(x)
    size, divisor = _avg_geometry(x.shape[2:], kernel_size, stride, padding, ceil_mode, count_include_pad,
                                  divisor_override)
    buffer = _padded(xp, x, padding, _buffer_size(x.shape[2:], size, kernel_size, stride, (1, 1), padding))
    total = xp.zeros(x.shape[:2] + size, dtype=x.dtype)
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            total += buffer[_offset_slice(i, j, stride, (1, 1), size)]
    total /= xp.asarray(divisor, dtype=x.dtype)
    return _from4d(total, ndim)


def _avg_pool_backward_forward(xp, g, *, kernel_size, stride, padding, ceil_mode, count_include_pad,
                               divisor_override, in_size):
    ndim = g.ndim
    g = _to4d(g)
    size, divisor = _avg_geometry(in_size, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    share = g / xp.asarray(divisor, dtype=g.dtype)
    N, C = g.shape[:2]
    Hb, Wb = _buffer_size(in_size, size, kernel_size, stride, (1, 1), padding)
    buffer = xp.zeros((N, C, Hb, Wb), dtype=g.dtype)
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            buffer[_offset_slice(i, j, stride, (1, 1), size)] += share
    (pt, pl), (H, W) = padding, in_size
    return _from4d(xp.ascontiguousarray(buffer[:, :, pt:pt + H, pl:pl + W]), ndim)


def _torch_avg_pool(torch, x, *, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    F = torch.nn.functional
    if x.ndim == 3:
        return F.avg_pool1d(x, kernel_size[1], stride[1], padding[1], ceil_mode, count_include_pad)
    return F.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _torch_avg_pool_backward(torch, g, *, in_size, **p):
    x = torch.zeros(g.shape[:2] + (in_size if g.ndim == 4 else in_size[1:]), dtype=g.dtype, requires_grad=True)
    return torch.autograd.grad(_torch_avg_pool(torch, x, **p), x, g, create_graph=True)[0]


def _avg(kernel, stride, padding=(0, 0), ceil_mode=False, count_include_pad=True, divisor_override=None):
    return dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, divisor_override=divisor_override)


AVG_POOL = defop(
    "avg_pool2d", _avg_pool_forward,
    vjp={"x": lambda g, out, x, **p: apply(AVG_POOL_BACKWARD, g, **p, in_size=_spatial(x.shape))}, jvp="linear",
    display="AvgPool2DBackward0", torch=_torch_avg_pool,
    samples=[S((2, 2, 4, 5), **_avg((2, 2), (2, 2))),
             S((1, 2, 5, 6), **_avg((3, 2), (2, 1), (1, 1), True, False)),
             S((1, 2, 5, 5), **_avg((3, 3), (2, 2), (1, 1), True, True, 5)),
             S((2, 3, 7), **_avg((1, 3), (1, 2), (0, 1), True, True))])
AVG_POOL_BACKWARD = defop(
    "avg_pool2d_backward", _avg_pool_backward_forward,
    vjp={"g": lambda gg, out, g, *, in_size, **p: apply(AVG_POOL, gg, **p)}, jvp="linear",
    display="AvgPool2DBackwardBackward0", torch=_torch_avg_pool_backward,
    samples=[S((2, 2, 2, 2), **_avg((2, 2), (2, 2)), in_size=(4, 5)),
             S((1, 2, 3, 7), **_avg((3, 2), (2, 1), (1, 1), True, False), in_size=(5, 6)),
             S((2, 3, 4), **_avg((1, 3), (1, 2), (0, 1), True, True), in_size=(1, 7))])


def _pool_args(op, dims, input, kernel_size, stride, padding, dilation):
    kernel = _tuple(op, "kernel_size", kernel_size, dims)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        _tuple(op, "stride", stride, dims)
    padding, dilation = _tuple(op, "padding", padding, dims), _tuple(op, "dilation", dilation, dims)
    _positive(op, "kernel_size", kernel)
    _positive(op, "stride", stride)
    _positive(op, "dilation", dilation)
    _non_negative(op, "padding", padding)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}(): pad should be at most half of effective kernel size, but got padding={padding} "
                         f"and kernel_size={kernel}")
    return kernel, stride, padding, dilation


def _check_pool_size(op, input, size):
    if any(s <= 0 for s in size):
        raise ShapeError(f"{op}(): Given input size {shape_str(input.shape)}, calculated output size "
                         f"{shape_str(input.shape[:-len(size)] + size)} is too small; use a smaller kernel or padding")


def _max_poolnd(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    input, unbatched = _batched(op, input, dims)
    _check_float(op, input)
    kernel, stride, padding, dilation = _pool_args(op, dims, input, kernel_size, stride, padding, dilation)
    size = _pool_size(input.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    _check_pool_size(op, input, size)
    params = _pool(_fit(kernel, dims), _fit(stride, dims), _fit_pad(padding, dims), _fit(dilation, dims), bool(ceil_mode))
    index = _max_pool_index(np, input._data, **params)
    out = _unbatch(apply(MAX_POOL, input, **params, index=index), unbatched)
    if return_indices:
        return out, _unbatch(make_tensor(index), unbatched)
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, L) or (C, L); return_indices gives the positions (for max_unpool)."""
    return _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of (N, C, H, W) or (C, H, W); indices are flat positions in H * W."""
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_poolnd(op, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    input, unbatched = _batched(op, input, dims)
    _check_float(op, input)
    kernel, stride, padding, _ = _pool_args(op, dims, input, kernel_size, stride, padding, 1)
    size = _pool_size(input.shape[2:], kernel, stride, padding, (1,) * dims, ceil_mode)
    _check_pool_size(op, input, size)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override <= 0):
        raise ShapeError(f"{op}(): divisor must be a positive int, got divisor_override={divisor_override!r}")
    out = apply(AVG_POOL, input, **_avg(_fit(kernel, dims), _fit(stride, dims), _fit_pad(padding, dims),
                                        bool(ceil_mode), bool(count_include_pad), divisor_override))
    return _unbatch(out, unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of (N, C, L) or (C, L)."""
    return _avg_poolnd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) or (C, H, W)."""
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


# ------------------------------------------------------------------------------------ adaptive pooling
def _output_size(op, dims, input, output_size):
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(sizes) == 1:
        sizes = sizes * dims
    if len(sizes) != dims:
        raise TypeError(f"{op}(): output_size must be an int or a tuple of {dims} ints, got {output_size!r}")
    in_size = input.shape[2:]
    sizes = tuple(i if s is None else s for s, i in zip(sizes, in_size))
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        raise TypeError(f"{op}(): output_size must be ints (or None to keep a size), got {output_size!r}")
    _positive(op, "output_size", sizes)
    if any(i == 0 for i in in_size):
        raise ShapeError(f"{op}(): input {shape_str(input.shape)} has an empty spatial dim")
    return tuple(int(s) for s in sizes)


def _adaptive_matrix(n_in, n_out, dtype):
    """(n_out, n_in): row o averages the input positions of window o (PyTorch's floor/ceil windows)."""
    start, end = _adaptive_bounds(n_in, n_out)
    j = np.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return make_tensor((inside / (end - start)[:, None]).astype(dtype))


def _separable(input, rows, cols):
    """rows (Ho, H) @ input (…, H, W) @ cols.T (W, Wo): a composite of matmuls, differentiable to any order.
    None skips a side (identity)."""
    out = input
    if rows is not None:
        out = rows @ out
    if cols is not None:
        out = out @ cols.transpose(0, 1)
    return out


def _adaptive_avg_poolnd(op, dims, input, output_size):
    input, unbatched = _batched(op, input, dims)
    _check_float(op, input)
    sizes = _output_size(op, dims, input, output_size)
    dtype = input._data.dtype
    mats = [None if o == i else _adaptive_matrix(i, o, dtype) for i, o in zip(input.shape[2:], sizes)]
    out = _separable(input, mats[0], mats[1]) if dims == 2 else _separable(input, None, mats[0])
    if out is input:
        out = input * 1  # a new tensor, as PyTorch returns
    return _unbatch(out, unbatched)


def adaptive_avg_pool1d(input, output_size):
    """Mean over output_size windows covering (N, C, L) or (C, L)."""
    return _adaptive_avg_poolnd("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over windows covering (N, C, H, W) or (C, H, W) so the result has output_size (int, tuple; None keeps
    a size)."""
    return _adaptive_avg_poolnd("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_max_poolnd(op, dims, input, output_size, return_indices):
    input, unbatched = _batched(op, input, dims)
    _check_float(op, input)
    sizes = _fit(_output_size(op, dims, input, output_size), dims)
    index = _adaptive_max_index(np, input._data, output_size=sizes)
    out = _unbatch(apply(ADAPTIVE_MAX_POOL, input, output_size=sizes, index=index), unbatched)
    if return_indices:
        return out, _unbatch(make_tensor(index), unbatched)
    return out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over output_size windows covering (N, C, L) or (C, L)."""
    return _adaptive_max_poolnd("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over windows covering (N, C, H, W) or (C, H, W); indices are flat positions in H * W."""
    return _adaptive_max_poolnd("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---------------------------------------------------------------------------------- unfold and fold
def _unfold_forward(xp, x, *, kernel_size, dilation, padding, stride):
    N, C, H, W = x.shape
    size = _pool_size((H, W), kernel_size, stride, padding, dilation, False)
    cols = _im2col(xp, x, kernel_size, stride, padding, dilation, size)
    return cols.reshape(N, C * kernel_size[0] * kernel_size[1], size[0] * size[1])


def _fold_forward(xp, cols, *, output_size, kernel_size, dilation, padding, stride):
    N = cols.shape[0]
    size = _pool_size(output_size, kernel_size, stride, padding, dilation, False)
    cols = cols.reshape(N, -1, kernel_size[0], kernel_size[1], size[0], size[1])
    return _col2im(xp, cols, tuple(output_size), stride, padding, dilation)


UNFOLD = defop("unfold", _unfold_forward,
               vjp={"x": lambda g, out, x, **p: apply(FOLD, g, output_size=tuple(x.shape[2:]), **p)}, jvp="linear",
               display="Im2ColBackward0",
               torch=lambda torch, x, **p: torch.nn.functional.unfold(x, **p),
               samples=[S((2, 2, 4, 5), kernel_size=(2, 3), dilation=(1, 1), padding=(0, 1), stride=(1, 2)),
                        S((1, 3, 5, 5), kernel_size=(2, 2), dilation=(2, 1), padding=(1, 0), stride=(2, 2))])
FOLD = defop("fold", _fold_forward,
             vjp={"cols": lambda g, out, cols, *, output_size, **p: apply(UNFOLD, g, **p)}, jvp="linear",
             display="Col2ImBackward0",
             torch=lambda torch, cols, **p: torch.nn.functional.fold(cols, **p),
             samples=[S((2, 12, 9), output_size=(4, 5), kernel_size=(2, 3), dilation=(1, 1), padding=(0, 1), stride=(1, 2)),
                      S((1, 12, 6), output_size=(5, 5), kernel_size=(2, 2), dilation=(2, 1), padding=(1, 0), stride=(2, 2))])


def _fold_args(op, kernel_size, dilation, padding, stride):
    kernel, dilation = _tuple(op, "kernel_size", kernel_size, 2), _tuple(op, "dilation", dilation, 2)
    padding, stride = _tuple(op, "padding", padding, 2), _tuple(op, "stride", stride, 2)
    _positive(op, "kernel_size", kernel)
    _positive(op, "dilation", dilation)
    _positive(op, "stride", stride)
    _non_negative(op, "padding", padding)
    return dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: the sliding blocks of (N, C, H, W) (or (C, H, W)) as columns, (N, C * kh * kw, L)."""
    input, unbatched = _batched("unfold", input, 2)
    p = _fold_args("unfold", kernel_size, dilation, padding, stride)
    size = _pool_size(input.shape[2:], p["kernel_size"], p["stride"], p["padding"], p["dilation"], False)
    if any(s <= 0 for s in size):
        raise ShapeError(f"unfold(): input {shape_str(input.shape)} with padding {p['padding']} is smaller than the "
                         f"kernel {p['kernel_size']} (dilation {p['dilation']}): no block fits")
    return _unbatch(apply(UNFOLD, input, **p), unbatched)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: sums columns (N, C * kh * kw, L) (or unbatched) back into (N, C, *output_size); overlaps add up."""
    _check_tensor("fold", "input", input)
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise ShapeError(f"fold(): Expected 2D (unbatched) or 3D (batched) input, but got input of size "
                         f"{shape_str(input.shape)}")
    if ndim == 2:
        input = input.unsqueeze(0)
    p = _fold_args("fold", kernel_size, dilation, padding, stride)
    output_size = _tuple("fold", "output_size", output_size, 2)
    kh, kw = p["kernel_size"]
    size = _pool_size(output_size, p["kernel_size"], p["stride"], p["padding"], p["dilation"], False)
    if input.shape[1] % (kh * kw):
        raise ShapeError(f"fold(): Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                         f"but got input.size(1)={input.shape[1]} and kernel_size={p['kernel_size']}")
    if any(s <= 0 for s in size) or input.shape[2] != size[0] * size[1]:
        raise ShapeError(f"fold(): Given output_size={output_size}, kernel_size={p['kernel_size']}, dilation="
                         f"{p['dilation']}, padding={p['padding']}, stride={p['stride']}, expected size of input's "
                         f"dimension 2 to match the calculated number of sliding blocks {max(size[0], 0)} * "
                         f"{max(size[1], 0)} = {max(size[0], 0) * max(size[1], 0)}, but got input.size(2)={input.shape[2]}")
    return _unbatch(apply(FOLD, input, output_size=output_size, **p), ndim == 2)


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
