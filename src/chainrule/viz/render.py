"""Drawing DOT source with Graphviz: ``render(t, "graph.svg")`` and the ``Graph`` object that notebooks show.

Graphviz is optional: the ``graphviz`` Python package runs the ``dot`` program. Without them ``to_dot``
and writing ``.dot`` files still work, and drawing raises ``GraphvizNotFoundError`` saying what to install.
"""
import os
import shutil

from ..serialization import atomic_write
from .dot import to_dot

INSTALL_HINT = (
    "install the Graphviz program (`apt-get install graphviz` on Debian/Ubuntu, `brew install graphviz` on "
    "macOS, `conda install -c conda-forge graphviz`, or from https://graphviz.org/download/ on Windows, adding "
    "its bin folder to PATH) and the Python package (`pip install graphviz`). viz.to_dot() gives the DOT text "
    "without them"
)
# What the drawing formats are called when the graphviz package cannot say (it lists them in FORMATS).
_COMMON_FORMATS = {"svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps", "webp", "json", "plain"}
_SOURCE_FORMATS = {"dot", "gv"}  # written as the DOT text itself: no Graphviz needed


class GraphvizNotFoundError(RuntimeError):
    """The graphviz Python package or Graphviz's ``dot`` program is missing."""


def _graphviz(who):
    """The graphviz module, after checking that it and the ``dot`` program are installed."""
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError(f"{who}: the 'graphviz' Python package is not installed; {INSTALL_HINT}") from None
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(f"{who}: Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}")
    return graphviz


def _known_formats():
    try:
        import graphviz
        return set(graphviz.FORMATS) | _SOURCE_FORMATS
    except ImportError:
        return _COMMON_FORMATS | _SOURCE_FORMATS


class Graph:
    """A drawable graph: ``.source`` is the DOT text (also ``str(graph)``), ``.render(path)`` draws it
    to a file, ``.pipe("svg")`` returns the drawing's bytes, and Jupyter displays it as SVG (or, without
    Graphviz, as its DOT text with the install hint)."""

    def __init__(self, source):
        if not isinstance(source, str):
            raise TypeError(f"Graph: expected DOT source text (str), got {type(source).__name__}")
        self.source = source

    def __str__(self):
        return self.source

    def __repr__(self):
        nodes = sum(1 for line in self.source.splitlines() if "[label=" in line)
        edges = sum(1 for line in self.source.splitlines() if "->" in line)
        return f"<chainrule.viz.Graph: {nodes} nodes, {edges} edges; .source is the DOT text>"

    def pipe(self, format="svg"):
        """The drawing as bytes, made by Graphviz's ``dot``."""
        if format in _SOURCE_FORMATS:
            return self.source.encode()
        graphviz = _graphviz("Graph.pipe")
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError(f"Graph.pipe: Graphviz's `dot` program could not be run; "
                                        f"{INSTALL_HINT}") from None
        except graphviz.CalledProcessError as error:
            stderr = (error.stderr or b"").decode(errors="replace").strip()
            raise RuntimeError(f"Graph.pipe: Graphviz's `dot` failed to draw the graph as {format}: {stderr}") from None

    def render(self, path, format=None):
        """Draw to ``path`` (format from its suffix: .svg, .png, .pdf, …; .dot/.gv write the DOT text).
        Written atomically (a temporary file renamed into place). Returns the path written."""
        path, format = _target(path, format)
        atomic_write(path, self.pipe(format))
        return path

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            svg = self.pipe("svg").decode()
        except GraphvizNotFoundError as error:
            return {"text/plain": f"{self.source}\n// cannot draw: {error}"}
        return {"image/svg+xml": svg, "text/plain": repr(self)}

    def _repr_svg_(self):
        try:
            return self.pipe("svg").decode()
        except GraphvizNotFoundError:
            return None  # Jupyter then shows the text form


def _target(path, format):
    """(path to write, format): the format from the suffix when not given; a path without a suffix gets one."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1][1:].lower()
    known = _known_formats()
    from_suffix = suffix if suffix in known else None
    if format is None:
        if suffix and from_suffix is None:
            raise ValueError(f"render: cannot tell the format from the suffix of {path!r}; pass format= "
                             "('svg', 'png', 'pdf', 'dot', ...) or use one of those suffixes")
        format = from_suffix or "svg"
    format = str(format).lower()
    if format not in known:
        raise ValueError(f"render: unknown format {format!r}; use 'svg', 'png', 'pdf' or another Graphviz format "
                         f"({', '.join(sorted(_COMMON_FORMATS | _SOURCE_FORMATS))})")
    if from_suffix is None:
        path = f"{path}.{format}"
    elif from_suffix != format and {from_suffix, format} not in ({"jpg", "jpeg"}, {"dot", "gv"}):
        raise ValueError(f"render: the path {path!r} ends in .{from_suffix} but format={format!r}; drop format= "
                         "or change the suffix")
    return path, format


def graph(t, **options):
    """The graph behind ``t`` as a ``Graph`` (displayed by Jupyter); options as for ``to_dot``."""
    return Graph(to_dot(t, **options))


def render(t, path, format=None, **options):
    """Draw the graph behind ``t`` to ``path`` with Graphviz (options as for ``to_dot``); returns the path.
    The format comes from the suffix (.svg, .png, .pdf; .dot writes the DOT text) unless given."""
    return graph(t, **options).render(path, format)
