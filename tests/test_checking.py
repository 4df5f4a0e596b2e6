"""chainrule.check_derivatives: reverse mode, forward mode, finite differences and symbolic, compared pairwise."""
import numpy as np
import pytest

import chainrule
from chainrule import check_derivatives


def f(x, y):
    return x * x * y + y + 2


def test_seed_gradient_by_every_method():
    report = check_derivatives(f, 3.0, 4.0)
    assert report.ok and bool(report)
    for method in ("reverse", "forward", "numerical"):
        np.testing.assert_allclose(report.values[method], [24.0, 10.0], rtol=1e-8)
    assert report.values["reverse"].tolist() == [24.0, 10.0]
    assert report.labels == ["df/dx", "df/dy"]
    text = str(report)
    assert "df/dx" in text and "24" in text and "reverse vs forward" in text and "MISMATCH" not in text


def test_seed_hessian_by_every_method():
    report = check_derivatives(f, 3, 4, order=2)
    assert report.ok
    assert report.values["reverse"].tolist() == [8.0, 6.0, 6.0, 0.0]
    assert report.values["forward"].tolist() == [8.0, 6.0, 6.0, 0.0]
    np.testing.assert_allclose(report.values["numerical"], [8, 6, 6, 0], atol=1e-5)
    assert report.labels == ["d2f/dxdx", "d2f/dxdy", "d2f/dydx", "d2f/dydy"]


def test_array_inputs_and_outputs_name_the_elements():
    report = check_derivatives(lambda a, b: a.exp() * b, np.arange(3.0), chainrule.tensor(2.0))
    assert report.ok
    assert report.values["reverse"].shape == (9 + 3,)
    assert "df[1]/da[1]" in report.labels and "df[2]/db" in report.labels
    assert report.skipped["symbolic"].startswith("n/a (not traceable:")
    np.testing.assert_allclose(report.values["forward"].reshape(3, 4)[:, :3], np.diag(2 * np.exp(np.arange(3.0))))


def test_hessian_of_array_function():
    report = check_derivatives(lambda x: (x.sin() * x).sum(), [0.5, 1.0, 2.0], order=2)
    assert report.ok
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(report.values["reverse"].reshape(3, 3), np.diag(2 * np.cos(x) - x * np.sin(x)))


class WrongBackward(chainrule.autograd.Function):
    """sin with a backward rule that is off by 1 % at the second element."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        ctx.save_for_forward(v)
        return v.sin()

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        scale = chainrule.tensor([1.0, 1.01, 1.0], dtype=chainrule.float64)
        return grad * v.cos() * scale

    @staticmethod
    def jvp(ctx, tangent):
        (v,) = ctx.saved_tensors
        return tangent * v.cos()


def test_a_wrong_rule_is_flagged_with_the_element():
    report = check_derivatives(WrongBackward.apply, [0.1, 0.2, 0.3])
    assert not report.ok
    bad = {(p.first, p.second): p for p in report.mismatches}
    assert set(bad) == {("reverse", "forward"), ("reverse", "numerical")}
    assert bad["reverse", "forward"].where == "df[1]/dx[1]" == bad["reverse", "numerical"].where
    assert bad["reverse", "numerical"].max_abs == pytest.approx(0.01 * np.cos(0.2), rel=1e-4)
    text = str(report)
    assert "reverse vs forward" in text and "MISMATCH" in text and "df[1]/dx[1]" in text
    assert "forward vs numerical" in text


def test_methods_names_and_tolerances():
    report = check_derivatives(lambda a: a ** 3, 2.0, methods=("reverse", "numerical"), names="t")
    assert list(report.values) == ["reverse", "numerical"] and report.labels == ["df/dt"]
    assert report.values["reverse"][0] == 12.0
    strict = check_derivatives(lambda a: a ** 3, 2.0, methods=("reverse", "numerical"), atol=0, rtol=0, eps=1e-2)
    assert not strict.ok and strict.mismatches[0].where == "df/da"


def test_clear_errors():
    with pytest.raises(ValueError, match="order must be 1"):
        check_derivatives(f, 1.0, 2.0, order=3)
    with pytest.raises(ValueError, match="unknown method"):
        check_derivatives(f, 1.0, 2.0, methods=("backprop",))
    with pytest.raises(ValueError, match="at least one input"):
        check_derivatives(f)
    with pytest.raises(ValueError, match="order=2 needs a scalar"):
        check_derivatives(lambda x: x * 2, [1.0, 2.0], order=2)
    with pytest.raises(TypeError, match="one chainrule tensor"):
        check_derivatives(lambda x: (x, x), 1.0)
    with pytest.raises(ValueError, match="2 names for 1 inputs"):
        check_derivatives(lambda x: x, 1.0, names="a b")


def test_symbolic_column_from_trace_and_its_reasons():
    report = check_derivatives(f, 3.0, 4.0, order=2)
    assert report.values["symbolic"].tolist() == [8.0, 6.0, 6.0, 0.0] and "symbolic" not in report.skipped
    assert {("reverse", "symbolic"), ("numerical", "symbolic")} <= {(p.first, p.second) for p in report.pairs}
    untraceable = check_derivatives(lambda x: x.erf(), 0.5)
    assert untraceable.ok and "symbolic" not in untraceable.values
    reason = untraceable.skipped["symbolic"]
    assert reason.startswith("n/a (not traceable: ") and "erf" in reason
    assert reason in str(untraceable)
    arrays = check_derivatives(lambda v: (v * v).sum(), [1.0, 2.0])
    assert "input 'v' is not a scalar" in arrays.skipped["symbolic"]


def test_symbolic_column_from_a_given_expression():
    from chainrule import symbolic
    x, y = symbolic.symbols("x y")
    report = check_derivatives(f, 3.0, 4.0, expression=x * x * y + y + 2, names="x y")
    assert report.values["symbolic"].tolist() == [24.0, 10.0] and report.ok
    wrong = check_derivatives(f, 3.0, 4.0, expression=x * y + y + 2, names="x y")
    assert [(p.first, p.second, p.where) for p in wrong.mismatches][0] == ("reverse", "symbolic", "df/dx")
