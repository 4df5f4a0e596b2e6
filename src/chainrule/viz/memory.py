"""What backward keeps: ``memory_report(t)`` lists, node by node in the order the engine runs them, the
arrays each node of the graph behind ``t`` holds for its backward rule, their bytes and the total.

Reverse mode keeps intermediate values alive until backward has used them (seed 003): this is the
memory that checkpointing trades for recomputation. An array held by several nodes (``x * x`` saves
``x`` twice; a ReLU's output is the next layer's saved input) is counted once in the total, at the first
row (in engine order) that holds it. Leaves save nothing, so they get no row. Backward frees what nodes
saved (unless ``retain_graph=True``); arrays kept among an op's parameters (max pooling's indices) stay
while the graph is alive.
"""
from ._summary import nbytes_text, shape_text
from ._walk import as_roots, collect, is_leaf_node, saved_items


class SavedArray:
    """One array a node keeps: what it is for the rule, shape, dtype, bytes; ``leaf`` when it is a leaf
    that requires grad (a parameter: it exists anyway); ``shared_with``: the step of an earlier row that
    holds the same memory (then it adds nothing to the total)."""

    __slots__ = ("what", "shape", "dtype", "nbytes", "leaf", "shared_with")

    def __init__(self, item, shared_with):
        self.what = item.what
        self.shape = tuple(item.array.shape)
        self.dtype = item.array.dtype
        self.nbytes = item.nbytes
        self.leaf = item.is_leaf
        self.shared_with = shared_with

    def text(self):
        notes = []
        if self.leaf:
            notes.append("leaf")
        if self.shared_with is not None:
            notes.append(f"shared with step {self.shared_with}")
        note = f" [{', '.join(notes)}]" if notes else ""
        return f"{self.what} {shape_text(self.shape)} {self.dtype.name} {nbytes_text(self.nbytes)}{note}"

    def __repr__(self):
        return f"<SavedArray {self.text()}>"


class MemoryRow:
    """One node: ``step`` (1 = run first by backward), ``name`` (its grad_fn name), ``saved`` (SavedArray
    list), ``bytes`` (its distinct arrays), ``new_bytes`` (what it adds to the total), ``freed``."""

    __slots__ = ("step", "name", "seq", "shape", "saved", "bytes", "new_bytes", "freed")

    def __init__(self, step, node, saved, nbytes, new_bytes, freed):
        self.step = step
        self.name = node.name()
        self.seq = node.seq
        self.shape = getattr(node, "shape", None)
        self.saved = saved
        self.bytes = nbytes
        self.new_bytes = new_bytes
        self.freed = freed

    def saved_text(self, separator="; "):
        if self.saved:
            return separator.join(array.text() for array in self.saved)
        return "freed by backward" if self.freed else "nothing"

    def __repr__(self):
        return f"<MemoryRow {self.step} {self.name}: {nbytes_text(self.bytes)}>"


class MemoryReport:
    """``rows`` (engine order), ``total_bytes`` (each distinct array once), ``leaf_bytes`` (the part that
    is leaves requiring grad, i.e. parameters: alive anyway) and ``activation_bytes`` (the rest: inputs,
    intermediate values, workspaces). ``str(report)`` is a table; ``to_markdown()`` (Jupyter shows it)
    a Markdown one."""

    def __init__(self, rows):
        self.rows = rows
        counted = [array for row in rows for array in row.saved if array.shared_with is None]
        self.total_bytes = sum(row.new_bytes for row in rows)
        self.leaf_bytes = sum(array.nbytes for array in counted if array.leaf)
        self.activation_bytes = self.total_bytes - self.leaf_bytes

    @property
    def n_arrays(self):
        return sum(1 for row in self.rows for array in row.saved if array.shared_with is None)

    def summary(self):
        arrays, nodes = self.n_arrays, len(self.rows)
        return (f"total {nbytes_text(self.total_bytes)} in {arrays} saved array{'s' * (arrays != 1)} over {nodes} "
                f"node{'s' * (nodes != 1)} "
                f"(activations {nbytes_text(self.activation_bytes)}, leaves {nbytes_text(self.leaf_bytes)}); "
                "arrays held by several nodes counted once")

    def __str__(self):
        header = ("step", "node", "saved for backward", "bytes")
        lines = []
        for row in self.rows:
            texts = [array.text() for array in row.saved] or [row.saved_text()]
            lines.append((str(row.step), row.name, texts[0], nbytes_text(row.bytes)))
            lines.extend(("", "", text, "") for text in texts[1:])
        widths = [max(len(header[i]), *(len(line[i]) for line in lines)) if lines else len(header[i]) for i in range(4)]

        def fmt(line):
            return (f"{line[0]:>{widths[0]}}  {line[1]:<{widths[1]}}  {line[2]:<{widths[2]}}  "
                    f"{line[3]:>{widths[3]}}").rstrip()

        rule = "-" * len(fmt(tuple("-" * w for w in widths)))
        return "\n".join([fmt(header), rule, *map(fmt, lines), rule, self.summary()])

    def to_markdown(self):
        lines = ["| step | node | saved for backward | bytes |", "|---:|---|---|---:|"]
        for row in self.rows:
            saved = row.saved_text("<br>").replace("|", "\\|")
            lines.append(f"| {row.step} | {row.name} | {saved} | {nbytes_text(row.bytes)} |")
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def _repr_markdown_(self):
        return self.to_markdown()

    def __repr__(self):
        return f"<MemoryReport: {len(self.rows)} nodes, {nbytes_text(self.total_bytes)} saved for backward>"


def memory_report(t):
    """The arrays each node of the graph behind ``t`` (a Tensor or a list/tuple of them) keeps for
    backward, in the order backward runs the nodes, with bytes per node and the total."""
    nodes = [node for node in collect(as_roots(t, "memory_report")) if not is_leaf_node(node)]
    rows, first_holder = [], {}
    for step, node in enumerate(reversed(nodes), start=1):  # the engine runs the newest node first
        items, freed = saved_items(node)
        saved, mine, new_bytes = [], {}, 0
        for item in items:
            key = item.key
            if key in mine:  # the same array twice in one node (x * x): listed once
                continue
            mine[key] = item.nbytes
            holder = first_holder.get(key)
            if holder is None:
                first_holder[key] = step
                new_bytes += item.nbytes
            saved.append(SavedArray(item, holder))
        rows.append(MemoryRow(step, node, saved, sum(mine.values()), new_bytes, freed))
    return MemoryReport(rows)
