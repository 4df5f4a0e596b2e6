"""DataLoader: iterate over a dataset in (optionally shuffled) batches, in the main process.

Fast path: for a TensorDataset (or Subsets of one) with the default collate, a batch is taken with one fancy
index per tensor (``tensor[batch_indices]``) instead of indexing every sample and stacking them. The result is
the same list of tensors default_collate would build."""
from ..._tensor import make_tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset, tensor_source
from .sampler import BatchSampler, RandomSampler, SequentialSampler, array_capable


class DataLoader:
    """PyTorch's DataLoader without worker processes (``num_workers`` must be 0).

    ``shuffle=True`` draws a new permutation every epoch from ``generator`` (a NumPy Generator) or, when it is
    None, from chainrule's global generator, so ``chainrule.manual_seed(s)`` makes the order reproducible."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 generator=None, *, prefetch_factor=None, persistent_workers=False):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers = 0
        self.pin_memory = pin_memory  # no device memory to pin: accepted for compatibility
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and batch_sampler "
                                 "options; an IterableDataset decides its own order")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")

        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self._auto_collation else default_convert)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else -(-length // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[index]) for index in self.sampler)
        fast = self._fast_batches()
        if fast is not None:
            return fast
        return (self.collate_fn(self._fetch(indices)) for indices in self.batch_sampler)

    def _fetch(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems(indices)
        return [self.dataset[i] for i in indices]

    def _fast_batches(self):
        """Batches of a TensorDataset taken whole, or None when the general path is needed."""
        if not self._default_collate:
            return None
        source = tensor_source(self.dataset)
        if source is None:
            return None
        tensors, mapping = source
        if any(t.requires_grad for t in tensors):  # stacking would record a graph: keep the general path
            return None
        arrays = [t._data for t in tensors]
        if array_capable(self.batch_sampler, "index_arrays"):
            batches = self.batch_sampler.index_arrays()
        else:
            batches = None
        if batches is None:
            batches = self.batch_sampler  # lists of ints: still one fancy index per tensor
        return _take_batches(arrays, mapping, batches)

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __repr__(self):
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {self._length_text()}, "
                f"batch_size={self.batch_size}, sampler={type(self.sampler).__name__}, drop_last={self.drop_last})")

    def _length_text(self):
        try:
            return f"{len(self.dataset)} samples"
        except TypeError:
            return "unknown length"


def _take_batches(arrays, mapping, batches):
    for indices in batches:
        if mapping is not None:
            indices = mapping[indices]
        yield [make_tensor(array[indices]) for array in arrays]


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("DataLoader: num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if num_workers != 0:
        raise ValueError(f"DataLoader: num_workers={num_workers} is not supported: chainrule loads batches in the "
                         "main process; use num_workers=0 (batches of a TensorDataset are taken whole, which is "
                         "usually faster than worker processes for in-memory data).")
    if timeout < 0:
        raise ValueError("DataLoader: timeout option should be non-negative")
    if prefetch_factor is not None:
        raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                         "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if persistent_workers:
        raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
