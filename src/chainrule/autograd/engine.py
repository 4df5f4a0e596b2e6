"""The reverse-mode engine: ``backward`` and ``grad``.

One iterative pass (no recursion, so a 100,000-op chain is fine):
1. walk the graph from the outputs' nodes and count, for each node, the edges that point to it;
2. if only some inputs are wanted (``grad``, ``backward(inputs=...)``), mark the nodes that lead to them;
3. run nodes whose count has dropped to zero: each turns the gradient of its output into gradients
   of its inputs with its op's VJP rules; gradients for one node are summed before it runs.
Broadcasting is undone here and only here: a gradient whose shape differs from its input's is summed
back to that shape (``sum_to``).
"""
import numpy as np

from .._errors import GraphError, ShapeError, DTypeError, shape_str
from . import anomaly
from .grad_mode import state as _grad_state
from .graph import AccumulateGrad, accumulator

# Filled in by chainrule._tensor / chainrule.ops at import (this module must not import them: cycle).
Tensor = None
make_tensor = None
sum_to = None


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
        g = make_tensor(g._data.astype(out._data.dtype), g.grad_fn, g._rg)
    return g


def _check_input(caller, i, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: input {i} is a {type(tensor).__name__}, not a chainrule Tensor")
    if not tensor._rg:
        raise GraphError(f"One of the differentiated Tensors does not require grad: input {i} "
                         f"(shape {shape_str(tensor.shape)}). {_why_no_grad(tensor)}")
    return tensor.grad_fn if tensor.grad_fn is not None else accumulator(tensor), tensor._nr


def _why_no_grad(tensor):
    cut = tensor._cut
    if cut is not None:
        return cut
    return ("it is a leaf created with requires_grad=False; call .requires_grad_() on it (or on the inputs it "
            "was computed from) before the operations you want to differentiate.")


# ------------------------------------------------------------------------------------------ the run
def _run(roots, keep_graph, create_graph, targets, capture):
    """Execute the graph below ``roots``. ``targets`` (or None: all leaves) maps the (node, output_nr)
    pairs whose gradient is wanted to their tensors; with ``capture`` the gradients are returned instead
    of accumulated into .grad."""
    table = {}
    for node, nr, g in roots:
        _add_grad(table, node, nr, g)
    deps = _count_dependencies(node for node, _, _ in roots)
    target_nodes = None if targets is None else {node for node, _ in targets}
    needed = None if targets is None else _needed(deps, target_nodes, [n for n, _, _ in roots])
    ready = [node for node, _, _ in roots if deps[node] == 0]
    ready = list(dict.fromkeys(ready))
    captured = {}
    previous = _grad_state.enabled, _grad_state.in_backward
    _grad_state.enabled, _grad_state.in_backward = create_graph, True
    try:
        while ready:
            node = ready.pop()
            g = table.pop(node, None)
            if node.extras is not None and g is not None:
                g = _run_prehooks(node, g)
            if isinstance(node, AccumulateGrad):
                if g is not None and (target_nodes is None or node in target_nodes):
                    g = _leaf_hooks(node.variable, g)
                    if capture:
                        captured[(node, 0)] = g
                    else:
                        accumulate_into(node.variable, g, create_graph)
                continue
            if target_nodes is not None and node in target_nodes and g is not None:
                _deliver(targets, captured, node, g, capture, create_graph)
            edges = node.next
            if g is None:
                grads = [None] * len(edges)
            else:
                wanted = [e is not None and (needed is None or e[0] in needed) for e in edges]
                grads = node.backward_grads(g, wanted)
                if anomaly.enabled:
                    anomaly.check_grads(node, grads)
                if not keep_graph:
                    node.release()
            for edge, ig in zip(edges, grads):
                if edge is None:
                    continue
                target, nr = edge
                if needed is not None and target not in needed:
                    continue
                if ig is not None:
                    _add_grad(table, target, nr, _fit(ig, node, target, nr))
                left = deps[target] - 1
                deps[target] = left
                if left == 0:
                    ready.append(target)
    finally:
        _grad_state.enabled, _grad_state.in_backward = previous
    return captured


def _count_dependencies(root_nodes):
    deps = {}
    stack = []
    for node in root_nodes:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        for edge in node.next:
            if edge is None:
                continue
            target = edge[0]
            count = deps.get(target)
            if count is None:
                deps[target] = 1
                stack.append(target)
            else:
                deps[target] = count + 1
    return deps


def _needed(deps, target_nodes, root_nodes):
    """Nodes from which a target can be reached: only they run (grad() does no work it throws away)."""
    remaining = dict(deps)
    order = [node for node in dict.fromkeys(root_nodes) if remaining[node] == 0]
    i = 0
    while i < len(order):
        for edge in order[i].next:
            if edge is not None:
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    order.append(edge[0])
        i += 1
    needed = set()
    for node in reversed(order):
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


def _fit(g, node, target, nr):
    """Bring a gradient to its input's shape and dtype: the one place broadcasting is undone."""
    shape, dtype = (target.shape, target.dtype) if nr == 0 else target.output_meta(nr)
    data = g._data
    if data.shape != shape:
        if not _sums_to(data.shape, shape):
            raise ShapeError(f"Function {node.name()} returned an invalid gradient - got {shape_str(data.shape)} "
                             f"but expected shape compatible with {shape_str(shape)}")
        g = sum_to(g, shape)
    if g._data.dtype != dtype:
        g = g.to(dtype) if g._rg else make_tensor(g._data.astype(dtype))
    return g


def _sums_to(grad_shape, shape):
    extra = len(grad_shape) - len(shape)
    if extra < 0:
        return False
    return all(s == 1 or s == gs for s, gs in zip(shape, grad_shape[extra:]))


def _run_prehooks(node, g):
    extras = node.extras
    single = node.n_outputs == 1
    grads = [g] if single else g
    for nr, hooks in extras.pre_hooks.items():
        for hook in list(hooks.values()):
            if grads[nr] is not None:
                replaced = hook(grads[nr])
                if replaced is not None:
                    grads[nr] = _checked_hook_result(replaced, grads[nr])
    for nr, ref in extras.retained.items():
        tensor = ref()
        if tensor is not None and grads[nr] is not None:
            accumulate_into(tensor, grads[nr], _grad_state.enabled)
    return grads[0] if single else grads


def _leaf_hooks(tensor, g):
    hooks = tensor._hooks
    if hooks:
        for hook in list(hooks.values()):
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
