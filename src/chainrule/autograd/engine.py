"""The reverse-mode engine: ``backward`` and ``grad``.

One iterative pass (no recursion, so a 100,000-op chain is fine):
1. if only some inputs are wanted (``grad``, ``backward(inputs=...)``), mark the nodes that lead to them;
2. run the nodes that have received a gradient, newest first (a node's ``seq`` orders creation, and a
   node is always made after the nodes of its inputs, so by the time a node runs, every node that could
   still send it a gradient has run): each turns the summed gradient of its output into gradients of its
   inputs with its op's VJP rules.
Broadcasting is undone here and only here: a gradient whose shape differs from its input's is summed
back to that shape (``sum_to``). Without ``create_graph`` gradients travel as raw arrays.
"""
import sys
import warnings
from heapq import heappop, heappush, heappushpop

import numpy as np

from .._errors import GraphError, ShapeError, DTypeError, shape_str
from . import anomaly, cut, forward_ad
from .grad_mode import state as _grad_state
from .graph import FREED_MESSAGE, AccumulateGrad, accumulator, inplace_count, sums_to

# Filled in by chainrule._tensor / chainrule.ops at import (this module must not import them: cycle).
Tensor = None
make_tensor = None
sum_to = None
sum_to_array = None
ndarray = np.ndarray


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' ``.grad`` (or only into ``inputs``' ``.grad``)."""
    tensors = _as_tuple(tensors)
    roots = _roots("backward", tensors, grad_tensors, create_graph)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise ValueError("backward: 'inputs' was passed but is empty; pass at least one tensor or None")
        targets = {_check_input("backward", i, t): t for i, t in enumerate(inputs)}
    else:
        targets = None
    keep = create_graph if retain_graph is None else retain_graph
    if create_graph and inputs is None:
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
            "gradient which can cause a memory leak (Python's garbage collector frees it only later). Use "
            "autograd.grad to build a graph of the gradients instead, or reset .grad to None after use.",
            UserWarning, stacklevel=3)
    _run(roots, keep, create_graph, targets, capture=False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) (summed over outputs, weighted by grad_outputs) without touching ``.grad``."""
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported; loop over the batch instead")
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True requires allow_unused to be True or None")
    roots = _roots("grad", outputs, grad_outputs, create_graph)
    keys = [_check_input("grad", i, t) for i, t in enumerate(inputs)]
    keep = create_graph if retain_graph is None else retain_graph
    captured = _run(roots, keep, create_graph, dict(zip(keys, inputs)), capture=True)
    result = []
    for position, (tensor, target) in enumerate(zip(inputs, keys)):
        g = captured.get(target)
        if g is None:
            if materialize_grads:
                g = make_tensor(np.zeros_like(tensor._data))
            elif not allow_unused:
                raise GraphError(
                    f"grad: input {position} (shape {shape_str(tensor.shape)}) appears to not have been used in "
                    "the graph of the outputs. Set allow_unused=True if this is the desired behavior "
                    "(its gradient is then None), or materialize_grads=True to get zeros.")
        result.append(g)
    return tuple(result)


# ------------------------------------------------------------------------------------------ checks
def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _roots(caller, outputs, grads, create_graph):
    """Validate outputs and their gradients; return [(node, output_nr, grad)]."""
    if grads is None or isinstance(grads, Tensor):
        grads = [grads] * len(outputs) if grads is None else [grads]
    else:
        grads = list(grads)
    if len(grads) != len(outputs):
        raise ValueError(f"{caller}: got {len(outputs)} outputs but {len(grads)} gradients; pass one per output")
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{caller}: output {i} is a {type(out).__name__}, not a chainrule Tensor")
        if not out._rg:
            raise GraphError(f"element {i} of tensors does not require grad and does not have a grad_fn: "
                             f"{_why_no_grad(out)}")
        g = _root_grad(caller, i, out, g, create_graph)
        node = out.grad_fn if out.grad_fn is not None else accumulator(out)
        roots.append((node, out._nr, g))
    return roots


def _root_grad(caller, i, out, g, create_graph):
    if g is None:
        if out._data.size != 1:
            raise GraphError(f"grad can be implicitly created only for scalar outputs; output {i} has shape "
                             f"{shape_str(out.shape)}. Pass gradient= (a tensor of that shape, e.g. "
                             "torch.ones_like(output)) or reduce the output to a scalar first (.sum()).")
        return make_tensor(np.ones_like(out._data))
    if not isinstance(g, Tensor):
        g = make_tensor(np.asarray(g, dtype=out._data.dtype))
    if g.shape != out.shape:
        raise ShapeError(f"{caller}: Mismatch in shape: grad_output[{i}] has a shape of {shape_str(g.shape)} and "
                         f"output[{i}] has a shape of {shape_str(out.shape)}. Pass a gradient of the output's shape.")
    if g._data.dtype.kind != "f":
        raise DTypeError(f"{caller}: grad_output[{i}] has dtype {g.dtype} but output[{i}] is {out.dtype}; "
                         "gradients must be floating point.")
    if g._data.dtype != out._data.dtype:
        g = g.to(out._data.dtype)
    return g


def _check_input(caller, i, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: input {i} is a {type(tensor).__name__}, not a chainrule Tensor")
    if not tensor._rg:
        raise GraphError(f"One of the differentiated Tensors does not require grad: input {i} "
                         f"(shape {shape_str(tensor.shape)}). {_why_no_grad(tensor)}")
    return tensor.grad_fn if tensor.grad_fn is not None else accumulator(tensor), tensor._nr


def _why_no_grad(tensor):
    # One wording for these errors and chainrule.viz.why_no_grad: the Cut recorded where the graph was cut
    # (with the user's file:line), or the ways a graph gets cut.
    return cut.reason(tensor)


# ------------------------------------------------------------------------------------------ the run
def _run(roots, keep_graph, create_graph, targets, capture):
    """Execute the graph below ``roots``. ``targets`` (or None: all leaves) maps the (node, output_nr)
    pairs whose gradient is wanted to their tensors; with ``capture`` the gradients are returned instead
    of accumulated into .grad."""
    # Without create_graph the rules need not build a graph, so gradients travel as raw arrays and the
    # rules of ops declared raw-safe run on NumPy directly (the hot path); Tensors appear only at the ends.
    raw = not create_graph and not forward_ad.state.active  # tangents need Tensor rules (forward-over-reverse)
    target_nodes = None if targets is None else {node for node, _ in targets}
    needed = None if targets is None else _needed(target_nodes, [node for node, _, _ in roots])
    # A plain backward() in raw mode calls the rules of raw-safe ops right here (no backward_raw call, no
    # per-node list): the loop below is the per-op cost of every backward pass, so it is kept flat.
    direct = raw and needed is None
    # `table` holds the gradient summed so far for each node that has received one; `ready` is a heap
    # of those nodes by descending seq; `top` is the highest seq in it. One more node, the `candidate`, is
    # kept out of both, its gradient in `candidate_g`, so a chain costs no heap or dict operations. A node
    # runs only after every pending node made later (so every node that could still send it a gradient)
    # has run: its gradient is then complete.
    table = {}
    ready = []
    for node, nr, g in roots:
        if node not in table:
            heappush(ready, (-node.seq, node))
        _add_grad(table, node, nr, g._data if raw else g)
    captured = {}
    previous = _grad_state.enabled, _grad_state.in_backward, _grad_state.backward_pass
    _grad_state.enabled, _grad_state.in_backward, _grad_state.backward_pass = create_graph, True, (targets, capture)
    try:
        candidate = candidate_g = None  # a node that may run next without going through the heap (chains)
        top = -ready[0][0] if ready else -1
        while True:
            if candidate is not None:
                if top > candidate.seq:  # a later-made node is pending: it goes first
                    table[candidate] = candidate_g
                    node = heappushpop(ready, (-candidate.seq, candidate))[1]
                    top = -ready[0][0]
                    g = table.pop(node)
                else:
                    node = candidate
                    g = candidate_g
                candidate = candidate_g = None
            elif ready:
                node = heappop(ready)[1]
                top = -ready[0][0] if ready else -1
                g = table.pop(node)
            else:
                break
            if node.extras is not None and g is not None:
                g = _as_arrays(_run_prehooks(node, _as_tensors(g, raw)), raw)
            kind = node.direct  # 0, or how the engine calls this OpNode's rules itself (see Op.direct)
            if kind and direct and g is not None and not anomaly.enabled:
                # OpNode.backward_raw and release(), inline.
                op = node.op
                arrays = node.arrays
                if arrays is None:
                    raise GraphError(f"{node.name()}: {FREED_MESSAGE}")
                if node.epoch != inplace_count[0]:  # something changed in place since: check what was saved
                    node._check_saved()
                out = node.out_data if op.saves_out else None
                edges = node.next
                rules = op.vjps
                # An input without an edge gets no gradient (and may have no rule): its rule is not called.
                if kind == 1:
                    grads = (rules[0](g, out, arrays[0]) if edges[0] is not None else None,)
                elif kind == 2:
                    e0, e1 = edges
                    a0, a1 = arrays
                    grads = (rules[0](g, out, a0, a1) if e0 is not None else None,
                             rules[1](g, out, a0, a1) if e1 is not None else None)
                else:
                    params = node.params
                    grads = [rule(g, out, *arrays, **params) if e is not None else None
                             for rule, e in zip(rules, edges)]
                if not keep_graph and op.saves_tensors:
                    node.saved = node.arrays = node.out_data = None
            else:
                if node.__class__ is AccumulateGrad:
                    if g is not None and (target_nodes is None or node in target_nodes):
                        variable = node.variable
                        if raw and not capture and variable._grad is None and _can_adopt(g, variable):
                            variable._grad = make_tensor(g)  # a fresh array no one else holds: no copy needed
                            continue
                        g = _leaf_hooks(variable, _as_tensors(g, raw))
                        if capture:
                            captured[(node, 0)] = g
                        else:
                            accumulate_into(node.variable, g, create_graph)
                    continue
                if target_nodes is not None and node in target_nodes and g is not None:
                    _deliver(targets, captured, node, _as_tensors(g, raw), capture, create_graph)
                edges = node.next
                if g is None:
                    grads = [None] * len(edges)
                else:
                    # `wanted` is per input; the edge tuple itself serves when every input with an edge is wanted.
                    wanted = edges if needed is None else [e is not None and e[0] in needed for e in edges]
                    if anomaly.enabled:
                        grads = anomaly.checked_step(node, g, wanted, raw)  # NaN checks, forward traceback on errors
                    else:
                        grads = node.backward_raw(g, wanted) if raw else node.backward_grads(g, wanted)
                    if not keep_graph and node.frees:
                        node.release()
            for edge, ig in zip(edges, grads):
                if edge is None or ig is None:
                    continue
                target, nr = edge
                if needed is not None and target not in needed:
                    continue
                # Fast path: an array already of the input's shape and dtype; else _fit sums it down.
                if not (raw and nr == 0 and ig.__class__ is ndarray and ig.shape == target.shape
                        and (ig.dtype is target.dtype or ig.dtype == target.dtype)):
                    ig = _fit(ig, node, target, nr, raw)
                if target.n_outputs == 1:
                    if target is candidate:
                        candidate_g = candidate_g + ig
                    else:
                        current = table.get(target)
                        if current is not None:
                            table[target] = current + ig
                        elif candidate is None:
                            candidate, candidate_g = target, ig
                        else:
                            if target.seq > candidate.seq:  # the later-made one becomes the candidate
                                candidate, target, candidate_g, ig = target, candidate, ig, candidate_g
                            table[target] = ig
                            seq = target.seq
                            heappush(ready, (-seq, target))
                            if seq > top:
                                top = seq
                else:
                    if target not in table:
                        seq = target.seq
                        heappush(ready, (-seq, target))
                        if seq > top:
                            top = seq
                    _add_grad(table, target, nr, ig)
            grads = ig = None  # hold no gradient past its hand-over: _can_adopt counts the references
    finally:
        _grad_state.enabled, _grad_state.in_backward, _grad_state.backward_pass = previous
    return captured


def _needed(target_nodes, root_nodes):
    """Nodes from which a target can be reached: only they run (grad() does no work it throws away)."""
    reachable = {}
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        if node in reachable:
            continue
        reachable[node] = None
        stack.extend(edge[0] for edge in node.next if edge is not None)
    needed = set()
    for node in sorted(reachable, key=lambda n: n.seq):  # inputs before the nodes that use them
        if node in target_nodes or any(e is not None and e[0] in needed for e in node.next):
            needed.add(node)
    return needed


def _add_grad(table, node, nr, g):
    if node.n_outputs == 1:
        current = table.get(node)
        table[node] = g if current is None else current + g
    else:
        slots = table.get(node)
        if slots is None:
            slots = table[node] = [None] * node.n_outputs
        slots[nr] = g if slots[nr] is None else slots[nr] + g


def _fit(g, node, target, nr, raw):
    """Bring a gradient (an array if ``raw``, else a Tensor) to its input's shape and dtype: the one place
    broadcasting is undone."""
    if raw and g.__class__ is not ndarray:
        g = np.asarray(g)  # NumPy turns 0-d results into scalars
    shape, dtype = (target.shape, target.dtype) if nr == 0 else target.output_meta(nr)
    data = g if raw else g._data
    if data.shape != shape:
        if not sums_to(data.shape, shape):
            raise ShapeError(f"Function {node.name()} returned an invalid gradient - got {shape_str(data.shape)} "
                             f"but expected shape compatible with {shape_str(shape)}")
        g = sum_to_array(g, shape) if raw else sum_to(g, shape)
        data = g if raw else g._data
    if data.dtype != dtype:
        if raw:
            g = g.astype(dtype)
        else:
            g = g.to(dtype) if g._rg else make_tensor(data.astype(dtype))
    return g


def _as_tensors(g, raw):
    """Hooks and callers see Tensors; in raw mode wrap the arrays (a list for multi-output nodes)."""
    if not raw:
        return g
    if g.__class__ is list:
        return [None if x is None else make_tensor(np.asarray(x)) for x in g]
    return make_tensor(np.asarray(g))


def _as_arrays(g, raw):
    if not raw:
        return g
    if g.__class__ is list:
        return [None if x is None else x._data for x in g]
    return g._data


def _run_prehooks(node, g):
    """Tensor hooks of a non-leaf (registered on its node), then retain_grad: after the hooks, as PyTorch."""
    extras = node.extras
    single = node.n_outputs == 1
    grads = [g] if single else g
    for nr, hooks in extras.pre_hooks.items():
        if grads[nr] is not None:
            grads[nr] = _apply_hooks(hooks, grads[nr])
    for nr, ref in extras.retained.items():
        tensor = ref()
        if tensor is not None and grads[nr] is not None:
            accumulate_into(tensor, grads[nr], _grad_state.enabled)
    return grads[0] if single else grads


def _leaf_hooks(tensor, g):
    hooks = tensor._hooks
    return _apply_hooks(hooks, g) if hooks else g


def _apply_hooks(hooks, g):
    for hook in list(hooks.values()):  # a copy: a hook may remove itself
        replaced = hook(g)
        if replaced is not None:
            g = _checked_hook_result(replaced, g)
    return g


def _checked_hook_result(new, old):
    if not isinstance(new, Tensor):
        raise TypeError(f"a tensor hook must return None or a Tensor, not {type(new).__name__}")
    if new.shape != old.shape:
        raise ShapeError(f"hook returned a gradient of shape {shape_str(new.shape)} for a tensor of shape "
                         f"{shape_str(old.shape)}; a hook must keep the gradient's shape")
    return new


def _deliver(targets, captured, node, g, capture, create_graph):
    """A wanted non-leaf input's gradient: returned by grad(), or put in its .grad by backward(inputs=)."""
    for nr, gi in enumerate([g] if node.n_outputs == 1 else g):
        key = (node, nr)
        if gi is None or key not in targets:
            continue
        if capture:
            captured[key] = gi
        else:
            accumulate_into(targets[key], gi, create_graph)


def _can_adopt(array, variable):
    """Whether a leaf's first gradient may become its .grad without a copy (as PyTorch steals a buffer): a
    C-contiguous, writeable array that owns its memory, of the leaf's shape and dtype, with no hooks on the
    leaf that could keep it, and referenced by no one but the engine (not the user's `gradient`, a saved
    tensor or another input's gradient: the references are counted)."""
    return (array.__class__ is ndarray and array.base is None and sys.getrefcount(array) == _SOLE_REFERENCES
            and array.flags.c_contiguous and array.flags.writeable and array.shape == variable._data.shape
            and array.dtype == variable._data.dtype and not variable._hooks)


def _count_references(array):
    return sys.getrefcount(array)


def _references_of_a_local():
    array = np.empty(1)  # held by this frame's local only, as the engine's `g` is when it calls _can_adopt
    return _count_references(array)


_SOLE_REFERENCES = _references_of_a_local()


def accumulate_into(tensor, g, create_graph):
    """``tensor.grad += g`` with PyTorch's semantics: the first gradient is copied (never aliased),
    later ones are added in place unless a graph is being built."""
    old = tensor._grad
    if old is None:
        tensor._grad = g if create_graph else make_tensor(np.array(g._data, copy=True))
    elif create_graph or old._rg or not old._data.flags.writeable:
        tensor._grad = old + g
    else:
        np.add(old._data, g._data, out=old._data, casting="unsafe")
