"""chainrule.viz drawing: DOT structure against PyTorch's graph, labels, values, gradients, saved bytes,
module clusters and collapsed blocks, escaping, determinism, and real rendering through Graphviz."""
import collections
import html
import math
import re
import shutil
import subprocess
import sys
import pathlib

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.viz.dot import to_dot
from chainrule.viz.modules import trace_modules
from chainrule.viz.render import Graph, GraphvizNotFoundError, graph, render

ROOT = pathlib.Path(__file__).resolve().parent.parent
NODE = re.compile(r"^\s*(\w+) \[label=<(.*)>(?:, [^\]]*)?\];$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def parse(source):
    """{id: label lines} and [(tail, head)] of a DOT text made by to_dot."""
    nodes, edges = {}, []
    for line in source.splitlines():
        match = NODE.match(line)
        if match:
            nodes[match.group(1)] = match.group(2).split("<br/>")
        match = EDGE.match(line)
        if match:
            edges.append((match.group(1), match.group(2)))
    return nodes, edges


def title(lines):
    return re.sub(r"</?b>", "", lines[0])


def seed_000(lib, dtype):
    x = lib.tensor(3.0, dtype=dtype, requires_grad=True)
    y = lib.tensor(4.0, dtype=dtype, requires_grad=True)
    return x, y, x ** 2 * y + y + 2


def torch_graph(output):
    """PyTorch's graph as (multiset of op names, number of leaves, multiset of (input name, consumer name))."""
    ops, leaves, edges, seen = collections.Counter(), set(), collections.Counter(), set()
    stack = [output.grad_fn]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if fn.name().endswith("AccumulateGrad"):
            leaves.add(fn)
            continue
        ops[fn.name()] += 1
        for child, _ in fn.next_functions:
            if child is not None:
                edges[("leaf" if child.name().endswith("AccumulateGrad") else child.name(), fn.name())] += 1
                stack.append(child)
    return ops, len(leaves), edges


def our_graph(source):
    nodes, edges = parse(source)
    kinds = {}
    for node_id, lines in nodes.items():
        kinds[node_id] = "output" if node_id.startswith("out") else (
            title(lines) if title(lines).endswith(("Backward0", "Backward1")) else "leaf")
    ops = collections.Counter(k for k in kinds.values() if k not in ("leaf", "output"))
    leaves = sum(1 for k in kinds.values() if k == "leaf")
    named_edges = collections.Counter((kinds[a], kinds[b]) for a, b in edges if kinds[b] != "output")
    return ops, leaves, named_edges, nodes, edges


# ---------------------------------------------------------------------------------------------- structure
def test_structure_matches_pytorch():
    real = pytest.importorskip("torch")
    _, _, f = seed_000(torch, torch.float64)
    _, _, g = seed_000(real, real.float64)
    ops, leaves, edges, nodes, dot_edges = our_graph(to_dot(f))
    want_ops, want_leaves, want_edges = torch_graph(g)
    assert ops == want_ops
    assert leaves == want_leaves == 2
    assert len(nodes) == sum(want_ops.values()) + want_leaves + 1  # ops + leaves + the output
    assert edges == want_edges
    assert ("n%d" % (len(nodes) - 2), "out0") in dot_edges  # the last op feeds the output node


def test_edges_run_from_inputs_to_consumers():
    x, y, f = seed_000(torch, torch.float64)
    nodes, edges = parse(to_dot(f, params={"x": x, "y": y}))
    by_title = {title(lines): node_id for node_id, lines in nodes.items()}
    assert (by_title["x"], by_title["PowBackward0"]) in edges
    assert (by_title["PowBackward0"], by_title["MulBackward0"]) in edges
    assert (by_title["y"], by_title["MulBackward0"]) in edges
    assert all(int(a[1:]) < int(b[1:]) for a, b in edges if b != "out0")  # leaves at the top, output last


def test_labels_name_shape_and_dtype():
    x = torch.ones(2, 3, requires_grad=True)
    w = torch.ones(3, 4, dtype=torch.float64, requires_grad=True)
    out = (x.double() @ w).exp().sum()
    nodes, _ = parse(to_dot(out))
    text = "\n".join("|".join(lines) for lines in nodes.values())
    assert "MmBackward0" in text and "ExpBackward0" in text and "SumBackward0" in text
    assert "(2, 4) float64" in text and "(2, 3) float32" in text and "(3, 4) float64" in text
    assert sum(title(lines) == "leaf" for lines in nodes.values()) == 2  # unnamed leaves


def test_params_name_the_leaves():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = model(torch.randn(5, 4)).sum()
    nodes, _ = parse(to_dot(loss, params=dict(model.named_parameters())))
    titles = {title(lines) for lines in nodes.values()}
    assert {name for name, _ in model.named_parameters()} <= titles
    assert "leaf" not in titles


def test_several_roots_share_their_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    a, b = h.sum(), (h * 2).mean()
    nodes, edges = parse(to_dot([a, b]))
    assert {"out0", "out1"} <= set(nodes)
    assert sum(title(lines) == "ExpBackward0" for lines in nodes.values()) == 1
    assert len(nodes) == 4 + 1 + 2  # exp, sum, mul, mean; x; two outputs


# ---------------------------------------------------------------------------------------------- values
def test_show_values_and_grads_seed_000():
    real = pytest.importorskip("torch")
    _, _, g = seed_000(real, real.float64)
    g.backward()
    x, y, f = seed_000(torch, torch.float64)
    nodes, _ = parse(to_dot(f, params={"x": x, "y": y}, show_values=True))
    labels = {title(lines): lines for lines in nodes.values()}
    assert f"= {g.item():g}" in labels["output"]  # 42
    assert "= 3" in labels["x"] and "= 4" in labels["y"]
    assert not any(line.startswith("grad") for lines in nodes.values() for line in lines)
    f.backward()
    nodes, _ = parse(to_dot(f, params={"x": x, "y": y}, show_values=True, show_grads=True))
    labels = {title(lines): lines for lines in nodes.values()}
    assert "grad 24" in labels["x"] and "grad 10" in labels["y"]


def test_show_grads_match_pytorch_on_seed_004():
    real = pytest.importorskip("torch")

    def build(lib):
        x = lib.tensor(3.0, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        b = y * lib.log(x)
        b.retain_grad()
        f = lib.sqrt(b) + b
        f.backward()
        return x, y, b, f

    x, y, b, f = build(torch)
    tx, ty, tb, _ = build(real)
    nodes, _ = parse(to_dot(f, params=dict(x=x, y=y, b=b), show_values=True, show_grads=True))
    labels = {title(lines): lines for lines in nodes.values()}
    assert f"grad {tx.grad.item():.4g}" in labels["x"]
    assert f"grad {ty.grad.item():.4g}" in labels["y"]
    mul = labels["MulBackward0"]
    assert mul[1].startswith("b: ") and f"= {tb.item():.4g}" in mul and f"grad {tb.grad.item():.4g}" in mul
    assert f"grad {1 / (2 * math.sqrt(2 * math.log(3))) + 1:.4g}" in mul  # the seed's df/db


def test_values_of_large_tensors_are_summarised():
    a = torch.arange(12.0).reshape(3, 4).requires_grad_()
    small = torch.tensor([1.0, 2.5], requires_grad=True)
    nodes, _ = parse(to_dot([a.sum(), small * 2], params={"a": a, "small": small}, show_values=True))
    labels = {title(lines): lines for lines in nodes.values()}
    summary = [line for line in labels["a"] if line.startswith("=")][0]
    assert "(3, 4)" in summary and f"norm {np.linalg.norm(np.arange(12.0)):.4g}" in summary
    assert "min 0" in summary and "max 11" in summary
    assert "= [1, 2.5]" in labels["small"]
    nodes, _ = parse(to_dot(a.sum(), params={"a": a}, show_values=True, max_value_elements=100))
    assert any(line.startswith("= [[0, 1, 2, 3], [4, 5") for lines in nodes.values() for line in lines)


def test_show_saved_is_the_bytes_of_the_saved_arrays():
    x = torch.randn(5, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    h = (x @ w).exp()
    out = (h * h).sum()
    nodes, _ = parse(to_dot(out, show_saved=True))
    saved = {title(lines): [line for line in lines if line.startswith("saved")][0]
             for lines in nodes.values() if title(lines).endswith("Backward0")}
    assert saved["MmBackward0"] == f"saved {x.numpy(force=True).nbytes + w.numpy(force=True).nbytes} B"
    assert saved["ExpBackward0"] == f"saved {h.numpy(force=True).nbytes} B"  # exp keeps its output
    assert saved["MulBackward0"] == f"saved {h.numpy(force=True).nbytes} B"  # h twice: counted once
    assert saved["SumBackward0"] == "saved 0 B"
    out.backward()
    nodes, _ = parse(to_dot(out, show_saved=True))
    assert sum("saved 0 B (freed)" in lines for lines in nodes.values()) == 3


# ---------------------------------------------------------------------------------------------- modules
class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.act = nn.ReLU()

    def forward(self, x):
        return x + self.act(self.fc(x))


class TwoBlocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(4), Block(4))
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.blocks(x))


def ops_in(nodes):
    return sum(1 for lines in nodes.values() if title(lines).endswith("Backward0"))


def boxes_in(nodes):
    """{box title: (ops, parameters)} of the collapsed boxes."""
    found = {}
    for lines in nodes.values():
        match = re.match(r"(\d+) ops?(?:, (\d+) parameters?)?", lines[1]) if len(lines) > 1 else None
        if match:
            found[re.sub(r"</?b>", "", lines[0])] = (int(match.group(1)), int(match.group(2) or 0))
    return found


def test_trace_modules_clusters_and_collapses_blocks():
    torch.manual_seed(0)
    net = TwoBlocks()
    with trace_modules(net) as trace:
        loss = net(torch.randn(3, 4)).pow(2).mean()
    assert not net._forward_pre_hooks and not net.blocks[0].fc._forward_hooks  # hooks removed
    params = dict(net.named_parameters())
    full = to_dot(loss, params=params)
    grouped = to_dot(loss, params=params, modules=trace)
    assert "subgraph cluster_" in grouped and "blocks.0 (Block)" in grouped.replace("</b>", "").replace("<b>", "")
    assert parse(full)[0].keys() == parse(grouped)[0].keys()  # grouping moves nodes, it does not change them
    assert any("blocks.1.fc" in "".join(lines) for lines in parse(grouped)[0].values())  # ops name their layer
    collapsed = to_dot(loss, params=params, collapse=trace)
    nodes, edges = parse(collapsed)
    boxes = boxes_in(nodes)
    assert set(boxes) == {"blocks.0 (Block)", "blocks.1 (Block)"}
    full_nodes = parse(full)[0]
    # every op is either drawn or counted in a box; every parameter of a block went into its box
    assert ops_in(nodes) + sum(ops for ops, _ in boxes.values()) == ops_in(full_nodes)
    assert all(parameters == 2 for _, parameters in boxes.values())
    assert len(nodes) < len(full_nodes)
    box_ids = [n for n, lines in nodes.items() if "Block" in lines[0]]
    assert tuple(box_ids) in edges  # blocks.0 feeds blocks.1
    assert collapsed == to_dot(loss, params=params, modules=trace, collapse="blocks")
    by_depth = boxes_in(parse(to_dot(loss, modules=trace, collapse=1))[0])
    assert set(by_depth) == {"blocks (Sequential)", "head (Linear)"}
    by_name = boxes_in(parse(to_dot(loss, modules=trace, collapse=["blocks.1"]))[0])
    assert set(by_name) == {"blocks.1 (Block)"}


def test_resnet18_step_collapses_to_a_readable_graph():
    from chainrule.nn.models import resnet18

    torch.manual_seed(0)
    model = resnet18(num_classes=10)
    x, y = torch.randn(2, 3, 32, 32), torch.tensor([1, 7])  # batch 2: batch norm needs 2 values per channel
    with trace_modules(model) as trace:
        loss = F.cross_entropy(model(x), y)
    params = dict(model.named_parameters())
    full_nodes, _ = parse(to_dot(loss, params=params))
    assert len(full_nodes) > 150
    source = to_dot(loss, params=params, collapse=trace, show_saved=True)
    nodes, edges = parse(source)
    boxes = boxes_in(nodes)
    assert set(boxes) == {f"layer{i}.{j} (BasicBlock)" for i in range(1, 5) for j in range(2)}
    assert len(nodes) <= 30
    assert ops_in(nodes) + sum(ops for ops, _ in boxes.values()) == ops_in(full_nodes)
    assert sum(p for _, p in boxes.values()) + sum(title(l) in params for l in nodes.values()) == len(params)
    assert source.count("subgraph cluster_") == 4  # layer1..layer4 frame their blocks


def test_collapse_needs_a_trace():
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="trace_modules"):
        to_dot(x.sum(), collapse="blocks")
    with pytest.raises(TypeError, match="ModuleTrace"):
        to_dot(x.sum(), modules=nn.Linear(2, 2))
    with pytest.raises(TypeError, match="to_dot: expected a Tensor"):
        to_dot(np.ones(3))
    with pytest.raises(TypeError, match="params"):
        to_dot(x.sum(), params=3)


def test_trace_closes_calls_when_forward_raises():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(3, 3))
    with pytest.raises(Exception):
        with trace_modules(model) as trace:
            model(torch.ones(1, 2, requires_grad=True))
    assert all(call.end is not None for call in trace.calls)
    assert not model[0]._forward_pre_hooks and not model[1]._forward_hooks


# ---------------------------------------------------------------------------------------------- text
def test_labels_are_escaped():
    w = torch.ones(2, requires_grad=True)
    name = 'w<"{x}">&\\'
    source = to_dot((w * 2).sum(), params={name: w}, title='a "title" <b>')
    assert "<b>w&lt;&quot;{x}&quot;&gt;&amp;\\</b>" in source
    assert "<b>a &quot;title&quot; &lt;b&gt;</b>" in source
    if shutil.which("dot"):  # Graphviz parses it and shows the original text
        texts = re.findall(r"<text[^>]*>(.*?)</text>", Graph(source).pipe("svg").decode())
        assert name in [html.unescape(t) for t in texts] and 'a "title" <b>' in [html.unescape(t) for t in texts]


def test_output_is_deterministic():
    def build():
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
        with trace_modules(model) as trace:
            loss = model(torch.randn(4, 3)).sum()
        return to_dot(loss, params=dict(model.named_parameters()), show_values=True, show_saved=True, modules=trace)

    first = build()
    torch.ones(3, requires_grad=True).exp()  # other graphs in between move the creation counter
    assert build() == first
    assert "0x" not in first  # no id()s


# ---------------------------------------------------------------------------------------------- Graphviz
@needs_dot
def test_render_svg_png_pdf(tmp_path):
    x, y, f = seed_000(torch, torch.float64)
    svg = render(f, tmp_path / "g.svg", params={"x": x, "y": y})
    assert svg == str(tmp_path / "g.svg")
    text = pathlib.Path(svg).read_text()
    assert "<svg" in text and "PowBackward0" in text
    png = render(f, str(tmp_path / "g.png"))
    assert pathlib.Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = render(f, tmp_path / "g", format="pdf")
    assert pdf == str(tmp_path / "g.pdf") and pathlib.Path(pdf).read_bytes()[:4] == b"%PDF"
    assert render(f, tmp_path / "h") == str(tmp_path / "h.svg")  # no suffix: svg
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_render_rejects_unclear_formats(tmp_path):
    f = seed_000(torch, torch.float64)[2]
    with pytest.raises(ValueError, match="ends in .png but format='svg'"):
        render(f, tmp_path / "g.png", format="svg")
    with pytest.raises(ValueError, match="cannot tell the format"):
        render(f, tmp_path / "g.txt")
    with pytest.raises(ValueError, match="unknown format"):
        render(f, tmp_path / "g", format="nope")


def test_dot_files_need_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    f = seed_000(torch, torch.float64)[2]
    path = render(f, tmp_path / "g.dot")
    assert pathlib.Path(path).read_text() == to_dot(f)


def test_missing_dot_says_how_to_install(tmp_path, monkeypatch):
    f = seed_000(torch, torch.float64)[2]
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot
    with pytest.raises(GraphvizNotFoundError) as error:
        render(f, tmp_path / "g.svg")
    message = str(error.value)
    assert isinstance(error.value, RuntimeError)
    assert "`dot` program was not found" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "conda install" in message and "pip install graphviz" in message
    assert not (tmp_path / "g.svg").exists()
    g = graph(f)
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "digraph" in bundle["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert g._repr_svg_() is None


def test_missing_python_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    with pytest.raises(GraphvizNotFoundError, match="'graphviz' Python package is not installed.*pip install graphviz"):
        graph(seed_000(torch, torch.float64)[2]).pipe("svg")


@needs_dot
def test_graph_object_in_jupyter():
    x, y, f = seed_000(torch, torch.float64)
    g = graph(f, params={"x": x, "y": y}, show_values=True)
    assert str(g) == g.source == to_dot(f, params={"x": x, "y": y}, show_values=True)
    bundle = g._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and "MulBackward0" in bundle["image/svg+xml"]
    assert "<svg" in g._repr_svg_()
    assert repr(g) == "<chainrule.viz.Graph: 7 nodes, 7 edges; .source is the DOT text>"


# ---------------------------------------------------------------------------------------------- README picture
@needs_dot
def test_readme_graph_script(tmp_path):
    out = tmp_path / "seed.svg"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme_graph.py"), str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    svg = out.read_text()
    for name in ("LogBackward0", "MulBackward0", "SqrtBackward0", "AddBackward0"):
        assert name in svg
    df_dx = 1 / (3 * math.sqrt(2 * math.log(3))) + 2 / 3  # the seed's results
    df_dy = math.sqrt(math.log(3) / 8) + math.log(3)
    assert f"grad {df_dx:.4g}" in svg and f"grad {df_dy:.4g}" in svg
    committed = ROOT / "docs" / "images" / "seed_graph.svg"
    if committed.exists():  # the committed picture shows the same labels as a fresh drawing
        texts = re.compile(r"<text[^>]*>(.*?)</text>")
        assert texts.findall(committed.read_text()) == texts.findall(svg)
