"""Tensor printing: chainrule._format must print exactly what PyTorch prints.

The literal-string tests run without torch; the comparison tests skip when torch
is missing and otherwise check ``tensor_repr`` against ``repr(torch tensor)``.
"""
import contextlib
import math

import numpy as np
import pytest

import chainrule._format as _format
from chainrule._format import get_printoptions, set_printoptions, tensor_repr

DEFAULT_OPTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
# Dtypes whose "dtype=" suffix torch omits for non-empty tensors.
DEFAULT_DTYPES = ("float32", "int64", "bool")


def fmt(arr, **kw):
    arr = np.asarray(arr)
    name = arr.dtype.name
    return tensor_repr(arr, dtype_name=name, is_default_dtype=name in DEFAULT_DTYPES, **kw)


@pytest.fixture
def restore_options():
    """Put both chainrule's and (if present) torch's print options back to defaults."""
    yield
    set_printoptions(profile="default")
    try:
        import torch
    except ImportError:
        return
    torch.set_printoptions(profile="default")


# --------------------------------------------------------------------------- literal strings (no torch)


def test_literal_requires_grad():
    assert fmt(np.array([1.0, 2.0], np.float32), requires_grad=True) == (
        "tensor([1., 2.], requires_grad=True)")


def test_literal_scalar_grad_fn():
    assert fmt(np.array(9.0, np.float32), grad_fn_name="AddBackward0") == (
        "tensor(9., grad_fn=<AddBackward0>)")


def test_literal_matrix_grad_fn():
    arr = np.array([[3.0, 5.0, 7.0], [9.0, 11.0, 13.0]], np.float32)
    assert fmt(arr, grad_fn_name="AddBackward0") == (
        "tensor([[ 3.,  5.,  7.],\n        [ 9., 11., 13.]], grad_fn=<AddBackward0>)")


def test_literal_mean():
    arr = np.array([100.0, 100.0, 27.0], np.float32).mean(dtype=np.float32)
    assert fmt(np.asarray(arr), grad_fn_name="MeanBackward0") == "tensor(75.6667, grad_fn=<MeanBackward0>)"


def test_literal_grad_fn_wins_over_requires_grad():
    out = fmt(np.array([1.0], np.float32), grad_fn_name="MulBackward0", requires_grad=True)
    assert out == "tensor([1.], grad_fn=<MulBackward0>)"


def test_literal_suffix_on_new_line():
    arr = (np.arange(32, dtype=np.float32).reshape(4, 8) / 3 * 2).astype(np.float32)
    assert fmt(arr, grad_fn_name="MulBackward0") == (
        "tensor([[ 0.0000,  0.6667,  1.3333,  2.0000,  2.6667,  3.3333,  4.0000,  4.6667],\n"
        "        [ 5.3333,  6.0000,  6.6667,  7.3333,  8.0000,  8.6667,  9.3333, 10.0000],\n"
        "        [10.6667, 11.3333, 12.0000, 12.6667, 13.3333, 14.0000, 14.6667, 15.3333],\n"
        "        [16.0000, 16.6667, 17.3333, 18.0000, 18.6667, 19.3333, 20.0000, 20.6667]],\n"
        "       grad_fn=<MulBackward0>)")


def test_literal_int_dtype_suffix():
    assert fmt(np.array([1, 2], np.int32)) == "tensor([1, 2], dtype=chainrule.int32)"
    assert fmt(np.array([1, 2], np.int64)) == "tensor([1, 2])"


def test_literal_nonfinite_and_negative_zero():
    assert fmt(np.array([1.0, math.nan, math.inf], np.float32)) == "tensor([1., nan, inf])"
    assert fmt(np.array([-0.0, 1e-5], np.float32)) == "tensor([-0.0000e+00, 1.0000e-05])"


def test_literal_bool_and_empty():
    assert fmt(np.array([True, False])) == "tensor([ True, False])"
    assert fmt(np.zeros((0,), np.float32)) == "tensor([])"
    assert fmt(np.zeros((0, 3), np.int64)) == "tensor([], size=(0, 3), dtype=chainrule.int64)"


def test_literal_dtype_suffix_wraps_by_its_own_length():
    # torch keeps "dtype=torch.float64" on the last line (77 columns); the 4 characters
    # longer "dtype=chainrule.float64" pass 80 and move to a new line.
    arr = np.array([[-2.3250, -0.2188, -1.2459, -0.7323, -0.5443],
                    [-0.9217, -0.4577, 0.2202, -1.0096, -0.2092]])
    assert fmt(arr) == (
        "tensor([[-2.3250, -0.2188, -1.2459, -0.7323, -0.5443],\n"
        "        [-0.9217, -0.4577,  0.2202, -1.0096, -0.2092]],\n"
        "       dtype=chainrule.float64)")
    with torch_dtype_names():
        assert fmt(arr) == (
            "tensor([[-2.3250, -0.2188, -1.2459, -0.7323, -0.5443],\n"
            "        [-0.9217, -0.4577,  0.2202, -1.0096, -0.2092]], dtype=torch.float64)")


def test_literal_summarized():
    assert fmt(np.arange(2000, dtype=np.int64)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"


def test_printoptions_roundtrip(restore_options):
    assert get_printoptions() == DEFAULT_OPTS
    set_printoptions(precision=2, sci_mode=True)
    assert get_printoptions() == dict(DEFAULT_OPTS, precision=2, sci_mode=True)
    assert fmt(np.array([1.5], np.float32)) == "tensor([1.50e+00])"
    set_printoptions(profile="full")
    assert get_printoptions() == dict(DEFAULT_OPTS, threshold=math.inf)  # profile resets precision
    set_printoptions(profile="default")
    assert get_printoptions() == DEFAULT_OPTS
    assert fmt(np.array([1.12345], np.float32)) == "tensor([1.1235])"


def test_printoptions_threshold_literal(restore_options):
    set_printoptions(threshold=5)
    assert fmt(np.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"


# --------------------------------------------------------------------------- comparisons with torch


@contextlib.contextmanager
def torch_dtype_names():
    """Print "dtype=torch.X" so our output can be compared byte for byte with torch's.

    "chainrule." is 4 characters longer than "torch.", which can legitimately move a
    dtype suffix to its own line in our output where torch keeps it on the last line.
    """
    saved = _format._DTYPE_NAMESPACE
    _format._DTYPE_NAMESPACE = "torch"
    try:
        yield
    finally:
        _format._DTYPE_NAMESPACE = saved


def torch_repr(arr):
    torch = pytest.importorskip("torch")
    return repr(torch.from_numpy(arr.copy(order="C")))  # (ascontiguousarray would make 0-d 1-d)


def check(arr):
    arr = np.asarray(arr)
    expected = torch_repr(arr)
    with torch_dtype_names():
        assert fmt(arr) == expected


RNG = np.random.default_rng(0)

FLOAT_CASES = {
    "scalar": np.array(3.5),
    "scalar_int_valued": np.array(9.0),
    "scalar_neg_zero": np.array(-0.0),
    "scalar_nan": np.array(math.nan),
    "scalar_big": np.array(1.5e10),
    "scalar_tiny": np.array(1.5e-10),
    "vec": np.array([1.0, 2.5, -3.25]),
    "int_valued": np.array([1.0, 2.0, 30.0, -400.0]),
    "int_valued_big_ratio": np.array([1.0, 20000.0]),
    "int_valued_huge": np.array([1.0, 2e8]),
    "small": np.array([1e-5, 2e-5, 3e-5]),
    "mixed_magnitudes": np.array([1e-3, 1.0, 1e3, -5e2]),
    "ratio_exactly_1000": np.array([0.5, 500.0]),
    "ratio_over_1000": np.array([0.5, 500.5]),
    "very_large": np.array([1e20, -3e25, 7.0]),
    "exponent_3_digits": np.array([1e-300, 1.0, 1e200]),
    "round_up": np.array([0.99999, 9.99995, 99.99995]),
    "nan_inf": np.array([math.nan, math.inf, -math.inf, 1.5]),
    "nan_inf_int_valued": np.array([math.nan, math.inf, -math.inf, 100.0]),
    "only_nonfinite": np.array([math.nan, math.inf, -math.inf]),
    "neg_zero": np.array([-0.0, 0.0, 1.0]),
    "neg_zero_frac": np.array([-0.0, 0.5]),
    "all_zeros": np.zeros(5),
    "all_zeros_2d": np.zeros((2, 3)),
    "negatives": -np.arange(1.0, 7.0) / 3,
    "mat": np.arange(12.0).reshape(3, 4) / 7,
    "mat_int_valued": np.arange(-6.0, 6.0).reshape(3, 4),
    "cube": np.arange(24.0).reshape(2, 3, 4) - 11.5,
    "hyper": np.arange(48.0).reshape(2, 2, 3, 4) * 1.25,
    "five_d": RNG.standard_normal((2, 1, 2, 1, 3)),
    "randn_2d": RNG.standard_normal((4, 5)),
    "randn_sci_2d": RNG.standard_normal((3, 4)) * 1e5,
    "wide_row": RNG.standard_normal(40),
    "wide_rows_2d": RNG.standard_normal((3, 25)),
    "wide_rows_3d": RNG.standard_normal((2, 2, 20)) * 100,
    "wide_int_valued": np.arange(100.0),
    "column": np.arange(5.0).reshape(5, 1),
    "single": np.array([[[1.5]]]),
    "summarized_1d": np.arange(2000.0) / 3,
    "summarized_2d": RNG.standard_normal((50, 50)),
    "summarized_3d": RNG.standard_normal((12, 10, 11)),
    "summarized_rows_only": RNG.standard_normal((1001, 1)),
    "summarized_cols_only": RNG.standard_normal((1, 1001)),
    "summarized_4d": RNG.standard_normal((7, 7, 7, 7)),
    "summarized_hidden_big": np.concatenate([np.ones(3), np.full(1000, 1e9), np.ones(3)]),
    "exactly_threshold": np.arange(1000.0),
    "one_over_threshold": np.arange(1001.0) * 0.5,
}


def _fits_float16(arr):
    finite = arr[np.isfinite(arr)]
    return not finite.size or np.abs(finite).max() <= 6e4


# float16 only for the cases whose values it can hold (the others would just print inf).
FLOAT_PARAMS = [(name, dtype) for name in FLOAT_CASES for dtype in (np.float32, np.float64, np.float16)
                if dtype is not np.float16 or _fits_float16(FLOAT_CASES[name])]


@pytest.mark.parametrize("name,dtype", FLOAT_PARAMS)
def test_float_matches_torch(name, dtype):
    arr = FLOAT_CASES[name]
    with np.errstate(over="ignore", under="ignore"):
        check(arr.astype(dtype))


INT_CASES = {
    "scalar": np.array(7),
    "scalar_neg": np.array(-7),
    "vec": np.array([1, 2, 3]),
    "mixed_width": np.array([1, -22, 333, 4]),
    "zeros": np.zeros(4, np.int64),
    "mat": np.arange(12).reshape(3, 4) - 5,
    "cube": np.arange(60).reshape(3, 4, 5),
    "wide": np.arange(-50, 50),
    "summarized": np.arange(5000).reshape(50, 100),
}


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8])
@pytest.mark.parametrize("name", list(INT_CASES))
def test_int_matches_torch(name, dtype):
    arr = INT_CASES[name]
    if dtype is np.uint8:
        arr = np.abs(arr)
    check(arr.astype(dtype))


def test_int_extremes_match_torch():
    for dtype in (np.int8, np.int16, np.int32, np.int64, np.uint8):
        info = np.iinfo(dtype)
        check(np.array([info.min, 0, info.max], dtype))


@pytest.mark.parametrize("shape", [(), (1,), (2,), (3, 4), (2, 3, 4), (1200,), (40, 40)])
def test_bool_matches_torch(shape):
    check(RNG.random(shape) > 0.5)
    check(np.ones(shape, bool))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_, np.uint8])
def test_empty_matches_torch(shape, dtype):
    check(np.zeros(shape, dtype))


def test_random_fuzz_matches_torch():
    """Random shapes, dtypes and magnitudes, to cover combinations the named cases miss."""
    rng = np.random.default_rng(1234)
    for _ in range(300):
        ndim = int(rng.integers(0, 5))
        shape = tuple(int(s) for s in rng.integers(1, 6, ndim))
        scale = 10.0 ** rng.integers(-8, 12)
        arr = rng.standard_normal(shape) * scale
        if rng.random() < 0.3:
            arr = np.round(arr)
        if rng.random() < 0.2 and arr.size:
            arr.reshape(-1)[0] = rng.choice([math.nan, math.inf, -math.inf, -0.0, 0.0])
        dtype = rng.choice([np.float32, np.float64, np.float16])
        with np.errstate(over="ignore", under="ignore"):
            check(arr.astype(dtype))


# --------------------------------------------------------------------------- autograd suffixes vs torch


def check_torch_tensor(t):
    """Compare with a torch tensor, carrying over its grad_fn / requires_grad."""
    import torch

    arr = t.detach().numpy()
    name = str(t.dtype).replace("torch.", "")
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    is_default = t.dtype in (torch.float32, torch.int64, torch.bool)
    with torch_dtype_names():
        ours = tensor_repr(arr, dtype_name=name, is_default_dtype=is_default,
                           grad_fn_name=grad_fn, requires_grad=t.requires_grad)
    assert ours == repr(t)


def test_autograd_suffixes_match_torch():
    torch = pytest.importorskip("torch")
    leaf = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    check_torch_tensor(leaf)
    check_torch_tensor(leaf * 2)
    check_torch_tensor((leaf * 2).sum())
    check_torch_tensor(leaf.mean())
    check_torch_tensor(torch.tensor(9.0, requires_grad=True) + 0)
    check_torch_tensor(torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True))
    check_torch_tensor(torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True) * 3)
    check_torch_tensor(torch.zeros(0, 3, requires_grad=True))
    check_torch_tensor(torch.zeros(0, 3, dtype=torch.float64, requires_grad=True) + 1)


def test_suffix_moves_to_new_line_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.arange(32.0).reshape(4, 8).div(3).requires_grad_() * 2
    check_torch_tensor(t)
    assert "],\n       grad_fn=<MulBackward0>)" in repr(t)
    wide = torch.tensor(np.linspace(-1, 1, 30).reshape(3, 10), dtype=torch.float64, requires_grad=True)
    check_torch_tensor(wide)
    check_torch_tensor(wide * 1)


def test_suffix_fits_on_last_line_boundary():
    """Last lines of every length near the line width, with and without suffixes."""
    torch = pytest.importorskip("torch")
    for n in range(1, 16):
        base = torch.arange(float(n * 10)).reshape(n, 10) + 0.5
        check_torch_tensor(base)
        check_torch_tensor(base.clone().requires_grad_())
        check_torch_tensor(base.clone().requires_grad_() * 1)
        check_torch_tensor(base.to(torch.float64).requires_grad_() + 1)
        check_torch_tensor(torch.arange(n * 7, dtype=torch.int32))


# --------------------------------------------------------------------------- print options vs torch

OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"edgeitems": 1},
    {"linewidth": 40},
    {"linewidth": 10},
    {"linewidth": 200},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6},
]

OPTION_ARRAYS = [
    np.array(3.14159, np.float32),
    np.array([1.0, 2.0, 3.0], np.float32),
    np.array([0.1234567, -2.5, 1e-2], np.float64),
    np.array([1e-6, 1.0, math.nan], np.float32),
    np.zeros(4, np.float32),
    np.arange(10, dtype=np.int64),
    np.arange(30, dtype=np.int32).reshape(5, 6),
    (np.arange(60, dtype=np.float32).reshape(3, 4, 5) - 30) / 7,
    np.arange(3000, dtype=np.float32).reshape(30, 100) / 9,
    np.arange(12, dtype=np.int64).reshape(1, 12) > 5,
    np.zeros((0, 2), np.float32),
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_printoptions_match_torch(opts, restore_options):
    torch = pytest.importorskip("torch")
    torch.set_printoptions(**opts)
    set_printoptions(**opts)
    assert get_printoptions() == {k: v for k, v in vars(torch._tensor_str.PRINT_OPTS).items()}
    for arr in OPTION_ARRAYS:
        check(arr)
