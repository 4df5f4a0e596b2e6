"""Samplers: which dataset indices an epoch visits, and how they are grouped into batches.

Sequential and random samplers can hand out all of an epoch's indices as one array (``index_array``), so
BatchSampler and the DataLoader slice that array instead of looping over Python ints."""
import numpy as np

from ._random import resolve_generator


def array_capable(obj, method):
    """True when ``obj``'s ``method`` (index_array / index_arrays) comes from the same class as its ``__iter__``:
    a subclass that overrides only ``__iter__`` must be iterated, not sliced."""
    def owner(name):
        return next((klass for klass in type(obj).__mro__ if name in vars(klass)), None)
    return owner(method) is not None and owner(method) is owner("__iter__")


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__()")

    def index_array(self):
        """This epoch's indices as an int64 array, or None when the sampler can only be iterated."""
        return None


class SequentialSampler(Sampler):
    """0, 1, …, len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch (or ``num_samples`` draws with replacement).

    ``generator``: a NumPy Generator; None uses chainrule's global generator, so ``chainrule.manual_seed(s)``
    before iterating makes the order reproducible."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got replacement={replacement}")
        if num_samples is not None and (not isinstance(num_samples, int) or isinstance(num_samples, bool)
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        resolve_generator(generator, "RandomSampler")  # fail early on a wrong type
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def index_array(self):
        rng = resolve_generator(self.generator, "RandomSampler")
        n, count = len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=count, dtype=np.int64)
        # Without replacement: whole permutations, enough of them to give num_samples indices.
        rounds = [rng.permutation(n) for _ in range(-(-count // n))] if n else [np.empty(0, np.int64)]
        return np.concatenate(rounds)[:count].astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self.index_array().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        resolve_generator(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def index_array(self):
        order = resolve_generator(self.generator, "SubsetRandomSampler").permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64)[order]

    def __iter__(self):
        return iter(self.index_array().tolist())

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def index_arrays(self):
        """Each batch as an int64 array, or None when the sampler cannot give its indices as an array."""
        indices = self.sampler.index_array() if array_capable(self.sampler, "index_array") else None
        if indices is None:
            return None
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return (indices[start:start + self.batch_size] for start in range(0, stop, self.batch_size))

    def __iter__(self):
        arrays = self.index_arrays()
        if arrays is not None:
            yield from (batch.tolist() for batch in arrays)
            return
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
