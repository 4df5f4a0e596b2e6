"""Function transforms in the style of JAX and torch.func: ``grad``, ``value_and_grad``, ``grad_and_value``,
``jacrev``, ``jacfwd``, ``hessian``, ``vjp``, ``jvp``.

A transform takes a plain function of tensors and returns a new function (or, for ``vjp``/``jvp``, the
values directly)::

    from chainrule.func import grad, jacfwd, jacrev, hessian
    d2 = grad(grad(f))          # f: scalar -> scalar
    H = hessian(f)(x)           # jacfwd(jacrev(f)): forward-over-reverse

Transforms compose because each one works on the ordinary graph: a transform called while another is
evaluating its function (or on inputs that require grad, or carry a forward-mode tangent) keeps its result
connected (``create_graph=True``) so the outer transform can differentiate it; at the top level results are
plain tensors, as in torch.func. ``jacfwd``/``jvp`` use forward mode (dual numbers); since only one dual
level can be active, a forward-mode transform nested inside another one computes its JVPs by the
double-backward trick instead (``J v = d/du (J^T u) . v``), so ``jacfwd(jacfwd(f))`` works too.

``argnums`` is an int or a tuple of ints (negative counts from the end); the arguments it names may be
Tensors or tuples/lists/dicts of Tensors, and the results have the same structure. Functions may return
a Tensor or a tuple/list/dict of Tensors (``grad`` needs a 0-d Tensor); ``has_aux=True`` means the function
returns ``(output, aux)`` and ``aux`` is passed through.
"""
import functools
import threading

from ._errors import ShapeError, shape_str
from ._tensor import Tensor
from ._factories import zeros_like
from .autograd import forward_ad
from .autograd import functional as _functional
from .autograd.engine import grad as _autograd_grad
from .autograd.grad_mode import enable_grad, is_grad_enabled

__all__ = ["grad", "grad_and_value", "value_and_grad", "jacrev", "jacfwd", "hessian", "vjp", "jvp"]


class TransformError(ValueError, RuntimeError):
    """A transform was called wrongly: bad argnums, a function that returns the wrong kind of value.
    Both ValueError and RuntimeError (the type torch.func raises)."""


# ------------------------------------------------------------------------------------------- nesting
_local = threading.local()


def _depth():
    return getattr(_local, "depth", 0)


class _nested:
    """While a transform evaluates the user's function, transforms called inside it are nested."""

    def __enter__(self):
        _local.depth = _depth() + 1

    def __exit__(self, *exc):
        _local.depth -= 1
        return False


def _keep_graph(grad_enabled, originals, outputs=()):
    """Whether results must stay connected to a graph: an outer transform (or the caller) may differentiate
    them. True inside another transform, for inputs that require grad, while a dual level is active (tangents
    must not be dropped), or when the outputs depend on a tensor of the caller's that requires grad (a
    closure). Never under no_grad."""
    if not grad_enabled:
        return False
    if _depth() > 0 or forward_ad.state.level is not None:
        return True
    if any(x.requires_grad for x in originals):
        return True
    return _functional._reaches_outside_leaf(outputs)


def _prepare(x):
    """A tensor to differentiate with respect to, standing for ``x``: connected to x's graph if x requires
    grad (an identity view), else a fresh leaf; a tangent x carries is kept."""
    if x.requires_grad:
        return x.view_as(x)
    tangent = forward_ad.tangent_of(x)
    y = _functional._internal_leaf(x.detach().requires_grad_())
    return y if tangent is None else forward_ad.make_dual(y, tangent)


# ------------------------------------------------------------------------------------------ pytrees
def _flatten(tree):
    """(leaves, spec) of nested tuples/lists/dicts; anything else is a leaf."""
    leaves = []

    def walk(node):
        if isinstance(node, (tuple, list)):
            return (type(node), [walk(child) for child in node])
        if isinstance(node, dict):
            keys = list(node)
            return (dict, keys, [walk(node[k]) for k in keys])
        leaves.append(node)
        return None

    return leaves, walk(tree)


def _unflatten(spec, leaves):
    it = iter(leaves)

    def build(s):
        if s is None:
            return next(it)
        if s[0] is dict:
            return {k: build(c) for k, c in zip(s[1], s[2])}
        return s[0](build(c) for c in s[1])

    return build(spec)


def _tensor_leaves(tree, api, what):
    leaves, spec = _flatten(tree)
    if not leaves:
        raise TransformError(f"{api}: expected {what} to contain at least one Tensor")
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TransformError(f"{api}: expected {what} to contain only Tensors, got {type(leaf).__name__}")
    return leaves, spec


def _detach_tree(tree):
    leaves, spec = _flatten(tree)
    return _unflatten(spec, [x.detach() if isinstance(x, Tensor) else x for x in leaves])


# ------------------------------------------------------------------------------------------- argnums
def _check_argnums(argnums, n_args, api):
    """The argnums as (normalised int or tuple of ints)."""
    def one(a):
        if isinstance(a, bool) or not isinstance(a, int):
            raise TransformError(f"{api}: argnums must be an int or a tuple of ints, got {type(a).__name__}")
        if -n_args <= a < n_args:
            return a % n_args
        raise TransformError(f"{api}: got argnums={a}, but only {n_args} positional inputs")

    if isinstance(argnums, tuple):
        if not argnums:
            raise TransformError(f"{api}: argnums must be non-empty")
        result = tuple(one(a) for a in argnums)
        if len(set(result)) != len(result):
            raise TransformError(f"{api}: argnums elements must be unique, got {argnums}")
        return result
    return one(argnums)


def _select(args, argnums):
    return args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)


def _replace(args, argnums, new):
    args = list(args)
    if isinstance(argnums, int):
        args[argnums] = new
    else:
        for i, value in zip(argnums, new):
            args[i] = value
    return tuple(args)


def _split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise TransformError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def _check_argnums_early(argnums):
    if not isinstance(argnums, (int, tuple)) or isinstance(argnums, bool):
        raise TransformError(f"argnums must be int or Tuple[int, ...], got: {type(argnums).__name__}")


# ------------------------------------------------------------------------------------------- grad
def _grad_and_value(f, argnums, has_aux, args, kwargs, api):
    outer_grad = is_grad_enabled()
    argnums = _check_argnums(argnums, len(args), api)
    originals, spec = _tensor_leaves(_select(args, argnums), api, "the arguments named by argnums")
    with enable_grad():
        with _nested():
            prepared = [_prepare(x) for x in originals]
            output = f(*_replace(args, argnums, _unflatten(spec, prepared)), **kwargs)
        output, aux = _split_aux(output, has_aux, api)
        if not isinstance(output, Tensor):
            raise TransformError(f"{api}: expected f(*args) to return a Tensor, got {type(output).__name__}")
        if output.dim() != 0:
            raise TransformError(f"{api}: expected f(*args) to return a scalar Tensor, got a tensor with "
                                 f"{output.dim()} dims (shape {shape_str(output.shape)}). Maybe you wanted to use "
                                 "the vjp or jacrev transforms instead?")
        keep = _keep_graph(outer_grad, originals, (output,))
        grads = (None,) * len(prepared)
        if output.requires_grad:
            grads = _autograd_grad(output, prepared, create_graph=keep, allow_unused=True)
        grads = [zeros_like(x) if g is None else g for g, x in zip(grads, prepared)]
    if not keep:
        output, aux = output.detach(), _detach_tree(aux)
    return _unflatten(spec, grads), output, aux


def grad(f, argnums=0, has_aux=False):
    """The gradient of a scalar-valued ``f`` with respect to the argument(s) ``argnums``: ``grad(f)(x)``.
    With ``has_aux=True`` ``f`` returns ``(output, aux)`` and the transform returns ``(gradient, aux)``."""
    _check_argnums_early(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        g, _, aux = _grad_and_value(f, argnums, has_aux, args, kwargs, "grad")
        return (g, aux) if has_aux else g

    return wrapper


def grad_and_value(f, argnums=0, has_aux=False):
    """torch.func's order: ``(gradient, value)``, or ``(gradient, (value, aux))`` with ``has_aux``."""
    _check_argnums_early(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        g, value, aux = _grad_and_value(f, argnums, has_aux, args, kwargs, "grad_and_value")
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapper


def value_and_grad(f, argnums=0, has_aux=False):
    """JAX's order: ``(value, gradient)``, or ``((value, aux), gradient)`` with ``has_aux``."""
    _check_argnums_early(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        g, value, aux = _grad_and_value(f, argnums, has_aux, args, kwargs, "value_and_grad")
        return ((value, aux), g) if has_aux else (value, g)

    return wrapper


# ------------------------------------------------------------------------------------------- vjp / jvp
def vjp(f, *primals, has_aux=False):
    """``(output, vjp_fn)`` (plus ``aux`` with ``has_aux``): ``vjp_fn(cotangents)``, with cotangents shaped like
    the output, returns a tuple with ``v^T J`` for each primal. ``vjp_fn`` can be called many times (the
    forward pass is evaluated once)."""
    outer_grad = is_grad_enabled()
    if not primals:
        raise TransformError("vjp: expected at least one primal")
    originals, spec = _tensor_leaves(primals, "vjp", "primals")
    with enable_grad():
        with _nested():
            prepared = [_prepare(x) for x in originals]
            output = f(*_unflatten(spec, prepared))
        output, aux = _split_aux(output, has_aux, "vjp")
        outputs, out_spec = _tensor_leaves(output, "vjp", "the output of f")
    keep = _keep_graph(outer_grad, originals, outputs)

    def vjp_fn(cotangents):
        cts, ct_spec = _flatten(cotangents)
        if ct_spec != out_spec or len(cts) != len(outputs):
            raise TransformError("vjp_fn: expected the cotangents to have the same structure as the output of f")
        for i, (c, o) in enumerate(zip(cts, outputs)):
            if not isinstance(c, Tensor):
                raise TransformError(f"vjp_fn: cotangent {i} is a {type(c).__name__}, not a Tensor")
            if c.shape != o.shape:
                raise ShapeError(f"vjp_fn: cotangent {i} has shape {shape_str(c.shape)} but output {i} has shape "
                                 f"{shape_str(o.shape)}; each cotangent must have its output's shape")
        create = keep or (is_grad_enabled() and any(c.requires_grad for c in cts))
        with enable_grad() if create else _noop():
            pairs = [(o, c) for o, c in zip(outputs, cts) if o.requires_grad]
            grads = (None,) * len(prepared)
            if pairs:
                grads = _autograd_grad([o for o, _ in pairs], prepared, [c for _, c in pairs], retain_graph=True,
                                       create_graph=create, allow_unused=True)
            grads = [zeros_like(x) if g is None else g for g, x in zip(grads, prepared)]
        return tuple(_unflatten(spec, grads))

    if not keep:
        output, aux = _detach_tree(output), _detach_tree(aux)
    return (output, vjp_fn, aux) if has_aux else (output, vjp_fn)


class _noop:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def jvp(f, primals, tangents, has_aux=False):
    """``(f(*primals), J . tangents)`` (plus ``aux`` with ``has_aux``) by forward mode: one pass."""
    if not isinstance(primals, tuple):
        raise TransformError("jvp(f, primals, tangents): expected primals to be a tuple. E.g. it should be valid "
                             "to call f(*primals).")
    if not isinstance(tangents, tuple):
        raise TransformError("jvp(f, primals, tangents): expected tangents to be a tuple, like primals")
    originals, spec = _tensor_leaves(primals, "jvp", "primals")
    ts, t_spec = _flatten(tangents)
    if t_spec != spec:
        raise TransformError("jvp(f, primals, tangents): expected primals and tangents to have the same structure "
                             f"(got {len(originals)} primal and {len(ts)} tangent tensors)")
    for i, (t, x) in enumerate(zip(ts, originals)):
        if not isinstance(t, Tensor):
            raise TransformError(f"jvp: tangent {i} is a {type(t).__name__}, not a Tensor")
        if t.shape != x.shape:
            raise ShapeError(f"jvp: tangent {i} has shape {shape_str(t.shape)} but primal {i} has shape "
                             f"{shape_str(x.shape)}; each tangent must have its primal's shape")
    if forward_ad.state.level is not None:
        return _jvp_nested(f, originals, spec, ts, has_aux)
    outer_grad = is_grad_enabled()
    with forward_ad.dual_level(), _nested():
        duals = [forward_ad.make_dual(x, t.to(x.dtype) if t.dtype != x.dtype else t) for x, t in zip(originals, ts)]
        output = f(*_unflatten(spec, duals))
        output, aux = _split_aux(output, has_aux, "jvp")
        outputs, out_spec = _tensor_leaves(output, "jvp", "the output of f")
        unpacked = [forward_ad.unpack_dual(o) for o in outputs]
    primal_out = [p for p, _ in unpacked]
    tangent_out = [zeros_like(p) if t is None else t for p, t in unpacked]
    if not _keep_graph(outer_grad, originals, primal_out + tangent_out):  # e.g. connected only to a nested
        primal_out = [p.detach() for p in primal_out]                       # transform's own leaves
        tangent_out = [t.detach() for t in tangent_out]
        aux = _detach_tree(aux)
    result = (_unflatten(out_spec, primal_out), _unflatten(out_spec, tangent_out))
    return result + (aux,) if has_aux else result


def _jvp_nested(f, originals, spec, ts, has_aux):
    """jvp while a dual level is active (nested forward mode): the double-backward trick."""
    with enable_grad():
        with _nested():
            prepared = [_prepare(x) for x in originals]
            output = f(*_unflatten(spec, prepared))
        output, aux = _split_aux(output, has_aux, "jvp")
        outputs, out_spec = _tensor_leaves(output, "jvp", "the output of f")
        us = [_functional._internal_leaf(zeros_like(o).requires_grad_()) for o in outputs]
        pairs = [(o, u) for o, u in zip(outputs, us) if o.requires_grad]
        tangent_out = [None] * len(outputs)
        if pairs:
            gs = _autograd_grad([o for o, _ in pairs], prepared, [u for _, u in pairs], create_graph=True,
                                allow_unused=True)
            kept = [(g, t) for g, t in zip(gs, ts) if g is not None and g.requires_grad]
            if kept:
                tangent_out = _autograd_grad([g for g, _ in kept], us, [t for _, t in kept], create_graph=True,
                                             allow_unused=True)
    tangent_out = [zeros_like(o) if t is None else t for o, t in zip(outputs, tangent_out)]
    result = (_unflatten(out_spec, outputs), _unflatten(out_spec, tangent_out))
    return result + (aux,) if has_aux else result


# ------------------------------------------------------------------------------------------- Jacobians
def _assemble(per_output, out_spec, in_spec):
    """blocks[i][k] -> the output's structure of the argnums' structure of Jacobian blocks."""
    return _unflatten(out_spec, [_unflatten(in_spec, list(blocks)) for blocks in per_output])


def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian by reverse mode: one evaluation of ``f``, then one backward pass per output element.
    Block shapes are ``output.shape + input.shape``."""
    _check_argnums_early(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        outer_grad = is_grad_enabled()
        nums = _check_argnums(argnums, len(args), "jacrev")
        originals, in_spec = _tensor_leaves(_select(args, nums), "jacrev", "the arguments named by argnums")
        with enable_grad():
            with _nested():
                prepared = [_prepare(x) for x in originals]
                output = f(*_replace(args, nums, _unflatten(in_spec, prepared)), **kwargs)
            output, aux = _split_aux(output, has_aux, "jacrev")
            outputs, out_spec = _tensor_leaves(output, "jacrev", "the output of f")
            keep = _keep_graph(outer_grad, originals, outputs)
            blocks = _functional._jacobian_reverse(outputs, tuple(prepared), keep, False)
        if not keep:
            aux = _detach_tree(aux)
        jac = _assemble(blocks, out_spec, in_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian by forward mode: one forward-mode pass per input element (one-hot tangents). Block
    shapes are ``output.shape + input.shape``. Nested inside another forward-mode transform, the columns
    come from the double-backward trick."""
    _check_argnums_early(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        outer_grad = is_grad_enabled()
        nums = _check_argnums(argnums, len(args), "jacfwd")
        originals, in_spec = _tensor_leaves(_select(args, nums), "jacfwd", "the arguments named by argnums")
        seen = {}

        def flat(*leaves):
            with _nested():
                output = f(*_replace(args, nums, _unflatten(in_spec, list(leaves))), **kwargs)
            output, aux = _split_aux(output, has_aux, "jacfwd")
            outputs, out_spec = _tensor_leaves(output, "jacfwd", "the output of f")
            if "spec" not in seen:
                seen["spec"], seen["aux"] = out_spec, aux
            return tuple(outputs)

        keep = _keep_graph(outer_grad, originals)
        blocks, _ = _functional._jacobian_forward(flat, tuple(originals), keep, False,
                                                  keep_connected=outer_grad)
        if "spec" not in seen:  # no input element at all: the forward pass never ran with a tangent
            flat(*originals)
        aux = seen["aux"]
        if not keep:
            aux = _detach_tree(aux)
        jac = _assemble(blocks, seen["spec"], in_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def hessian(f, argnums=0):
    """The Hessian of a scalar-valued ``f``: ``jacfwd(jacrev(f, argnums), argnums)`` (forward-over-reverse).
    For one Tensor argument its shape is ``input.shape + input.shape``."""
    return jacfwd(jacrev(f, argnums), argnums)

