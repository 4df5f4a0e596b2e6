"""Indexing: x[index] (basic slices, negative and integer-array indices, boolean masks), its adjoint
index_scatter (which adds repeated indices), and index_put, the out-of-place form of x[index] = v."""
import numpy as np

from .._errors import ShapeError, DTypeError, shape_str
from .._tensor import Tensor
from ._registry import defop, apply, S

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
