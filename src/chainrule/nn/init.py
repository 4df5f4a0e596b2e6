"""chainrule.nn.init: fill a tensor in place with values from a distribution (PyTorch's torch.nn.init).

Every function writes into ``tensor`` under no_grad (so it works on parameters that require grad), draws
from chainrule's generator (``chainrule.manual_seed`` makes it reproducible) or from ``generator=`` (a
NumPy Generator, as ``chainrule.randn(generator=)`` takes), and returns ``tensor``.
"""
import math
import warnings

import numpy as np

from .._factories import default_generator
from .._tensor import make_tensor
from ..autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain (std multiplier) for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope = param, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity} (choose from {', '.join(_LINEAR_GAIN)}, tanh, "
                     "relu, leaky_relu, selu)")


# ------------------------------------------------------------------------------------------ helpers
def _rng(generator):
    return default_generator() if generator is None else generator


def _float_dtype(tensor, name):
    dtype = tensor._data.dtype
    if dtype.kind != "f":
        raise TypeError(f"nn.init.{name}: expected a floating-point tensor, got {tensor.dtype}")
    return dtype


def _write(tensor, values):
    """Copy ``values`` (an ndarray of tensor's shape) into tensor, in place and outside the graph."""
    with no_grad():
        tensor.copy_(make_tensor(np.asarray(values, dtype=tensor._data.dtype)))
    return tensor


def _uniform(tensor, a, b, generator, name):
    dtype = _float_dtype(tensor, name)
    draw = _rng(generator).random(tensor.shape, dtype=dtype if dtype in (np.float32, np.float64) else np.float64)
    return _write(tensor, draw * (b - a) + a)


def _normal(tensor, mean, std, generator, name):
    dtype = _float_dtype(tensor, name)
    draw = _rng(generator).standard_normal(tensor.shape,
                                           dtype=dtype if dtype in (np.float32, np.float64) else np.float64)
    return _write(tensor, draw * std + mean)


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: size(1) and size(0) times the receptive field (the product of dims 2:)."""
    if tensor._data.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {list(tensor.shape)})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor._data.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _no_op_if_empty(tensor):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


# --------------------------------------------------------------------------------- plain distributions
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    return _uniform(tensor, a, b, generator, "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    return _normal(tensor, mean, std, generator, "normal_")


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) restricted to [a, b] (a, b in the tensor's units, as PyTorch)."""
    dtype = _float_dtype(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"nn.init.trunc_normal_: expected a < b, got a={a}, b={b}")
    lo, hi = (a - mean) / std, (b - mean) / std
    rng = _rng(generator)
    mass = 0.5 * (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2)))
    if mass > 0.05:
        proposal = rng.standard_normal
        accept = lambda x: (x >= lo) & (x <= hi)  # noqa: E731
    else:  # far in a tail: propose uniformly on [lo, hi], accept by the normal density relative to its peak there
        peak = min(max(0.0, lo), hi)
        proposal = lambda n: rng.uniform(lo, hi, n)  # noqa: E731
        accept = lambda x: rng.random(x.shape) < np.exp((peak * peak - x * x) / 2)  # noqa: E731
    values = np.empty(tensor._data.size)
    todo = np.arange(values.size)
    while todo.size:  # a few vectorised rounds: each keeps a constant fraction of the draws
        x = proposal(todo.size)
        ok = accept(x)
        values[todo[ok]] = x[ok]
        todo = todo[~ok]
    return _write(tensor, (values * std + mean).reshape(tensor.shape).astype(dtype, copy=False))


def constant_(tensor, val):
    """Fill with the value val."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal, as many as fit)."""
    if tensor._data.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (nn.init.eye_ got shape {list(tensor.shape)})")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D conv weight with the Dirac delta: each output channel passes one input channel
    through unchanged (per group)."""
    ndim = tensor._data.ndim
    if ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported (nn.init.dirac_ got shape "
                         f"{list(tensor.shape)})")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups (got shape {list(tensor.shape)}, groups={groups})")
    values = np.zeros(tensor.shape)
    n = min(out_per_group, tensor.shape[1])
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):  # one fancy-index assignment per group
        values[(g * out_per_group + np.arange(n), np.arange(n)) + centre] = 1
    return _write(tensor, values)


# ------------------------------------------------------------------------------- scaled by fan in/out
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _uniform(tensor, -bound, bound, generator, "xavier_uniform_")


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _normal(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator, "xavier_normal_")


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)
    and fan the fan_in or fan_out of ``mode``."""
    if _no_op_if_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, "kaiming_uniform_")


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if _no_op_if_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return _normal(tensor, 0.0, std, generator, "kaiming_normal_")


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix (the tensor viewed as size(0) x rest), from the QR decomposition of a
    normal matrix with the signs fixed so the result is uniformly distributed; scaled by gain."""
    if tensor._data.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (nn.init.orthogonal_ got shape "
                         f"{list(tensor.shape)})")
    if tensor._data.size == 0:
        return tensor
    dtype = _float_dtype(tensor, "orthogonal_")
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # make R's diagonal positive: Q then has the Haar distribution
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape).astype(dtype, copy=False))
