"""Elementwise ops: arithmetic, powers, exp/log, trigonometric and hyperbolic functions, erf, rounding,
activations, maximum/minimum, fmod/remainder, lerp, where and clamp.
Rules are written for same-shape inputs; the engine sums gradients back over broadcast dimensions.
Integer and bool inputs follow PyTorch's type promotion (float functions of them give float32)."""
import math
import operator

import numpy as np

from .._backend import xp
from .._errors import DTypeError
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, S, arg

_UNARY_NAMES = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "absolute", "sign",
                "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "asinh", "acosh", "atanh",
                "arcsinh", "arccosh", "arctanh", "log2", "log10", "log1p", "exp2", "expm1", "rsqrt", "reciprocal",
                "square", "floor", "ceil", "round", "trunc", "fix", "erf", "erfc", "logit", "nan_to_num"]
_BINARY_NAMES = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "atan2", "arctan2",
                 "maximum", "minimum", "fmod", "remainder", "hypot", "logaddexp", "logaddexp2", "lerp"]
__all__ = _UNARY_NAMES + _BINARY_NAMES + ["neg", "negative", "where", "clamp", "clip", "clamp_min", "clamp_max"]
TENSOR_METHODS = _UNARY_NAMES + _BINARY_NAMES + ["neg", "negative", "clamp", "clip", "clamp_min", "clamp_max"]
FUNCTIONAL = ["softplus"]  # chainrule.nn.functional.softplus (PyTorch has no torch.softplus)

_BOOL = np.dtype(np.bool_)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16))  # `in` on a tuple: the fastest test


def _float32(x):
    """An integer or bool array as float32: PyTorch computes float functions of them in its default dtype
    (NumPy would pick float16 for bool and int8, float64 for int64)."""
    return x.astype(np.float32)


POS = arg((3, 4), 0.5, 2.0)  # inside the domain of log, sqrt, fractional powers
BINARY_SAMPLES = [S((3, 4), (3, 4)), S((3, 1), (1, 4)), S((2, 3, 4), (4,)), S((), (3,)), S((3,), 2.5), S(-1.5, (3,))]

ADD = defop("add", lambda xp, a, b: a + b, array_fn=operator.add,
            vjp={"a": lambda g, out, a, b: g, "b": lambda g, out, a, b: g},
            jvp="linear", display="AddBackward0", torch=lambda torch, a, b: a + b, raw=True, samples=BINARY_SAMPLES)
SUB = defop("sub", lambda xp, a, b: a - b, array_fn=operator.sub,
            vjp={"a": lambda g, out, a, b: g, "b": lambda g, out, a, b: -g},
            jvp="linear", display="SubBackward0", torch=lambda torch, a, b: a - b, raw=True, samples=BINARY_SAMPLES)
MUL = defop("mul", lambda xp, a, b: a * b, array_fn=operator.mul,
            vjp={"a": lambda g, out, a, b: g * b, "b": lambda g, out, a, b: g * a},
            jvp="elementwise", display="MulBackward0", torch=lambda torch, a, b: a * b, raw=True, samples=BINARY_SAMPLES)
DIV = defop("div", lambda xp, a, b: a / b, array_fn=operator.truediv,
            vjp={"a": lambda g, out, a, b: g / b, "b": lambda g, out, a, b: -g * a / (b * b)},
            jvp="elementwise", display="DivBackward0", torch=lambda torch, a, b: a / b, raw=True,
            samples=[S((3, 4), POS), S((3, 1), arg((4,), 0.5, 2.0)), S((3,), 2.5), S(1.5, POS)])
NEG = defop("neg", lambda xp, x: -x, vjp={"x": lambda g, out, x: -g},
            jvp="linear", display="NegBackward0", torch=lambda torch, x: torch.neg(x), raw=True, samples=[S((3, 4)), S(())])

# x ** c (c a number), x ** y (both tensors), c ** x: PyTorch's PowBackward0, 1 and 2.
def _pow_scalar(xp, x, *, exponent):
    if x.dtype.kind in "biu":
        if x.dtype is _BOOL and exponent.__class__ is bool:
            return x.copy() if exponent else np.ones_like(x)  # PyTorch keeps bool here
        if x.dtype is _BOOL and exponent.__class__ is int:
            x = x.astype(np.int64)  # bool ** 2 is int64 in PyTorch (NumPy: int8)
        _check_integer_power(x, exponent)
    return x ** exponent


def _pow(xp, a, b):
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        if a.dtype is _BOOL and b.dtype is _BOOL:
            raise DTypeError("pow: not implemented for two bool tensors (as in PyTorch); convert one with .long()")
        _check_integer_power(a, b)
    return a ** b


def _check_integer_power(base, exponent):
    if np.any(np.asarray(exponent) < 0) and np.asarray(exponent).dtype.kind in "iub" and base.dtype.kind in "iu":
        raise DTypeError(f"pow: integers to negative integer powers are not allowed (base {base.dtype}); "
                         "convert the base to float first, e.g. x.float() ** -1")


POW_SCALAR = defop("pow_scalar", _pow_scalar,
                   vjp={"x": lambda g, out, x, *, exponent:
                        g * (exponent * x ** (exponent - 1)) if exponent != 0 else g * 0},
                   jvp="elementwise", display="PowBackward0", torch=lambda torch, x, *, exponent: torch.pow(x, exponent), raw=True,
                   samples=[S((3, 4), exponent=2), S((3,), exponent=3), S(POS, exponent=0.5),
                            S(POS, exponent=-1.5), S((2,), exponent=0), S((3,), exponent=1)])
POW = defop("pow", _pow,
            vjp={"a": lambda g, out, a, b: g * b * a ** (b - 1),
                 "b": lambda g, out, a, b: g * out * log(a)},
            jvp="elementwise", display="PowBackward1", torch=lambda torch, a, b: torch.pow(a, b), raw=True,
            samples=[S(POS, (3, 4)), S(arg((3, 1), 0.5, 2.0), (4,))])
def _rpow(xp, x, *, base):
    if x.dtype.kind in "biu" and base.__class__ in (int, bool):
        if x.dtype is _BOOL and base.__class__ is bool:
            raise DTypeError("pow: not implemented for a bool base and bool exponent (as in PyTorch)")
        _check_integer_power(np.asarray(base), x)
    return base ** x


RPOW = defop("rpow", _rpow,
             vjp={"x": lambda g, out, x, *, base: g * out * math.log(base)},
             jvp="elementwise", display="PowBackward2", torch=lambda torch, x, *, base: torch.pow(base, x), raw=True, samples=[S((3, 4), base=2.0), S((3,), base=0.5)])

EXP = defop("exp", lambda xp, x: xp.exp(x if x.dtype in _FLOATS else _float32(x)), array_fn=xp.exp, vjp={"x": lambda g, out, x: g * out},
            jvp="elementwise", display="ExpBackward0", torch=lambda torch, x: torch.exp(x), raw=True, samples=[S((3, 4)), S(())])
LOG = defop("log", lambda xp, x: xp.log(x if x.dtype in _FLOATS else _float32(x)), array_fn=xp.log, vjp={"x": lambda g, out, x: g / x},
            jvp="elementwise", display="LogBackward0", torch=lambda torch, x: torch.log(x), raw=True, samples=[S(POS), S(arg((), 0.5, 2.0))])
SQRT = defop("sqrt", lambda xp, x: xp.sqrt(x if x.dtype in _FLOATS else _float32(x)), array_fn=xp.sqrt, vjp={"x": lambda g, out, x: g / (2 * out)},
             jvp="elementwise", display="SqrtBackward0", torch=lambda torch, x: torch.sqrt(x), raw=True, samples=[S(POS), S(arg((), 0.5, 2.0))])
SIN = defop("sin", lambda xp, x: xp.sin(x if x.dtype in _FLOATS else _float32(x)), array_fn=xp.sin, vjp={"x": lambda g, out, x: g * cos(x)},
            jvp="elementwise", display="SinBackward0", torch=lambda torch, x: torch.sin(x), raw=True, samples=[S((3, 4)), S(())])
COS = defop("cos", lambda xp, x: xp.cos(x if x.dtype in _FLOATS else _float32(x)), array_fn=xp.cos, vjp={"x": lambda g, out, x: -g * sin(x)},
            jvp="elementwise", display="CosBackward0", torch=lambda torch, x: torch.cos(x), raw=True, samples=[S((3, 4)), S(())])
# tanh: g - g*out*out rather than g*(1 - out*out): NumPy 2 takes a slow path for a Python number with an array.
TANH = defop("tanh", lambda xp, x: xp.tanh(x if x.dtype in _FLOATS else _float32(x)), array_fn=xp.tanh, vjp={"x": lambda g, out, x: g - g * out * out},
             jvp="elementwise", display="TanhBackward0", torch=lambda torch, x: torch.tanh(x), raw=True, samples=[S((3, 4)), S(())])
SIGMOID = defop("sigmoid", lambda xp, x: _sigmoid(xp, x), vjp={"x": lambda g, out, x: g * out * (1 - out)},
                jvp="elementwise", display="SigmoidBackward0", torch=lambda torch, x: torch.sigmoid(x), raw=True, samples=[S((3, 4)), S(arg((5,), -30, 30))])
RELU = defop("relu", lambda xp, x: xp.maximum(x, 0), vjp={"x": lambda g, out, x: g * (out > 0)},
             jvp="elementwise", display="ReluBackward0", torch=lambda torch, x: torch.relu(x), raw=True,
             samples=[S(arg((3, 4), distinct=True)), S(arg((5,), distinct=True))])
ABS = defop("abs", lambda xp, x: xp.abs(x), vjp={"x": lambda g, out, x: g * sign(x)},
            jvp="elementwise", display="AbsBackward0", torch=lambda torch, x: torch.abs(x), raw=True,
            samples=[S(arg((3, 4), distinct=True)), S(arg((5,), distinct=True))])

SIGN = defop("sign", lambda xp, x: _sign(xp, x), vjp={"x": lambda g, out, x: g * 0},
             jvp="elementwise", display="SignBackward0", torch=lambda torch, x: torch.sign(x), raw=True,
             samples=[S(arg((3, 4), distinct=True)), S(arg((5,), distinct=True))])

WHERE = defop("where", lambda xp, condition, a, b: xp.where(condition, a, b),
              vjp={"a": lambda g, out, condition, a, b: where(condition, g, 0.0),
                   "b": lambda g, out, condition, a, b: where(condition, 0.0, g)},
              jvp="linear", display="WhereBackward0", torch=lambda torch, condition, a, b: torch.where(condition, a, b), raw=True,
              samples=[S(arg(value=[[True, False, True, False]] * 3), (3, 4), (3, 4)),
                       S(arg(value=[True, False, True]), (2, 3), (3,)), S(arg(value=[True, False]), (2,), 0.5)])
CLAMP = defop("clamp", lambda xp, x, *, min, max: xp.clip(x, min, max),
              vjp={"x": lambda g, out, x, *, min, max: g * _inside(x, min, max)},
              jvp="elementwise", display="ClampBackward1", torch=lambda torch, x, *, min, max: torch.clamp(x, min=min, max=max), raw=True,
              samples=[S(arg((3, 4), distinct=True), min=-0.3, max=0.4), S(arg((5,), distinct=True), min=0.1, max=None),
                       S(arg((5,), distinct=True), min=None, max=-0.2)])


# ---------------------------------------------------------------------- more functions of one tensor
# Integer and bool inputs compute in float32 (PyTorch's default dtype), like exp and sin above.
LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
UNIT = arg((3, 4), -0.9, 0.9)  # inside the domain of asin, acos, atanh
SMALL = arg((3, 4), -1.2, 1.2)


def _unary(name, forward, rule, display, samples):
    return defop(name, forward, vjp={"x": rule}, jvp="elementwise", display=display, raw=True, samples=samples,
                 torch=lambda torch, x: getattr(torch, name)(x))


def _f(x):
    return x if x.dtype in _FLOATS else _float32(x)


TAN = _unary("tan", lambda xp, x: xp.tan(_f(x)), lambda g, out, x: g * (1 + out * out), "TanBackward0",
             [S(SMALL), S(arg((), -1.2, 1.2))])
ASIN = _unary("asin", lambda xp, x: xp.arcsin(_f(x)), lambda g, out, x: g * rsqrt(1 - x * x), "AsinBackward0",
              [S(UNIT), S(arg((), -0.9, 0.9))])
ACOS = _unary("acos", lambda xp, x: xp.arccos(_f(x)), lambda g, out, x: -g * rsqrt(1 - x * x), "AcosBackward0",
              [S(UNIT), S(arg((), -0.9, 0.9))])
ATAN = _unary("atan", lambda xp, x: xp.arctan(_f(x)), lambda g, out, x: g / (1 + x * x), "AtanBackward0",
              [S((3, 4)), S(())])
SINH = _unary("sinh", lambda xp, x: xp.sinh(_f(x)), lambda g, out, x: g * cosh(x), "SinhBackward0",
              [S((3, 4)), S(())])
COSH = _unary("cosh", lambda xp, x: xp.cosh(_f(x)), lambda g, out, x: g * sinh(x), "CoshBackward0",
              [S((3, 4)), S(())])
ASINH = _unary("asinh", lambda xp, x: xp.arcsinh(_f(x)), lambda g, out, x: g * rsqrt(x * x + 1), "AsinhBackward0",
               [S((3, 4)), S(())])
ACOSH = _unary("acosh", lambda xp, x: xp.arccosh(_f(x)), lambda g, out, x: g * rsqrt(x * x - 1), "AcoshBackward0",
               [S(arg((3, 4), 1.2, 3.0)), S(arg((), 1.2, 3.0))])
ATANH = _unary("atanh", lambda xp, x: xp.arctanh(_f(x)), lambda g, out, x: g / (1 - x * x), "AtanhBackward0",
               [S(UNIT), S(arg((), -0.9, 0.9))])
LOG2 = _unary("log2", lambda xp, x: xp.log2(_f(x)), lambda g, out, x: g / (x * LN2), "Log2Backward0",
              [S(POS), S(arg((), 0.5, 2.0))])
LOG10 = _unary("log10", lambda xp, x: xp.log10(_f(x)), lambda g, out, x: g / (x * LN10), "Log10Backward0",
               [S(POS), S(arg((), 0.5, 2.0))])
LOG1P = _unary("log1p", lambda xp, x: xp.log1p(_f(x)), lambda g, out, x: g / (1 + x), "Log1PBackward0",
               [S(arg((3, 4), -0.5, 2.0)), S(arg((), -0.5, 2.0))])
EXP2 = _unary("exp2", lambda xp, x: xp.exp2(_f(x)), lambda g, out, x: g * out * LN2, "Exp2Backward0",
              [S((3, 4)), S(())])
EXPM1 = _unary("expm1", lambda xp, x: xp.expm1(_f(x)), lambda g, out, x: g * (out + 1), "Expm1Backward0",
               [S((3, 4)), S(())])
RSQRT = _unary("rsqrt", lambda xp, x: 1 / xp.sqrt(_f(x)), lambda g, out, x: -0.5 * g * out * out * out,
               "RsqrtBackward0", [S(POS), S(arg((), 0.5, 2.0))])
RECIPROCAL = _unary("reciprocal", lambda xp, x: 1 / _f(x), lambda g, out, x: -g * out * out, "ReciprocalBackward0",
                    [S(POS), S(arg((5,), -2.0, -0.5))])


def _erf_table():
    """Taylor coefficients of erf and erfc about the points k/1024 of [0, 6], built on first use from the
    standard library's erf/erfc (correctly rounded to about 1 ulp): erf^(n+1)(x) = 2/sqrt(pi) (-1)^n H_n(x)
    exp(-x^2) with Hermite polynomials H_n. Six terms reach float64 precision for |h| <= 1/2048."""
    points = np.arange(_ERF_LIMIT * _ERF_STEPS + 1) / _ERF_STEPS
    scale = TWO_OVER_SQRT_PI * np.exp(-points * points)  # points * points is exact on this grid
    terms = [np.array([math.erf(v) for v in points])]
    hermite_prev, hermite = np.zeros_like(points), np.ones_like(points)
    for n in range(1, _ERF_DEGREE + 1):
        terms.append(scale * (-1) ** (n - 1) * hermite / math.factorial(n))
        hermite_prev, hermite = hermite, 2 * points * hermite - 2 * (n - 1) * hermite_prev
    erfc_terms = [np.array([math.erfc(v) for v in points])] + [-t for t in terms[1:]]
    _ERF_TABLES.update(erf=terms, erfc=erfc_terms)


_ERF_STEPS, _ERF_LIMIT, _ERF_DEGREE = 1024, 6, 6  # erf(6) is 1.0 in float64
_ERF_TABLES = {}


def _erf_series(which, a):
    """erf(a) or erfc(a) for 0 <= a <= 6 (float64), from the Taylor table about the nearest grid point."""
    if not _ERF_TABLES:
        _erf_table()
    terms = _ERF_TABLES[which]
    k = (a * _ERF_STEPS + 0.5).astype(np.intp)
    h = a - k * (1.0 / _ERF_STEPS)
    total = terms[_ERF_DEGREE].take(k)
    for n in range(_ERF_DEGREE - 1, -1, -1):
        total *= h
        total += terms[n].take(k)
    return total


def _erfc_tail(a):
    """erfc(a) for a > 6: Laplace's continued fraction, erfc(a) = exp(-a^2)/sqrt(pi) / (a + 1/2/(a + 1/(a + 3/2/
    (a + ...)))), 24 levels deep (float64 precision from a = 4 on); exp(-a^2) from an exact split of a^2."""
    depth = a.copy()
    for k in range(24, 0, -1):
        depth = a + (k / 2) / depth
    high = a.astype(np.float32).astype(np.float64)  # 24 bits: high * high is exact
    with np.errstate(under="ignore"):
        return np.exp(-high * high) * np.exp(-(a - high) * (a + high)) / (math.sqrt(math.pi) * depth)


def _erf_forward(xp, x):
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    x64 = np.asarray(x, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        out = np.copysign(_erf_series("erf", np.fmin(np.abs(x64), _ERF_LIMIT)), x64)
    out = np.where(x64 != x64, x64, out)  # NaN stays NaN
    return out.astype(dtype, copy=False).reshape(np.shape(x))


def _erfc_forward(xp, x):
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    x64 = np.asarray(x, dtype=np.float64).reshape(-1)
    a = np.abs(x64)
    with np.errstate(invalid="ignore"):
        out = _erf_series("erfc", np.fmin(a, _ERF_LIMIT))
        far = a > _ERF_LIMIT
    if far.any():
        out[far] = _erfc_tail(np.minimum(a[far], 30.0))  # erfc(27.3) is 0 in float64
    out = np.where(x64 < 0, 2 - out, out)
    out = np.where(x64 != x64, x64, out)
    return out.astype(dtype, copy=False).reshape(np.shape(x))


ERF = _unary("erf", _erf_forward, lambda g, out, x: g * TWO_OVER_SQRT_PI * exp(-(x * x)), "ErfBackward0",
             [S((3, 4)), S(arg((5,), -4.0, 4.0))])
ERFC = _unary("erfc", _erfc_forward, lambda g, out, x: -g * TWO_OVER_SQRT_PI * exp(-(x * x)), "ErfcBackward0",
              [S((3, 4)), S(arg((5,), -4.0, 4.0))])


# floor, ceil, round, trunc: steps, whose gradient is zero (as in PyTorch; they stay differentiable).
def _rounding(name, function):
    def forward(xp, x, **params):
        kind = x.dtype.kind
        if kind in "iu":
            return x.copy()  # PyTorch returns integers unchanged (a copy)
        if kind == "b":
            raise DTypeError(f"{name}: not implemented for bool tensors (as in PyTorch); convert with .float()")
        return function(xp, x, **params)

    return forward


STEP_SAMPLES = [S(arg((3, 4), 1.1, 1.4)), S(arg((5,), -2.4, -2.1)), S(arg((), 0.1, 0.4))]
FLOOR, CEIL, ROUND, TRUNC = (
    _unary(name, _rounding(name, lambda xp, x, fn=fn: getattr(xp, fn)(x)), lambda g, out, x: g * 0,
           name.capitalize() + "Backward0", STEP_SAMPLES)
    for name, fn in (("floor", "floor"), ("ceil", "ceil"), ("round", "rint"), ("trunc", "trunc")))
ROUND_DECIMALS = defop("round_decimals", _rounding("round", lambda xp, x, *, decimals: xp.round(x, decimals)),
                       vjp={"x": lambda g, out, x, *, decimals: g * 0}, jvp="elementwise", display="RoundBackward1",
                       raw=True, torch=lambda torch, x, *, decimals: torch.round(x, decimals=decimals),
                       samples=[S(arg((3, 4), 1.01, 1.04), decimals=1), S(arg((5,), -12.4, -11.6), decimals=-1)])


def _logit(xp, x, *, eps):
    x = _f(x)
    if eps is not None:
        x = xp.clip(x, eps, 1 - eps)
    return xp.log(x / (1 - x))


def _logit_vjp(g, out, x, *, eps):
    if eps is None:
        # PyTorch: nan outside [0, 1], an infinite slope at 0 and 1
        return g * where((x < 0) | (x > 1), math.nan, where((x == 0) | (x == 1), math.inf, 1 / (x * (1 - x))))
    # PyTorch: no gradient where x was clamped to [eps, 1 - eps]
    return where((x < eps) | (x > 1 - eps), 0.0, g / (x * (1 - x)))


LOGIT = defop("logit", _logit, vjp={"x": _logit_vjp}, jvp="elementwise", display="LogitBackward0", raw=True,
              torch=lambda torch, x, *, eps: torch.logit(x, eps=eps),
              samples=[S(arg((3, 4), 0.05, 0.95), eps=None), S(arg((2, 5), 0.05, 0.95), eps=0.25),
                       S(arg((), 0.3, 0.7), eps=1e-6)])


def _softplus(xp, x, *, beta, threshold):
    x = _f(x)
    scaled = x * beta
    with np.errstate(over="ignore"):
        # log(1 + e^s) = max(s, 0) + log1p(e^-|s|): never overflows
        smooth = (xp.maximum(scaled, 0) + xp.log1p(xp.exp(-xp.abs(scaled)))) / beta
    return xp.where(scaled > threshold, x, smooth).astype(x.dtype, copy=False)


SOFTPLUS = defop("softplus", _softplus,
                 vjp={"x": lambda g, out, x, *, beta, threshold:
                      where(x * beta > threshold, g, g * sigmoid(x * beta))},
                 jvp="elementwise", display="SoftplusBackward0", raw=True,
                 torch=lambda torch, x, *, beta, threshold: torch.nn.functional.softplus(x, beta, threshold),
                 samples=[S((3, 4), beta=1.0, threshold=20.0), S(arg((2, 5), -3.0, 3.0), beta=2.0, threshold=1.0),
                          S(arg((), -3.0, 3.0), beta=0.5, threshold=20.0)])


def _nan_to_num(xp, x, *, nan, posinf, neginf):
    if x.dtype.kind != "f":
        return x.copy()
    return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


NAN_TO_NUM = defop("nan_to_num", _nan_to_num,
                   vjp={"x": lambda g, out, x, *, nan, posinf, neginf: g * (abs(x) < math.inf)},
                   jvp="elementwise", display="NanToNumBackward0", raw=True,
                   torch=lambda torch, x, **params: torch.nan_to_num(x, **params),
                   samples=[S((3, 4), nan=0.0, posinf=None, neginf=None),
                            S((5,), nan=1.0, posinf=2.0, neginf=-2.0)])


# ------------------------------------------------------------------------ more functions of two tensors
def _float_pair(name, a, b):
    """Refuse integer/bool inputs where PyTorch does (hypot, logaddexp)."""
    if _kind(a) != "f" and _kind(b) != "f":
        raise DTypeError(f"{name}: not implemented for {_dtype_name(a)} and {_dtype_name(b)} inputs (as in "
                         "PyTorch); convert them to float first, e.g. with .float()")


def _kind(value):
    """The dtype kind of an array, or of a Python number as PyTorch sees it (bool, int, float)."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return dtype.kind
    return "b" if value.__class__ is bool else "i" if isinstance(value, int) else "f"


def _dtype_name(v):
    return str(v.dtype) if hasattr(v, "dtype") else type(v).__name__


def _atan2(xp, a, b):
    if _kind(a) != "f" and _kind(b) != "f":
        a = np.asarray(a).astype(np.float32)  # int/bool: float32, as PyTorch (NumPy: float16 for bool)
    return xp.arctan2(a, b)


def _hypot(xp, a, b):
    _float_pair("hypot", a, b)
    return xp.hypot(a, b)


def _logaddexp(xp, a, b):
    _float_pair("logaddexp", a, b)
    return xp.logaddexp(a, b)


def _logaddexp2(xp, a, b):
    _float_pair("logaddexp2", a, b)
    return xp.logaddexp2(a, b)


def _binary(name, forward, vjp, display, samples=BINARY_SAMPLES, jvp="elementwise"):
    return defop(name, forward, vjp=vjp, jvp=jvp, display=display, raw=True, samples=samples,
                 torch=lambda torch, a, b: getattr(torch, name)(_torch_tensor(torch, a), _torch_tensor(torch, b)))


def _torch_tensor(torch, value):
    """PyTorch's atan2, maximum, ... take only tensors: a number becomes a float64 0-d tensor (the samples are
    float64, and a 0-d tensor does not change the result's dtype)."""
    return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=torch.float64)


def _full_jvp(vjp):
    """Forward-mode rules from VJP rules whose result may lack the broadcast dims of the output (d out/d a = 1
    gives the tangent itself): each result is expanded to the output's shape."""
    def expanded(rule):
        def jvp(t, out, *inputs, **params):
            change = rule(t, out, *inputs, **params)
            return change if change.shape == out.shape else change.expand(out.shape)

        return jvp

    return {name: expanded(rule) for name, rule in vjp.items()}


ATAN2 = _binary("atan2", _atan2, {"a": lambda g, out, a, b: g * b / (a * a + b * b),
                                  "b": lambda g, out, a, b: -g * a / (a * a + b * b)}, "Atan2Backward0")
HYPOT = _binary("hypot", _hypot, {"a": lambda g, out, a, b: g * a / out,
                                  "b": lambda g, out, a, b: g * b / out}, "HypotBackward0")
LOGADDEXP = _binary("logaddexp", _logaddexp, {"a": lambda g, out, a, b: g * sigmoid(a - b),
                                              "b": lambda g, out, a, b: g * sigmoid(b - a)}, "LogaddexpBackward0")
LOGADDEXP2 = _binary("logaddexp2", _logaddexp2, {"a": lambda g, out, a, b: g * sigmoid((a - b) * LN2),
                                                 "b": lambda g, out, a, b: g * sigmoid((b - a) * LN2)},
                     "Logaddexp2Backward0")

# maximum/minimum: where the inputs tie, each gets half the gradient (PyTorch); NaN passes it to both.
TIE_SAMPLES = [S(arg((3, 4), distinct=True), arg((3, 4), distinct=True)), S((3, 1), (4,)), S((2, 3), 0.1),
               S(arg(value=[1.0, 2.0, -3.0, 0.5]), arg(value=[1.0, 0.0, -3.0, 4.0])).first_order_only()]
MAXIMUM = _binary("maximum", lambda xp, a, b: xp.maximum(a, b),
                  {"a": lambda g, out, a, b: where(a < b, 0.0, where(a == b, g * 0.5, g)),
                   "b": lambda g, out, a, b: where(a > b, 0.0, where(a == b, g * 0.5, g))},
                  "MaximumBackward0", TIE_SAMPLES)
MINIMUM = _binary("minimum", lambda xp, a, b: xp.minimum(a, b),
                  {"a": lambda g, out, a, b: where(a > b, 0.0, where(a == b, g * 0.5, g)),
                   "b": lambda g, out, a, b: where(a < b, 0.0, where(a == b, g * 0.5, g))},
                  "MinimumBackward0", TIE_SAMPLES)


# fmod (sign of the dividend, C's fmod) and remainder (sign of the divisor, Python's %). The quotient is a
# step function: d/da = 1, d/db = -trunc(a / b) or -floor(a / b), as in PyTorch.
def _modulo(name, function):
    def forward(xp, a, b):
        a_kind, b_kind = _kind(a), _kind(b)
        if a_kind == "b" and b_kind == "b":
            raise DTypeError(f"{name}: not implemented for two bool tensors (as in PyTorch); convert with .long()")
        if a_kind in "iub" and b_kind in "iub" and not np.all(b):
            raise ZeroDivision(f"{name}: integer division by zero (the divisor has zeros); PyTorch raises "
                               "ZeroDivisionError too. Use float tensors to get nan/inf instead.")
        return function(a, b)

    return forward


class ZeroDivision(RuntimeError, ZeroDivisionError):
    """Integer remainder/fmod by zero (PyTorch raises a RuntimeError named ZeroDivisionError)."""


MOD_SAMPLES = [S((3, 4), arg((3, 4), 0.5, 2.0)), S(arg((3, 1), -3.0, 3.0), arg((4,), -2.0, -0.5)),
               S(arg((), -3.0, 3.0), arg((3,), 0.5, 1.5))]
MOD_SCALAR_SAMPLES = [S(arg((3, 4), -3.0, 3.0), 0.7), S(arg((5,), -3.0, 3.0), -1.3), S(arg((), 0.1, 2.0), 2.5)]
FMOD_VJP = {"a": lambda g, out, a, b: g, "b": lambda g, out, a, b: -g * trunc(a / b)}
REMAINDER_VJP = {"a": lambda g, out, a, b: g, "b": lambda g, out, a, b: -g * _floor_quotient(g, a, b)}


def _floor_quotient(g, a, b):
    """a // b as Python and PyTorch compute it (from fmod, so -0.5 // inf is -1), in g's dtype: a constant
    (its derivative is zero wherever it has one), so the rule stays differentiable in g."""
    a_data, b_data = getattr(a, "_data", a), getattr(b, "_data", b)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.floor_divide(a_data, b_data)
    g_data = getattr(g, "_data", g)
    quotient = np.asarray(quotient, dtype=g_data.dtype)
    return make_tensor(quotient) if isinstance(g, Tensor) else quotient
FMOD = _binary("fmod", _modulo("fmod", np.fmod), FMOD_VJP, "FmodBackward1", MOD_SAMPLES, _full_jvp(FMOD_VJP))
REMAINDER = _binary("remainder", _modulo("remainder", np.remainder), REMAINDER_VJP, "RemainderBackward1",
                    MOD_SAMPLES, _full_jvp(REMAINDER_VJP))
# With a number as divisor PyTorch names the node ...Backward0
FMOD_SCALAR = defop("fmod_scalar", FMOD.forward,
                    vjp={"a": lambda g, out, a, b: g}, jvp="elementwise", display="FmodBackward0", raw=True,
                    torch=lambda torch, a, b: torch.fmod(a, b), samples=MOD_SCALAR_SAMPLES)
REMAINDER_SCALAR = defop("remainder_scalar", REMAINDER.forward,
                         vjp={"a": lambda g, out, a, b: g}, jvp="elementwise", display="RemainderBackward0",
                         raw=True, torch=lambda torch, a, b: torch.remainder(a, b),
                         samples=MOD_SCALAR_SAMPLES)


# lerp: start + weight * (end - start), computed from the nearer end as PyTorch does (exact at weight 0 and 1).
def _lerp_scalar(xp, start, end, *, weight):
    if -0.5 < weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _lerp(xp, start, end, weight):
    difference = end - start
    return xp.where(xp.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight))


LERP_SCALAR_VJP = {"start": lambda g, out, start, end, *, weight: g * (1 - weight),
                   "end": lambda g, out, start, end, *, weight: g * weight}
LERP_VJP = {"start": lambda g, out, start, end, weight: g * (1 - weight),
            "end": lambda g, out, start, end, weight: g * weight,
            "weight": lambda g, out, start, end, weight: g * (end - start)}
LERP_SCALAR = defop("lerp_scalar", _lerp_scalar, vjp=LERP_SCALAR_VJP, jvp=_full_jvp(LERP_SCALAR_VJP),
                    display="LerpBackward0", raw=True,
                    torch=lambda torch, start, end, *, weight: torch.lerp(start, end, weight),
                    samples=[S((3, 4), (3, 4), weight=0.3), S((3,), (2, 3), weight=0.8), S((), (4,), weight=-0.5)])
LERP = defop("lerp", _lerp, vjp=LERP_VJP, jvp=_full_jvp(LERP_VJP), display="LerpBackward1", raw=True,
             torch=lambda torch, start, end, weight: torch.lerp(start, end, weight),
             samples=[S((3, 4), (3, 4), arg((3, 4), 0.0, 1.0)), S((3, 1), (4,), arg((), 0.6, 0.9)),
                      S((), (2, 3), arg((3,), -0.4, 0.4))])


def _sign(xp, x):
    # sign(nan) is 0 in PyTorch (NumPy: nan); bool stays bool
    if x.dtype is _BOOL:
        return x.copy()
    return xp.subtract(x > 0, x < 0, dtype=x.dtype)


def _sigmoid(xp, x):
    # Split by sign so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0.
    x = x if x.dtype in _FLOATS else _float32(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _inside(x, low, high):
    """1 where low <= x <= high (PyTorch lets the gradient through at the bounds), else 0."""
    mask = True
    if low is not None:
        mask = x >= low
    if high is not None:
        mask = mask & (x <= high) if low is not None else x <= high
    return mask


# ------------------------------------------------------------------------------ the functions users call
def add(input, other, *, alpha=1):
    return ADD.call2(input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):
    return SUB.call2(input, other if alpha == 1 else other * alpha)


subtract = sub


def mul(input, other):
    return MUL.call2(input, other)


multiply = mul


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return DIV.call2(input, other)
    from ._nondiff import rounded_div
    return rounded_div(input, other, rounding_mode)


divide = true_divide = div


def neg(input):
    return NEG.call1(input)


negative = neg


def pow(input, exponent):
    if isinstance(exponent, Tensor):
        if not isinstance(input, Tensor):
            return apply(RPOW, exponent, base=input)
        return POW.call2(input, exponent)
    if not isinstance(input, Tensor):
        raise TypeError(f"pow: expected a Tensor base or exponent, got {type(input).__name__} and "
                        f"{type(exponent).__name__}")
    return apply(POW_SCALAR, input, exponent=exponent)


def exp(input):
    return EXP.call1(input)


def log(input):
    return LOG.call1(input)


def sqrt(input):
    return SQRT.call1(input)


def sin(input):
    return SIN.call1(input)


def cos(input):
    return COS.call1(input)


def tanh(input):
    return TANH.call1(input)


def sigmoid(input):
    return SIGMOID.call1(input)


def relu(input):
    return RELU.call1(input)


def abs(input):
    return ABS.call1(input)


absolute = abs


def sign(input):
    return SIGN.call1(input)


def where(condition, input, other):
    if not any(isinstance(v, Tensor) for v in (condition, input, other)):
        return np.where(condition, input, other)  # all arrays: a raw-safe rule running on arrays
    if not isinstance(condition, Tensor):
        condition = make_tensor(np.asarray(condition, dtype=bool))
    elif condition._data.dtype != np.bool_:
        raise DTypeError(f"where: expected condition to be a bool tensor, got {condition.dtype}")
    return apply(WHERE, condition, input, other)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # Tensor bounds: gradients flow to the bounds too, so build it from where(). The gradient goes to the
        # input where min <= input <= max, as in PyTorch; a nan bound gives nan.
        out = input if min is None else where((input < min) | _is_nan(min), min, input)
        return out if max is None else where((out > max) | _is_nan(max), max, out)
    return apply(CLAMP, input, min=min, max=max)


clip = clamp


def tan(input):
    return TAN.call1(input)


def asin(input):
    return ASIN.call1(input)


def acos(input):
    return ACOS.call1(input)


def atan(input):
    return ATAN.call1(input)


def sinh(input):
    return SINH.call1(input)


def cosh(input):
    return COSH.call1(input)


def asinh(input):
    return ASINH.call1(input)


def acosh(input):
    return ACOSH.call1(input)


def atanh(input):
    return ATANH.call1(input)


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def log2(input):
    return LOG2.call1(input)


def log10(input):
    return LOG10.call1(input)


def log1p(input):
    return LOG1P.call1(input)


def exp2(input):
    return EXP2.call1(input)


def expm1(input):
    return EXPM1.call1(input)


def rsqrt(input):
    return RSQRT.call1(input)


def reciprocal(input):
    return RECIPROCAL.call1(input)


def square(input):
    """input ** 2 (PyTorch's node is PowBackward0 too)."""
    return pow(input, 2)


def floor(input):
    return FLOOR.call1(input)


def ceil(input):
    return CEIL.call1(input)


def round(input, *, decimals=0):
    """Round half to even (as PyTorch); ``decimals`` digits after the point (negative: before it)."""
    if decimals == 0:
        return ROUND.call1(input)
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, not {type(decimals).__name__}")
    return apply(ROUND_DECIMALS, input, decimals=decimals)


def trunc(input):
    return TRUNC.call1(input)


fix = trunc


def erf(input):
    return ERF.call1(input)


def erfc(input):
    return ERFC.call1(input)


def logit(input, eps=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps] (no gradient where clamped)."""
    return apply(LOGIT, input, eps=None if eps is None else float(eps))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (torch.nn.functional.softplus)."""
    if beta == 0:
        raise ValueError("softplus: beta must not be 0")
    return apply(SOFTPLUS, input, beta=beta, threshold=threshold)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the dtype's largest
    and smallest finite values); the gradient is zero where the input was not finite."""
    return apply(NAN_TO_NUM, input, nan=nan, posinf=posinf, neginf=neginf)


def _binary_call(op, name, input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    return op.call2(input, other)


def atan2(input, other):
    return _binary_call(ATAN2, "atan2", input, other)


arctan2 = atan2


def hypot(input, other):
    return _binary_call(HYPOT, "hypot", input, other)


def logaddexp(input, other):
    """log(exp(input) + exp(other)), computed without overflow."""
    return _binary_call(LOGADDEXP, "logaddexp", input, other)


def logaddexp2(input, other):
    return _binary_call(LOGADDEXP2, "logaddexp2", input, other)


def maximum(input, other):
    """Elementwise larger value (NaN if either is NaN); ties split the gradient evenly."""
    return _binary_call(MAXIMUM, "maximum", input, other)


def minimum(input, other):
    return _binary_call(MINIMUM, "minimum", input, other)


def fmod(input, other):
    """C's fmod: the remainder has the sign of the dividend."""
    if isinstance(other, Tensor):
        return _binary_call(FMOD, "fmod", input, other)
    _check_tensor("fmod", input)
    return apply(FMOD_SCALAR, input, other)


def remainder(input, other):
    """Python's %: the remainder has the sign of the divisor (a - floor(a / b) * b)."""
    if isinstance(other, Tensor):
        return _binary_call(REMAINDER, "remainder", input, other)
    _check_tensor("remainder", input)
    return apply(REMAINDER_SCALAR, input, other)


def _check_tensor(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")


def lerp(input, end, weight):
    """input + weight * (end - input); ``weight`` a number or a tensor."""
    _check_tensor("lerp", input)
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' must be a Tensor, not {type(end).__name__}")
    tensors = [input, end] + ([weight] if isinstance(weight, Tensor) else [])
    if len({t._data.dtype for t in tensors}) > 1:
        raise DTypeError("lerp: expected input, end" + (" and weight" if len(tensors) == 3 else "") +
                         " to have the same dtype, got " + ", ".join(str(t.dtype) for t in tensors) +
                         "; convert them with .to(dtype)")
    if isinstance(weight, Tensor):
        return apply(LERP, input, end, weight)
    return apply(LERP_SCALAR, input, end, weight=weight)


def _is_nan(bound):
    return bound != bound  # a bool tensor, or a Python bool for a number


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)
