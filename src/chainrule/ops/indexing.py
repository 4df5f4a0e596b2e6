"""Indexing: x[index] (basic slices, negative and integer-array indices, boolean masks), its adjoint
index_scatter (which adds repeated indices), and index_put, the out-of-place form of x[index] = v;
gather/scatter/scatter_add and index_select/index_add (each the adjoint of the other), and the composites
built on them (masked_fill, masked_select, take_along_dim, one_hot)."""
import numpy as np

from .._errors import ShapeError, DTypeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, S
from ._shape_utils import normalize_dim

__all__ = []
TENSOR_METHODS = []


def torch_index(torch, index):
    """The same index for a torch tensor (the registry test compares with PyTorch): arrays become tensors."""
    if isinstance(index, tuple):
        return tuple(torch_index(torch, i) for i in index)
    return torch.from_numpy(index) if isinstance(index, np.ndarray) else index


def _torch_index_scatter(torch, g, *, shape, index):
    zeros = torch.zeros(shape, dtype=g.dtype)
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        return zeros.index_put((torch.from_numpy(index),), g, accumulate=True)  # repeated indices add up
    zeros[torch_index(torch, index)] = g
    return zeros


def _torch_index_put(torch, x, v, *, index):
    out = x.clone()
    out[torch_index(torch, index)] = v
    return out


def _getitem_vjp(g, out, x, *, index):
    return index_scatter(g, x.shape, index)


SAMPLES = {
    "select": [S((4, 5), index=2), S((4, 5), index=(-1, 3)), S((3, 4, 5), index=(Ellipsis, 1))],
    "slice": [S((4, 5), index=(slice(1, 3), slice(None, None, 2))), S((5,), index=slice(-3, None)),
              S((4, 5), index=(None, slice(None), 1))],
    "index": [S((5,), index=np.array([0, 2, 2, 4])), S((4, 5), index=np.array([[True, False, True, True, False]] * 4)),
              S((3, 4, 5), index=(np.array([0, 2]), slice(None), np.array([1, 3]))), S((4, 3), index=np.array([-1, 0, -1]))],
}


def _getitem_forward(xp, x, *, index):
    out = x[index]
    if out.__class__ is not np.ndarray:  # every dim indexed by an int: NumPy gives a scalar; take a 0-d view
        out = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
    return out


SELECT, SLICE, INDEX = (defop(name, _getitem_forward, vjp={"x": _getitem_vjp}, jvp="linear",
                              display=display, view=name != "index", samples=SAMPLES[name],
                              torch=lambda torch, x, *, index: x[torch_index(torch, index)])
                        for name, display in (("select", "SelectBackward0"), ("slice", "SliceBackward0"),
                                              ("index", "IndexBackward0")))


def _scatter_forward(xp, g, *, shape, index):
    z = xp.zeros(shape, dtype=g.dtype)
    if _has_int_array(index):
        xp.add.at(z, index, g)  # repeated indices add up
    else:
        z[index] = g
    return z


INDEX_SCATTER = defop("index_scatter", _scatter_forward,
                      vjp={"g": lambda gg, out, g, *, shape, index: gg[index]}, jvp="linear",
                      display="IndexScatterBackward0", torch=_torch_index_scatter,
                      samples=[S((3,), shape=(5,), index=np.array([0, 2, 2])), S((2, 5), shape=(4, 5), index=slice(1, 3)),
                               S((2,), shape=(2, 3), index=np.array([[True, False, True], [False, False, False]]))])


def _put_forward(xp, x, v, *, index):
    out = x.copy()
    out[index] = v
    return out


INDEX_PUT = defop("index_put", _put_forward,
                  vjp={"x": lambda g, out, x, v, *, index: index_put(g, 0.0, index),
                       "v": lambda g, out, x, v, *, index: g[index]},
                  jvp="linear", display="IndexPutBackward0", torch=_torch_index_put,
                  samples=[S((4, 5), (2, 5), index=slice(1, 3)), S((5,), (), index=np.array([0, 3])),
                           S((4, 5), (5,), index=np.array([[True], [False], [True], [False]])[:, 0])])


# ------------------------------------------------------------------------------ helpers and user functions
def _has_int_array(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in items)


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) for i in items)


def normalize_index(index):
    """Tensors and lists inside an index become NumPy arrays (int64 or bool)."""
    if isinstance(index, tuple):
        return tuple(_normalize_item(i) for i in index)
    return _normalize_item(index)


def _normalize_item(item):
    if isinstance(item, Tensor):
        item = item._data
    elif isinstance(item, list):
        item = np.asarray(item)
    if isinstance(item, np.ndarray):
        if item.dtype.kind not in "biu":
            raise DTypeError(f"tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}")
        if item.ndim == 0 and item.dtype.kind in "iu":
            return int(item)
        return item.astype(np.int64) if item.dtype.kind == "u" else item
    return item


def _kind(index):
    if _is_advanced(index):
        return INDEX
    items = index if isinstance(index, tuple) else (index,)
    return SLICE if any(isinstance(i, slice) or i is None for i in items) else SELECT


def getitem(input, index):
    index = normalize_index(index)
    try:
        return apply(_kind(index), input, index=index)
    except IndexError as error:
        raise IndexError(f"index {_describe(index)} into a tensor of shape {shape_str(input.shape)}: {error}") from None


def index_scatter(g, shape, index):
    """A zero tensor of ``shape`` with ``g`` added at ``index`` (the VJP of indexing)."""
    return apply(INDEX_SCATTER, g, shape=tuple(shape), index=index)


def index_put(input, value, index):
    """Out-of-place ``input[index] = value``; gradients flow to both."""
    index = normalize_index(index)
    try:
        return apply(INDEX_PUT, input, value, index=index)
    except IndexError as error:
        raise IndexError(f"index {_describe(index)} into a tensor of shape {shape_str(input.shape)}: {error}") from None
    except ShapeError as error:
        raise ShapeError(f"setitem: cannot assign a value of shape {shape_str(getattr(value, 'shape', ()))} to "
                         f"index {_describe(index)} of a tensor of shape {shape_str(input.shape)}: {error}") from None


def _describe(index):
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for item in items:
        if isinstance(item, np.ndarray):
            parts.append(f"<{item.dtype} array of shape {list(item.shape)}>")
        elif isinstance(item, slice):
            parts.append(":".join("" if v is None else str(v) for v in (item.start, item.stop, item.step)).rstrip(":") or ":")
        else:
            parts.append("..." if item is Ellipsis else repr(item))
    return "[" + ", ".join(parts) + "]"


# ============================================================================ gather / scatter / index_select
# The index of these ops is a parameter (an int64 array checked by the user functions below), never an input:
# it gets no gradient. Accumulating ops (scatter_add, index_add: the adjoints of gather and index_select) sort
# the target positions once and sum each run with np.add.reduceat: vectorised, exact in the input's dtype, and
# memory proportional to the index (not to the output, as np.bincount with minlength would be).
__all__ += ["gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill", "masked_select",
            "take_along_dim"]
TENSOR_METHODS += ["gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill", "masked_select",
                   "take_along_dim", "scatter_", "scatter_add_", "index_add_", "masked_fill_"]
FUNCTIONAL = ["one_hot"]


def _zeros(shape, like):
    """A constant zero tensor of ``shape`` with the dtype of ``like`` (a Tensor or an array)."""
    data = like._data if isinstance(like, Tensor) else like
    return make_tensor(np.zeros(shape, dtype=data.dtype))


_MAX_ROUNDS = 16


def _add_rows(target, positions, rows):
    """target[positions[i]] += rows[i] along axis 0, repeated positions adding up (a vectorised np.add.at).
    Sorting groups equal positions. When no position repeats more than a few times, the k-th occurrences of
    all positions are added in round k (a handful of fancy-indexed adds, the fastest way in NumPy); otherwise
    each group is summed with np.add.reduceat."""
    n = positions.size
    if n == 0:
        return
    if target.ndim == 1 and target.dtype.kind == "f":  # single elements: np.bincount sums in float64 in one pass
        if target.size <= 4 * n:
            target += np.bincount(positions, rows, minlength=target.size).astype(target.dtype, copy=False)
        else:  # few positions in a large target: count over the distinct positions only
            distinct, inverse = np.unique(positions, return_inverse=True)
            target[distinct] += np.bincount(inverse.reshape(-1), rows).astype(target.dtype, copy=False)
        return
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if len(starts) == n:  # no repeats
        target[positions] += rows
        return
    rank = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))  # occurrence number within its group
    rounds = int(rank.max()) + 1
    if rounds <= _MAX_ROUNDS:
        for k in range(rounds):
            chosen = order[rank == k]
            target[positions[chosen]] += rows[chosen]
    else:
        target[ordered[starts]] += np.add.reduceat(rows[order], starts, axis=0)


def _leading(shape):
    """The slices that cut an array down to ``shape`` (gather/scatter use the index's extent only)."""
    return tuple(slice(0, s) for s in shape)


def _scatter_positions(shape, dim, index):
    """Flat (C-order) positions in an array of ``shape`` that scatter writes element ``index[p]`` of to:
    the coordinates of ``p`` with the one along ``dim`` replaced by ``index[p]``."""
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1] if shape else ()
    flat = index.astype(np.int64) * int(strides[dim])
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            flat = flat + (np.arange(n, dtype=np.int64) * int(strides[d])).reshape((-1,) + (1,) * (index.ndim - d - 1))
    return flat


def _gather_forward(xp, x, *, dim, index):
    part = x[tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index.shape))]
    return xp.take_along_axis(part, index, axis=dim)


def _scatter_forward(xp, x, src, *, dim, index, accumulate=False):
    out = x.copy()
    flat = _scatter_positions(out.shape, dim, index).reshape(-1)
    values = src[_leading(index.shape)] if getattr(src, "ndim", 0) else src
    if accumulate:
        _add_rows(out.reshape(-1), flat, xp.broadcast_to(values, index.shape).reshape(-1))
    else:
        out.reshape(-1)[flat] = xp.broadcast_to(values, index.shape).reshape(-1)
    return out


def _scatter_src_grad(g, out, x, src, *, dim, index):
    """The gradient of scatter/scatter_add's src: g gathered at the index, zero where src was not used."""
    picked = apply(GATHER, g, dim=dim, index=index)
    return picked if tuple(src.shape) == index.shape else index_scatter(picked, src.shape, _leading(index.shape))


def _index_select_forward(xp, x, *, dim, index):
    return xp.take(x, index, axis=dim)


def _index_add_forward(xp, x, src, *, dim, index):
    out = x.copy()
    _add_rows(xp.moveaxis(out, dim, 0), index, xp.moveaxis(xp.broadcast_to(src, _sized(x.shape, dim, len(index))), dim, 0))
    return out


def _sized(shape, dim, size):
    return tuple(shape[:dim]) + (size,) + tuple(shape[dim + 1:])


def _t(torch, index):
    return torch.from_numpy(index)


def _used(src, index):
    """src cut to the index's extent: PyTorch's scatter backward fails (a gradient of the index's shape) when
    src is larger, though its forward reads only this part; the values and gradients compared are the same."""
    return src[_leading(index.shape)] if getattr(src, "ndim", 0) else src


_GATHER_INDEX = np.array([[0, 2, 2], [1, 0, 3], [3, 3, 1]])
GATHER = defop("gather", _gather_forward,
               vjp={"x": lambda g, out, x, *, dim, index: apply(SCATTER_ADD, _zeros(x.shape, g), g, dim=dim, index=index)},
               jvp="linear", display="GatherBackward0",
               torch=lambda torch, x, *, dim, index: torch.gather(x, dim, _t(torch, index)),
               samples=[S((3, 4), dim=1, index=_GATHER_INDEX), S((4, 3), dim=0, index=_GATHER_INDEX.T[:2]),
                        S((2, 3, 4), dim=2, index=np.array([[[1, 1]], [[3, 0]]])), S((5,), dim=0, index=np.array([4, 0, 4, 4]))])
SCATTER_ADD = defop("scatter_add", lambda xp, x, src, *, dim, index: _scatter_forward(xp, x, src, dim=dim, index=index,
                                                                                      accumulate=True),
                    vjp={"x": lambda g, out, x, src, *, dim, index: g, "src": _scatter_src_grad},
                    jvp="linear", display="ScatterAddBackward0",
                    torch=lambda torch, x, src, *, dim, index: torch.scatter_add(x, dim, _t(torch, index), _used(src, index)),
                    samples=[S((3, 4), (3, 3), dim=1, index=_GATHER_INDEX), S((4, 3), (3, 4), dim=0, index=_GATHER_INDEX.T[:2]),
                             S((5,), (4,), dim=0, index=np.array([4, 0, 4, 4])), S((2, 4), (2, 2), dim=1, index=np.array([[0, 3], [2, 2]]))])
_DISTINCT_INDEX = np.array([[0, 2, 3], [1, 0, 3], [3, 2, 1]])  # no repeats within a row: scatter's result is defined
SCATTER = defop("scatter", _scatter_forward,
                vjp={"x": lambda g, out, x, src, *, dim, index: apply(SCATTER, g, 0.0, dim=dim, index=index),
                     "src": _scatter_src_grad},
                jvp="linear", display="ScatterBackward0",
                torch=lambda torch, x, src, *, dim, index: (torch.scatter(x, dim, _t(torch, index), _used(src, index))
                                                            if isinstance(src, torch.Tensor) else
                                                            torch.scatter(x, dim, _t(torch, index), value=src)),
                samples=[S((3, 4), (3, 4), dim=1, index=_DISTINCT_INDEX), S((4, 3), (2, 3), dim=0, index=np.array([[0, 1, 3], [2, 0, 1]])),
                         S((3, 4), 1.5, dim=1, index=_DISTINCT_INDEX[:, :2]), S((5,), (3,), dim=0, index=np.array([4, 0, 2]))])
INDEX_SELECT = defop("index_select", _index_select_forward,
                     vjp={"x": lambda g, out, x, *, dim, index: apply(INDEX_ADD, _zeros(x.shape, g), g, dim=dim, index=index)},
                     jvp="linear", display="IndexSelectBackward0",
                     torch=lambda torch, x, *, dim, index: torch.index_select(x, dim, _t(torch, index)),
                     samples=[S((3, 4), dim=1, index=np.array([3, 0, 3])), S((4, 2, 3), dim=0, index=np.array([1, 1, 2, 0, 1])),
                              S((5,), dim=0, index=np.array([], dtype=np.int64))])
INDEX_ADD = defop("index_add", _index_add_forward,
                  vjp={"x": lambda g, out, x, src, *, dim, index: g,
                       "src": lambda g, out, x, src, *, dim, index: apply(INDEX_SELECT, g, dim=dim, index=index)},
                  jvp="linear", display="IndexAddBackward0",
                  torch=lambda torch, x, src, *, dim, index: torch.index_add(x, dim, _t(torch, index), src),
                  samples=[S((3, 4), (3, 3), dim=1, index=np.array([3, 0, 3])), S((4, 2), (5, 2), dim=0, index=np.array([1, 1, 2, 0, 1])),
                           S((4, 2), (1, 2), dim=0, index=np.array([2]))])


# ------------------------------------------------------------------------------ checks and user functions
def _index_array(op, index, name="index"):
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise DTypeError(f"{op}(): Expected dtype int64 for {name}, got {_dtype_name(data.dtype)}; "
                         "indices must be an integer tensor (use .long())")
    return data.astype(np.int64, copy=False)


def _dtype_name(dtype):
    from .._dtype import from_numpy_dtype
    try:
        return str(from_numpy_dtype(dtype))
    except (TypeError, ValueError, KeyError):
        return str(dtype)


def _check_range(op, index, size, dim, allow_negative=False):
    low = -size if allow_negative else 0
    if index.size and (index.min() < low or index.max() >= size):
        bad = index[(index < low) | (index >= size)].reshape(-1)[0]
        raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}"
                         + (" (negative indices are not allowed)" if bad < 0 and not allow_negative else ""))


def _as_tensor(value):
    if isinstance(value, Tensor):
        return value
    from .._tensor import as_tensor
    return as_tensor(value)


def _check_gather_shapes(op, x_shape, index, dim, src_shape=None):
    """PyTorch's rules: the index has as many dims as the input; along every dim but ``dim`` it is no larger than
    the input, and (scatter) no larger than src along every dim."""
    if index.ndim != len(x_shape):
        raise ShapeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor (index shape "
                         f"{shape_str(index.shape)}, input shape {shape_str(x_shape)})")
    for d, n in enumerate(index.shape):
        if d != dim and n > x_shape[d]:
            raise ShapeError(f"{op}(): Size does not match at dimension {d}: expected index {shape_str(index.shape)} to "
                             f"be no larger than self {shape_str(x_shape)} apart from dimension {dim}")
        if src_shape is not None and n > src_shape[d]:
            raise ShapeError(f"{op}(): Expected index {shape_str(index.shape)} to be no larger than src "
                             f"{shape_str(src_shape)} in every dimension (dimension {d})")


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] (dim=1): values picked along ``dim`` at the positions in ``index``."""
    index = _index_array("gather", index)
    if input._data.ndim == 0:
        if index.size != 1 or index.ndim > 1:
            raise ShapeError(f"gather(): a 0-d input takes an index with a single value, got shape {shape_str(index.shape)}")
        normalize_dim("gather", dim, 0)
        return gather(input.reshape(1), 0, index.reshape(1)).reshape(index.shape)
    d = normalize_dim("gather", dim, input._data.ndim)
    _check_gather_shapes("gather", input.shape, index, d)
    _check_range("gather", index, input.shape[d], d)
    return apply(GATHER, input, dim=d, index=index)


def _scatter(op, input, dim, index, src, accumulate):
    index = _index_array(op, index)
    scalar = not isinstance(src, Tensor) and np.ndim(src) == 0
    if not scalar:
        src = _as_tensor(src)
        if src._data.dtype != input._data.dtype:
            raise DTypeError(f"{op}(): Expected self.dtype to be equal to src.dtype (self {input.dtype}, src "
                             f"{src.dtype}); convert one with .to()")
    elif accumulate:
        raise TypeError(f"{op}(): src must be a Tensor, not {type(src).__name__}")
    if input._data.ndim == 0:
        if index.size > 1 or index.ndim > 1:
            raise ShapeError(f"{op}(): a 0-d input takes an index with at most one value, got shape {shape_str(index.shape)}")
        normalize_dim(op, dim, 0)
        src1 = src if scalar else src.reshape(-1)
        return _scatter(op, input.reshape(1), 0, index.reshape(-1), src1, accumulate).reshape(())
    d = normalize_dim(op, dim, input._data.ndim)
    if not scalar and src._data.ndim != input._data.ndim:
        raise ShapeError(f"{op}(): Index tensor must have the same number of dimensions as src tensor (src shape "
                         f"{shape_str(src.shape)}, input shape {shape_str(input.shape)})")
    _check_gather_shapes(op, input.shape, index, d, None if scalar else src.shape)
    _check_range(op, index, input.shape[d], d)
    if scalar:
        src = np.asarray(src, dtype=input._data.dtype).item()
    return apply(SCATTER_ADD if accumulate else SCATTER, input, src, dim=d, index=index)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written along ``dim`` at ``index``
    (the inverse of gather). With repeated indices the value written is one of them, as in PyTorch."""
    if (src is None) == (value is None):
        raise TypeError("scatter(): give exactly one of src (a tensor) or value (a number)")
    if reduce is not None:
        if reduce != "add":
            raise ValueError(f"scatter(): reduce={reduce!r} is not supported; use reduce='add' (scatter_add), or "
                             "compute the product out of place")
        if src is None:
            src = _as_tensor(value).to(input.dtype).expand(*np.shape(index._data if isinstance(index, Tensor) else index))
        return scatter_add(input, dim, index, src)
    return _scatter("scatter", input, dim, index, src if src is not None else value, accumulate=False)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added along ``dim`` at ``index``; repeated indices add up."""
    return _scatter("scatter_add", input, dim, index, src, accumulate=True)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    return input._inplace("scatter_", lambda s: scatter(s, dim, index, src, value, reduce=reduce))


def scatter_add_(input, dim, index, src):
    return input._inplace("scatter_add_", lambda s: scatter_add(s, dim, index, src))


def _select_index(op, input, dim, index):
    index = _index_array(op, index)
    if index.ndim > 1:
        raise ShapeError(f"{op}(): Index is supposed to be a vector (1-D), got shape {shape_str(index.shape)}")
    index = index.reshape(-1)
    if input._data.ndim == 0:
        normalize_dim(op, dim, 0)
        if index.size != 1:
            raise ShapeError(f"{op}(): Index to scalar can have only 1 value, got {index.size} value(s)")
        _check_range(op, index, 1, 0)
        return None, index
    d = normalize_dim(op, dim, input._data.ndim)
    _check_range(op, index, input.shape[d], d)
    return d, index


def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at the positions of the 1-D ``index`` (repeats allowed)."""
    d, index = _select_index("index_select", input, dim, index)
    if d is None:
        return input.clone()
    return apply(INDEX_SELECT, input, dim=d, index=index)


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source[i]`` added to slice ``index[i]`` along ``dim``."""
    d, index = _select_index("index_add", input, dim, index)
    source = _as_tensor(source)
    if source._data.dtype != input._data.dtype:
        raise DTypeError(f"index_add(): self ({input.dtype}) and source ({source.dtype}) must have the same dtype")
    if alpha != 1:
        source = source * alpha
    if d is None:
        if source._data.size != 1:
            raise ShapeError(f"index_add(): source of a 0-d input must have one element, got shape {shape_str(source.shape)}")
        return input + source.reshape(())
    expected = _sized(input.shape, d, len(index))
    if tuple(source.shape) != expected and not (source._data.ndim == 0 and expected == (1,)):
        raise ShapeError(f"index_add(): source must have shape {shape_str(expected)} (the input's shape "
                         f"{shape_str(input.shape)} with dimension {d} the index's length {len(index)}), got "
                         f"{shape_str(source.shape)}")
    return apply(INDEX_ADD, input, source, dim=d, index=index)


def index_add_(input, dim, index, source, *, alpha=1):
    return input._inplace("index_add_", lambda s: index_add(s, dim, index, source, alpha=alpha))


def _bool_mask(op, mask):
    mask = _as_tensor(mask)
    if mask._data.dtype != np.bool_:
        raise DTypeError(f"{op} only supports boolean masks, but got mask with dtype {mask.dtype}; use mask.bool() "
                         "or a comparison such as x > 0")
    return mask


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor, which then gets a gradient) where ``mask`` is True."""
    mask = _bool_mask("masked_fill", mask)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise ShapeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                             f"{value._data.ndim} dimension(s) (shape {shape_str(value.shape)})")
        if value._data.dtype != input._data.dtype:
            value = value.to(input._data.dtype)
    else:
        value = make_tensor(np.asarray(value, dtype=input._data.dtype) if input._data.dtype.kind != "b"
                            else np.asarray(bool(value)))
    from .elementwise import where
    try:
        return where(mask, value, input)
    except ShapeError:
        raise ShapeError(f"masked_fill: the mask of shape {shape_str(mask.shape)} does not broadcast with the input "
                         f"of shape {shape_str(input.shape)}") from None


def masked_fill_(input, mask, value):
    return input._inplace("masked_fill_", lambda s: masked_fill(s, mask, value))


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (mask and input broadcast)."""
    mask = _bool_mask("masked_select", mask)
    from ._shape_utils import broadcast_shapes
    shape = broadcast_shapes("masked_select", input.shape, mask.shape)
    if tuple(input.shape) != shape:
        input = input.expand(*shape)
    return apply(INDEX, input, index=np.broadcast_to(mask._data, shape))


def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (input and indices broadcast in the other dims; negative
    indices count from the end); with dim=None both are flattened first (and indices must be non-negative)."""
    indices = _index_array("take_along_dim", indices, "indices")
    if dim is None:
        flat = input.reshape(-1)
        _check_range("take_along_dim", indices, flat.shape[0], 0)  # PyTorch wraps negatives only along a dim
        return apply(GATHER, flat, dim=0, index=indices.reshape(-1))
    if indices.ndim != input._data.ndim:
        raise ShapeError(f"take_along_dim(): input and indices should have the same number of dimensions, but got "
                         f"{input._data.ndim} dimensions for input (shape {shape_str(input.shape)}), and "
                         f"{indices.ndim} dimensions for indices (shape {shape_str(indices.shape)})")
    if input._data.ndim == 0:
        return gather(input, dim, indices)
    d = normalize_dim("take_along_dim", dim, input._data.ndim)
    from ._shape_utils import broadcast_shapes
    rest = broadcast_shapes("take_along_dim", _sized(input.shape, d, 1), _sized(indices.shape, d, 1))
    x_shape, i_shape = _sized(rest, d, input.shape[d]), _sized(rest, d, indices.shape[d])
    if tuple(input.shape) != x_shape:
        input = input.expand(*x_shape)
    _check_range("take_along_dim", indices, input.shape[d], d, allow_negative=True)
    indices = np.broadcast_to(indices % max(input.shape[d], 1), i_shape)
    return apply(GATHER, input, dim=d, index=indices)


def one_hot(tensor, num_classes=-1):
    """An int64 tensor with one more dim of size ``num_classes`` (-1: max + 1), 1 at each value (not differentiable)."""
    data = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if data.dtype != np.int64:
        raise DTypeError(f"one_hot is only applicable to index tensor of type LongTensor (int64), got "
                         f"{_dtype_name(data.dtype)}; convert with .long()")
    if num_classes == -1:
        if data.size == 0:
            raise ShapeError("one_hot: Can not infer total number of classes from empty tensor; pass num_classes")
        num_classes = int(data.max()) + 1
    if data.size and data.min() < 0:
        raise ValueError(f"one_hot: Class values must be non-negative, got {int(data.min())}")
    if data.size and data.max() >= num_classes:
        raise ValueError(f"one_hot: Class values must be smaller than num_classes ({num_classes}), got {int(data.max())}")
    return make_tensor((data[..., None] == np.arange(num_classes)).astype(np.int64))
