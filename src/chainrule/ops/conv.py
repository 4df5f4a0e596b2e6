"""Convolution: conv1d/conv2d/conv_transpose1d/conv_transpose2d through im2col (strided views plus one matrix
multiply), and unfold/fold (im2col/col2im). Public through chainrule.nn.functional. Pooling is in pooling.py,
interpolate and pixel_shuffle in resample.py; their shared helpers in _conv_utils.py.

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
  offset (kh * kw vectorised adds), never np.add.at. Besides x and w, the backward keeps x's im2col only when
  it is small (_KEEP_COLS_BYTES).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._errors import ShapeError, shape_str
from .._tensor import make_tensor
from ..autograd.grad_mode import is_grad_enabled
from ._conv_utils import (_batched, _buffer_size, _check_float, _check_tensor, _fit, _fit_pad, _from4d,
                          _non_negative, _offset_slice, _padded, _pool_size, _positive, _spatial, _to4d, _tuple,
                          _unbatch)
from ._registry import defop, apply, S

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]
FUNCTIONAL = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]
TENSOR_METHODS = []


# --------------------------------------------------------------------------------------- im2col helpers
def _windows(buffer, kernel, stride, dilation, out_size):
    """A read-only (N, C, kh, kw, Ho, Wo) strided view of every window of ``buffer`` (no copy)."""
    N, C = buffer.shape[:2]
    sN, sC, sH, sW = buffer.strides
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_size
    return as_strided(buffer, (N, C, kh, kw, Ho, Wo), (sN, sC, sH * dh, sW * dw, sH * sh, sW * sw), writeable=False)


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
# Three im2col layouts, chosen by shape alone (_layout), so that a kept im2col and the weight's gradient agree:
# - per sample, channels first, (N, G, Cg * kh * kw, Ho * Wo): one product per sample and group, w (Cog, K) @
#   cols, whose result is already (N, Co, Ho, Wo): no reordering of the weight or of the output, and the weight's
#   gradient is g (Cog, Ho * Wo) @ cols.T summed over the batch. Best with many positions per image (ResNet's
#   first layer, 32x32 images), where each sample's product is large enough on its own;
# - position-major, channels last, (G, N * Ho * Wo, kh * kw * Cg): copies move runs of Cg channels and the
#   product (positions x K) @ (K x Co) suits BLAS when the batch has many positions but each image few;
# - weight-major, channels first, (G, Cg * kh * kw, N * Ho * Wo): the weight is used as stored, w (Co, K) @ cols,
#   with no reordering copy; best when the weight outweighs the windows (deep layers, small batches: reordering
#   a 512x512x3x3 weight costs more than the product) or when the channels are too few for channels-last copies.
_PER_SAMPLE_POSITIONS = 512  # Ho * Wo from which one product per sample beats one product over the batch


def _weight_major(N, Cg, Co, size):
    return N * size[0] * size[1] < Co or Cg < 8


def _layout(N, Cg, Co, size):
    if size[0] * size[1] >= _PER_SAMPLE_POSITIONS:
        return "per-sample"
    return "weight-major" if _weight_major(N, Cg, Co, size) else "channels-last"


def _per_sample_cols(xp, x, kernel, stride, padding, dilation, size, groups):
    """im2col per sample: x (N, C, H, W) -> (N, groups, C / groups * kh * kw, Ho * Wo), one copy of the window
    view (a view, no copy, for a 1x1 kernel at stride 1 without padding)."""
    N, C = x.shape[:2]
    view = _im2col(xp, x, kernel, stride, padding, dilation, size)
    return view.reshape(N, groups, C // groups * kernel[0] * kernel[1], size[0] * size[1])


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


def _channels_first_cols(xp, x, kernel, stride, padding, dilation, size, groups):
    """im2col in weight-major order: x (N, C, H, W) -> (groups, C / groups * kh * kw, N * Ho * Wo), rows in the
    order of the weight's (Cg, kh, kw) dims."""
    N, C = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, size
    buffer = _padded(xp, x, padding, _buffer_size(x.shape[2:], size, kernel, stride, dilation, padding))
    sN, sC, sH, sW = buffer.strides
    view = as_strided(buffer, (C, kh, kw, N, Ho, Wo), (sC, sH * dh, sW * dw, sN, sH * sh, sW * sw), writeable=False)
    return view.reshape(groups, C // groups * kh * kw, N * Ho * Wo)


_MAKE_COLS = {"per-sample": _per_sample_cols, "channels-last": _channels_last_cols,
              "weight-major": _channels_first_cols}


def _im2col_rows(xp, x, kernel, stride, padding, dilation, size, groups, Co):
    """x's im2col in the layout _layout picks for this convolution (Co output channels)."""
    make = _MAKE_COLS[_layout(x.shape[0], x.shape[1] // groups, Co, size)]
    return make(xp, x, kernel, stride, padding, dilation, size, groups)


def _weight_matrix(w, groups):
    """(Co, Cg, kh, kw) -> (groups, kh * kw * Cg, Co / groups), rows in the order of _channels_last_cols: a
    transposed view of a (groups, Co / groups, kh * kw * Cg) copy (that reorder is cheap, BLAS takes the transpose)."""
    Co, Cg, kh, kw = w.shape
    rows = w.reshape(groups, Co // groups, Cg, kh, kw).transpose(0, 1, 3, 4, 2).copy()
    return rows.reshape(groups, Co // groups, kh * kw * Cg).transpose(0, 2, 1)


def _grouped_rows(g, groups):
    """g (N, Co, Ho, Wo) -> (groups, Co / groups, N * Ho * Wo) (a copy unless N = 1)."""
    N, Co, Ho, Wo = g.shape
    return g.reshape(N, Co, Ho * Wo).transpose(1, 0, 2).reshape(groups, Co // groups, N * Ho * Wo)


def _conv_arrays(xp, x, w, *, stride, padding, dilation, groups, size, cols=None):
    """conv2d on 4-D arrays: one im2col copy (unless ``cols`` has it already) and one matrix multiply (per group,
    and per sample in the per-sample layout, in one np.matmul call)."""
    N, C = x.shape[:2]
    Co = w.shape[0]
    layout = _layout(N, C // groups, Co, size)
    if cols is None:
        cols = _MAKE_COLS[layout](xp, x, w.shape[2:], stride, padding, dilation, size, groups)
    if layout == "per-sample":  # (G, Cog, K) @ (N, G, K, P) -> (N, G, Cog, P), already (N, Co, Ho, Wo)
        return xp.matmul(w.reshape(groups, Co // groups, -1), cols).reshape(N, Co, *size)
    if layout == "weight-major":
        out = xp.matmul(w.reshape(groups, Co // groups, -1), cols)  # (groups, Co / groups, N * Ho * Wo)
        return xp.ascontiguousarray(out.reshape(Co, N, *size).transpose(1, 0, 2, 3))
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


def _conv_transpose_weight_major(xp, g, w, *, stride, padding, dilation, groups, size):
    """_conv_transpose_arrays in the weight-major layout: w (Co, K) transposed times g's rows, then col2im with
    one strided add per kernel offset into a channels-first buffer."""
    N, Co, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    cols = xp.matmul(w.reshape(groups, Co // groups, -1).transpose(0, 2, 1), _grouped_rows(g, groups))
    cols = cols.reshape(groups * Cg, kh, kw, N, Ho, Wo)
    H, W = size
    Hb, Wb = _buffer_size(size, (Ho, Wo), (kh, kw), stride, dilation, padding)
    buffer = xp.zeros((groups * Cg, N, Hb, Wb), dtype=g.dtype)
    (sh, sw), (dh, dw), (pt, pl) = stride, dilation, padding
    for i in range(kh):
        for j in range(kw):
            buffer[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += cols[:, i, j]
    return xp.ascontiguousarray(buffer[:, :, pt:pt + H, pl:pl + W].transpose(1, 0, 2, 3))


def _conv_transpose_per_sample(xp, g, w, *, stride, padding, dilation, groups, size):
    """_conv_transpose_arrays in the per-sample layout: w (K, Cog) times each sample's g (Cog, Ho * Wo), then
    col2im (one strided add per kernel offset) straight into (N, C, H, W)."""
    N, Co, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    w_t = w.reshape(groups, Co // groups, Cg * kh * kw).transpose(0, 2, 1)
    cols = xp.matmul(w_t, g.reshape(N, groups, Co // groups, Ho * Wo))  # (N, G, K, P)
    return _col2im(xp, cols.reshape(N, groups * Cg, kh, kw, Ho, Wo), size, stride, padding, dilation)


def _conv_transpose_arrays(xp, g, w, *, stride, padding, dilation, groups, size):
    """The adjoint of _conv_arrays in x: g (N, Co, Ho, Wo) -> (N, C, H, W)."""
    N, Co, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    reach = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
    if stride == (1, 1) and padding[0] <= reach[0] and padding[1] <= reach[1] \
            and _layout(N, Cg, Co, (Ho, Wo)) != "weight-major":
        # Stride 1: the adjoint is itself a convolution, of g padded by reach - padding with the flipped kernel,
        # its in/out channels swapped within each group (a GEMM instead of a GEMM plus col2im).
        flipped = w.reshape(groups, Co // groups, Cg, kh, kw).transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1]
        return _conv_arrays(xp, g, flipped.reshape(groups * Cg, Co // groups, kh, kw), stride=stride,
                            padding=(reach[0] - padding[0], reach[1] - padding[1]), dilation=dilation, groups=groups,
                            size=size)
    layout = _layout(N, Cg, Co, (Ho, Wo))
    if layout == "per-sample":
        return _conv_transpose_per_sample(xp, g, w, stride=stride, padding=padding, dilation=dilation,
                                          groups=groups, size=size)
    if layout == "weight-major":
        return _conv_transpose_weight_major(xp, g, w, stride=stride, padding=padding, dilation=dilation,
                                            groups=groups, size=size)
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
    layout = _layout(N, Cg, Co, (Ho, Wo))
    if cols is None:
        cols = _MAKE_COLS[layout](xp, x, kernel, stride, padding, dilation, (Ho, Wo), groups)
    # (Writing the product straight into a new weight-shaped array, for the engine to adopt as .grad, was slower
    # than its copy: the GEMM then writes into fresh pages.)
    if layout == "per-sample":  # cols (N, G, Cg * kh * kw, P): one product per sample, summed over the batch
        per_sample = xp.matmul(g.reshape(N, groups, Cog, Ho * Wo), cols.transpose(0, 1, 3, 2))
        w = per_sample.sum(axis=0).reshape(Co, Cg, kh, kw)
    elif layout == "weight-major":  # cols (G, Cg * kh * kw, N * Ho * Wo)
        w = xp.matmul(_grouped_rows(g, groups), cols.transpose(0, 2, 1)).reshape(Co, Cg, kh, kw)
    else:  # cols (G, N * Ho * Wo, kh * kw * Cg)
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
                      S((2, 2, 7), (3, 2, 3), (3,), None, **_CONV_PARAMS[2], size=(1, 4)),
                      # >= 8 channels per group and more positions than output channels: channels-last im2col
                      S((1, 16, 3, 3), (4, 8, 2, 2), (4,), None, **{**_CONV_PARAMS[0], "groups": 2, "padding": (0, 1)},
                        size=(2, 4)),
                      # >= _PER_SAMPLE_POSITIONS positions per image: per-sample im2col (strided: col2im in the
                      # input's gradient)
                      S((1, 2, 24, 24), (2, 1, 3, 3), (2,), None, **{**_CONV_PARAMS[0], "groups": 2}, size=(24, 24)),
                      S((1, 1, 47, 46), (2, 1, 3, 2), None, None, **{**_CONV_PARAMS[0], "stride": (2, 2)},
                        size=(24, 24))])
CONV_TRANSPOSE = defop(
    "conv_transpose", _conv_transpose_forward,
    vjp={"g": _conv_t_vjp_g, "w": _conv_t_vjp_w, "b": lambda gg, out, g, w, b, **p: _channel_sum(gg)},
    jvp={"g": lambda t, out, g, w, b, **p: _conv_t(t, w, None, p, p["size"]),
         "w": lambda t, out, g, w, b, **p: _conv_t(g, t, None, p, p["size"]),
         "b": lambda t, out, g, w, b, **p: _bias_tangent(t, out)},
    display="ConvolutionBackward0", torch=_torch_conv_transpose,
    samples=[S((2, 4, 3, 3), (4, 1, 3, 3), (1,), **{**_CONV_PARAMS[0], "stride": (2, 2)}, size=(5, 6)),
             S((1, 4, 4, 3), (4, 1, 2, 3), None, **_CONV_PARAMS[1], size=(9, 5)),
             S((2, 3, 4), (3, 2, 3), None, **_CONV_PARAMS[2], size=(1, 8)),
             S((1, 2, 3, 3), (2, 8, 2, 2), None, **{**_CONV_PARAMS[0], "padding": (0, 0)}, size=(4, 4)),
             S((1, 2, 3, 3), (2, 8, 2, 2), (8,), **{**_CONV_PARAMS[0], "stride": (2, 2), "padding": (0, 1)},
               size=(6, 5)),
             S((1, 2, 24, 24), (2, 1, 3, 3), None, **{**_CONV_PARAMS[0], "stride": (2, 2), "groups": 2},
               size=(47, 48))])
CONV_WEIGHT = defop(
    "conv_weight", _conv_weight_forward, vjp={"x": _conv_w_vjp_x, "g": _conv_w_vjp_g},
    jvp={"x": lambda t, out, x, g, cols, **p: _conv_w(t, g, p, p["kernel"]),
         "g": lambda t, out, x, g, cols, **p: _conv_w(x, t, p, p["kernel"], cols)},
    display="ConvolutionBackwardBackward0", torch=_torch_conv_weight,
    samples=[S((2, 3, 5, 5), (2, 4, 5, 5), None, **_CONV_PARAMS[0], kernel=(3, 3)),
             S((1, 4, 6, 5), (1, 4, 3, 3), None, **_CONV_PARAMS[1], kernel=(2, 3)),
             S((2, 2, 7), (2, 3, 4), None, **_CONV_PARAMS[2], kernel=(1, 3)),
             S((1, 16, 3, 3), (1, 4, 2, 4), None, **{**_CONV_PARAMS[0], "groups": 2, "padding": (0, 1)},
               kernel=(2, 2)),
             S((1, 2, 24, 24), (1, 2, 24, 24), None, **{**_CONV_PARAMS[0], "groups": 2}, kernel=(3, 3))])


# ----------------------------------------------------------------------------------- conv functions
# The forward keeps x's im2col for the weight's gradient only up to this size: a 3x3 im2col is 9 times x, and
# keeping all of them made ResNet-18 at batch 16 take twice PyTorch's memory (which keeps only x and w); small
# ones (deep layers, small batches) are kept, as their copies cost the most time per byte (short rows).
_KEEP_COLS_BYTES = 4 << 20


def _checked_operands(op, dims, input, weight, bias, weight_layout):
    """The checks conv and conv_transpose share: tensors, float dtypes, the weight's rank. Returns the
    input with a batch dim and whether it had none."""
    input, unbatched = _batched(op, input, dims)
    _check_tensor(op, "weight", weight)
    if bias is not None:
        _check_tensor(op, "bias", bias)
    _check_float(op, input, weight, bias)
    if weight._data.ndim != dims + 2:
        raise ShapeError(f"{op}(): weight must be {dims + 2}D ({weight_layout}, kernel...), got shape "
                         f"{shape_str(weight.shape)}")
    return input, unbatched


def _convnd(op, dims, input, weight, bias, stride, padding, dilation, groups):
    input, unbatched = _checked_operands(op, dims, input, weight, bias, "out_channels, in_channels / groups")
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
    K = C // groups * int(np.prod(kernel))
    if weight.requires_grad and is_grad_enabled() and \
            input.shape[0] * int(np.prod(size)) * K * input._data.itemsize <= _KEEP_COLS_BYTES:
        cols = make_tensor(_im2col_rows(np, _to4d(input._data), _fit(kernel, dims), params["stride"], params["padding"],
                                        params["dilation"], params["size"], groups, Co))
    out = apply(CONV, input, weight, bias, cols, **params)
    return _unbatch(out, unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L); padding int, tuple, 'valid' or 'same'."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W); padding int, tuple, 'valid' or 'same'."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    input, unbatched = _checked_operands(op, dims, input, weight, bias, "in_channels, out_channels / groups")
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
