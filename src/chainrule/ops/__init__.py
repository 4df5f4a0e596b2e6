"""Every op of chainrule, by module: importing this package registers them all (see _registry.py)."""
from ._registry import REGISTRY, apply, apply1, apply2, defop  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .elementwise import ADD, SUB, MUL, DIV, NEG, ABS  # noqa: F401
from .reduction import sum, mean, max, min, sum_to, ValuesIndices  # noqa: F401
from .shape import (reshape, view, flatten, transpose, swapaxes, swapdims, t, permute, squeeze, unsqueeze,  # noqa: F401
                    expand, broadcast_to, expand_as, cat, concat, concatenate, stack)
from .indexing import getitem, index_put, index_scatter  # noqa: F401
from .linalg import matmul, mm, bmm, mv, dot  # noqa: F401
from .conversion import clone, cast  # noqa: F401
from ._nondiff import (eq, ne, lt, le, gt, ge, greater, greater_equal, less, less_equal, not_equal,  # noqa: F401
                       logical_and, logical_or, logical_xor, logical_not, bitwise_and, bitwise_or, bitwise_xor,
                       bitwise_not, equal, argmax, argmin)
