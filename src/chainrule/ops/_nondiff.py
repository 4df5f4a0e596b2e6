"""Operations without a derivative: comparisons, logical ops, argmax/argmin, rounded division.
Their results never require grad; if an input did, the result remembers why the graph stops here."""
import numpy as np

from .._tensor import Tensor, make_tensor
from ..autograd.cut import cut_here

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "equal", "argmax", "argmin"]
TENSOR_METHODS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
                  "logical_and", "logical_or", "logical_xor", "logical_not", "equal", "argmax", "argmin"]


def _result(name, array, *inputs):
    out = make_tensor(np.asarray(array))
    for x in inputs:
        if isinstance(x, Tensor) and x._rg:
            out._cut = cut_here("nondiff", name, source=x, depth=2)
            break
    return out


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _compare(name, ufunc, kind="a comparison"):
    def compare(input, other):
        return _result(f"{name} ({kind})", ufunc(_data(input), _data(other)), input, other)

    compare.__name__ = name
    compare.__doc__ = f"Elementwise {name}; returns a bool tensor (not differentiable)."
    return compare


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
logical_and = _compare("logical_and", np.logical_and, "a logical op")
logical_or = _compare("logical_or", np.logical_or, "a logical op")
logical_xor = _compare("logical_xor", np.logical_xor, "a logical op")
bitwise_and = _compare("bitwise_and", np.bitwise_and, "a bitwise op")
bitwise_or = _compare("bitwise_or", np.bitwise_or, "a bitwise op")
bitwise_xor = _compare("bitwise_xor", np.bitwise_xor, "a bitwise op")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_not(input):
    return _result("logical_not", np.logical_not(input._data), input)


def bitwise_not(input):
    if input._data.dtype.kind == "f":
        raise TypeError(f"bitwise_not (~): not defined for {input.dtype} tensors; use it on bool or integer tensors")
    return _result("bitwise_not", np.invert(input._data), input)


def equal(input, other):
    """True if both tensors have the same shape and elements (a Python bool)."""
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def _arg_reduce(name, fn):
    def reduce(input, dim=None, keepdim=False):
        data = input._data
        if dim is None:
            result = fn(data.reshape(-1))
            result = np.reshape(result, (1,) * data.ndim) if keepdim else result
        else:
            from ._shape_utils import normalize_dim
            result = fn(data, axis=normalize_dim(name, dim, data.ndim), keepdims=keepdim)
        return _result(name, np.asarray(result, dtype=np.int64), input)

    reduce.__name__ = name
    return reduce


argmax = _arg_reduce("argmax", np.argmax)
argmin = _arg_reduce("argmin", np.argmin)


def rounded_div(input, other, rounding_mode):
    """div with rounding_mode "floor" or "trunc" (a step function: no gradient)."""
    a, b = _data(input), _data(other)
    if rounding_mode == "floor":
        result = np.floor_divide(a, b)
    elif rounding_mode == "trunc":
        result = np.trunc(np.true_divide(a, b))
        if np.result_type(a, b).kind in "iu":
            result = result.astype(np.result_type(a, b))
    else:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', not {rounding_mode!r}")
    if result.dtype == np.float64 and not any(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in (a, b)):
        result = result.astype(np.float32)
    return _result(f"div(rounding_mode={rounding_mode!r})", result, input, other)

