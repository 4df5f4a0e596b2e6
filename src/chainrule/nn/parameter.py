"""Parameter: a leaf tensor that a Module registers as one of its learnable weights."""
import numpy as np

from .._tensor import Tensor, make_tensor
from .._errors import DTypeError


class Parameter(Tensor):
    """A Tensor that, assigned as a Module attribute, is listed by ``module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory (as PyTorch does) and requires grad by default. Results of ops on
    parameters are ordinary Tensors."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = make_tensor(np.empty(0, dtype=np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a chainrule Tensor (or None), got {type(data).__name__}; "
                            "wrap arrays with chainrule.tensor(...) first")
        if requires_grad and data._data.dtype.kind not in "fc":
            raise DTypeError(f"Only Tensors of floating point dtype can require gradients (got {data.dtype}); "
                             "make the parameter with .float() or pass requires_grad=False")
        self._data = data._data  # same memory as ``data`` (Tensor.__init__ would copy)
        self.grad_fn = None
        self._grad = self._acc = self._base = self._meta = None
        self._nr = 0
        self._rg = bool(requires_grad)
        if data._vc is None:
            data._vc = [0]
        self._vc = data._vc  # same memory, same version counter

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        copy = Parameter(make_tensor(self._data.copy()), self._rg)
        if self._grad is not None:
            copy._grad = make_tensor(self._grad._data.copy())
        memo[id(self)] = copy
        return copy

