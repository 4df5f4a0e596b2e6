"""chainrule: automatic differentiation on NumPy with PyTorch's API.

    import chainrule as torch
    x = torch.tensor(2.0, requires_grad=True)
    y = 2 * x ** 2 + 1
    y.backward()
    x.grad  # tensor(8.)
"""
from ._dtype import (dtype, float16, float32, float64, int8, int16, int32, int64, uint8, bool,  # noqa: F401,A004
                     half, float, double, short, int, long)
from ._backend import device  # noqa: F401
from ._errors import ShapeError, DTypeError, GraphError  # noqa: F401
from ._tensor import Tensor, Size, tensor, as_tensor, from_numpy, is_tensor  # noqa: F401
from ._factories import (zeros, ones, full, empty, arange, linspace, logspace, eye, rand, randn, randint,  # noqa: F401
                         randperm, zeros_like, ones_like, full_like, empty_like, rand_like, randn_like,
                         randint_like, manual_seed)
from .ops import *  # noqa: F401,F403 - every op module's __all__
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                                 is_grad_enabled, is_inference_mode_enabled)
from ._format import set_printoptions, get_printoptions  # noqa: F401
from . import autograd, linalg, nn  # noqa: F401
from . import optim, utils, datasets, viz  # noqa: F401
from .serialization import save, load  # noqa: F401
from .tape import GradientTape, UnconnectedGradients  # noqa: F401
from . import func  # noqa: F401
from . import symbolic  # noqa: F401
from . import numerical  # noqa: F401
from .checking import check_derivatives  # noqa: F401

# The engine works on Tensors but is imported before them; hand it what it needs.
from .autograd import engine as _engine
from ._tensor import make_tensor as _make_tensor
from .ops import sum_to as _sum_to

from .autograd import forward_ad as _forward_ad

_forward_ad.Tensor = Tensor
_forward_ad.make_tensor = _make_tensor
_engine.Tensor = Tensor
_engine.make_tensor = _make_tensor
_engine.sum_to = _sum_to
_engine.sum_to_array = __import__("chainrule.ops.reduction", fromlist=["sum_to_array"]).sum_to_array

__version__ = "0.1.0"
