"""Linear algebra: matrix products (matmul, mm, bmm, mv, dot, outer, multi_dot, vecdot) and trace.

matmul follows NumPy/PyTorch: 1-D operands are promoted (and the added dim removed again), leading dims
broadcast. The rules reduce to the 2-D case; the engine sums the gradient over broadcast batch dims.
einsum and tensordot are in einsum.py, the decompositions and solvers of torch.linalg in decompositions.py.
"""
from .._errors import ShapeError, shape_str
from .._tensor import Tensor
from ._registry import defop, apply, apply2, S

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "trace"]
TENSOR_METHODS = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "trace"]
LINALG = ["matmul", "multi_dot", "vecdot"]


# ------------------------------------------------------------------------------------------------ matmul
def _matmul_vjp_a(g, out, a, b):
    if b.ndim == 1:  # out = a @ b drops b's column dim; put it back on g and b
        g, b = g.unsqueeze(-1), b.unsqueeze(-1)
    if a.ndim == 1:
        g = g.unsqueeze(-2)
    grad = g @ b.transpose(-1, -2)
    return grad.squeeze(-2) if a.ndim == 1 else grad


def _matmul_vjp_b(g, out, a, b):
    if b.ndim == 1:  # first, so that g is at least 1-D below (1-D @ 1-D gives a 0-d g)
        g = g.unsqueeze(-1)
    if a.ndim == 1:  # out = a @ b drops a's row dim; put it back on g and a
        g, a = g.unsqueeze(-2), a.unsqueeze(-2)
    grad = a.transpose(-1, -2) @ g
    return grad.squeeze(-1) if b.ndim == 1 else grad


MATMUL = defop("matmul", lambda xp, a, b: xp.matmul(a, b),
               vjp={"a": _matmul_vjp_a, "b": _matmul_vjp_b},
               jvp={"a": lambda t, out, a, b: matmul(t, b), "b": lambda t, out, a, b: matmul(a, t)},
               display="MmBackward0", torch=lambda torch, a, b: torch.matmul(a, b),
               samples=[S((3, 4), (4, 2)), S((4,), (4, 2)), S((3, 4), (4,)), S((4,), (4,)),
                        S((2, 3, 4), (4, 5)), S((2, 1, 3, 4), (3, 4, 2)), S((5,), (2, 5, 3)), S((2, 3, 4), (4,))])


def matmul(input, other):
    a_shape, b_shape = input.shape, other.shape
    if not a_shape or not b_shape:
        raise ShapeError(f"matmul: both arguments to matmul need to be at least 1D, but they are {len(a_shape)}D "
                         f"and {len(b_shape)}D (shapes {shape_str(a_shape)} and {shape_str(b_shape)}); use * for scalars")
    k_a = a_shape[-1]
    k_b = b_shape[-2] if len(b_shape) > 1 else b_shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {shape_str(a_shape)} and {shape_str(b_shape)} cannot be multiplied "
                         f"({k_a} != {k_b}): the last dim of the first must equal the "
                         f"{'second-to-last' if len(b_shape) > 1 else 'only'} dim of the second")
    return apply2(MATMUL, input, other)


def mm(input, mat2):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise ShapeError(f"mm: expected two 2-D matrices, got shapes {shape_str(input.shape)} and {shape_str(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input._data.ndim != 3 or mat2._data.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                         f"{shape_str(input.shape)} and {shape_str(mat2.shape)}")
    return matmul(input, mat2)


def mv(input, vec):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise ShapeError(f"mv: expected a matrix and a vector, got shapes {shape_str(input.shape)} and {shape_str(vec.shape)}")
    return matmul(input, vec)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise ShapeError(f"dot: 1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors "
                         f"(shapes {shape_str(input.shape)} and {shape_str(other.shape)})")
    return matmul(input, other)


def outer(input, vec2):
    """The outer product of two vectors: out[i, j] = input[i] * vec2[j]."""
    for name, v in (("self", input), ("vec2", vec2)):
        if not isinstance(v, Tensor):
            raise TypeError(f"outer(): argument '{name}' must be a Tensor, not {type(v).__name__}")
        if v._data.ndim != 1:
            raise ShapeError(f"outer: Expected 1-D argument {name}, but got {v._data.ndim}-D (shape {shape_str(v.shape)})")
    return input.unsqueeze(-1) * vec2


ger = outer


def vecdot(x, y, *, dim=-1):
    """torch.linalg.vecdot: the dot product of vectors along ``dim``, with broadcasting."""
    return (x * y).sum(dim)


def multi_dot(tensors):
    """torch.linalg.multi_dot: the product of a chain of matrices (the first and last may be vectors)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ShapeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        ndim = t._data.ndim
        if not (ndim == 2 or (ndim == 1 and i in (0, len(tensors) - 1))):
            raise ShapeError(f"multi_dot(): tensor {i} must be 2D{' or 1D' if i in (0, len(tensors) - 1) else ''} "
                             f"but got {ndim}D (shape {shape_str(t.shape)})")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


def trace(input):
    """The sum of the main diagonal of a 2-D tensor (rectangular allowed, as in PyTorch)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"trace(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input._data.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim} (shape {shape_str(input.shape)})")
    m, n = input.shape
    if m != n:
        k = min(m, n)
        input = input[:k, :k]
    from .einsum import EINSUM1
    return apply(EINSUM1, input, equation="aa->")
