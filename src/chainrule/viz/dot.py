"""Graphviz DOT source of the backward graph behind some tensors (as torchviz draws PyTorch's).

One box per op node (its grad_fn name, output shape and dtype), one per leaf that requires grad (named
after its parameter when ``params`` is given), one per output tensor; edges follow the data, from inputs
down to the outputs. Node ids come from creation order, so the same computation always gives the same
text. With ``modules=trace`` (see ``trace_modules``) nodes are grouped by the module call that made them,
and ``collapse`` draws whole module calls (repeated blocks) as single boxes.
"""
import fnmatch
from html import escape

from ._summary import nbytes_text, shape_text, summary
from ._walk import as_roots, collect, consumers, is_leaf_node, known_values, saved_items, unique_nbytes
from .modules import ModuleTrace

COLORS = {"op": "lightgrey", "leaf": "lightblue", "output": "darkolivegreen1", "block": "lightyellow"}


def to_dot(t, params=None, show_values=False, show_grads=False, show_saved=False, modules=None,
           collapse=None, max_value_elements=6, title=None):
    """DOT source (str) of the graph behind ``t`` (a Tensor or a list/tuple of Tensors).

    params: ``{name: tensor}``, e.g. ``dict(model.named_parameters())``: leaves are labelled with their
        names; intermediate tensors may be named too (their node shows the name, and its value/grad).
    show_values: each node's value where it is still known (leaves, outputs, named tensors, and what the
        graph saved for backward): numbers for scalars, small tensors in full (up to
        ``max_value_elements``), larger ones as shape, norm, min and max.
    show_grads: the ``.grad`` of leaves (and of named tensors that called ``retain_grad()``).
    show_saved: the bytes each node keeps saved for backward (0 once backward freed them).
    modules: a ``ModuleTrace`` from ``trace_modules(model)``: nodes are drawn inside a cluster per
        module call (blocks and containers), and ops made by a layer name it.
    collapse: draw module calls as one box each ("layer1.0 (BasicBlock): 12 ops"): "blocks" (modules
        that have submodules but are not Sequential/ModuleList/ModuleDict), an int (every call at that
        depth of the module tree, the model's children being depth 1), or a list of names/class names
        (shell patterns allowed: ``["layer*"]``). A ``ModuleTrace`` here means ``modules=that,
        collapse="blocks"``.
    title: a caption drawn above the graph.
    """
    roots = as_roots(t, "to_dot")
    if isinstance(collapse, ModuleTrace):
        modules, collapse = collapse, "blocks"
    if modules is not None and not isinstance(modules, ModuleTrace):
        raise TypeError(f"to_dot: modules must be the ModuleTrace from viz.trace_modules(model), got "
                        f"{type(modules).__name__}; record it with `with viz.trace_modules(model) as trace: "
                        "loss = ...` and pass modules=trace")
    if collapse is not None and modules is None:
        raise ValueError("to_dot: collapse needs to know which module made each node: record the forward pass "
                         "with `with viz.trace_modules(model) as trace: ...` and pass modules=trace")
    options = dict(show_values=show_values, show_grads=show_grads, show_saved=show_saved,
                   max_value_elements=max_value_elements)
    return _Drawing(roots, params, modules, collapse, options, title).source()


class _Drawing:
    def __init__(self, roots, params, trace, collapse, options, title):
        self.roots = roots
        self.options = options
        self.title = title
        self.nodes = collect(roots)
        self.ids = {id(node): f"n{i}" for i, node in enumerate(self.nodes)}
        self.leaf_names, self.node_names, self.named = _names(params)
        self.users = consumers(self.nodes)
        self.values = known_values(roots, self.nodes, self.named.values()) if options["show_values"] else {}
        self.placement = _Placement(self, trace, collapse) if trace is not None else None

    # ------------------------------------------------------------------ labels
    def node_label(self, node):
        opts = self.options
        if is_leaf_node(node):
            variable = node.variable
            lines = [_bold(self.leaf_names.get(id(variable), "leaf"))]
            lines.append(escape(_meta_text(variable.shape, variable._data.dtype)))
            if opts["show_values"]:
                lines.append("= " + escape(summary(variable._data, opts["max_value_elements"])))
            if opts["show_grads"] and variable._grad is not None:
                lines.append("grad " + escape(summary(variable._grad._data, opts["max_value_elements"])))
            return lines
        lines = [_bold(node.name())]
        name = self.node_names.get((id(node), 0))
        shape, dtype = _output_meta(node)
        meta = _meta_text(shape, dtype) if shape is not None else ""
        lines.append(escape(f"{name}: {meta}" if name else meta))
        if opts["show_values"] and (id(node), 0) in self.values:
            lines.append("= " + escape(summary(self.values[(id(node), 0)], opts["max_value_elements"])))
        if opts["show_grads"]:
            tensor = self.named.get((id(node), 0))
            if tensor is not None and tensor._grad is not None:
                lines.append("grad " + escape(summary(tensor._grad._data, opts["max_value_elements"])))
        if opts["show_saved"]:
            lines.append(escape(_saved_text(node)))
        if self.placement is not None:
            layer = self.placement.layer_of(node)
            if layer:
                lines.append(f'<font color="gray35" point-size="9">{escape(layer)}</font>')
        return lines

    def output_label(self, k, root):
        opts = self.options
        name = self.node_names.get((id(root.grad_fn), root._nr)) if root.grad_fn is not None else None
        if name is None and root.grad_fn is None:
            name = self.leaf_names.get(id(root))
        name = name or ("output" if len(self.roots) == 1 else f"output {k}")
        lines = [_bold(name), escape(_meta_text(root.shape, root._data.dtype))]
        if root.grad_fn is None:
            lines.append("leaf" if root.requires_grad else "no grad_fn: not part of a graph")
        if opts["show_values"]:
            lines.append("= " + escape(summary(root._data, opts["max_value_elements"])))
        if opts["show_grads"] and root._grad is not None:
            lines.append("grad " + escape(summary(root._grad._data, opts["max_value_elements"])))
        return lines

    # ------------------------------------------------------------------ output
    def source(self):
        out = ["digraph chainrule {"]
        out.append('  graph [fontname="Helvetica", fontsize=11, ranksep=0.35, nodesep=0.3'
                   + (f", label=<{_bold(self.title)}>, labelloc=t" if self.title else "") + "];")
        out.append('  node [shape=box, style="filled,rounded", fontname="Helvetica", fontsize=11, '
                   f'fillcolor={COLORS["op"]}, margin="0.12,0.04"];')
        out.append('  edge [color="gray30", arrowsize=0.7];')
        statements = {}  # drawn id -> its node statement
        for node in self.nodes:
            if self.placement is not None and self.placement.box_of(node) is not None:
                continue
            kind = "leaf" if is_leaf_node(node) else "op"
            color = "" if kind == "op" else f", fillcolor={COLORS[kind]}"
            statements[self.ids[id(node)]] = f"{self.ids[id(node)]} [label={_html(self.node_label(node))}{color}];"
        if self.placement is not None:
            for box in self.placement.boxes:
                statements[self.placement.box_id(box)] = (
                    f"{self.placement.box_id(box)} [label={_html(self.placement.box_label(box))}, shape=box3d, "
                    f'style=filled, fillcolor={COLORS["block"]}];')
            out.extend(self.placement.clustered(statements))
        else:
            out.extend("  " + statement for statement in statements.values())
        for k, root in enumerate(self.roots):
            out.append(f'  out{k} [label={_html(self.output_label(k, root))}, fillcolor={COLORS["output"]}];')
        out.extend("  " + edge for edge in self.edges())
        out.append("}")
        return "\n".join(out) + "\n"

    def drawn(self, node):
        """The id a node is drawn as: its own, or that of the box it was collapsed into."""
        if self.placement is not None:
            box = self.placement.box_of(node)
            if box is not None:
                return self.placement.box_id(box)
        return self.ids[id(node)]

    def edges(self):
        edges, seen = [], set()
        for node in self.nodes:
            head = self.drawn(node)
            for position, edge in enumerate(getattr(node, "next", ())):
                if edge is None:
                    continue
                source, nr = edge
                tail = self.drawn(source)
                # One edge per input (x * x draws two); between collapsed boxes, one per connection.
                key = (tail, head, nr) if head[0] == "m" or tail[0] == "m" else (tail, head, nr, position)
                if tail == head or key in seen:
                    continue
                seen.add(key)
                label = f' [label="{nr}", fontsize=9]' if getattr(source, "n_outputs", 1) > 1 else ""
                edges.append(f"{tail} -> {head}{label};")
        for k, root in enumerate(self.roots):
            node = root.grad_fn
            if node is None:
                acc = root._acc() if getattr(root, "_acc", None) is not None else None
                node = acc if acc is not None and id(acc) in self.ids else None
            if node is not None:
                label = f' [label="{root._nr}", fontsize=9]' if getattr(node, "n_outputs", 1) > 1 else ""
                edges.append(f"{self.drawn(node)} -> out{k}{label};")
        return edges


class _Placement:
    """Where each node goes when module calls are known: into a cluster (a module call drawn as a frame)
    or a box (a module call collapsed into one node)."""

    def __init__(self, drawing, trace, collapse):
        self.drawing = drawing
        self.trace = trace
        nodes = drawing.nodes
        call = {}
        for node in nodes:
            if not is_leaf_node(node):
                call[id(node)] = trace.call_of(node.seq)
        for node in nodes:  # a leaf goes with the users it feeds: into their innermost common call
            if is_leaf_node(node):
                users = [call.get(id(user)) for user, _ in drawing.users[id(node)]]
                call[id(node)] = _common(users) if users else None
        self.call = call
        collapsed = {c.index for c in trace.calls if _collapses(c, collapse)}
        self.box = {}
        for node in nodes:
            box = None
            c = call[id(node)]
            while c is not None:  # the outermost collapsed call around the node wins
                if c.index in collapsed:
                    box = c
                c = c.parent
            self.box[id(node)] = box
        self.boxes = sorted({b.index: b for b in self.box.values() if b is not None}.values(), key=lambda b: b.start)
        self.members = {b.index: [n for n in nodes if self.box[id(n)] is b] for b in self.boxes}

    def box_of(self, node):
        return self.box.get(id(node))

    @staticmethod
    def box_id(box):
        return f"m{box.index}"

    def layer_of(self, node):
        """The name of the layer (a module without submodules) that made an op, if any."""
        c = self.call.get(id(node))
        return c.name if c is not None and not c.has_children and c.name else ""

    def box_label(self, box):
        members = self.members[box.index]
        ops = [n for n in members if not is_leaf_node(n)]
        leaves = [n for n in members if is_leaf_node(n)]
        lines = [_bold(box.name or box.kind) + (f" ({escape(box.kind)})" if box.name else "")]
        count = f"{len(ops)} op{'s' if len(ops) != 1 else ''}"
        if leaves:
            count += f", {len(leaves)} parameter{'s' if len(leaves) != 1 else ''}"
        lines.append(count)
        last = max(ops, key=lambda n: n.seq, default=None)
        if last is not None:
            shape, dtype = _output_meta(last)
            if shape is not None:
                lines.append(escape("out " + _meta_text(shape, dtype)))
        if self.drawing.options["show_saved"]:
            total = unique_nbytes([item for n in ops for item in saved_items(n)[0]])
            lines.append(escape("saved " + nbytes_text(total)))
        return lines

    def clustered(self, statements):
        """Node statements nested in ``subgraph cluster_*`` blocks, one per module call that has
        submodules (the model itself and collapsed calls excepted)."""
        def frame_of(c):
            while c is not None and (not c.has_children or c.depth == 0 or self._inside_box(c)):
                c = c.parent
            return c

        children = {}  # frame index (None: top level) -> [(seq, kind, item)]
        frames = {}
        for node in self.drawing.nodes:
            if self.box_of(node) is None:
                frame = frame_of(self.call[id(node)])
                children.setdefault(getattr(frame, "index", None), []).append(
                    (node.seq, 0, self.drawing.ids[id(node)]))
                _register(frame, frames, children, frame_of)
        for box in self.boxes:
            frame = frame_of(box.parent)
            children.setdefault(getattr(frame, "index", None), []).append((box.start, 0, self.box_id(box)))
            _register(frame, frames, children, frame_of)

        lines = []

        def emit(index, indent):
            for _, kind, item in sorted(children.get(index, ()), key=lambda e: (e[0], e[1])):
                if kind == 0:
                    lines.append(indent + statements[item])
                else:
                    frame = frames[item]
                    lines.append(f"{indent}subgraph cluster_{frame.index} {{")
                    lines.append(f'{indent}  label=<{_bold(frame.name)} ({escape(frame.kind)})>; labeljust=l; '
                                 'style="rounded,dashed"; color="gray50"; fontsize=10;')
                    emit(item, indent + "  ")
                    lines.append(indent + "}")

        emit(None, "  ")
        return lines

    def _inside_box(self, c):
        while c is not None:
            if any(c is b for b in self.boxes):
                return True
            c = c.parent
        return False


def _register(frame, frames, children, frame_of):
    """Make sure a frame and its enclosing frames are listed in their parents' children."""
    while frame is not None and frame.index not in frames:
        frames[frame.index] = frame
        parent = frame_of(frame.parent)
        children.setdefault(getattr(parent, "index", None), []).append((frame.start, 1, frame.index))
        frame = parent


def _collapses(call, collapse):
    if call.depth == 0 or collapse is None or collapse is False:
        return False
    if collapse is True or collapse == "blocks":
        return call.has_children and not call.is_container
    if isinstance(collapse, int):
        return call.depth == collapse
    if isinstance(collapse, str):
        collapse = [collapse]
    try:
        patterns = list(collapse)
    except TypeError:
        raise TypeError(f"to_dot: collapse must be 'blocks', a depth (int) or a list of module names/class names, "
                        f"got {type(collapse).__name__}") from None
    return any(fnmatch.fnmatchcase(call.name, p) or call.kind == p for p in patterns)


def _common(calls):
    """The innermost module call enclosing all of ``calls`` (None: outside every call)."""
    chains = []
    for c in calls:
        chain = []
        while c is not None:
            chain.append(c)
            c = c.parent
        chains.append(chain[::-1])
    common = None
    for level in zip(*chains):
        if all(c is level[0] for c in level):
            common = level[0]
        else:
            break
    return common


def _names(params):
    """params as lookups: leaf id -> name, (node id, output nr) -> name, and the named non-leaf tensors."""
    leaf_names, node_names, named = {}, {}, {}
    if params is None:
        return leaf_names, node_names, named
    if hasattr(params, "items"):
        items = list(params.items())
    else:
        try:
            items = [(name, value) for name, value in params]
        except (TypeError, ValueError):
            raise TypeError("to_dot: params must be a dict of name -> Tensor, e.g. dict(model.named_parameters()), "
                            f"got {type(params).__name__}") from None
    for name, tensor in items:
        if not hasattr(tensor, "_data"):
            raise TypeError(f"to_dot: params[{name!r}] is a {type(tensor).__name__}, not a Tensor")
        if tensor.grad_fn is None:
            leaf_names.setdefault(id(tensor), str(name))
        else:
            key = (id(tensor.grad_fn), tensor._nr)
            node_names.setdefault(key, str(name))
            named.setdefault(key, tensor)
    return leaf_names, node_names, named


def _output_meta(node):
    try:
        meta = node.output_meta(0)
    except Exception:  # a node type that does not know its outputs: draw it without
        return None, None
    return meta if meta is not None else (None, None)


def _meta_text(shape, dtype):
    return f"{shape_text(tuple(shape))} {getattr(dtype, 'name', dtype)}"


def _saved_text(node):
    items, freed = saved_items(node)
    if freed and not items:
        return "saved 0 B (freed)"
    return "saved " + nbytes_text(unique_nbytes(items))


def _bold(text):
    return f"<b>{escape(str(text))}</b>"


def _html(lines):
    """An HTML-like DOT label; every line was escaped where it was made."""
    return "<" + "<br/>".join(line for line in lines if line) + ">"
