"""viz.memory_report: the bytes each node keeps for backward (checked against what PyTorch saves), the
total with shared arrays counted once, and the release after backward."""
import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
from chainrule.viz.memory import memory_report


def nbytes(t):
    return t.detach().numpy().nbytes


def torch_saved_bytes(fn):
    """Bytes of the distinct tensors a PyTorch node saved (its ``_saved_*`` attributes)."""
    real = pytest.importorskip("torch")
    seen = {}
    for name in dir(fn):
        if name.startswith("_saved_"):
            value = getattr(fn, name)
            for t in value if isinstance(value, (tuple, list)) else [value]:
                if isinstance(t, real.Tensor):
                    seen[(t.untyped_storage().data_ptr(), t.nbytes)] = t.nbytes
    return sum(seen.values())


OPS = {
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "add": lambda m, a, b: a + b,
    "exp": lambda m, a, b: m.exp(a),
    "sin": lambda m, a, b: m.sin(a),
    "tanh": lambda m, a, b: m.tanh(a),
    "sigmoid": lambda m, a, b: m.sigmoid(a),
    "relu": lambda m, a, b: m.relu(a),
    "pow": lambda m, a, b: a ** 2,
    "mm": lambda m, a, b: a @ b.T,
    "sum": lambda m, a, b: a.sum(),
    "softmax": lambda m, a, b: m.softmax(a, dim=1),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_bytes_per_node_match_what_pytorch_saves(op):
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ours = OPS[op](torch, torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True))
    theirs = OPS[op](real, real.tensor(a, requires_grad=True), real.tensor(b, requires_grad=True))
    row = memory_report(ours).rows[0]
    assert row.name == theirs.grad_fn.name()
    assert row.bytes == torch_saved_bytes(theirs.grad_fn)


def test_rows_in_engine_order_with_their_arrays():
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    h = x.exp()
    out = (h * 3).sin().sum()
    report = memory_report(out)
    assert [row.name for row in report.rows] == ["SumBackward0", "SinBackward0", "MulBackward0", "ExpBackward0"]
    assert [row.step for row in report.rows] == [1, 2, 3, 4]
    sin, exp = report.rows[1], report.rows[3]
    assert [(a.what.split()[0], a.shape, a.dtype.name) for a in sin.saved] == [("input", (4, 5), "float64")]
    assert sin.bytes == nbytes(h * 3)
    assert [a.what for a in exp.saved] == ["output"] and exp.bytes == nbytes(h)
    assert report.total_bytes == sin.bytes + exp.bytes  # mul by a constant keeps nothing
    assert report.leaf_bytes == 0 and report.activation_bytes == report.total_bytes


def test_a_shared_array_is_counted_once():
    x = torch.randn(6, dtype=torch.float64, requires_grad=True)
    y = x.exp()                   # keeps its output y
    z = (y * y).sum()             # keeps y (twice)
    report = memory_report(z)
    mul, exp = report.rows[1], report.rows[2]
    assert mul.bytes == nbytes(y) and len(mul.saved) == 1  # x * x style: one array listed once
    assert mul.saved[0].shared_with is None and exp.saved[0].shared_with == mul.step
    assert exp.new_bytes == 0
    assert report.total_bytes == nbytes(y)
    assert "shared with step 2" in str(report)


def test_linear_layer_keeps_its_input_and_weight():
    torch.manual_seed(0)
    layer = nn.Linear(8, 3)
    inp = torch.randn(16, 8)
    report = memory_report(layer(inp).sum())
    row = next(row for row in report.rows if row.name == "AddmmBackward0")
    shapes = {a.shape: a.leaf for a in row.saved}
    assert shapes == {(16, 8): False, (3, 8): True}  # the input; the weight (a leaf: a parameter); not the bias
    assert row.bytes == nbytes(inp) + nbytes(layer.weight)
    assert report.leaf_bytes == nbytes(layer.weight)
    assert report.activation_bytes == nbytes(inp)


def test_backward_frees_what_was_saved():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
    loss = model(torch.randn(7, 5)).pow(2).mean()
    before = memory_report(loss)
    assert before.total_bytes > 0
    loss.backward(retain_graph=True)
    assert memory_report(loss).total_bytes == before.total_bytes  # retained
    loss.backward()
    after = memory_report(loss)
    assert after.total_bytes == 0 and after.activation_bytes == 0
    assert all(row.bytes == 0 for row in after.rows)
    assert sum(row.freed for row in after.rows) == sum(bool(row.saved) for row in before.rows)
    assert "freed by backward" in str(after)


def test_text_and_markdown():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    report = memory_report([x.exp().sum(), (x * x).mean()])
    text = str(report)
    assert text.splitlines()[0].split() == ["step", "node", "saved", "for", "backward", "bytes"]
    for name in ("ExpBackward0", "SumBackward0", "MulBackward0", "MeanBackward0"):
        assert name in text
    assert "total 16 B in 2 saved arrays over 4 nodes" in text  # exp's output (8 B) and x (8 B)
    markdown = report._repr_markdown_()
    assert markdown == report.to_markdown()
    assert markdown.startswith("| step | node | saved for backward | bytes |\n|---:|")
    assert repr(report) == "<MemoryReport: 4 nodes, 16 B saved for backward>"


def test_bad_input():
    with pytest.raises(TypeError, match="memory_report: expected a Tensor"):
        memory_report(np.ones(3))
    assert memory_report(torch.ones(3)).rows == []  # no graph: nothing kept
