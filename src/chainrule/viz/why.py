"""why_no_grad: why a tensor has no grad_fn, or why a leaf gets no gradient from an output, in a sentence or two.

The reasons are recorded where graphs get cut (chainrule/autograd/cut.py: .detach(), .data, no_grad blocks,
non-differentiable ops, integer casts, tensors rebuilt from .numpy()), with the user's file:line; the
engine's "does not require grad" errors use the same words.
"""
from .._tensor import Tensor
from ..autograd import cut as _cuts
from ..autograd.graph import OpNode

__all__ = ["why_no_grad"]


def why_no_grad(t, output=None):
    """Explain why ``t`` has no ``grad_fn`` / does not require grad; with ``output=``, whether ``t`` gets a
    gradient when ``output.backward()`` runs, and if not, why (where the path was cut, when it is known)."""
    _check("t", t)
    if output is None:
        return _about_tensor(t)
    _check("output", output)
    if not t._rg:
        return f"It gets no gradient from any output because it does not require grad: {_cuts.reason(t)}"
    if not output._rg:
        return ("The output has no graph, so backward() from it reaches nothing (it does not require grad): "
                f"{_cuts.reason(output)}")
    return _about_connection(t, output)


def _check(name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"why_no_grad: {name} must be a chainrule Tensor, not {type(value).__name__}")


def _about_tensor(t):
    if not t._rg:
        return f"It has no grad_fn and does not require grad: {_cuts.reason(t)}"
    if t.grad_fn is not None:
        return (f"It has a grad_fn ({t.grad_fn.name()}) and requires grad: it is part of a graph, so backward() from "
                "it reaches its inputs. Pass output= to ask whether a given output reaches it.")
    return ("It is a leaf that requires grad (leaves have no grad_fn): backward() on an output computed from it fills "
            "its .grad. Pass output= to ask whether a given output reaches it.")


def _node_of(t):
    """t's place in a graph: (node, output_nr), or None for a leaf no recorded op has used."""
    if t.grad_fn is not None:
        return t.grad_fn
    ref = t._acc
    return ref() if ref is not None else None


def _root_of(output):
    if output.grad_fn is not None:
        return output.grad_fn
    ref = output._acc
    node = ref() if ref is not None else None
    return node if node is not None else output  # a leaf never used: its own "graph"


def _walk(root):
    """Every node below ``root``, with the node it was first reached from (for the path)."""
    parent = {root: None}
    stack = [root]
    while stack:
        node = stack.pop()
        for edge in getattr(node, "next", ()):
            if edge is not None and edge[0] not in parent:
                parent[edge[0]] = node
                stack.append(edge[0])
    return parent


def _about_connection(t, output):
    target = _node_of(t)
    if output is t:
        return "It is the output itself: backward() from it gives it the gradient 1 (or the gradient= passed)."
    root = _root_of(output)
    parent = _walk(root)
    if target is not None and target in parent:
        path = []
        node = parent[target]
        while node is not None:
            path.append(node.name())
            node = parent[node]
        where = ("puts d(output)/d(it) in its .grad" if t.grad_fn is None else
                 "passes d(output)/d(it) through it (a non-leaf keeps it in .grad only after .retain_grad())")
        return (f"It is connected to the output: backward() from the output runs {' -> '.join(reversed(path))} -> it, and "
                f"{where}.")
    head = "It is not connected to the output's graph, so backward() from the output gives it no gradient"
    used = _cuts_used_by(parent)
    for cut in _cuts_from(t, target, used):  # a value the output used, cut from this tensor: certain
        return f"{head}: a value computed from it was cut on the way: {cut.text()}"
    for cut in used:  # a value the output used, cut from something no longer known (a temporary, no_grad)
        if cut.source is None or cut.source() is None:
            return (f"{head}. The output was computed from a value cut from the graph; if that value came from this "
                    f"tensor, this is where the path was cut: {cut.text()}")
    for cut in _cuts_from(t, target, reversed(_cuts.recent)):
        return (f"{head}. A value computed from it was cut: {cut.text()} If the output was computed from that value, "
                "that is where the path was cut.")
    return (f"{head}: the output was not computed from it, or the path was cut on the way (no_grad(), .detach(), "
            ".data, a non-differentiable op, a tensor rebuilt from .numpy()/.item()/.tolist()).")


def _cuts_used_by(parent):
    """Cuts carried by the values the output's graph saved (so they certainly fed into the output)."""
    used = {}
    for node in parent:
        saved = getattr(node, "saved", None) if isinstance(node, OpNode) else None
        for x in saved or ():
            meta = getattr(x, "_meta", None)
            cut = None if meta is None else meta.cut
            if isinstance(cut, _cuts.Cut):
                used[cut] = None
    return used


def _cuts_from(t, target, cuts):
    """The cuts (in the order given) made from ``t`` or from a value computed from it (by their sources)."""
    seen = set()
    for cut in cuts:
        if cut in seen or cut.source is None:
            continue
        seen.add(cut)
        source = cut.source()
        if source is None:
            continue
        if source is t or (target is not None and source is not t and not isinstance(source, Tensor)
                           and target in _walk(source)):
            yield cut
