"""Walking the backward graph behind some tensors: its nodes in creation order, and what each node keeps
saved for backward (shared by the DOT drawing and the memory report)."""
import numpy as np

from .._tensor import Tensor


def as_roots(t, who):
    """``t`` (a Tensor, or a list/tuple of them) as a list of tensors, or a TypeError naming ``who``."""
    roots = list(t) if isinstance(t, (list, tuple)) else [t]
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"{who}: expected a Tensor or a list/tuple of Tensors, got {type(root).__name__}")
    if not roots:
        raise ValueError(f"{who}: got an empty list of tensors; pass the output(s) whose graph you want")
    return roots


def collect(roots):
    """Every node reachable from the roots' grad_fn, sorted by creation (inputs before their users)."""
    seen = {}
    stack = [root.grad_fn for root in roots if root.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        for edge in getattr(node, "next", ()):
            if edge is not None and id(edge[0]) not in seen:
                stack.append(edge[0])
    return sorted(seen.values(), key=lambda n: n.seq)


def consumers(nodes):
    """{id(node): [(consumer, input position), ...]} over the given nodes."""
    users = {id(n): [] for n in nodes}
    for node in nodes:
        for position, edge in enumerate(getattr(node, "next", ())):
            if edge is not None and id(edge[0]) in users:
                users[id(edge[0])].append((node, position))
    return users


def is_leaf_node(node):
    return hasattr(node, "variable") and not getattr(node, "next", ())


class SavedItem:
    """One array a node keeps for backward: what it is (``"input 'a'"``, ``"output"``, ...), the array,
    and whether it is a parameter-like leaf (a tensor that requires grad and has no grad_fn: it exists
    anyway, whatever the graph keeps)."""

    __slots__ = ("what", "array", "is_leaf", "tensor")

    def __init__(self, what, array, is_leaf=False, tensor=None):
        self.what, self.array, self.is_leaf, self.tensor = what, array, is_leaf, tensor

    @property
    def nbytes(self):
        return int(self.array.nbytes)

    @property
    def key(self):
        """Identifies the memory: two nodes saving the same array (or the same bytes through a view with
        the same start and size) count once."""
        return (self.array.__array_interface__["data"][0], self.array.nbytes)


def saved_items(node):
    """(items, freed): the arrays ``node`` keeps for backward; ``freed`` when backward released them."""
    saved = getattr(node, "saved", ())
    freed = saved is None
    items = []
    for position, entry in enumerate(saved or ()):
        what = node.saved_what(position) if hasattr(node, "saved_what") else f"saved {position}"
        if isinstance(entry, Tensor):
            items.append(SavedItem(what, entry._data, entry.grad_fn is None and entry.requires_grad, entry))
        elif isinstance(entry, np.ndarray):
            items.append(SavedItem(what, entry))
        elif isinstance(entry, tuple) and entry and isinstance(entry[0], np.ndarray):
            items.append(SavedItem(f"output {entry[1]}", entry[0]))  # a Function's own output (see function.py)
    out = getattr(node, "out_data", None) if getattr(getattr(node, "op", None), "saves_out", False) else None
    if out is not None:
        items.append(SavedItem("output", out))
    # Arrays among an op's parameters (max pooling's indices) are kept too, and are not freed by backward.
    for name, value in sorted((getattr(node, "params", None) or {}).items()):
        if isinstance(value, np.ndarray):
            items.append(SavedItem(f"param '{name}'", value))
        elif isinstance(value, Tensor):
            items.append(SavedItem(f"param '{name}'", value._data, False, value))
    return items, freed


def known_values(roots, nodes, named):
    """{(id(node), output_nr): array} for every node output whose value is still reachable: the roots,
    tensors named by the caller, and tensors the graph saved for backward (its inputs and outputs)."""
    values = {}

    def add(tensor):
        if tensor.grad_fn is not None:
            values.setdefault((id(tensor.grad_fn), tensor._nr), tensor._data)

    for root in roots:
        add(root)
    for tensor in named:
        add(tensor)
    for node in nodes:
        saved = getattr(node, "saved", None) or ()
        for entry in saved:
            if isinstance(entry, Tensor):
                add(entry)
            elif isinstance(entry, tuple) and entry and isinstance(entry[0], np.ndarray):
                values.setdefault((id(node), entry[1]), entry[0])
        if getattr(getattr(node, "op", None), "saves_out", False) and getattr(node, "out_data", None) is not None:
            values.setdefault((id(node), 0), node.out_data)
    return values


def unique_nbytes(items):
    """Bytes of the items, each distinct array counted once."""
    seen = {}
    for item in items:
        seen.setdefault(item.key, item.nbytes)
    return sum(seen.values())
