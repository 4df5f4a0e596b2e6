"""Activation functions as modules (PyTorch's names, constructor arguments and repr). Each forward calls
chainrule.nn.functional; the few PyTorch activations F does not have (PReLU, GLU, Threshold, LogSigmoid,
Softmin, Softmax2d, Hardshrink, Softshrink) are written with tensor ops here."""
import warnings

from ... import _factories
from ..._errors import ShapeError
from ...ops import elementwise as _ew
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._utils import _factory

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Sigmoid",
           "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Softsign", "Tanhshrink", "Softmax",
           "LogSoftmax", "Softmin", "Softmax2d", "LogSigmoid", "GLU", "Threshold", "Hardshrink", "Softshrink"]


def _inplace_repr(inplace, first=True):
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class _Inplace(Module):
    """An activation whose only argument is inplace (ReLU, SELU, SiLU, Mish, Hardswish, Hardsigmoid)."""
    _repr = True

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return _inplace_repr(self.inplace) if self._repr else ""


class ReLU(_Inplace):
    """max(0, x)."""

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)


class SELU(_Inplace):
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))) with PyTorch's constants."""

    def forward(self, input):
        return F.selu(input, self.inplace)


class SiLU(_Inplace):
    """x * sigmoid(x) (swish)."""

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)


class Mish(_Inplace):
    """x * tanh(softplus(x))."""

    def forward(self, input):
        return F.mish(input, inplace=self.inplace)


class Hardswish(_Inplace):
    """x * relu6(x + 3) / 6."""
    _repr = False

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6."""
    _repr = False

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace, False)}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input):
        return F.relu6(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """x for x >= 0, negative_slope * x below."""

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace, False)}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) below."""
    _functional = staticmethod(F.elu)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return self._functional(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace, False)}"


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _functional = staticmethod(F.celu)


class GELU(Module):
    """x * Phi(x) (approximate='none', with erf) or PyTorch's tanh approximation (approximate='tanh')."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class _Plain(Module):
    """An activation without arguments (accepts and ignores any, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()


class Sigmoid(_Plain):
    """1 / (1 + exp(-x))."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(_Plain):
    """tanh(x)."""

    def forward(self, input):
        return F.tanh(input)


class Softsign(_Plain):
    """x / (1 + |x|)."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(_Plain):
    """x - tanh(x)."""

    def forward(self, input):
        return F.tanhshrink(input)


class LogSigmoid(_Plain):
    """log(sigmoid(x)) = -softplus(-x), stable for any x."""

    def forward(self, input):
        return -_ew.softplus(-input)


class Softmax2d(_Plain):
    """Softmax over the channels of (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected input of 3 or 4 dims (C, H, W) or (N, C, H, W), got shape "
                             f"{list(input.shape)}")
        return F.softmax(input, -3)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta; x itself where beta * x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _Dim(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_Dim):
    """exp(x) / sum(exp(x)) along dim."""

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_Dim):
    """log(softmax(x)) along dim, computed stably."""

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmin(_Dim):
    """softmax(-x) along dim."""

    def forward(self, input):
        return F.softmax(-input, self.dim, _stacklevel=5)


class GLU(_Dim):
    """Gated linear unit: split dim in halves a, b and return a * sigmoid(b)."""

    def __init__(self, dim=-1):
        super().__init__(dim)

    def forward(self, input):
        size = input.shape[self.dim] if input.ndim else 0
        if size % 2:
            raise ShapeError(f"GLU: Halving dimension must be even, but dimension {self.dim} is size {size} "
                             f"(input shape {list(input.shape)})")
        a, b = input.chunk(2, self.dim)
        return a * F.sigmoid(b)


class PReLU(Module):
    """x for x > 0, weight * x below; weight (num_parameters,) is one slope, or one per channel (dim 1),
    initialised to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_factories.empty(num_parameters, dtype=_factory(device, dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        weight = self.weight
        if self.num_parameters != 1:
            channel_dim = 1 if input.ndim >= 2 else 0
            if input.ndim == 0 or input.shape[channel_dim] != self.num_parameters:
                raise ShapeError(f"PReLU(num_parameters={self.num_parameters}): expected {self.num_parameters} "
                                 f"channels in dim {channel_dim}, got input of shape {list(input.shape)}")
            weight = weight.reshape((self.num_parameters,) + (1,) * (input.ndim - channel_dim - 1))
        return _ew.where(input > 0, input, weight * input)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        out = _ew.where(input > self.threshold, input, _factories.full_like(input, self.value))
        return input.copy_(out) if self.inplace else out

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace, False)}"


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return _ew.where(input.abs() > self.lambd, input, _factories.zeros_like(input))

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return input - input.clamp(-self.lambd, self.lambd)

    def extra_repr(self):
        return str(self.lambd)
