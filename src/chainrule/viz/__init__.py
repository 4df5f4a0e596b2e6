"""chainrule.viz: see the graph, the chain rule and the memory.

- ``to_dot`` / ``render`` / ``graph`` (a ``Graph`` that shows itself in Jupyter): the graph behind a tensor,
  drawn with Graphviz; ``trace_modules`` records which module made each node so big models collapse by block.
- ``explain``: the chain rule step by step, in the order the engine runs it (seed 004's walk-through).
- ``why_no_grad``: why a tensor has no grad_fn, or why a leaf got no gradient from an output.
- ``memory_report``: the bytes each node keeps for backward.
"""
from .dot import to_dot  # noqa: F401
from .render import Graph, GraphvizNotFoundError, graph, render  # noqa: F401
from .modules import ModuleTrace, trace_modules  # noqa: F401
from .explain import Explanation, explain  # noqa: F401
from .why import why_no_grad  # noqa: F401
from .memory import MemoryReport, memory_report  # noqa: F401

__all__ = ["to_dot", "render", "graph", "Graph", "GraphvizNotFoundError", "trace_modules", "ModuleTrace",
           "explain", "Explanation", "why_no_grad", "memory_report", "MemoryReport"]
