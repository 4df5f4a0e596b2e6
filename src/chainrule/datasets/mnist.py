"""MNIST from the IDX files a user already has (plain or gzip); nothing is downloaded.

IDX layout: two zero bytes, a type code (0x08 = uint8, …), the number of dimensions, then each dimension as
a big-endian int32, then the values in big-endian order. Images are 3-d (count, rows, cols), labels 1-d."""
import gzip
import os
import zlib

import numpy as np

from .. import _dtype
from .._tensor import make_tensor
from ..utils.data import TensorDataset

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_WHERE = ("Get them from https://ossci-datasets.s3.amazonaws.com/mnist/ (the mirror torchvision uses; originally "
          "http://yann.lecun.com/exdb/mnist/), or let torchvision.datasets.MNIST(root, download=True) put them in "
          "root/MNIST/raw; gzip'd (.gz) or not both work.")


def _read_bytes(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path}: cannot read it as {'a gzip' if path.endswith('.gz') else 'an IDX'} file "
                         f"({error}); the file is damaged or truncated, download it again") from None


def read_idx(path):
    """The array stored in the IDX file at ``path`` (gzip'd when the name ends in .gz), checked for size."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty file'}; expected "
                         "00 00, a type code such as 08, and the number of dimensions)")
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header (needs {header} bytes for {ndim} dimensions, has {len(raw)})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(f"{path}: IDX file {state}: its header gives shape {list(shape)} of {dtype.name} "
                         f"({expected} bytes in all) but the file has {len(raw)} bytes; download it again")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(root, name):
    """The first of root/name, root/name.gz, root/MNIST/raw/name(.gz) (torchvision's layout) that exists."""
    variants = [name, name + ".gz", name.replace("-idx", ".idx"), name.replace("-idx", ".idx") + ".gz"]
    looked = []
    for directory in (root, os.path.join(root, "MNIST", "raw")):
        for variant in variants:
            candidate = os.path.join(directory, variant)
            if os.path.isfile(candidate):
                return candidate, looked
            looked.append(candidate)
    return None, looked


def mnist(root, train=True, *, flatten=False, normalize=True, dtype=_dtype.float32):
    """MNIST (or a set in the same format, e.g. Fashion-MNIST) from IDX files in ``root``.

    train: the 60,000 training images (train-images-idx3-ubyte, train-labels-idx1-ubyte) or, if False, the
        10,000 test images (t10k-…). Each file may be plain or end in .gz; root/MNIST/raw is searched too.
    Returns a TensorDataset of images (N, 1, rows, cols) — (N, rows*cols) with ``flatten`` — divided by 255
    when ``normalize`` (so in [0, 1]), in ``dtype``, and int64 labels."""
    root = os.fspath(root)
    np_dtype = _dtype.to_numpy_dtype(dtype)
    if np_dtype.kind != "f":
        raise TypeError(f"mnist: dtype must be a floating dtype such as chainrule.float32, got {dtype}")
    paths, missing = [], []
    for name in _FILES[bool(train)]:
        path, looked = _find(root, name)
        paths.append(path)
        if path is None:
            missing.append(looked)
    if missing:
        listing = "\n  ".join(p for looked in missing for p in looked)
        raise FileNotFoundError(f"mnist: {'training' if train else 'test'} files not found; looked for:\n  "
                                f"{listing}\n{_WHERE}")
    image_path, label_path = paths
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{image_path}: expected uint8 images of 3 dimensions (count, rows, cols), got "
                         f"{images.dtype} of shape {list(images.shape)}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{label_path}: expected uint8 labels of 1 dimension, got {labels.dtype} of shape "
                         f"{list(labels.shape)}")
    if len(images) != len(labels):
        raise ValueError(f"mnist: {image_path} holds {len(images)} images but {label_path} holds {len(labels)} "
                         "labels; the files do not belong together")
    images = images.astype(np_dtype)
    if normalize:
        images /= np_dtype.type(255)
    count = len(images)
    images = images.reshape(count, -1) if flatten else images.reshape(count, 1, *images.shape[1:])
    return TensorDataset(make_tensor(images), make_tensor(labels.astype(np.int64)))
