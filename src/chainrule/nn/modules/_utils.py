"""Small helpers shared by the layer files: PyTorch's _single/_pair/_triple."""
from itertools import repeat


def _ntuple(n):
    def parse(x):
        if isinstance(x, (tuple, list)):
            return tuple(x)
        return tuple(repeat(x, n))
    return parse


_single = _ntuple(1)
_pair = _ntuple(2)
_triple = _ntuple(3)


def _factory(device, dtype):
    """The dtype for a layer's new parameters (float32 unless given); device is accepted for PyTorch code."""
    from ... import _dtype
    if device is not None and str(device) != "cpu":
        raise ValueError(f"chainrule runs on the CPU only; got device={device!r}")
    return _dtype.float32 if dtype is None else dtype
