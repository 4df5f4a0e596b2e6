"""The elementwise ops against PyTorch on random inputs (a fresh seed each run; see torch_compare.py):
values, gradients, node names, NaN/inf propagation, integer/bool type promotion and the errors."""
import itertools
import math

import numpy as np
import pytest

import chainrule
from torch_compare import broadcastable_shapes, compare_with_torch, random_shape

torch = pytest.importorskip("torch")

# name -> (function of (library, x), how to draw x from a standard normal sample z)
UNARY = {
    "tan": (lambda m, x: m.tan(x), lambda z: np.clip(z, -1.4, 1.4)),
    "asin": (lambda m, x: m.asin(x), lambda z: np.tanh(z) * 0.95),
    "acos": (lambda m, x: m.acos(x), lambda z: np.tanh(z) * 0.95),
    "atan": (lambda m, x: m.atan(x), lambda z: 3 * z),
    "arcsin": (lambda m, x: m.arcsin(x), lambda z: np.tanh(z) * 0.95),
    "arccos": (lambda m, x: m.arccos(x), lambda z: np.tanh(z) * 0.95),
    "arctan": (lambda m, x: m.arctan(x), lambda z: z),
    "sinh": (lambda m, x: m.sinh(x), lambda z: 2 * z),
    "cosh": (lambda m, x: m.cosh(x), lambda z: 2 * z),
    "asinh": (lambda m, x: m.asinh(x), lambda z: 3 * z),
    "acosh": (lambda m, x: m.acosh(x), lambda z: 1.05 + np.abs(z) * 2),
    "atanh": (lambda m, x: m.atanh(x), lambda z: np.tanh(z) * 0.95),
    "arcsinh": (lambda m, x: m.arcsinh(x), lambda z: z),
    "arccosh": (lambda m, x: m.arccosh(x), lambda z: 1.05 + np.abs(z)),
    "arctanh": (lambda m, x: m.arctanh(x), lambda z: np.tanh(z) * 0.95),
    "log2": (lambda m, x: m.log2(x), lambda z: np.abs(z) + 0.05),
    "log10": (lambda m, x: m.log10(x), lambda z: np.abs(z) + 0.05),
    "log1p": (lambda m, x: m.log1p(x), lambda z: np.abs(z) - 0.9),
    "exp2": (lambda m, x: m.exp2(x), lambda z: 3 * z),
    "expm1": (lambda m, x: m.expm1(x), lambda z: z),
    "expm1_tiny": (lambda m, x: m.expm1(x), lambda z: z * 1e-9),
    "rsqrt": (lambda m, x: m.rsqrt(x), lambda z: np.abs(z) + 0.05),
    "reciprocal": (lambda m, x: m.reciprocal(x), lambda z: np.sign(z) * (np.abs(z) + 0.1)),
    "square": (lambda m, x: m.square(x), lambda z: z),
    "sign": (lambda m, x: m.sign(x), lambda z: z),
    "floor": (lambda m, x: m.floor(x), lambda z: 4 * z),
    "ceil": (lambda m, x: m.ceil(x), lambda z: 4 * z),
    "round": (lambda m, x: m.round(x), lambda z: 4 * z),
    "round_half": (lambda m, x: m.round(x), lambda z: np.round(z * 4) + 0.5),  # ties go to even
    "round_decimals": (lambda m, x: m.round(x, decimals=2), lambda z: 4 * z),
    "round_negative_decimals": (lambda m, x: m.round(x, decimals=-1), lambda z: 100 * z),
    "trunc": (lambda m, x: m.trunc(x), lambda z: 4 * z),
    "fix": (lambda m, x: m.fix(x), lambda z: 4 * z),
    "erf": (lambda m, x: m.erf(x), lambda z: 2 * z),
    "erfc": (lambda m, x: m.erfc(x), lambda z: 2 * z),
    "erf_wide": (lambda m, x: m.erf(x), lambda z: 8 * z),
    "erfc_wide": (lambda m, x: m.erfc(x), lambda z: 8 * z),
    "erf_tiny": (lambda m, x: m.erf(x), lambda z: z * 1e-12),
    "sigmoid": (lambda m, x: m.sigmoid(x), lambda z: 10 * z),
    "logit": (lambda m, x: m.logit(x), lambda z: 1 / (1 + np.exp(-z))),
    "logit_eps": (lambda m, x: m.logit(x, eps=0.2), lambda z: 1 / (1 + np.exp(-2 * z))),
    "logit_method": (lambda m, x: x.logit(1e-3), lambda z: 1 / (1 + np.exp(-z))),
    "softplus": (lambda m, x: m.nn.functional.softplus(x), lambda z: 10 * z),
    "softplus_beta": (lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=3.0), lambda z: 3 * z),
    "softplus_large": (lambda m, x: m.nn.functional.softplus(x, 0.5, 10), lambda z: 40 * z),
    "nan_to_num": (lambda m, x: m.nan_to_num(x), lambda z: z),
    "clamp_min": (lambda m, x: m.clamp_min(x, -0.3), lambda z: z),
    "clamp_max": (lambda m, x: x.clamp_max(0.4), lambda z: z),
    "tan_method": (lambda m, x: x.tan() + x.sinh() * x.expm1(), lambda z: np.clip(z, -1.4, 1.4)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name, fresh_rng):
    fn, draw = UNARY[name]
    for _ in range(5):
        x = draw(fresh_rng.standard_normal(random_shape(fresh_rng)))
        compare_with_torch(fn, [np.asarray(x, dtype=np.float64)], fresh_rng, what=f"{name} {np.shape(x)}")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_float32(name, fresh_rng):
    fn, draw = UNARY[name]
    x = draw(fresh_rng.standard_normal((4, 5))).astype(np.float32)
    if name.startswith("round_"):  # float32 products with 10**d round differently near ties in any library
        x = np.round(x, 1).astype(np.float32) + np.float32(0.031)
    compare_with_torch(fn, [x], fresh_rng, rtol=2e-6, atol=1e-6, what=f"{name} float32")


# name -> function of (library, a, b); b is drawn from a standard normal and moved by "divisor" where needed
BINARY = {
    "atan2": lambda m, a, b: m.atan2(a, b),
    "arctan2": lambda m, a, b: a.arctan2(b),
    "hypot": lambda m, a, b: m.hypot(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "logaddexp2": lambda m, a, b: m.logaddexp2(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: a.minimum(b),
    "fmod": lambda m, a, b: m.fmod(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b),
    "mod_operator": lambda m, a, b: a % b,
    "lerp_tensor_weight": lambda m, a, b: m.lerp(a, b, m.sigmoid(a * b)),
    "lerp_method": lambda m, a, b: a.lerp(b, 0.3),
    "lerp_far_weight": lambda m, a, b: m.lerp(a, b, 0.75),
    # (a is expanded: PyTorch's ClampBackward0 fails when the bounds broadcast the input to a larger shape)
    "clamp_tensor_min": lambda m, a, b: m.clamp(_full(a, b), min=b),
    "clamp_tensor_max": lambda m, a, b: m.clamp(_full(a, b), max=b),
    "clamp_tensor_both": lambda m, a, b: m.clamp(_full(a, b), b - 0.5, b + 0.5),
    "clamp_crossed_bounds": lambda m, a, b: m.clamp(_full(a, b), b + 0.5, b - 0.5),
    "clip_tensor": lambda m, a, b: _full(a, b).clip(b, b + 1),
}


def _full(a, b):
    return a.expand(tuple(np.broadcast_shapes(tuple(a.shape), tuple(b.shape))))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_with_broadcasting(name, fresh_rng):
    for _ in range(5):
        a_shape, b_shape = broadcastable_shapes(fresh_rng)
        a = np.asarray(3 * fresh_rng.standard_normal(a_shape))
        b = np.asarray(fresh_rng.standard_normal(b_shape))
        if name in ("fmod", "remainder", "mod_operator"):
            b = np.sign(b) * (np.abs(b) + 0.3)
        compare_with_torch(BINARY[name], [a, b], fresh_rng, what=f"{name} {a_shape} {b_shape}")


def test_clamp_with_tensor_bounds_three_way_broadcasting(fresh_rng):
    for _ in range(5):
        x_shape, low_shape, high_shape = broadcastable_shapes(fresh_rng, count=3)
        x = np.asarray(fresh_rng.standard_normal(x_shape))
        low, high = np.asarray(fresh_rng.standard_normal(low_shape) - 0.5), np.asarray(fresh_rng.standard_normal(high_shape) + 0.5)
        shape = np.broadcast_shapes(x_shape, low_shape, high_shape)
        # PyTorch's ClampBackward0 fails when the bounds broadcast the input to a larger shape ("output with
        # shape [3] doesn't match the broadcast shape [3, 3]"): give it the input expanded (same gradient).
        compare_with_torch(lambda m, x, lo, hi: m.clamp(x, lo, hi), [x, low, high], fresh_rng,
                           torch_fn=lambda m, x, lo, hi: m.clamp(x.expand(shape), lo, hi),
                           what=f"clamp {x_shape} {low_shape} {high_shape}")


def test_clamp_ties_with_tensor_bounds_send_the_gradient_as_pytorch():
    x = np.array([0.5, 1.0, 2.0, 3.0, 1.0])
    low = np.array([1.0, 1.0, 2.5, 0.0, 1.0])   # a tie with min, min > max, a tie with max
    high = np.array([2.0, 0.5, 2.0, 3.0, 1.0])
    rng = np.random.default_rng(0)
    compare_with_torch(lambda m, x, lo, hi: m.clamp(x, lo, hi), [x, low, high], rng)


def test_maximum_minimum_ties_split_the_gradient(fresh_rng):
    a = np.array([1.0, 2.0, -3.0, 0.5, 7.0])
    b = np.array([1.0, 0.0, -3.0, 4.0, 7.0])
    for fn in (lambda m, a, b: m.maximum(a, b), lambda m, a, b: m.minimum(a, b)):
        compare_with_torch(fn, [a, b], fresh_rng)


def test_lerp_with_scalar_weights_and_broadcasting(fresh_rng):
    for weight in (0.0, 0.25, 0.5, 1.0, -0.3, 1.7):
        a_shape, b_shape = broadcastable_shapes(fresh_rng)
        compare_with_torch(lambda m, a, b: m.lerp(a, b, weight), [np.asarray(fresh_rng.standard_normal(a_shape)),
                                                                  np.asarray(fresh_rng.standard_normal(b_shape))],
                           fresh_rng, what=f"lerp weight {weight}")
    start, end = fresh_rng.standard_normal((3, 4)), fresh_rng.standard_normal((4,))
    weight = fresh_rng.uniform(-1, 2, (3, 1))
    compare_with_torch(lambda m, s, e, w: m.lerp(s, e, w), [start, end, weight], fresh_rng)


def test_scalar_operands(fresh_rng):
    x = 3 * fresh_rng.standard_normal((3, 4))
    cases = {
        "fmod_scalar": lambda m, x: m.fmod(x, 0.7), "remainder_scalar": lambda m, x: m.remainder(x, -1.3),
        "mod_scalar": lambda m, x: x % 2.5, "maximum_0d": lambda m, x: m.maximum(x, m.tensor(0.5, dtype=m.float64)),
        "atan2_method": lambda m, x: x.atan2(x.cos()), "hypot_method": lambda m, x: x.hypot(x * 2),
        "logaddexp_method": lambda m, x: x.logaddexp(-x), "fmod_method": lambda m, x: x.fmod(-0.9),
        "remainder_method": lambda m, x: x.remainder(0.9),
    }
    for name, fn in cases.items():
        compare_with_torch(fn, [x], fresh_rng, what=name)


def test_number_modulo_tensor_and_in_place_mod(fresh_rng):
    b = np.sign(fresh_rng.standard_normal((3, 4))) * (fresh_rng.uniform(0.3, 2.0, (3, 4)))
    ours = 5.5 % chainrule.tensor(b)
    np.testing.assert_allclose(ours.numpy(), (5.5 % torch.tensor(b)).numpy(), rtol=1e-12)
    # PyTorch has no derivative for number % tensor; ours follows the rule d/db = -floor(a / b)
    x = chainrule.tensor(b, requires_grad=True)
    (5.5 % x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.floor(5.5 / b))
    y = chainrule.tensor([5.0, -5.0, 7.5])
    y %= 2
    assert y.tolist() == [1.0, 1.0, 1.5]


def test_erf_and_erfc_are_accurate_to_float64_precision(fresh_rng):
    x = np.concatenate([fresh_rng.uniform(-7, 7, 5000), fresh_rng.uniform(-28, 28, 2000),
                        fresh_rng.standard_normal(500) * 1e-6, [0.0, -0.0, 6.0, -6.0, 26.5, 5.9999, 6.0001]])
    for name, exact in (("erf", math.erf), ("erfc", math.erfc)):
        ours = getattr(chainrule, name)(chainrule.tensor(x)).numpy()
        expected = np.array([exact(v) for v in x])
        np.testing.assert_allclose(ours, expected, rtol=4e-15, atol=1e-300, err_msg=name)
        np.testing.assert_allclose(ours, getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-14, atol=1e-300)
    assert math.copysign(1, chainrule.erf(chainrule.tensor(-0.0)).item()) == -1


def test_second_derivatives_match_torch(fresh_rng):
    cases = {
        "erf": (lambda m, x: m.erf(x), lambda z: z), "logit": (lambda m, x: m.logit(x, eps=0.1), lambda z: 1 / (1 + np.exp(-z))),
        "softplus": (lambda m, x: m.nn.functional.softplus(x, 2.0, 3.0), lambda z: 2 * z),
        "atanh": (lambda m, x: m.atanh(x), lambda z: np.tanh(z) * 0.9), "rsqrt": (lambda m, x: m.rsqrt(x), np.abs),
        "tan": (lambda m, x: m.tan(x), lambda z: np.clip(z, -1.2, 1.2)),
        "logaddexp": (lambda m, x: m.logaddexp(x, x * x), lambda z: z),
        "atan2": (lambda m, x: m.atan2(x, x.exp()), lambda z: z),
        "hypot": (lambda m, x: m.hypot(x, x.cos()), lambda z: z),
        "lerp": (lambda m, x: m.lerp(x.sin(), x.cos(), x.sigmoid()), lambda z: z),
        "remainder": (lambda m, x: m.remainder(x.exp() * 3, x * x + 0.5), lambda z: z),
    }
    for name, (fn, draw) in cases.items():
        x = draw(fresh_rng.standard_normal((3, 4))) + 0.05
        g = fresh_rng.standard_normal((3, 4))
        results = []
        for lib in (chainrule, torch):
            t = lib.tensor(x, requires_grad=True)
            (first,) = lib.autograd.grad(fn(lib, t), t, lib.tensor(g), create_graph=True)
            (second,) = lib.autograd.grad((first * first).sum(), t)
            results.append((first.detach().numpy(), second.numpy()))
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9,
                                       err_msg=f"{name} (seed {fresh_rng.seed_value})")


def test_node_names_match_pytorch():
    x = np.array([0.3, 0.6, 0.9])
    calls = [lambda m, x: m.tan(x), lambda m, x: m.asin(x), lambda m, x: m.acosh(x + 1), lambda m, x: m.log1p(x),
             lambda m, x: m.log2(x), lambda m, x: m.exp2(x), lambda m, x: m.expm1(x), lambda m, x: m.rsqrt(x),
             lambda m, x: m.reciprocal(x), lambda m, x: m.square(x), lambda m, x: m.floor(x),
             lambda m, x: m.round(x), lambda m, x: m.round(x, decimals=1), lambda m, x: m.trunc(x),
             lambda m, x: m.erf(x), lambda m, x: m.erfc(x), lambda m, x: m.logit(x, 0.1),
             lambda m, x: m.nn.functional.softplus(x), lambda m, x: m.nan_to_num(x), lambda m, x: m.atan2(x, x),
             lambda m, x: m.hypot(x, x), lambda m, x: m.logaddexp(x, x), lambda m, x: m.logaddexp2(x, x),
             lambda m, x: m.maximum(x, x), lambda m, x: m.minimum(x, x), lambda m, x: m.fmod(x, 0.5),
             lambda m, x: m.fmod(x, x), lambda m, x: x % 0.5, lambda m, x: m.remainder(x, x),
             lambda m, x: m.lerp(x, x, 0.3), lambda m, x: m.lerp(x, x, x), lambda m, x: m.sinh(x),
             lambda m, x: m.atanh(x), lambda m, x: m.ceil(x)]
    for call in calls:
        ours = call(chainrule, chainrule.tensor(x, requires_grad=True))
        theirs = call(torch, torch.tensor(x, requires_grad=True))
        assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__


# ----------------------------------------------------------------------------------------- NaN and inf
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 40.0, -40.0, 1e-300, 800.0])


@pytest.mark.parametrize("name", sorted(n for n in UNARY if not n.endswith(("_method", "_tiny", "_wide"))))
def test_nan_and_inf_propagate_as_in_pytorch(name, fresh_rng):
    fn = UNARY[name][0]
    with np.errstate(all="ignore"):
        compare_with_torch(fn, [SPECIAL.copy()], fresh_rng, what=f"{name} on nan/inf")


@pytest.mark.parametrize("name", sorted(BINARY))
def test_nan_and_inf_propagate_in_binary_ops(name, fresh_rng):
    a, b = np.meshgrid(np.array([np.nan, np.inf, -np.inf, 1.5, -0.5, 0.0]), np.array([np.nan, np.inf, -np.inf, 2.0, -0.7]))
    if name.startswith("lerp") or name.startswith("clamp") or name == "clip_tensor":
        grad = False  # PyTorch's own gradients at inf - inf are nan in some entries and 0 in others by formula
    else:
        grad = True
    with np.errstate(all="ignore"):
        compare_with_torch(BINARY[name], [a, b], fresh_rng, grad=grad, what=f"{name} on nan/inf")


def test_nan_to_num_replacements_and_gradient(fresh_rng):
    for dtype in (np.float32, np.float64):
        x = SPECIAL.astype(dtype)
        compare_with_torch(lambda m, x: m.nan_to_num(x, nan=1.5, posinf=7.0, neginf=-3.0), [x], fresh_rng)
        compare_with_torch(lambda m, x: x.nan_to_num(neginf=-1.0), [x], fresh_rng)


# ------------------------------------------------------------------------------- integer and bool inputs
DTYPES = ["int32", "int64", "bool", "float32", "float64"]
BINARY_CALLS = {
    "+": lambda m, a, b: a + b, "-": lambda m, a, b: a - b, "*": lambda m, a, b: a * b, "/": lambda m, a, b: a / b,
    "**": lambda m, a, b: a ** b, "%": lambda m, a, b: a % b, "//": lambda m, a, b: a // b,
    "atan2": lambda m, a, b: m.atan2(a, b), "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b), "fmod": lambda m, a, b: m.fmod(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b), "hypot": lambda m, a, b: m.hypot(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b), "logaddexp2": lambda m, a, b: m.logaddexp2(a, b),
}
# Where PyTorch refuses and chainrule computes: subtraction with a bool operand (NumPy computes it; checking in
# sub's forward would slow down every subtraction) and // of two bools.
KNOWN_MORE_PERMISSIVE = {("-", "bool"), ("//", "bool")}


def _outcome(lib, call, a, b):
    try:
        with np.errstate(all="ignore"):  # integer division by zero (False) in NumPy
            return str(call(lib, a, b).dtype).split(".")[-1]
    except Exception as error:  # PyTorch raises RuntimeError and NotImplementedError here
        return f"error ({type(error).__name__})"


def _values(lib, dtype, n=4):
    values = np.array([3, 2, 1, 5][:n]) if dtype != "bool" else np.array([True, True, False, True][:n])
    return lib.tensor(values, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("op", sorted(BINARY_CALLS))
def test_type_promotion_of_binary_ops_matches_pytorch(op):
    call = BINARY_CALLS[op]
    mismatches = []
    for a_dtype, b_dtype in itertools.product(DTYPES, DTYPES):
        ours = _outcome(chainrule, call, _values(chainrule, a_dtype), _values(chainrule, b_dtype))
        theirs = _outcome(torch, call, _values(torch, a_dtype), _values(torch, b_dtype))
        if ours == theirs or (ours.startswith("error") and theirs.startswith("error")):
            if not ours.startswith("error"):
                with np.errstate(all="ignore"):
                    ours_value = call(chainrule, _values(chainrule, a_dtype), _values(chainrule, b_dtype)).numpy()
                theirs_value = call(torch, _values(torch, a_dtype), _values(torch, b_dtype)).numpy()
                np.testing.assert_allclose(ours_value, theirs_value, rtol=1e-6, err_msg=f"{a_dtype} {op} {b_dtype}")
            continue
        if theirs.startswith("error") and (op, "bool") in KNOWN_MORE_PERMISSIVE and "bool" in (a_dtype, b_dtype):
            continue
        mismatches.append(f"{a_dtype} {op} {b_dtype}: chainrule {ours}, PyTorch {theirs}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("op", sorted(BINARY_CALLS))
def test_type_promotion_with_python_numbers(op):
    call = BINARY_CALLS[op]
    mismatches = []
    for dtype, number, reverse in itertools.product(DTYPES, (2, 2.5, True, -1), (False, True)):
        if op in ("atan2", "maximum", "minimum", "hypot", "logaddexp", "logaddexp2") and not reverse:
            continue  # PyTorch takes only tensors there
        if reverse and op not in ("+", "-", "*", "/", "**", "%", "//"):
            continue
        args = (lambda lib: (number, _values(lib, dtype))) if reverse else (lambda lib: (_values(lib, dtype), number))
        ours, theirs = _outcome(chainrule, call, *args(chainrule)), _outcome(torch, call, *args(torch))
        if ours == theirs or (ours.startswith("error") and theirs.startswith("error")):
            continue
        if theirs.startswith("error") and (op, "bool") in KNOWN_MORE_PERMISSIVE and (dtype == "bool" or number is True):
            continue
        mismatches.append(f"{'number ' + op + ' ' + dtype if reverse else dtype + ' ' + op + ' number'} "
                          f"({number!r}): chainrule {ours}, PyTorch {theirs}")
    assert not mismatches, "\n".join(mismatches)


UNARY_DTYPE_CALLS = ["tan", "asin", "atan", "sinh", "asinh", "atanh", "log2", "log10", "log1p", "exp2", "expm1",
                     "rsqrt", "reciprocal", "square", "sign", "floor", "ceil", "round", "trunc", "erf", "erfc",
                     "sigmoid", "logit", "nan_to_num", "exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "neg"]


@pytest.mark.parametrize("name", UNARY_DTYPE_CALLS)
def test_unary_ops_on_integer_and_bool_tensors(name):
    for dtype in ("int32", "int64", "bool"):
        if name == "abs" and dtype == "bool":
            continue  # PyTorch refuses abs of bool; chainrule returns it unchanged (abs's forward stays one call)
        values = np.array([0, 1, 1, 0]) if dtype == "bool" else np.array([0, 1, 2, -3])
        ours_in = chainrule.tensor(values, dtype=getattr(chainrule, dtype))
        theirs_in = torch.tensor(values, dtype=getattr(torch, dtype))
        try:
            theirs = getattr(torch, name)(theirs_in)
        except (RuntimeError, NotImplementedError):
            with pytest.raises(RuntimeError):
                getattr(chainrule, name)(ours_in)
            continue
        with np.errstate(all="ignore"):
            ours = getattr(chainrule, name)(ours_in)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], f"{name} of {dtype}"
        np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-6,
                                   equal_nan=True, err_msg=f"{name} of {dtype}")
        assert not ours.requires_grad


def test_integer_tensors_are_not_differentiable_but_mixed_ops_differentiate_the_float_side(fresh_rng):
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).requires_grad_()
    ints = np.array([3, -1, 2, 0])
    for fn in (lambda m, x, i: m.maximum(x, i), lambda m, x, i: m.remainder(x, i + 5), lambda m, x, i: x ** i,
               lambda m, x, i: m.atan2(x, i), lambda m, x, i: m.lerp(x, i.to(x.dtype), 0.25) * i):
        compare_with_torch(fn, [fresh_rng.standard_normal(4), ints], fresh_rng)
    x = chainrule.tensor([1.5, -2.5], requires_grad=True)
    assert chainrule.floor(x).requires_grad and torch.floor(torch.tensor([1.5], requires_grad=True)).requires_grad
    assert not chainrule.remainder(chainrule.tensor([5, 7]), chainrule.tensor([3, 2])).requires_grad


# ------------------------------------------------------------------------------------------------ errors
def test_errors_name_the_op_and_what_to_do():
    ints = chainrule.tensor([1, 2])
    with pytest.raises(RuntimeError, match=r"hypot: not implemented for int64 and int64.*float"):
        chainrule.hypot(ints, ints)
    with pytest.raises(RuntimeError, match="logaddexp: not implemented"):
        chainrule.logaddexp(ints, ints)
    with pytest.raises(RuntimeError, match=r"remainder: not implemented for two bool tensors"):
        chainrule.tensor([True]) % chainrule.tensor([True])
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        chainrule.tensor([3, 4]) % chainrule.tensor([2, 0])
    with pytest.raises(RuntimeError, match="fmod: integer division by zero"):
        chainrule.fmod(chainrule.tensor([3, 4]), 0)
    with pytest.raises(RuntimeError, match="integers to negative integer powers"):
        ints ** -1
    with pytest.raises(RuntimeError, match="integers to negative integer powers"):
        ints ** chainrule.tensor([1, -2])
    with pytest.raises(RuntimeError, match="pow: not implemented for two bool tensors"):
        chainrule.tensor([True]) ** chainrule.tensor([True])
    with pytest.raises(RuntimeError, match="floor: not implemented for bool"):
        chainrule.floor(chainrule.tensor([True]))
    with pytest.raises(RuntimeError, match=r"lerp: expected input, end to have the same dtype, got chainrule.float32, "
                                           r"chainrule.float64"):
        chainrule.lerp(chainrule.ones(2), chainrule.ones(2, dtype=chainrule.float64), 0.5)
    with pytest.raises(TypeError, match="lerp\\(\\): argument 'end' must be a Tensor"):
        chainrule.lerp(chainrule.ones(2), 1.0, 0.5)
    with pytest.raises(TypeError, match="atan2\\(\\): expected at least one Tensor"):
        chainrule.atan2(1.0, 2.0)
    with pytest.raises(TypeError, match="remainder\\(\\): argument 'input' must be a Tensor"):
        chainrule.remainder(5.0, 2.0)
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        chainrule.round(chainrule.ones(2), decimals=1.5)
    with pytest.raises(ValueError, match="softplus: beta must not be 0"):
        chainrule.nn.functional.softplus(chainrule.ones(2), beta=0)
    with pytest.raises(ValueError, match="maximum: inputs of shape \\[2\\] and \\[3\\] do not fit"):
        chainrule.maximum(chainrule.ones(2), chainrule.ones(3))
    with pytest.raises(TypeError, match="tan\\(\\): argument 'input' must be a Tensor"):
        chainrule.tan([1.0, 2.0])
