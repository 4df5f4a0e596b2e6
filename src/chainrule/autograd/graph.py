"""The backward graph: nodes, their edges, saved tensors and the checks that guard them.

A node is one recorded operation. ``node.next`` holds one edge per input, ``(target_node, output_nr)``,
or None where that input needs no gradient; leaves that require grad are reached through an
``AccumulateGrad`` node, as in PyTorch, so the engine only ever walks nodes.
"""
import itertools
import weakref

from numpy import asarray, ndarray

from .._errors import GraphError, shape_str
from . import forward_ad

# Set by chainrule._tensor when it loads (graph.py must not import it at module level: cycle).
make_tensor = None

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """Base of every backward step. Subclasses define ``backward_grads(grads, wanted)``."""

    # `extras` is None or a NodeExtras: hooks, retained tensors and the anomaly trace are rare,
    # so they cost one slot, not three, on the hot path.
    # `seq` orders nodes by creation: a node is always made after the nodes of its inputs, so running
    # nodes from the highest seq down is a topological order (the engine needs no dependency counts).
    __slots__ = ("next", "shape", "dtype", "extras", "seq", "__weakref__")
    n_outputs = 1
    frees = True  # whether release() has anything to free (the engine skips the call otherwise)
    op = None  # the registered op of an OpNode (a class attribute of each op's node class)
    direct = 0  # OpNode classes: how the engine calls the op's rules on arrays itself (Op.direct)

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple(edge if edge is not None else (None, 0) for edge in self.next)

    def _extras(self):
        if self.extras is None:
            self.extras = NodeExtras()
        return self.extras

    def register_prehook(self, output_nr, hook):
        """Run ``hook(grad)`` on the gradient of output ``output_nr`` before this node uses it."""
        return HookHandle(self._extras().pre_hooks.setdefault(output_nr, {}), hook)

    def retain(self, output_nr, tensor):
        """Store the gradient of output ``output_nr`` in ``tensor.grad`` (Tensor.retain_grad)."""
        self._extras().retained[output_nr] = weakref.ref(tensor)

    def release(self):
        """Free what backward needed (called after backward unless retain_graph)."""

    def backward_raw(self, grad, wanted):
        """backward_grads on raw arrays: the engine's mode when the backward pass builds no graph.
        Nodes whose rules can run on arrays override this; the rest run their Tensor rules here."""
        if self.n_outputs == 1:
            grad = make_tensor(grad if grad.__class__ is ndarray else asarray(grad))  # 0-d sums are NumPy scalars
        else:
            grad = [None if g is None else make_tensor(g if g.__class__ is ndarray else asarray(g)) for g in grad]
        return [None if g is None else g._data for g in self.backward_grads(grad, wanted)]

    def output_meta(self, output_nr):
        """(shape, dtype) of output ``output_nr``: what a gradient arriving there must look like."""
        return self.shape, self.dtype

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class NodeExtras:
    __slots__ = ("pre_hooks", "retained", "trace", "out_tangent")

    def __init__(self):
        self.pre_hooks = {}
        self.retained = {}
        self.trace = None
        self.out_tangent = None  # (dual level generation, tangent) of the output a rule reads: forward mode


class OpNode(Node):
    """A node made by a registered op. Each op gets a subclass named after it (AddBackward0, …)."""

    # `op` is a class attribute of each op's subclass, so it costs nothing per node.
    # `epoch`: inplace_count when the node was made; while it is unchanged nothing can have been changed
    # in place, and backward skips the per-tensor version checks.
    __slots__ = ("saved", "arrays", "params", "out_data", "out_version", "saved_versions", "epoch")

    def release(self):
        if self.op.saves_tensors:
            self.saved = None
            self.arrays = None
            self.out_data = None

    def backward_grads(self, grad, wanted):
        out, saved = self._unpack(raw=False)
        return self._call_rules(grad, out, saved, wanted)

    def backward_raw(self, grad, wanted):
        op = self.op
        if not op.raw:
            return Node.backward_raw(self, grad, wanted)
        # The hot path of backward(): kept flat (no helper calls) on purpose.
        arrays = self.arrays
        if arrays is None:
            raise GraphError(f"{self.name()}: {FREED_MESSAGE}")
        if self.epoch != inplace_count[0]:  # something changed in place since: check what was saved
            self._check_saved()
        out = self.out_data if op.saves_out else None
        params = self.params
        vjps = op.vjps
        if len(vjps) == 2 and not params:  # binary arithmetic: the most common node of all
            rule_a, rule_b = vjps
            return [rule_a(grad, out, *arrays) if wanted[0] else None,
                    rule_b(grad, out, *arrays) if wanted[1] else None]
        if len(vjps) == 1 and not params:
            return [vjps[0](grad, out, *arrays) if wanted[0] else None]
        return [rule(grad, out, *arrays, **params) if want else None for rule, want in zip(vjps, wanted)]

    def _unpack(self, raw):
        """The op's output and saved inputs for the rules, after checking they are still intact.
        ``raw``: as arrays (rules of ops declared ``raw=True`` give the same results on arrays)."""
        op = self.op
        saved = self.saved
        if saved is None:
            raise GraphError(f"{self.name()}: {FREED_MESSAGE}")
        if self.epoch != inplace_count[0]:
            self._check_saved()
        if raw and op.saves_any:
            saved = self.arrays
        out = None
        if op.saves_out:
            out = self.out_data if raw else make_tensor(self.out_data, self, True)
            if not raw and self.extras is not None and self.extras.out_tangent is not None:
                forward_ad.restore_tangent(out, self.extras.out_tangent)  # forward-over-reverse
        return out, saved

    def _check_saved(self):
        """Raise if a saved input or the saved output was changed in place after it was saved."""
        if self.op.saves_any:
            check_versions(self, self.saved)
        if self.op.saves_out and self.out_version[0] != 0:
            raise GraphError(modified_message(self, "its output", self.out_data, self.out_version))

    def _call_rules(self, grad, out, saved, wanted):
        op = self.op
        params = self.params
        if op.varargs:
            rule = op.vjps[0]
            return [rule(grad, out, *saved, index=i, **params) if want else None for i, want in enumerate(wanted)]
        return [rule(grad, out, *saved, **params) if want else None for rule, want in zip(op.vjps, wanted)]

    def saved_what(self, position):
        """How errors name saved tensor ``position`` (check_versions)."""
        names = self.op.arg_names
        return f"input '{names[min(position, len(names) - 1)]}'"

    @property
    def saved_tensors(self):
        if self.saved is None:
            raise GraphError(FREED_MESSAGE)
        return tuple(t for t in self.saved if t is not None)


class AccumulateGrad(Node):
    """The end of the graph for a leaf tensor: gradients arriving here go into ``leaf.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.next = ()
        self.extras = None
        self.seq = next_seq()
        self.variable = variable
        self.shape = variable.shape
        self.dtype = variable._data.dtype

    def output_meta(self, output_nr):
        return self.variable.shape, self.variable._data.dtype


def sums_to(grad_shape, shape):
    """Whether a gradient of ``grad_shape`` can be summed down to ``shape`` (undoing broadcasting)."""
    extra = len(grad_shape) - len(shape)
    if extra < 0:
        return False
    return all(s == 1 or s == gs for s, gs in zip(shape, grad_shape[extra:]))


# How many in-place changes (version bumps) have happened, ever: see OpNode.epoch.
inplace_count = [0]

# The next sequence number for a node; call it after the node's edges exist (see Node.seq).
next_seq = itertools.count().__next__


def accumulator(leaf):
    """The AccumulateGrad node of a leaf; the leaf holds it weakly, so it lives as long as a graph uses it."""
    ref = leaf._acc
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._acc = weakref.ref(node)
    return node


def check_versions(node, saved):
    """Raise if a saved tensor was changed in place after it was saved (its version moved on)."""
    expected = node.saved_versions
    if expected is None:
        for x in saved:
            if getattr(x, "_vc", None) is not None:
                break
        else:
            return  # nothing saved has ever been changed in place: the common case
    for position, tensor in enumerate(saved):
        counter = getattr(tensor, "_vc", None)
        if counter is not None and counter[0] != (expected[position] if expected else 0):
            raise GraphError(modified_message(node, node.saved_what(position), tensor._data, counter,
                                              expected[position] if expected else 0))


def modified_message(node, what, array, counter, expected=0):
    modifier = counter[1] if len(counter) > 1 else "an in-place operation"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of {node.name()} (shape {shape_str(array.shape)}, {array.dtype}) was saved for backward at "
        f"version {expected} and is now at version {counter[0]}, last changed by {modifier}. "
        "Apply the in-place operation to a .clone(), or use its out-of-place form."
    )


class HookHandle:
    """Returned by register_hook; ``.remove()`` takes the hook out again."""

    _next_id = 0

    def __init__(self, table, hook):
        HookHandle._next_id += 1
        self.id = HookHandle._next_id
        self._table = table
        table[self.id] = hook

    def remove(self):
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

