"""Reductions: sum, mean, prod, var/std, norms, logsumexp, amax/amin, max/min (whole tensor and along a
dim), cumulative sums and products, all/any, and sum_to, which the engine uses to undo broadcasting.

The gradients of prod and cumprod never divide by the input (they stay right with zeros): the product
of the other elements is an exclusive cumulative product from the left times one from the right, and
cumprod's VJP is a first-order linear recurrence ``y[i] = b[i] + c[i+1] * y[i+1]``, the primitive
``linear_scan`` (whose own VJP is the same recurrence run the other way)."""
import builtins
import collections
import math
import warnings

import numpy as np

from .._errors import DTypeError, ShapeError, shape_str
from .._tensor import Tensor, make_tensor
from ._registry import defop, apply, S, arg
from ._shape_utils import normalize_dim, reduced_count
from . import elementwise as _ew, shape as _shape

__all__ = ["sum", "mean", "max", "min", "prod", "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "amax",
           "amin", "cumsum", "cumprod", "all", "any"]
TENSOR_METHODS = ["sum", "mean", "max", "min", "prod", "var", "std", "norm", "logsumexp", "amax", "amin", "cumsum",
                  "cumprod", "all", "any"]
# chainrule.linalg.<name>; a module attribute ``linalg_<name>`` is taken before ``<name>`` (torch.norm and
# torch.linalg.norm differ), see chainrule/linalg.py.
LINALG = ["norm", "vector_norm", "matrix_norm"]

REDUCE_SAMPLES = [S((3, 4), dim=None, keepdim=False), S((3, 4), dim=(1,), keepdim=False),
                  S((3, 4), dim=(0,), keepdim=True), S((2, 3, 4), dim=(0, 2), keepdim=False), S((), dim=None, keepdim=True)]
DIM_SAMPLES = [S(arg((3, 4), distinct=True), dim=1, keepdim=False), S(arg((3, 4), distinct=True), dim=0, keepdim=True),
               S(arg((2, 3, 4), distinct=True), dim=2, keepdim=False)]


def expand_reduced(g, shape, dim, keepdim):
    """Broadcast the gradient of a reduction back over the reduced dims (the VJP of every reduction)."""
    if dim is not None and not keepdim:
        for d in sorted(dim):
            g = g.unsqueeze(d)
    return g.expand(shape)


def _sum_forward(xp, x, *, dim, keepdim):
    return xp.sum(x, axis=dim, keepdims=keepdim)


def _mean_forward(xp, x, *, dim, keepdim):
    return xp.mean(x, axis=dim, keepdims=keepdim)


def _sum_vjp(g, out, x, *, dim, keepdim):
    return expand_reduced(g, x.shape, dim, keepdim)


def _mean_vjp(g, out, x, *, dim, keepdim):
    return expand_reduced(g, x.shape, dim, keepdim) / reduced_count(x.shape, dim)


# PyTorch names the whole-tensor and the along-dims forms differently (SumBackward0 / SumBackward1).
def _torch_reduction(name):
    def reduce(torch, x, *, dim, keepdim):
        fn = getattr(torch, name)
        if dim is None:
            return fn(x, dim=tuple(range(x.ndim)), keepdim=True) if keepdim and x.ndim else fn(x)
        return fn(x, dim=dim, keepdim=keepdim)

    return reduce


SUM, SUM_DIM = (defop(name, _sum_forward, vjp={"x": _sum_vjp}, jvp="linear", display=display, samples=REDUCE_SAMPLES,
                      torch=_torch_reduction("sum"))
                for name, display in (("sum", "SumBackward0"), ("sum_dim", "SumBackward1")))
MEAN, MEAN_DIM = (defop(name, _mean_forward, vjp={"x": _mean_vjp}, jvp="linear", display=display,
                        samples=REDUCE_SAMPLES, torch=_torch_reduction("mean"))
                  for name, display in (("mean", "MeanBackward0"), ("mean_dim", "MeanBackward1")))


def _extreme_all_vjp(g, out, x):
    # Ties share the gradient evenly, as PyTorch's max()/min() without dim do.
    hits = (x == out)
    return g * hits / hits.sum()


def _extreme_dim_vjp(g, out, x, *, dim, keepdim, pick):
    return expand_reduced(g, x.shape, (dim,), keepdim) * _first_hit(x, dim, pick)


def _first_hit(x, dim, pick):
    """A 0/1 mask with a single 1 along ``dim``: where argmax/argmin points (ties go to the first)."""
    data = x._data
    index = (np.argmax if pick == "max" else np.argmin)(data, axis=dim)
    mask = np.zeros(data.shape, dtype=bool)
    np.put_along_axis(mask, np.expand_dims(index, dim), True, axis=dim)
    return make_tensor(mask)


def _extreme_all_jvp(t, out, x):
    hits = (x == out)
    return (t * hits).sum() / hits.sum()


def _extreme_dim_jvp(t, out, x, *, dim, keepdim, pick):
    return (t * _first_hit(x, dim, pick)).sum(dim, keepdim)


MAX_ALL = defop("max", lambda xp, x: xp.max(x), vjp={"x": _extreme_all_vjp}, jvp={"x": _extreme_all_jvp},
                display="MaxBackward1", torch=lambda torch, x: torch.max(x), raw=True,
                samples=[S(arg((3, 4), distinct=True)), S(arg(value=[1.0, 3.0, 3.0, 2.0])).first_order_only()])
MIN_ALL = defop("min", lambda xp, x: xp.min(x), vjp={"x": _extreme_all_vjp}, jvp={"x": _extreme_all_jvp},
                display="MinBackward1", torch=lambda torch, x: torch.min(x), raw=True,
                samples=[S(arg((3, 4), distinct=True)), S(arg(value=[1.0, 0.5, 0.5])).first_order_only()])
MAX_DIM = defop("max_dim", lambda xp, x, *, dim, keepdim, pick: xp.max(x, axis=dim, keepdims=keepdim),
                vjp={"x": _extreme_dim_vjp}, jvp={"x": _extreme_dim_jvp}, display="MaxBackward0", torch=lambda torch, x, *, dim, keepdim, pick: torch.max(x, dim=dim, keepdim=keepdim).values,
                samples=[S(*s.inputs, **s.params, pick="max") for s in DIM_SAMPLES])
MIN_DIM = defop("min_dim", lambda xp, x, *, dim, keepdim, pick: xp.min(x, axis=dim, keepdims=keepdim),
                vjp={"x": _extreme_dim_vjp}, jvp={"x": _extreme_dim_jvp}, display="MinBackward0", torch=lambda torch, x, *, dim, keepdim, pick: torch.min(x, dim=dim, keepdim=keepdim).values,
                samples=[S(*s.inputs, **s.params, pick="min") for s in DIM_SAMPLES])


def _sum_to_forward(xp, x, *, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    return xp.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


SUM_TO = defop("sum_to", _sum_to_forward, vjp={"x": lambda g, out, x, *, shape: g.expand(x.shape)},
               jvp="linear", display="SumToBackward0", torch=lambda torch, x, *, shape: x.sum_to_size(shape),
               samples=[S((2, 3, 4), shape=(3, 1)), S((3, 4), shape=(4,)), S((3, 4), shape=(3, 4)), S((5,), shape=())])


# ------------------------------------------------------------------------- helpers shared by the rules
def _ones_like(t):
    return make_tensor(np.ones(t.shape, dtype=t._data.dtype))


def _reduction_jvp(vjp):
    """Forward mode of a reduction whose every output depends only on its own slice: the tangent times
    the gradient of the output (the VJP rule with g = 1), summed over the reduced dims."""
    def jvp(t, out, x, *, dim, keepdim, **params):
        direction = vjp(_ones_like(out), out, x, dim=dim, keepdim=keepdim, **params)
        return (t * direction).sum(dim, keepdim)

    return jvp


def _constant(shape, fill, dtype):
    return make_tensor(np.full(shape, fill, dtype=dtype))


def _shift(x, dim, fill, right=True):
    """``x`` moved one place along ``dim`` (right: y[i] = x[i-1]; left: y[i] = x[i+1]), ``fill`` coming in."""
    d = dim % x.ndim
    n = x.shape[d]
    edge = _constant(x.shape[:d] + (1,) + x.shape[d + 1:], fill, x._data.dtype)
    if n == 1:
        return edge
    kept = x[(slice(None),) * d + ((slice(0, n - 1),) if right else (slice(1, n),))]
    return _shape.cat([edge, kept] if right else [kept, edge], d)


# ------------------------------------------------------------------- linear_scan, the recurrence primitive
def _scan_forward(xp, b, c, *, dim, reverse):
    """y[i] = b[i] + c[i] * y[i-1] (forward), or y[i] = b[i] + c[i+1] * y[i+1] (reverse), along ``dim``:
    c[i] always couples positions i-1 and i (c[0] is not used). A Hillis-Steele scan: log2(n) vectorised
    steps that compose the affine maps pairwise."""
    b, c = xp.broadcast_arrays(b, c)
    dtype = xp.result_type(b, c)
    total = xp.moveaxis(b, dim, -1).astype(dtype)  # copies: updated in place below
    coef = xp.moveaxis(c, dim, -1).astype(dtype)
    if reverse:  # run forward on the reversed sequence: c[i+1] couples i and i+1
        total = total[..., ::-1]
        coef = xp.roll(coef[..., ::-1], 1, axis=-1)
    n = total.shape[-1]
    coef[..., :1] = 0
    step = 1
    while step < n:  # invariant: y[i] = total[i] + coef[i] * y[i - step], where y[j < 0] = 0 and coef[i < step] = 0
        total[..., step:] += coef[..., step:] * total[..., :-step]  # NumPy buffers the overlapping read
        if 2 * step < n:
            coef[..., step:] *= coef[..., :-step]
        step *= 2
    if reverse:
        total = total[..., ::-1]
    return xp.ascontiguousarray(xp.moveaxis(total, -1, dim))


def linear_scan(b, c, dim, reverse=False):
    """The recurrence of ``_scan_forward`` on tensors (differentiable in ``b`` and ``c``)."""
    return apply(LINEAR_SCAN, b, c, dim=dim, reverse=reverse)


def _scan_vjp_b(g, out, b, c, *, dim, reverse):
    return linear_scan(g, c, dim, not reverse)  # the transposed recurrence runs the other way


def _scan_vjp_c(g, out, b, c, *, dim, reverse):
    if reverse:  # dy[i-1]/dc[i] = y[i]
        return _shift(linear_scan(g, c, dim, False), dim, 0) * out
    return linear_scan(g, c, dim, True) * _shift(out, dim, 0)  # dy[i]/dc[i] = y[i-1]


def _scan_jvp_c(t, out, b, c, *, dim, reverse):
    if reverse:
        return linear_scan(_shift(t * out, dim, 0, right=False), c, dim, True)
    return linear_scan(t * _shift(out, dim, 0), c, dim, False)


LINEAR_SCAN = defop("linear_scan", _scan_forward, vjp={"b": _scan_vjp_b, "c": _scan_vjp_c},
                    jvp={"b": lambda t, out, b, c, *, dim, reverse: linear_scan(t, c, dim, reverse), "c": _scan_jvp_c},
                    display="LinearScanBackward0",
                    no_torch="chainrule's helper behind the gradients of prod and cumprod "
                             "(y[i] = b[i] + c[i] * y[i-1]); PyTorch has no public equivalent",
                    samples=[S((3, 4), (3, 4), dim=1, reverse=False), S((3, 4), (3, 4), dim=0, reverse=True),
                             S((2, 3, 5), (2, 3, 5), dim=2, reverse=True), S((1, 5), (3, 5), dim=1, reverse=False),
                             S((6,), (6,), dim=-1, reverse=False)])


def _exclusive_products(x, dim):
    """prod of x[j] over j != i along ``dim``, for every i, without dividing (exact with zeros)."""
    left = _shift(cumprod_op(x, dim), dim, 1)                          # prod of x[j], j < i
    right = _shift(cumprod_op(x, dim, reverse=True), dim, 1, right=False)  # prod of x[j], j > i
    return left * right


# ------------------------------------------------------------------------------------- prod and cumprod
def _prod_all_vjp(g, out, x):
    if x.ndim == 0:
        return g * _ones_like(x)
    return g * _exclusive_products(x.reshape(-1), 0).reshape(x.shape)


def _prod_dim_vjp(g, out, x, *, dim, keepdim):
    return expand_reduced(g, x.shape, (dim,), keepdim) * _exclusive_products(x, dim)


PROD = defop("prod", lambda xp, x: xp.prod(x), vjp={"x": _prod_all_vjp},
             jvp={"x": lambda t, out, x: (t * _prod_all_vjp(_ones_like(out), out, x)).sum()},
             display="ProdBackward0", torch=lambda torch, x: torch.prod(x),
             samples=[S((3, 4)), S(()), S(arg(value=[[1.5, 0.0, -2.0], [0.5, 3.0, 1.2]])),
                      S(arg(value=[0.0, 1.5, 0.0, -2.0]))])
PROD_DIM = defop("prod_dim", lambda xp, x, *, dim, keepdim: xp.prod(x, axis=dim, keepdims=keepdim),
                 vjp={"x": _prod_dim_vjp},
                 jvp={"x": lambda t, out, x, *, dim, keepdim:
                      (t * _prod_dim_vjp(_ones_like(out), out, x, dim=dim, keepdim=keepdim)).sum(dim, keepdim)},
                 display="ProdBackward1", torch=lambda torch, x, *, dim, keepdim: torch.prod(x, dim, keepdim),
                 samples=[S((3, 4), dim=1, keepdim=False), S((2, 3, 4), dim=0, keepdim=True),
                          S(arg(value=[[1.5, 0.0, -2.0, 0.7], [0.0, 3.0, 0.0, 1.2], [0.5, 0.6, -1.1, 2.0]]), dim=1,
                            keepdim=False),
                          S(arg(value=[[0.0, 0.0], [1.5, 0.0], [2.0, -1.0]]), dim=0, keepdim=True)])


def _scan(accumulate, x, dim, reverse):
    """cumsum/cumprod along ``dim``, from the right if ``reverse`` (their gradients need both)."""
    if x.ndim == 0:
        return x.copy()
    if reverse:
        return np.flip(accumulate(np.flip(x, dim), axis=dim), dim)
    return accumulate(x, axis=dim)


def _cumsum_forward(xp, x, *, dim, reverse):
    return _scan(xp.cumsum, x, dim, reverse)


def cumsum_op(x, dim, reverse=False):
    return apply(CUMSUM, x, dim=dim, reverse=reverse)


def _torch_cumsum(torch, x, *, dim, reverse):
    return torch.cumsum(x.flip(dim), dim).flip(dim) if reverse else torch.cumsum(x, dim)


CUMSUM = defop("cumsum", _cumsum_forward,
               vjp={"x": lambda g, out, x, *, dim, reverse: cumsum_op(g, dim, not reverse)},
               jvp="linear", display="CumsumBackward0", torch=_torch_cumsum,
               samples=[S((3, 4), dim=1, reverse=False), S((2, 3, 4), dim=0, reverse=False),
                        S((3, 4), dim=-1, reverse=True), S((), dim=0, reverse=False)])


def _cumprod_forward(xp, x, *, dim, reverse):
    return _scan(xp.cumprod, x, dim, reverse)


def cumprod_op(x, dim, reverse=False):
    return apply(CUMPROD, x, dim=dim, reverse=reverse)


def _cumprod_vjp(g, out, x, *, dim, reverse):
    # d out[k] / d x[i] = prod of x[j] over j <= k, j != i: the products before i (out[i-1]) times
    # sum over k >= i of g[k] * prod of x[i+1..k], a reverse linear recurrence; no division by x.
    # (reverse=True, products from the right: the mirror image, the recurrence's coupling moved by one.)
    if x.ndim == 0:
        return g
    if reverse:
        return _shift(out, dim, 1, right=False) * linear_scan(g, _shift(x, dim, 0), dim, reverse=False)
    return _shift(out, dim, 1) * linear_scan(g, x, dim, reverse=True)


def _cumprod_jvp(t, out, x, *, dim, reverse):
    if x.ndim == 0:
        return t
    if reverse:
        return linear_scan(t * _shift(out, dim, 1, right=False), _shift(x, dim, 0), dim, reverse=True)
    return linear_scan(t * _shift(out, dim, 1), x, dim, reverse=False)


def _torch_cumprod(torch, x, *, dim, reverse):
    return torch.cumprod(x.flip(dim), dim).flip(dim) if reverse else torch.cumprod(x, dim)


CUMPROD = defop("cumprod", _cumprod_forward, vjp={"x": _cumprod_vjp}, jvp={"x": _cumprod_jvp},
                display="CumprodBackward0", torch=_torch_cumprod,
                samples=[S((3, 4), dim=1, reverse=False), S((2, 3, 4), dim=0, reverse=False),
                         S((), dim=0, reverse=False),
                         S(arg(value=[[1.5, 0.0, -2.0, 0.7], [0.0, 3.0, 0.0, 1.2]]), dim=1, reverse=False),
                         S(arg(value=[[0.5, 0.0], [0.0, 2.0], [1.5, -1.0]]), dim=-2, reverse=False),
                         S(arg(value=[[1.5, 0.0, -2.0, 0.7], [0.0, 3.0, 0.0, 1.2]]), dim=1, reverse=True),
                         S((2, 3, 4), dim=-1, reverse=True)])


# ------------------------------------------------------------------------------------------ var and std
def _dof(shape, dim, correction):
    return builtins.max(0.0, reduced_count(shape, dim) - correction)


def _var_forward(xp, x, *, dim, correction, keepdim):
    centered = x - xp.mean(x, axis=dim, keepdims=True)
    total = xp.sum(centered * centered, axis=dim, keepdims=keepdim)
    dof = x.dtype.type(_dof(x.shape, dim, correction))
    if dof == 0:  # PyTorch gives inf/nan (and a warning, see _spread)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / dof
    return total / dof


def _var_vjp(g, out, x, *, dim, correction, keepdim):
    dof = _dof(x.shape, dim, correction)
    centered = x - x.mean(dim, True)
    return expand_reduced(g, x.shape, dim, keepdim) * centered * (2.0 / dof if dof else math.inf)


def _std_vjp(g, out, x, *, dim, correction, keepdim):
    # As PyTorch: where the deviation is 0 (all elements equal) the gradient is 0, not NaN.
    dof = _dof(x.shape, dim, correction)
    out = expand_reduced(out, x.shape, dim, keepdim)
    safe = _ew.where(out == 0, 1.0, out)
    scale = _ew.where(out == 0, 0.0, expand_reduced(g, x.shape, dim, keepdim) / (safe * (dof if dof else math.nan)))
    return scale * (x - x.mean(dim, True))


def _std_forward(xp, x, *, dim, correction, keepdim):
    return xp.sqrt(_var_forward(xp, x, dim=dim, correction=correction, keepdim=keepdim))


def _torch_var(name):
    def reduce(torch, x, *, dim, correction, keepdim):
        return getattr(torch, name)(x, dim=dim, correction=correction, keepdim=keepdim)

    return reduce


VAR_SAMPLES = [S((3, 4), dim=None, correction=1, keepdim=False), S((3, 4), dim=(1,), correction=1, keepdim=True),
               S((2, 3, 4), dim=(0, 2), correction=0, keepdim=False), S((5,), dim=(0,), correction=2, keepdim=False)]
VAR = defop("var", _var_forward, vjp={"x": _var_vjp}, jvp={"x": _reduction_jvp(_var_vjp)}, display="VarBackward0",
            torch=_torch_var("var"), samples=VAR_SAMPLES)
STD = defop("std", _std_forward, vjp={"x": _std_vjp}, jvp={"x": _reduction_jvp(_std_vjp)}, display="StdBackward0",
            torch=_torch_var("std"),
            samples=VAR_SAMPLES + [S(arg(value=[[1.0, 1.0, 1.0], [0.5, 2.0, -1.0]]), dim=(1,), correction=1,
                                     keepdim=False).first_order_only()])


# ---------------------------------------------------------------------------------------- logsumexp
def _logsumexp_forward(xp, x, *, dim, keepdim):
    peak = xp.amax(x, axis=dim, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, 0)  # all -inf (or an inf): shift by nothing
    with np.errstate(divide="ignore"):
        out = xp.log(xp.sum(xp.exp(x - peak), axis=dim, keepdims=True)) + peak
    if not keepdim:
        out = out.reshape(()) if dim is None else xp.squeeze(out, axis=dim)
    return out


def _logsumexp_vjp(g, out, x, *, dim, keepdim):
    return expand_reduced(g, x.shape, dim, keepdim) * _ew.exp(x - expand_reduced(out, x.shape, dim, keepdim))


def _torch_logsumexp(torch, x, *, dim, keepdim):
    return torch.logsumexp(x, tuple(range(x.ndim)) if dim is None else dim, keepdim)


LOGSUMEXP = defop("logsumexp", _logsumexp_forward, vjp={"x": _logsumexp_vjp},
                  jvp={"x": _reduction_jvp(_logsumexp_vjp)}, display="LogsumexpBackward0", torch=_torch_logsumexp,
                  samples=[S((3, 4), dim=(1,), keepdim=False), S((2, 3, 4), dim=(0, 2), keepdim=True),
                           S((3, 4), dim=None, keepdim=False),
                           S(arg(value=[[800.0, 799.0, -5.0], [-800.0, -801.0, 0.0]]), dim=(1,), keepdim=False)])


# --------------------------------------------------------------------------------------- amax and amin
def _amax_vjp(g, out, x, *, dim, keepdim):
    # Ties share the gradient evenly, as PyTorch's amax/amin.
    hits = x == expand_reduced(out, x.shape, dim, keepdim)
    return expand_reduced(g, x.shape, dim, keepdim) * hits / hits.sum(dim, True)


def _torch_amax(name):
    def reduce(torch, x, *, dim, keepdim):
        return getattr(torch, name)(x, () if dim is None else dim, keepdim)

    return reduce


def _amax_forward(xp, x, *, dim, keepdim):
    return xp.amax(x, axis=dim, keepdims=keepdim)


def _amin_forward(xp, x, *, dim, keepdim):
    return xp.amin(x, axis=dim, keepdims=keepdim)


AMAX, AMIN = (defop(name, forward,
                    vjp={"x": _amax_vjp}, jvp={"x": _reduction_jvp(_amax_vjp)}, display=display,
                    torch=_torch_amax(name),
                    samples=[S(arg((3, 4), distinct=True), dim=(1,), keepdim=False),
                             S(arg((2, 3, 4), distinct=True), dim=(0, 2), keepdim=True),
                             S(arg((3, 4), distinct=True), dim=None, keepdim=False),
                             S(arg(value=[[1.0, 3.0, 3.0], [-2.0, -5.0, -5.0]]), dim=(1,),
                               keepdim=False).first_order_only()])  # a tie of two: the even split is the slope
              for name, forward, display in (("amax", _amax_forward, "AmaxBackward0"),
                                             ("amin", _amin_forward, "AminBackward0")))


# ------------------------------------------------------------------------------------------ vector norm
def _vector_norm_forward(xp, x, *, ord, dim, keepdim):
    if ord == 2:
        return xp.sqrt(xp.sum(x * x, axis=dim, keepdims=keepdim))
    a = xp.abs(x)
    if ord == 1:
        return xp.sum(a, axis=dim, keepdims=keepdim)
    if ord == math.inf:
        return xp.amax(a, axis=dim, keepdims=keepdim)
    if ord == -math.inf:
        return xp.amin(a, axis=dim, keepdims=keepdim)
    if ord == 0:
        return xp.sum(x != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    with np.errstate(divide="ignore", over="ignore"):
        return xp.sum(a ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)


def _vector_norm_vjp(g, out, x, *, ord, dim, keepdim):
    g = expand_reduced(g, x.shape, dim, keepdim)
    if ord == 0:
        return g * 0
    if ord == 1:
        return g * _ew.sign(x)
    out = expand_reduced(out, x.shape, dim, keepdim)
    if ord in (math.inf, -math.inf):
        hits = _ew.abs(x) == out  # ties share the gradient evenly, as PyTorch
        return g * _ew.sign(x) * hits / hits.sum(dim, True)
    zero_norm = out == 0
    if ord == 2:  # the gradient at 0 is 0, as PyTorch (not 0/0)
        return x * _ew.where(zero_norm, 0.0, g / _ew.where(zero_norm, 1.0, out))
    if ord < 1:  # |x|^(p-1) is infinite at x = 0, where PyTorch's gradient is 0
        zero = x == 0
        scaled = _ew.where(zero, 0.0, _ew.sign(x) * _ew.abs(_ew.where(zero, 1.0, x)) ** (ord - 1))
        return scaled * g * out ** (1 - ord)
    scale = _ew.where(zero_norm, 0.0, g / _ew.where(zero_norm, 1.0, out) ** (ord - 1))
    return _ew.sign(x) * _ew.abs(x) ** (ord - 1) * scale


VECTOR_NORM = defop("vector_norm", _vector_norm_forward, vjp={"x": _vector_norm_vjp},
                    jvp={"x": _reduction_jvp(_vector_norm_vjp)}, display="LinalgVectorNormBackward0",
                    torch=lambda torch, x, *, ord, dim, keepdim: torch.linalg.vector_norm(x, ord, dim, keepdim),
                    samples=[S((3, 4), ord=2.0, dim=None, keepdim=False), S((3, 4), ord=2.0, dim=(1,), keepdim=True),
                             S((2, 3, 4), ord=1.0, dim=(0, 2), keepdim=False),
                             S(arg((3, 4), distinct=True), ord=math.inf, dim=(0,), keepdim=False),
                             S(arg((3, 4), distinct=True), ord=-math.inf, dim=None, keepdim=True),
                             S((3, 4), ord=0.0, dim=(1,), keepdim=False), S((3, 4), ord=3.0, dim=(1,), keepdim=False),
                             S(arg((3, 4), 0.5, 2.0), ord=0.5, dim=None, keepdim=False),
                             S(arg((3, 4), 0.5, 2.0), ord=-1.5, dim=(-1,), keepdim=False),
                             S(arg((2, 3), 0.2, 1.0), ord=1.5, dim=(1,), keepdim=False)])


# ------------------------------------------------------------------------------ the functions users call
def _dims(op, x, dim):
    """``dim`` as a tuple of non-negative dims, or None for all dims (None or an empty tuple, as PyTorch)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    dims = normalize_dim(op, dim, x._data.ndim)
    return dims if isinstance(dims, tuple) else (dims,)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to("int64")
    dims = _dims("sum", input, dim)
    return apply(SUM if dims is None else SUM_DIM, input, dim=dims, keepdim=keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise DTypeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got "
                         f"{input.dtype}; call .float() first or pass dtype=chainrule.float32")
    dims = _dims("mean", input, dim)
    return apply(MEAN if dims is None else MEAN_DIM, input, dim=dims, keepdim=keepdim)


ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__module__ = "chainrule"


def _extreme(pick, whole, along, input, dim, keepdim):
    if isinstance(dim, Tensor):  # max(input, other): PyTorch's elementwise form
        from .elementwise import maximum, minimum
        return (maximum if pick == "max" else minimum)(input, dim)
    if input._data.size == 0:
        raise ShapeError(f"{pick}(): Expected reduction dim to be specified for input.numel() == 0 "
                         f"(input has shape {shape_str(input.shape)})")
    if dim is None:
        return apply(whole, input)
    d = normalize_dim(pick, dim, input._data.ndim)
    values = apply(along, input, dim=d, keepdim=keepdim, pick=pick)
    from ._nondiff import argmax, argmin
    indices = (argmax if pick == "max" else argmin)(input, d, keepdim)
    return ValuesIndices(values, indices)


def max(input, dim=None, keepdim=False):
    """max(x): the largest element; max(x, dim): (values, indices) along dim."""
    return _extreme("max", MAX_ALL, MAX_DIM, input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    """min(x): the smallest element; min(x, dim): (values, indices) along dim."""
    return _extreme("min", MIN_ALL, MIN_DIM, input, dim, keepdim)


def sum_to_array(array, shape):
    """sum_to on a raw array (the engine's raw-mode backward)."""
    return _sum_to_forward(np, array, shape=shape)


def sum_to(input, shape):
    """Sum ``input`` down to ``shape`` (the inverse of broadcasting ``shape`` up to input's shape)."""
    return apply(SUM_TO, input, shape=tuple(shape))


def _floating(op, input):
    if input._data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating point tensor as input, got {input.dtype}; "
                         "call .float() first or pass dtype=chainrule.float32")


def _cast(input, dtype, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input if dtype is None else input.to(dtype)


def _integer_to_int64(input):
    return input.to("int64") if input._data.dtype.kind in "biu" else input


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """prod(x): the product of all elements; prod(x, dim, keepdim=False): along one dim. The gradient
    is exact with zeros (no division by the input)."""
    input = _cast(input, dtype, "prod")
    if dtype is None:
        input = _integer_to_int64(input)
    if dim is None:
        return apply(PROD, input)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod(): dim must be a single int, not {type(dim).__name__} {tuple(dim)} "
                        "(reduce one dim at a time)")
    d = normalize_dim("prod", dim, input._data.ndim)
    if input._data.ndim == 0:
        return apply(PROD, input)
    return apply(PROD_DIM, input, dim=d, keepdim=keepdim)


def _cumulative(name, op, input, dim, dtype):
    input = _cast(input, dtype, name)
    if dtype is None:
        input = _integer_to_int64(input)
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim' (the dim to accumulate along)")
    return op(input, normalize_dim(name, dim, input._data.ndim))


def cumsum(input, dim, *, dtype=None):
    """Cumulative sums along ``dim`` (integers and bools give int64, as PyTorch)."""
    return _cumulative("cumsum", cumsum_op, input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    """Cumulative products along ``dim``; the gradient is exact with zeros (no division by the input)."""
    return _cumulative("cumprod", cumprod_op, input, dim, dtype)


def _correction(op, unbiased, correction):
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either correction= or the older unbiased=, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _spread(op, primitive, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(x, True): the old unbiased flag in dim's place
        dim, unbiased = None, dim if unbiased is None else unbiased
    correction = _correction(op, unbiased, correction)
    _cast(input, None, op)
    if input._data.dtype.kind != "f":
        raise DTypeError(f"{op}(): std and var only support floating point dtypes, got {input.dtype}; "
                         "call .float() first")
    dims = _dims(op, input, dim)
    if _dof(input.shape, dims, correction) <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      f"factor (input numel divided by output numel)", UserWarning, stacklevel=3)
    return apply(primitive, input, dim=dims, correction=correction, keepdim=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The variance over ``dim`` (None: all elements), dividing by N - correction (default 1, Bessel's
    correction); ``unbiased=False`` is the older spelling of ``correction=0``."""
    return _spread("var", VAR, input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The standard deviation (sqrt of var); its gradient is 0 where all elements are equal, as PyTorch."""
    return _spread("std", STD, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim if unbiased is None else unbiased
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim if unbiased is None else unbiased
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow (the largest element is taken out first); rows of
    -inf give -inf."""
    _cast(input, None, "logsumexp")
    if input._data.dtype.kind != "f":
        input = input.to("float32")
    return apply(LOGSUMEXP, input, dim=_dims("logsumexp", input, dim), keepdim=keepdim)


def _extreme_values(name, op, input, dim, keepdim):
    _cast(input, None, name)
    dims = _dims(name, input, dim)
    shape = input.shape
    empty = [d for d in (range(len(shape)) if dims is None else dims) if shape[d] == 0]
    if empty or (dims is None and input._data.size == 0):
        raise ShapeError(f"{name}(): Expected reduction dim {empty[0] if empty else ''} to have non-zero size "
                         f"(input has shape {shape_str(shape)}); there is no identity for max/min")
    return apply(op, input, dim=dims, keepdim=keepdim)


def amax(input, dim=(), keepdim=False):
    """The largest values over ``dim`` (an int or a tuple; () or None: all dims). Ties share the gradient
    evenly (max(x, dim) sends it to one index)."""
    return _extreme_values("amax", AMAX, input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    """The smallest values over ``dim``; ties share the gradient evenly."""
    return _extreme_values("amin", AMIN, input, dim, keepdim)


def _logical_reduction(name, fn, input, dim, keepdim):
    from ._nondiff import _result
    _cast(input, None, name)
    data = input._data
    axis = _dims(name, input, dim)
    result = fn(data, axis=axis, keepdims=keepdim)
    result = np.asarray(result, dtype=np.uint8 if data.dtype == np.uint8 else np.bool_)
    return _result(name, result, input)


def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` (None: all) is nonzero; a bool tensor (not differentiable)."""
    return _logical_reduction("all", np.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` (None: all) is nonzero; a bool tensor (not differentiable)."""
    return _logical_reduction("any", np.any, input, dim, keepdim)


# --------------------------------------------------------------------------------------------- norms
def _norm_input(op, input, dtype):
    input = _cast(input, dtype, op)
    if input._data.dtype.kind != "f":
        raise DTypeError(f"{op}: Expected a floating point tensor as input. Got {input.dtype}; call .float() "
                         "first or pass dtype=chainrule.float32")
    return input


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm: (sum |x|^ord)^(1/ord) over ``dim`` (None: all elements, as one vector).
    ord = inf / -inf: the largest / smallest |x|; ord = 0: the number of nonzero elements. The gradient
    of the 2-norm at 0 is 0, as PyTorch."""
    x = _norm_input("linalg.vector_norm", x, dtype)
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg.vector_norm: ord must be a number (2, 1, inf, -inf, 0, any float), not {ord!r}; "
                        "for 'fro' or 'nuc' use linalg.matrix_norm")
    ord = float(ord)
    dims = _dims("linalg.vector_norm", x, dim)
    if ord < 0 or ord == math.inf:
        shape = x.shape
        empty = [d for d in (range(len(shape)) if dims is None else dims) if shape[d] == 0]
        if empty or x._data.size == 0:
            raise ShapeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor (shape "
                             f"{shape_str(shape)}) because the operation does not have an identity")
    return apply(VECTOR_NORM, x, ord=ord, dim=dims, keepdim=keepdim)


def _singular_values(A, dims):
    """The singular values of the matrices in ``dims`` (for the spectral and nuclear norms)."""
    from .decompositions import svdvals  # imported here: decompositions imports this module's ops
    return svdvals(A.movedim(dims, (-2, -1)))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """torch.linalg.matrix_norm over the two dims ``dim``: 'fro' (the default), 1 / -1 (largest / smallest
    column sum of |A|), inf / -inf (row sums); 2, -2 and 'nuc' need the singular values."""
    op = "linalg.matrix_norm"
    A = _norm_input(op, A, dtype)
    if A._data.ndim < 2:
        raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions (got shape {shape_str(A.shape)})")
    if isinstance(dim, int) or len(dim) != 2:
        raise ShapeError(f"{op}: dim must be a 2-tuple of ints, got {dim!r}")
    dims = normalize_dim(op, tuple(dim), A._data.ndim)
    if ord == "fro":
        return apply(VECTOR_NORM, A, ord=2.0, dim=dims, keepdim=keepdim)
    if ord in (1, -1, math.inf, -math.inf) and not isinstance(ord, bool):
        rows, cols = dims
        summed, extreme = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = _ew.abs(A).sum(summed, True)
        return (amax if ord > 0 else amin)(sums, (summed, extreme), keepdim)
    if ord in ("nuc", 2, -2) and not isinstance(ord, bool):
        values = _singular_values(A, dims)
        out = values.sum(-1) if ord == "nuc" else (amax if ord == 2 else amin)(values, -1)
        if keepdim:
            for d in sorted(dims):
                out = out.unsqueeze(d)
        return out
    raise ValueError(f"{op}: Order {ord!r} not supported; use 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm when ``dim`` is an int (or A is 1-D), a matrix norm when ``dim`` is
    a 2-tuple (or A is 2-D and ``ord`` is given); with neither ``ord`` nor ``dim`` the 2-norm of all
    elements."""
    op = "linalg.norm"
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise ValueError(f"{op}: ord={ord!r} is a matrix norm, but dim {dim!r} selects vectors; pass a "
                                 "2-tuple dim or a numeric ord")
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise ShapeError(f"{op}: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    ndim = A._data.ndim
    if ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ShapeError(f"{op}: If dim is not specified but ord is, the input must be 1D or 2D. Got {ndim}D "
                     f"(shape {shape_str(A.shape)}) with ord={ord!r}; pass dim")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm (deprecated in PyTorch in favour of linalg.vector_norm / matrix_norm, which it calls):
    p='fro' is the 2-norm over ``dim`` (None: all elements), a number p a vector norm, 'nuc' a matrix norm."""
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        if p not in ("fro", "nuc"):
            raise ValueError(f"norm: only valid string values of p are 'fro' and 'nuc', found {p!r}")
        return matrix_norm(input, p, tuple(range(input.ndim)) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)
