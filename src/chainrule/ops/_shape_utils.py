"""Argument checks shared by shape and reduction ops: dims and shapes, with PyTorch's error words."""
from .._errors import ShapeError, shape_str


class DimError(IndexError, ShapeError):
    """A dim outside a tensor's range (IndexError, as PyTorch raises)."""


def normalize_dim(op, dim, ndim):
    """A dim or tuple of dims as non-negative ints; raises naming the op and the valid range."""
    if isinstance(dim, (tuple, list)):
        dims = tuple(normalize_dim(op, d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise ShapeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return dims
    if not isinstance(dim, int) or isinstance(dim, bool):
        if hasattr(dim, "__index__"):
            dim = dim.__index__()
        else:
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, not {type(dim).__name__}")
    low, high = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if not low <= dim <= high:
        raise DimError(f"{op}: Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % ndim if ndim > 0 else 0


def as_shape(op, size):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    if len(size) == 1 and hasattr(size[0], "shape") and hasattr(size[0], "tolist"):
        size = size[0].tolist()
    try:
        return tuple(int(s.__index__()) for s in size)
    except AttributeError:
        raise TypeError(f"{op}: sizes must be integers, got {size!r}") from None


def reduced_count(shape, dims):
    """How many elements each output of a reduction over ``dims`` (None: all) averages."""
    if dims is None:
        dims = range(len(shape))
    count = 1
    for d in dims:
        count *= shape[d]
    return count


def broadcast_shapes(op, *shapes):
    result = []
    for sizes in _aligned(shapes):
        size = 1
        for s in sizes:
            if s != 1:
                if size != 1 and s != size:
                    raise ShapeError(f"{op}: shapes {' and '.join(shape_str(s) for s in shapes)} cannot be "
                                     "broadcast together (sizes must match or be 1, aligned from the right)")
                size = s
        result.append(size)
    return tuple(result)


def _aligned(shapes):
    width = max(len(s) for s in shapes)
    padded = [(1,) * (width - len(s)) + tuple(s) for s in shapes]
    return zip(*padded)
