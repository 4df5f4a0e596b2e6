"""Elementwise ops: arithmetic, powers, exp/log, trigonometry, activations, where and clamp.
Rules are written for same-shape inputs; the engine sums gradients back over broadcast dimensions."""
import math

import numpy as np

from .._errors import DTypeError
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, apply1, apply2, S, arg

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "pow",
           "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "absolute", "sign", "where",
           "clamp", "clip"]
TENSOR_METHODS = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative",
                  "pow", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "absolute", "sign",
                  "clamp", "clip"]

POS = arg((3, 4), 0.5, 2.0)  # inside the domain of log, sqrt, fractional powers
BINARY_SAMPLES = [S((3, 4), (3, 4)), S((3, 1), (1, 4)), S((2, 3, 4), (4,)), S((), (3,)), S((3,), 2.5), S(-1.5, (3,))]

ADD = defop("add", lambda xp, a, b: a + b,
            vjp={"a": lambda g, out, a, b: g, "b": lambda g, out, a, b: g},
            jvp="linear", display="AddBackward0", torch=lambda torch, a, b: a + b, raw=True, samples=BINARY_SAMPLES)
SUB = defop("sub", lambda xp, a, b: a - b,
            vjp={"a": lambda g, out, a, b: g, "b": lambda g, out, a, b: -g},
            jvp="linear", display="SubBackward0", torch=lambda torch, a, b: a - b, raw=True, samples=BINARY_SAMPLES)
MUL = defop("mul", lambda xp, a, b: a * b,
            vjp={"a": lambda g, out, a, b: g * b, "b": lambda g, out, a, b: g * a},
            jvp="elementwise", display="MulBackward0", torch=lambda torch, a, b: a * b, raw=True, samples=BINARY_SAMPLES)
DIV = defop("div", lambda xp, a, b: a / b,
            vjp={"a": lambda g, out, a, b: g / b, "b": lambda g, out, a, b: -g * a / (b * b)},
            jvp="elementwise", display="DivBackward0", torch=lambda torch, a, b: a / b, raw=True,
            samples=[S((3, 4), POS), S((3, 1), arg((4,), 0.5, 2.0)), S((3,), 2.5), S(1.5, POS)])
NEG = defop("neg", lambda xp, x: -x, vjp={"x": lambda g, out, x: -g},
            jvp="linear", display="NegBackward0", torch=lambda torch, x: torch.neg(x), raw=True, samples=[S((3, 4)), S(())])

# x ** c (c a number), x ** y (both tensors), c ** x: PyTorch's PowBackward0, 1 and 2.
POW_SCALAR = defop("pow_scalar", lambda xp, x, *, exponent: x ** exponent,
                   vjp={"x": lambda g, out, x, *, exponent:
                        g * (exponent * x ** (exponent - 1)) if exponent != 0 else g * 0},
                   jvp="elementwise", display="PowBackward0", torch=lambda torch, x, *, exponent: torch.pow(x, exponent), raw=True,
                   samples=[S((3, 4), exponent=2), S((3,), exponent=3), S(POS, exponent=0.5),
                            S(POS, exponent=-1.5), S((2,), exponent=0), S((3,), exponent=1)])
POW = defop("pow", lambda xp, a, b: a ** b,
            vjp={"a": lambda g, out, a, b: g * b * a ** (b - 1),
                 "b": lambda g, out, a, b: g * out * log(a)},
            jvp="elementwise", display="PowBackward1", torch=lambda torch, a, b: torch.pow(a, b), raw=True,
            samples=[S(POS, (3, 4)), S(arg((3, 1), 0.5, 2.0), (4,))])
RPOW = defop("rpow", lambda xp, x, *, base: base ** x,
             vjp={"x": lambda g, out, x, *, base: g * out * math.log(base)},
             jvp="elementwise", display="PowBackward2", torch=lambda torch, x, *, base: torch.pow(base, x), raw=True, samples=[S((3, 4), base=2.0), S((3,), base=0.5)])

EXP = defop("exp", lambda xp, x: xp.exp(x), vjp={"x": lambda g, out, x: g * out},
            jvp="elementwise", display="ExpBackward0", torch=lambda torch, x: torch.exp(x), raw=True, samples=[S((3, 4)), S(())])
LOG = defop("log", lambda xp, x: xp.log(x), vjp={"x": lambda g, out, x: g / x},
            jvp="elementwise", display="LogBackward0", torch=lambda torch, x: torch.log(x), raw=True, samples=[S(POS), S(arg((), 0.5, 2.0))])
SQRT = defop("sqrt", lambda xp, x: xp.sqrt(x), vjp={"x": lambda g, out, x: g / (2 * out)},
             jvp="elementwise", display="SqrtBackward0", torch=lambda torch, x: torch.sqrt(x), raw=True, samples=[S(POS), S(arg((), 0.5, 2.0))])
SIN = defop("sin", lambda xp, x: xp.sin(x), vjp={"x": lambda g, out, x: g * cos(x)},
            jvp="elementwise", display="SinBackward0", torch=lambda torch, x: torch.sin(x), raw=True, samples=[S((3, 4)), S(())])
COS = defop("cos", lambda xp, x: xp.cos(x), vjp={"x": lambda g, out, x: -g * sin(x)},
            jvp="elementwise", display="CosBackward0", torch=lambda torch, x: torch.cos(x), raw=True, samples=[S((3, 4)), S(())])
TANH = defop("tanh", lambda xp, x: xp.tanh(x), vjp={"x": lambda g, out, x: g * (1 - out * out)},
             jvp="elementwise", display="TanhBackward0", torch=lambda torch, x: torch.tanh(x), raw=True, samples=[S((3, 4)), S(())])
SIGMOID = defop("sigmoid", lambda xp, x: _sigmoid(xp, x), vjp={"x": lambda g, out, x: g * out * (1 - out)},
                jvp="elementwise", display="SigmoidBackward0", torch=lambda torch, x: torch.sigmoid(x), raw=True, samples=[S((3, 4)), S(arg((5,), -30, 30))])
RELU = defop("relu", lambda xp, x: xp.maximum(x, 0), vjp={"x": lambda g, out, x: g * (out > 0)},
             jvp="elementwise", display="ReluBackward0", torch=lambda torch, x: torch.relu(x), raw=True,
             samples=[S(arg((3, 4), distinct=True)), S(arg((5,), distinct=True))])
ABS = defop("abs", lambda xp, x: xp.abs(x), vjp={"x": lambda g, out, x: g * sign(x)},
            jvp="elementwise", display="AbsBackward0", torch=lambda torch, x: torch.abs(x), raw=True,
            samples=[S(arg((3, 4), distinct=True)), S(arg((5,), distinct=True))])

SIGN = defop("sign", lambda xp, x: xp.sign(x), vjp={"x": lambda g, out, x: g * 0},
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


def _sigmoid(xp, x):
    # Split by sign so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0.
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
    return apply2(ADD, input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):
    return apply2(SUB, input, other if alpha == 1 else other * alpha)


subtract = sub


def mul(input, other):
    return apply2(MUL, input, other)


multiply = mul


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply2(DIV, input, other)
    from ._nondiff import rounded_div
    return rounded_div(input, other, rounding_mode)


divide = true_divide = div


def neg(input):
    return apply1(NEG, input)


negative = neg


def pow(input, exponent):
    if isinstance(exponent, Tensor):
        if not isinstance(input, Tensor):
            return apply(RPOW, exponent, base=input)
        return apply2(POW, input, exponent)
    if not isinstance(input, Tensor):
        raise TypeError(f"pow: expected a Tensor base or exponent, got {type(input).__name__} and "
                        f"{type(exponent).__name__}")
    return apply(POW_SCALAR, input, exponent=exponent)


def exp(input):
    return apply1(EXP, input)


def log(input):
    return apply1(LOG, input)


def sqrt(input):
    return apply1(SQRT, input)


def sin(input):
    return apply1(SIN, input)


def cos(input):
    return apply1(COS, input)


def tanh(input):
    return apply1(TANH, input)


def sigmoid(input):
    return apply1(SIGMOID, input)


def relu(input):
    return apply1(RELU, input)


def abs(input):
    return apply1(ABS, input)


absolute = abs


def sign(input):
    return apply1(SIGN, input)


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
        # Tensor bounds: gradients flow to the bounds too, so build it from where().
        out = input if min is None else where(input < min, min, input)
        return out if max is None else where(out > max, max, out)
    return apply(CLAMP, input, min=min, max=max)


clip = clamp
