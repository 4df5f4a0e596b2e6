"""Exception types. Each is also the built-in type PyTorch raises, so `except RuntimeError` keeps working."""


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit an operation (broadcast failure, wrong gradient shape, …)."""


class DTypeError(TypeError, RuntimeError):
    """A dtype an operation cannot take (requires_grad on integers, an in-place cast that loses data, …)."""


class GraphError(RuntimeError):
    """Misuse of the autograd graph: freed buffers, missing grads, in-place changes of saved tensors."""


def shape_str(shape):
    """Shapes are printed as PyTorch prints them in errors: [2, 3]."""
    return "[" + ", ".join(str(s) for s in shape) + "]"
