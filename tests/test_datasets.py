"""chainrule.datasets: the embedded digits and the MNIST IDX reader (on small IDX files written here)."""
import gzip
import os
import struct

import numpy as np
import pytest

import chainrule
import chainrule.datasets
from chainrule.datasets import digits, mnist, read_idx
from chainrule.utils.data import DataLoader, TensorDataset

DATA = os.path.join(os.path.dirname(chainrule.datasets.__file__), "data")


# ------------------------------------------------------------------------------------------------ digits

def test_digits_whole_set():
    ds = digits()
    images, labels = ds.tensors
    assert isinstance(ds, TensorDataset) and len(ds) == 1797
    assert images.shape == (1797, 1, 8, 8) and images.dtype is chainrule.float32
    assert labels.dtype is chainrule.int64 and sorted(set(labels.tolist())) == list(range(10))
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    raw = digits(normalize=False, flatten=True, dtype=chainrule.float64).tensors[0]
    assert raw.shape == (1797, 64) and raw.dtype is chainrule.float64
    np.testing.assert_array_equal(raw.numpy() / 16, images.numpy().reshape(1797, 64))
    assert np.all(raw.numpy() == np.round(raw.numpy())) and raw.numpy().max() == 16


def test_digits_match_scikit_learn_when_installed():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    images, labels = digits(normalize=False).tensors
    np.testing.assert_array_equal(images.numpy()[:, 0], reference.images)
    np.testing.assert_array_equal(labels.numpy(), reference.target)


def test_digits_split_is_stratified_disjoint_and_seeded():
    whole = digits(flatten=True, normalize=False).tensors[0].numpy()
    train, test = digits("train", flatten=True, normalize=False), digits("test", flatten=True, normalize=False)
    assert len(train) + len(test) == 1797 and abs(len(test) - 0.2 * 1797) <= 10
    rows = {r.tobytes(): 0 for r in whole}
    for ds in (train, test):
        for r in ds.tensors[0].numpy():
            rows[r.tobytes()] += 1
    assert sum(rows.values()) == 1797  # every image is in exactly one part (duplicates counted with it)
    counts = np.bincount(test.tensors[1].numpy(), minlength=10)
    whole_counts = np.bincount(digits().tensors[1].numpy())
    assert np.all(np.abs(counts - 0.2 * whole_counts) <= 1)  # stratified: each digit keeps its share
    chainrule.manual_seed(123)  # the split depends on seed only, not on the global generator
    np.testing.assert_array_equal(digits("test").tensors[0].numpy(), digits("test").tensors[0].numpy())
    other = digits("test", seed=1).tensors[1].numpy()
    assert not np.array_equal(digits("test", seed=0).tensors[0].numpy(), digits("test", seed=1).tensors[0].numpy())
    assert len(other) == len(test)
    assert len(digits("test", test_fraction=0.5)) == pytest.approx(1797 / 2, abs=10)


def test_digits_errors():
    with pytest.raises(ValueError, match="split"):
        digits("validation")
    with pytest.raises(ValueError, match="test_fraction"):
        digits("train", test_fraction=1.0)
    with pytest.raises(TypeError, match="floating"):
        digits(dtype=chainrule.int64)


def test_digits_feed_a_dataloader():
    loader = DataLoader(digits("train", flatten=True), batch_size=64, shuffle=True)
    x, y = next(iter(loader))
    assert x.shape == (64, 64) and y.shape == (64,)


def test_shipped_file_is_small_plain_and_documented():
    path = os.path.join(DATA, "digits.npz")
    assert os.path.getsize(path) < 80_000
    with np.load(path, allow_pickle=False) as data:
        assert data["images"].dtype == np.uint8 and data["images"].shape == (1797, 8, 8)
        assert data["labels"].dtype == np.uint8
    notice = open(os.path.join(DATA, "README.md")).read()
    assert "Alpaydin" in notice and "CC BY 4.0" in notice


# ------------------------------------------------------------------------------------------------ IDX / MNIST

def idx_bytes(array, code=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=False):
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(data)
    return path


def write_mnist(root, prefix, count=5, size=4, compress=False, rng=None):
    rng = rng or np.random.default_rng(0)
    images = rng.integers(0, 256, (count, size, size), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write(os.path.join(root, f"{prefix}-images-idx3-ubyte{suffix}"), idx_bytes(images), compress)
    write(os.path.join(root, f"{prefix}-labels-idx1-ubyte{suffix}"), idx_bytes(labels), compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_plain_and_gzip(tmp_path, compress):
    images, labels = write_mnist(tmp_path, "train", compress=compress)
    test_images, _ = write_mnist(tmp_path, "t10k", count=3, compress=compress, rng=np.random.default_rng(1))
    ds = mnist(tmp_path)
    x, y = ds.tensors
    assert x.shape == (5, 1, 4, 4) and x.dtype is chainrule.float32 and y.dtype is chainrule.int64
    np.testing.assert_allclose(x.numpy()[:, 0], images / np.float32(255), rtol=1e-7)
    np.testing.assert_array_equal(y.numpy(), labels)
    test = mnist(str(tmp_path), train=False, flatten=True, normalize=False)
    assert test.tensors[0].shape == (3, 16)
    np.testing.assert_array_equal(test.tensors[0].numpy(), test_images.reshape(3, 16))


def test_mnist_finds_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_mnist(raw, "t10k", count=2)
    assert len(mnist(tmp_path, train=False)) == 2


def test_mnist_missing_files_are_named(tmp_path):
    write_mnist(tmp_path, "t10k")
    with pytest.raises(FileNotFoundError) as info:
        mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message and "download" in message


def test_read_idx_other_types(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5
    path = write(tmp_path / "f.idx", idx_bytes(values, 0x0D))
    np.testing.assert_array_equal(read_idx(path), values)
    ints = np.array([-70000, 3, 70000], dtype=np.int32)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "i.idx.gz", idx_bytes(ints, 0x0C), True)), ints)


@pytest.mark.parametrize("damage", ["magic", "truncated", "extra", "header", "empty", "not_gzip", "bad_gzip"])
def test_malformed_idx_is_refused_naming_the_file(tmp_path, damage):
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    name, compress = "train-images-idx3-ubyte", False
    data = {"magic": b"\x12\x34" + good[2:], "truncated": good[:-1], "extra": good + b"\0",
            "header": good[:9], "empty": b""}.get(damage, good)
    if damage == "not_gzip":
        name += ".gz"  # a plain file with a .gz name
    if damage == "bad_gzip":
        name += ".gz"
        data = gzip.compress(good)[:-6]
    path = write(tmp_path / name, data, compress)
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        read_idx(path)


def test_mnist_count_mismatch_and_wrong_kind(tmp_path):
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((3, 2, 2), np.uint8)))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match="3 images but .*4 labels"):
        mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros((3, 1), np.uint8)))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*1 dimension"):
        mnist(tmp_path)
