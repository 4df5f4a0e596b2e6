"""The core ops against PyTorch on random inputs with random broadcastable shapes (a fresh seed each run;
see torch_compare.py). The registry test checks fixed samples; this one wanders."""
import numpy as np
import pytest

from torch_compare import broadcastable_shapes, compare_with_torch, random_shape

torch = pytest.importorskip("torch")

BINARY = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b, "pow": lambda m, a, b: a.abs() ** b, "where": lambda m, a, b: m.where(a > b, a, b),
}
UNARY = {
    "exp": lambda m, x: m.exp(x), "log": lambda m, x: m.log(x.abs() + 0.1), "sqrt": lambda m, x: m.sqrt(x.abs() + 0.1),
    "sin": lambda m, x: m.sin(x), "cos": lambda m, x: m.cos(x), "tanh": lambda m, x: m.tanh(x),
    "sigmoid": lambda m, x: m.sigmoid(x), "relu": lambda m, x: m.relu(x), "abs": lambda m, x: m.abs(x),
    "clamp": lambda m, x: m.clamp(x, -0.5, 0.7), "neg": lambda m, x: -x, "square": lambda m, x: x ** 2,
    "sum": lambda m, x: x.sum(), "mean_last": lambda m, x: x.mean(-1) if x.ndim else x.mean(),
    "max": lambda m, x: x.max(), "slice_view": lambda m, x: x.reshape(-1)[1:] * 2,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_with_broadcasting(name, fresh_rng):
    for _ in range(5):
        a_shape, b_shape = broadcastable_shapes(fresh_rng)
        a, b = fresh_rng.standard_normal(a_shape), fresh_rng.standard_normal(b_shape)
        if name == "div":
            b = np.sign(b) * (np.abs(b) + 0.5)
        compare_with_torch(BINARY[name], [a, b], fresh_rng, what=f"{name} {a_shape} {b_shape}")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name, fresh_rng):
    for _ in range(5):
        x = fresh_rng.standard_normal(random_shape(fresh_rng))
        compare_with_torch(UNARY[name], [x], fresh_rng, what=f"{name} {x.shape}")


def test_matmul_batched_broadcasting(fresh_rng):
    for _ in range(5):
        batch_a, batch_b = broadcastable_shapes(fresh_rng, max_dims=2)
        m, k, n = (int(s) for s in fresh_rng.integers(1, 5, 3))
        a, b = fresh_rng.standard_normal(batch_a + (m, k)), fresh_rng.standard_normal(batch_b + (k, n))
        compare_with_torch(lambda lib, x, y: x @ y, [a, b], fresh_rng, what=f"matmul {a.shape} {b.shape}")


def test_float32_results_and_gradients(fresh_rng):
    a = fresh_rng.standard_normal((3, 4)).astype(np.float32)
    b = fresh_rng.standard_normal((4,)).astype(np.float32)
    compare_with_torch(lambda m, x, y: (x * y).tanh().sum(-1), [a, b], fresh_rng, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("a_dtype,b_dtype,b_0d", [("float32", "float64", True), ("int64", "float64", True),
                                                  ("float32", "float64", False), ("float16", "float64", True),
                                                  ("int32", "float32", True), ("bool", "float64", True)])
def test_zero_dim_tensors_promote_as_in_pytorch(a_dtype, b_dtype, b_0d, fresh_rng):
    """A 0-d tensor does not widen a dimensioned tensor of the same category (float32[3] * float64[]
    is float32), but does lift int/bool to its float dtype: PyTorch's rule, not NumPy's."""
    import chainrule
    a = (fresh_rng.standard_normal(3) * 3).astype(a_dtype)
    b = np.asarray(fresh_rng.standard_normal(() if b_0d else (3,)), dtype=b_dtype)
    ours = chainrule.from_numpy(a) * chainrule.from_numpy(b)
    theirs = torch.from_numpy(a) * torch.from_numpy(b)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-3)


def test_max_and_min_of_two_tensors_are_elementwise(fresh_rng):
    a_shape, b_shape = broadcastable_shapes(fresh_rng)
    a, b = fresh_rng.standard_normal(a_shape), fresh_rng.standard_normal(b_shape)
    compare_with_torch(lambda m, x, y: m.max(x, y), [a, b], fresh_rng, what="max(a, b)")
    compare_with_torch(lambda m, x, y: x.min(y), [a, b], fresh_rng, what="a.min(b)")
