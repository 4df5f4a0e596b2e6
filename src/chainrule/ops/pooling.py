"""Pooling: max/avg pooling (1-D and 2-D, with ceil_mode, dilation, return_indices) and adaptive avg/max
pooling. Public through chainrule.nn.functional.

- Max pooling finds each window's maximum position once (PyTorch's scan order, NaN wins); its primitives gather
  at those positions and scatter back (``pool_gather``/``pool_scatter``, each other's adjoint).
- Avg pooling is a linear map (windows summed, divided per output position) and its adjoint, one strided add per
  kernel offset.
- Adaptive avg pooling is a composite: products with small averaging matrices (also used by
  ``interpolate(mode='area')`` in resample.py).
"""
import numpy as np

from .._errors import ShapeError, shape_str
from .._tensor import make_tensor
from ._conv_utils import (_batched, _buffer_size, _check_float, _fit, _fit_pad, _from4d, _non_negative,
                          _offset_slice, _padded, _pool_size, _positive, _spatial, _to4d, _tuple, _unbatch)
from ._registry import defop, apply, S, arg

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d"]
FUNCTIONAL = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
              "adaptive_max_pool1d", "adaptive_max_pool2d"]
TENSOR_METHODS = []


# ---------------------------------------------------------------------------------------- pooling
def _first_inside(n_out, stride, pad, dilation, n_in):
    """For each output position: the first input position of its window that is not padding."""
    start = np.arange(n_out) * stride - pad
    skip = np.where(start < 0, (-start + dilation - 1) // dilation, 0)
    return np.clip(start + skip * dilation, 0, n_in - 1)


def _running_argmax(xp, candidates, count, first, shape, dtype, offsets=None):
    """PyTorch's max-pool scan: start at the first valid position with -inf, take a value when it is larger
    (or NaN). ``candidates()`` yields (values, flat input positions) for each of ``count`` kernel offsets;
    ``offsets`` (optional): each candidate's positions minus the first's, when that is one number per candidate
    (fixed windows). Returns the flat input position of each window's pick, (N, C, *out)."""
    best = None  # the maxima, by branch-free passes (np.maximum propagates NaN)
    for values, _ in candidates():
        best = values.astype(dtype, copy=True) if best is None else xp.maximum(best, values, out=best)
    if xp.isnan(best).any():  # a NaN in some window (checked on the output, not the larger input)
        return _scan_with_nan(xp, candidates, count, first, shape, dtype)
    # Without NaN the scan takes the first maximum. Each candidate scores count - its number where it equals
    # the maximum; the largest score is the first maximum (branch-free passes: masked writes, np.copyto(where=),
    # cost ten times more).
    kind = np.uint8 if count < 255 else np.uint16 if count < 65535 else np.uint32
    score, term, mask = xp.zeros(shape, dtype=kind), xp.empty(shape, dtype=kind), xp.empty(shape, dtype=bool)
    found = list(candidates())
    for number, (values, _) in enumerate(found):
        xp.equal(values, best, out=mask)
        xp.maximum(score, xp.multiply(mask, kind(count - number), out=term), out=score)
    if offsets is not None:  # positions = the first candidate's + the winner's offset (one small lookup)
        by_score = np.zeros(count + 1, dtype=np.int64)
        by_score[1:] = np.asarray(offsets, dtype=np.int64)[::-1]
        index = xp.take(by_score, score)
        index += found[0][1]
    else:
        table = xp.stack([xp.broadcast_to(where, shape[2:]) for _, where in found[::-1]])
        table = xp.concatenate([table[:1], table]).reshape(count + 1, -1).astype(np.int64, copy=False)
        plane = table.shape[1]
        index = table[score.reshape(-1, plane), xp.arange(plane)].reshape(shape)
    if xp.equal(best, -np.inf, out=mask).any():  # only padding or -inf: the first valid position, as the scan
        xp.copyto(index, xp.broadcast_to(first, shape).astype(np.int64, copy=False), where=mask)
    return index


def _scan_with_nan(xp, candidates, count, first, shape, dtype):
    """The scan itself, where a NaN is taken wherever it comes. Which candidate won is kept in a small integer
    array (-1: none, keep ``first``); one lookup at the end turns that into flat positions."""
    winner = xp.full(shape, -1, dtype=np.int8 if count < 128 else np.int16 if count < 32768 else np.int32)
    positions = []
    best = xp.full(shape, -np.inf, dtype=dtype)
    for number, (values, where) in enumerate(candidates()):
        take = (values > best) | xp.isnan(values)
        xp.copyto(best, values, where=take)
        xp.copyto(winner, number, where=take)
        positions.append(xp.broadcast_to(where, shape[2:]))
    positions.append(xp.broadcast_to(first, shape[2:]))  # row -1
    table = xp.stack(positions).reshape(len(positions), -1).astype(np.int64, copy=False)
    plane = table.shape[1]
    return table[winner.reshape(-1, plane), xp.arange(plane)].reshape(shape)


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

    offsets = [i * dilation[0] * W + j * dilation[1] for i in range(kernel_size[0]) for j in range(kernel_size[1])]
    index = _running_argmax(xp, candidates, kernel_size[0] * kernel_size[1], rows0[:, None] * W + cols0[None, :],
                            (N, C) + size, x.dtype, offsets)
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

    count = int((h1 - h0).max()) * int((w1 - w0).max())
    index = _running_argmax(xp, candidates, count, h0[:, None] * W + w0[None, :], (N, C) + tuple(output_size),
                            x.dtype)
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
