"""Every op of chainrule, by module: importing this package registers them all (see _registry.py).

Each module lists its public functions in ``__all__`` (exported as ``chainrule.<name>``), the ones
that are also Tensor methods in ``TENSOR_METHODS`` (``x.<name>(...)`` calls ``<name>(x, ...)``), and
where it has them, those of ``chainrule.nn.functional`` in ``FUNCTIONAL`` and of ``chainrule.linalg`` in
``LINALG``.
"""
# einsum and decompositions right after linalg, where linalg.py's ops were registered before they were split;
# the module einsum is _einsum here, as ``einsum`` is the function (from .einsum import *)
from . import _nondiff, conv, conversion, elementwise, indexing, linalg, einsum as _einsum, decompositions, nn_ops, \
    pooling, reduction, resample, shape
from ._registry import REGISTRY, apply, apply1, apply2, defop  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .elementwise import ADD, SUB, MUL, DIV, NEG, ABS  # noqa: F401
from .reduction import *  # noqa: F401,F403
from .reduction import sum_to, ValuesIndices  # noqa: F401
from .shape import *  # noqa: F401,F403
from .shape import view, expand, expand_as, repeat, tril_, triu_  # noqa: F401
from .indexing import *  # noqa: F401,F403
from .indexing import getitem, index_put, index_scatter  # noqa: F401
from .indexing import scatter_, scatter_add_, index_add_, masked_fill_  # noqa: F401
from .linalg import *  # noqa: F401,F403
from .einsum import *  # noqa: F401,F403
from .decompositions import *  # noqa: F401,F403
from .conversion import *  # noqa: F401,F403
from .conversion import cast  # noqa: F401
from ._nondiff import *  # noqa: F401,F403
from .nn_ops import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .resample import *  # noqa: F401,F403

MODULES = (elementwise, reduction, shape, indexing, linalg, _einsum, decompositions, conversion, _nondiff, nn_ops, conv,
           pooling, resample)
__all__ = [name for module in MODULES for name in module.__all__]
TENSOR_METHODS = [name for module in MODULES for name in module.TENSOR_METHODS]
