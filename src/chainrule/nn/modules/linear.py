"""Identity, Linear, Bilinear (PyTorch's names, signatures, default initialisation and repr)."""
import math

from ... import _factories
from ..._errors import ShapeError
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._utils import _factory

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input unchanged; takes (and ignores) any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _empty(shape, device, dtype):
    return Parameter(_factories.empty(*shape, dtype=_factory(device, dtype)))


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features). Initialised as PyTorch:
    kaiming_uniform_(a=sqrt(5)) weight (U(-1/sqrt(in), 1/sqrt(in))) and U(-1/sqrt(in), 1/sqrt(in)) bias."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty((out_features, in_features), device, dtype)
        if bias:
            self.bias = _empty((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if not input.ndim or input.shape[-1] != self.in_features:
            raise ShapeError(f"Linear(in_features={self.in_features}, out_features={self.out_features}): expected "
                             f"an input whose last dim is {self.in_features}, got shape {list(input.shape)} "
                             f"(mat1 and mat2 shapes cannot be multiplied "
                             f"({_rows(input)}x{input.shape[-1] if input.ndim else 1} and "
                             f"{self.in_features}x{self.out_features}))")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _rows(input):
    rows = 1
    for s in input.shape[:-1]:
        rows *= s
    return rows


class Bilinear(Module):
    """y[k] = x1 @ weight[k] @ x2 + bias[k], weight (out_features, in1_features, in2_features); weight and bias
    start U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _empty((out_features, in1_features, in2_features), device, dtype)
        if bias:
            self.bias = _empty((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        if input1.shape[-1:] != (self.in1_features,) or input2.shape[-1:] != (self.in2_features,):
            raise ShapeError(f"Bilinear(in1_features={self.in1_features}, in2_features={self.in2_features}): expected "
                             f"inputs whose last dims are {self.in1_features} and {self.in2_features}, got shapes "
                             f"{list(input1.shape)} and {list(input2.shape)}")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
