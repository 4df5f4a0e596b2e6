"""Which module made which graph node: ``trace_modules`` records, for every module call during a forward
pass, the range of node creation numbers (``node.seq``) made inside it, so drawings can group nodes by
module and collapse repeated blocks::

    with viz.trace_modules(model) as trace:
        loss = F.cross_entropy(model(x), y)
    viz.to_dot(loss, modules=trace, collapse="blocks")
"""
import weakref

from ..autograd.graph import next_seq

_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


class ModuleCall:
    """One call of one module: its qualified name, class name, and the seq numbers (start, end) that
    bracket the nodes made during the call (start < node.seq < end)."""

    __slots__ = ("name", "kind", "start", "end", "depth", "parent", "has_children", "is_container", "index")

    def __init__(self, name, module, start, depth, parent, index):
        self.name = name
        self.kind = type(module).__name__
        self.start = start
        self.end = None
        self.depth = depth
        self.parent = parent  # the enclosing ModuleCall, or None
        self.has_children = bool(getattr(module, "_modules", None))
        self.is_container = any(c.__name__ in _CONTAINERS for c in type(module).__mro__)
        self.index = index

    @property
    def title(self):
        return f"{self.name} ({self.kind})" if self.name else self.kind

    def contains(self, seq):
        return self.start < seq and (self.end is None or seq < self.end)

    def __repr__(self):
        return f"<ModuleCall {self.title} seq {self.start}..{self.end}>"


class ModuleTrace:
    """The module calls recorded by ``trace_modules`` (a context manager; hooks are removed on exit)."""

    def __init__(self, modules):
        self._modules = modules  # [(qualified name, module)]
        self._handles = []
        self._open = []  # the calls in progress, innermost last
        self.calls = []

    def __enter__(self):
        for name, module in self._modules:
            self._handles.append(module.register_forward_pre_hook(self._pre(name)))
            self._handles.append(module.register_forward_hook(self._post()))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        end = next_seq()
        for call, _ in self._open:  # a forward that raised never reached its post hooks
            call.end = end
        self._open = []

    def _pre(self, name):
        depth = 0 if name == "" else name.count(".") + 1

        def hook(module, args):
            parent = self._open[-1][0] if self._open else None
            call = ModuleCall(name, module, next_seq(), depth, parent, len(self.calls))
            self.calls.append(call)
            self._open.append((call, weakref.ref(module)))

        return hook

    def _post(self):
        def hook(module, args, output):
            for i in range(len(self._open) - 1, -1, -1):  # normally the last one
                call, ref = self._open[i]
                if ref() is module:
                    call.end = next_seq()
                    del self._open[i]
                    break

        return hook

    def call_of(self, seq):
        """The innermost module call during which node ``seq`` was made, or None."""
        best = None
        for call in self.calls:  # calls nest, so the innermost is the containing one that started last
            if call.contains(seq) and (best is None or call.start > best.start):
                best = call
        return best

    def __repr__(self):
        return f"<ModuleTrace: {len(self.calls)} module calls>"


def trace_modules(model):
    """Context manager recording which module call made each graph node during the ``with`` block.
    ``model``: a Module (all its submodules are traced, named as in ``named_modules()``), or a dict
    ``{name: module}``. Pass the result to ``to_dot(..., modules=trace)``."""
    if isinstance(model, dict):
        modules = list(model.items())
    elif hasattr(model, "named_modules"):
        modules = list(model.named_modules())
    else:
        raise TypeError(f"trace_modules: expected a Module or a dict of name -> Module, got {type(model).__name__}")
    for name, module in modules:
        if not hasattr(module, "register_forward_pre_hook"):
            raise TypeError(f"trace_modules: {name!r} is a {type(module).__name__}, not a Module")
    return ModuleTrace(modules)
