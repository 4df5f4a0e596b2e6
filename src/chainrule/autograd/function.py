"""Custom autograd Functions: write the forward on Tensors (or arrays) and its backward by hand.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)        # y.grad_fn is <ExpBackward>

PyTorch 2's style works too: ``forward(*args)`` without ctx plus ``setup_context(ctx, inputs, output)``.
``forward`` runs with recording off; one node per call (class ``f"{Fn.__name__}Backward"``) is attached
to the outputs when grad mode is on and an input requires grad. A ``backward`` written with Tensor ops is
itself recorded under ``create_graph=True``, so higher derivatives work; ``@once_differentiable`` is for
backwards that are not (they run under no_grad, and differentiating them again raises).
"""
import functools
import weakref

import numpy as np

from .._errors import GraphError, ShapeError, shape_str
from . import anomaly, forward_ad
from .grad_mode import state as _grad_state
from .graph import FREED_MESSAGE, Node, accumulator, check_versions, next_seq, sums_to

# Bound on first use (importing chainrule._tensor here would be a cycle: it imports chainrule.autograd).
Tensor = None
make_tensor = None


def _bind():
    global Tensor, make_tensor
    from .._tensor import Tensor as _T, make_tensor as _mt
    Tensor, make_tensor = _T, _mt


# ------------------------------------------------------------------------------------------ ctx
class FunctionCtx:
    """The ``ctx`` passed to ``forward``/``setup_context`` and ``backward``: what backward needs to know.
    Any other attribute may be set on it (``ctx.constant = 3``); it lives as long as the graph."""

    def __init__(self):
        self.to_save = None
        self.needs_input_grad = ()
        self.non_differentiable = ()
        self.dirty_tensors = ()
        self.materialize_grads = True
        self._node = None  # weak reference to the graph node, once one is attached

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, outputs or None) for backward; read them back with ``ctx.saved_tensors``,
        which checks that none was changed in place since."""
        _bind() if Tensor is None else None
        for position, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but argument {position} is "
                                f"a {type(t).__name__}; store other values as attributes (ctx.value = ...)")
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep tensors for ``jvp`` (forward mode); read them back there with ``ctx.saved_tensors``."""
        self.saved_for_forward = tensors

    @property
    def saved_tensors(self):
        if getattr(self, "in_jvp", False):
            return tuple(getattr(self, "saved_for_forward", ()))
        node = self._node() if self._node is not None else None
        if node is not None:
            return node.saved_tensors
        if self._node is not None:  # the graph that held them is gone
            raise GraphError(FREED_MESSAGE)
        return tuple(self.to_save or ())

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors):
        """Outputs that get no gradient: they have requires_grad=False (backward still receives a zero
        gradient for each, unless set_materialize_grads(False))."""
        self.non_differentiable = tuple(self.non_differentiable) + tensors

    def mark_dirty(self, *tensors):
        """Inputs that forward changed in place (they must be returned as outputs): the input tensor object
        becomes the output, its version goes up and its history now runs through this Function."""
        self.dirty_tensors = tuple(self.dirty_tensors) + tensors

    def set_materialize_grads(self, value):
        """True (default): an output that got no gradient reaches backward as zeros; False: as None."""
        self.materialize_grads = bool(value)


# ------------------------------------------------------------------------------------------ nodes
class FunctionNode(Node):
    """The graph node of one Function.apply call. Each Function gets a subclass named ``<Fn>Backward``.
    Attributes not found on the node are looked up on its ctx (``y.grad_fn.constant``)."""

    __slots__ = ("ctx", "n_outputs", "metas", "input_metas", "saved", "saved_versions")
    function = None  # the Function subclass (a class attribute of each subclass)

    def __init__(self, ctx):
        self.ctx = ctx
        self.next = ()
        self.extras = None
        self.n_outputs = 1
        self.shape = None
        self.dtype = None
        self.metas = (None,)
        self.input_metas = ()
        self.saved = ()
        self.saved_versions = None

    def __getattr__(self, name):
        try:
            ctx = object.__getattribute__(self, "ctx")
        except AttributeError:
            raise AttributeError(name) from None
        return getattr(ctx, name)

    def output_meta(self, output_nr):
        return self.metas[output_nr]

    def saved_what(self, position):
        return f"saved tensor {position}"

    def release(self):
        if self.saved:
            self.saved = None

    @property
    def saved_tensors(self):
        saved = self.saved
        if saved is None:
            raise GraphError(f"{self.name()}: {FREED_MESSAGE}")
        tensors = tuple(self._unpack(entry) for entry in saved)
        if self.saved_versions is not None:
            check_versions(self, tensors)
        return tensors

    def _unpack(self, entry):
        if entry.__class__ is not tuple:
            return entry  # an input, an intermediate or None: kept as is
        # One of this node's own outputs, kept as its array (a Tensor pointing back here would be a
        # reference cycle); it comes back with this node as grad_fn, so double backward sees through it.
        data, nr, counter = entry
        t = make_tensor(data, self, True)
        t._nr = nr
        t._vc = counter
        return t

    def backward_grads(self, grad, wanted):
        ctx = self.ctx
        grads = [grad] if self.n_outputs == 1 else list(grad)
        if ctx.materialize_grads:
            for nr, g in enumerate(grads):
                meta = self.metas[nr]
                if g is None and meta is not None:
                    grads[nr] = make_tensor(np.zeros(meta[0], meta[1]))
        function = self.function
        backward = function.backward
        if backward is Function.backward and function.vjp is not Function.vjp:
            backward = function.vjp
        result = backward(ctx, *grads)
        return self._check_result(result, wanted)

    def _check_result(self, result, wanted):
        name = self.name()
        fn = self.function.__name__
        if not isinstance(result, (tuple, list)):
            result = (result,)
        n_inputs = len(self.next)
        if len(result) != n_inputs:
            if len(result) > n_inputs and all(g is None for g in result[n_inputs:]):
                result = result[:n_inputs]
            else:
                raise GraphError(
                    f"function {name} returned an incorrect number of gradients (expected {n_inputs}, got "
                    f"{len(result)}): {fn}.backward must return one value per argument of {fn}.forward "
                    f"({n_inputs} here), None for the arguments that need no gradient")
        grads = []
        for position, (g, edge, want) in enumerate(zip(result, self.next, wanted)):
            if g is None:
                grads.append(None)
                continue
            meta = self.input_metas[position]
            if meta is None:
                raise GraphError(
                    f"function {name} returned a gradient different than None at position {position} (counting "
                    f"from 0), but the corresponding argument of {fn}.forward was not a Tensor; return None for it")
            if not isinstance(g, Tensor):
                raise TypeError(f"function {name} returned a {type(g).__name__} as the gradient of input "
                                f"{position}; {fn}.backward must return Tensors (or None)")
            if edge is None or not want:
                grads.append(None)  # that input needs no gradient: ignore what was computed for it
                continue
            shape = meta[0]
            got = g._data.shape
            if got != shape and not sums_to(got, shape):
                raise ShapeError(
                    f"function {name} returned an invalid gradient at index {position} - got {shape_str(got)} "
                    f"but expected shape compatible with {shape_str(shape)} (the shape of input {position} of "
                    f"{fn}.forward)")
            grads.append(g)
        return grads


class DelayedError(Node):
    """Attached by @once_differentiable to the gradients it returns under create_graph: differentiating
    through them raises (the backward that made them was not recorded)."""

    __slots__ = ("message", "n_outputs", "metas")

    def __init__(self, message, edges, metas):
        self.message = message
        self.next = tuple(edges)
        self.extras = None
        self.n_outputs = len(metas)
        self.metas = metas
        self.shape, self.dtype = metas[0] if metas[0] is not None else (None, None)
        self.seq = next_seq()

    def output_meta(self, output_nr):
        return self.metas[output_nr]

    def backward_grads(self, grad, wanted):
        raise GraphError(self.message)


# ------------------------------------------------------------------------------------------ Function
class Function:
    """Base class of custom differentiable operations. Subclass it with static ``forward`` and ``backward``
    and call ``MyFn.apply(*args)`` (never an instance)."""

    _backward_cls = FunctionNode

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(f"{cls.__name__}Backward", (FunctionNode,),
                                 {"__slots__": (), "function": cls, "__module__": cls.__module__})

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            f"autograd function with static forward method: call {type(self).__name__}.apply(...) on the class, "
            "with forward and backward declared @staticmethod.")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD: jvp(ctx, *tangents) returns the outputs' tangents.")

    @classmethod
    def apply(cls, *args, **kwargs):
        if Tensor is None:
            _bind()
        if cls is Function:
            raise TypeError("Function.apply: subclass Function and call apply on the subclass")
        new_style = cls.setup_context is not Function.setup_context
        if new_style and kwargs:
            import inspect
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = tuple(bound.args), dict(bound.kwargs)
        ctx = FunctionCtx()
        is_tensor = [isinstance(a, Tensor) for a in args]
        ctx.needs_input_grad = tuple(t and a._rg for a, t in zip(args, is_tensor))
        recording = _grad_state.enabled and any(ctx.needs_input_grad)
        previous = _grad_state.enabled
        _grad_state.enabled = False
        try:
            if new_style:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        finally:
            _grad_state.enabled = previous

        node = None
        if recording:
            node = cls._backward_cls(ctx)
            node.next = tuple(
                ((a.grad_fn, a._nr) if a.grad_fn is not None else (accumulator(a), 0)) if t and a._rg else None
                for a, t in zip(args, is_tensor))
            node.input_metas = tuple((a._data.shape, a._data.dtype) if t else None for a, t in zip(args, is_tensor))
            node.seq = next_seq()  # after the edges: see graph.Node.seq
            ctx._node = weakref.ref(node)
        output = _wrap_outputs(cls, ctx, node, args, is_tensor, output)
        if node is not None and anomaly.enabled:
            anomaly.record_creation(node)
        if forward_ad.state.active:
            _forward_tangents(cls, ctx, args, is_tensor, output)
        return output


def _forward_tangents(cls, ctx, args, is_tensor, output):
    """Forward mode through a custom Function: its ``jvp(ctx, *input_tangents)`` gives the outputs' tangents."""
    tangents = [forward_ad.tangent_of(a) if t else None for a, t in zip(args, is_tensor)]
    if all(t is None for t in tangents):
        return
    if cls.jvp is Function.jvp:
        raise NotImplementedError(f"{cls.__name__}: forward-mode AD (a dual tensor is an input) needs a "
                                  f"@staticmethod jvp(ctx, *tangents) on {cls.__name__}")
    ctx.in_jvp = True
    try:
        with forward_ad.paused():
            result = cls.jvp(ctx, *tangents)
    finally:
        ctx.in_jvp = False
    outs = output if isinstance(output, tuple) else (output,)
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(outs):
        raise GraphError(f"{cls.__name__}.jvp returned {len(results)} tangents for {len(outs)} outputs; return one "
                         "per output of forward")
    for o, t in zip(outs, results):
        if t is not None and isinstance(o, Tensor):
            if t.shape != o.shape:
                raise ShapeError(f"{cls.__name__}.jvp returned a tangent of shape {shape_str(t.shape)} for an output "
                                 f"of shape {shape_str(o.shape)}")
            forward_ad.set_tangent(o, t)


def _wrap_outputs(cls, ctx, node, args, is_tensor, output):
    """Attach ``node`` to the outputs (PyTorch's rules for dirty, non-differentiable and returned inputs)
    and pack the saved tensors."""
    is_tuple = isinstance(output, tuple)
    outs = list(output) if is_tuple else [output]
    inputs = {id(a): i for i, (a, t) in enumerate(zip(args, is_tensor)) if t}
    dirty = {id(t): t for t in ctx.dirty_tensors}
    non_diff = {id(t) for t in ctx.non_differentiable}
    returned = {id(o) for o in outs if isinstance(o, Tensor)}
    for t in dirty.values():
        if id(t) not in returned:
            raise GraphError(f"{cls.__name__}.forward: some tensors marked as dirty (mark_dirty) were not returned "
                             "as outputs; the inputs that are modified in place must all be outputs of the Function")
    for t in ctx.non_differentiable:
        if id(t) not in returned:
            raise GraphError(f"{cls.__name__}.forward: mark_non_differentiable only accepts output tensors; one of "
                             "the tensors passed to it was not returned by forward")
    metas = [None] * len(outs)
    own = {}  # id of an output tensor object -> its output number (for saved tensors that are outputs)
    for nr, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        metas[nr] = (o._data.shape, o._data.dtype)
        oid = id(o)
        differentiable = node is not None and oid not in non_diff and o._data.dtype.kind in "fc"
        if oid in dirty and oid not in own:
            _mark_modified(cls, o, node is not None)
        elif oid in inputs or oid in own or o.grad_fn is not None or o._rg:
            # An input returned as it is (or a tensor with a history of its own): PyTorch returns a new
            # tensor viewing the same memory, so the input keeps its own graph.
            view = make_tensor(o._data)
            if o._vc is None:
                o._vc = [0]
            view._vc = o._vc
            if oid in inputs:
                view._base = o
            outs[nr] = o = view
            oid = id(view)
        elif o._meta is not None:  # e.g. "computed under no_grad": no longer true once the node is attached
            if o._meta.shared:
                o._meta = None
            else:
                o._meta.cut = None
        if differentiable:
            o.grad_fn = node
            o._nr = nr
            o._rg = True
            own[oid] = nr
        elif oid in dirty and node is not None and o._rg:
            o.grad_fn, o._nr, o._rg = None, 0, False  # a dirty output marked non-differentiable
    if node is not None:
        if len(outs) != 1:
            node.n_outputs = len(outs)
        node.metas = tuple(metas)
        node.shape, node.dtype = metas[0] if metas[0] is not None else (None, None)
        _pack_saved(node, ctx, own)
    if is_tuple:
        return tuple(outs)
    return outs[0]


def _mark_modified(cls, t, recording):
    """An input changed in place by forward (mark_dirty): check it may be, and bump its version."""
    if recording and t._rg and t.grad_fn is None:
        raise GraphError(f"{cls.__name__}: a leaf Variable that requires grad has been used in an in-place operation "
                         "(mark_dirty). Apply the Function to a .clone() of it, or run it under no_grad().")
    if recording and t._base is not None and (t._rg or t._base._rg):
        raise GraphError(f"{cls.__name__}: in-place changes (mark_dirty) of a view of a tensor that requires grad are "
                         "not supported; apply the Function to a .clone() instead.")
    t._bump_version(f"{cls.__name__}.apply (mark_dirty)")  # always, as PyTorch (on top of the in-place op's)


def _pack_saved(node, ctx, own):
    to_save = ctx.to_save
    if not to_save:
        node.saved = ()
        return
    saved = []
    versions = []
    for t in to_save:
        if t is None:
            saved.append(None)
            versions.append(0)
            continue
        if t._vc is None:
            t._vc = [0]
        counter = t._vc
        nr = own.get(id(t))
        saved.append((t._data, nr, counter) if nr is not None else t)
        versions.append(counter[0])
    node.saved = tuple(saved)
    node.saved_versions = versions
    ctx.to_save = None  # the node holds them now (and frees them after backward)


# ------------------------------------------------------------------------------------------ once_differentiable
ONCE_MESSAGE = "trying to differentiate twice a function that was marked with @once_differentiable"


def once_differentiable(fn):
    """Decorate a ``backward`` that is not itself differentiable (it uses NumPy, in-place ops, …): it runs
    under no_grad, and if a graph of the backward pass was asked for (create_graph=True), differentiating
    its results again raises instead of silently giving wrong higher derivatives."""

    @functools.wraps(fn)
    def wrapper(ctx, *grad_outputs):
        previous = _grad_state.enabled
        _grad_state.enabled = False
        try:
            outputs = fn(ctx, *grad_outputs)
        finally:
            _grad_state.enabled = previous
        if not previous:
            return outputs
        is_tuple = isinstance(outputs, (tuple, list))
        results = list(outputs) if is_tuple else [outputs]
        node = ctx._node() if getattr(ctx, "_node", None) is not None else None
        name = node.name() if node is not None else "a custom Function"
        edges = list(node.next) if node is not None else []
        edges += [(g.grad_fn, g._nr) if g.grad_fn is not None else (accumulator(g), 0)
                  for g in grad_outputs if isinstance(g, Tensor) and g._rg]
        metas = [(r._data.shape, r._data.dtype) if isinstance(r, Tensor) else None for r in results]
        if not any(m is not None and m[1].kind in "fc" for m in metas):
            return outputs
        error = DelayedError(f"{ONCE_MESSAGE} ({name}); its backward is not recorded, so it has no derivative. "
                             "Remove @once_differentiable and write backward with differentiable Tensor ops to get "
                             "higher-order gradients.", [e for e in edges if e is not None], metas)
        for i, r in enumerate(results):
            if isinstance(r, Tensor) and r._data.dtype.kind in "fc":
                marked = make_tensor(r._data, error, True)
                marked._nr = i
                results[i] = marked
        return tuple(results) if is_tuple else results[0]

    return wrapper
