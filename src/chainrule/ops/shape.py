"""Shape ops: view/reshape, transpose/permute, squeeze/unsqueeze, expand, cat and stack; flip, roll, tril/triu,
diagonals (diagonal, diagonal_scatter and the composites diag, diag_embed) and constant padding; composites
repeat/tile, split/chunk/unbind/narrow, movedim, unflatten and pad (reflect/replicate/circular via index_select).
Most return NumPy views of their input (``view=True``): in-place changes show through both, and they
share a version counter so a saved tensor changed through a view is still caught."""
import numpy as np

from .._errors import ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, S
from ._shape_utils import normalize_dim, as_shape

__all__ = ["reshape", "flatten", "transpose", "swapaxes", "swapdims", "t", "permute", "squeeze", "unsqueeze",
           "broadcast_to", "cat", "concat", "concatenate", "stack"]
TENSOR_METHODS = ["flatten", "transpose", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze", "expand_as",
                  "broadcast_to"]


def _inverse(perm):
    return tuple(int(i) for i in np.argsort(perm))


def _reshape_forward(xp, x, *, shape):
    """A view when the memory layout allows one; otherwise a fresh array with no base (NumPy's reshape copy
    keeps its temporary as .base, which would make the copy look like a view sharing the input's version)."""
    out = xp.reshape(x, shape)
    if out.base is not None and not xp.may_share_memory(out, x):
        out = out.copy()
    return out


VIEW = defop("view", _reshape_forward,
             vjp={"x": lambda g, out, x, *, shape: g.reshape(x.shape)}, jvp="linear", display="ViewBackward0", torch=lambda torch, x, *, shape: x.reshape(shape),
             view=True, samples=[S((3, 4), shape=(4, 3)), S((2, 3, 4), shape=(6, 4)), S((6,), shape=(2, 3)), S((), shape=(1,))])
TRANSPOSE = defop("transpose", lambda xp, x, *, dim0, dim1: xp.swapaxes(x, dim0, dim1),
                  vjp={"x": lambda g, out, x, *, dim0, dim1: g.transpose(dim0, dim1)}, jvp="linear",
                  display="TransposeBackward0", torch=lambda torch, x, *, dim0, dim1: torch.transpose(x, dim0, dim1), view=True,
                  samples=[S((3, 4), dim0=0, dim1=1), S((2, 3, 4), dim0=0, dim1=2), S((2, 3), dim0=1, dim1=1)])
PERMUTE = defop("permute", lambda xp, x, *, dims: xp.transpose(x, dims),
                vjp={"x": lambda g, out, x, *, dims: g.permute(_inverse(dims))}, jvp="linear",
                display="PermuteBackward0", torch=lambda torch, x, *, dims: x.permute(dims), view=True,
                samples=[S((2, 3, 4), dims=(2, 0, 1)), S((3, 4), dims=(1, 0)), S((2, 3, 4), dims=(0, 1, 2))])
SQUEEZE = defop("squeeze", lambda xp, x, *, dims: xp.squeeze(x, axis=dims),
                vjp={"x": lambda g, out, x, *, dims: g.reshape(x.shape)}, jvp="linear",
                display="SqueezeBackward0", torch=lambda torch, x, *, dims: torch.squeeze(x, dims), view=True,
                samples=[S((3, 1, 4), dims=(1,)), S((1, 3, 1), dims=(0, 2)), S((1,), dims=(0,))])
UNSQUEEZE = defop("unsqueeze", lambda xp, x, *, dim: xp.expand_dims(x, dim),
                  vjp={"x": lambda g, out, x, *, dim: g.squeeze(dim)}, jvp="linear",
                  display="UnsqueezeBackward0", torch=lambda torch, x, *, dim: torch.unsqueeze(x, dim), view=True,
                  samples=[S((3, 4), dim=0), S((3, 4), dim=2), S((), dim=0)])
EXPAND = defop("expand", lambda xp, x, *, shape: xp.broadcast_to(x, shape),
               vjp={"x": lambda g, out, x, *, shape: g.sum_to_size(x.shape)}, jvp="linear",
               display="ExpandBackward0", torch=lambda torch, x, *, shape: x.expand(shape), view=True,
               samples=[S((3, 1), shape=(3, 4)), S((4,), shape=(2, 3, 4)), S((), shape=(2, 2)), S((2, 1, 3), shape=(2, 5, 3))])


def _split_grad(g, index, *, dim, sizes):
    start = int(np.sum(sizes[:index]))
    return g[(slice(None),) * dim + (slice(start, start + sizes[index]),)]


CAT = defop("cat", lambda xp, *xs, dim, sizes: xp.concatenate(xs, axis=dim),
            vjp={"xs": lambda g, out, *xs, dim, sizes, index: _split_grad(g, index, dim=dim, sizes=sizes)},
            jvp="linear", display="CatBackward0", torch=lambda torch, *xs, dim, sizes: torch.cat(xs, dim=dim),
            samples=[S((2, 3), (4, 3), dim=0, sizes=(2, 4)), S((2, 3), (2, 1), (2, 2), dim=1, sizes=(3, 1, 2))])
STACK = defop("stack", lambda xp, *xs, dim: xp.stack(xs, axis=dim),
              vjp={"xs": lambda g, out, *xs, dim, index: g[(slice(None),) * dim + (index,)]},
              jvp="linear", display="StackBackward0", torch=lambda torch, *xs, dim: torch.stack(xs, dim=dim),
              samples=[S((2, 3), (2, 3), dim=0), S((3,), (3,), (3,), dim=1), S((), (), dim=0)])


# ------------------------------------------------------------------------------ the functions users call
def reshape(input, *shape):
    shape = as_shape("reshape", shape)
    return apply(VIEW, input, shape=_resolve_shape("reshape", input, shape))


view = reshape


def _resolve_shape(op, x, shape):
    """Fill in a -1 and check the element count, with an error that names both shapes."""
    size = x._data.size
    if shape.count(-1) > 1:
        raise ShapeError(f"{op}: only one dimension can be inferred (-1), got shape {shape_str(shape)}")
    known = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            raise ShapeError(f"{op}: shape '{shape_str(shape)}' is invalid for input of size {size} "
                             f"(input shape {shape_str(x.shape)})")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size or any(s < 0 for s in shape):
        raise ShapeError(f"{op}: shape '{shape_str(shape)}' is invalid for input of size {size} "
                         f"(input shape {shape_str(x.shape)})")
    return shape


def flatten(input, start_dim=0, end_dim=-1):
    ndim = input._data.ndim
    if ndim == 0:
        return reshape(input, (1,))
    start, end = normalize_dim("flatten", start_dim, ndim), normalize_dim("flatten", end_dim, ndim)
    if start > end:
        raise ShapeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
    shape = input.shape
    return reshape(input, shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:])


def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    return apply(TRANSPOSE, input, dim0=normalize_dim("transpose", dim0, ndim), dim1=normalize_dim("transpose", dim1, ndim))


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions (PyTorch's .t())."""
    if input._data.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D; "
                         "use transpose(dim0, dim1) or permute")
    return input if input._data.ndim < 2 else transpose(input, 0, 1)


def permute(input, *dims):
    dims = as_shape("permute", dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise ShapeError(f"permute: the number of dims ({len(dims)}) does not match the tensor's number of "
                         f"dimensions ({ndim}); tensor shape {shape_str(input.shape)}, dims {dims}")
    return apply(PERMUTE, input, dims=normalize_dim("permute", dims, ndim))


def squeeze(input, dim=None):
    shape = input.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        dims = normalize_dim("squeeze", dim, len(shape))
        dims = tuple(d for d in (dims if isinstance(dims, tuple) else (dims,)) if shape[d] == 1)
    return apply(SQUEEZE, input, dims=dims)


def unsqueeze(input, dim):
    return apply(UNSQUEEZE, input, dim=normalize_dim("unsqueeze", dim, input._data.ndim + 1))


def expand(input, *sizes):
    sizes = as_shape("expand", sizes)
    shape = input.shape
    if len(sizes) < len(shape):
        raise ShapeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                         f"number of dimensions in the tensor ({len(shape)}); tensor shape {shape_str(shape)}")
    lead = len(sizes) - len(shape)
    target = []
    for i, size in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if size == -1:
            if old is None:
                raise ShapeError(f"expand: -1 is not allowed in a leading, non-existing dimension ({i}); "
                                 f"sizes {list(sizes)}, tensor shape {shape_str(shape)}")
            size = old
        elif old is not None and old != 1 and old != size:
            raise ShapeError(f"expand: the expanded size of the tensor ({size}) must match the existing size ({old}) "
                             f"at non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor sizes: "
                             f"{list(shape)}")
        target.append(size)
    return apply(EXPAND, input, shape=tuple(target))


def broadcast_to(input, *size):
    """broadcast_to(x, (2, 3)) and, as Tensor.broadcast_to in PyTorch, x.broadcast_to(2, 3)."""
    return expand(input, *as_shape("broadcast_to", size))


def expand_as(input, other):
    return expand(input, *other.shape)


def _tensors(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): expected a sequence of Tensors (a list or tuple), got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}(): expected a non-empty list of Tensors")
    from .._tensor import as_tensor
    return [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]


def cat(tensors, dim=0):
    tensors = _tensors("cat", tensors)
    ndim = tensors[0]._data.ndim
    if ndim == 0:
        raise ShapeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated; use stack")
    d = normalize_dim("cat", dim, ndim)
    for i, x in enumerate(tensors):
        if x._data.ndim != ndim or x.shape[:d] + x.shape[d + 1:] != tensors[0].shape[:d] + tensors[0].shape[d + 1:]:
            raise ShapeError(f"cat: Sizes of tensors must match except in dimension {d}. Expected a shape like "
                             f"{shape_str(tensors[0].shape)} but got {shape_str(x.shape)} for tensor number {i} in the list")
    return apply(CAT, *tensors, dim=d, sizes=tuple(x.shape[d] for x in tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = _tensors("stack", tensors)
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise ShapeError(f"stack expects each tensor to be equal size, but got {shape_str(tensors[0].shape)} at "
                             f"entry 0 and {shape_str(x.shape)} at entry {i}")
    return apply(STACK, *tensors, dim=normalize_dim("stack", dim, tensors[0]._data.ndim + 1))


# ============================================================================ flip, roll, tril/triu, diagonals, pad
__all__ += ["unflatten", "flip", "roll", "tile", "split", "chunk", "unbind", "narrow", "tril", "triu", "diagonal",
            "diag", "diag_embed", "diagonal_scatter", "movedim", "moveaxis"]
TENSOR_METHODS += ["unflatten", "flip", "roll", "repeat", "tile", "split", "chunk", "unbind", "narrow", "tril", "triu",
                   "tril_", "triu_", "diagonal", "diag", "diag_embed", "diagonal_scatter", "movedim", "moveaxis"]
FUNCTIONAL = ["pad"]


def _zeros(shape, like):
    data = like._data if isinstance(like, Tensor) else like
    return make_tensor(np.zeros(shape, dtype=data.dtype))


def _flip_forward(xp, x, *, dims):
    return xp.flip(x, dims).copy() if x.ndim else x.copy()  # a copy, as PyTorch's flip (NumPy's is a view)


FLIP = defop("flip", _flip_forward, vjp={"x": lambda g, out, x, *, dims: apply(FLIP, g, dims=dims)}, jvp="linear",
             display="FlipBackward0", torch=lambda torch, x, *, dims: torch.flip(x, dims),
             samples=[S((3, 4), dims=(0,)), S((2, 3, 4), dims=(0, 2)), S((5,), dims=(0,)), S((), dims=())])
ROLL = defop("roll", lambda xp, x, *, shifts, dims: xp.roll(x, shifts, axis=dims),
             vjp={"x": lambda g, out, x, *, shifts, dims: apply(ROLL, g, shifts=tuple(-s for s in shifts), dims=dims)},
             jvp="linear", display="RollBackward0", torch=lambda torch, x, *, shifts, dims: torch.roll(x, shifts, dims),
             samples=[S((3, 4), shifts=(1,), dims=(1,)), S((2, 3, 4), shifts=(-1, 5), dims=(0, 2)),
                      S((3, 4), shifts=(5,), dims=None), S((), shifts=(2,), dims=None)])
TRIL = defop("tril", lambda xp, x, *, diagonal: xp.tril(x, diagonal),
             vjp={"x": lambda g, out, x, *, diagonal: apply(TRIL, g, diagonal=diagonal)}, jvp="linear",
             display="TrilBackward0", torch=lambda torch, x, *, diagonal: torch.tril(x, diagonal),
             samples=[S((3, 4), diagonal=0), S((2, 4, 3), diagonal=-1), S((3, 3), diagonal=2)])
TRIU = defop("triu", lambda xp, x, *, diagonal: xp.triu(x, diagonal),
             vjp={"x": lambda g, out, x, *, diagonal: apply(TRIU, g, diagonal=diagonal)}, jvp="linear",
             display="TriuBackward0", torch=lambda torch, x, *, diagonal: torch.triu(x, diagonal),
             samples=[S((3, 4), diagonal=0), S((2, 4, 3), diagonal=1), S((3, 3), diagonal=-2)])


def _diagonal_view(x, offset, dim1, dim2):
    out = np.diagonal(x, offset, dim1, dim2)
    if x.flags.writeable:
        out.flags.writeable = True  # NumPy hands out diagonals read-only; PyTorch's diagonal is a writable view
    return out


def _diagonal_scatter_forward(xp, x, src, *, offset, dim1, dim2):
    out = x.copy()
    _diagonal_view(out, offset, dim1, dim2)[...] = src
    return out


DIAGONAL = defop("diagonal", lambda xp, x, *, offset, dim1, dim2: _diagonal_view(x, offset, dim1, dim2),
                 vjp={"x": lambda g, out, x, *, offset, dim1, dim2:
                      apply(DIAGONAL_SCATTER, _zeros(x.shape, g), g, offset=offset, dim1=dim1, dim2=dim2)},
                 jvp="linear", display="DiagonalBackward0", view=True,
                 torch=lambda torch, x, *, offset, dim1, dim2: torch.diagonal(x, offset, dim1, dim2),
                 samples=[S((3, 4), offset=0, dim1=0, dim2=1), S((3, 4), offset=2, dim1=1, dim2=0),
                          S((2, 3, 4), offset=-1, dim1=2, dim2=1), S((2, 2), offset=5, dim1=0, dim2=1)])
DIAGONAL_SCATTER = defop(
    "diagonal_scatter", _diagonal_scatter_forward,
    vjp={"x": lambda g, out, x, src, *, offset, dim1, dim2:
         apply(DIAGONAL_SCATTER, g, _zeros(src.shape, g), offset=offset, dim1=dim1, dim2=dim2),
         "src": lambda g, out, x, src, *, offset, dim1, dim2: apply(DIAGONAL, g, offset=offset, dim1=dim1, dim2=dim2)},
    jvp="linear", display="DiagonalScatterBackward0",
    torch=lambda torch, x, src, *, offset, dim1, dim2: torch.diagonal_scatter(x, src, offset, dim1, dim2),
    samples=[S((3, 4), (3,), offset=0, dim1=0, dim2=1), S((3, 4), (2,), offset=-1, dim1=0, dim2=1),
             S((2, 3, 4), (2, 2), offset=1, dim1=2, dim2=1), S((4, 4), (2,), offset=2, dim1=1, dim2=0)])


def _constant_pad_forward(xp, x, *, widths, value):
    out = xp.full(tuple(n + b + a for n, (b, a) in zip(x.shape, widths)), value, dtype=x.dtype)
    source = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths))
    target = tuple(slice(max(b, 0), max(b, 0) + max(n - max(-b, 0) - max(-a, 0), 0)) for n, (b, a) in zip(x.shape, widths))
    out[target] = x[source]
    return out


def _negated(widths):
    return tuple((-b, -a) for b, a in widths)


def _torch_pad(widths):
    return tuple(w for pair in reversed(widths) for w in pair)


CONSTANT_PAD = defop(
    "constant_pad", _constant_pad_forward,
    vjp={"x": lambda g, out, x, *, widths, value: apply(CONSTANT_PAD, g, widths=_negated(widths), value=0)},
    jvp={"x": lambda t, out, x, *, widths, value: apply(CONSTANT_PAD, t, widths=widths, value=0)},
    display="ConstantPadNdBackward0",
    torch=lambda torch, x, *, widths, value: torch.nn.functional.pad(x, _torch_pad(widths), value=value),
    samples=[S((3, 4), widths=((0, 0), (1, 2)), value=0.0), S((2, 3, 4), widths=((1, 0), (0, 2), (2, 1)), value=1.5),
             S((3, 5), widths=((-1, 2), (1, -2)), value=-1.0), S((4,), widths=((0, 0),), value=0.0)])


# ------------------------------------------------------------------------------ the functions users call
def _dims_arg(op, args, dims):
    """f(x, 0, 1), f(x, (0, 1)), f(x, [0, 1]) and f(x, dims=(0, 1)) alike."""
    if dims is not None:
        if args:
            raise TypeError(f"{op}(): got dims both positionally and as a keyword")
        args = (dims,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    try:
        return tuple(int(d.__index__()) for d in args)
    except AttributeError:
        raise TypeError(f"{op}(): dims must be integers, got {args!r}") from None


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one of them may be -1)."""
    shape = input.shape
    d = normalize_dim("unflatten", dim, input._data.ndim)
    sizes = as_shape("unflatten", (sizes,))
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise ShapeError(f"unflatten: only one dimension can be inferred (-1), got sizes {list(sizes)}")
    known = int(np.prod([s for s in sizes if s != -1]))
    if -1 in sizes:
        if known == 0 or shape[d] % known:
            raise ShapeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                             f"({shape[d]}) in the input tensor of shape {shape_str(shape)}")
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    elif known != shape[d] or any(s < 0 for s in sizes):
        raise ShapeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                         f"({shape[d]}) in the input tensor of shape {shape_str(shape)}")
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def flip(input, *args, dims=None):
    """The elements in reverse order along ``dims`` (a copy, as in PyTorch)."""
    dims = normalize_dim("flip", _dims_arg("flip", args, dims), input._data.ndim)
    if input._data.ndim == 0 and dims:
        raise IndexError(f"flip: Dimension specified as {dims[0]} but tensor has no dimensions")
    return apply(FLIP, input, dims=dims)


def roll(input, shifts, dims=None):
    """Elements shifted along ``dims`` (wrapping around); dims=None rolls the flattened tensor."""
    shifts = (shifts,) if not isinstance(shifts, (tuple, list)) else tuple(shifts)
    shifts = tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: shifts and dimensions must align; got {len(shifts)} shifts and no dims "
                             "(without dims, give a single shift)")
        return apply(ROLL, input, shifts=shifts, dims=None)
    dims = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    if input._data.ndim == 0:
        raise IndexError(f"roll: Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(normalize_dim("roll", d, input._data.ndim) for d in dims)  # a dim may repeat, as in PyTorch
    return apply(ROLL, input, shifts=shifts, dims=dims)


def repeat(input, *sizes):
    """The tensor repeated ``sizes[i]`` times along dim i (Tensor.repeat; extra leading sizes add dims)."""
    sizes = as_shape("repeat", sizes)
    shape = tuple(input.shape)
    if len(sizes) < len(shape):
        raise ShapeError(f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number "
                         f"of dimensions of tensor ({len(shape)}); tensor shape {shape_str(shape)}")
    if any(s < 0 for s in sizes):
        raise ShapeError(f"repeat: Trying to create tensor with negative dimension: repeats {list(sizes)}")
    shape = (1,) * (len(sizes) - len(shape)) + shape
    spread = reshape(input, tuple(v for s in shape for v in (1, s)))
    tiled = expand(spread, *(v for r, s in zip(sizes, shape) for v in (r, s)))
    out = reshape(tiled, tuple(r * s for r, s in zip(sizes, shape)))
    return out.clone() if out._data.base is not None else out  # always a copy, as in PyTorch


def tile(input, *dims):
    """Like repeat, but ``dims`` shorter than the tensor's shape are padded with leading 1s."""
    dims = as_shape("tile", dims)
    return repeat(input, *((1,) * (input._data.ndim - len(dims)) + dims))


def _along(dim, index):
    return (slice(None),) * dim + (index,)


def split(tensor, split_size_or_sections, dim=0):
    """Views of consecutive pieces along ``dim``: of size ``split_size`` (the last may be smaller), or of the
    given list of sizes (which must add up to the dim's size)."""
    if tensor._data.ndim == 0:
        raise ShapeError("split: a 0-d tensor cannot be split; reshape it to 1-D first")
    d = normalize_dim("split", dim, tensor._data.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                             f"dimension {d}), but got split_sizes={list(sizes)}")
    else:
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise ShapeError(f"split: split_size must be positive (got {size}) for dimension {d} of size {n}")
        sizes = (n // size) * (size,) + ((n % size,) if n % size else ()) if n else (0,)
    starts = np.cumsum((0,) + sizes)
    return tuple(tensor[_along(d, slice(int(start), int(start) + s))] for start, s in zip(starts, sizes))


def chunk(input, chunks, dim=0):
    """``chunks`` pieces of equal size along ``dim`` (the last smaller; fewer pieces where they run out)."""
    chunks = int(chunks)
    if chunks <= 0:
        raise ShapeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input._data.ndim == 0:
        raise ShapeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim("chunk", dim, input._data.ndim)
    n = input.shape[d]
    if n == 0:
        return tuple(input[_along(d, slice(0, 0))] for _ in range(chunks))
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of views (with that dim removed)."""
    if input._data.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim("unbind", dim, input._data.ndim)
    return tuple(input[_along(d, i)] for i in range(input.shape[d]))


def narrow(input, dim, start, length):
    """The view of ``length`` elements along ``dim`` from ``start`` (negative counts from the end)."""
    if input._data.ndim == 0:
        raise IndexError("narrow() cannot be applied to a 0-dim tensor")
    d = normalize_dim("narrow", dim, input._data.ndim)
    start, length, n = int(start), int(length), input.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    start = start + n if start < 0 else start
    if length < 0 or start + length > n:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {d} "
                         f"(tensor shape {shape_str(input.shape)})")
    return input[_along(d, slice(start, start + length))]


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (elements on and below diagonal ``diagonal``); the rest is 0."""
    if input._data.ndim < 2:
        raise ShapeError(f"tril: input tensor must have at least 2 dimensions, got shape {shape_str(input.shape)}")
    return apply(TRIL, input, diagonal=int(diagonal))


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (elements on and above diagonal ``diagonal``); the rest is 0."""
    if input._data.ndim < 2:
        raise ShapeError(f"triu: input tensor must have at least 2 dimensions, got shape {shape_str(input.shape)}")
    return apply(TRIU, input, diagonal=int(diagonal))


def tril_(input, diagonal=0):
    return input._inplace("tril_", lambda s: tril(s, diagonal))


def triu_(input, diagonal=0):
    return input._inplace("triu_", lambda s: triu(s, diagonal))


def _diagonal_dims(op, ndim, dim1, dim2):
    if ndim < 2:
        raise ShapeError(f"{op}: expected a tensor with at least 2 dimensions, got {ndim}")
    d1, d2 = normalize_dim(op, dim1, ndim), normalize_dim(op, dim2, ndim)
    if d1 == d2:
        raise ShapeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The view of the diagonal ``offset`` of the 2-D slices spanned by dim1, dim2 (appended as the last dim)."""
    d1, d2 = _diagonal_dims("diagonal", input._data.ndim, dim1, dim2)
    return apply(DIAGONAL, input, offset=int(offset), dim1=d1, dim2=d2)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on the diagonal that diagonal(input, offset, dim1, dim2) views."""
    d1, d2 = _diagonal_dims("diagonal_scatter", input._data.ndim, dim1, dim2)
    if not isinstance(src, Tensor):
        from .._tensor import as_tensor
        src = as_tensor(src)
    expected = np.diagonal(np.empty(input.shape, dtype=np.bool_), int(offset), d1, d2).shape
    if tuple(src.shape) != expected:
        raise ShapeError(f"diagonal_scatter: src must have the shape of the diagonal, {shape_str(expected)}, got "
                         f"{shape_str(src.shape)} (input shape {shape_str(input.shape)}, offset {offset}, dims {d1}, {d2})")
    if src._data.dtype != input._data.dtype:
        src = src.to(input._data.dtype)
    return apply(DIAGONAL_SCATTER, input, src, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose diagonals (offset, dim1, dim2) are filled by the last dim of ``input``; zeros elsewhere."""
    ndim = input._data.ndim + 1
    if ndim < 2:
        raise ShapeError("diag_embed: expected a tensor with at least 1 dimension, got a 0-d tensor")
    d1, d2 = _diagonal_dims("diag_embed", ndim, dim1, dim2)
    offset = int(offset)
    n = input.shape[-1] + abs(offset)
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return apply(DIAGONAL_SCATTER, _zeros(tuple(shape), input), input, offset=offset, dim1=d1, dim2=d2)


def diag(input, diagonal=0):
    """1-D input: a square matrix with it on diagonal ``diagonal``; 2-D input: that diagonal (a copy)."""
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim == 2:
        return apply(DIAGONAL, input, offset=int(diagonal), dim1=0, dim2=1).clone()
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D (shape {shape_str(input.shape)}); use "
                     "diagonal() or diag_embed()")


def movedim(input, source, destination):
    """The dims ``source`` moved to positions ``destination`` (a view); the others keep their order."""
    ndim = input._data.ndim
    source = (source,) if not isinstance(source, (tuple, list)) else tuple(source)
    destination = (destination,) if not isinstance(destination, (tuple, list)) else tuple(destination)
    if len(source) != len(destination):
        raise ShapeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain "
                         f"the same number of dims as destination ({list(destination)} dims)")
    source, destination = normalize_dim("movedim", source, ndim), normalize_dim("movedim", destination, ndim)
    if ndim == 0:
        return input
    perm = [None] * ndim
    for s, d in zip(source, destination):
        perm[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    perm = tuple(p if p is not None else next(rest) for p in perm)
    return apply(PERMUTE, input, dims=perm)


moveaxis = movedim

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: ``pad`` gives (before, after) pairs starting from the LAST dim,
    e.g. (1, 1, 2, 0) pads the last dim by 1 on both sides and the one before by 2 at the start. Negative
    amounts crop. Modes: constant (``value``, default 0), reflect (mirror without the edge), replicate (repeat
    the edge), circular (wrap around)."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    amounts = as_shape("pad", (pad,))
    ndim = input._data.ndim
    if len(amounts) % 2:
        raise ShapeError(f"pad: Padding length must be divisible by 2 (before, after per dim), got {len(amounts)}")
    if len(amounts) // 2 > ndim:
        raise ShapeError(f"pad: Padding length too large: {len(amounts)} values pad {len(amounts) // 2} dims, but the "
                         f"input has {ndim} (shape {shape_str(input.shape)})")
    padded = len(amounts) // 2
    widths = ((0, 0),) * (ndim - padded) + tuple((amounts[2 * i], amounts[2 * i + 1]) for i in reversed(range(padded)))
    shape = input.shape
    for d, (n, (b, a)) in enumerate(zip(shape, widths)):
        if n + b + a < 0 or (mode != "constant" and n + b + a <= 0 and (b or a)):
            raise ShapeError(f"pad: The input size {n}, plus negative padding {b} and {a} resulted in a negative "
                             f"output size at dimension {d} (input shape {shape_str(shape)})")
    if mode == "constant":
        return apply(CONSTANT_PAD, input, widths=widths, value=0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if not padded or not ndim - 1 <= padded + 1 <= ndim or padded > 3:
        raise NotImplementedError(
            f"pad: Padding size {len(amounts)} is not supported for {ndim}D input tensor in mode {mode!r}. Supported "
            "combinations for non-constant padding: 2D or 3D input with padding size 2 (pads the last dim), 3D or 4D "
            "input with size 4 (the last 2 dims), 4D or 5D input with size 6 (the last 3 dims)")
    from .indexing import INDEX_SELECT
    x = input
    for d, (n, (b, a)) in enumerate(zip(shape, widths)):
        if not (b or a):
            continue
        if mode == "circular":  # PyTorch crops first, then wraps around what is left
            start, kept = max(-b, 0), n - max(-b, 0) - max(-a, 0)
            if max(b, a) > kept:
                raise ShapeError(f"pad: Padding size should be less than or equal to the input size in mode 'circular' "
                                 f"(after cropping), but got padding ({b}, {a}) at dimension {d} of input "
                                 f"{shape_str(shape)}; padding can wrap around only once")
            positions = start + np.arange(-max(b, 0), kept + max(a, 0)) % kept
        else:  # reflect and replicate pad, then crop: one index map does both
            if n == 0 or (mode == "reflect" and max(b, a) > n - 1):
                raise ShapeError(f"pad: Padding size should be less than the corresponding input dimension in mode "
                                 f"{mode!r}, but got padding ({b}, {a}) at dimension {d} of input {shape_str(shape)}")
            positions = np.arange(-b, n + a)
            if mode == "reflect":
                positions = np.abs(positions)
                positions = np.where(positions > n - 1, 2 * (n - 1) - positions, positions)
            else:
                positions = np.clip(positions, 0, n - 1)
        x = apply(INDEX_SELECT, x, dim=d, index=positions)
    return x
