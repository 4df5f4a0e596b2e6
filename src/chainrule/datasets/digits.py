"""The 8x8 handwritten digits embedded in the package (UCI optical recognition; see data/README.md)."""
import os

import numpy as np

from .. import _dtype
from .._tensor import make_tensor
from ..utils.data import TensorDataset

_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.npz")
_SPLITS = (None, "train", "test")


def load_digits_arrays():
    """The raw data: images uint8 (1797, 8, 8) with values 0..16 and labels uint8 (1797,)."""
    with np.load(_FILE, allow_pickle=False) as data:
        return data["images"], data["labels"]


def split_indices(labels, test_fraction, seed):
    """A stratified split: per class, ``round(count * test_fraction)`` samples chosen with a NumPy generator
    seeded by ``seed`` go to test. Returns (train, test) index arrays in ascending order."""
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test.append(rng.permutation(members)[:int(round(len(members) * test_fraction))])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def digits(split=None, *, test_fraction=0.2, seed=0, flatten=False, normalize=True, dtype=_dtype.float32):
    """The 1,797 8x8 handwritten digits as a TensorDataset of (images, labels).

    split: None for all images, "train" or "test" for a stratified split that keeps ``test_fraction`` of each
        digit for test, the same for the same ``seed`` (independent of ``chainrule.manual_seed``); train and
        test never overlap and together are the whole set.
    flatten: images of shape (N, 64) (for an MLP) instead of (N, 1, 8, 8) (for a convolutional network).
    normalize: pixel values divided by 16, so in [0, 1]; otherwise the raw counts 0..16.
    dtype: of the images (a floating dtype); labels are int64 class indices 0..9, as cross_entropy expects.
    """
    if split not in _SPLITS:
        raise ValueError(f"digits: split must be one of None, 'train' or 'test', got {split!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"digits: test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    np_dtype = _dtype.to_numpy_dtype(dtype)
    if np_dtype.kind != "f":
        raise TypeError(f"digits: dtype must be a floating dtype such as chainrule.float32, got {dtype}")
    images, labels = load_digits_arrays()
    if split is not None:
        train, test = split_indices(labels, test_fraction, seed)
        chosen = train if split == "train" else test
        images, labels = images[chosen], labels[chosen]
    images = images.astype(np_dtype)
    if normalize:
        images /= np_dtype.type(16)
    images = images.reshape(len(images), 64) if flatten else images.reshape(len(images), 1, 8, 8)
    return TensorDataset(make_tensor(images), make_tensor(labels.astype(np.int64)))
