"""explain: seed 004's chain rule, f = sqrt(y log x) + y log x at x = 3, y = 2, step by step.

Expected numbers come from the seed's own formulas with the math module, not from chainrule."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd
from chainrule.viz.explain import Explanation, explain, fmt

L3 = math.log(3)
SEED = {  # the seed's forward values, local derivatives and accumulated gradients
    "a": L3, "b": 2 * L3, "c": math.sqrt(2 * L3), "f": math.sqrt(2 * L3) + 2 * L3,
    "da/dx": 1 / 3, "db/da": 2, "db/dy": L3, "dc/db": 1 / (2 * math.sqrt(2 * L3)), "df/dc": 1, "df/db direct": 1,
    "df/db": 1 / (2 * math.sqrt(2 * L3)) + 1, "df/da": 1 / math.sqrt(2 * L3) + 2,
    "df/dx": 1 / (3 * math.sqrt(2 * L3)) + 2 / 3, "df/dy": math.sqrt(L3 / 8) + L3,
}


def seed_graph():
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    y = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    a = cr.log(x)
    b = y * a
    c = cr.sqrt(b)
    f = c + b
    return x, y, (a, b, c, f)


@pytest.fixture
def seed():
    x, y, (a, b, c, f) = seed_graph()
    return x, y, f, explain(f, inputs={"x": x, "y": y})


class TestSeed004:
    def test_forward_values(self, seed):
        _, _, _, e = seed
        assert [(s.index, s.name) for s in e.forward] == [(1, "a"), (2, "b"), (3, "c"), (4, "f")]
        assert [s.expression for s in e.forward] == ["log(x)", "y * a", "sqrt(b)", "c + b"]
        for step in e.forward:
            assert step.value == pytest.approx(SEED[step.name], rel=1e-12)
        assert e.values["x"] == 3 and e.values["y"] == 2

    def test_local_derivatives(self, seed):
        e = seed[3]
        assert e.local("a", "x") == pytest.approx(SEED["da/dx"], rel=1e-12)
        assert e.local("b", "a") == pytest.approx(SEED["db/da"], rel=1e-12)
        assert e.local("b", "y") == pytest.approx(SEED["db/dy"], rel=1e-12)
        assert e.local("c", "b") == pytest.approx(SEED["dc/db"], rel=1e-12)
        assert e.local("f", "c") == pytest.approx(SEED["df/dc"], rel=1e-12)
        assert e.local("f", "b") == pytest.approx(SEED["df/db direct"], rel=1e-12)
        with pytest.raises(KeyError, match="no edge a -> y"):
            e.local("a", "y")

    def test_accumulated_gradients(self, seed):
        e = seed[3]
        for name in "abcf":
            expected = 1.0 if name in "cf" else SEED[f"df/d{name}"]
            assert e.gradients[name] == pytest.approx(expected, rel=1e-12), name
        b = next(s for s in e.steps if s.name == "b")
        # df/db is two contributions summed: 1/(2 sqrt(2 log 3)) through c and 1 directly from f
        assert sorted(g for _, g in b.parts) == pytest.approx(sorted([SEED["dc/db"], 1.0]), rel=1e-12)
        assert {src for src, _ in b.parts} == {"c", "f"}

    def test_products_on_the_edges(self, seed):
        e = seed[3]
        for step in e.steps:
            for edge in step.edges:
                assert edge.contribution == pytest.approx(step.gradient * edge.local, rel=1e-12)

    def test_leaf_gradients(self, seed):
        x, y, f, e = seed
        assert e.leaf_gradients["x"] == pytest.approx(SEED["df/dx"], rel=1e-12)
        assert e.leaf_gradients["y"] == pytest.approx(SEED["df/dy"], rel=1e-12)
        gx, gy = autograd.grad(f, [x, y], retain_graph=True)  # the engine agrees
        assert e.leaf_gradients == pytest.approx({"x": gx.item(), "y": gy.item()}, rel=1e-12)

    def test_order_is_the_engines(self):
        x, y, (a, b, c, f) = seed_graph()
        e = explain(f, inputs={"x": x, "y": y})
        ran = []  # a hook on each tensor fires when the engine runs its node
        for name, t in zip("xyabcf", (x, y, a, b, c, f)):
            t.register_hook(lambda g, name=name: ran.append(name))
        f.backward()  # the explanation did not free the graph
        assert [s.name for s in e.steps] == ran == ["f", "c", "b", "y", "a", "x"]

    def test_formulas_come_from_the_rules(self, seed):
        e = seed[3]
        formulas = {(s.name, edge.input): edge.formula for s in e.steps for edge in s.edges}
        assert formulas[("a", "x")] == "1/x"
        assert formulas[("b", "a")] == "y" and formulas[("b", "y")] == "a"

    def test_text_markdown_and_html_show_the_same_numbers(self, seed):
        e = seed[3]
        text, markdown, page = str(e), e.to_markdown(), e._repr_html_()
        assert e._repr_markdown_() == markdown
        numbers = [fmt(v) for v in (*SEED.values(),)] + [fmt(SEED["df/dc"] * SEED["dc/db"])]
        for shown in numbers:
            assert shown in text and shown in markdown and shown in page, shown
        assert "step 1: a = log(x) = 1.09861" in text
        assert "df/db = " in text and "(via c)" in text and "(via f)" in text
        assert "<table>" in page and "| --- |" in markdown
        assert page.count("<tr>") == 1 + 4 + 1 + 8  # forward header + rows, backward header + one row per edge/leaf

    def test_the_users_graph_is_untouched(self):
        x, y, (a, b, c, f) = seed_graph()
        a.retain_grad()
        calls = []
        x.register_hook(lambda g: calls.append(g))
        explain(f, inputs={"x": x, "y": y})
        explain(f)
        assert x.grad is None and y.grad is None and a.grad is None and calls == []
        f.backward()  # the graph is still there, and the gradients are the seed's
        assert x.grad.item() == pytest.approx(SEED["df/dx"], rel=1e-12)
        assert a.grad.item() == pytest.approx(SEED["df/da"], rel=1e-12) and len(calls) == 1


class TestGraphState:
    def test_after_backward_the_error_says_what_to_do(self):
        x, y, (_, _, _, f) = seed_graph()
        f.backward()
        with pytest.raises(RuntimeError, match=r"call explain\(\) before backward\(\).*retain_graph=True"):
            explain(f)

    def test_after_backward_with_retain_graph(self):
        x, y, (_, _, _, f) = seed_graph()
        f.backward(retain_graph=True)
        e = explain(f, inputs={"x": x, "y": y})
        assert e.leaf_gradients["x"] == pytest.approx(SEED["df/dx"], rel=1e-12)
        assert x.grad.item() == pytest.approx(SEED["df/dx"], rel=1e-12)  # not accumulated a second time

    def test_tensor_without_graph(self):
        x = cr.tensor(1.0, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"does not require grad.*\.detach\(\)"):
            explain(x.detach() * 2)
        with pytest.raises(TypeError, match="expected a chainrule Tensor"):
            explain(3.0)

    def test_non_scalar_needs_a_gradient(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"shape \[2\]; pass gradient="):
            explain(x * 2)
        with pytest.raises(ValueError, match="gradient has shape"):
            explain(x * 2, gradient=cr.ones(3))


class TestNamesAndValues:
    def test_default_names(self):
        p = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
        q = cr.tensor(5.0, dtype=cr.float64, requires_grad=True)
        e = explain((p * q).exp())
        assert [s.name for s in e.steps] == ["f", "a", "leaf1", "leaf0"]
        assert e.leaf_gradients["leaf0"] == pytest.approx(5 * math.exp(10))

    def test_constants_and_recomputed_values(self):
        x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
        a = x * 2.0   # mul keeps its constant
        b = a + 1.0   # add keeps nothing: its value is recomputed from a
        f = b.sin()
        e = explain(f, inputs={"x": x})
        assert [s.expression for s in e.forward] == ["x * 2", "a + const", "sin(b)"]
        assert e.values["b"] == pytest.approx(4.0) and e.values["f"] == pytest.approx(math.sin(4.0))
        assert e.local("f", "b") == pytest.approx(math.cos(4.0))
        assert e.leaf_gradients["x"] == pytest.approx(2 * math.cos(4.0))

    def test_named_parameters(self):
        layer = cr.nn.Linear(3, 1)
        out = layer(cr.ones(2, 3)).sum()
        e = explain(out, inputs=layer.named_parameters())
        assert set(e.leaf_gradients) == {"weight", "bias"}
        torch = pytest.importorskip("torch")
        tl = torch.nn.Linear(3, 1)
        with torch.no_grad():
            tl.weight.copy_(torch.tensor(layer.weight.detach().numpy()))
            tl.bias.copy_(torch.tensor(layer.bias.detach().numpy()))
        tl(torch.ones(2, 3)).sum().backward()
        np.testing.assert_allclose(e.leaf_gradients["weight"], tl.weight.grad.numpy(), rtol=1e-6)
        assert e.leaf_gradients["bias"] == pytest.approx(tl.bias.grad.item())


class TestTensors:
    def test_summaries_instead_of_dumps(self):
        rng = np.random.default_rng(0)
        v = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        w = cr.tensor(rng.standard_normal(4), requires_grad=True)
        loss = ((v * w).tanh() * 2).sum()
        e = explain(loss, inputs={"v": v, "w": w})
        gv, gw = autograd.grad(loss, [v, w], retain_graph=True)
        np.testing.assert_allclose(e.leaf_gradients["v"], gv.numpy(), rtol=1e-12)
        np.testing.assert_allclose(e.leaf_gradients["w"], gw.numpy(), rtol=1e-12)  # broadcasting undone
        text = str(e)
        g = gw.numpy()
        assert f"df/dw = tensor[4] (norm {np.linalg.norm(g):.4g}, min {g.min():.4g}, max {g.max():.4g})" in text
        assert "the VJP of TanhBackward0 applied to df/db" in text
        assert str(rng.standard_normal(1)) not in text
        tanh = next(s for s in e.steps if s.node == "TanhBackward0")
        assert tanh.edges[0].local is None  # no dense Jacobian
        total = next(s for s in e.steps if s.name == "f")
        np.testing.assert_array_equal(total.edges[0].local, np.ones((3, 4)))  # d sum / d c: a gradient, not a number

    def test_with_gradient(self):
        x = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
        y = x * x
        e = explain(y, inputs={"x": x}, gradient=cr.tensor([1.0, 0.5, 0.0], dtype=cr.float64))
        np.testing.assert_allclose(e.leaf_gradients["x"], [2.0, 2.0, 0.0])
        assert isinstance(e, Explanation) and x.grad is None


class TestOtherNodes:
    def test_custom_function_with_two_outputs(self):
        class Both(cr.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a, a * 3

            @staticmethod
            def backward(ctx, g_square, g_triple):
                (a,) = ctx.saved_tensors
                return 2 * a * g_square + 3 * g_triple

        x = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
        square, triple = Both.apply(x)
        out = square + triple * 2
        e = explain(out, inputs={"x": x})
        both = next(s for s in e.steps if s.node == "BothBackward")
        assert both.gradient == [1.0, 2.0]  # one gradient per output
        assert e.leaf_gradients["x"] == pytest.approx(2 * 2.0 + 3 * 2)
        assert "df/da[0] = 1; df/da[1] = 2" in str(e)

    def test_a_leaf_is_its_own_explanation(self):
        x = cr.tensor(2.0, requires_grad=True)
        e = explain(x, inputs={"x": x})
        assert e.forward == [] and e.leaf_gradients == {"x": 1.0}

    def test_long_chains_run_out_of_letters_gracefully(self):
        x = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
        y = x
        for _ in range(40):
            y = y * 1.01
        e = explain(y, inputs={"x": x})
        names = [s.name for s in e.forward]
        letters = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in "fx"]  # f: the output, x: the leaf
        assert names[:24] == letters and names[24:26] == ["v27", "v28"] and names[-1] == "f"
        assert len(set(names)) == 40
        assert e.leaf_gradients["x"] == pytest.approx(1.01 ** 40)
