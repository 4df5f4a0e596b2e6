"""Shape ops: view/reshape, transpose/permute, squeeze/unsqueeze, expand, cat and stack.
Most return NumPy views of their input (``view=True``): in-place changes show through both, and they
share a version counter so a saved tensor changed through a view is still caught."""
import numpy as np

from .._errors import ShapeError, shape_str
from .._tensor import Tensor
from ._registry import defop, apply, S
from ._shape_utils import normalize_dim, as_shape

__all__ = ["reshape", "flatten", "transpose", "swapaxes", "swapdims", "t", "permute", "squeeze", "unsqueeze",
           "broadcast_to", "cat", "concat", "concatenate", "stack"]
TENSOR_METHODS = ["flatten", "transpose", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze", "expand_as",
                  "broadcast_to"]


def _inverse(perm):
    return tuple(int(i) for i in np.argsort(perm))


VIEW = defop("view", lambda xp, x, *, shape: xp.reshape(x, shape),
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
