"""Datasets: ``digits()`` (embedded, 8x8 handwritten digits) and ``mnist(root)`` (from the IDX files a user has).

Both return a ``chainrule.utils.data.TensorDataset`` of (images, labels) ready for a DataLoader."""
from .digits import digits
from .mnist import mnist, read_idx

__all__ = ["digits", "mnist", "read_idx"]
