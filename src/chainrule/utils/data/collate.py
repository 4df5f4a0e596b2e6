"""default_collate: a list of samples -> one batch, the way PyTorch's default_collate builds it.

Tensors are stacked along a new first dimension; Python floats become a float64 tensor, ints an int64 tensor,
bools a bool tensor; NumPy arrays and scalars become tensors; strings stay a list; tuples and lists are
collated position by position (a tuple gives a list, as in PyTorch), dicts key by key."""
import collections.abc
import copy

import numpy as np

from ... import ops
from ..._dtype import from_numpy_dtype
from ..._tensor import Tensor, make_tensor

_UNSUPPORTED = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _from_array(array):
    if array.dtype.kind in "OUSV":
        raise TypeError(_UNSUPPORTED.format(f"numpy arrays of dtype {array.dtype}"))
    from_numpy_dtype(array.dtype)  # a clear TypeError for dtypes chainrule lacks (complex…)
    return make_tensor(array)


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return ops.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        return _from_array(np.stack(batch))
    if isinstance(elem, np.generic):
        return _from_array(np.array(batch))
    if isinstance(elem, bool):
        return make_tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return make_tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return make_tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size "
                               f"(got lengths {sorted({len(sample) for sample in batch})})")
        columns = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # PyTorch returns a list for tuples
        if isinstance(elem, collections.abc.MutableSequence):
            try:
                clone = copy.copy(elem)
                clone[:] = columns
                return clone
            except TypeError:
                return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_UNSUPPORTED.format(type(elem)))


def default_convert(data):
    """Without batching (batch_size=None): NumPy arrays and scalars become tensors, containers are converted
    element by element, everything else is returned unchanged."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUSV":
        return make_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return make_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
