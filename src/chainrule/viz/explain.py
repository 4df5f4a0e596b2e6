"""explain: the chain rule behind a backward pass, step by step, in the order the engine runs it.

    expl = explain(f, inputs={"x": x, "y": y})
    print(expl)                   # forward values, then each node: incoming gradient, local derivatives, products
    expl.leaf_gradients["x"]      # df/dx

The walk calls each node's own backward (the op's VJP rules, exactly as the engine does) on the retained
graph: a gradient of 1 gives a scalar node's local partial derivatives, the incoming gradient gives what the
edge carries. Nothing is written to any ``.grad``, no hook runs and the graph is not freed. Scalars are shown
as numbers; larger tensors as a summary (shape, norm, min, max), their local derivatives as "the VJP applied".
"""
import html
import itertools
import string
from dataclasses import dataclass, field

import numpy as np

from .._backend import xp
from .._errors import GraphError, ShapeError, shape_str
from .._tensor import Tensor
from ..autograd import cut as _cuts
from ..autograd import engine as _engine
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import AccumulateGrad, OpNode

__all__ = ["explain", "Explanation", "ForwardStep", "Step", "Edge"]

_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


@dataclass(repr=False)
class ForwardStep:
    """One recorded op in forward order: ``name = expression = value``."""
    index: int
    name: str
    expression: str
    value: object  # float for one element, ndarray otherwise, None where the graph kept no value
    node: str      # the grad_fn's name (MulBackward0, ...)

    def __repr__(self):
        return f"ForwardStep({self.index}: {self.name} = {self.expression} = {fmt(self.value)})"


@dataclass(repr=False)
class Edge:
    """What one node sends to one of its inputs: incoming gradient x local derivative."""
    input: str
    local: object        # d node / d input (a float, or an array for a scalar node with a tensor input); None: VJP only
    formula: str         # the local derivative as a formula from the op's own rule, or None
    contribution: object  # the gradient this edge carries to the input

    def __repr__(self):
        local = "VJP" if self.local is None else fmt(self.local)
        return f"Edge(-> {self.input}: local {local}, carries {fmt(self.contribution)})"


@dataclass(repr=False)
class Step:
    """One node of the backward pass, in the engine's order (descending creation order)."""
    index: int
    name: str
    node: str                  # grad_fn name, or "AccumulateGrad" for a leaf
    value: object              # the node's forward value
    gradient: object           # d output / d node: the sum of ``parts`` (a list: one per output, for several)
    parts: list = field(default_factory=list)  # [(consumer name, contribution)]: what was summed
    edges: list = field(default_factory=list)  # [Edge]; empty for a leaf
    is_leaf: bool = False

    def __repr__(self):  # summaries, never a dump of a large tensor
        parts = " + ".join(f"{fmt(g)} via {src}" for src, g in self.parts if src is not None)
        return (f"Step({self.index}: {self.name} [{'leaf' if self.is_leaf else self.node}], value {fmt(self.value)}, "
                f"gradient {fmt(self.gradient)}{' = ' + parts if len(self.parts) > 1 else ''}, edges {self.edges})")


class Explanation:
    """The chain rule for one output. ``forward``: [ForwardStep]; ``steps``: [Step] in engine order;
    ``leaf_gradients``: {leaf name: gradient}; ``values`` / ``gradients``: {name: value / d output / d name}.
    Printable (``str``), and ``to_markdown()`` / ``_repr_markdown_`` / ``_repr_html_`` for notebooks."""

    def __init__(self, output_name, forward, steps, scalar):
        self.output = output_name
        self.forward = forward
        self.steps = steps
        self.scalar = scalar
        self.values = {s.name: s.value for s in steps}
        self.gradients = {s.name: s.gradient for s in steps}
        self.leaf_gradients = {s.name: s.gradient for s in steps if s.is_leaf}
        self._expressions = {f.name: f.expression for f in forward}

    def local(self, of, wrt):
        """The local derivative d(of)/d(wrt) on the edge from node ``of`` to its input ``wrt``."""
        for step in self.steps:
            if step.name == of:
                for edge in step.edges:
                    if edge.input == wrt:
                        return edge.local
        raise KeyError(f"explain: no edge {of} -> {wrt}; edges are "
                       f"{[(s.name, e.input) for s in self.steps for e in s.edges]}")

    # ------------------------------------------------------------------ text
    def _d(self, name):
        return f"d{self.output}/d{name}"

    def _head(self):
        last = self.forward[-1] if self.forward and self.forward[-1].name == self.output else None
        what = f"{self.output} = {last.expression}" if last is not None else self.output
        return f"Chain rule for {what}, step by step in the order the engine runs it"

    def _edge_text(self, step, edge):
        d_out, d_local = self._d(step.name), f"d{step.name}/d{edge.input}"
        if edge.local is None:
            return (f"{step.name} -> {edge.input}: the VJP of {step.node} applied to {d_out} gives "
                    f"{fmt(edge.contribution)}")
        formula = f"{edge.formula} = " if _shows(edge) else ""
        return (f"{step.name} -> {edge.input}: local {d_local} = {formula}{fmt(edge.local)};  "
                f"{d_out} × {d_local} = {fmt(step.gradient)} × {fmt(edge.local)} = {fmt(edge.contribution)}")

    def _label(self, step):
        expression = self._expressions.get(step.name)
        return f"{step.name} = {expression}" if expression else step.name

    def _gradient_text(self, step):
        if isinstance(step.gradient, list):  # a node with several outputs
            return "; ".join(f"{self._d(f'{step.name}[{nr}]')} = {fmt(g) if g is not None else 'none'}"
                             for nr, g in enumerate(step.gradient))
        text = f"{self._d(step.name)} = "
        if len(step.parts) > 1:
            text += " + ".join(f"{fmt(g)} (via {src})" for src, g in step.parts) + " = "
        text += fmt(step.gradient)
        if step.parts and step.parts[0][0] is None:
            text += "  (the seed: the gradient backward starts from)"
        return text

    def __str__(self):
        lines = [self._head(), "", "Forward pass (each node's value):"]
        for f in self.forward:
            lines.append(f"  step {f.index}: {f.name} = {f.expression} = {fmt(f.value)}")
        lines += ["", "Backward pass (newest node first; gradient in, local derivative on each edge, their product out):"]
        for step in self.steps:
            kind = "leaf" if step.is_leaf else step.node
            lines.append(f"  {step.index}. {self._label(step)} [{kind}]")
            lines.append(f"     {self._gradient_text(step)}" + ("  -> its .grad" if step.is_leaf else ""))
            lines += [f"     {self._edge_text(step, e)}" for e in step.edges]
        leaves = ", ".join(f"{self._d(n)} = {fmt(g)}" for n, g in self.leaf_gradients.items())
        lines += ["", f"Leaf gradients: {leaves}"]
        return "\n".join(lines)

    __repr__ = __str__

    def to_markdown(self):
        rows = [f"**{_md(self._head())}**", "", "Forward pass:", "", "| step | node | computation | value |",
                "| --- | --- | --- | --- |"]
        rows += [f"| {f.index} | {_md(f.name)} | `{f.expression}` | {fmt(f.value)} |" for f in self.forward]
        rows += ["", "Backward pass (engine order):", "",
                 "| # | node | gradient | edge | local derivative | incoming × local |",
                 "| --- | --- | --- | --- | --- | --- |"]
        for step in self.steps:
            first = (f"| {step.index} | {_md(step.name)} ({'leaf' if step.is_leaf else step.node}) | "
                     f"{_md(self._gradient_text(step))} ")
            if not step.edges:
                rows.append(first + "| | | |")
            for i, edge in enumerate(step.edges):
                local, product = self._edge_cells(step, edge, code="`")
                rows.append((first if i == 0 else "| | | ") + f"| {_md(step.name)} → {_md(edge.input)} | {local} | "
                            f"{product} |")
        leaves = ", ".join(f"{self._d(n)} = {fmt(g)}" for n, g in self.leaf_gradients.items())
        rows += ["", f"Leaf gradients: {_md(leaves)}"]
        return "\n".join(rows)

    def _edge_cells(self, step, edge, code=""):
        if edge.local is None:
            return f"VJP of {step.node}", fmt(edge.contribution)
        formula = f"{code}{edge.formula}{code} = " if _shows(edge) else ""
        return (f"d{step.name}/d{edge.input} = {formula}{fmt(edge.local)}",
                f"{fmt(step.gradient)} × {fmt(edge.local)} = {fmt(edge.contribution)}")

    def _repr_markdown_(self):
        return self.to_markdown()

    def _repr_html_(self):
        e = html.escape
        out = [f"<div><p><b>{e(self._head())}</b></p><p>Forward pass:</p><table>",
               "<tr><th>step</th><th>node</th><th>computation</th><th>value</th></tr>"]
        out += [f"<tr><td>{f.index}</td><td>{e(f.name)}</td><td><code>{e(f.expression)}</code></td>"
                f"<td>{e(fmt(f.value))}</td></tr>" for f in self.forward]
        out += ["</table><p>Backward pass (engine order):</p><table>",
                "<tr><th>#</th><th>node</th><th>gradient</th><th>edge</th><th>local derivative</th>"
                "<th>incoming × local</th></tr>"]
        for step in self.steps:
            span = max(len(step.edges), 1)
            head = (f"<td rowspan='{span}'>{step.index}</td><td rowspan='{span}'>{e(step.name)} "
                    f"({e('leaf' if step.is_leaf else step.node)})</td><td rowspan='{span}'>{e(self._gradient_text(step))}</td>")
            if not step.edges:
                out.append(f"<tr>{head}<td></td><td></td><td></td></tr>")
            for i, edge in enumerate(step.edges):
                local, product = self._edge_cells(step, edge)
                out.append(f"<tr>{head if i == 0 else ''}<td>{e(step.name)} → {e(edge.input)}</td>"
                           f"<td>{e(local)}</td><td>{e(product)}</td></tr>")
        leaves = ", ".join(f"{self._d(n)} = {fmt(g)}" for n, g in self.leaf_gradients.items())
        out.append(f"</table><p>Leaf gradients: {e(leaves)}</p></div>")
        return "".join(out)


def _md(text):
    """Text for a Markdown table cell: `*`, `_` and `|` would be markup there."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _shows(edge):
    """Whether an edge's formula says more than its number (``1 = 1`` does not)."""
    return bool(edge.formula) and edge.formula != fmt(edge.local)


def fmt(value):
    """A number for one element, a summary (shape, norm, min, max) for more, as every format shows it."""
    if value is None:
        return "(not kept by the graph)"
    if isinstance(value, (float, int)):
        return f"{value:.6g}"
    if isinstance(value, list):  # one per output of a node with several
        return "[" + ", ".join(fmt(v) if v is not None else "none" for v in value) + "]"
    array = np.asarray(value)
    if array.size == 1:
        return f"{float(array.reshape(())):.6g}"
    if array.size == 0:
        return f"tensor{list(array.shape)} (empty)"
    a = array.astype(np.float64)
    return (f"tensor{list(array.shape)} (norm {np.linalg.norm(a.ravel()):.4g}, min {a.min():.4g}, "
            f"max {a.max():.4g})")


def _py(array):
    """How values appear in the structured data: a float for one element, else a copy of the array."""
    if array is None:
        return None
    array = np.asarray(array)
    return float(array.reshape(())) if array.size == 1 else array.copy()


# ---------------------------------------------------------------------------------------------- explain
def explain(t, inputs=None, gradient=None, name="f"):
    """Explain the backward pass of ``t`` (a scalar, or any tensor with ``gradient=``) step by step.
    ``inputs``: names for the leaves, ``{"x": x, ...}`` or ``model.named_parameters()``; others are leaf0, ...
    Intermediate values are named a, b, c, ... in forward order and the output ``name``."""
    if not isinstance(t, Tensor):
        raise TypeError(f"explain: expected a chainrule Tensor, got {type(t).__name__}")
    if not t._rg:
        raise GraphError(f"explain: the tensor does not require grad, so it has no graph to explain: {_cuts.reason(t)}")
    seed = _seed(t, gradient)
    root = t.grad_fn if t.grad_fn is not None else _accumulator(t)
    nodes = _reachable(root)
    freed = [n.name() for n in nodes if getattr(n, "saved", ()) is None]
    if freed:
        raise GraphError(f"explain: the graph's saved values were freed by backward() ({', '.join(freed[:3])} ...): call "
                         "explain() before backward(), or call backward(retain_graph=True) first.")
    names = _names(nodes, root, t, inputs, name)
    forward_order = sorted(nodes, key=lambda n: n.seq)
    values = _values(forward_order, root, t)
    forward = []
    for node in forward_order:
        if node.__class__ is not AccumulateGrad:
            forward.append(ForwardStep(len(forward) + 1, names[node], _expression(node, names, values),
                                       _py(values.get((node, 0))), node.name()))
    steps = _backward(sorted(nodes, key=lambda n: -n.seq), root, t._nr, seed, names, values)
    return Explanation(names[root], forward, steps, t._data.size == 1)


def _seed(t, gradient):
    if gradient is None:
        if t._data.size != 1:
            raise GraphError(f"explain: the output has shape {shape_str(t.shape)}; pass gradient= (a tensor of that "
                             "shape, the d(loss)/d(output) backward starts from) or explain a scalar such as t.sum().")
        return np.ones_like(t._data)
    g = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=t._data.dtype)
    if g.shape != t._data.shape:
        raise ShapeError(f"explain: gradient has shape {shape_str(g.shape)} but the output has shape "
                         f"{shape_str(t.shape)}; pass a gradient of the output's shape")
    return g


def _accumulator(leaf):
    from ..autograd.graph import accumulator
    return accumulator(leaf)


def _reachable(root):
    seen, stack = {root: None}, [root]
    while stack:
        for edge in stack.pop().next:
            if edge is not None and edge[0] not in seen:
                seen[edge[0]] = None
                stack.append(edge[0])
    return list(seen)


def _names(nodes, root, t, inputs, output_name):
    given = {}
    if inputs is not None:
        pairs = inputs.items() if isinstance(inputs, dict) else inputs
        for key, tensor in pairs:
            if not isinstance(tensor, Tensor):
                raise TypeError(f"explain: inputs[{key!r}] is a {type(tensor).__name__}, not a Tensor")
            given[id(tensor)] = str(key)
    names, taken = {}, set(given.values()) | {output_name}
    leaves = sorted((n for n in nodes if n.__class__ is AccumulateGrad), key=lambda n: n.seq)
    for i, node in enumerate(leaves):
        names[node] = given.get(id(node.variable), f"leaf{i}")
    letters = (c for c in itertools.chain(string.ascii_lowercase, (f"v{i}" for i in itertools.count(27)))
               if c not in taken)
    for node in sorted(nodes, key=lambda n: n.seq):
        if node not in names:
            names[node] = output_name if node is root else next(letters)
    if root.__class__ is AccumulateGrad:
        names[root] = given.get(id(t), output_name)
    return names


def _input_name(edge, names):
    node, nr = edge
    return names[node] + (f"[{nr}]" if node.n_outputs > 1 else "")


# ---------------------------------------------------------------------------------------------- values
def _values(forward_order, root, t):
    """Each node's forward value: the output itself, leaves, what the graph saved (outputs, inputs that
    consumers kept), and otherwise the op recomputed from its inputs' values."""
    values = {(root, t._nr): t._data}
    for node in forward_order:
        if node.__class__ is AccumulateGrad:
            values[(node, 0)] = node.variable._data
        elif isinstance(node, OpNode):
            if node.op.saves_out and node.out_data is not None:
                values.setdefault((node, 0), node.out_data)
            for edge, saved in zip(node.next, node.saved or ()):
                if edge is not None and isinstance(saved, Tensor):
                    values.setdefault(edge, saved._data)
    for node in forward_order:
        if isinstance(node, OpNode) and (node, 0) not in values:
            args = _arguments(node, values)
            if args is not None:
                try:
                    out = np.asarray(node.op.forward(xp, *args, **node.params))
                    values[(node, 0)] = out.astype(node.dtype, copy=False)
                except Exception:  # a forward that needs more than its inputs (rare): leave the value unknown
                    pass
    return values


def _arguments(node, values):
    args = []
    saved = node.saved or ()
    for i, edge in enumerate(node.next):
        if edge is not None:
            value = values.get(edge)
        else:
            value = _constant(saved[i] if i < len(saved) else None)
        if value is None:
            return None
        args.append(value)
    return args


def _constant(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (int, float, complex, np.ndarray, np.generic)) and not isinstance(x, bool):
        return x
    return None


def _expression(node, names, values):
    parts = []
    saved = getattr(node, "saved", None) or ()
    for i, edge in enumerate(node.next):
        if edge is not None:
            parts.append(_input_name(edge, names))
        else:
            c = _constant(saved[i] if i < len(saved) else None)
            parts.append("const" if c is None else fmt(c))
    op = getattr(node, "op", None)
    label = op.name if op is not None else node.name().replace("Backward0", "").replace("Backward", "").lower()
    if label in _INFIX and len(parts) == 2 and not getattr(node, "params", None):
        return f"{parts[0]} {_INFIX[label]} {parts[1]}"
    params = getattr(node, "params", None) or {}
    extra = [f"{k}={_short(v)}" for k, v in params.items() if v is not None and v is not False]
    return f"{label}({', '.join(parts + extra)})"


def _short(value):
    text = f"array{list(value.shape)}" if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


# ---------------------------------------------------------------------------------------------- backward
def _backward(order, root, root_nr, seed, names, values):
    received = {root: {root_nr: [(None, seed)]}}  # node -> output nr -> [(consumer name, gradient)]
    steps = []
    previous = _grad_state.enabled, _grad_state.in_backward
    _grad_state.enabled, _grad_state.in_backward = False, True  # as the engine: rules build no graph
    try:
        for node in order:
            slots = received.pop(node, None)
            if not slots:
                continue  # no gradient reached it (the engine skips it too)
            total = {nr: _sum(parts) for nr, parts in slots.items()}
            if node.n_outputs == 1:
                gradient, parts = _py(total.get(0)), [(src, _py(g)) for src, g in slots[0]]
            else:  # one gradient per output (None where none arrived); parts name the output they reached
                gradient = [_py(total.get(i)) for i in range(node.n_outputs)]
                parts = [(f"{src} into output {nr}", _py(g)) for nr in sorted(slots) for src, g in slots[nr]]
            step = Step(len(steps) + 1, names[node], node.name(), _py(values.get((node, 0))), gradient, parts,
                        is_leaf=node.__class__ is AccumulateGrad)
            steps.append(step)
            if step.is_leaf:
                continue
            _edges(node, step, total, names, values, received)
    finally:
        _grad_state.enabled, _grad_state.in_backward = previous
    return steps


def _sum(parts):
    total = None
    for _, g in parts:
        total = g if total is None else total + g
    return total


def _edges(node, step, total, names, values, received):
    edges = node.next
    wanted = [e is not None for e in edges]
    single = node.n_outputs == 1
    g = total[0] if single else [total.get(i) for i in range(node.n_outputs)]
    grads = node.backward_raw(g, wanted)
    # A node with one element out has numbers (or a gradient vector) as local derivatives: its VJP of 1.
    scalar = single and node.shape is not None and int(np.prod(node.shape)) == 1
    locals_ = node.backward_raw(np.ones_like(g), wanted) if scalar else [None] * len(edges)
    formulas = _formulas(node, names, values) if scalar else {}
    for i, (edge, gi, li) in enumerate(zip(edges, grads, locals_)):
        if edge is None or gi is None:
            continue
        target, nr = edge
        gi = _engine._fit(gi, node, target, nr, True)
        local = _py(_engine._fit(li, node, target, nr, True)) if li is not None else None
        name = _input_name(edge, names)
        step.edges.append(Edge(name, local, formulas.get(i), _py(gi)))
        received.setdefault(target, {}).setdefault(nr, []).append((step.name, gi))


def _formulas(node, names, values):
    """The local derivatives as formulas, by running the op's own VJP rules on symbols (g = 1), kept only
    where the formula evaluates to the number the rule gives (a check that the names stand for the values)."""
    op = getattr(node, "op", None)
    if op is None or op.varargs or node.params:
        return {}
    try:
        from .. import symbolic
    except ImportError:  # pragma: no cover
        return {}
    symbols, numbers = [], {}
    saved = node.saved or ()
    for i, edge in enumerate(node.next):
        if edge is not None:
            label = _symbol_name(_input_name(edge, names))
            symbols.append(symbolic.symbol(label))
            numbers[label] = values.get(edge)
        else:
            c = _constant(saved[i] if i < len(saved) else None)
            if c is None or np.size(c) != 1:
                return {}
            symbols.append(symbolic.const(float(np.asarray(c).reshape(()))))
    out_label = _symbol_name(names[node])
    out = symbolic.symbol(out_label)
    numbers[out_label] = values.get((node, 0))
    formulas = {}
    for i, (edge, rule) in enumerate(zip(node.next, op.vjps)):
        if edge is None or rule is None:
            continue
        try:
            expr = rule(symbolic.const(1.0), out, *symbols)
            if not isinstance(expr, symbolic.Expr):
                expr = symbolic.const(float(expr))
            used = {s: v for s, v in numbers.items() if s in {str(f) for f in expr.free_symbols}}
            if any(v is None or np.size(v) != 1 for v in used.values()):
                continue
            formulas[i] = (expr, {s: float(np.asarray(v).reshape(())) for s, v in used.items()})
        except Exception:  # a rule that needs real tensors (shapes, indexing): no formula, the number stands
            continue
    return {i: _checked(node, i, expr, env) for i, (expr, env) in formulas.items()}


def _symbol_name(label):
    return label.replace("[", "_").replace("]", "")


def _checked(node, i, expr, env):
    # Compare with the rule's own number: a formula that disagrees (it should not) is left out.
    try:
        value = expr.evaluate(**env)
        wanted = [j == i for j in range(len(node.next))]
        number = node.backward_raw(np.ones(node.shape, node.dtype), wanted)[i]
        if np.allclose(float(np.sum(number)), value, rtol=1e-4, atol=1e-6):
            return str(expr)
    except Exception:
        pass
    return None
