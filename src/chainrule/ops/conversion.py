"""Copies and dtype casts: clone() and to(dtype). Gradients flow back unchanged (cast back to the input's dtype)."""
import numpy as np

from ..autograd.cut import cut_here
from ._registry import defop, apply, apply1, S

__all__ = ["clone"]
TENSOR_METHODS = []

CLONE = defop("clone", lambda xp, x: x.copy(), vjp={"x": lambda g, out, x: g}, jvp="linear",
              display="CloneBackward0", torch=lambda torch, x: torch.clone(x), raw=True, samples=[S((3, 4)), S(())])
CAST = defop("cast", lambda xp, x, *, dtype: x.astype(dtype),
             vjp={"x": lambda g, out, x, *, dtype: g.to(x.dtype)}, jvp="linear", display="ToCopyBackward0", torch=lambda torch, x, *, dtype: x.to(getattr(torch, dtype.name)),
             samples=[S((3, 4), dtype=np.dtype(np.float32)), S((2,), dtype=np.dtype(np.float64))])


def clone(input):
    return apply1(CLONE, input)


def cast(input, dtype):
    """``input`` converted to NumPy dtype ``dtype``; differentiable between floating dtypes."""
    out = apply(CAST, input, dtype=np.dtype(dtype))
    if input._rg and np.dtype(dtype).kind != "f":
        out.grad_fn, out._rg = None, False  # integer results carry no gradient
        out._cut = cut_here("cast", str(np.dtype(dtype)), source=input)
    return out
