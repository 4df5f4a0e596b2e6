"""chainrule.utils.data: datasets, samplers, default_collate and DataLoader, compared with torch.utils.data."""
import collections

import numpy as np
import pytest

import chainrule
import chainrule.utils.data
from chainrule.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                                  SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate,
                                  random_split)


def plain(value):
    """A chainrule or torch structure as comparable Python: tensors -> ("tensor", dtype name, array)."""
    if hasattr(value, "numpy") and hasattr(value, "dtype") and not isinstance(value, np.ndarray):
        return ("tensor", str(value.dtype).split(".")[-1], value.detach().numpy().tolist(), tuple(value.shape))
    if isinstance(value, dict):
        return (type(value).__name__, [(k, plain(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [plain(v) for v in value])
    return value


def make_dataset(n=10, generator=None):
    rng = generator or np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = np.arange(n, dtype=np.int64)
    return x, y, TensorDataset(chainrule.from_numpy(x), chainrule.from_numpy(y))


# ------------------------------------------------------------------------------------------------ datasets

def test_tensor_dataset_items_and_length():
    x, y, ds = make_dataset(5)
    assert len(ds) == 5
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), x[3])
    assert yi.item() == 3 and yi.dtype is chainrule.int64


def test_tensor_dataset_size_mismatch_names_the_sizes():
    with pytest.raises(ValueError, match=r"\[4, 3\]"):
        TensorDataset(chainrule.zeros(4, 2), chainrule.zeros(3))


def test_tensor_dataset_rejects_arrays_and_nothing():
    with pytest.raises(TypeError, match="from_numpy"):
        TensorDataset(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(chainrule.tensor(1.0))


def test_subset_and_concat():
    _, _, ds = make_dataset(6)
    sub = Subset(ds, [4, 1])
    assert len(sub) == 2 and sub[0][1].item() == 4 and sub[1][1].item() == 1
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 8
    assert both[7][1].item() == 1 and both[-2][1].item() == 4 and both[5][1].item() == 5


def test_random_split_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n, lengths in [(10, [0.3, 0.7]), (11, [0.5, 0.5]), (7, [1 / 3, 1 / 3, 1 / 3]), (1797, [0.8, 0.2]),
                       (5, [0.1, 0.2, 0.7]), (10, [3, 7])]:
        ours = [len(s) for s in random_split(list(range(n)), lengths, generator=np.random.default_rng(0))]
        theirs = [len(s) for s in torch.utils.data.random_split(list(range(n)), lengths)]
        assert ours == theirs, (n, lengths)


def test_random_split_is_a_seeded_partition():
    _, _, ds = make_dataset(20)
    parts = random_split(ds, [5, 15], generator=np.random.default_rng(3))
    again = random_split(ds, [5, 15], generator=np.random.default_rng(3))
    assert [p.indices for p in parts] == [p.indices for p in again]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(20))
    chainrule.manual_seed(1)
    first = random_split(ds, [0.5, 0.5])[0].indices
    chainrule.manual_seed(1)
    assert random_split(ds, [0.5, 0.5])[0].indices == first


def test_random_split_errors():
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(list(range(10)), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(list(range(10)), [1.5, -0.5])
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        random_split(list(range(10)), [5, 5], generator=42)


# ------------------------------------------------------------------------------------------------ samplers

def test_samplers_match_torch_where_deterministic():
    torch = pytest.importorskip("torch")
    data = list(range(10))
    assert list(SequentialSampler(data)) == list(torch.utils.data.SequentialSampler(data))
    for batch_size, drop_last in [(3, False), (3, True), (5, True), (20, False)]:
        ours = BatchSampler(SequentialSampler(data), batch_size, drop_last)
        theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(data), batch_size, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        # a sampler that can only be iterated (a plain list) batches the same way
        assert list(BatchSampler(list(range(10)), batch_size, drop_last)) == list(theirs)


def test_random_sampler_permutations_and_replacement():
    data = list(range(50))
    order = list(RandomSampler(data, generator=np.random.default_rng(0)))
    assert sorted(order) == data and order != data
    drawn = list(RandomSampler(data, replacement=True, num_samples=200, generator=np.random.default_rng(0)))
    assert len(drawn) == 200 and set(drawn) <= set(data)
    longer = list(RandomSampler(data, num_samples=120, generator=np.random.default_rng(0)))
    assert len(longer) == 120 and sorted(longer[:50]) == data
    assert sorted(SubsetRandomSampler([7, 3, 9], generator=np.random.default_rng(0))) == [3, 7, 9]
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(data, num_samples=0)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(data, 0, False)


# ------------------------------------------------------------------------------------------------ collate

COLLATE_CASES = [
    [1, 2, 3],
    [1.5, 2.5],
    [True, False],
    ["a", "b"],
    [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
    [np.float32(1.5), np.float32(2.0)],
    [(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 2)],
    [[1, 2.0], [3, 4.0]],
    [{"x": np.zeros(3), "y": 1}, {"x": np.ones(3), "y": 0}],
    [collections.OrderedDict(a=1.0, b=[1, 2]), collections.OrderedDict(a=2.0, b=[3, 4])],
]


@pytest.mark.parametrize("case", range(len(COLLATE_CASES)))
def test_default_collate_matches_torch(case):
    torch = pytest.importorskip("torch")
    batch = COLLATE_CASES[case]
    assert plain(default_collate(batch)) == plain(torch.utils.data.default_collate(batch))


def test_default_collate_stacks_tensors_like_torch():
    torch = pytest.importorskip("torch")
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3) + i for i in range(4)]
    ours = default_collate([(chainrule.from_numpy(a), chainrule.tensor(i)) for i, a in enumerate(arrays)])
    theirs = torch.utils.data.default_collate([(torch.from_numpy(a), torch.tensor(i)) for i, a in enumerate(arrays)])
    assert plain(ours) == plain(theirs)


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([None, None])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(ValueError, match="stack expects each tensor to be equal size"):
        default_collate([chainrule.zeros(2), chainrule.zeros(3)])


# ------------------------------------------------------------------------------------------------ DataLoader

@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, True), (10, False),
                                                  (32, False), (32, True)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    x, y, ds = make_dataset(10)
    ours = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


def test_shuffle_is_reproducible_with_manual_seed_and_new_each_epoch():
    _, _, ds = make_dataset(40)
    loader = DataLoader(ds, batch_size=8, shuffle=True)

    def epoch():
        return np.concatenate([y.numpy() for _, y in loader]).tolist()

    chainrule.manual_seed(7)
    first, second = epoch(), epoch()
    chainrule.manual_seed(7)
    assert epoch() == first and epoch() == second
    assert first != second and sorted(first) == list(range(40)) and first != list(range(40))


def test_shuffle_with_a_numpy_generator():
    _, _, ds = make_dataset(30)
    orders = []
    for _ in range(2):
        loader = DataLoader(ds, batch_size=7, shuffle=True, generator=np.random.default_rng(11))
        orders.append([y.tolist() for _, y in loader])
    assert orders[0] == orders[1]
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, shuffle=True, generator="seed")


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_equals_per_item_collation(shuffle):
    """TensorDataset batches are taken whole; an explicit collate_fn takes the per-item path: same batches."""
    _, _, ds = make_dataset(23)
    for dataset in (ds, Subset(ds, list(range(22, 2, -1))), random_split(ds, [13, 10], np.random.default_rng(0))[0]):
        chainrule.manual_seed(5)
        fast = [plain(b) for b in DataLoader(dataset, batch_size=4, shuffle=shuffle)]
        chainrule.manual_seed(5)
        slow = [plain(b) for b in DataLoader(dataset, batch_size=4, shuffle=shuffle, collate_fn=default_collate)]
        assert fast == slow and len(fast) == -(-len(dataset) // 4)


def test_fast_path_returns_copies():
    x, _, ds = make_dataset(4)
    batch_x, _ = next(iter(DataLoader(ds, batch_size=2)))
    batch_x.zero_()
    np.testing.assert_array_equal(ds.tensors[0].numpy(), x)


def test_tensors_that_require_grad_keep_their_graph():
    w = chainrule.ones(6, 2, requires_grad=True)
    loader = DataLoader(TensorDataset(w * 3), batch_size=4)
    (batch,) = next(iter(loader))
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:4], 3 * np.ones((4, 2)))
    np.testing.assert_array_equal(w.grad.numpy()[4:], 0)


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "y": i * i, "name": f"n{i}"}


def test_map_style_dataset_with_dict_samples():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    assert batches[0]["y"].tolist() == [0, 1] and batches[0]["y"].dtype is chainrule.int64
    assert batches[1]["x"].shape == (2, 2) and batches[1]["x"].dtype is chainrule.float32
    assert batches[2]["name"] == ["n4"]


def test_batch_size_none_and_custom_collate():
    items = list(DataLoader(Squares(), batch_size=None))
    assert len(items) == 5 and isinstance(items[2]["x"], chainrule.Tensor) and items[2]["y"] == 4
    sizes = list(DataLoader(Squares(), batch_size=2, collate_fn=len))
    assert sizes == [2, 2, 1]


def test_custom_sampler_and_batch_sampler():
    _, _, ds = make_dataset(6)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 4, 3])
    assert [y.tolist() for _, y in loader] == [[5, 4], [3]] and len(loader) == 2
    loader = DataLoader(ds, batch_sampler=[[0, 5], [2]])
    assert [y.tolist() for _, y in loader] == [[0, 5], [2]]

    class Reversed(BatchSampler):  # overrides only __iter__: must not be sliced by the fast path
        def __iter__(self):
            return reversed(list(super().__iter__()))

    loader = DataLoader(ds, batch_sampler=Reversed(SequentialSampler(ds), 4, False))
    assert [y.tolist() for _, y in loader] == [[4, 5], [0, 1, 2, 3]]


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(7))


def test_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_option_errors():
    _, _, ds = make_dataset(4)
    with pytest.raises(ValueError, match="num_workers=2 is not supported.*num_workers=0"):
        DataLoader(ds, num_workers=2)
    with pytest.raises(ValueError, match="non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)


def test_len_with_drop_last_matches_torch():
    torch = pytest.importorskip("torch")
    for n in (0, 1, 9, 10, 11):
        for batch_size in (1, 3, 10):
            for drop_last in (False, True):
                ours = DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last, shuffle=True)
                theirs = torch.utils.data.DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
                assert len(ours) == len(theirs) == len(list(ours))


def test_package_exports():
    assert chainrule.utils.data.DataLoader is DataLoader
