"""Forward mode (chainrule.autograd.forward_ad): dual numbers through ops, custom Functions, in-place
ops and the backward pass (forward-over-reverse gives Hessian-vector products)."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD


def tangent(t):
    return fwAD.unpack_dual(t).tangent


def test_seed_003_derivative_of_sin_x_squared():
    # d/dx sin(x^2) = 2x cos(x^2) = 6 cos 9 at x = 3
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(3.0, dtype=cr.float64), cr.tensor(1.0, dtype=cr.float64))
        y = (x * x).sin()
        assert tangent(y).item() == pytest.approx(6 * math.cos(9), rel=1e-12)
        assert fwAD.unpack_dual(y).primal.item() == pytest.approx(math.sin(9))


def test_seed_003_partial_derivatives_of_x2y_plus_y_plus_2():
    # f = x^2 y + y + 2 at (3, 4): df/dx = 2xy = 24, df/dy = x^2 + 1 = 10, one forward pass per direction
    for direction, expected in (((1.0, 0.0), 24.0), ((0.0, 1.0), 10.0)):
        with fwAD.dual_level():
            x = fwAD.make_dual(cr.tensor(3.0), cr.tensor(direction[0]))
            y = fwAD.make_dual(cr.tensor(4.0), cr.tensor(direction[1]))
            assert tangent(x * x * y + y + 2).item() == expected


def test_jvp_of_a_vector_function_matches_the_jacobian():
    a = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, 0.5, -2.0])
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(a), cr.tensor(v))
        y = (x.exp() * x).cumsum(0)
        got = tangent(y).numpy()
    jacobian = np.tril(np.ones((3, 3))) * ((1 + a) * np.exp(a))  # d cumsum(x e^x) / dx
    np.testing.assert_allclose(got, jacobian @ v, rtol=1e-12)


def test_forward_over_reverse_gives_a_hessian_vector_product():
    p = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    v = cr.tensor([1.0, -1.0], dtype=cr.float64)
    with fwAD.dual_level():
        x = fwAD.make_dual(p, v)
        f = (x ** 3).sum() + x[0] * x[1]
        (g,) = cr.autograd.grad(f, p)           # backward without create_graph still carries tangents
        hv = tangent(g)
    # grad = [3 x0^2 + x1, 3 x1^2 + x0] = [5, 13]; H = [[6 x0, 1], [1, 6 x1]] = [[6, 1], [1, 12]]; H v = [5, -11]
    assert g.tolist() == [5.0, 13.0] and hv.tolist() == [5.0, -11.0]


def test_tangents_through_broadcasting_reductions_and_indexing():
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.ones(2, 3), cr.full((2, 3), 2.0))
        w = cr.tensor([1.0, 2.0, 3.0])
        y = (x * w).sum(1)
        assert tangent(y).tolist() == [12.0, 12.0]
        assert tangent(x[1, 1:]).tolist() == [2.0, 2.0]
        assert tangent(w * 2) is None          # no dual input: no tangent


def test_in_place_ops_keep_the_tangent_with_the_tensor():
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 1.0]))
        y = x * 1
        y.mul_(3)
        y += x
        assert tangent(y).tolist() == [4.0, 4.0]  # d(3x + x) = 4


def test_custom_function_with_jvp():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x ** 3

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * t

    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(2.0), cr.tensor(1.0))
        assert tangent(Cube.apply(x)).item() == 12.0


def test_custom_function_without_jvp_says_what_is_missing():
    class NoJvp(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(2.0), cr.tensor(1.0))
        with pytest.raises(NotImplementedError, match="jvp"):
            NoJvp.apply(x)


def test_errors():
    with pytest.raises(RuntimeError, match="dual_level"):
        fwAD.make_dual(cr.tensor(1.0), cr.tensor(1.0))
    with fwAD.dual_level():
        with pytest.raises(ValueError, match=r"\[3\].*\[2\]"):
            fwAD.make_dual(cr.ones(2), cr.ones(3))
        with pytest.raises(TypeError, match="dtype"):
            fwAD.make_dual(cr.ones(2), cr.ones(2, dtype=cr.float64))
        with pytest.raises(TypeError, match="floating"):
            fwAD.make_dual(cr.ones(2, dtype=cr.int64), cr.ones(2, dtype=cr.int64))
        with pytest.raises(RuntimeError, match="Nested"):
            with fwAD.dual_level():
                pass


def test_tangents_end_with_the_level_and_cost_nothing_outside():
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(1.0), cr.tensor(1.0))
    assert fwAD.unpack_dual(x).tangent is None
    assert not fwAD.state.active and not fwAD._tangents


def test_matches_torch_forward_ad():
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as tfw
    rng = np.random.default_rng(0)
    a, t, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    results = []
    for lib, fw in ((cr, fwAD), (torch, tfw)):
        with fw.dual_level():
            x = fw.make_dual(lib.tensor(a), lib.tensor(t))
            y = lib.softmax(x @ lib.tensor(w), dim=1).log().sum(0)
            results.append(np.asarray(fw.unpack_dual(y).tangent))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)
