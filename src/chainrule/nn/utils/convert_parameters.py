"""parameters_to_vector / vector_to_parameters: all parameters as one flat vector and back (for optimisers
and tools that work on a single vector)."""
from ..._errors import ShapeError
from ..._tensor import Tensor
from ...ops.shape import cat


def _parameter_list(name, parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    items = list(parameters)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}(): expected an iterable of Tensors, got an element of type {type(item).__name__}")
    return items


def parameters_to_vector(parameters):
    """One 1-D tensor of all parameters' elements, in order (differentiable: a concatenation of views)."""
    params = _parameter_list("parameters_to_vector", parameters)
    if not params:
        raise ValueError("parameters_to_vector(): got no parameters (an empty iterable); there is nothing to flatten")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor ``vec`` into the parameters (their ``.data`` is replaced by
    views of ``vec``, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = _parameter_list("vector_to_parameters", parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ShapeError(f"vector_to_parameters(): vec must be 1-D with as many elements as the parameters ({total}), "
                         f"got shape {list(vec.shape)}")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec.data[pointer:pointer + n].reshape(p.shape)
        pointer += n
