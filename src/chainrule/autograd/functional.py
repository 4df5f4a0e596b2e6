"""Higher-level derivatives of plain functions, with torch.autograd.functional's API.

``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``vhp`` take a function of tensors and its inputs
(a Tensor or a tuple of Tensors) and return what PyTorch returns, in the same shapes and with the same
tuple/single-tensor conventions:

- ``jacobian`` of f: R^n -> R^m is m x n, and either mode of automatic differentiation builds it:
  reverse mode gives one *row* per backward pass (a VJP with a one-hot ``v``), forward mode one *column*
  per forward pass (a JVP with a one-hot tangent). Reverse mode therefore costs about m passes and forward
  mode about n: ``mode="auto"`` (the default, our extension) evaluates f once, counts input and output
  elements and takes forward mode when the inputs have fewer elements than the outputs, reverse mode
  otherwise (and logs its choice at DEBUG level on the "chainrule.autograd.functional" logger).
  Reverse mode reuses that one evaluation for every row (``retain_graph=True``). PyTorch's
  ``strategy="forward-mode"`` / ``"reverse-mode"`` is accepted as a synonym of ``mode`` (so code
  written for PyTorch gets the mode it asked for); ``vectorize`` is accepted and changes nothing.
- ``jvp`` uses forward mode (dual numbers), not PyTorch's double-backward trick; ``hvp`` uses
  forward-over-reverse (the tangent of a gradient is a Hessian-vector product); ``vhp`` uses
  reverse-over-reverse; ``hessian`` is the forward-mode Jacobian of the reverse-mode gradient unless
  ``outer_jacobian_strategy="reverse-mode"`` is asked for.

Only one dual level can be active at a time. Where forward mode is needed while one already is (these
functions called from inside ``forward_ad.dual_level()`` or from ``chainrule.func.jacfwd``), JVPs are
computed by the double-backward trick instead: ``J v = d/du (J^T u) . v``, two backward passes that the
outer level's tangents flow through.
"""
import logging
import weakref

import numpy as np

from .._errors import GraphError, ShapeError, shape_str
from . import forward_ad
from .engine import grad as _autograd_grad_raw
from .grad_mode import enable_grad, set_grad_enabled, is_grad_enabled
from .graph import AccumulateGrad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

logger = logging.getLogger(__name__)

# Bound on first use: this module is imported (by chainrule.autograd) before Tensor and the ops exist.
Tensor = None
_lib = None


def _bind():
    global Tensor, _lib
    import chainrule
    _lib = chainrule
    Tensor = chainrule.Tensor


# ------------------------------------------------------------------------------------ internal leaves
# The leaves these functions (and chainrule.func) make to differentiate with respect to: id -> weak reference
# (not a WeakSet: that compares tensors with ==, which is elementwise). A result whose graph reaches a leaf
# that is not one of them depends on a tensor of the caller's (a closure over one that requires grad).
_internal = {}


def _internal_leaf(tensor):
    key = id(tensor)

    def forget(reference, key=key):
        if _internal.get(key) is reference:
            del _internal[key]

    _internal[key] = weakref.ref(tensor, forget)
    return tensor


def _reaches_outside_leaf(tensors):
    """Whether the graph of ``tensors`` reaches a leaf that requires grad and was not made here."""
    seen = set()
    stack = []
    for t in tensors:
        if t is None or not t.requires_grad:
            continue
        if t.grad_fn is None:
            if not _is_internal(t):
                return True
        else:
            stack.append(t.grad_fn)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.__class__ is AccumulateGrad:
            if not _is_internal(node.variable):
                return True
            continue
        stack.extend(edge[0] for edge in node.next if edge is not None)
    return False


def _is_internal(tensor):
    entry = _internal.get(id(tensor))
    return entry is not None and entry() is tensor


# ------------------------------------------------------------------------------------ tuple handling
def _as_tuple(x, arg_name, fn_name):
    """(was it a tuple, the tuple); every element must be a Tensor (a list counts as a tuple)."""
    if Tensor is None:
        _bind()
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where} has type {type(el).__name__}.")
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    """Undo the tuple wrapping: ``to_unpack`` is one flag, or (outputs were a tuple, inputs were a tuple)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Fresh tensors to differentiate with respect to. With ``create_graph`` an input that requires grad stays
    connected to its graph (through an identity view), so the results can be differentiated again; otherwise
    it is detached. A tangent the input carries (an outer forward-mode level) is kept."""
    result = []
    for x in inputs:
        if create_graph and x.requires_grad:
            result.append(x.view_as(x))  # an op: the tangent, if any, follows
            continue
        tangent = forward_ad.tangent_of(x)
        y = x.detach().requires_grad_(need_graph)
        if need_graph:
            _internal_leaf(y)
        result.append(y if tangent is None else forward_ad.make_dual(y, tangent))
    return tuple(result)


def _grad_postprocess(results, create_graph):
    if create_graph:
        return results
    if results and isinstance(results[0], tuple):
        return tuple(_grad_postprocess(r, create_graph) for r in results)
    return tuple(r.detach() for r in results)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise ShapeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise ShapeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise ShapeError(f"{prefix}v has invalid size: should be {shape_str(el_other.shape)} but got "
                             f"{shape_str(el_v.shape)}.")


def _prepare_v(v, other, is_other_tuple, fn_name, create_graph, what):
    """Check ``v`` against ``other`` (the outputs for vjp, the inputs otherwise); v=None means a single 1."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, other, is_other_tuple)
        return v
    if len(other) != 1 or other[0].numel() != 1:
        raise ShapeError(f"The vector v can only be None if the {what} a single Tensor with a single element.")
    return (_lib.ones_like(other[0]),)


def _check_requires_grad(tensors, kind, strict):
    """strict mode: every tensor exists and requires grad (is connected to the inputs)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise GraphError(f"The output of the user-provided function is independent of input {i}. This is not "
                             "allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise GraphError(f"The hessian of the user-provided function with respect to input {i} is independent "
                             "of the input. This is not allowed in strict mode. You should ensure that your function "
                             "is thrice differentiable and that the hessian depends on the inputs.")
        if kind == "jacobian":
            raise GraphError("While computing the hessian, found that the jacobian of the user-provided function "
                             f"with respect to input {i} is independent of the input. This is not allowed in strict "
                             "mode. You should ensure that your function is twice differentiable and that the "
                             "jacobian depends on the inputs (this would be violated by a linear function for "
                             "example).")
        raise GraphError(f"Output {i} of the user-provided function does not require gradients. The outputs must be "
                         "computed in a differentiable manner from the input when running in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for every input if none does)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    outs, gs = zip(*kept)
    return _autograd_grad_raw(outs, inputs, gs, retain_graph=retain_graph, create_graph=create_graph,
                              allow_unused=True)


def _fill_in_zeros(grads, refs, strict, create_graph, message, quantity="jacobian"):
    result = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise GraphError(message.format(i=i))
            g = _lib.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            raise GraphError(f"The {quantity} of the user-provided function is independent of input {i}. This is not "
                             "allowed in strict mode when create_graph=True.")
        result.append(g)
    return tuple(result)


_INDEPENDENT = ("The output of the user-provided function is independent of input {i}. This is not allowed in "
                "strict mode.")


# --------------------------------------------------------------------------------------------- vjp/jvp
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``, by one backward pass."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, "vjp", create_graph, "user-provided function returns")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, _INDEPENDENT)
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product at ``inputs``, by one forward-mode pass (dual numbers).

    strict=True raises if an output does not depend on the inputs (its tangent is structurally zero)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=create_graph)
        v = _prepare_v(v, inputs, is_inputs_tuple, "jvp", create_graph,
                       "input to the user-provided function is")
        if forward_ad.state.level is not None:  # one level at a time: emulate forward mode with two backwards
            is_outputs_tuple, outputs, tangents = _jvp_by_double_backward(func, inputs, v)
        else:
            with forward_ad.dual_level():
                duals = tuple(forward_ad.make_dual(x, t) for x, t in zip(inputs, v))
                is_outputs_tuple, outs = _as_tuple(func(*duals), "outputs of the user-provided function", "jvp")
                outputs, tangents = zip(*(forward_ad.unpack_dual(o) for o in outs))
        result = []
        for i, (out, tangent) in enumerate(zip(outputs, tangents)):
            if tangent is None:
                if strict:
                    raise GraphError(f"Output {i} of the user-provided function is independent of the inputs. "
                                     "This is not allowed in strict mode.")
                tangent = _lib.zeros_like(out)
            result.append(tangent)
    return (_tuple_postprocess(_grad_postprocess(tuple(outputs), create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(tuple(result), create_graph), is_outputs_tuple))


def _jvp_by_double_backward(func, inputs, v):
    """J v without a dual level of our own: g(u) = J^T u is linear in u, and J v = d(g(u) . v)/du."""
    prepared = _grad_preprocess(inputs, create_graph=True, need_graph=True)
    is_outputs_tuple, outputs = _as_tuple(func(*prepared), "outputs of the user-provided function", "jvp")
    us = tuple(_internal_leaf(_lib.zeros_like(o).requires_grad_()) for o in outputs)
    gs = _autograd_grad(outputs, prepared, us, create_graph=True)
    kept = [(g, t) for g, t in zip(gs, v) if g is not None]
    tangents = (None,) * len(outputs)
    if kept:
        # create_graph: the active level's tangents must reach the result (it is detached later if not wanted)
        tangents = _autograd_grad(tuple(g for g, _ in kept), us, tuple(t for _, t in kept), create_graph=True)
    return is_outputs_tuple, outputs, tangents


# -------------------------------------------------------------------------------------------- jacobian
_MODES = ("auto", "reverse", "forward")
_STRATEGIES = {"reverse-mode": "reverse", "forward-mode": "forward"}


def _resolve_mode(mode, strategy):
    if mode not in _MODES:
        raise ValueError(f'jacobian: mode must be "auto", "reverse" or "forward", got {mode!r}')
    if strategy is None:
        return mode
    if strategy not in _STRATEGIES:
        raise ValueError(f'jacobian: strategy must be "forward-mode" or "reverse-mode" (PyTorch\'s names), got '
                         f'{strategy!r}. Hint: leave it out and chainrule picks the cheaper mode (mode="auto").')
    asked = _STRATEGIES[strategy]
    if mode != "auto" and mode != asked:
        raise ValueError(f'jacobian: mode={mode!r} and strategy={strategy!r} disagree; pass only one of them')
    return asked


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy=None, mode="auto"):
    """The Jacobian of ``func`` at ``inputs``: for one input and one output a Tensor of shape
    ``output.shape + input.shape``; a tuple over inputs and/or outputs (outputs outermost) where either is a
    tuple, as in PyTorch.

    ``mode``: "reverse" (one backward pass per output element, all reusing one evaluation of func),
    "forward" (one forward-mode pass per input element) or "auto": evaluate func once and use forward mode
    when the inputs have fewer elements than the outputs. ``strategy`` ("reverse-mode"/"forward-mode") is
    PyTorch's name for the same choice; ``vectorize`` is accepted for compatibility and ignored."""
    del vectorize  # results are the same either way; chainrule has no vmap
    mode = _resolve_mode(mode, strategy)
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    n = sum(x.numel() for x in inputs)
    if mode == "forward":
        logger.debug("jacobian: forward mode (asked for; %d input elements)", n)
        result, is_outputs_tuple = _jacobian_forward(func, inputs, create_graph, strict)
        return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))
    with enable_grad():
        prepared = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*prepared), "outputs of the user-provided function", "jacobian")
    m = sum(o.numel() for o in outputs)
    if mode == "auto":
        mode = "forward" if n < m else "reverse"
        logger.debug("jacobian: %s mode (auto: %d input elements, %d output elements)", mode, n, m)
    else:
        logger.debug("jacobian: reverse mode (asked for; %d output elements)", m)
    if mode == "forward":
        result, _ = _jacobian_forward(func, inputs, create_graph, strict)
    else:
        _check_requires_grad(outputs, "outputs", strict)
        result = _jacobian_reverse(outputs, prepared, create_graph, strict)
    return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_reverse(outputs, inputs, create_graph, strict):
    """One backward pass per output element (v = a one-hot vector), all through the same graph."""
    if _lib is None:
        _bind()
    make = _lib.tensor
    result = []
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        for i, out in enumerate(outputs):
            m = out.numel()
            rows = [[] for _ in inputs] if create_graph else [
                np.zeros((m, x.numel()), dtype=x._data.dtype) for x in inputs]
            for j in range(m):
                basis = np.zeros(m, dtype=out._data.dtype)
                basis[j] = 1
                if out.requires_grad:
                    grads = _autograd_grad_raw((out,), inputs, (make(basis.reshape(out.shape)),), retain_graph=True,
                                               create_graph=create_graph, allow_unused=True)
                else:
                    grads = (None,) * len(inputs)
                for k, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None:
                        if strict:
                            raise GraphError(f"Output {i} of the user-provided function is independent of input {k}. "
                                             "This is not allowed in strict mode.")
                        if create_graph:
                            rows[k].append(_lib.zeros_like(x))
                        continue
                    if create_graph:
                        if strict and not g.requires_grad:
                            raise GraphError(f"The jacobian of the user-provided function is independent of input "
                                             f"{k}. This is not allowed in strict mode when create_graph=True.")
                        rows[k].append(g)
                    else:
                        rows[k][j] = g._data.reshape(-1)
            blocks = []
            for k, x in enumerate(inputs):
                shape = tuple(out.shape) + tuple(x.shape)
                if create_graph:
                    blocks.append(_lib.stack(rows[k]).reshape(shape) if m else _lib.zeros(shape, dtype=x.dtype))
                else:
                    blocks.append(make(rows[k].reshape(shape)))
            result.append(tuple(blocks))
    return tuple(result)


def _jacobian_forward(func, inputs, create_graph, strict, keep_connected=False):
    """One forward-mode pass per input element (a one-hot tangent). Returns (per output, per input blocks)
    and whether func returned a tuple. ``keep_connected``: a block whose columns are connected to a graph (a
    closure over a tensor that requires grad) is built with ops even without ``create_graph``."""
    if _lib is None:
        _bind()
    if forward_ad.state.level is not None:
        return _jacobian_forward_nested(func, inputs, create_graph, strict, keep_connected)
    with enable_grad():
        prepared = _grad_preprocess(inputs, create_graph=create_graph, need_graph=create_graph)
        columns = []  # per input: per column, the output tangents (None: independent)
        outputs = None
        with forward_ad.dual_level():
            for k, x in enumerate(prepared):
                n = x.numel()
                cols = []
                for j in range(n):
                    basis = np.zeros(n, dtype=x._data.dtype)
                    basis[j] = 1
                    args = list(prepared)
                    args[k] = forward_ad.make_dual(x, _lib.tensor(basis.reshape(x.shape)))
                    is_outputs_tuple, outs = _as_tuple(func(*args), "outputs of the user-provided function",
                                                       "jacobian")
                    unpacked = [forward_ad.unpack_dual(o) for o in outs]
                    if outputs is None:
                        outputs = tuple(p for p, _ in unpacked)
                    cols.append([t for _, t in unpacked])
                columns.append(cols)
        if outputs is None:  # no input has any element: evaluate once for the outputs' shapes
            is_outputs_tuple, outputs = _as_tuple(func(*prepared), "outputs of the user-provided function",
                                                  "jacobian")
    return _assemble_columns(columns, outputs, prepared, create_graph, strict, keep_connected), is_outputs_tuple


def _jacobian_forward_nested(func, inputs, create_graph, strict, keep_connected=False):
    """Forward mode while a dual level is already active: column j is d(J^T u)/du . e_j (double backward)."""
    prepared = _grad_preprocess(inputs, create_graph=True, need_graph=True)
    is_outputs_tuple, outputs = _as_tuple(func(*prepared), "outputs of the user-provided function", "jacobian")
    us = tuple(_internal_leaf(_lib.zeros_like(o).requires_grad_()) for o in outputs)
    gs = _autograd_grad(outputs, prepared, us, create_graph=True)
    columns = []
    for k, (x, g) in enumerate(zip(prepared, gs)):
        n = x.numel()
        cols = []
        for j in range(n):
            if g is None or not g.requires_grad:
                cols.append([None] * len(outputs))
                continue
            basis = np.zeros(n, dtype=g._data.dtype)
            basis[j] = 1
            cols.append(list(_autograd_grad_raw((g,), us, (_lib.tensor(basis.reshape(g.shape)),), retain_graph=True,
                                                create_graph=True, allow_unused=True)))
        columns.append(cols)
    return _assemble_columns(columns, outputs, prepared, create_graph, strict, keep_connected), is_outputs_tuple


def _assemble_columns(columns, outputs, inputs, create_graph, strict, keep_connected=False):
    """Blocks J[i][k] of shape outputs[i].shape + inputs[k].shape from columns[k][j][i] (tangent tensors)."""
    if strict:
        _strict_columns(columns, outputs, create_graph)
    result = []
    for i, out in enumerate(outputs):
        m = out.numel()
        blocks = []
        for k, x in enumerate(inputs):
            shape = tuple(out.shape) + tuple(x.shape)
            cols = [c[i] for c in columns[k]]
            if any(c is not None for c in cols) and (create_graph or keep_connected and any(
                    c is not None and c.requires_grad for c in cols)):
                zero = _lib.zeros_like(out)
                stacked = _lib.stack([zero if c is None else c for c in cols], dim=-1)
                if stacked._data.dtype != x._data.dtype:
                    stacked = stacked.to(x.dtype)
                block = stacked.reshape(shape)
                if not create_graph and not _reaches_outside_leaf((block,)):
                    block = block.detach()  # connected only to leaves made here: nothing outside can use it
                blocks.append(block)
                continue
            table = np.zeros((len(cols), m), dtype=x._data.dtype)
            for j, c in enumerate(cols):
                if c is not None:
                    table[j] = c._data.reshape(-1)
            blocks.append(_lib.tensor(table.T.reshape(shape)))
        result.append(tuple(blocks))
    return tuple(result)


def _strict_columns(columns, outputs, create_graph):
    """strict mode in forward mode: the same errors, in the same order, as reverse mode gives."""
    depends = [[bool(cols) and cols[0][i] is not None for cols in columns] for i in range(len(outputs))]
    for i, row in enumerate(depends):
        if not any(row):
            raise GraphError(f"Output {i} of the user-provided function does not require gradients. The outputs must "
                             "be computed in a differentiable manner from the input when running in strict mode.")
    for i, row in enumerate(depends):
        for k, dep in enumerate(row):
            if not dep:
                raise GraphError(f"Output {i} of the user-provided function is independent of input {k}. This is "
                                 "not allowed in strict mode.")
            if create_graph and not columns[k][0][i].requires_grad:
                raise GraphError(f"The jacobian of the user-provided function is independent of input {k}. This is "
                                 "not allowed in strict mode when create_graph=True.")


# --------------------------------------------------------------------------------------- second order
def _single_scalar_output(func, name, strict):
    def wrapped(*inputs):
        out = func(*inputs)
        is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", name)
        _check_requires_grad(outs, "outputs", strict)
        if is_tuple:
            raise GraphError(f"The function given to {name} should return a single Tensor")
        if out.numel() != 1:
            raise ShapeError(f"The Tensor returned by the function given to {name} should contain a single element "
                             f"(it has shape {shape_str(out.shape)})")
        return out
    return wrapped


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="forward-mode"):
    """The Hessian of a scalar function: shape ``input.shape + input.shape`` for one input, a tuple of tuples
    for several. Forward-over-reverse by default (the forward-mode Jacobian of the reverse-mode gradient);
    ``outer_jacobian_strategy="reverse-mode"`` (PyTorch's default) differentiates the gradient in reverse mode
    instead. Both give the same values."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError(f'hessian: outer_jacobian_strategy must be "forward-mode" or "reverse-mode", got '
                         f'{outer_jacobian_strategy!r}')
    outer = _STRATEGIES[outer_jacobian_strategy]
    scalar = _single_scalar_output(func, "hessian", strict)
    # The gradient needs a graph of its own only for an outer reverse pass (or strict's checks); tangents of
    # an outer forward pass flow through the backward pass either way.
    inner_graph = outer == "reverse" or strict or create_graph

    def gradient(*xs):
        with enable_grad():
            xs = _grad_preprocess(xs, create_graph=True, need_graph=True)
            out = scalar(*xs)
            grads = _autograd_grad((out,), xs, create_graph=inner_graph)
            grads = _fill_in_zeros(grads, xs, strict, False, "Output 0 of the user-provided function is independent "
                                   "of input {i}. This is not allowed in strict mode.")
            _check_requires_grad(grads, "jacobian", strict)
        return grads

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, mode=outer)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function, by reverse-over-reverse (two backward passes)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "vhp", create_graph, "input to the user-provided function is")
        out = _single_scalar_output(func, "vhp", strict)(*inputs)
        jac = _autograd_grad((out,), inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "The jacobian of the user-provided function is "
                                "independent of input {i}. This is not allowed in strict mode.", "hessian")
    return (_grad_postprocess((out,), create_graph)[0],
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function, by forward-over-reverse: one backward pass whose tangents
    (inputs carrying v) give H v."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, "hvp", create_graph, "input to the user-provided function is")
        scalar = _single_scalar_output(func, "hvp", strict)
        if forward_ad.state.level is not None:  # a level is active: reverse-over-reverse, as vhp (H is symmetric)
            out = scalar(*inputs)
            jac = _autograd_grad((out,), inputs, create_graph=True)
            _check_requires_grad(jac, "jacobian", strict)
            tangents = _autograd_grad(jac, inputs, v, create_graph=True)
        else:
            with forward_ad.dual_level():
                duals = tuple(forward_ad.make_dual(x, t) for x, t in zip(inputs, v))
                out = scalar(*duals)
                jac = _autograd_grad((out,), duals, create_graph=create_graph or strict)
                _check_requires_grad(jac, "jacobian", strict)
                tangents = tuple(None if g is None else forward_ad.unpack_dual(g).tangent for g in jac)
                out = forward_ad.unpack_dual(out).primal
        result = _fill_in_zeros(tangents, inputs, strict, create_graph, "The hessian of the user-provided function "
                                "is independent of input {i}. This is not allowed in strict mode.", "hessian")
    return (_grad_postprocess((out,), create_graph)[0],
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))
