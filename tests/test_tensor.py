"""Tensor: creation, dtypes, attributes, conversions, operators (incl. in-place), comparisons and repr.

Every expected number comes from math (written out) or from PyTorch inside the test; tests that
need torch skip without it, and the torch-free assertions live in separate tests that always run.
"""
import math
import operator

import numpy as np
import pytest

import chainrule as cr


def arr(t):
    """Values of a chainrule or torch tensor as a NumPy array."""
    return np.asarray(t.detach().numpy())


def torch_repr(t):
    """repr of a torch tensor in chainrule's namespace (dtype=torch.float64 -> dtype=chainrule.float64)."""
    return repr(t).replace("torch.", "chainrule.")


# ============================================================================ creation and dtypes
class TestDtypeInference:
    def test_python_floats_are_float32(self):
        assert cr.tensor(1.5).dtype is cr.float32
        assert cr.tensor([1.0, 2.0]).dtype is cr.float32
        assert cr.tensor([1, 2.5]).dtype is cr.float32  # mixed int and float

    def test_python_ints_are_int64(self):
        assert cr.tensor(3).dtype is cr.int64
        assert cr.tensor([[1, 2], [3, 4]]).dtype is cr.int64

    def test_python_bools_are_bool(self):
        assert cr.tensor(True).dtype is cr.bool
        assert cr.tensor([True, False]).dtype is cr.bool

    def test_numpy_arrays_keep_their_dtype(self):
        assert cr.tensor(np.array([1.0, 2.0])).dtype is cr.float64
        assert cr.tensor(np.array([1.0], dtype=np.float32)).dtype is cr.float32
        assert cr.tensor(np.array([1, 2], dtype=np.int32)).dtype is cr.int32
        assert cr.tensor(np.float64(2.0)).dtype is cr.float64

    def test_explicit_dtype(self):
        t = cr.tensor([1, 2], dtype=cr.float64)
        assert t.dtype is cr.float64
        assert t.numpy().dtype == np.float64
        assert cr.tensor([1.7, -1.7], dtype=cr.int64).tolist() == [1, -1]
        assert cr.tensor([0, 2], dtype=cr.bool).tolist() == [False, True]

    def test_dtype_names(self):
        assert repr(cr.float32) == "chainrule.float32"
        assert cr.float32.is_floating_point and not cr.int64.is_floating_point
        assert cr.float is cr.float32 and cr.double is cr.float64 and cr.long is cr.int64

    def test_ops_keep_float32(self):
        x = cr.tensor([1.0, 2.0])
        for result in (x * 2.5, x + 1, 2.0 ** x, x / 3, x.exp(), cr.tensor([1, 2]) / 2, cr.tensor([1, 2]) * 0.5):
            assert result.dtype is cr.float32, result

    def test_float64_is_kept(self):
        x = cr.tensor(np.array([1.0, 2.0]))
        assert (x * 2.5).dtype is cr.float64
        assert (x + cr.ones(2)).dtype is cr.float64

    @pytest.mark.parametrize("expr", [
        "T.tensor(3)", "T.tensor(3.)", "T.tensor(True)", "T.tensor([1, 2])", "T.tensor([1., 2])",
        "T.tensor([True, False])", "T.tensor(np.array([1., 2.]))", "T.tensor(np.array([1, 2], dtype=np.int32))",
        "T.tensor(np.float64(2.))", "T.tensor([1, 2]) / 2", "T.tensor([1, 2]) * 1.5", "T.tensor([1, 2]) // 2",
        "T.tensor([1., 2.]) > 1", "T.tensor([1, 2]).float()", "T.tensor([1., 2.]).long()",
        "T.tensor([1., 2.]).double()", "T.tensor([1, 2]).double()", "T.tensor([1., 2.]).to(T.float64)",
        "T.ones(2) ** 2", "2 ** T.ones(2)", "T.tensor([1, 2]) ** 2", "T.tensor(np.array([1., 2.])) * 2.",
        "T.tensor(np.array([1., 2.])) + T.ones(2)", "T.tensor([1, 2], dtype=T.float32)", "T.tensor([])",
        "T.tensor([1, 2]) + True", "T.zeros(2, 3)", "T.ones(2, dtype=T.float64)", "T.full((2, 2), 3.)",
        "T.full((2, 2), 3)", "T.full((2, 2), True)", "T.empty(3)", "T.arange(5)", "T.arange(0, 1, 0.25)",
        "T.arange(1., 4.)", "T.linspace(0, 1, 5)", "T.eye(3)", "T.eye(2, 3)", "T.rand(2, 3)", "T.randn(4)",
        "T.randint(0, 10, (3,))", "T.randint(10, (3,))", "T.zeros_like(T.ones(2, dtype=T.int64))",
        "T.ones_like(T.ones(2))", "T.full_like(T.ones(2), 7)", "T.as_tensor([1., 2.])",
        "T.as_tensor(np.array([1., 2.]))", "T.from_numpy(np.array([1., 2.]))", "T.from_numpy(np.array([1, 2]))",
    ])
    def test_dtype_and_shape_match_torch(self, expr):
        torch = pytest.importorskip("torch")
        ours = eval(expr, {"T": cr, "np": np})
        theirs = eval(expr, {"T": torch, "np": np})
        assert repr(ours.dtype) == repr(theirs.dtype).replace("torch.", "chainrule."), expr
        assert tuple(ours.shape) == tuple(theirs.shape), expr


class TestCreation:
    def test_tensor_copies_its_data(self):
        a = np.array([1.0, 2.0])
        t = cr.tensor(a)
        a[0] = 100.0
        assert t.tolist() == [1.0, 2.0]

    def test_tensor_from_tensor_copies(self):
        x = cr.tensor([1.0, 2.0])
        y = cr.tensor(x)
        y.add_(1)
        assert x.tolist() == [1.0, 2.0]

    def test_tensor_requires_grad(self):
        t = cr.tensor([1.0], requires_grad=True)
        assert t.requires_grad and t.is_leaf and t.grad_fn is None

    def test_nested_lists_of_tensors(self):
        t = cr.tensor([cr.tensor(1.0), cr.tensor(2.0)])
        assert t.tolist() == [1.0, 2.0] and t.dtype is cr.float32

    def test_as_tensor_shares_numpy_memory(self):
        a = np.array([1.0, 2.0, 3.0])
        t = cr.as_tensor(a)
        a[1] = 20.0
        assert t.tolist() == [1.0, 20.0, 3.0]
        assert t.dtype is cr.float64

    def test_as_tensor_of_a_tensor_is_itself(self):
        x = cr.tensor([1.0])
        assert cr.as_tensor(x) is x
        assert cr.as_tensor(x, dtype=cr.float64).dtype is cr.float64

    def test_as_tensor_of_a_list_is_float32(self):
        assert cr.as_tensor([1.0, 2.0]).dtype is cr.float32

    def test_from_numpy_shares_memory_both_ways(self):
        a = np.zeros(3)
        t = cr.from_numpy(a)
        a[0] = 5.0
        assert t[0].item() == 5.0
        t[1] = 7.0
        assert a[1] == 7.0
        assert np.shares_memory(t.numpy(), a)
        assert t.dtype is cr.float64

    def test_from_numpy_rejects_lists(self):
        with pytest.raises(TypeError, match="np.ndarray"):
            cr.from_numpy([1.0, 2.0])

    def test_zeros_ones_full_empty(self):
        assert cr.zeros(2, 3).tolist() == [[0.0] * 3] * 2
        assert cr.zeros((2, 3)).shape == (2, 3)
        assert cr.zeros([2, 3]).shape == (2, 3)
        assert cr.ones(4).tolist() == [1.0] * 4
        assert cr.full((2,), 3.5).tolist() == [3.5, 3.5]
        assert cr.full((2,), 3.5).dtype is cr.float32
        assert cr.full((2,), 3).dtype is cr.int64
        assert cr.empty(2, 5).shape == (2, 5)
        assert cr.zeros(2, dtype=cr.int64).dtype is cr.int64
        assert cr.zeros(()).shape == ()
        assert cr.zeros(0, 3).shape == (0, 3)

    def test_negative_size_is_rejected(self):
        with pytest.raises(ValueError, match="negative dimension"):
            cr.zeros(2, -1)

    def test_arange(self):
        assert cr.arange(5).tolist() == [0, 1, 2, 3, 4]
        assert cr.arange(5).dtype is cr.int64
        assert cr.arange(2, 8, 2).tolist() == [2, 4, 6]
        assert cr.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
        assert cr.arange(0, 1, 0.25).dtype is cr.float32
        assert cr.arange(3, dtype=cr.float64).dtype is cr.float64

    def test_linspace(self):
        t = cr.linspace(0, 1, 5)
        assert t.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
        assert t.dtype is cr.float32
        assert cr.linspace(-1, 1, 1).tolist() == [-1.0]

    def test_eye(self):
        assert cr.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
        assert cr.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
        assert cr.eye(3).dtype is cr.float32

    def test_rand_randn_randint(self):
        r = cr.rand(1000)
        assert r.dtype is cr.float32 and r.shape == (1000,)
        assert 0.0 <= r.min().item() and r.max().item() < 1.0
        n = cr.randn(2000, dtype=cr.float64)
        assert n.dtype is cr.float64
        assert abs(n.mean().item()) < 0.15 and 0.8 < float(np.std(n.numpy())) < 1.2
        i = cr.randint(3, 7, (500,))
        assert i.dtype is cr.int64 and set(i.tolist()) == {3, 4, 5, 6}
        assert set(cr.randint(2, (100,)).tolist()) <= {0, 1}

    def test_randint_needs_a_size(self):
        with pytest.raises(TypeError, match="size"):
            cr.randint(0, 10)

    def test_like_factories(self):
        x = cr.ones(2, 3, dtype=cr.float64)
        for fn in (cr.zeros_like, cr.ones_like, cr.rand_like, cr.randn_like, cr.empty_like):
            y = fn(x)
            assert y.shape == (2, 3) and y.dtype is cr.float64, fn
        assert cr.zeros_like(x).tolist() == [[0.0] * 3] * 2
        assert cr.ones_like(cr.tensor([1, 2])).dtype is cr.int64
        assert cr.full_like(x, 7).tolist() == [[7.0] * 3] * 2
        assert cr.zeros_like(x, dtype=cr.float32).dtype is cr.float32

    def test_factories_requires_grad(self):
        for t in (cr.zeros(2, requires_grad=True), cr.ones(2, requires_grad=True), cr.randn(2, requires_grad=True),
                  cr.full((2,), 1.0, requires_grad=True), cr.linspace(0, 1, 3, requires_grad=True),
                  cr.zeros_like(cr.ones(2), requires_grad=True)):
            assert t.requires_grad and t.is_leaf

    def test_manual_seed_repeats_numbers(self):
        cr.manual_seed(123)
        a = (cr.rand(5), cr.randn(5), cr.randint(0, 100, (5,)))
        cr.manual_seed(123)
        b = (cr.rand(5), cr.randn(5), cr.randint(0, 100, (5,)))
        for x, y in zip(a, b):
            assert x.tolist() == y.tolist()
        cr.manual_seed(124)
        assert cr.rand(5).tolist() != a[0].tolist()

    @pytest.mark.parametrize("expr", [
        "T.zeros(2, 3)", "T.ones(4)", "T.full((2, 2), 3.5)", "T.arange(5)", "T.arange(2, 9, 3)",
        "T.arange(0, 1, 0.25)", "T.linspace(0, 1, 5)", "T.linspace(-2, 3, 7)", "T.eye(3)", "T.eye(2, 4)",
        "T.zeros_like(T.ones(2, 2))", "T.ones_like(T.tensor([1, 2]))", "T.full_like(T.ones(3), 2)",
    ])
    def test_factory_values_match_torch(self, expr):
        torch = pytest.importorskip("torch")
        ours = eval(expr, {"T": cr})
        theirs = eval(expr, {"T": torch})
        np.testing.assert_allclose(arr(ours), arr(theirs), rtol=1e-6)
        assert repr(ours) == torch_repr(theirs)


# ============================================================================ attributes
class TestAttributes:
    def test_leaf_attributes(self):
        x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        assert x.grad is None and x.grad_fn is None
        assert x.requires_grad and x.is_leaf
        assert x.shape == (2, 3) and isinstance(x.shape, tuple)
        assert repr(x.shape) == "chainrule.Size([2, 3])"
        assert x.dtype is cr.float32
        assert str(x.device) == "cpu" and repr(x.device) == "device(type='cpu')"
        assert x.ndim == 2

    def test_non_leaf_attributes(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        assert y.requires_grad and not y.is_leaf
        assert y.grad_fn is not None and y.grad_fn.name() == "MulBackward0"

    def test_results_without_grad_are_leaves(self):
        y = cr.tensor([1.0]) * 2
        assert y.is_leaf and not y.requires_grad and y.grad_fn is None

    def test_data_shares_memory_and_is_detached(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        assert not d.requires_grad and d.is_leaf
        d[0] = 10.0  # allowed: .data is outside the graph
        assert x.tolist() == [10.0, 2.0]

    def test_data_setter(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        x.data = cr.tensor([3.0, 4.0])
        assert x.tolist() == [3.0, 4.0] and x.requires_grad

    def test_size_dim_numel(self):
        x = cr.zeros(2, 3, 4)
        assert x.size() == (2, 3, 4)
        assert x.size(1) == 3 and x.size(-1) == 4
        assert x.dim() == 3 and x.numel() == 24
        assert cr.tensor(5.0).dim() == 0 and cr.tensor(5.0).numel() == 1
        with pytest.raises(IndexError, match=r"\[-3, 2\]"):
            x.size(3)

    def test_requires_grad_setter(self):
        x = cr.tensor([1.0])
        x.requires_grad = True
        assert x.requires_grad
        assert x.requires_grad_(False) is x and not x.requires_grad

    def test_requires_grad_of_non_leaf_cannot_be_cleared(self):
        y = cr.tensor([1.0], requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="detach"):
            y.requires_grad = False

    def test_matches_torch(self):
        torch = pytest.importorskip("torch")
        for lib in (cr, torch):
            x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
            y = (x * 2).sum()
            assert (x.is_leaf, y.is_leaf, x.requires_grad, y.requires_grad, x.ndim, y.ndim) == \
                   (True, False, True, True, 2, 0)
            assert (x.size(), x.dim(), x.numel(), y.item()) == ((2, 2), 2, 4, 20.0)


# ============================================================================ conversions
class TestConversions:
    def test_item(self):
        assert cr.tensor(2.5).item() == 2.5 and isinstance(cr.tensor(2.5).item(), float)
        assert cr.tensor([3]).item() == 3 and isinstance(cr.tensor([3]).item(), int)
        assert cr.tensor(True).item() is True

    def test_item_of_many_elements_fails(self):
        with pytest.raises(RuntimeError, match="2 elements cannot be converted to Scalar"):
            cr.tensor([1.0, 2.0]).item()
        with pytest.raises(ValueError):
            cr.tensor([1.0, 2.0]).item()

    def test_tolist(self):
        assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
        assert cr.tensor(1.5).tolist() == 1.5
        assert cr.tensor([0.5, 1.5], requires_grad=True).tolist() == [0.5, 1.5]

    def test_numpy_shares_memory(self):
        t = cr.tensor([1.0, 2.0])
        a = t.numpy()
        a[0] = 9.0
        assert t.tolist() == [9.0, 2.0]

    def test_numpy_refuses_tensors_that_require_grad(self):
        x = cr.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"requires grad.*\.detach\(\)"):
            x.numpy()
        with pytest.raises(RuntimeError, match=r"requires grad.*\.detach\(\)"):
            (x * 2).numpy()
        assert x.detach().numpy().tolist() == [1.0]

    def test_np_asarray(self):
        t = cr.tensor([1.0, 2.0])
        a = np.asarray(t)
        assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
        assert np.shares_memory(a, t.numpy())
        assert np.asarray(t, dtype=np.float64).dtype == np.float64
        assert np.array(cr.tensor([1, 2])).tolist() == [1, 2]

    def test_np_asarray_refuses_tensors_that_require_grad(self):
        with pytest.raises(RuntimeError, match="detach"):
            np.asarray(cr.tensor([1.0], requires_grad=True))

    def test_python_number_conversions(self):
        t = cr.tensor(2.75)
        assert float(t) == 2.75 and int(t) == 2
        assert [10, 20, 30][cr.tensor(1)] == 20
        assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0.0))
        with pytest.raises(RuntimeError, match="ambiguous"):
            bool(cr.tensor([1.0, 2.0]))

    def test_len_and_iter(self):
        t = cr.tensor([[1, 2], [3, 4], [5, 6]])
        assert len(t) == 3
        assert [row.tolist() for row in t] == [[1, 2], [3, 4], [5, 6]]
        with pytest.raises(TypeError):
            len(cr.tensor(1.0))

    def test_detach(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 2).detach()
        assert not y.requires_grad and y.is_leaf and y.grad_fn is None
        d = x.detach()
        d[0] = 5.0
        assert x.tolist() == [5.0, 2.0]  # shared memory

    def test_clone_copies_and_keeps_the_graph(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        c = x.clone()
        assert c.grad_fn.name() == "CloneBackward0" and not c.is_leaf
        (c * c).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0]
        plain = cr.tensor([1.0])
        copy = plain.clone()
        copy[0] = 3.0
        assert plain.tolist() == [1.0]

    def test_requires_grad_on_integers_fails(self):
        with pytest.raises(RuntimeError, match="floating point"):
            cr.tensor([1, 2]).requires_grad_()

    def test_type_and_to(self):
        x = cr.tensor([1.7, -1.7])
        assert x.type() == "chainrule.FloatTensor"
        assert x.double().type() == "chainrule.DoubleTensor"
        assert x.long().type() == "chainrule.LongTensor"
        assert x.type(cr.float64).dtype is cr.float64
        assert x.to(cr.float64).dtype is cr.float64
        assert x.to(cr.float64).numpy().dtype == np.float64
        assert x.to(cr.float32) is x  # no copy when nothing changes
        assert x.to("cpu") is x
        assert x.to("cpu", cr.float64).dtype is cr.float64
        assert x.long().tolist() == [1, -1]  # truncation toward zero
        assert cr.tensor([1, 2]).float().dtype is cr.float32
        assert cr.tensor([1, 2]).double().tolist() == [1.0, 2.0]
        assert cr.tensor([1, 2]).double().dtype is cr.float64
        assert x.to(cr.tensor([1])).dtype is cr.int64  # like another tensor

    def test_gradient_through_dtype_casts(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x.double()
        assert y.dtype is cr.float64 and y.grad_fn.name() == "ToCopyBackward0"
        (y * y).sum().backward()
        assert x.grad.dtype is cr.float32
        assert x.grad.tolist() == [2.0, 4.0]

    def test_cast_to_integer_cuts_the_graph(self):
        x = cr.tensor([1.5], requires_grad=True)
        assert not x.long().requires_grad

    def test_device_moves(self):
        x = cr.ones(2)
        assert x.cpu() is x
        with pytest.raises(RuntimeError, match="CPU"):
            x.cuda()


# ============================================================================ operators
BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


class TestOperators:
    def test_values(self):
        a = cr.tensor([1.0, 2.0, 4.0])
        b = cr.tensor([2.0, 2.0, 0.5])
        assert (a + b).tolist() == [3.0, 4.0, 4.5]
        assert (a - b).tolist() == [-1.0, 0.0, 3.5]
        assert (a * b).tolist() == [2.0, 4.0, 2.0]
        assert (a / b).tolist() == [0.5, 1.0, 8.0]
        assert (a ** b).tolist() == [1.0, 4.0, 2.0]
        assert (a // b).tolist() == [0.0, 1.0, 8.0]
        assert (a % b).tolist() == [1.0, 0.0, 0.0]
        assert (cr.tensor([7, -7, 7]) % cr.tensor([3, 3, -3])).tolist() == [1, 2, -2]  # sign of the divisor
        assert (cr.tensor([5.5, -5.5]) % 2).tolist() == [1.5, 0.5]
        assert (-a).tolist() == [-1.0, -2.0, -4.0]
        assert (+a).tolist() == [1.0, 2.0, 4.0]
        assert abs(cr.tensor([-1.5, 2.0])).tolist() == [1.5, 2.0]
        assert (a @ b).item() == 2.0 + 4.0 + 2.0
        m = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
        assert (m @ m).tolist() == [[7.0, 10.0], [15.0, 22.0]]

    def test_reflected_forms(self):
        a = cr.tensor([1.0, 2.0, 4.0])
        assert (1 + a).tolist() == [2.0, 3.0, 5.0]
        assert (1 - a).tolist() == [0.0, -1.0, -3.0]
        assert (3 * a).tolist() == [3.0, 6.0, 12.0]
        assert (4 / a).tolist() == [4.0, 2.0, 1.0]
        assert (2 ** a).tolist() == [2.0, 4.0, 16.0]
        assert (5 // a).tolist() == [5.0, 2.0, 1.0]
        assert (5 % a).tolist() == [0.0, 1.0, 1.0]
        assert (7 % cr.tensor([3, -3])).tolist() == [1, -2]
        assert (np.float64(2.0) * a).tolist() == [2.0, 4.0, 8.0]  # NumPy scalars defer to the tensor
        assert isinstance(np.float64(2.0) * a, cr.Tensor)
        assert ([[1.0, 0.0], [0.0, 1.0]] @ cr.tensor([[2.0], [3.0]])).tolist() == [[2.0], [3.0]]
        assert isinstance(np.ones(3) + a, cr.Tensor)

    def test_bitwise_on_bools(self):
        p = cr.tensor([True, True, False])
        q = cr.tensor([True, False, False])
        assert (p & q).tolist() == [True, False, False]
        assert (p | q).tolist() == [True, True, False]
        assert (p ^ q).tolist() == [False, True, False]
        assert (~p).tolist() == [False, False, True]

    def test_gradients_of_binary_operators(self):
        # d/da and d/db written out: a+b: 1, 1; a-b: 1, -1; a*b: b, a; a/b: 1/b, -a/b^2; a**b: b a^(b-1), a^b ln a
        av, bv = 1.5, 0.5
        expected = {
            operator.add: (1.0, 1.0), operator.sub: (1.0, -1.0), operator.mul: (bv, av),
            operator.truediv: (1 / bv, -av / bv ** 2), operator.pow: (bv * av ** (bv - 1), av ** bv * math.log(av)),
        }
        for op, (da, db) in expected.items():
            a = cr.tensor(av, dtype=cr.float64, requires_grad=True)
            b = cr.tensor(bv, dtype=cr.float64, requires_grad=True)
            op(a, b).backward()
            assert a.grad.item() == pytest.approx(da) and b.grad.item() == pytest.approx(db), op

    def test_gradients_of_reflected_operators(self):
        x = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
        for fn, expected in ((lambda x: 3 + x, 1.0), (lambda x: 3 - x, -1.0), (lambda x: 3 * x, 3.0),
                             (lambda x: 3 / x, -3 / 4), (lambda x: 3 ** x, 9 * math.log(3)),
                             (lambda x: -x, -1.0), (lambda x: abs(-x), 1.0), (lambda x: +x * 1, 1.0)):
            x.grad = None
            fn(x).backward()
            assert x.grad.item() == pytest.approx(expected)

    def test_matmul_gradient(self):
        a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        b = cr.tensor([[1.0], [-1.0]], requires_grad=True)
        (a @ b).sum().backward()
        # d sum(a @ b)/da = ones(2,1) @ b.T ; /db = a.T @ ones(2,1)
        assert a.grad.tolist() == [[1.0, -1.0], [1.0, -1.0]]
        assert b.grad.tolist() == [[4.0], [6.0]]

    @pytest.mark.parametrize("name", ["add", "sub", "mul", "truediv", "pow", "floordiv", "matmul", "radd", "rsub",
                                      "rmul", "rtruediv", "rpow", "neg", "abs", "mod", "rmod", "mod_scalar"])
    def test_operators_match_torch(self, name):
        torch = pytest.importorskip("torch")
        fns = {
            "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
            "truediv": lambda a, b: a / b, "pow": lambda a, b: a ** b,
            "floordiv": lambda a, b: (a.detach() * 3) // b.detach(),  # torch: no derivative for floor_divide
            "matmul": lambda a, b: a @ b.T, "radd": lambda a, b: 2 + a, "rsub": lambda a, b: 2 - b,
            "rmul": lambda a, b: 2.5 * a, "rtruediv": lambda a, b: 2 / b, "rpow": lambda a, b: 1.5 ** a,
            "neg": lambda a, b: -a, "abs": lambda a, b: abs(a - b), "mod": lambda a, b: (a * 3) % b,
            "rmod": lambda a, b: 7.0 % b.detach(),  # torch has no gradient for scalar % tensor
            "mod_scalar": lambda a, b: a % 0.75,
        }
        a_val = [[0.5, 1.25, 2.0], [1.5, 0.75, 3.0]]
        b_val = [[1.0, 2.0, 0.5], [2.5, 1.5, 1.0]]
        results = []
        for lib in (cr, torch):
            a = lib.tensor(a_val, requires_grad=True)
            b = lib.tensor(b_val, requires_grad=True)
            out = fns[name](a, b)
            if out.requires_grad:
                (out * lib.tensor(2.0)).sum().backward()
            grads = [None if t.grad is None else arr(t.grad) for t in (a, b)]
            results.append((arr(out), grads, repr(out.dtype).split(".")[-1]))
        (o1, g1, d1), (o2, g2, d2) = results
        np.testing.assert_allclose(o1, o2, rtol=1e-6)
        assert d1 == d2
        for x, y in zip(g1, g2):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-5)

    def test_broadcasting(self):
        a = cr.tensor([[1.0], [2.0], [3.0]])
        b = cr.tensor([10.0, 20.0])
        assert (a + b).tolist() == [[11.0, 21.0], [12.0, 22.0], [13.0, 23.0]]


class TestComparisons:
    def test_comparisons_return_bool_tensors(self):
        a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = cr.tensor([3.0, 2.0, 1.0])
        cases = {
            "==": (a == b, [False, True, False]), "!=": (a != b, [True, False, True]),
            "<": (a < b, [True, False, False]), "<=": (a <= b, [True, True, False]),
            ">": (a > b, [False, False, True]), ">=": (a >= b, [False, True, True]),
            "> scalar": (a > 1.5, [False, True, True]), "scalar <": (2 < a, [False, False, True]),
        }
        for name, (result, expected) in cases.items():
            assert result.dtype is cr.bool, name
            assert result.tolist() == expected, name
            assert not result.requires_grad and result.grad_fn is None, name

    def test_comparisons_are_not_differentiable(self):
        a = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (a * (a > 1.5)).sum()  # the mask is a constant
        y.backward()
        assert a.grad.tolist() == [0.0, 1.0]

    def test_comparisons_match_torch(self):
        torch = pytest.importorskip("torch")
        vals = ([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
        for op in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
            ours = op(cr.tensor(vals[0], requires_grad=True), cr.tensor(vals[1]))
            theirs = op(torch.tensor(vals[0], requires_grad=True), torch.tensor(vals[1]))
            assert repr(ours) == torch_repr(theirs)
            assert ours.requires_grad == theirs.requires_grad


# ============================================================================ in-place operations
class TestInPlace:
    def test_in_place_operators_keep_identity_and_memory(self):
        x = cr.tensor([1.0, 2.0])
        memory = x.numpy()
        original = x
        x += 1
        x -= 0.5
        x *= 4
        x /= 2
        x **= 2
        assert x is original
        assert np.shares_memory(x.numpy(), memory)
        # ((1 + 1 - 0.5) * 4 / 2) ** 2 = 9 ; ((2 + 1 - 0.5) * 4 / 2) ** 2 = 25
        assert x.tolist() == [9.0, 25.0]
        x //= 2
        x %= 3
        assert x is original and x.tolist() == [1.0, 0.0]  # 4 % 3, 12 % 3
        i = cr.tensor([7, 8])
        i //= 2
        assert i.tolist() == [3, 4] and i.dtype is cr.int64
        i %= 3
        assert i.tolist() == [0, 1]

    def test_named_in_place_methods(self):
        x = cr.tensor([1.0, 2.0, 3.0])
        assert x.add_(1) is x and x.tolist() == [2.0, 3.0, 4.0]
        assert x.add_(cr.ones(3), alpha=2) is x and x.tolist() == [4.0, 5.0, 6.0]
        assert x.sub_(1) is x and x.tolist() == [3.0, 4.0, 5.0]
        assert x.mul_(2) is x and x.tolist() == [6.0, 8.0, 10.0]
        assert x.div_(2) is x and x.tolist() == [3.0, 4.0, 5.0]
        assert x.fill_(7) is x and x.tolist() == [7.0, 7.0, 7.0]
        assert x.zero_() is x and x.tolist() == [0.0, 0.0, 0.0]
        assert x.copy_(cr.tensor([1, 2, 3])) is x and x.tolist() == [1.0, 2.0, 3.0]
        assert x.dtype is cr.float32
        x.copy_(np.array([4.0, 5.0, 6.0]))
        assert x.tolist() == [4.0, 5.0, 6.0] and x.dtype is cr.float32

    def test_setitem(self):
        x = cr.zeros(2, 3)
        x[0] = 1.0
        x[1, 1:] = cr.tensor([5.0, 6.0])
        x[:, 0] += 10
        assert x.tolist() == [[11.0, 1.0, 1.0], [10.0, 5.0, 6.0]]
        y = cr.arange(5)
        y[y > 2] = 0
        assert y.tolist() == [0, 1, 2, 0, 0] and y.dtype is cr.int64

    def test_in_place_on_a_view_writes_through(self):
        x = cr.zeros(2, 3)
        row = x[1]
        row.add_(2)
        assert x.tolist() == [[0.0] * 3, [2.0] * 3]

    def test_in_place_on_a_single_element_writes_through(self):
        t = cr.zeros(3)
        t[0].add_(1)
        t[1] += 2
        m = cr.zeros(2, 2)
        m[1, 1].fill_(5)
        m[0][1].add_(3)
        assert t.tolist() == [1.0, 2.0, 0.0]
        assert m.tolist() == [[0.0, 3.0], [0.0, 5.0]]

    def test_version_counter(self):
        x = cr.ones(2)
        assert x._version == 0
        x.add_(1)
        x[0] = 3
        x.zero_()
        assert x._version == 3

    def test_in_place_cannot_change_dtype_kind(self):
        x = cr.tensor([1, 2])
        with pytest.raises(TypeError, match="can't be cast"):
            x += 1.5
        with pytest.raises(RuntimeError, match="can't be cast"):
            x.mul_(0.5)

    def test_in_place_cannot_change_shape(self):
        x = cr.ones(3)
        with pytest.raises(RuntimeError, match=r"\[3\].*\[2, 3\]"):
            x += cr.ones(2, 3)

    def test_gradients_through_in_place_ops_on_non_leaves(self):
        x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2          # y = 2x
        y += x             # y = 3x
        y *= x             # y = 3x^2
        y.add_(1)          # y = 3x^2 + 1
        y.mul_(2)          # y = 6x^2 + 2
        y.sub_(x)          # y = 6x^2 + 2 - x
        y /= 2             # y = 3x^2 + 1 - x/2
        assert not y.is_leaf and y.grad_fn is not None
        y.sum().backward()
        # dy/dx = 6x - 1/2
        assert x.grad.tolist() == [5.5, 11.5, 17.5]

    def test_setitem_gradient(self):
        x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = cr.tensor(5.0, requires_grad=True)
        y = x * 1
        y[1] = v * 2
        (y * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
        assert x.grad.tolist() == [1.0, 0.0, 100.0]  # the overwritten slot gets no gradient
        assert v.grad.item() == 20.0

    def test_zero_fill_copy_gradients(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        src = cr.tensor([3.0, 4.0], requires_grad=True)
        y = x * 3
        y.copy_(src * 2)
        y.sum().backward()
        assert src.grad.tolist() == [2.0, 2.0]
        assert x.grad is None or x.grad.tolist() == [0.0, 0.0]
        x.grad = None
        z = x * 3
        z.zero_()
        w = (z + x).sum()
        w.backward()
        assert x.grad.tolist() == [1.0, 1.0]
        x.grad = None
        f = x * 3
        f.fill_(2.0)
        (f * x).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]

    def test_in_place_on_an_indexed_view_of_a_non_leaf(self):
        x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * x
        y[1] *= 2           # row 1: 2 x^2
        col = y[:, 0]
        col += 1            # column 0: +1
        col.mul_(3)         # column 0: *3
        assert y.tolist() == [[6.0, 4.0], [57.0, 32.0]]  # [[3(1+1), 4], [3(2*9+1), 2*16]]
        assert col.tolist() == [6.0, 57.0]
        y.sum().backward()
        # d/dx: [[3*2x, 2x], [3*4x, 4x]]
        assert x.grad.tolist() == [[6.0, 4.0], [36.0, 16.0]]

    def test_in_place_grad_fn_names(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.add_(1)
        assert y.grad_fn.name() == "AddBackward0"
        y.mul_(3)
        assert y.grad_fn.name() == "MulBackward0"

    def test_in_place_under_no_grad_on_a_leaf(self):
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        with cr.no_grad():
            w -= 0.5
            w.mul_(2)
        assert w.is_leaf and w.requires_grad and w.grad_fn is None
        assert w.tolist() == [1.0, 3.0]

    @pytest.mark.parametrize("case", ["iadd", "imul", "isub", "idiv", "ipow", "add_", "mul_", "setitem",
                                      "setitem_tensor", "zero_", "fill_", "copy_", "chain", "view"])
    def test_in_place_matches_torch(self, case):
        torch = pytest.importorskip("torch")

        def run(lib):
            x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
            v = lib.tensor([0.5, -1.5], requires_grad=True)
            y = x * x
            if case == "iadd":
                y += v
            elif case == "imul":
                y *= v
            elif case == "isub":
                y -= x
            elif case == "idiv":
                y /= v
            elif case == "ipow":
                y **= 3
            elif case == "add_":
                y.add_(v, alpha=3)
            elif case == "mul_":
                y.mul_(x)
            elif case == "setitem":
                y[0, 1] = 7.0
            elif case == "setitem_tensor":
                y[:, 0] = v * v
            elif case == "zero_":
                y.zero_()
                y += x
            elif case == "fill_":
                y.fill_(2.0)
                y *= v
            elif case == "copy_":
                y.copy_(v.expand(2, 2) * 3)
            elif case == "chain":
                y[1] *= 2
                y.sub_(v)
                y /= x
            elif case == "view":
                col = y[:, 1]
                col.add_(x[0])
                col.mul_(v)
                y[0][0] -= v[1]
            y.retain_grad()
            (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
            return arr(y), [None if t.grad is None else arr(t.grad) for t in (x, v, y)], y.grad_fn.name()

        ours, theirs = run(cr), run(torch)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
        for a, b in zip(ours[1], theirs[1]):
            if a is None or b is None:  # an input the graph no longer uses: None or zeros
                assert (a is None or not a.any()) and (b is None or not b.any())
            else:
                np.testing.assert_allclose(a, b, rtol=1e-5)


# ============================================================================ graph helpers on tensors
class TestGraphMethods:
    def test_requires_grad_(self):
        x = cr.tensor([1.0])
        assert x.requires_grad_() is x and x.requires_grad

    def test_retain_grad(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        assert y.retains_grad and not x.retains_grad
        (y * y).sum().backward()
        assert y.grad.tolist() == [6.0, 12.0]  # 2y
        assert x.grad.tolist() == [18.0, 36.0]  # 2y * 3

    def test_retain_grad_on_a_leaf_is_a_no_op(self):
        x = cr.tensor([1.0], requires_grad=True)
        x.retain_grad()
        (x * 2).sum().backward()
        assert x.grad.tolist() == [2.0]

    def test_register_hook(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        handle = x.register_hook(lambda g: calls.append(g.tolist()))
        (x * 5).sum().backward()
        assert calls == [[5.0, 5.0]]
        handle.remove()
        (x * 5).sum().backward()
        assert calls == [[5.0, 5.0]]

    def test_register_hook_needs_requires_grad(self):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            cr.tensor([1.0]).register_hook(lambda g: g)

    def test_hooks_and_retain_grad_match_torch(self):
        torch = pytest.importorskip("torch")
        out = []
        for lib in (cr, torch):
            x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
            y = x.exp() * x
            y.retain_grad()
            y.register_hook(lambda g: g * 2)
            x.register_hook(lambda g: g + 1)
            (y ** 2).sum().backward()
            out.append((arr(x.grad), arr(y.grad)))
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-5)
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-5)


# ============================================================================ repr
class TestRepr:
    def test_literal_reprs(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        assert repr(x) == "tensor([1., 2.], requires_grad=True)"
        assert repr((x * x).sum() + 4) == "tensor(9., grad_fn=<AddBackward0>)"
        assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
        assert repr(x.mean()) == "tensor(1.5000, grad_fn=<MeanBackward0>)"
        assert repr(x ** 2) == "tensor([1., 4.], grad_fn=<PowBackward0>)"
        assert repr(x.sum()) == "tensor(3., grad_fn=<SumBackward0>)"
        assert repr(x.exp()) == "tensor([2.7183, 7.3891], grad_fn=<ExpBackward0>)"
        assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
        assert repr(cr.tensor([True, False])) == "tensor([ True, False])"
        assert repr(cr.tensor([1.0, 2.0], dtype=cr.float64)) == "tensor([1., 2.], dtype=chainrule.float64)"
        assert repr(x.double()) == "tensor([1., 2.], dtype=chainrule.float64, grad_fn=<ToCopyBackward0>)"
        assert repr(x.detach()) == "tensor([1., 2.])"
        assert str(x) == repr(x)

    def test_format_of_scalars(self):
        assert f"{cr.tensor(2.5):.2f}" == "2.50"

    @pytest.mark.parametrize("expr", [
        "x + x", "x * x", "(x ** 2).mean()", "x.exp()", "x.mean()", "x.sum()", "x.pow(3)", "x / 2", "x - 1", "-x",
        "x.sin()", "x.cos()", "x.relu()", "x.sigmoid()", "x.tanh()", "x.log()", "x.sqrt()", "x.abs()", "x[0]",
        "x[0:1]", "x[[0, 1]]", "x.view(2, 1)", "x.reshape(2, 1)", "x.clone()", "x.double()", "x.unsqueeze(0)",
        "x.expand(2, 2)", "x.max()", "x.min()", "2 ** x", "x ** x", "x.sum(0)", "x.mean(0)", "x.clamp(0, 1)",
        "x.clamp(min=0)", "m @ m", "m.T", "m.transpose(0, 1)", "m.permute(1, 0)", "m.sum(1)", "m.max(1)[0]",
        "m.flatten()", "T.cat([x, x])", "T.stack([x, x])", "T.where(x > 1, x, x * 2)", "x.sign()", "x.float()",
        "x.to(T.float64)", "m[0]", "m[0, 0]", "x.sum() * 1.0", "x.exp().sum()", "m.mm(m)", "(x * x).sum() + 4",
        "x", "x.detach()", "x > 1", "x.argmax()", "x.long()", "m * 1e-5", "m * 1e6", "T.tensor([1., 2.]) * 2",
        "x.double() * 1000", "T.zeros(2, 0, requires_grad=True)", "x.broadcast_to(2, 2)",
        "T.broadcast_to(x, (3, 2))",
    ])
    def test_repr_matches_torch(self, expr):
        torch = pytest.importorskip("torch")
        reprs = []
        for lib in (cr, torch):
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            m = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
            reprs.append(repr(eval(expr, {"x": x, "m": m, "T": lib})))
        assert reprs[0] == reprs[1].replace("torch.", "chainrule.")

    def test_grad_fn_names_match_torch(self):
        torch = pytest.importorskip("torch")
        exprs = ["x + 1", "x * 2", "x.mean()", "x ** 2", "x.sum()", "x.exp()", "x / 2", "x - 1", "-x", "x.log()",
                 "x.tanh()", "x.sigmoid()", "x.relu()", "x.abs()", "x.sqrt()", "x.sin()", "x.cos()", "x.clone()",
                 "x.view(2, 1)", "x.unsqueeze(1)", "x.expand(3, 2)", "x[1]", "x[:1]"]
        for expr in exprs:
            names = []
            for lib in (cr, torch):
                x = lib.tensor([1.0, 2.0], requires_grad=True)
                names.append(eval(expr, {"x": x}).grad_fn.name())
            assert names[0] == names[1], expr
