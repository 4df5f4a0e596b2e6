"""The array module (``xp``) behind a tensor: NumPy today. Everything that asks "which array library?"
asks here, so a CuPy backend means changing this file only."""
import numpy as np

xp = np
ndarray = np.ndarray


def array_module(array):
    """The module that owns ``array`` (always NumPy for now)."""
    return np


class device:
    """A device name, printed as PyTorch prints it: device(type='cpu')."""

    __slots__ = ("type",)

    def __init__(self, type="cpu"):
        type = str(type)
        if type.split(":")[0] != "cpu":
            raise RuntimeError(f"chainrule runs on the CPU only (NumPy); device {type!r} is not available")
        self.type = "cpu"

    def __eq__(self, other):
        return str(other) == self.type or (isinstance(other, device) and other.type == self.type)

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type='{self.type}')"


CPU = device("cpu")
