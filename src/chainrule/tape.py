"""TensorFlow's ``tf.GradientTape``, on chainrule's reverse-mode engine.

    x = chainrule.tensor(3.0, requires_grad=True)    # a "variable": watched automatically
    with chainrule.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)                               # tensor(6.)

How a tape maps onto chainrule's graph
--------------------------------------
chainrule records every operation applied to tensors that require grad, tape or no tape; a tape decides
which of those operations *it* recorded. Every graph node has a creation number (``node.seq``). The tape
notes the numbers at which it starts and stops recording (entering and leaving ``with``,
``stop_recording()``, ``reset()``), and, as in TensorFlow, an operation counts as recorded by the tape
when its node was made while the tape was recording *and* one of its inputs was watched:

- a leaf that requires grad (chainrule's variable: ``tensor(..., requires_grad=True)``, ``nn.Parameter``)
  is watched as soon as a recorded operation uses it (``watch_accessed_variables=True``, the default);
- ``tape.watch(t)`` watches any tensor from then on. A tensor that does not require grad (TensorFlow's
  constant) is made to, ``requires_grad_()``, while the tape's ``with`` block runs, so that operations
  on it build a graph; when the block ends it is given back as it was (and made differentiable again
  for the moment a gradient needs it);
- the output of a recorded operation is watched.

``gradient`` walks the graph below the target through recorded operations only: gradients do not flow
into operations made before the block or while recording was stopped, nor into tensors that were never
watched. A source that no such path reaches is *unconnected*: None, or zeros with
``unconnected_gradients="zero"``. The numbers come from ``chainrule.autograd.grad``; for the duration of
that call the edges below the unrecorded operations where the walk stops are cut (and put back after),
so the engine neither computes what would be thrown away nor touches graphs freed long ago. When any tape
is recording at the time (a persistent tape asked inside its own block, or an outer tape), the gradient
is computed with ``create_graph=True``: it is recorded like any other operation, which is what gives
second derivatives through nested tapes.

What differs from TensorFlow: ``watched_variables()`` knows the variables that recorded operations used
once ``gradient`` or ``jacobian`` has walked the graph (before that, only the tensors passed to
``watch``), since chainrule's operations do not report to tapes as they run; and a tensor that a tape
watched requires grad inside the block (``.numpy()`` on results then needs ``.detach()`` first, as
always in chainrule).
"""
import contextlib
import enum
import threading
import warnings

import numpy as np

from ._errors import ShapeError, shape_str
from ._tensor import Tensor, make_tensor
from .autograd import engine
from .autograd.grad_mode import no_grad, state as _grad_state
from .autograd.graph import AccumulateGrad, accumulator, next_seq

__all__ = ["GradientTape", "UnconnectedGradients"]

NON_PERSISTENT_MESSAGE = ("A non-persistent GradientTape can only be used to compute one set of gradients "
                          "(or jacobians)")
PERSISTENT_INSIDE_CONTEXT = (
    "Calling GradientTape.gradient on a persistent tape inside its context is significantly less efficient "
    "than calling it outside the context (it causes the gradient ops to be recorded on the tape, leading to "
    "increased CPU and memory usage). Only call GradientTape.gradient inside the context if you actually "
    "want to trace the gradient in order to compute higher order derivatives.")


class UnconnectedGradients(enum.Enum):
    """What a tape returns for a source the target does not depend on: None, or zeros of its shape."""

    NONE = "none"
    ZERO = "zero"


class _TapeState(threading.local):
    def __init__(self):
        self.recording = []  # the tapes recording in this thread, innermost last


_local = _TapeState()

# Tensors that did not require grad and that tapes made differentiable while they watch them:
# id -> [tensor, number of tapes holding it]. The last tape to let go sets requires_grad back to False.
_held = {}


def _is_variable(leaf):
    """A leaf that requires grad of its own accord (not only because a tape watches it)."""
    return leaf._rg and id(leaf) not in _held


def _hold(tensor):
    """Make a plain (requires_grad=False) floating tensor differentiable; False if there was nothing to do."""
    entry = _held.get(id(tensor))
    if entry is not None:
        entry[1] += 1
        return True
    if tensor._rg or tensor.grad_fn is not None or tensor._data.dtype.kind not in "fc":
        return False
    tensor.requires_grad_()
    _held[id(tensor)] = [tensor, 1]
    return True


def _release(tensor):
    entry = _held.get(id(tensor))
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[id(tensor)]
        if tensor.grad_fn is None and tensor._rg:
            tensor.requires_grad_(False)


class GradientTape:
    """Record operations for automatic differentiation, as TensorFlow's ``tf.GradientTape``.

    ``persistent``: allow more than one ``gradient``/``jacobian`` call (TensorFlow's tapes are used up by
    the first one otherwise). ``watch_accessed_variables``: watch the tensors that require grad as soon as
    a recorded operation uses them; with False only ``watch`` decides.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._alive = False     # TensorFlow's `self._tape is not None`: entered, and not used up since
        self._used_up = False   # a non-persistent tape after its gradient or jacobian
        self._in_block = False  # between __enter__ and __exit__
        self._recording = False
        self._grad_mode = True
        self._fresh()

    def _fresh(self):
        self._spans = []      # [start, end] node numbers of the recording periods; end None while recording
        self._watched = {}    # id -> (tensor, node number when it was watched), in watch order
        self._plain = {}      # id -> watched tensor made differentiable for this tape
        self._holding = {}    # id -> tensor this tape holds differentiable now (see _hold)
        self._accessed = {}   # id -> variable found used by a recorded operation

    # ------------------------------------------------------------------------------------ recording
    def __enter__(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an already-active "
                             "tape.")
        if self._in_block:
            raise ValueError("GradientTape: this tape's `with` block is already open; enter a tape once at a "
                             "time (nest different tapes for higher derivatives)")
        if not self._alive:  # new, or used up: a new tape (TensorFlow's re-entry of a used tape does the same)
            self._fresh()
            self._alive, self._used_up = True, False
        self._in_block = True
        self._grad_mode = _grad_state.enabled
        _grad_state.enabled = True  # a tape records, whatever the grad mode around it
        for tensor in self._plain.values():
            self._take(tensor)
        self._start()
        return self

    def __exit__(self, *exc):
        if self._recording:
            self._stop()
        self._in_block = False
        self._let_go()
        _grad_state.enabled = self._grad_mode
        return False

    def _start(self):
        self._spans.append([next_seq(), None])
        self._recording = True
        _local.recording.append(self)

    def _stop(self):
        self._spans[-1][1] = next_seq()
        self._recording = False
        stack = _local.recording
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self:
                del stack[i]
                break

    def _take(self, tensor):
        if id(tensor) not in self._holding and _hold(tensor):
            self._holding[id(tensor)] = tensor

    def _let_go(self):
        holding, self._holding = self._holding, {}
        for tensor in holding.values():
            _release(tensor)

    @contextlib.contextmanager
    def stop_recording(self):
        """Operations inside are not recorded by this tape (``chainrule.no_grad`` when no other tape is
        recording; tapes around this one keep recording, as in TensorFlow)."""
        if not self._alive:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        if not self._recording:
            raise ValueError("Tape is not recording. (stop_recording works inside the tape's `with` block, "
                             "and not inside another stop_recording of the same tape.)")
        self._stop()
        try:
            with no_grad() if not _local.recording else contextlib.nullcontext():
                yield
        finally:
            if self._in_block:
                if not self._alive:  # used up inside: TensorFlow goes on with a new tape
                    self._let_go()
                    self._fresh()
                    self._alive, self._used_up = True, False
                self._start()

    def reset(self):
        """Forget everything recorded and watched so far, as if the block were left and a new tape entered."""
        if not self._recording:
            raise ValueError("Tape is not recording. (reset works inside the tape's `with` block, outside "
                             "stop_recording().)")
        self._stop()
        self._let_go()
        self._fresh()
        self._alive, self._used_up = True, False
        self._start()

    def watch(self, tensor):
        """Watch a tensor (or a list/tuple/dict of them): operations applied to it from now on are recorded."""
        tensors = _flatten(tensor, "GradientTape.watch", "tensor")
        if not self._alive:
            self._raise_not_alive("watch")
        for t in tensors:
            if t._data.dtype.kind not in "fc":
                warnings.warn(f"The dtype of the watched tensor must be floating (e.g. chainrule.float32), got "
                              f"{t.dtype}; its gradients will be None", UserWarning, stacklevel=2)
            if id(t) in self._watched:
                continue
            self._watched[id(t)] = (t, next_seq())
            if t.grad_fn is None and not _is_variable(t) and t._data.dtype.kind in "fc":
                self._plain[id(t)] = t
                if self._in_block:
                    self._take(t)

    def watched_variables(self):
        """The tensors watched: those passed to ``watch``, then the variables (leaves that require grad)
        that recorded operations used, as far as ``gradient``/``jacobian`` have walked the graph."""
        found = {key: t for key, (t, _) in self._watched.items()}
        for key, t in self._accessed.items():
            found.setdefault(key, t)
        return tuple(found.values())

    # ------------------------------------------------------------------------------------ gradients
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d target / d sources: the gradient of the sum of ``target`` (a tensor, or a list/tuple/dict of
        them, all summed) weighted by ``output_gradients``, for each tensor of ``sources`` (a tensor, a
        list/tuple/dict of them, nested as you like, or an iterator: the result has the same structure,
        a list for an iterator)."""
        mode = _unconnected_mode(unconnected_gradients)
        self._check_alive("gradient")
        sources = _materialize(sources)
        targets = _flatten(target, "GradientTape.gradient", "target")
        flat_sources = _flatten(sources, "GradientTape.gradient", "sources")
        seeds = _output_gradients(output_gradients, target, targets)
        self._begin_computation()
        grads = self._gradients(targets, flat_sources, seeds, mode)
        if not self.persistent:
            self._use_up()
        return _pack(sources, iter(grads))

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """d target[i...] / d source[j...] for each source: shape ``target.shape + source.shape``.
        ``parallel_iterations`` is accepted and ignored (rows are computed one after another)."""
        mode = _unconnected_mode(unconnected_gradients)
        self._check_alive("jacobian")
        _check_single(target, "GradientTape.jacobian", "target")
        sources = _materialize(sources)
        flat_sources = _flatten(sources, "GradientTape.jacobian", "sources")
        if not experimental_use_pfor and not self.persistent:
            raise RuntimeError("GradientTape must be created with persistent=True to compute the jacobian with "
                               "eager execution enabled and with experimental_use_pfor set to False.")
        self._begin_computation()
        n = target._data.size
        seeds = []
        for i in range(n):
            seed = np.zeros(n, dtype=target._data.dtype)
            seed[i] = 1
            seeds.append(make_tensor(seed.reshape(target.shape)))
        rows = self._seeded(target, flat_sources, seeds)
        results = []
        for source, grads in zip(flat_sources, rows):
            shape = tuple(target.shape) + tuple(source.shape)
            if grads is None:
                results.append(_zeros(shape, source) if mode is UnconnectedGradients.ZERO else None)
            else:
                results.append(_stack(grads, 0, shape, source))
        if not self.persistent:
            self._use_up()
        return _pack(sources, iter(results))

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobians: ``target`` [b, y1, ..., yn] and ``source`` [b, x1, ..., xm], where
        ``target[i]`` depends only on ``source[i]``; the result is [b, y1, ..., yn, x1, ..., xm]."""
        mode = _unconnected_mode(unconnected_gradients)
        self._check_alive("batch_jacobian")
        _check_single(target, "GradientTape.batch_jacobian", "target")
        _check_single(source, "GradientTape.batch_jacobian", "source")
        for name, t in (("target", target), ("source", source)):
            if t.ndim < 2:
                raise ValueError(f"GradientTape.batch_jacobian: {name} must have rank at least 2 ([batch, ...]), "
                                 f"got shape {shape_str(t.shape)}")
        if target.shape[0] != source.shape[0]:
            raise ValueError(f"Need first dimension of target shape ({shape_str(target.shape)}) and source shape "
                             f"({shape_str(source.shape)}) to match.")
        if not experimental_use_pfor and not self.persistent:
            raise RuntimeError("GradientTape must be created with persistent=True to compute the batch_jacobian "
                               "with eager execution enabled and with experimental_use_pfor set to False.")
        self._begin_computation()
        batch = target.shape[0]
        per_example = int(np.prod(target.shape[1:], dtype=np.int64))
        seeds = []
        for j in range(per_example):
            seed = np.zeros((batch, per_example), dtype=target._data.dtype)
            seed[:, j] = 1
            seeds.append(make_tensor(seed.reshape(target.shape)))
        (grads,) = self._seeded(target, [source], seeds)
        shape = tuple(target.shape) + tuple(source.shape[1:])
        if grads is None:
            result = _zeros(shape, source) if mode is UnconnectedGradients.ZERO else None
        else:
            result = _stack(grads, 1, shape, source)
        if not self.persistent:
            self._use_up()
        return result

    # ------------------------------------------------------------------------------------ internals
    def _check_alive(self, what):
        if not self._alive:
            self._raise_not_alive(what)

    def _raise_not_alive(self, what):
        if self._used_up:
            raise RuntimeError(NON_PERSISTENT_MESSAGE + " (create the tape with persistent=True to call "
                               "gradient/jacobian more than once, or record again in a new tape)")
        raise RuntimeError(f"GradientTape.{what}: this tape has not recorded anything yet; compute the target "
                           f"inside its block (`with GradientTape() as tape: ...`), then call tape.{what}")

    def _begin_computation(self):
        """TensorFlow's rule: a non-persistent tape stops recording when asked inside its block; a
        persistent one goes on recording (and warns: that is only worth it for higher derivatives)."""
        if self._recording:
            if not self.persistent:
                self._stop()
            else:
                warnings.warn(PERSISTENT_INSIDE_CONTEXT, UserWarning, stacklevel=3)

    def _use_up(self):
        self._alive, self._used_up = False, True
        self._let_go()

    def _gradients(self, targets, sources, seeds, mode):
        plan = self._plan(targets, sources)
        grads = [None] * len(sources)
        if plan.roots and plan.inputs:
            inputs = [sources[i] for i in plan.inputs]
            with plan.cut():
                found = engine.grad([targets[i] for i in plan.roots], inputs,
                                    grad_outputs=[_seed_for(targets[i], seeds[i]) for i in plan.roots],
                                    retain_graph=True, create_graph=_create_graph(), allow_unused=True)
            for i, g in zip(plan.inputs, found):
                grads[i] = g
        if mode is UnconnectedGradients.ZERO:
            grads = [_zeros(s.shape, s) if g is None else g for g, s in zip(grads, sources)]
        return grads

    def _seeded(self, target, sources, seeds):
        """For each source, the gradients of <seed, target> for each seed (None: unconnected)."""
        plan = self._plan([target], sources)
        out = [None] * len(sources)
        if not plan.roots or not plan.inputs:
            return out
        inputs = [sources[i] for i in plan.inputs]
        per_input = [[] for _ in inputs]
        create_graph = _create_graph()
        with plan.cut():
            for seed in seeds:
                found = engine.grad([target], inputs, grad_outputs=[seed], retain_graph=True,
                                    create_graph=create_graph, allow_unused=True)
                for column, g, source in zip(per_input, found, inputs):
                    column.append(_zeros(source.shape, source) if g is None else g)
        for i, column in zip(plan.inputs, per_input):
            out[i] = column
        return out

    def _plan(self, targets, sources):
        """Which targets start a gradient, which sources it reaches along recorded operations, and where
        the walk stops (see the module's docstring)."""
        spans = self._spans

        def recording_at(seq):
            for start, end in spans:
                if start < seq and (end is None or seq < end):
                    return True
            return False

        auto = self.watch_accessed_variables
        watched_leaves, watched_outputs = {}, {}
        for t, since in self._watched.values():
            if t.grad_fn is None:
                watched_leaves[id(t)] = since
            else:
                watched_outputs[(t.grad_fn, t._nr)] = since

        # 1. the operations made while recording, reachable from the targets through such operations
        made, seen = [], set()
        stack = [t.grad_fn for t in targets if t._rg and t.grad_fn is not None]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node.__class__ is AccumulateGrad or not recording_at(node.seq):
                continue
            made.append(node)
            stack.extend(edge[0] for edge in node.next if edge is not None and edge[0] not in seen)
        made.sort(key=_seq)  # inputs before the operations that use them

        # 2. recorded: made while recording with a watched input. flows[node]: per edge, whether the
        #    gradient goes on into that input (it was watched when the operation ran).
        flows = {}
        for node in made:
            flags = []
            for edge in node.next:
                flags.append(edge is not None and self._watched_input(edge, node, flows, watched_leaves,
                                                                      watched_outputs, auto))
            if any(flags):
                flows[node] = flags

        # 3. from the targets along the flowing edges: the tensors reached, and the unrecorded operations
        #    that gradients would enter (their edges are cut while the engine runs)
        roots, reached, cut, stack = [], set(), {}, []
        for i, t in enumerate(targets):
            if not t._rg:
                continue
            node = t.grad_fn
            if node is None:
                if (auto and _is_variable(t)) or id(t) in watched_leaves:
                    roots.append(i)
                    reached.add((accumulator(t), 0))
            elif node in flows:
                roots.append(i)
                reached.add((node, t._nr))
                stack.append(node)
            elif (node, t._nr) in watched_outputs:
                roots.append(i)
                reached.add((node, t._nr))
                cut[node] = None
        done = set()
        while stack:
            node = stack.pop()
            if node in done:
                continue
            done.add(node)
            for edge, flowing in zip(node.next, flows[node]):
                if edge is None:
                    continue
                below = edge[0]
                if flowing:
                    reached.add(edge)
                    if below in flows:
                        stack.append(below)
                        continue
                if below.__class__ is not AccumulateGrad and below not in flows:
                    cut[below] = None

        inputs = []
        for i, s in enumerate(sources):
            if s.grad_fn is not None:
                key = (s.grad_fn, s._nr)
            else:
                acc = s._acc() if s._acc is not None else None
                key = (acc, 0) if acc is not None else None
            if key is not None and key in reached:
                inputs.append(i)
        plain = [sources[i] for i in inputs if not sources[i]._rg]
        return _Plan(roots, inputs, list(cut), plain)

    def _watched_input(self, edge, node, flows, watched_leaves, watched_outputs, auto):
        below = edge[0]
        if below.__class__ is AccumulateGrad:
            leaf = below.variable
            if auto and _is_variable(leaf):
                self._accessed.setdefault(id(leaf), leaf)
                return True
            since = watched_leaves.get(id(leaf))
        else:
            if below in flows:
                return True
            since = watched_outputs.get(edge)
        return since is not None and since < node.seq

    def __repr__(self):
        state = "recording" if self._recording else "used up" if self._used_up else "idle"
        return f"<chainrule.GradientTape persistent={self.persistent} ({state})>"


class _Plan:
    __slots__ = ("roots", "inputs", "cut_nodes", "plain")

    def __init__(self, roots, inputs, cut_nodes, plain):
        self.roots = roots          # indices of the targets a gradient starts from
        self.inputs = inputs        # indices of the sources it reaches
        self.cut_nodes = cut_nodes  # unrecorded operations: their edges are cut during the computation
        self.plain = plain          # sources that no longer require grad (a block that ended): held meanwhile

    @contextlib.contextmanager
    def cut(self):
        saved = [(node, node.next) for node in self.cut_nodes]
        held = [t for t in self.plain if _hold(t)]
        try:
            for node, edges in saved:
                node.next = (None,) * len(edges)
            yield
        finally:
            for node, edges in saved:
                node.next = edges
            for t in held:
                _release(t)


# ---------------------------------------------------------------------------------------------- helpers
def _seq(node):
    return node.seq


def _create_graph():
    """Gradients are recorded (differentiable) when a tape is recording in this thread."""
    return bool(_local.recording) and _grad_state.enabled


def _unconnected_mode(value):
    try:
        return UnconnectedGradients(value)
    except (ValueError, TypeError):
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r} (use 'none', 'zero', "
                         "UnconnectedGradients.NONE or UnconnectedGradients.ZERO)") from None


def _check_single(t, caller, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"{caller}: {what} is a {type(t).__name__}, not a chainrule Tensor")


def _materialize(sources):
    """Sources given as an iterator (``model.parameters()``) are taken as a list."""
    if isinstance(sources, (Tensor, dict, list, tuple, str, bytes, np.ndarray)) or not hasattr(sources, "__iter__"):
        return sources
    return list(sources)


def _flatten(structure, caller, what):
    flat = []
    stack = [(structure, what)]
    while stack:
        x, path = stack.pop()
        if isinstance(x, Tensor):
            flat.append(x)
        elif isinstance(x, dict):
            stack.extend(reversed([(v, f"{path}[{k!r}]") for k, v in x.items()]))
        elif isinstance(x, (list, tuple)):
            stack.extend(reversed([(v, f"{path}[{i}]") for i, v in enumerate(x)]))
        else:
            raise TypeError(f"{caller}: {path} is a {type(x).__name__}, not a chainrule Tensor; pass a Tensor "
                            "or a list, tuple or dict of Tensors")
    return flat


def _pack(structure, values):
    """``structure`` with its tensors replaced by ``values``, in _flatten's order."""
    if isinstance(structure, Tensor):
        return next(values)
    if isinstance(structure, dict):
        pairs = [(k, _pack(v, values)) for k, v in structure.items()]
        try:
            return type(structure)(pairs)
        except TypeError:
            return dict(pairs)
    items = [_pack(v, values) for v in structure]
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # namedtuple
        return type(structure)(*items)
    try:
        return type(structure)(items)
    except TypeError:
        return list(items) if isinstance(structure, list) else tuple(items)


def _output_gradients(output_gradients, target, targets):
    """One seed per target (None: ones), each a Tensor of its target's shape."""
    if output_gradients is None:
        return [None] * len(targets)
    if isinstance(target, Tensor):
        given = [output_gradients]
        if (isinstance(output_gradients, (list, tuple)) and len(output_gradients) == 1
                and (output_gradients[0] is None or isinstance(output_gradients[0], Tensor))):
            given = list(output_gradients)  # TensorFlow flattens: [g] for one target is g
    else:
        given = []
        stack = [output_gradients]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                stack.extend(reversed(list(x.values())))
            elif isinstance(x, (list, tuple)):
                stack.extend(reversed(x))
            else:
                given.append(x)
        if len(given) != len(targets):
            raise ValueError(f"GradientTape.gradient: {len(targets)} targets but {len(given)} output_gradients; "
                             "pass one per target (None for ones)")
    seeds = []
    for i, (g, t) in enumerate(zip(given, targets)):
        if g is None:
            seeds.append(None)
            continue
        if not isinstance(g, Tensor):
            g = make_tensor(np.asarray(g, dtype=t._data.dtype))
        if tuple(g.shape) != tuple(t.shape):
            raise ShapeError(f"GradientTape.gradient: output_gradients[{i}] has shape {shape_str(g.shape)} but "
                             f"target[{i}] has shape {shape_str(t.shape)}; pass a gradient of the target's shape")
        seeds.append(g)
    return seeds


def _seed_for(target, seed):
    return make_tensor(np.ones_like(target._data)) if seed is None else seed


def _zeros(shape, like):
    return make_tensor(np.zeros(shape, dtype=like._data.dtype))


def _stack(grads, axis, shape, source):
    """Stack per-seed gradients along ``axis`` and shape them; differentiably when they carry a graph."""
    if not grads:
        return _zeros(shape, source)
    if any(g._rg for g in grads):
        from .ops import stack
        return stack(grads, axis).reshape(shape)
    return make_tensor(np.stack([g._data for g in grads], axis=axis).reshape(shape))
