"""Padding layers: ZeroPad1d/2d, ConstantPad1d/2d, ReflectionPad1d/2d, ReplicationPad1d/2d, CircularPad1d/2d
(F.pad with a fixed mode; an int pads every side)."""
from .. import functional as F
from ..module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]


def _sides(padding, count):
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * count


class _PadNd(Module):
    _mode = "constant"
    _sides_count = 2

    def __init__(self, padding):
        super().__init__()
        self.padding = _sides(padding, self._sides_count)
        if len(self.padding) != self._sides_count:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {self._sides_count} ints "
                             f"(left, right{', top, bottom' if self._sides_count == 4 else ''}), got {padding!r}")

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``; padding is (left, right, top, bottom)."""
    _sides_count = 4


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros; padding is (left, right, top, bottom)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Mirror the last dim at its edges (without repeating the edge)."""
    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Mirror the last two dims at their edges."""
    _sides_count = 4


class ReplicationPad1d(_PadNd):
    """Repeat the edge values of the last dim."""
    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Repeat the edge values of the last two dims."""
    _sides_count = 4


class CircularPad1d(_PadNd):
    """Wrap the last dim around."""
    _mode = "circular"


class CircularPad2d(CircularPad1d):
    """Wrap the last two dims around."""
    _sides_count = 4
