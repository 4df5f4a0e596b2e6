"""Reductions against PyTorch on random inputs with random shapes and dims (a fresh seed each run; see
torch_compare.py): sum, mean, prod, var/std, norms, logsumexp, amax/amin, max/min, argmax/argmin,
cumsum/cumprod, all/any, as functions and Tensor methods, with zeros and ties where they matter, plus
second derivatives of the products and the errors."""
import math
import warnings

import numpy as np
import pytest

import chainrule
from torch_compare import compare_with_torch, random_shape

torch = pytest.importorskip("torch")

INF = math.inf


def random_dims(rng, ndim, allow_none=True):
    """None (all dims), or a random non-empty tuple of distinct dims, some written negatively."""
    if ndim == 0 or (allow_none and rng.random() < 0.2):
        return None
    count = int(rng.integers(1, ndim + 1))
    dims = rng.choice(ndim, count, replace=False)
    return tuple(int(d) - ndim if rng.random() < 0.5 else int(d) for d in dims)


def random_dim(rng, ndim):
    """One dim in [-ndim, ndim) (0-d tensors take 0 or -1)."""
    size = max(ndim, 1)
    return int(rng.integers(-size, size))


def with_zeros(rng, shape, count):
    """Random normal values with ``count`` zeros in random places (all of them if fewer)."""
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, min(count, flat.size), replace=False)] = 0.0
    return x


def second_order(reduce):
    """fn(m, x): the gradient of reduce(m, x) weighted by fixed random numbers, kept differentiable, so that
    compare_with_torch compares second derivatives."""
    def fn(m, x):
        out = reduce(m, x)
        weights = m.tensor(np.cos(np.arange(out.numel()) + 0.5).reshape(tuple(out.shape)), dtype=m.float64)
        return m.autograd.grad((out * weights).sum(), x, create_graph=True)[0]

    return fn


# ------------------------------------------------------------------------------------------ sum, mean
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_over_random_dims(name, fresh_rng):
    for _ in range(8):
        x = fresh_rng.standard_normal(random_shape(fresh_rng, max_dims=4))
        dims = random_dims(fresh_rng, x.ndim)
        keepdim = bool(fresh_rng.random() < 0.5)
        if dims is None:
            fn = (lambda m, t: getattr(m, name)(t)) if not keepdim else \
                 (lambda m, t: getattr(t, name)(dim=tuple(range(t.ndim)), keepdim=True))
        else:
            fn = lambda m, t: getattr(m, name)(t, dims, keepdim)  # noqa: E731
        compare_with_torch(fn, [x], fresh_rng, what=f"{name} {x.shape} dim={dims} keepdim={keepdim}")


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_details(name, fresh_rng):
    x = fresh_rng.standard_normal((3, 4, 2)).astype(np.float32)
    compare_with_torch(lambda m, t: getattr(t, name)(-1), [x], fresh_rng, rtol=1e-5, what=f"{name} dim=-1")
    compare_with_torch(lambda m, t: getattr(m, name)(t, [0, -1], keepdim=True), [x], fresh_rng, rtol=1e-5,
                       what=f"{name} list dims")
    compare_with_torch(lambda m, t: getattr(m, name)(t, dim=()), [x], fresh_rng, rtol=1e-5, what=f"{name} dim=()")
    compare_with_torch(lambda m, t: getattr(m, name)(t, 1, dtype=m.float64), [x], fresh_rng, rtol=1e-5, atol=1e-6,
                       what=f"{name} dtype=float64")
    ints = fresh_rng.integers(-5, 5, (3, 4))
    if name == "sum":
        compare_with_torch(lambda m, t: t.sum(0), [ints], fresh_rng, what="sum of int64")
        compare_with_torch(lambda m, t: (t > 0).sum(), [ints], fresh_rng, what="sum of bool")
    else:
        compare_with_torch(lambda m, t: m.mean(t, 1, dtype=m.float32), [ints], fresh_rng, what="mean dtype= of ints")


# ------------------------------------------------------------------------------------------------ prod
def test_prod_random(fresh_rng):
    for _ in range(6):
        x = fresh_rng.standard_normal(random_shape(fresh_rng))
        compare_with_torch(lambda m, t: m.prod(t), [x], fresh_rng, what=f"prod {x.shape}")
        dim, keepdim = random_dim(fresh_rng, x.ndim), bool(fresh_rng.random() < 0.5)
        compare_with_torch(lambda m, t: t.prod(dim, keepdim), [x], fresh_rng,
                           what=f"prod {x.shape} dim={dim} keepdim={keepdim}")


@pytest.mark.parametrize("zeros", [1, 2, 3])
def test_prod_with_zeros_first_and_second_order(zeros, fresh_rng):
    for _ in range(4):
        shape = random_shape(fresh_rng, min_dims=1, max_size=5)
        x = with_zeros(fresh_rng, shape, zeros)
        dim = random_dim(fresh_rng, x.ndim)
        compare_with_torch(lambda m, t: m.prod(t), [x], fresh_rng, what=f"prod {zeros} zeros {shape}")
        compare_with_torch(lambda m, t: m.prod(t, dim), [x], fresh_rng, what=f"prod {zeros} zeros {shape} dim={dim}")
        compare_with_torch(second_order(lambda m, t: m.prod(t, dim)), [x], fresh_rng,
                           what=f"prod'' {zeros} zeros {shape} dim={dim}")
        compare_with_torch(second_order(lambda m, t: m.prod(t)), [x], fresh_rng, what=f"prod'' {zeros} zeros {shape}")


def test_prod_dtypes(fresh_rng):
    ints = fresh_rng.integers(-3, 4, (3, 4))
    compare_with_torch(lambda m, t: t.prod(), [ints], fresh_rng, what="prod int64")
    compare_with_torch(lambda m, t: m.prod(t > 0, 1), [ints], fresh_rng, what="prod bool -> int64")
    x = fresh_rng.standard_normal((3, 4)).astype(np.float32)
    compare_with_torch(lambda m, t: m.prod(t, 1, dtype=m.float64), [x], fresh_rng, rtol=1e-5, atol=1e-6,
                       what="prod dtype=float64")


# ------------------------------------------------------------------------------------ cumsum, cumprod
def test_cumsum_random(fresh_rng):
    for _ in range(6):
        x = fresh_rng.standard_normal(random_shape(fresh_rng))
        dim = random_dim(fresh_rng, x.ndim)
        compare_with_torch(lambda m, t: m.cumsum(t, dim), [x], fresh_rng, what=f"cumsum {x.shape} dim={dim}")
        compare_with_torch(lambda m, t: t.cumsum(dim=dim) ** 2, [x], fresh_rng, what=f"cumsum method {x.shape}")
    ints = fresh_rng.integers(-3, 4, (3, 4))
    compare_with_torch(lambda m, t: t.cumsum(1), [ints], fresh_rng, what="cumsum int64")
    compare_with_torch(lambda m, t: (t > 0).cumsum(0), [ints], fresh_rng, what="cumsum bool")
    x = fresh_rng.standard_normal((3, 4)).astype(np.float32)
    compare_with_torch(lambda m, t: m.cumsum(t, -1, dtype=m.float64), [x], fresh_rng, rtol=1e-5, atol=1e-6,
                       what="cumsum dtype=")


@pytest.mark.parametrize("zeros", [0, 1, 2, 4])
def test_cumprod_with_zeros_first_and_second_order(zeros, fresh_rng):
    for _ in range(4):
        shape = random_shape(fresh_rng, max_size=6)
        x = with_zeros(fresh_rng, shape, zeros)
        dim = random_dim(fresh_rng, x.ndim)
        compare_with_torch(lambda m, t: m.cumprod(t, dim), [x], fresh_rng, what=f"cumprod {zeros} zeros {shape} {dim}")
        compare_with_torch(second_order(lambda m, t: t.cumprod(dim)), [x], fresh_rng,
                           what=f"cumprod'' {zeros} zeros {shape} dim={dim}")


def test_cumprod_long_sequence_and_dtypes(fresh_rng):
    x = fresh_rng.uniform(0.9, 1.1, (3, 300))
    x[1, 17] = 0.0
    x[2, [5, 200]] = 0.0
    compare_with_torch(lambda m, t: m.cumprod(t, 1), [x], fresh_rng, rtol=1e-9, what="cumprod length 300")
    ints = fresh_rng.integers(-3, 4, (3, 4))
    compare_with_torch(lambda m, t: t.cumprod(1), [ints], fresh_rng, what="cumprod int64")
    f32 = fresh_rng.standard_normal((4, 3)).astype(np.float32)
    compare_with_torch(lambda m, t: m.cumprod(t, 0), [f32], fresh_rng, rtol=1e-5, atol=1e-6, what="cumprod float32")


# --------------------------------------------------------------------------------------------- var, std
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_random(name, fresh_rng):
    for _ in range(8):
        x = fresh_rng.standard_normal(random_shape(fresh_rng, min_dims=1, max_size=5))
        dims = random_dims(fresh_rng, x.ndim)
        n = x.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
        correction = int(fresh_rng.integers(0, 3)) if n > 2 else 0
        keepdim = bool(fresh_rng.random() < 0.5)
        compare_with_torch(lambda m, t: getattr(m, name)(t, dims, correction=correction, keepdim=keepdim), [x],
                           fresh_rng, what=f"{name} {x.shape} dim={dims} correction={correction} keepdim={keepdim}")


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_signatures(name, fresh_rng):
    x = fresh_rng.standard_normal((3, 4))
    cases = {
        "default": lambda m, t: getattr(t, name)(),
        "dim": lambda m, t: getattr(t, name)(1),
        "unbiased=False": lambda m, t: getattr(m, name)(t, 0, unbiased=False),
        "positional unbiased keepdim": lambda m, t: getattr(m, name)(t, 1, True, True),
        "unbiased in dim's place": lambda m, t: getattr(m, name)(t, False),
        "correction=0.5": lambda m, t: getattr(t, name)(dim=(0, 1), correction=0.5),
        "mean pair": lambda m, t: getattr(m, f"{name}_mean")(t, -1, correction=0, keepdim=True),
    }
    for what, fn in cases.items():
        compare_with_torch(fn, [x], fresh_rng, what=f"{name} {what}")


def test_std_of_constant_rows_has_zero_gradient(fresh_rng):
    x = fresh_rng.standard_normal((3, 4))
    x[1] = 0.7
    compare_with_torch(lambda m, t: t.std(1), [x], fresh_rng, what="std with a constant row")
    x = chainrule.tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_var_with_no_degrees_of_freedom_warns_like_torch(fresh_rng):
    x = fresh_rng.standard_normal((4, 1))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        ours = chainrule.tensor(x).var(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.tensor(x).var(1)
    np.testing.assert_array_equal(np.isnan(ours.numpy()), np.isnan(theirs.numpy()))
    assert np.isnan(ours.numpy()).all()


# ----------------------------------------------------------------------------------------- logsumexp
def test_logsumexp_random(fresh_rng):
    for _ in range(8):
        x = fresh_rng.standard_normal(random_shape(fresh_rng, min_dims=1)) * 50
        dims = random_dims(fresh_rng, x.ndim, allow_none=False)
        keepdim = bool(fresh_rng.random() < 0.5)
        compare_with_torch(lambda m, t: m.logsumexp(t, dims, keepdim), [x], fresh_rng,
                           what=f"logsumexp {x.shape} dim={dims} keepdim={keepdim}")
        compare_with_torch(lambda m, t: t.logsumexp(-1), [x], fresh_rng, what=f"logsumexp method {x.shape}")


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # -inf - -inf in the NaN gradient, as PyTorch's
def test_logsumexp_is_stable_and_handles_infinities(fresh_rng):
    big = np.array([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1002.0]])
    compare_with_torch(lambda m, t: m.logsumexp(t, 1), [big], fresh_rng, what="logsumexp of large values")
    x = np.array([[-INF, -INF, -INF], [-INF, 0.5, 1.0], [2.0, -INF, 3.0]])
    compare_with_torch(lambda m, t: m.logsumexp(t, 1), [x], fresh_rng, what="logsumexp with -inf")
    compare_with_torch(lambda m, t: m.logsumexp(t, 1), [np.array([[1.0, INF]])], fresh_rng, what="logsumexp with +inf")
    ints = fresh_rng.integers(-3, 4, (3, 4))
    compare_with_torch(lambda m, t: m.logsumexp(t, 0), [ints], fresh_rng, rtol=1e-6, what="logsumexp of int64")


# ----------------------------------------------------------------------------- amax/amin, max/min, arg*
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_with_ties(name, fresh_rng):
    for _ in range(8):
        shape = random_shape(fresh_rng, max_dims=4)
        x = fresh_rng.integers(-2, 3, shape).astype(np.float64)  # many ties: they share the gradient
        dims = random_dims(fresh_rng, x.ndim)
        keepdim = bool(fresh_rng.random() < 0.5)
        compare_with_torch(lambda m, t: getattr(m, name)(t, () if dims is None else dims, keepdim), [x],
                           fresh_rng, what=f"{name} {shape} dim={dims} keepdim={keepdim}")
        compare_with_torch(lambda m, t: getattr(t, name)(), [x], fresh_rng, what=f"{name} method {shape}")


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_whole_and_along_dim(name, fresh_rng):
    for _ in range(6):
        shape = random_shape(fresh_rng, min_dims=1)
        x = fresh_rng.permutation(int(np.prod(shape))).reshape(shape) + fresh_rng.uniform(0, 0.5, shape)
        dim, keepdim = random_dim(fresh_rng, x.ndim), bool(fresh_rng.random() < 0.5)
        compare_with_torch(lambda m, t: getattr(m, name)(t), [x], fresh_rng, what=f"{name} {shape}")
        compare_with_torch(lambda m, t: getattr(t, name)(dim, keepdim), [x], fresh_rng,
                           what=f"{name} {shape} dim={dim} keepdim={keepdim}")
        ours = getattr(chainrule.tensor(x), name)(dim=dim, keepdim=keepdim)
        theirs = getattr(torch.tensor(x), name)(dim=dim, keepdim=keepdim)
        assert ours._fields == ("values", "indices")
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    ties = np.array([1.0, 3.0, 3.0, 2.0])
    compare_with_torch(lambda m, t: getattr(m, name)(t * (1 if name == "max" else -1)), [ties], fresh_rng,
                       what=f"{name} with a tie")


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, fresh_rng):
    for _ in range(6):
        shape = random_shape(fresh_rng, min_dims=1)
        x = fresh_rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
        dim, keepdim = random_dim(fresh_rng, x.ndim), bool(fresh_rng.random() < 0.5)
        for fn in (lambda m, t: getattr(m, name)(t), lambda m, t: getattr(t, name)(keepdim=keepdim),
                   lambda m, t: getattr(m, name)(t, dim=None, keepdim=True),
                   lambda m, t: getattr(m, name)(t, dim, keepdim)):
            compare_with_torch(fn, [x], fresh_rng, what=f"{name} {shape} dim={dim} keepdim={keepdim}")
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    compare_with_torch(lambda m, t: getattr(m, name)(t, 1), [ties], fresh_rng, what=f"{name} ties -> first")


# ---------------------------------------------------------------------------------------------- all/any
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any(name, fresh_rng):
    for _ in range(6):
        shape = random_shape(fresh_rng, max_dims=4)
        x = np.asarray(fresh_rng.integers(0, 2, shape) * fresh_rng.integers(0, 2, shape))
        dims = random_dims(fresh_rng, x.ndim)
        keepdim = bool(fresh_rng.random() < 0.5)
        for fn in (lambda m, t: getattr(m, name)(t), lambda m, t: getattr(t > 0, name)(),
                   lambda m, t: getattr(m, name)(t.float(), dims if dims is None or len(dims) > 1 else dims[0],
                                                 keepdim=keepdim)):
            compare_with_torch(fn, [x], fresh_rng, what=f"{name} {shape} dim={dims} keepdim={keepdim}")
    x = chainrule.tensor([0.5, -1.0], requires_grad=True)
    assert getattr(x, name)().dtype == chainrule.bool and not getattr(x, name)().requires_grad


# ------------------------------------------------------------------------------------------------ norms
VECTOR_ORDS = [2, 1, INF, -INF, 0, 3, 0.5, -1, 1.5]


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=[str(o) for o in VECTOR_ORDS])
def test_vector_norm_random(ord, fresh_rng):
    for _ in range(6):
        x = fresh_rng.standard_normal(random_shape(fresh_rng, min_dims=1, max_dims=3))
        dims = random_dims(fresh_rng, x.ndim)
        keepdim = bool(fresh_rng.random() < 0.5)
        compare_with_torch(lambda m, t: m.linalg.vector_norm(t, ord, dims, keepdim), [x], fresh_rng,
                           what=f"vector_norm ord={ord} {x.shape} dim={dims} keepdim={keepdim}")
        compare_with_torch(lambda m, t: m.norm(t, ord, dims, keepdim), [x], fresh_rng,
                           what=f"norm p={ord} {x.shape} dim={dims}")


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=[str(o) for o in VECTOR_ORDS])
def test_vector_norm_at_zero_and_with_zeros(ord, fresh_rng):
    x = fresh_rng.standard_normal((4, 5))
    x[1] = 0.0            # a zero vector: the gradient of the 2-norm there is 0, not NaN
    x[2, [0, 3]] = 0.0    # some zero elements
    x[3, 1] = x[3, 2] = -np.abs(x[3]).max()  # a tie of the largest magnitudes
    compare_with_torch(lambda m, t: m.linalg.vector_norm(t, ord, dim=1), [x], fresh_rng,
                       what=f"vector_norm ord={ord} with zeros")
    zero = chainrule.zeros(3, requires_grad=True)
    chainrule.linalg.vector_norm(zero, ord).backward()
    assert zero.grad.tolist() == [0.0, 0.0, 0.0]


def test_norm_and_linalg_norm_forms(fresh_rng):
    x = fresh_rng.standard_normal((3, 4))
    x3 = fresh_rng.standard_normal((2, 3, 4))
    v = fresh_rng.standard_normal(5)
    cases = [
        ("norm()", lambda m, t: t.norm(), x3), ("norm fro dim", lambda m, t: m.norm(t, "fro", (0, 2)), x3),
        ("norm fro int dim", lambda m, t: m.norm(t, dim=-1, keepdim=True), x3),
        ("norm p=1 dim", lambda m, t: t.norm(1, 1), x), ("norm inf", lambda m, t: m.norm(t, INF), x3),
        ("norm dtype", lambda m, t: m.norm(t.float(), 2, 1, dtype=m.float64), x),
        ("linalg.norm()", lambda m, t: m.linalg.norm(t), x3),
        ("linalg.norm vector", lambda m, t: m.linalg.norm(t, 3), v),
        ("linalg.norm dim int", lambda m, t: m.linalg.norm(t, -INF, 1), x3),
        ("linalg.norm matrix fro", lambda m, t: m.linalg.norm(t, "fro"), x),
        ("linalg.norm matrix dims", lambda m, t: m.linalg.norm(t, None, (0, 2), True), x3),
    ]
    for ord in ("fro", 1, -1, INF, -INF):
        cases.append((f"linalg.norm ord={ord}", lambda m, t, o=ord: m.linalg.norm(t, o), x))
        cases.append((f"matrix_norm ord={ord}", lambda m, t, o=ord: m.linalg.matrix_norm(t, o, (-1, 0)), x3))
        cases.append((f"matrix_norm ord={ord} keepdim", lambda m, t, o=ord: m.linalg.matrix_norm(t, o, keepdim=True),
                      x3))
    for what, fn, data in cases:
        loose = dict(rtol=1e-5, atol=1e-6) if "dtype" in what else {}  # a float32 step on the way
        compare_with_torch(fn, [data], fresh_rng, what=what, **loose)


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_spectral_and_nuclear_norms(ord, fresh_rng):
    x = fresh_rng.standard_normal((2, 3, 4))
    compare_with_torch(lambda m, t: m.linalg.matrix_norm(t, ord), [x], fresh_rng, rtol=1e-5,
                       what=f"matrix_norm ord={ord}")


# ---------------------------------------------------------------------------------------------- errors
def test_errors_name_the_op_and_what_to_do():
    x = chainrule.randn(3, 4, requires_grad=True)
    ints = chainrule.tensor([[1, 2], [3, 4]])
    with pytest.raises(IndexError, match=r"prod.*range of \[-2, 1\].*got 2"):
        x.prod(2)
    with pytest.raises(TypeError, match="prod.*single int"):
        x.prod((0, 1))
    with pytest.raises(IndexError, match="cumsum.*Dimension out of range"):
        x.cumsum(-3)
    with pytest.raises(TypeError, match="cumprod.*'dim'"):
        chainrule.cumprod(x, None)
    with pytest.raises(IndexError, match="amax"):
        x.amax((0, 5))
    with pytest.raises(RuntimeError, match="amax.*appears multiple times"):
        x.amax((1, -1))
    with pytest.raises(IndexError, match="var"):
        x.var(4)
    with pytest.raises(TypeError, match="floating point.*float"):
        ints.var()
    with pytest.raises(TypeError, match="either correction= or the older unbiased="):
        x.std(1, unbiased=True, correction=0)
    with pytest.raises(IndexError, match="logsumexp"):
        x.logsumexp(2)
    with pytest.raises(TypeError, match="vector_norm.*floating point.*int64"):
        chainrule.linalg.vector_norm(ints)
    with pytest.raises(TypeError, match="vector_norm: ord must be a number"):
        chainrule.linalg.vector_norm(x, "fro")
    with pytest.raises(ValueError, match="only valid string values"):
        x.norm("abc")
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        chainrule.linalg.matrix_norm(chainrule.randn(3))
    with pytest.raises(ValueError, match="Order 3 not supported"):
        chainrule.linalg.matrix_norm(x, 3)
    with pytest.raises(RuntimeError, match="input must be 1D or 2D. Got 3D"):
        chainrule.linalg.norm(chainrule.randn(2, 3, 4), 1)
    with pytest.raises(RuntimeError, match="length 1 or 2"):
        chainrule.linalg.norm(chainrule.randn(2, 3, 4), dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="does not have an identity"):
        chainrule.linalg.vector_norm(chainrule.zeros(0, 3), INF, 0)
    with pytest.raises(RuntimeError, match="amin.*non-zero size"):
        chainrule.zeros(0, 3).amin(0)
    with pytest.raises(IndexError, match="all"):
        chainrule.all(ints, 3)
    assert x.max(-1).values.shape == (3,)  # the errors above left the tensor usable


def test_names_are_where_pytorch_has_them():
    for name in ("prod", "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "amax", "amin", "cumsum",
                 "cumprod", "all", "any", "sum", "mean", "max", "min", "argmax", "argmin"):
        assert callable(getattr(chainrule, name)), name
    for name in ("prod", "var", "std", "norm", "logsumexp", "amax", "amin", "cumsum", "cumprod", "all", "any"):
        assert hasattr(chainrule.Tensor, name) == hasattr(torch.Tensor, name), name
    for name in ("norm", "vector_norm", "matrix_norm"):
        assert callable(getattr(chainrule.linalg, name)), name
    assert chainrule.linalg.norm is not chainrule.norm  # torch.linalg.norm and torch.norm take different ords
