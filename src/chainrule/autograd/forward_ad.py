"""Forward-mode automatic differentiation with dual numbers (PyTorch's torch.autograd.forward_ad).

Inside ``dual_level()``, ``make_dual(x, t)`` gives a tensor that carries a tangent ``t`` next to its
value. Every op applied to such tensors computes the tangent of its result from its registry entry's
JVP rules (``tangent(out) = sum_i jvp_i(tangent(input_i))``), so one forward pass gives a
Jacobian-vector product. Tangents also flow through the backward pass of reverse mode, so the tangent
of a gradient is a Hessian-vector product (forward-over-reverse).

    with forward_ad.dual_level():
        x = forward_ad.make_dual(torch.tensor(3.0), torch.tensor(1.0))
        y = (x * x).sin()
        forward_ad.unpack_dual(y).tangent      # d sin(x²)/dx at 3 = 6 cos 9

One level at a time (PyTorch's limit too). Tangents live in a table keyed (weakly) by tensor, cleared
when the level ends; while no level is active, ops pay one flag check.
"""
import collections
import weakref

import numpy as np

from .._errors import DTypeError, GraphError, ShapeError, shape_str

# Filled in by chainrule/__init__.py (this module is imported before Tensor exists).
Tensor = None
make_tensor = None


class _State:
    __slots__ = ("level", "active", "generation")

    def __init__(self):
        self.level = None  # the active level (0) or None
        self.active = False  # a level is active and tangents are being propagated (False inside a JVP rule)
        self.generation = 0  # counts levels entered, so a tangent kept on a node is not used in a later level


state = _State()
# id(tensor) -> (weak reference to the tensor, its tangent). Not a WeakKeyDictionary: that compares keys
# with ==, which is elementwise for tensors. An entry goes when its tensor dies or the level ends.
_tangents = {}


def _get(tensor):
    entry = _tangents.get(id(tensor))
    if entry is not None and entry[0]() is tensor:
        return entry[1]
    return None


def _set(tensor, tangent):
    key = id(tensor)

    def forget(reference, key=key):
        entry = _tangents.get(key)
        if entry is not None and entry[0] is reference:
            del _tangents[key]

    _tangents[key] = (weakref.ref(tensor, forget), tangent)

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])


def enter_dual_level():
    """Start a dual level (``dual_level()`` does this for a ``with`` block); returns its number."""
    if state.level is not None:
        raise GraphError("Nested forward mode AD is not supported at the moment: leave the current dual_level() "
                         "before entering another")
    state.level = 0
    state.active = True
    state.generation += 1
    _tangents.clear()
    return 0


def exit_dual_level(*, level=None):
    """End the dual level: every tangent made in it is dropped."""
    if state.level is None:
        raise GraphError("exit_dual_level: no dual level is active")
    state.level = None
    state.active = False
    _tangents.clear()


class dual_level:
    """Context manager for a dual level: tangents exist only inside it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def make_dual(tensor, tangent, *, level=None):
    """A tensor with ``tensor``'s values (and graph) carrying ``tangent``: the direction of a JVP."""
    if state.level is None:
        raise GraphError("make_dual: no dual level is active. Create dual tensors inside "
                         "`with chainrule.autograd.forward_ad.dual_level():`")
    for name, value in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(value, Tensor):
            raise TypeError(f"make_dual: the {name} must be a chainrule Tensor, not {type(value).__name__}")
    if tensor._data.dtype.kind != "f" or tangent._data.dtype.kind != "f":
        raise DTypeError(f"make_dual: expected floating-point primal and tangent, got {tensor.dtype} and "
                         f"{tangent.dtype}; forward-mode derivatives are defined for float tensors only")
    if tangent.shape != tensor.shape:
        raise ShapeError(f"make_dual: trying to set a forward gradient that has a different size than that of the "
                         f"original Tensor: tangent shape {shape_str(tangent.shape)}, primal shape "
                         f"{shape_str(tensor.shape)}")
    if tangent._data.dtype != tensor._data.dtype:
        raise DTypeError(f"make_dual: the tangent's dtype ({tangent.dtype}) must be the primal's ({tensor.dtype}); "
                         "convert it with .to(primal.dtype)")
    dual = _alias(tensor)
    _set(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent) of a tensor: the primal as a view without tangent, the tangent or None."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual: expected a chainrule Tensor, got {type(tensor).__name__}")
    tangent = _get(tensor) if state.level is not None else None
    return UnpackedDualTensor(_alias(tensor), tangent)


def tangent_of(tensor):
    """The tangent ``tensor`` carries at the active level, or None."""
    return _get(tensor) if state.level is not None else None


def set_tangent(tensor, tangent):
    """Attach (or, with None, remove) a tangent: for results made outside the registry (Functions, in-place)."""
    if tangent is not None:
        _set(tensor, tangent)
    elif _get(tensor) is not None:
        del _tangents[id(tensor)]


class paused:
    """Ops inside do not propagate tangents (JVP rules themselves, and bookkeeping ops)."""

    def __enter__(self):
        self.previous = state.active
        state.active = False

    def __exit__(self, *exc):
        state.active = self.previous
        return False


def restore_tangent(tensor, kept):
    """Give a rebuilt output the tangent kept on its node, if that tangent belongs to the active level."""
    generation, tangent = kept
    if state.active and generation == state.generation:
        _set(tensor, tangent)


def _alias(tensor):
    """The same values and graph position as ``tensor`` but a different object (so it has its own tangent):
    a view node if the tensor is in a graph, a tensor sharing memory otherwise."""
    with paused():
        return tensor.view(tensor.shape) if tensor._rg else make_tensor(tensor._data)


def propagate(op, inputs, params, result):
    """Called by apply() while a level is active: give ``result`` the tangent its inputs' tangents imply."""
    total = None
    for position, x in enumerate(inputs):
        tangent = _get(x) if isinstance(x, Tensor) else None
        if tangent is None or not (op.varargs or op.differentiable[position]):
            continue
        with paused():  # the rule's own ops must not propagate tangents (that would be a second-order tangent)
            contribution = op.jvp_rule(position)(tangent, result, *inputs, **params)
        total = contribution if total is None else total + contribution
    if total is not None:
        tangent = _fitted(op, total, result)
        _set(result, tangent)
        node = result.grad_fn
        if node is not None and op.saves_out and node.op is op:
            # The node rebuilds its output for its VJP rules in backward: keep the tangent for it, so a
            # backward pass inside this level sees it (forward-over-reverse through exp, tanh, ...).
            node._extras().out_tangent = (state.generation, tangent)


def _fitted(op, tangent, result):
    """The summed tangent as a tensor of the result's shape and dtype."""
    if not isinstance(tangent, Tensor):
        tangent = make_tensor(np.asarray(tangent, dtype=result._data.dtype))
    with paused():
        if tangent.shape != result.shape:
            try:
                tangent = tangent.expand(*result.shape)  # a rule may return a broadcastable tangent
            except RuntimeError:
                raise ShapeError(f"{op.name}: its JVP rule gave a tangent of shape {shape_str(tangent.shape)} for "
                                 f"an output of shape {shape_str(result.shape)}") from None
        if tangent._data.dtype != result._data.dtype:
            tangent = tangent.to(result._data.dtype)
    return tangent
