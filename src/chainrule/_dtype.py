"""Tensor dtypes: thin named wrappers around NumPy dtypes, printed the way PyTorch prints them."""
import builtins

import numpy as np


class dtype:
    """A tensor element type. Compare with ``is`` or ``==``; ``.np`` is the NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return "chainrule." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)  # noqa: A001 - the public name is chainrule.bool, as torch.bool

half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64  # noqa: A001

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool)
_FROM_NUMPY = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
DEFAULT_FLOAT = float32


def _by_name(name):
    return _NAMES[name]


def from_numpy_dtype(np_dtype):
    """The chainrule dtype of a NumPy dtype; raises TypeError for unsupported ones (complex, str…)."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        supported = ", ".join(d.name for d in ALL)
        raise TypeError(f"chainrule does not support dtype {np_dtype!r}; supported dtypes: {supported}") from None


def to_numpy_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype, a Python type (float, int, bool) or a name."""
    if d.__class__ is dtype:
        return d.np
    if d.__class__ is builtins.str and d in _NAMES:
        return _NAMES[d].np
    return from_numpy_dtype(_PYTHON_TYPES.get(d, d)).np


# Python's own types mean PyTorch's defaults: float -> float32, int -> int64.
_PYTHON_TYPES = {builtins.float: np.float32, builtins.int: np.int64, builtins.bool: np.bool_}
