"""Activation checkpointing: trade compute for memory (PyTorch's ``torch.utils.checkpoint``).

Reverse mode keeps every intermediate value that a backward rule needs until backward reaches it. A
checkpointed function keeps only its inputs: its intermediates are dropped after the forward and
recomputed during backward, just before they are needed (one extra forward of that function).

    y = checkpoint(block, x)                           # block's intermediates are not kept
    y = checkpoint_sequential(model, "auto", x)        # about sqrt(n) checkpointed segments

Two implementations, chosen by ``use_reentrant`` (as in PyTorch; ``None`` means False here, PyTorch's
recommendation, where PyTorch still warns and defaults to True):

- ``use_reentrant=False``: the forward runs with grad on, so the graph tells which tensors the function
  depends on, including parameters it reaches through a closure or a module; that graph is then cut down
  to one ``CheckpointBackward`` node whose edges lead to the inputs and to those tensors, keeping only the
  inputs. Backward recomputes and sends gradients along those edges, so ``backward()``,
  ``backward(inputs=...)``, ``autograd.grad`` (to inputs or to parameters), hooks and ``create_graph``
  (higher derivatives) all behave as without checkpointing.
- ``use_reentrant=True``: the forward runs under no_grad; backward recomputes and calls ``backward()`` on
  the recomputed graph, which accumulates into every leaf it reaches. As PyTorch's, it works with
  ``.backward()`` only (not ``autograd.grad``, ``backward(inputs=...)`` or ``create_graph``), takes no
  keyword arguments for the function, and gradients reach parameters only if an input requires grad.
"""
import math

import numpy as np

from .. import _factories
from .._errors import GraphError
from .._tensor import Tensor, make_tensor
from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, state as _grad_state
from ..autograd import forward_ad
from ..autograd.graph import AccumulateGrad, accumulator, next_seq

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, keeping only its inputs for backward and recomputing the rest there.

    ``preserve_rng_state``: the recomputation sees the random state the forward saw (dropout draws the
    same mask); False skips saving it (then random ops draw differently in the recomputation).
    Returns what ``function`` returns: a Tensor or a tuple/list of values, at least one of them a Tensor.
    """
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    reentrant = bool(use_reentrant)  # None: the non-reentrant version (see the module docstring)
    if reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs) + " (use_reentrant=True passes only "
                         "positional arguments to the function; use use_reentrant=False to pass keywords)")
    if not _grad_state.enabled or forward_ad.state.active:
        # Nothing is recorded (no_grad, inference_mode) or forward-mode tangents must flow: plain call.
        return _checked(function(*args, **kwargs))
    spec = _Spec(function, args, kwargs, preserve_rng_state)
    if reentrant:
        return _reentrant(spec)
    return _non_reentrant(spec)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, preserve_rng_state=True):
    """Run modules/callables one after another, in ``segments`` chunks, each chunk but the last checkpointed.

    ``functions``: a ``Sequential`` (its children), or a list of modules/callables each taking one input.
    ``segments="auto"`` picks ``round(sqrt(n))`` for n functions: with k segments, backward holds the k
    segment inputs plus the intermediates of one segment being recomputed, about n/k + k values, which is
    smallest at k = sqrt(n) (2 sqrt(n) instead of n). The price is one more forward of the first k-1
    segments. As in PyTorch, the last segment (what is left after k-1 segments of n // k) is not
    checkpointed: its backward comes first, so recomputing it would save nothing.
    """
    children = getattr(functions, "children", None)
    functions = list(children()) if callable(children) else list(functions)
    n = len(functions)
    if n == 0:
        raise ValueError("checkpoint_sequential: functions is empty; pass a Sequential or a list of at least one "
                         "module or callable")
    for i, f in enumerate(functions):
        if not callable(f):
            raise TypeError(f"checkpoint_sequential: functions[{i}] is a {type(f).__name__}, not a module or callable")
    if segments == "auto":
        segments = auto_segments(n)
    if isinstance(segments, bool) or not isinstance(segments, (int, np.integer)) or not 1 <= segments <= n:
        raise ValueError(f"checkpoint_sequential: segments must be an integer from 1 to the number of functions "
                         f"({n}) or 'auto', got {segments!r}")
    size = n // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(_Segment(functions[start:end]), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve_rng_state)
    return _Segment(functions[end:])(input)


def auto_segments(n):
    """The number of segments ``segments="auto"`` uses for ``n`` functions: round(sqrt(n)), at least 1."""
    return max(1, min(n, round(math.sqrt(n))))


class _Segment:
    """Some of checkpoint_sequential's functions, applied in turn."""

    def __init__(self, functions):
        self.functions = functions

    def __call__(self, x):
        for f in self.functions:
            x = f(x)
        return x


# ------------------------------------------------------------------------------------------ shared
class _Spec:
    """What backward needs to run the function again: the function, its non-tensor arguments, the RNG state."""

    def __init__(self, function, args, kwargs, preserve_rng_state):
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.rng_state = _factories.default_generator().bit_generator.state if preserve_rng_state else None
        self.structure = None  # how the output was packed (see _flatten)
        self.diff = ()  # positions of the outputs that carry the graph
        self.closure = ()  # tensors reached outside the inputs (non-reentrant)

    def rerun(self, inputs):
        """Run the function again on ``inputs`` (the tensor arguments) with grad on and the forward's RNG state."""
        args = list(self.args)
        for position, t in zip(self.tensor_positions, inputs):
            args[position] = t
        with enable_grad(), _RngRestored(self.rng_state):
            output = self.function(*args, **self.kwargs)
        return _flatten(output)[0]


class _RngRestored:
    """Set the global generator to ``state`` for the block, then put back the state it had (None: no-op)."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            generator = _factories.default_generator()
            self.previous = generator.bit_generator.state
            generator.bit_generator.state = self.state

    def __exit__(self, *exc):
        if self.state is not None:
            _factories.default_generator().bit_generator.state = self.previous


def _flatten(output):
    """(list of values, structure): a Tensor, or a tuple/list whose items are returned as given."""
    if isinstance(output, (tuple, list)):
        return list(output), type(output)
    return [output], None


def _unflatten(values, structure):
    return values[0] if structure is None else structure(values)


def _checked(output):
    values, _ = _flatten(output)
    if not any(isinstance(v, Tensor) for v in values):
        raise TypeError(f"checkpoint: the function returned {type(output).__name__}, with no Tensor in it; it "
                        "must return a Tensor or a tuple/list containing at least one (checkpointing a function "
                        "without tensor outputs saves nothing)")
    return output


def _alias(t):
    """A new leaf on the same memory (and version counter) as ``t``, requiring grad as ``t`` does."""
    out = make_tensor(t._data, requires_grad=t._rg)
    if t._vc is None:
        t._vc = [0]
    out._vc = t._vc
    return out


def _outer_run():
    """(targets, capture) of the backward pass that is running this node's backward (the engine publishes it
    in the grad-mode state), or None outside one: targets None and capture False mean a plain ``backward()``,
    where every leaf reached gets its gradient in ``.grad``."""
    return _grad_state.backward_pass


def _plain_backward():
    mode = _outer_run()
    return mode is not None and mode[0] is None and not mode[1]


def _recomputed(spec, outputs, grads, strict=True):
    """The recomputed outputs that received a gradient, with those gradients (checked against the forward).
    Not ``strict`` (reentrant): outputs that do not require grad are skipped, as PyTorch's reentrant version."""
    roots, root_grads = [], []
    for position, meta, g in zip(spec.diff, spec.metas, grads):
        if g is None:
            continue
        out = outputs[position] if position < len(outputs) else None
        if not strict and isinstance(out, Tensor) and not out._rg and (out.shape, out._data.dtype) == meta:
            continue
        if not isinstance(out, Tensor) or not out._rg or (out.shape, out._data.dtype) != meta:
            raise GraphError(
                f"checkpoint: recomputing {_name(spec.function)} in backward gave a different output {position} "
                f"than the forward ({_describe(out)} instead of a tensor of shape {tuple(meta[0])} and dtype "
                f"{meta[1]} that requires grad); the function must compute the same thing each time it runs "
                "(keep preserve_rng_state=True for random ops, do not depend on global state that changes)")
        roots.append(out)
        root_grads.append(g)
    return roots, root_grads


def _describe(value):
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}, {value._data.dtype}, requires_grad={value._rg}"
    return type(value).__name__


def _name(function):
    return getattr(function, "__qualname__", None) or type(function).__name__


# ------------------------------------------------------------------------------------------ non-reentrant
def _non_reentrant(spec):
    args = spec.args
    aliases = [_alias(args[i]) for i in spec.tensor_positions]
    call_args = list(args)
    for position, alias in zip(spec.tensor_positions, aliases):
        call_args[position] = alias
    start = next_seq()  # every node made by the function has a larger seq
    output = _checked(spec.function(*call_args, **spec.kwargs))
    values, spec.structure = _flatten(output)
    del output
    spec.diff = tuple(i for i, v in enumerate(values) if isinstance(v, Tensor) and v._rg)
    if not spec.diff:
        return _unflatten(values, spec.structure)  # nothing requires grad: no graph was kept
    spec.metas = tuple((values[i].shape, values[i]._data.dtype) for i in spec.diff)
    edges = _boundary([values[i] for i in spec.diff], start)
    own = {alias._acc() for alias in aliases if alias._acc is not None}  # the inputs' edges: not closure
    spec.closure = _closure_tensors(edges, own)
    spec.nonleaf_closure = any(t.grad_fn is not None for t in spec.closure)
    spec.fresh = [make_tensor(values[i]._data) for i in spec.diff]  # the same arrays, without the graph
    results = Checkpoint.apply(spec, *args, *spec.closure)
    if len(spec.diff) == 1:
        results = (results,)
    for i, r in zip(spec.diff, results):
        values[i] = r  # the recorded graph goes with the original outputs
    return _unflatten(values, spec.structure)


def _boundary(outputs, start):
    """The edges (node, output_nr) by which the graph recorded since ``start`` leaves it: leaves and older nodes."""
    edges = {}
    stack = []
    for out in outputs:
        if out.grad_fn is None:  # a leaf returned as it is (an input or a parameter)
            edges[(accumulator(out), 0)] = None
        elif out.grad_fn.seq < start:  # a tensor from outside returned as it is
            edges[(out.grad_fn, out._nr)] = None
        else:
            stack.append(out.grad_fn)
    seen = set(stack)
    while stack:
        for edge in stack.pop().next:
            if edge is None:
                continue
            node = edge[0]
            if node.__class__ is AccumulateGrad or node.seq < start:
                edges[edge] = None
            elif node not in seen:
                seen.add(node)
                stack.append(node)
    return list(edges)


def _closure_tensors(edges, own):
    """A tensor for each boundary edge that is not an input's: the leaf itself, or a stand-in carrying the edge."""
    tensors = []
    for node, nr in edges:
        if node in own:
            continue
        if node.__class__ is AccumulateGrad:
            tensors.append(node.variable)
        else:
            shape, dtype = node.output_meta(nr)
            stand_in = make_tensor(np.broadcast_to(np.zeros((), dtype), shape), node, True)  # no memory
            stand_in._nr = nr
            tensors.append(stand_in)
    return tensors


class Checkpoint(Function):
    """One node for the whole checkpointed call: edges to the inputs and to the closure's tensors."""

    @staticmethod
    def forward(ctx, spec, *inputs):
        ctx.spec = spec
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(*[spec.args[i] for i in spec.tensor_positions], *spec.closure)
        spec.args = tuple(None if isinstance(a, Tensor) else a for a in spec.args)  # tensors live in saved
        spec.closure = ()
        fresh, spec.fresh = spec.fresh, None
        return fresh[0] if len(fresh) == 1 else tuple(fresh)

    @staticmethod
    def backward(ctx, *grads):
        spec = ctx.spec
        saved = ctx.saved_tensors  # raises if an input was changed in place since the forward
        n_args = len(spec.tensor_positions)
        inputs, closure = saved[:n_args], saved[n_args:]
        result = [None] * (1 + len(spec.args) + len(closure))
        if all(g is None for g in grads):
            return tuple(result)
        create_graph = _grad_state.enabled  # the engine turns recording on in backward only for create_graph
        with enable_grad():
            # create_graph: the new inputs must stay connected to the old ones (a view adds that edge).
            fresh = [t.view_as(t) if create_graph and t._rg else _alias(t) for t in inputs]
        leaves = [t for t in closure if t.grad_fn is None]
        # Not under create_graph: the graph of the gradients outlives this call and must reach the leaves' own nodes.
        with _FreshAccumulators([] if create_graph else leaves):
            roots, root_grads = _recomputed(spec, spec.rerun(fresh), grads)
            got = _gradients(roots, root_grads, [t for t in fresh if t._rg], closure, leaves, create_graph,
                             create_graph or spec.nonleaf_closure)  # keep: stand-ins lead to nodes outside
        for position, t in zip(spec.tensor_positions, fresh):
            result[1 + position] = got.get(id(t))
        for k, t in enumerate(closure):
            result[1 + len(spec.args) + k] = got.get(id(t))
        return tuple(result)


def _gradients(roots, root_grads, fresh, closure, leaves, create_graph, keep):
    """{id(tensor): gradient} for the fresh inputs and the closure's tensors, from the recomputed graph."""
    if _plain_backward():
        # A plain backward() puts every leaf's gradient into .grad anyway: let the recomputed graph do it
        # for the parameters, one at a time, rather than holding them all to return them at once.
        others = fresh + [t for t in closure if t.grad_fn is not None]
        engine.backward(roots, root_grads, retain_graph=keep, create_graph=create_graph, inputs=others + leaves)
        got = {id(t): t._grad for t in others}
        for t in closure:
            if t.grad_fn is not None:
                t._grad = None  # a stand-in: its gradient goes back along its edge
        return got
    wanted = fresh + list(closure)
    result = engine.grad(roots, wanted, root_grads, retain_graph=keep, create_graph=create_graph, allow_unused=True)
    return {id(t): g for t, g in zip(wanted, result)}


class _FreshAccumulators:
    """Give the closure's leaves new AccumulateGrad nodes while the recomputed graph runs.

    The engine runs nodes newest first; the leaves' nodes from the forward are older than everything
    recomputed, so each gradient would wait, held in memory, until the whole recomputed graph has run.
    New nodes, made during the recomputation, run as soon as their gradients are complete."""

    def __init__(self, leaves):
        self.leaves = leaves

    def __enter__(self):
        self.previous = [t._acc for t in self.leaves]
        for t in self.leaves:
            t._acc = None

    def __exit__(self, *exc):
        for t, ref in zip(self.leaves, self.previous):
            t._acc = ref


# ------------------------------------------------------------------------------------------ reentrant
def _reentrant(spec):
    args = spec.args
    tensors = [args[i] for i in spec.tensor_positions]
    if not any(t._rg for t in tensors):
        import warnings
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None (with use_reentrant=True, "
                      "parameters used inside the function get gradients only through inputs that require grad; "
                      "use use_reentrant=False)", UserWarning, stacklevel=3)
    results = CheckpointFunction.apply(spec, *args)
    values = list(results) if isinstance(results, tuple) else [results]
    return _unflatten(values, spec.structure)


class CheckpointFunction(Function):
    """Forward under no_grad; backward recomputes and runs backward() inside the outer backward."""

    @staticmethod
    def forward(ctx, spec, *args):
        ctx.spec = spec
        ctx.set_materialize_grads(False)
        values, spec.structure = _flatten(_checked(spec.function(*args)))
        spec.diff = tuple(i for i, v in enumerate(values) if isinstance(v, Tensor) and v._data.dtype.kind in "fc")
        spec.metas = tuple((values[i].shape, values[i]._data.dtype) for i in spec.diff)
        ctx.save_for_backward(*[args[i] for i in spec.tensor_positions])
        spec.args = tuple(None if isinstance(a, Tensor) else a for a in args)
        return tuple(values) if len(values) != 1 else values[0]

    @staticmethod
    def backward(ctx, *grads):
        spec = ctx.spec
        if _grad_state.enabled:
            raise GraphError("checkpoint with use_reentrant=True does not support create_graph=True (higher "
                             "derivatives); use use_reentrant=False")
        mode = _outer_run()
        if mode is not None and (mode[0] is not None or mode[1]):
            raise GraphError("When use_reentrant=True, chainrule.utils.checkpoint is incompatible with .grad() or "
                             "passing an `inputs` parameter to .backward(). To resolve this error, you can either "
                             "set use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        grads = [grads[i] for i in spec.diff]
        if all(g is None for g in grads):
            return (None,) * (1 + len(spec.args))
        inputs = ctx.saved_tensors
        fresh = [_alias(t) for t in inputs]
        outputs = spec.rerun(fresh)
        roots, root_grads = _recomputed(spec, outputs, grads, strict=False)
        if not roots:
            raise GraphError("checkpoint: none of output has requires_grad=True, this checkpoint() is not necessary "
                             "(use_reentrant=True: the outputs do not depend on an input that requires grad)")
        engine.backward(roots, root_grads)  # accumulates into the parameters' .grad and the fresh inputs'
        result = [None] * (1 + len(spec.args))
        for position, t in zip(spec.tensor_positions, fresh):
            result[1 + position] = t._grad if t._rg else None
        return tuple(result)
