"""Shape and indexing ops against PyTorch on random inputs with random shapes (a fresh seed each run; see
torch_compare.py): flatten/unflatten, flip, roll, repeat/tile, split/chunk/unbind/narrow, gather/scatter/
scatter_add, index_select/index_add, masked_fill/masked_select, take_along_dim, tril/triu, diagonal/diag/
diag_embed/diagonal_scatter, movedim, pad, one_hot and x[index] = v, plus which results are views and the
errors for bad arguments."""
import numpy as np
import pytest

import chainrule
from torch_compare import compare_with_torch, random_shape, broadcastable_shapes

torch = pytest.importorskip("torch")

REPEATS = 5


def _shape(rng, min_dims=1, max_dims=3, max_size=4):
    return random_shape(rng, max_dims=max_dims, max_size=max_size, min_dims=min_dims)


def _dim(rng, ndim):
    """A random dim, negative half of the time."""
    d = int(rng.integers(0, ndim))
    return d - ndim if rng.random() < 0.5 else d


# ------------------------------------------------------------------------------------------ reshaping
def test_flatten_and_unflatten(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, 0, 4))
        start = int(fresh_rng.integers(0, max(x.ndim, 1)))
        end = int(fresh_rng.integers(start, max(x.ndim, 1)))
        compare_with_torch(lambda m, x: m.flatten(x, start, end) * 2, [x], fresh_rng, what=f"flatten {x.shape} {start} {end}")
        if x.ndim:
            d = _dim(fresh_rng, x.ndim)
            n = x.shape[d]
            sizes = (1, n) if fresh_rng.random() < 0.5 else (-1, 1, 1)
            compare_with_torch(lambda m, x: x.unflatten(d, sizes) * 2, [x], fresh_rng, what=f"unflatten {x.shape} {d} {sizes}")
            compare_with_torch(lambda m, x: m.unflatten(x, d, sizes).sin(), [x], fresh_rng)
    x = fresh_rng.standard_normal((2, 12))
    compare_with_torch(lambda m, x: x.unflatten(-1, (3, -1, 2)), [x], fresh_rng)


def test_flip(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng))
        dims = sorted({_dim(fresh_rng, x.ndim) % x.ndim for _ in range(int(fresh_rng.integers(1, x.ndim + 1)))})
        compare_with_torch(lambda m, x: m.flip(x, dims) * x, [x], fresh_rng, what=f"flip {x.shape} {dims}")
        compare_with_torch(lambda m, x: x.flip(*dims).exp(), [x], fresh_rng)
        compare_with_torch(lambda m, x: x.flip(dims=[d - x.ndim for d in dims]), [x], fresh_rng)


def test_roll(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng))
        shift = int(fresh_rng.integers(-7, 8))
        d = _dim(fresh_rng, x.ndim)
        compare_with_torch(lambda m, x: m.roll(x, shift, d) * x, [x], fresh_rng, what=f"roll {x.shape} {shift} {d}")
        compare_with_torch(lambda m, x: x.roll(shift) * x, [x], fresh_rng, what=f"roll flat {x.shape} {shift}")
        dims = tuple(_dim(fresh_rng, x.ndim) for _ in range(2))
        shifts = tuple(int(s) for s in fresh_rng.integers(-5, 6, 2))
        compare_with_torch(lambda m, x: x.roll(shifts, dims).cos(), [x], fresh_rng, what=f"roll {shifts} {dims}")


def test_repeat_and_tile(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, 0))
        sizes = tuple(int(s) for s in fresh_rng.integers(0, 4, max(x.ndim, 1) + int(fresh_rng.integers(0, 3))))
        compare_with_torch(lambda m, x: x.repeat(*sizes) * 3, [x], fresh_rng, what=f"repeat {x.shape} {sizes}")
        compare_with_torch(lambda m, x: x.repeat(sizes).sin(), [x], fresh_rng)
        dims = tuple(int(s) for s in fresh_rng.integers(1, 4, int(fresh_rng.integers(0, x.ndim + 2))))
        compare_with_torch(lambda m, x: m.tile(x, dims).sin(), [x], fresh_rng, what=f"tile {x.shape} {dims}")
        compare_with_torch(lambda m, x: x.tile(dims) * 2, [x], fresh_rng)


def test_split_chunk_unbind(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, max_size=6))
        d = _dim(fresh_rng, x.ndim)
        n = x.shape[d]
        size = int(fresh_rng.integers(1, n + 2))
        compare_with_torch(lambda m, x: [p * (i + 1) for i, p in enumerate(m.split(x, size, d))], [x], fresh_rng,
                           what=f"split {x.shape} {size} {d}")
        cuts = np.sort(fresh_rng.integers(0, n + 1, 2))
        sections = [int(cuts[0]), int(cuts[1] - cuts[0]), int(n - cuts[1])]
        compare_with_torch(lambda m, x: [p.exp() for p in x.split(sections, dim=d)], [x], fresh_rng,
                           what=f"split {x.shape} {sections} {d}")
        chunks = int(fresh_rng.integers(1, 7))
        compare_with_torch(lambda m, x: [p * (i + 1) for i, p in enumerate(m.chunk(x, chunks, d))], [x], fresh_rng,
                           what=f"chunk {x.shape} {chunks} {d}")
        compare_with_torch(lambda m, x: [p * (i + 1) for i, p in enumerate(x.unbind(d))], [x], fresh_rng,
                           what=f"unbind {x.shape} {d}")
        compare_with_torch(lambda m, x: m.stack(m.unbind(x, d), -1).sin(), [x], fresh_rng)


def test_split_chunk_edge_cases(fresh_rng):
    x = fresh_rng.standard_normal((6, 2))
    compare_with_torch(lambda m, x: [p * 2 for p in x.chunk(4)], [x], fresh_rng)  # 3 chunks of 2, as PyTorch
    compare_with_torch(lambda m, x: [p * 2 for p in x.chunk(5)], [x], fresh_rng)
    compare_with_torch(lambda m, x: [p * 2 for p in x.split(4)], [x], fresh_rng)
    compare_with_torch(lambda m, x: [p * 2 for p in x.split([0, 6, 0])], [x], fresh_rng)
    empty = np.zeros((0, 3))
    compare_with_torch(lambda m, x: list(x.chunk(3)), [empty], fresh_rng, grad=False)
    compare_with_torch(lambda m, x: list(x.split(2)), [empty], fresh_rng, grad=False)


def test_narrow(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, max_size=5))
        d = _dim(fresh_rng, x.ndim)
        n = x.shape[d]
        start = int(fresh_rng.integers(-n, n + 1))
        length = int(fresh_rng.integers(0, n - (start % n if start < 0 else start) + 1))
        compare_with_torch(lambda m, x: m.narrow(x, d, start, length) * 2, [x], fresh_rng, what=f"narrow {x.shape} {d} {start} {length}")
        compare_with_torch(lambda m, x: x.narrow(d, m.tensor(start), length).exp(), [x], fresh_rng)


def test_movedim(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, 1, 4))
        k = int(fresh_rng.integers(1, x.ndim + 1))
        source = [int(d) for d in fresh_rng.permutation(x.ndim)[:k]]
        destination = [int(d) - x.ndim * int(fresh_rng.integers(0, 2)) for d in fresh_rng.permutation(x.ndim)[:k]]
        compare_with_torch(lambda m, x: m.movedim(x, source, destination) * 2, [x], fresh_rng,
                           what=f"movedim {x.shape} {source} {destination}")
        compare_with_torch(lambda m, x: x.moveaxis(source[0], destination[0]).sin(), [x], fresh_rng)
        compare_with_torch(lambda m, x: m.moveaxis(x, tuple(source), tuple(destination)).sin(), [x], fresh_rng)


# ------------------------------------------------------------------------------------------ triangles and diagonals
def test_tril_triu(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, 2, 4))
        k = int(fresh_rng.integers(-4, 5))
        compare_with_torch(lambda m, x: m.tril(x, k) * x, [x], fresh_rng, what=f"tril {x.shape} {k}")
        compare_with_torch(lambda m, x: x.triu(diagonal=k) * x, [x], fresh_rng, what=f"triu {x.shape} {k}")
        compare_with_torch(lambda m, x: m.triu(x) + x.tril(), [x], fresh_rng)


def test_tril_triu_in_place(fresh_rng):
    x = fresh_rng.standard_normal((3, 4))
    compare_with_torch(lambda m, x: (x * 2).tril_(1), [x], fresh_rng)
    compare_with_torch(lambda m, x: (x * 2).triu_(-1), [x], fresh_rng)


def test_diagonal(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, 2, 4))
        d1 = _dim(fresh_rng, x.ndim)
        d2 = (d1 + int(fresh_rng.integers(1, x.ndim))) % x.ndim
        offset = int(fresh_rng.integers(-3, 4))
        compare_with_torch(lambda m, x: m.diagonal(x, offset, d1, d2) * 2, [x], fresh_rng,
                           what=f"diagonal {x.shape} {offset} {d1} {d2}")
        compare_with_torch(lambda m, x: x.diagonal(offset=offset, dim1=d2, dim2=d1).exp(), [x], fresh_rng)


def test_diag_both_directions(fresh_rng):
    for _ in range(REPEATS):
        k = int(fresh_rng.integers(-3, 4))
        v = fresh_rng.standard_normal(int(fresh_rng.integers(1, 5)))
        compare_with_torch(lambda m, v: m.diag(v, k) * 2, [v], fresh_rng, what=f"diag vector {v.shape} {k}")
        a = fresh_rng.standard_normal(_shape(fresh_rng, 2, 2))
        compare_with_torch(lambda m, a: a.diag(k).exp(), [a], fresh_rng, what=f"diag matrix {a.shape} {k}")
        compare_with_torch(lambda m, a: m.diag(m.diag(a)), [a], fresh_rng)


def test_diag_embed_and_diagonal_scatter(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng, 1, 3))
        offset = int(fresh_rng.integers(-2, 3))
        ndim = x.ndim + 1
        d1 = _dim(fresh_rng, ndim)
        d2 = (d1 + int(fresh_rng.integers(1, ndim))) % ndim
        compare_with_torch(lambda m, x: m.diag_embed(x, offset, d1, d2) * 2, [x], fresh_rng,
                           what=f"diag_embed {x.shape} {offset} {d1} {d2}")
        compare_with_torch(lambda m, x: x.diag_embed().sin(), [x], fresh_rng)
        a = fresh_rng.standard_normal(_shape(fresh_rng, 2, 3))
        e1 = _dim(fresh_rng, a.ndim)
        e2 = (e1 + int(fresh_rng.integers(1, a.ndim))) % a.ndim
        b = fresh_rng.standard_normal(np.diagonal(a, offset, e1, e2).shape)
        compare_with_torch(lambda m, a, b: m.diagonal_scatter(a, b, offset, e1, e2) * a, [a, b], fresh_rng,
                           what=f"diagonal_scatter {a.shape} {b.shape} {offset} {e1} {e2}")
    a, b = fresh_rng.standard_normal((3, 4)), fresh_rng.standard_normal(3)
    compare_with_torch(lambda m, a, b: a.diagonal_scatter(b) * a, [a, b], fresh_rng)


# ------------------------------------------------------------------------------------------ padding
def _pads(rng, shape, count, mode):
    pads = []
    for i in range(count):
        n = shape[-1 - i]
        if mode == "reflect":
            low, high = -((n - 1) // 2), n - 1
        elif mode == "circular":
            low, high = -((n - 1) // 4), (n + 1) // 2
        elif mode == "replicate":
            low, high = -((n - 1) // 2), 4
        else:
            low, high = -(n // 2), 4
        pads += [int(v) for v in rng.integers(low, high + 1, 2)]
    return tuple(pads)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode, fresh_rng):
    for _ in range(REPEATS):
        count = int(fresh_rng.integers(1, 4))
        ndim = count + int(fresh_rng.integers(0, 2)) + (mode == "constant" and fresh_rng.random() < 0.5) * 0
        if mode != "constant":
            ndim = count + 1 + int(fresh_rng.integers(0, 2))
        x = fresh_rng.standard_normal(tuple(int(s) for s in fresh_rng.integers(2, 5, ndim)))
        pads = _pads(fresh_rng, x.shape, count, mode)
        if mode == "constant":
            value = float(fresh_rng.standard_normal())
            compare_with_torch(lambda m, x: m.nn.functional.pad(x, pads, value=value) * 2, [x], fresh_rng,
                               what=f"pad {x.shape} {pads} value {value}")
        compare_with_torch(lambda m, x: m.nn.functional.pad(x, pads, mode=mode).sin(), [x], fresh_rng,
                           what=f"pad {x.shape} {pads} {mode}")


def test_pad_second_order(fresh_rng):
    x = fresh_rng.standard_normal((2, 3, 4))

    def grad_of_grad(m, x):
        y = (m.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect") ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        return g

    compare_with_torch(grad_of_grad, [x], fresh_rng)


def test_pad_of_integers_and_float32(fresh_rng):
    ints = fresh_rng.integers(-5, 5, (2, 3))
    compare_with_torch(lambda m, x: m.nn.functional.pad(x, (1, 1), value=7), [ints], fresh_rng)
    compare_with_torch(lambda m, x: m.nn.functional.pad(x, (1, 1), mode="replicate"), [ints.reshape(1, 2, 3)], fresh_rng)
    x32 = fresh_rng.standard_normal((2, 3)).astype(np.float32)
    compare_with_torch(lambda m, x: m.nn.functional.pad(x, (2, 1), mode="reflect"), [x32], fresh_rng, rtol=1e-5)


# ------------------------------------------------------------------------------------------ gather and scatter
def _gather_case(rng, accumulate=True):
    """(input shape, dim, index, src shape): the index no larger than input (and src) apart from ``dim``."""
    shape = _shape(rng)
    d = _dim(rng, len(shape))
    dd = d % len(shape)
    index_shape = tuple(int(rng.integers(1, n + 1)) if k != dd else int(rng.integers(1, 5)) for k, n in enumerate(shape))
    if accumulate:
        index = rng.integers(0, shape[dd], index_shape)
    else:  # distinct positions along dim in each fiber: what scatter writes is then defined
        index_shape = tuple(s if k != dd else int(rng.integers(1, shape[dd] + 1)) for k, s in enumerate(index_shape))
        order = np.argsort(rng.random(tuple(s if k != dd else shape[dd] for k, s in enumerate(index_shape))), axis=dd)
        index = np.take(order, np.arange(index_shape[dd]), axis=dd)
    src_shape = tuple(s + int(rng.integers(0, 2)) for s in index_shape)
    return shape, d, index, src_shape


def _cut(src, index):
    """PyTorch's scatter backward fails when src is larger than the index (its forward reads only this part)."""
    return src[tuple(slice(0, s) for s in index.shape)]


def test_gather(fresh_rng):
    for _ in range(REPEATS):
        shape, d, index, _ = _gather_case(fresh_rng)
        x = fresh_rng.standard_normal(shape)
        compare_with_torch(lambda m, x, i: m.gather(x, d, i) * 2, [x, index], fresh_rng, what=f"gather {shape} {d} {index.shape}")
        compare_with_torch(lambda m, x, i: x.gather(d, i).exp(), [x, index], fresh_rng)


def test_gather_second_order(fresh_rng):
    x = fresh_rng.standard_normal((3, 4))
    index = fresh_rng.integers(0, 4, (3, 5))

    def grad_of_grad(m, x, i):
        (g,) = m.autograd.grad((x.gather(1, i) ** 3).sum(), x, create_graph=True)
        return g

    compare_with_torch(grad_of_grad, [x, index], fresh_rng)


def test_scatter_add(fresh_rng):
    for _ in range(REPEATS):
        shape, d, index, src_shape = _gather_case(fresh_rng)
        x, src = fresh_rng.standard_normal(shape), fresh_rng.standard_normal(src_shape)
        compare_with_torch(lambda m, x, i, s: m.scatter_add(x, d, i, s) * x, [x, index, src], fresh_rng,
                           torch_fn=lambda m, x, i, s: m.scatter_add(x, d, i, _cut(s, i)) * x,
                           what=f"scatter_add {shape} {d} {index.shape} {src_shape}")
        compare_with_torch(lambda m, x, i, s: (x * 1).scatter_add_(d, i, s).sin(), [x, index, src], fresh_rng,
                           torch_fn=lambda m, x, i, s: (x * 1).scatter_add_(d, i, _cut(s, i)).sin())


def test_scatter(fresh_rng):
    for _ in range(REPEATS):
        shape, d, index, src_shape = _gather_case(fresh_rng, accumulate=False)
        x, src = fresh_rng.standard_normal(shape), fresh_rng.standard_normal(src_shape)
        value = float(fresh_rng.standard_normal())
        compare_with_torch(lambda m, x, i, s: m.scatter(x, d, i, s) * x, [x, index, src], fresh_rng,
                           torch_fn=lambda m, x, i, s: m.scatter(x, d, i, _cut(s, i)) * x,
                           what=f"scatter {shape} {d} {index.shape} {src_shape}")
        compare_with_torch(lambda m, x, i: x.scatter(d, i, value).exp(), [x, index], fresh_rng, what=f"scatter value {value}")
        compare_with_torch(lambda m, x, i: m.scatter(x, d, i, value=value), [x, index], fresh_rng)
        compare_with_torch(lambda m, x, i, s: (x * 1).scatter_(d, i, s) * 2, [x, index, src], fresh_rng,
                           torch_fn=lambda m, x, i, s: (x * 1).scatter_(d, i, _cut(s, i)) * 2)
        compare_with_torch(lambda m, x, i: (x * 1).scatter_(d, i, value=value) * 2, [x, index], fresh_rng)


def test_scatter_reduce_add(fresh_rng):
    x, src = fresh_rng.standard_normal((3, 4)), fresh_rng.standard_normal((3, 4))
    index = fresh_rng.integers(0, 4, (3, 4))
    compare_with_torch(lambda m, x, i, s: m.scatter(x, 1, i, s, reduce="add"), [x, index, src], fresh_rng,
                       torch_fn=lambda m, x, i, s: m.scatter_add(x, 1, i, s))  # PyTorch warns reduce= is deprecated


def test_scatter_of_integers(fresh_rng):
    x = fresh_rng.integers(-9, 9, (3, 4))
    index = fresh_rng.integers(0, 4, (3, 6))
    src = fresh_rng.integers(-9, 9, (3, 6))
    compare_with_torch(lambda m, x, i, s: m.scatter_add(x, 1, i, s), [x, index, src], fresh_rng)
    compare_with_torch(lambda m, x, i: m.scatter(x, 0, i[:, :4] % 3, 5), [x, index], fresh_rng)


def test_index_select_and_index_add(fresh_rng):
    for _ in range(REPEATS):
        x = fresh_rng.standard_normal(_shape(fresh_rng))
        d = _dim(fresh_rng, x.ndim)
        index = fresh_rng.integers(0, x.shape[d], int(fresh_rng.integers(0, 7)))
        compare_with_torch(lambda m, x, i: m.index_select(x, d, i) * 2, [x, index], fresh_rng,
                           what=f"index_select {x.shape} {d} {index}")
        compare_with_torch(lambda m, x, i: x.index_select(d, i).exp(), [x, index], fresh_rng)
        shape = list(x.shape)
        shape[d] = len(index)
        src = fresh_rng.standard_normal(shape)
        alpha = float(fresh_rng.choice([1.0, -0.5, 2.0]))
        compare_with_torch(lambda m, x, i, s: m.index_add(x, d, i, s, alpha=alpha) * x, [x, index, src], fresh_rng,
                           what=f"index_add {x.shape} {d} {index} alpha {alpha}")
        compare_with_torch(lambda m, x, i, s: (x * 1).index_add_(d, i, s).sin(), [x, index, src], fresh_rng)


def test_index_ops_on_scalars(fresh_rng):
    x = fresh_rng.standard_normal(())
    compare_with_torch(lambda m, x, i: m.index_select(x, 0, i) * 2, [x, np.array([0])], fresh_rng)
    compare_with_torch(lambda m, x, i: m.gather(x, 0, i) * 2, [x, np.array(0)], fresh_rng)


def test_take_along_dim(fresh_rng):
    for _ in range(REPEATS):
        x_shape, i_shape = broadcastable_shapes(fresh_rng)
        ndim = max(len(x_shape), len(i_shape), 1)
        x_shape, i_shape = (1,) * (ndim - len(x_shape)) + x_shape, (1,) * (ndim - len(i_shape)) + i_shape
        d = _dim(fresh_rng, ndim)
        i_shape = tuple(int(fresh_rng.integers(1, 4)) if k == d % ndim else s for k, s in enumerate(i_shape))
        x = fresh_rng.standard_normal(x_shape)
        n = x_shape[d]
        index = fresh_rng.integers(-n, n, i_shape)
        compare_with_torch(lambda m, x, i: m.take_along_dim(x, i, d) * 2, [x, index], fresh_rng,
                           what=f"take_along_dim {x_shape} {i_shape} {d}")
        flat = fresh_rng.integers(0, x.size, _shape(fresh_rng, 0))
        compare_with_torch(lambda m, x, i: x.take_along_dim(i).exp(), [x, flat], fresh_rng, what="take_along_dim dim=None")
    x = fresh_rng.standard_normal((3, 5))
    compare_with_torch(lambda m, x: m.take_along_dim(x, x.argmax(1, keepdim=True), 1), [x], fresh_rng)


# ------------------------------------------------------------------------------------------ masks
def test_masked_fill(fresh_rng):
    for _ in range(REPEATS):
        x_shape, m_shape = broadcastable_shapes(fresh_rng)
        x, mask = fresh_rng.standard_normal(x_shape), np.asarray(fresh_rng.random(m_shape) < 0.5)
        value = float(fresh_rng.standard_normal())
        compare_with_torch(lambda m, x, k: m.masked_fill(x, k, value) * x, [x, mask], fresh_rng,
                           what=f"masked_fill {x_shape} {m_shape}")
        v = np.array(value)
        compare_with_torch(lambda m, x, k, v: x.masked_fill(k, v * 2).sin(), [x, mask, v], fresh_rng,
                           what="masked_fill with a value that requires grad")
        if np.broadcast_shapes(x_shape, m_shape) == x_shape:
            compare_with_torch(lambda m, x, k, v: (x * 1).masked_fill_(k, v) * 2, [x, mask, v], fresh_rng)


def test_masked_fill_keeps_the_dtype(fresh_rng):
    ints = fresh_rng.integers(-5, 5, (3, 4))
    mask = fresh_rng.random((3, 4)) < 0.5
    compare_with_torch(lambda m, x, k: x.masked_fill(k, 2.7), [ints, mask], fresh_rng)
    x32 = fresh_rng.standard_normal((3, 4)).astype(np.float32)
    compare_with_torch(lambda m, x, k, v: x.masked_fill(k, v), [x32, mask, np.array(1.5)], fresh_rng, rtol=1e-5, atol=1e-6)


def test_masked_select(fresh_rng):
    for _ in range(REPEATS):
        x_shape, m_shape = broadcastable_shapes(fresh_rng)
        x, mask = fresh_rng.standard_normal(x_shape), np.asarray(fresh_rng.random(m_shape) < 0.5)
        compare_with_torch(lambda m, x, k: m.masked_select(x, k) * 2, [x, mask], fresh_rng,
                           what=f"masked_select {x_shape} {m_shape}")
        compare_with_torch(lambda m, x, k: x.masked_select(k).exp(), [x, mask], fresh_rng)


def test_one_hot(fresh_rng):
    for _ in range(REPEATS):
        labels = fresh_rng.integers(0, 5, _shape(fresh_rng, 0))
        compare_with_torch(lambda m, y: m.nn.functional.one_hot(y), [labels], fresh_rng, what=f"one_hot {labels}")
        compare_with_torch(lambda m, y: m.nn.functional.one_hot(y, num_classes=7), [labels], fresh_rng)
    compare_with_torch(lambda m, y: m.nn.functional.one_hot(y, 3), [np.zeros((0, 2), dtype=np.int64)], fresh_rng)


# ------------------------------------------------------------------------------------------ x[index] = v
SETITEMS = {
    "slice": lambda m, y, v, k: y.__setitem__((slice(1, None), slice(None, None, 2)), v[0] * 2),
    "int": lambda m, y, v, k: y.__setitem__(0, v[1]),
    "negative": lambda m, y, v, k: y.__setitem__((-1, Ellipsis), v[0] ** 2),
    "ellipsis": lambda m, y, v, k: y.__setitem__((Ellipsis, 0), v.sum()),
    "int_array": lambda m, y, v, k: y.__setitem__(m.tensor([0, -1]), v[:1].exp()),
    "int_list": lambda m, y, v, k: y.__setitem__([1, 0], v[1].sin()),
    "two_arrays": lambda m, y, v, k: y.__setitem__((m.tensor([0, 1]), m.tensor([1, 0])), v[0]),
    "bool_mask": lambda m, y, v, k: y.__setitem__(k, 0.5),
    "bool_mask_value": lambda m, y, v, k: y.__setitem__(k, v.sum()),
    "comparison": lambda m, y, v, k: y.__setitem__(y > 0.3, v.mean() * y[y > 0.3]),
    "bool_rows": lambda m, y, v, k: y.__setitem__(k[(slice(None),) + (0,) * (k.ndim - 1)], v[0]),
    "number": lambda m, y, v, k: y.__setitem__((slice(None), 1), 3.0),
    "none": lambda m, y, v, k: y.__setitem__((None, 0), v[1]),
}


@pytest.mark.parametrize("name", sorted(SETITEMS))
def test_setitem_in_the_graph(name, fresh_rng):
    for _ in range(3):
        shape = tuple(int(s) for s in fresh_rng.integers(2, 5, int(fresh_rng.integers(2, 4))))
        x, v = fresh_rng.standard_normal(shape), fresh_rng.standard_normal(shape[1:])
        mask = fresh_rng.random(shape) < 0.5

        def fn(m, x, v, k):
            y = x * 1.5          # a non-leaf: assigning into it is recorded
            w = v * 1.0
            SETITEMS[name](m, y, w, k)
            return y * y        # the values written reach the output, and their gradient flows back

        compare_with_torch(fn, [x, v, mask], fresh_rng, what=f"setitem {name} {shape}")


def test_setitem_sequence_and_views(fresh_rng):
    x, v = fresh_rng.standard_normal((4, 3)), fresh_rng.standard_normal(4)

    def fn(m, x, v):
        y = x * 1.0
        y[1:3] = v[:2, None] * 2
        y[[0, 3], [1, 2]] = v[2:4]
        y[y > 1.5] = 0.0
        y[m.tensor([True, False, True, False]), 0] = v[0]
        row = y[1]              # a view of a non-leaf: writing into it changes y
        row[2] = v[3] ** 2
        y[..., -1] += v * 3
        return y.exp()

    compare_with_torch(fn, [x, v], fresh_rng)


def test_setitem_into_a_plain_tensor_then_grad(fresh_rng):
    x, v = fresh_rng.standard_normal((3, 4)), fresh_rng.standard_normal(4)

    def fn(m, x, v):
        buffer = m.zeros(3, 4, dtype=m.float64)  # does not require grad: becomes part of the graph once v is written
        buffer[1] = v
        buffer[2, ::2] = x[0, :2]
        return buffer * x

    compare_with_torch(fn, [x, v], fresh_rng)


def test_setitem_casts_and_broadcasts(fresh_rng):
    ints = fresh_rng.integers(-5, 5, (3, 4))

    def fn(m, x):
        y = x.clone()
        y[0] = 2.9                   # stored as int64, as PyTorch truncates
        y[1:, 1] = m.tensor([7, 8])
        y[:, 2:] = m.tensor([[1], [2], [3]])
        return y

    compare_with_torch(fn, [ints], fresh_rng)


def test_setitem_bumps_the_version_shared_with_views():
    for lib in (chainrule, torch):
        x = lib.zeros(3, 4)
        row = x[1]
        before = x._version
        x[0, 0] = 1.0
        row[1] = 2.0
        assert x._version - before == 2 and row._version == x._version, lib.__name__
        assert x[1, 1].item() == 2.0


@pytest.mark.parametrize("case", ["saved_input", "saved_output", "through_view", "advanced_index"])
def test_setitem_on_a_saved_tensor_raises_the_version_error(case, fresh_rng):
    a = fresh_rng.standard_normal((3, 4))

    def build(lib):
        x = lib.tensor(a, requires_grad=True)
        if case == "saved_input":
            y = x * 2
            z = y * y                      # saves y
            y[0, 0] = 3.0
        elif case == "saved_output":
            y = (x * 2).exp()              # saves its output
            z = y * 1
            y[:, 1] = 0.0
        elif case == "through_view":
            y = x * 2
            z = y.sin()                    # saves y
            y[1][2] = 5.0                  # written through a view of y
        else:
            y = x.tanh()                   # saves its output
            z = y * 1
            y[lib.tensor([0, 2])] = 1.0
        return z

    for lib in (chainrule, torch):
        z = build(lib)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
    with pytest.raises(RuntimeError, match=r"version"):
        build(chainrule).sum().backward()


def test_setitem_on_a_leaf_that_requires_grad_raises():
    for lib in (chainrule, torch):
        x = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            x[0] = 1.0
        with lib.no_grad():
            x[0] = 1.0                     # allowed: not recorded (a parameter update)
        assert x[0].item() == 1.0


def test_setitem_errors():
    x = chainrule.zeros(3, 4)
    with pytest.raises(IndexError, match=r"shape \[3, 4\]"):
        x[5] = 1.0
    with pytest.raises(ValueError, match="setitem"):
        x[0] = chainrule.ones(3)
    with pytest.raises(TypeError, match="indices"):
        x[chainrule.tensor([0.5])] = 1.0


# ------------------------------------------------------------------------------------------ views
VIEWS = {
    "narrow": lambda x: x.narrow(1, 1, 2), "diagonal": lambda x: x.diagonal(), "unbind": lambda x: x.unbind(1)[2],
    "split": lambda x: x.split(2, 1)[1], "chunk": lambda x: x.chunk(2)[1], "movedim": lambda x: x.movedim(0, 1),
    "unflatten": lambda x: x.unflatten(1, (2, 2)), "diagonal_offset": lambda x: x.diagonal(1, 1, 0),
}
COPIES = {"flip": lambda x: x.flip(0), "roll": lambda x: x.roll(1), "diag": lambda x: x.diag(), "tril": lambda x: x.tril(),
          "repeat": lambda x: x.repeat(1, 1), "index_select": lambda x: x.index_select(0, chainrule.tensor([0, 1])),
          "reshape_of_transpose": lambda x: x.T.reshape(-1), "pad": lambda x: chainrule.nn.functional.pad(x, (0, 0))}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_share_memory_and_version(name, fresh_rng):
    a = fresh_rng.standard_normal((3, 4))
    x = chainrule.tensor(a)
    t = torch.tensor(a)
    ours, theirs = VIEWS[name](x), VIEWS[name](t)
    assert ours._base is x
    with chainrule.no_grad():
        ours.mul_(2)
    theirs.mul_(2)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    assert x._version == t._version == 1


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_do_not_share(name, fresh_rng):
    x = chainrule.tensor(fresh_rng.standard_normal((3, 4)))
    before = x.numpy().copy()
    out = COPIES[name](x)
    out.mul_(0)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x._version == 0 and out._base is None


def test_a_changed_view_is_caught_by_the_version_check(fresh_rng):
    x = chainrule.tensor(fresh_rng.standard_normal((3, 4)), requires_grad=True)
    y = x * 2
    z = y.exp()
    part = z.narrow(0, 0, 1)
    with chainrule.no_grad():
        part.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_in_place_on_a_view_of_a_leaf_raises():
    x = chainrule.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.narrow(0, 0, 1).zero_()


# ------------------------------------------------------------------------------------------ errors
def _x():
    return chainrule.zeros(3, 4)


ERRORS = [
    ("unflatten sizes", lambda: _x().unflatten(1, (3, 2)), ValueError, "unflatten.*multiply"),
    ("unflatten two -1", lambda: _x().unflatten(1, (-1, -1)), ValueError, "one dimension"),
    ("flip dim", lambda: _x().flip(2), IndexError, "flip.*range"),
    ("flip twice", lambda: _x().flip(0, 0), ValueError, "multiple times"),
    ("roll align", lambda: _x().roll((1, 2), 0), ValueError, "shifts and dimensions must align"),
    ("roll no dims", lambda: _x().roll((1, 2)), ValueError, "shifts and dimensions"),
    ("roll dim", lambda: _x().roll(1, 5), IndexError, "roll.*range"),
    ("repeat short", lambda: _x().repeat(2), ValueError, "repeat.*can not be smaller"),
    ("repeat negative", lambda: _x().repeat(2, -1), ValueError, "negative"),
    ("split sizes", lambda: _x().split([1, 1], 0), ValueError, "sum exactly to 3"),
    ("split zero", lambda: _x().split(0), ValueError, "positive"),
    ("split dim", lambda: _x().split(1, 2), IndexError, "split.*range"),
    ("chunk zero", lambda: _x().chunk(0), ValueError, "greater than 0"),
    ("unbind 0-d", lambda: chainrule.tensor(1.0).unbind(), IndexError, "no dimensions"),
    ("narrow long", lambda: _x().narrow(1, 3, 2), ValueError, r"start \(3\) \+ length \(2\) exceeds"),
    ("narrow start", lambda: _x().narrow(1, 5, 0), IndexError, "start out of range"),
    ("tril 1-d", lambda: chainrule.zeros(3).tril(), ValueError, "tril.*at least 2"),
    ("triu 1-d", lambda: chainrule.zeros(3).triu(), ValueError, "triu.*at least 2"),
    ("diagonal same dims", lambda: _x().diagonal(0, 1, -1), ValueError, "cannot be identical"),
    ("diagonal dim", lambda: _x().diagonal(0, 0, 2), IndexError, "diagonal.*range"),
    ("diag 3-d", lambda: chainrule.zeros(2, 2, 2).diag(), ValueError, "1D or 2D"),
    ("diag_embed 0-d", lambda: chainrule.tensor(1.0).diag_embed(), ValueError, "diag_embed"),
    ("diagonal_scatter shape", lambda: _x().diagonal_scatter(chainrule.zeros(4)), ValueError, r"diagonal_scatter.*\[3\]"),
    ("movedim count", lambda: _x().movedim((0, 1), 0), ValueError, "same number of dims"),
    ("movedim repeat", lambda: _x().movedim((0, 1), (1, 1)), ValueError, "multiple times"),
    ("pad odd", lambda: chainrule.nn.functional.pad(_x(), (1, 2, 3)), ValueError, "divisible by 2"),
    ("pad long", lambda: chainrule.nn.functional.pad(_x(), (1,) * 6), ValueError, "too large"),
    ("pad mode", lambda: chainrule.nn.functional.pad(_x(), (1, 1), mode="mirror"), ValueError, "mode"),
    ("pad reflect wide", lambda: chainrule.nn.functional.pad(_x(), (4, 0), mode="reflect"), ValueError, "less than"),
    ("pad circular wide", lambda: chainrule.nn.functional.pad(_x(), (0, 5), mode="circular"), ValueError, "less than or equal"),
    ("pad reflect value", lambda: chainrule.nn.functional.pad(_x(), (1, 1), mode="reflect", value=2.0), ValueError, "value"),
    ("pad reflect 1-d", lambda: chainrule.nn.functional.pad(chainrule.zeros(4), (1, 1), mode="reflect"),
     NotImplementedError, "not supported for 1D"),
    ("pad negative size", lambda: chainrule.nn.functional.pad(_x(), (-3, -2)), ValueError, "negative output size"),
    ("gather float index", lambda: _x().gather(1, chainrule.zeros(3, 1)), TypeError, "gather.*int64"),
    ("gather ndim", lambda: _x().gather(1, chainrule.tensor([0])), ValueError, "same number of dimensions"),
    ("gather bounds", lambda: _x().gather(1, chainrule.tensor([[4]])), IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    ("gather negative", lambda: _x().gather(1, chainrule.tensor([[-1]])), IndexError, "out of bounds"),
    ("gather larger", lambda: _x().gather(1, chainrule.zeros(4, 1, dtype=chainrule.int64)), ValueError, "dimension 0"),
    ("gather dim", lambda: _x().gather(2, chainrule.zeros(3, 1, dtype=chainrule.int64)), IndexError, "gather.*range"),
    ("scatter src dtype", lambda: _x().scatter(1, chainrule.tensor([[0]]), chainrule.ones(1, 1, dtype=chainrule.int64)),
     TypeError, "dtype"),
    ("scatter src small", lambda: _x().scatter(1, chainrule.tensor([[0, 1]]), chainrule.ones(1, 1)), ValueError, "src"),
    ("scatter both", lambda: _x().scatter(1, chainrule.tensor([[0]]), chainrule.ones(1, 1), value=1.0), TypeError, "exactly one"),
    ("scatter reduce", lambda: _x().scatter(1, chainrule.tensor([[0]]), chainrule.ones(1, 1), reduce="multiply"),
     ValueError, "reduce"),
    ("scatter_add number", lambda: _x().scatter_add(1, chainrule.tensor([[0]]), 1.0), TypeError, "src must be a Tensor"),
    ("scatter_add bounds", lambda: _x().scatter_add(0, chainrule.tensor([[3]]), chainrule.ones(1, 1)), IndexError, "out of bounds"),
    ("index_select 2-d", lambda: _x().index_select(0, chainrule.tensor([[0]])), ValueError, "vector"),
    ("index_select bounds", lambda: _x().index_select(0, chainrule.tensor([3])), IndexError, "index_select.*out of bounds"),
    ("index_select float", lambda: _x().index_select(0, chainrule.tensor([0.0])), TypeError, "index_select.*int64"),
    ("index_add shape", lambda: _x().index_add(0, chainrule.tensor([0, 1]), chainrule.ones(2, 3)), ValueError, r"index_add.*\[2, 4\]"),
    ("index_add dtype", lambda: _x().index_add(0, chainrule.tensor([0]), chainrule.ones(1, 4, dtype=chainrule.float64)),
     TypeError, "dtype"),
    ("masked_fill mask dtype", lambda: _x().masked_fill(chainrule.zeros(3, 4), 1.0), TypeError, "boolean masks"),
    ("masked_fill value", lambda: _x().masked_fill(chainrule.zeros(3, 4) > 0, chainrule.ones(2)), ValueError, "0-dimensional"),
    ("masked_fill shape", lambda: _x().masked_fill(chainrule.zeros(2, 4) > 0, 1.0), ValueError, "masked_fill"),
    ("masked_select shape", lambda: _x().masked_select(chainrule.zeros(5) > 0), ValueError, "masked_select"),
    ("take_along_dim ndim", lambda: _x().take_along_dim(chainrule.tensor([0]), 1), ValueError, "same number of dimensions"),
    ("take_along_dim bounds", lambda: _x().take_along_dim(chainrule.tensor([[9]]), 1), IndexError, "out of bounds"),
    ("one_hot dtype", lambda: chainrule.nn.functional.one_hot(chainrule.tensor([1, 2], dtype=chainrule.int32)), TypeError, "LongTensor"),
    ("one_hot empty", lambda: chainrule.nn.functional.one_hot(chainrule.zeros(0, dtype=chainrule.int64)), ValueError, "empty"),
    ("one_hot too small", lambda: chainrule.nn.functional.one_hot(chainrule.tensor([3]), 3), ValueError, "smaller than num_classes"),
    ("one_hot negative", lambda: chainrule.nn.functional.one_hot(chainrule.tensor([-1]), 3), ValueError, "non-negative"),
]


@pytest.mark.parametrize("name, call, error, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_problem(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_errors_are_runtime_errors_as_in_pytorch():
    # Shape and dtype errors are also RuntimeError (PyTorch raises RuntimeError), dims out of range IndexError.
    for call in (lambda: _x().narrow(1, 3, 2), lambda: _x().gather(1, chainrule.zeros(3, 1)), lambda: _x().repeat(2)):
        with pytest.raises(RuntimeError):
            call()


def test_one_hot_is_not_differentiable():
    out = chainrule.nn.functional.one_hot(chainrule.tensor([0, 2, 1]))
    assert out.dtype == chainrule.int64 and not out.requires_grad
    assert out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def test_index_accumulation_is_vectorised_and_exact():
    # Many repeated indices into a large target: the backward of gather/index_select sums them exactly.
    rng = np.random.default_rng(0)
    x = chainrule.tensor(rng.standard_normal((1000, 64)), requires_grad=True)
    index = chainrule.tensor(rng.integers(0, 1000, 200_000))
    x.index_select(0, index).sum().backward()
    counts = np.bincount(index.numpy(), minlength=1000)
    np.testing.assert_allclose(x.grad.numpy(), np.repeat(counts[:, None], 64, 1))
    y = chainrule.tensor(rng.standard_normal((50, 1000)), requires_grad=True)
    picks = chainrule.tensor(rng.integers(0, 1000, (50, 4000)))
    y.gather(1, picks).sum().backward()
    expected = np.stack([np.bincount(row, minlength=1000) for row in picks.numpy()])
    np.testing.assert_allclose(y.grad.numpy(), expected)
