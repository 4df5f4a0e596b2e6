"""Neural-network ops: activations, softmax/log_softmax, losses, normalisation, dropout, embedding.
Public through chainrule.nn.functional (PyTorch's names and defaults).

Primitives (own rules) only where stability or speed asks for them: ``softmax`` / ``log_softmax``
(shifted by the max), ``nll_loss`` with class indices (one gather forward, one constant-coefficient
product backward), ``binary_cross_entropy`` (PyTorch's clamped logs and its epsilon-guarded gradient),
``binary_cross_entropy_with_logits`` (softplus written without overflow), ``batch_norm`` /
``layer_norm`` (one normalisation node with the affine weight and bias folded in), ``linear`` (one
node, as PyTorch's addmm) and ``embedding``
with its scatter-add backward. Everything else is a composite of registered ops."""
import math
import warnings
import weakref

import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ..autograd import forward_ad, grad_mode
from . import elementwise as _ew
from ._registry import defop, apply, S, arg
from ._shape_utils import normalize_dim, broadcast_shapes
from .elementwise import sigmoid, tanh, exp, log, where, clamp
from .linalg import matmul

__all__ = ["softmax", "log_softmax", "dropout"]  # chainrule.<name>, as torch.<name>
TENSOR_METHODS = ["softmax", "log_softmax"]
FUNCTIONAL = [
    # linear layers
    "linear", "bilinear",
    # activations
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "hardtanh", "hardsigmoid",
    "hardswish", "softsign", "tanhshrink", "softmax", "log_softmax",
    # regularisation
    "dropout",
    # losses
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    # normalisation
    "batch_norm", "layer_norm", "group_norm", "instance_norm",
    # lookup
    "embedding",
]


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _floating(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}(): expected a floating-point input, got {x.dtype}; convert it with .float()")
    return x


# ------------------------------------------------------------------------------------ softmax family
def _softmax_forward(xp, x, *, dim):
    shifted = x - xp.max(x, axis=dim, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=dim, keepdims=True)


def _log_softmax_forward(xp, x, *, dim):
    shifted = x - xp.max(x, axis=dim, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))


SOFTMAX_SAMPLES = [S((3, 4), dim=1), S((2, 3, 4), dim=0), S((5,), dim=0), S(arg((3, 4), -30, 30), dim=-1)]

SOFTMAX = defop("softmax", _softmax_forward,
                vjp={"x": lambda g, out, x, *, dim: out * (g - (g * out).sum(dim, keepdim=True))},
                jvp={"x": lambda t, out, x, *, dim: out * (t - (t * out).sum(dim, keepdim=True))},
                display="SoftmaxBackward0", torch=lambda torch, x, *, dim: torch.softmax(x, dim),
                samples=SOFTMAX_SAMPLES)
LOG_SOFTMAX = defop("log_softmax", _log_softmax_forward,
                    vjp={"x": lambda g, out, x, *, dim: g - exp(out) * g.sum(dim, keepdim=True)},
                    jvp={"x": lambda t, out, x, *, dim: t - (exp(out) * t).sum(dim, keepdim=True)},
                    display="LogSoftmaxBackward0", torch=lambda torch, x, *, dim: torch.log_softmax(x, dim),
                    samples=SOFTMAX_SAMPLES)


def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's rule for a missing dim (deprecated, with a warning): 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(name, op, input, dim, dtype, stacklevel):
    if dtype is not None:
        input = input.to(dtype)
    _floating(name, input)
    if dim is None:
        dim = _softmax_dim(name, input._data.ndim, stacklevel)
    ndim = input._data.ndim
    dim = normalize_dim(name, dim, ndim)
    if ndim == 0:  # a single element: softmax 1, log_softmax 0
        return apply(op, input.reshape(1), dim=0).reshape(())
    if input._data.size == 0:
        return input * 1.0
    return apply(op, input, dim=dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(x, dim): exp(x) / exp(x).sum(dim), computed from x - max(x) (no overflow)."""
    if not isinstance(_stacklevel, int):  # torch.softmax(x, dim, dtype): the third positional is the dtype
        _stacklevel, dtype = 3, _stacklevel
    return _softmax_like("softmax", SOFTMAX, input, dim, dtype, _stacklevel)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log_softmax(x, dim): x - logsumexp(x, dim), stable for any magnitude of x."""
    if not isinstance(_stacklevel, int):
        _stacklevel, dtype = 3, _stacklevel
    return _softmax_like("log_softmax", LOG_SOFTMAX, input, dim, dtype, _stacklevel)


# -------------------------------------------------------------------------------------- activations
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _activation_inplace(name, compute):
    """Run ``compute`` out of place, or in place on the input with PyTorch's in-place checks."""
    def run(input, inplace):
        if inplace:
            return input._inplace(name + "_", compute)
        return compute(input)

    return run


def _clamp_strict(x, low, high):
    """clamp(x, low, high) whose gradient passes only strictly inside (low, high), as PyTorch's hardtanh,
    relu6 and hardsigmoid (clamp lets it through at the bounds)."""
    data = x._data
    inside = make_tensor((data > low) & (data < high))
    return where(inside, x, make_tensor(np.clip(data, low, high)))


def relu(input, inplace=False):
    """F.relu(x, inplace=False) (chainrule.relu / Tensor.relu take no inplace flag, as in PyTorch)."""
    return _activation_inplace("relu", _ew.relu)(input, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _activation_inplace("hardtanh", lambda x: _clamp_strict(x, min_val, max_val))(input, inplace)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _activation_inplace("leaky_relu", lambda x: where(x > 0, x, x * negative_slope))(input, inplace)


def _exp_below_zero(x, scale=1.0):
    """exp(x / scale) - 1 on x <= 0 (x clamped at 0 first, so the unused branch of elu cannot overflow)."""
    clipped = clamp(x, None, 0.0)
    return exp(clipped / scale if scale != 1.0 else clipped) - 1


def elu(input, alpha=1.0, inplace=False):
    return _activation_inplace("elu", lambda x: where(x > 0, x, alpha * _exp_below_zero(x)))(input, inplace)


def selu(input, inplace=False):
    return _activation_inplace("selu", lambda x: SELU_SCALE * where(x > 0, x, SELU_ALPHA * _exp_below_zero(x)))(
        input, inplace)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise ValueError("celu: ZeroDivisionError: alpha must not be 0 (celu divides by alpha)")
    return _activation_inplace("celu", lambda x: where(x > 0, x, alpha * _exp_below_zero(x, alpha)))(input, inplace)


def gelu(input, approximate="none"):
    """x * Phi(x): exact with erf (approximate='none'), or PyTorch's tanh approximation ('tanh')."""
    if approximate == "none":
        erf = getattr(_ew, "erf", None)
        if erf is None:
            raise NotImplementedError("gelu(approximate='none') needs chainrule.erf, which is not available yet; "
                                      "use approximate='tanh'")
        return input * 0.5 * (1 + erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    return _activation_inplace("silu", lambda x: x * sigmoid(x))(input, inplace)


def _softplus(x):
    """log(1 + exp(x)) for any x (chainrule's softplus primitive with no linear cut-off)."""
    return _ew.softplus(x, 1.0, math.inf)


def mish(input, inplace=False):
    return _activation_inplace("mish", lambda x: x * tanh(_softplus(x)))(input, inplace)


def hardsigmoid(input, inplace=False):
    return _activation_inplace("hardsigmoid", lambda x: _clamp_strict(x / 6 + 0.5, 0.0, 1.0))(input, inplace)


def hardswish(input, inplace=False):
    return _activation_inplace("hardswish", lambda x: x * _clamp_strict(x / 6 + 0.5, 0.0, 1.0))(input, inplace)


def softsign(input):
    return input / (1 + _ew.abs(input))


def tanhshrink(input):
    return input - tanh(input)


# ---------------------------------------------------------------------------------- linear layers
def linear(input, weight, bias=None):
    """input @ weight.T + bias; weight has shape (out_features, in_features) (or (in_features,))."""
    in_features = weight.shape[-1] if weight._data.ndim else None
    if weight._data.ndim not in (1, 2) or not input._data.ndim or input.shape[-1] != in_features:
        raise ShapeError(f"linear: input of shape {shape_str(input.shape)} and weight of shape "
                         f"{shape_str(weight.shape)} do not fit: weight must be (out_features, in_features) with "
                         f"in_features equal to the input's last dim ({input.shape[-1] if input._data.ndim else '-'})")
    if weight._data.ndim == 2 and _same_float_dtype(input, weight, bias) and \
            (bias is None or bias.shape == weight.shape[:1]):
        return apply(LINEAR, input, weight, bias)
    out = matmul(input, weight.t() if weight._data.ndim == 2 else weight)  # 1-D weight, mixed dtypes
    return out if bias is None else out + bias


def _same_float_dtype(*tensors):
    dtypes = {t._data.dtype for t in tensors if t is not None}
    return len(dtypes) == 1 and dtypes.pop().kind == "f"


# One node for x @ w.T + b, as PyTorch's addmm: the weight's gradient g.T @ x comes out C-contiguous (through a
# transpose node it would be the F-ordered transpose of x.T @ g, which makes every later update of the weight a
# strided pass), and the bias is added in place.
def _linear_forward(xp, x, w, b):
    out = xp.matmul(x, w.T)
    if b is not None:
        out += b
    return out


def _rows(t):
    """(..., features) as (rows, features); a 1-D vector is one row."""
    return t.reshape(-1, t.shape[-1])


LINEAR = defop("linear", _linear_forward,
               vjp={"x": lambda g, out, x, w, b: g @ w,  # operators: the same on Tensors and (raw) arrays
                    "w": lambda g, out, x, w, b: _rows(g).transpose(-1, -2) @ _rows(x),
                    "b": lambda g, out, x, w, b: g},
               jvp={"x": lambda t, out, x, w, b: matmul(t, w.t()),
                    "w": lambda t, out, x, w, b: matmul(x, t.t()),
                    "b": lambda t, out, x, w, b: t.expand(out.shape)},
               display="AddmmBackward0", torch=lambda torch, x, w, b: torch.nn.functional.linear(x, w, b), raw=True,
               samples=[S((4, 3), (2, 3), (2,)), S((3,), (2, 3), None), S((2, 3, 4), (5, 4), (5,)),
                        S((2, 3), (1, 3), (1,))])


def bilinear(input1, input2, weight, bias=None):
    """y[..., k] = sum_ij input1[..., i] weight[k, i, j] input2[..., j] + bias[k]."""
    if weight._data.ndim != 3 or input1.shape[-1:] != weight.shape[1:2] or input2.shape[-1:] != weight.shape[2:]:
        raise ShapeError(f"bilinear: weight must have shape (out_features, in1_features, in2_features) matching the "
                         f"inputs' last dims; got input1 {shape_str(input1.shape)}, input2 {shape_str(input2.shape)}, "
                         f"weight {shape_str(weight.shape)}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"bilinear: input1 {shape_str(input1.shape)} and input2 {shape_str(input2.shape)} must have "
                         "the same leading (batch) dims")
    out_f, in1, in2 = weight.shape
    flat = weight.permute(1, 0, 2).reshape(in1, out_f * in2)          # one GEMM for all output features
    mixed = matmul(input1, flat).reshape(*input1.shape[:-1], out_f, in2)
    out = (mixed * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


# ------------------------------------------------------------------------------------------ dropout
def dropout(input, p=0.5, training=True, inplace=False, *, train=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only). The mask comes
    from chainrule's generator (chainrule.manual_seed). torch.dropout(input, p, train) also works."""
    if train is not None:
        training = train
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input._data.size == 0:
        return input
    from .._factories import default_generator
    data = input._data
    if p == 1.0:
        scale = np.zeros(data.shape, dtype=data.dtype)
    else:
        keep = default_generator().random(data.shape) >= p
        scale = keep.astype(data.dtype) * np.asarray(1.0 / (1.0 - p), dtype=data.dtype)
    mask = make_tensor(scale)
    if inplace:
        return input.mul_(mask)
    return input * mask


# ------------------------------------------------------------------------------------ loss helpers
_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce, reduction, allowed=_REDUCTIONS):
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                      f"{'none' if reduce is False else 'mean' if size_average in (None, True) else 'sum'}' instead.",
                      UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction (choose from {', '.join(allowed)})")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair(op, input, target):
    """Pointwise losses broadcast target against input (PyTorch warns when the sizes differ)."""
    if not isinstance(target, Tensor):
        target = make_tensor(np.asarray(target, dtype=input._data.dtype))
    if input.shape != target.shape:
        broadcast_shapes(op, input.shape, target.shape)  # a clear error if they do not broadcast at all
        warnings.warn(f"{op}: Using a target size ({shape_str(target.shape)}) that is different to the input size "
                      f"({shape_str(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)
    return target


def _weighted(op, loss, weight, reduction, mean_by_weight):
    """PyTorch's weighted pointwise losses: weight has the input's shape; mse/l1 'mean' divides by the summed
    weights, huber 'mean' by the element count."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != loss.shape:
        raise ShapeError(f"{op}: Weights and input must have the same size (weight {shape_str(weight.shape)}, "
                         f"loss {shape_str(loss.shape)})")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _pair("mse_loss", input, target)
    diff = input - target
    return _weighted("mse_loss", diff * diff, weight, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _pair("l1_loss", input, target)
    return _weighted("l1_loss", _ew.abs(input - target), weight, reduction, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta (got {beta}).")
    target = _pair("smooth_l1_loss", input, target)
    diff = input - target
    size = _ew.abs(diff)
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size < beta, (0.5 / beta) * diff * diff, size - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (choose from {', '.join(_REDUCTIONS)})")
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta (got {delta}).")
    target = _pair("huber_loss", input, target)
    diff = input - target
    size = _ew.abs(diff)
    loss = where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _weighted("huber_loss", loss, weight, reduction, False)


# ------------------------------------------------------------------------------ nll / cross entropy
def _nll_layout(input_shape, target, weight, ignore_index, dtype):
    """The safe target (ignored entries set to class 0) as (N, 1, d...) indices, and each entry's weight
    (0 where ignored), in the (N, C, d...) layout (a 1-D input is a batch of one)."""
    t = target if len(input_shape) > 1 else target.reshape(1)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    w = valid.astype(dtype) if weight is None else np.where(valid, weight.astype(dtype)[safe], 0).astype(dtype)
    return np.expand_dims(safe, 1), w


def _nll_forward(xp, input, target, weight, *, reduction, ignore_index):
    x = input if input.ndim > 1 else input.reshape(1, -1)
    index, w = _nll_layout(input.shape, target, weight, ignore_index, input.dtype)
    losses = -(xp.take_along_axis(x, index, axis=1)[:, 0] * w) + 0.0  # + 0.0: ignored entries give 0, not -0
    if reduction == "none":
        return losses if input.ndim > 1 else losses.reshape(())
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore"):  # every entry ignored: nan (0/0), as in PyTorch
        return total / w.sum()


def _nll_coefficients(shape, dtype, target, weight, reduction, ignore_index):
    """d loss / d input per unit upstream gradient: -w/denominator at each target class, 0 elsewhere."""
    index, w = _nll_layout(shape, _array(target), _array(weight), ignore_index, dtype)
    if reduction == "mean":
        total = w.sum()
        w = w / total if total else w  # all ignored: the loss is nan (0/0) but the gradient 0, as in PyTorch
    coef = np.zeros((index.shape[0],) + tuple(shape[-1:] if len(shape) == 1 else shape[1:]), dtype=dtype)
    np.put_along_axis(coef, index, -np.expand_dims(w, 1), axis=1)
    return make_tensor(coef.reshape(shape))


def _nll_vjp(g, out, input, target, weight, *, reduction, ignore_index):
    coef = _nll_coefficients(input.shape, g._data.dtype, target, weight, reduction, ignore_index)
    if reduction == "none" and input.ndim > 1:
        g = g.unsqueeze(1)
    return g * coef


def _nll_jvp(t, out, input, target, weight, *, reduction, ignore_index):
    product = t * _nll_coefficients(input.shape, t._data.dtype, target, weight, reduction, ignore_index)
    return product.sum(1) if reduction == "none" and input.ndim > 1 else product.sum()


def _torch_nll(torch, input, target, weight, *, reduction, ignore_index):
    return torch.nn.functional.nll_loss(input, target, weight, ignore_index=ignore_index, reduction=reduction)


NLL_LOSS = defop("nll_loss", _nll_forward, vjp={"input": _nll_vjp}, jvp={"input": _nll_jvp},
                 display="NllLossBackward0", torch=_torch_nll, order=2,
                 samples=[S((4, 3), arg(value=[0, 2, 1, 2]), None, reduction="mean", ignore_index=-100),
                          S((4, 3), arg(value=[0, 2, -100, 1]), arg((3,), 0.5, 2.0), reduction="mean", ignore_index=-100),
                          S((4, 3), arg(value=[0, 1, 1, 2]), arg((3,), 0.5, 2.0), reduction="sum", ignore_index=1),
                          S((2, 3, 2, 2), arg(value=[[[0, 2], [1, 1]], [[2, 0], [0, 1]]]), None, reduction="none",
                            ignore_index=2),
                          S((3,), arg(value=1), None, reduction="none", ignore_index=-100)])


def _check_targets(op, input, target, weight, ignore_index):
    _floating(op, input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}(): argument 'target' must be a Tensor of class indices, not {type(target).__name__}")
    if target._data.dtype.kind not in "iu":
        raise DTypeError(f"{op}: expected target dtype to be Long (class indices), but got {target.dtype}; for class "
                         "probabilities use cross_entropy with a floating target of the input's shape")
    ndim = input._data.ndim
    if ndim == 0:
        raise ShapeError(f"{op}: input must have at least 1 dim (classes), got a 0-d tensor")
    expected = () if ndim == 1 else input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        if ndim >= 2 and target._data.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ShapeError(f"{op}: Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0]}).")
        raise ShapeError(f"{op}: expected target of shape {shape_str(expected)} for input of shape "
                         f"{shape_str(input.shape)} (N, C, d1, ...), got {shape_str(target.shape)}")
    classes = input.shape[0 if ndim == 1 else 1]
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.shape != (classes,):
            raise ShapeError(f"{op}: weight tensor should be defined either for all {classes} classes or no classes "
                             f"but got weight tensor of shape: {shape_str(getattr(weight, 'shape', ()))}")
        if weight._rg and grad_mode.state.enabled:
            raise RuntimeError(f"{op}: the function is not differentiable with respect to argument 'weight' (as in "
                               "PyTorch); pass weight.detach()")
    t = target._data
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"{op}: Target {int(t[bad].flat[0])} is out of bounds (the input has {classes} classes, "
                         f"indices 0 to {classes - 1}, or ignore_index={ignore_index}).")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of class indices: -input[n, target[n]] * weight[target[n]], entries equal to
    ignore_index skipped; 'mean' divides by the summed weights of the counted entries."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_targets("nll_loss", input, target, weight, ignore_index)
    return apply(NLL_LOSS, input, target, weight, reduction=reduction, ignore_index=ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax over the class dim (1, or 0 for a 1-D input) followed by nll_loss (class indices) or
    -sum(target * log_softmax) (class probabilities: a floating target of the input's shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _floating("cross_entropy", input)
    ndim = input._data.ndim
    if ndim == 0:
        raise ShapeError("cross_entropy: input must have at least 1 dim (classes), got a 0-d tensor")
    class_dim = 0 if ndim == 1 else 1
    classes = input.shape[class_dim]
    probabilities = isinstance(target, Tensor) and target._data.dtype.kind == "f"
    if not probabilities:
        _check_targets("cross_entropy", input, target, weight, ignore_index)
    elif weight is not None and weight.shape != (classes,):
        raise ShapeError(f"cross_entropy: weight tensor should be defined either for all {classes} classes or no "
                         f"classes but got weight tensor of shape: {shape_str(weight.shape)}")
    weight_view = None if weight is None else weight.reshape((classes,) + (1,) * (ndim - 2 if ndim > 1 else 0))
    if probabilities:
        return _cross_entropy_probabilities(input, target, weight_view, ignore_index, reduction, label_smoothing,
                                            class_dim, classes)
    logp = log_softmax(input, class_dim)
    nll = apply(NLL_LOSS, logp, target, weight, reduction=reduction, ignore_index=ignore_index)
    if label_smoothing == 0.0:
        return nll
    valid = target._data != ignore_index
    smooth = -(logp if weight is None else logp * weight_view).sum(class_dim)
    smooth = where(make_tensor(valid), smooth, 0.0)  # (where, not * 0: an all-ignored 'mean' keeps gradient 0)
    if reduction == "mean":
        count = int(valid.sum()) if weight is None else float(weight._data[target._data[valid]].sum())
        smooth = smooth.sum() * (1.0 / count if count else math.nan)  # nan when all are ignored, as PyTorch
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def _cross_entropy_probabilities(input, target, weight_view, ignore_index, reduction, label_smoothing, class_dim,
                                 classes):
    if target.shape != input.shape:
        raise ShapeError(f"cross_entropy: class-probability targets (a floating target) must have the input's shape "
                         f"{shape_str(input.shape)}, got {shape_str(target.shape)}; class-index targets must be int64 "
                         "tensors")
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index is not supported for floating point target "
                         f"(got ignore_index={ignore_index})")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = logp * target if weight_view is None else logp * target * weight_view
    if reduction == "none":
        return -terms.sum(class_dim)
    total = -terms.sum()
    if reduction == "sum":
        return total
    count = input._data.size // classes
    return total / count if count else total * float("nan")


# ------------------------------------------------------------------------- binary cross entropies
def _bce_forward(xp, input, target):
    with np.errstate(divide="ignore"):
        log_x = xp.maximum(xp.log(input), -100)
        log_1mx = xp.maximum(xp.log1p(-input), -100)
    return -(target * log_x + (1 - target) * log_1mx)


def _clamped_log(x):
    with np.errstate(divide="ignore"):
        return clamp(log(x), -100.0, None)


BCE = defop("binary_cross_entropy", _bce_forward,
            vjp={"input": lambda g, out, input, target: g * (input - target) / clamp((1 - input) * input, 1e-12, None),
                 "target": lambda g, out, input, target: g * (_clamped_log(1 - input) - _clamped_log(input))},
            jvp="elementwise", display="BinaryCrossEntropyBackward0",
            torch=lambda torch, input, target: torch.nn.functional.binary_cross_entropy(input, target, reduction="none"),
            samples=[S(arg((3, 4), 0.05, 0.95), arg((3, 4), 0.0, 1.0)), S(arg((), 0.1, 0.9), arg((), 0.0, 1.0)),
                     S(arg((5,), 0.05, 0.95), arg(value=[0.0, 1.0, 1.0, 0.0, 0.5]))])


def _softplus_neg_raw(xp, x):
    """log(1 + exp(-x)) for any x, on arrays."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)


def _bce_logits_forward(xp, input, target, pos_weight):
    softplus_neg = _softplus_neg_raw(xp, input)
    if pos_weight is None:
        return (1 - target) * input + softplus_neg
    return (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg


def _bce_logits_vjp_input(g, out, input, target, pos_weight):
    if pos_weight is None:
        return g * (sigmoid(input) - target)
    return g * ((1 - target) - (1 + (pos_weight - 1) * target) * sigmoid(-input))


def _bce_logits_vjp_target(g, out, input, target, pos_weight):
    if pos_weight is None:
        return -g * input
    return g * ((pos_weight - 1) * _softplus(-input) - input)


def _torch_bce_logits(torch, input, target, pos_weight):
    if pos_weight is None:
        return torch.nn.functional.binary_cross_entropy_with_logits(input, target, reduction="none")
    # PyTorch does not differentiate pos_weight; the same formula in torch ops does
    return (1 - target) * input + (1 + (pos_weight - 1) * target) * torch.nn.functional.softplus(-input)


BCE_WITH_LOGITS = defop(
    "binary_cross_entropy_with_logits", _bce_logits_forward,
    vjp={"input": _bce_logits_vjp_input, "target": _bce_logits_vjp_target,
         "pos_weight": lambda g, out, input, target, pos_weight: g * target * _softplus(-input)},
    jvp="elementwise", display="BinaryCrossEntropyWithLogitsBackward0", torch=_torch_bce_logits,
    samples=[S((3, 4), arg((3, 4), 0.0, 1.0), None), S(arg((3, 4), -30, 30), arg((3, 4), 0.0, 1.0), arg((4,), 0.5, 3.0)),
             S((), arg((), 0.0, 1.0), arg((), 0.5, 2.0))])


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(target * log(input) + (1 - target) * log(1 - input)), logs clamped at -100 as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _floating("binary_cross_entropy", input)
    if not isinstance(target, Tensor) or target.shape != input.shape:
        raise ShapeError(f"binary_cross_entropy: Using a target size ({shape_str(getattr(target, 'shape', ()))}) that "
                         f"is different to the input size ({shape_str(input.shape)}) is deprecated. Please ensure "
                         "they have the same size.")
    data = input._data
    if data.size and (np.min(data) < 0 or np.max(data) > 1 or np.isnan(data).any()):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply sigmoid "
                         "first, or use binary_cross_entropy_with_logits on the logits)")
    loss = apply(BCE, input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed from the logits without overflow; pos_weight
    weighs the positive term (broadcast along the last, class dim)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _floating("binary_cross_entropy_with_logits", input)
    if not isinstance(target, Tensor) or target.shape != input.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: Target size ({shape_str(getattr(target, 'shape', ()))}) "
                         f"must be the same as input size ({shape_str(input.shape)})")
    if pos_weight is not None:
        broadcast_shapes("binary_cross_entropy_with_logits (pos_weight)", pos_weight.shape, input.shape)
    loss = apply(BCE_WITH_LOGITS, input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise target * (log(target) - input) (input holds log-probabilities; with log_target the target
    does too). 'batchmean' divides the sum by the batch size: the true KL divergence."""
    reduction = _legacy_reduction(size_average, reduce, reduction, _REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    target = _pair("kl_div", input, target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = target > 0
        loss = where(positive, target * log(where(positive, target, 1.0)), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input._data.ndim else loss.sum()
    return _reduce(loss, reduction)


def _norm_along(x, dim):
    """The Euclidean norm along dim (keepdim), with gradient 0 (not nan) at the zero vector, as PyTorch."""
    square = (x * x).sum(dim, keepdim=True)
    nonzero = square > 0
    return where(nonzero, _ew.sqrt(where(nonzero, square, 1.0)), 0.0)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1/|x1| * x2/|x2|) along dim (inputs broadcast); norms below eps count as eps (PyTorch's clamp,
    which leaves the gradient of the norm unchanged)."""
    shape = broadcast_shapes("cosine_similarity", x1.shape, x2.shape)
    d = normalize_dim("cosine_similarity", dim, len(shape))
    if not shape:
        raise ShapeError("cosine_similarity: the inputs must have at least 1 dim")
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    n1, n2 = _norm_along(x1, d), _norm_along(x2, d)
    n1 = n1 + make_tensor(np.maximum(n1._data, eps) - n1._data)  # clamp_min(eps) outside autograd
    n2 = n2 + make_tensor(np.maximum(n2._data, eps) - n2._data)
    return ((x1 / n1) * (x2 / n2)).sum(d)


# ---------------------------------------------------------------------------------- normalisation
def _norm_forward(xp, input, weight, bias, *, dims, eps):
    mean = xp.mean(input, axis=dims, keepdims=True)
    centered = input - mean
    var = xp.mean(centered * centered, axis=dims, keepdims=True)
    out = centered * (1 / xp.sqrt(var + eps)).astype(input.dtype, copy=False)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _normalized(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over dims and 1/sqrt(var + eps), in Tensor ops (differentiable)."""
    centered = x - x.mean(dims, keepdim=True)
    rstd = ((centered * centered).mean(dims, keepdim=True) + eps) ** -0.5
    return centered * rstd, rstd


def _norm_vjp_input(g, out, input, weight, bias, *, dims, eps):
    xhat, rstd = _normalized(input, dims, eps)
    if weight is not None:
        g = g * weight
    return rstd * (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True))


def _norm_jvp_input(t, out, input, weight, bias, *, dims, eps):
    # The Jacobian of the normalisation is symmetric: the JVP is the VJP's formula, weight applied after.
    xhat, rstd = _normalized(input, dims, eps)
    change = rstd * (t - t.mean(dims, keepdim=True) - xhat * (t * xhat).mean(dims, keepdim=True))
    return change if weight is None else change * weight


NORM_RULES = dict(
    vjp={"input": _norm_vjp_input,
         "weight": lambda g, out, input, weight, bias, *, dims, eps: g * _normalized(input, dims, eps)[0],
         "bias": lambda g, out, input, weight, bias, *, dims, eps: g},
    jvp={"input": _norm_jvp_input,
         "weight": lambda t, out, input, weight, bias, *, dims, eps: t * _normalized(input, dims, eps)[0],
         "bias": lambda t, out, input, weight, bias, *, dims, eps: t.expand(out.shape)})


def _torch_norm(torch, input, weight, bias, *, dims, eps):
    var, mean = torch.var_mean(input, dim=dims, unbiased=False, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    out = out if weight is None else out * weight
    return out if bias is None else out + bias


# batch_norm (also group_norm and instance_norm, with other dims) takes the batch statistics as two more,
# non-differentiable inputs: batch_norm() computes them once for the running statistics and the normalisation
# (None: the forward computes them). Without a graph of the backward pass (no create_graph, no forward-mode
# tangents) the rules run fused on arrays, reusing the statistics; otherwise they are the differentiable
# composites of layer_norm above, so derivatives of any order still work.
def _over_channels(a, dims):
    """Whether ``dims`` are every dim but 1 of a contiguous float32/float64 (N, C, ...) array (batch_norm's case)."""
    ndim = a.ndim
    return ndim >= 3 and dims == (0,) + tuple(range(2, ndim)) and a.flags.c_contiguous and a.size > 0 \
        and a.dtype in (np.float32, np.float64)


def _channel_sums(a, dims):
    """Sums over ``dims`` (kept). Over every dim but 1 (_over_channels): one matrix-vector product with ones
    over the (N * C, positions) rows, then a sum over N (BLAS; numpy's sum over the non-adjacent dims 0, 2, 3
    is 3 to 5 times slower)."""
    if not _over_channels(a, dims):
        return a.sum(axis=dims, keepdims=True)
    N, C = a.shape[:2]
    positions = a.size // (N * C)
    rows = a.reshape(N * C, positions) @ np.ones(positions, dtype=a.dtype)
    return rows.reshape(N, C).sum(axis=0).reshape((1, C) + (1,) * (a.ndim - 2))


def _moments(xp, x, dims):
    """Mean and biased variance over ``dims`` (kept), in x's dtype: two passes, one temporary."""
    if not _over_channels(x, dims):
        mean = xp.mean(x, axis=dims, keepdims=True)
        centered = x - mean
        xp.multiply(centered, centered, out=centered)
        return mean, xp.mean(centered, axis=dims, keepdims=True)
    count = x.dtype.type(x.size // x.shape[1])
    mean = _channel_sums(x, dims) / count
    centered = x - mean
    xp.multiply(centered, centered, out=centered)
    return mean, _channel_sums(centered, dims) / count


def _rstd(var, eps):
    return (1 / np.sqrt(var + eps)).astype(var.dtype, copy=False)


def _bn_forward(xp, input, weight, bias, mean, rstd, *, dims, eps):
    if mean is None:
        mean, var = _moments(xp, input, dims)
        rstd = _rstd(var, eps)
    # (x - mean) * scale + bias as x * scale + shift (shift = bias - mean * scale, per channel): two passes
    # over the data instead of three, as PyTorch's kernel computes it
    scale = rstd if weight is None else rstd * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    out = input * scale
    if shift.dtype == out.dtype and np.broadcast_shapes(shift.shape, out.shape) == out.shape:
        out += shift
    else:
        out = out + shift
    return out


def _fused():
    """Whether the rules may run on arrays: no graph of the backward pass and no forward-mode tangents."""
    return not grad_mode.state.enabled and not forward_ad.state.active


def _bn_xhat(input, mean, rstd, dims, eps):
    x = input._data
    if mean is None:
        m, var = _moments(np, x, dims)
        r = _rstd(var, eps)
    else:
        m, r = mean._data, rstd._data
    xhat = x - m
    xhat *= r
    return xhat, r


class _ChannelSums:
    """The per-channel sums of g and g * xhat that the input rule of a batch_norm node computed, for the weight
    and bias rules of the same node, which the engine calls next with the same arrays. The key holds weak
    references to the arrays (nothing is kept alive) plus the node's statistics, dims and eps, so another
    node never matches."""
    key = None
    sums = None

    @staticmethod
    def _key(g, x, mean, dims, eps):
        return (weakref.ref(g), weakref.ref(x), None if mean is None else weakref.ref(mean._data), dims, eps)

    @classmethod
    def store(cls, g, x, mean, dims, eps, sums):
        cls.key, cls.sums = cls._key(g, x, mean, dims, eps), sums

    @classmethod
    def find(cls, g, x, mean, dims, eps):
        key = cls.key
        if key is None or key[0]() is not g or key[1]() is not x or key[3:] != (dims, eps):
            return None
        if (key[2] is None) != (mean is None) or (mean is not None and key[2]() is not mean._data):
            return None
        return cls.sums


def _per_channel(g, input, weight, dims):
    """Whether the fused input rule may take the weight out of the means: it is constant along ``dims`` (as
    in batch_norm and instance_norm; not group_norm), and shapes and dtypes agree."""
    x = input._data
    if g._data.shape != x.shape or g._data.dtype != x.dtype:
        return False
    if weight is None:
        return True
    shape = (1,) * (x.ndim - weight._data.ndim) + weight._data.shape
    return weight._data.dtype == x.dtype and all(shape[d] == 1 for d in dims)


def _bn_statistics(input, mean, rstd, dims, eps):
    if mean is None:
        m, var = _moments(np, input._data, dims)
        return m, _rstd(var, eps)
    return mean._data, rstd._data


def _bn_vjp_input(g, out, input, weight, bias, mean, rstd, *, dims, eps):
    if not _fused():
        return _norm_vjp_input(g, out, input, weight, bias, dims=dims, eps=eps)
    if not _per_channel(g, input, weight, dims):
        xhat, r = _bn_xhat(input, mean, rstd, dims, eps)
        gd = g._data if weight is None else g._data * weight._data
        mean_g = gd.mean(axis=dims, keepdims=True)
        mean_gx = (gd * xhat).mean(axis=dims, keepdims=True)
        xhat *= mean_gx
        dx = gd - mean_g
        dx -= xhat
        return make_tensor(dx * r)
    # dx = r w (g - mean(g) - xhat mean(g xhat)) = A g + B (x - mean) + C per channel: 8 passes over the data
    x, gd = input._data, g._data
    m, r = _bn_statistics(input, mean, rstd, dims, eps)
    count = x.size // m.size
    centered = x - m
    product = gd * centered
    sum_g = _channel_sums(gd, dims)
    sum_gxhat = _channel_sums(product, dims) * r
    _ChannelSums.store(gd, x, mean, dims, eps, (sum_g, sum_gxhat))
    a = r if weight is None else r * weight._data
    dx = np.multiply(gd, a, out=product)
    centered *= -a * r * sum_gxhat / count
    dx += centered
    dx -= a * sum_g / count
    return make_tensor(dx)


def _bn_vjp_weight(g, out, input, weight, bias, mean, rstd, *, dims, eps):
    if not _fused():
        return g * _normalized(input, dims, eps)[0]
    sums = _ChannelSums.find(g._data, input._data, mean, dims, eps)
    if sums is not None:
        return make_tensor(sums[1])  # sum of g * xhat over dims; the engine sums any other broadcast dims
    xhat, _ = _bn_xhat(input, mean, rstd, dims, eps)
    product = np.multiply(xhat, g._data, out=xhat) if g.shape == xhat.shape else xhat * g._data
    return make_tensor(product)  # the engine sums it to the weight's shape


def _bn_vjp_bias(g, out, input, weight, bias, mean, rstd, *, dims, eps):
    if _fused():
        sums = _ChannelSums.find(g._data, input._data, mean, dims, eps)
        if sums is not None:
            _ChannelSums.key = _ChannelSums.sums = None  # the last rule of the node: forget
            return make_tensor(sums[0])
    return g


def _torch_bn(torch, input, weight, bias, mean, rstd, *, dims, eps):
    return _torch_norm(torch, input, weight, bias, dims=dims, eps=eps)


BATCH_NORM = defop(
    "batch_norm", _bn_forward, display="NativeBatchNormBackward0", torch=_torch_bn,
    vjp={"input": _bn_vjp_input, "weight": _bn_vjp_weight,
         "bias": _bn_vjp_bias},
    jvp={"input": lambda t, out, input, weight, bias, mean, rstd, *, dims, eps:
         _norm_jvp_input(t, out, input, weight, bias, dims=dims, eps=eps),
         "weight": lambda t, out, input, weight, bias, mean, rstd, *, dims, eps: t * _normalized(input, dims, eps)[0],
         "bias": lambda t, out, input, weight, bias, mean, rstd, *, dims, eps: t.expand(out.shape)},
    samples=[S((4, 3), (3,), (3,), None, None, dims=(0,), eps=1e-5),
             S((3, 2, 4), arg((2, 1)), arg((2, 1)), None, None, dims=(0, 2), eps=1e-3),
             S((2, 3, 2, 2), None, None, None, None, dims=(0, 2, 3), eps=1e-5),
             S((2, 3, 4), arg((3, 1)), None, None, None, dims=(2,), eps=1e-5)])
LAYER_NORM = defop("layer_norm", _norm_forward, display="NativeLayerNormBackward0", torch=_torch_norm,
                   samples=[S((3, 4), (4,), (4,), dims=(1,), eps=1e-5),
                            S((2, 3, 4), (3, 4), None, dims=(1, 2), eps=1e-5),
                            S((2, 5), None, None, dims=(1,), eps=1e-2)], **NORM_RULES)


def _channel_view(op, tensor, channels, ndim, name):
    """A per-channel (C,) tensor reshaped to broadcast along dim 1 of an ndim-D input."""
    if tensor is None:
        return None
    if tensor.shape != (channels,):
        raise ShapeError(f"{op}: expected {name} of shape [{channels}] (one per channel), got {shape_str(tensor.shape)}")
    return tensor.reshape((channels,) + (1,) * (ndim - 2))


def _check_channels(op, input):
    _floating(op, input)
    if input._data.ndim < 2:
        raise ShapeError(f"{op}: expected an input of shape (N, C, ...) with at least 2 dims, got "
                         f"{shape_str(input.shape)}")
    return input.shape[1]


def _update_running(op, running, batch_value, momentum, channels):
    if running.shape != (channels,):
        raise ShapeError(f"{op}: expected running statistics of shape [{channels}], got {shape_str(running.shape)}")
    with grad_mode.no_grad():
        running.copy_(make_tensor(((1 - momentum) * running._data + momentum * batch_value).astype(running._data.dtype)))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims. Training uses the batch statistics and
    updates running_mean/running_var in place (momentum; the variance unbiased); eval uses the running ones."""
    channels = _check_channels("batch_norm", input)
    ndim = input._data.ndim
    dims = (0,) + tuple(range(2, ndim))
    w = _channel_view("batch_norm", weight, channels, ndim, "weight")
    b = _channel_view("batch_norm", bias, channels, ndim, "bias")
    if not isinstance(momentum, (int, float)):
        raise TypeError(f"batch_norm(): argument 'momentum' must be float, not {type(momentum).__name__} (a module "
                        "with momentum=None computes the cumulative average factor itself and passes it here)")
    if training:
        count = input._data.size // channels if channels else 0
        if count <= 1:
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, got input size "
                             f"{shape_str(input.shape)}")
        mean, var = _moments(np, input._data, dims)
        if running_mean is not None:
            _update_running("batch_norm", running_mean, mean.reshape(-1), momentum, channels)
        if running_var is not None:
            _update_running("batch_norm", running_var, var.reshape(-1) * (count / (count - 1)), momentum, channels)
        return apply(BATCH_NORM, input, w, b, make_tensor(mean), make_tensor(_rstd(var, eps)), dims=dims, eps=eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var must be defined in evaluation mode "
                         "(training=False); pass them or use training=True")
    mean = _channel_view("batch_norm", running_mean.detach(), channels, ndim, "running_mean")
    var = _channel_view("batch_norm", running_var.detach(), channels, ndim, "running_var")
    out = (input - mean) * ((var + eps) ** -0.5)
    if w is not None:
        out = out * w
    return out if b is None else out + b


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims, then scale by weight and shift by bias (both of
    shape normalized_shape)."""
    _floating("layer_norm", input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.shape[input._data.ndim - k:] != shape or input._data.ndim < k:
        raise ShapeError(f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size {shape_str(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ShapeError(f"layer_norm: expected {name} of shape {shape_str(shape)} (normalized_shape), got "
                             f"{shape_str(t.shape)}")
    dims = tuple(range(input._data.ndim - k, input._data.ndim))
    return apply(LAYER_NORM, input, weight, bias, dims=dims, eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels into num_groups groups and normalise each group of each sample; weight and bias
    are per channel."""
    channels = _check_channels("group_norm", input)
    if num_groups <= 0 or channels % num_groups:
        raise ShapeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but got "
                         f"input of shape {shape_str(input.shape)} and num_groups={num_groups}")
    ndim = input._data.ndim
    n, spatial = input.shape[0], input.shape[2:]
    grouped = input.reshape(n, num_groups, channels // num_groups, *spatial)
    per_group = (num_groups, channels // num_groups) + (1,) * len(spatial)
    w = None if weight is None else _channel_view("group_norm", weight, channels, ndim, "weight").reshape(per_group)
    b = None if bias is None else _channel_view("group_norm", bias, channels, ndim, "bias").reshape(per_group)
    out = apply(BATCH_NORM, grouped, w, b, None, None, dims=tuple(range(2, ndim + 1)), eps=eps)
    return out.reshape(input.shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims. With running statistics and
    use_input_stats they are updated (averaged over the batch); use_input_stats=False uses them instead."""
    channels = _check_channels("instance_norm", input)
    ndim = input._data.ndim
    dims = tuple(range(2, ndim))
    w = _channel_view("instance_norm", weight, channels, ndim, "weight")
    b = _channel_view("instance_norm", bias, channels, ndim, "bias")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: Expected running_mean and running_var to be defined when "
                             "use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    count = int(np.prod(input.shape[2:]))
    if count <= 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training, got input size "
                         f"{shape_str(input.shape)}")
    data = input._data
    if running_mean is not None:
        _update_running("instance_norm", running_mean, data.mean(axis=dims).mean(0), momentum, channels)
    if running_var is not None:
        var = data.var(axis=dims) * (count / (count - 1))
        _update_running("instance_norm", running_var, var.mean(0), momentum, channels)
    return apply(BATCH_NORM, input, w, b, None, None, dims=dims, eps=eps)


# ---------------------------------------------------------------------------------------- embedding
def _embedding_backward_forward(xp, g, input, *, num_weights, padding_idx):
    """Sum the rows of g that share an index (sort + reduceat: no np.add.at); the padding row stays 0."""
    rows = g.reshape(-1, g.shape[-1])
    flat = input.reshape(-1)
    out = xp.zeros((num_weights, rows.shape[-1]), dtype=g.dtype)
    if flat.size:
        order = xp.argsort(flat, kind="stable")
        ordered = flat[order]
        starts = xp.flatnonzero(xp.concatenate(([True], ordered[1:] != ordered[:-1])))
        out[ordered[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


def _masked_lookup(g, input, padding_idx):
    rows = apply(EMBEDDING, input, g, padding_idx=padding_idx)
    if padding_idx is None:
        return rows
    keep = (input._data != padding_idx).astype(g._data.dtype)
    return rows * make_tensor(keep[..., None])


EMBEDDING = defop("embedding", lambda xp, input, weight, *, padding_idx: xp.take(weight, input, axis=0),
                  vjp={"weight": lambda g, out, input, weight, *, padding_idx:
                       apply(EMBEDDING_BACKWARD, g, input, num_weights=weight.shape[0], padding_idx=padding_idx)},
                  jvp="linear", display="EmbeddingBackward0",
                  torch=lambda torch, input, weight, *, padding_idx:
                  torch.nn.functional.embedding(input, weight, padding_idx=padding_idx),
                  samples=[S(arg(value=[[0, 2, 2], [3, 1, 0]]), (4, 3), padding_idx=None),
                           # (a padding row that is looked up gets no gradient by design, which finite
                           # differences cannot confirm: the vs-torch tests check that case)
                           S(arg(value=[1, 0, 1, 3]), (5, 2), padding_idx=2),
                           S(arg(value=2), (3, 4), padding_idx=None)])
EMBEDDING_BACKWARD = defop(
    "embedding_dense_backward", _embedding_backward_forward,
    vjp={"g": lambda gg, out, g, input, *, num_weights, padding_idx: _masked_lookup(gg, input, padding_idx)},
    jvp="linear", display="EmbeddingDenseBackwardBackward0",
    torch=lambda torch, g, input, *, num_weights, padding_idx: torch.ops.aten.embedding_dense_backward(
        g, input, num_weights, -1 if padding_idx is None else padding_idx, False),
    samples=[S((2, 3, 4), arg(value=[[0, 2, 2], [4, 1, 0]]), num_weights=5, padding_idx=None),
             S((4, 2), arg(value=[1, 0, 1, 3]), num_weights=4, padding_idx=1)])


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """weight[input]: rows of a (num_embeddings, embedding_dim) table. The padding_idx row gets no gradient."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm (renormalising rows in place) is not supported; renormalise "
                                  "the weight yourself under chainrule.no_grad()")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        raise DTypeError(f"embedding: Expected tensor for argument #1 'indices' to have an integer dtype (Long or "
                         f"Int), got {getattr(input, 'dtype', type(input).__name__)}")
    if weight._data.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {shape_str(weight.shape)}")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: Padding_idx must be within num_embeddings ({num}), got {padding_idx}")
        padding_idx %= num
    data = input._data
    if data.size and (data.min() < 0 or data.max() >= num):
        bad = data[(data < 0) | (data >= num)].flat[0]
        raise IndexError(f"embedding: index {int(bad)} is out of range for a table of {num} rows (indices must be in "
                         f"[0, {num - 1}])")
    return apply(EMBEDDING, input, weight, padding_idx=padding_idx)
