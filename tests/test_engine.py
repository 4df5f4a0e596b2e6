"""The reverse-mode engine: Tensor.backward, autograd.backward, autograd.grad, higher-order derivatives,
accumulation, hooks, partial backward, graph shapes (diamonds, broadcasting, very long chains) and
the release of saved tensors.

Expected numbers come from calculus (written out next to each assertion) or from PyTorch.
"""
import gc
import math
import warnings
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


def f64(value, requires_grad=True):
    return cr.tensor(value, dtype=cr.float64, requires_grad=requires_grad)


def arr(t):
    return np.asarray(t.detach().numpy())


# ============================================================================ Tensor.backward
class TestBackward:
    def test_scalar_backward(self):
        x = f64(3.0)
        y = 2 * x ** 2 + 1
        y.backward()
        assert x.grad.item() == 12.0  # 4x
        assert x.grad.dtype is cr.float64

    def test_gradient_argument_for_non_scalar_outputs(self):
        x = f64([1.0, 2.0, 3.0])
        y = x ** 2
        y.backward(gradient=cr.tensor([1.0, 0.1, 0.01], dtype=cr.float64))
        assert x.grad.tolist() == pytest.approx([2.0, 0.4, 0.06])  # v * 2x

    def test_gradient_argument_as_positional(self):
        x = f64([1.0, 2.0])
        (x * 3).backward(cr.tensor([1.0, 2.0], dtype=cr.float64))
        assert x.grad.tolist() == [3.0, 6.0]

    def test_gradient_argument_for_a_scalar(self):
        x = f64(2.0)
        (x * x).backward(cr.tensor(0.5, dtype=cr.float64))
        assert x.grad.item() == 2.0  # 0.5 * 2x

    def test_backward_of_a_leaf(self):
        x = f64([1.0, 2.0])
        x.backward(cr.tensor([3.0, 4.0], dtype=cr.float64))
        assert x.grad.tolist() == [3.0, 4.0]

    def test_float32_gradients_stay_float32(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        (x.double() * x.double()).sum().backward()
        assert x.grad.dtype is cr.float32

    def test_gradient_is_not_aliased(self):
        x = f64([1.0, 2.0])
        g = cr.tensor([1.0, 1.0], dtype=cr.float64)
        x.backward(g)
        x.grad.add_(1)  # must not change g
        assert g.tolist() == [1.0, 1.0]

    def test_first_gradient_is_adopted_only_when_no_one_else_holds_it(self):
        # The engine takes a fresh gradient array as .grad without copying; every array someone else can
        # still reach must be copied instead: the user's gradient, another input's gradient, what a hook keeps.
        w = f64([[1.0, 2.0], [3.0, 4.0]])
        x = cr.tensor([[1.0, 1.0]], dtype=cr.float64)
        (x @ w).sum().backward()
        assert w.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]

        a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
        g = cr.tensor([1.0, 1.0], dtype=cr.float64)
        (a + b).backward(g)  # add hands the same array to both inputs
        a.grad.add_(1)
        assert b.grad.tolist() == [1.0, 1.0] and g.tolist() == [1.0, 1.0]

        kept = []
        c = f64([1.0, 2.0])
        c.register_hook(lambda grad: kept.append(grad))
        (c * 2).sum().backward()
        c.grad.add_(1)
        assert kept[0].tolist() == [2.0, 2.0] and c.grad.tolist() == [3.0, 3.0]

        d = f64([1.0, 2.0])
        e = d * 3
        e.retain_grad()
        (e * 1).sum().backward(retain_graph=True)
        d.grad.add_(1)
        assert e.grad.tolist() == [1.0, 1.0]

    def test_backward_works_under_no_grad(self):
        x = f64(2.0)
        y = x ** 3
        with cr.no_grad():
            y.backward()
        assert x.grad.item() == 12.0  # 3x^2

    def test_chain_of_functions(self):
        x = f64(0.5)
        y = (x.sin() * x.exp()).tanh()
        y.backward()
        # d tanh(u)/dx = (1 - tanh(u)^2) u',  u = sin(x) e^x,  u' = (cos x + sin x) e^x
        u = math.sin(0.5) * math.exp(0.5)
        expected = (1 - math.tanh(u) ** 2) * (math.cos(0.5) + math.sin(0.5)) * math.exp(0.5)
        assert x.grad.item() == pytest.approx(expected, rel=1e-12)

    def test_module_level_backward(self):
        x = f64([1.0, 2.0])
        y1 = (x ** 2).sum()          # grad 2x
        y2 = x * 3                   # grad 3 * g
        autograd.backward([y1, y2], [None, cr.tensor([1.0, 2.0], dtype=cr.float64)])
        assert x.grad.tolist() == [2.0 + 3.0, 4.0 + 6.0]

    def test_module_level_backward_single_tensor(self):
        x = f64(2.0)
        autograd.backward(x * x)
        assert x.grad.item() == 4.0

    def test_module_level_backward_with_inputs(self):
        a, b = f64(2.0), f64(3.0)
        autograd.backward(a * b, inputs=[b])
        assert b.grad.item() == 2.0 and a.grad is None


# ============================================================================ autograd.grad
class TestGrad:
    def test_single_input(self):
        x = f64(2.0)
        (g,) = autograd.grad(x ** 3, x)
        assert g.item() == 12.0
        assert x.grad is None  # grad() never touches .grad

    def test_several_inputs(self):
        a, b = f64(2.0), f64(5.0)
        ga, gb = autograd.grad(a * b + a, [a, b])
        assert (ga.item(), gb.item()) == (6.0, 2.0)

    def test_result_does_not_require_grad_without_create_graph(self):
        x = f64(2.0)
        (g,) = autograd.grad(x ** 2, x)
        assert not g.requires_grad and g.grad_fn is None

    def test_grad_outputs(self):
        x = f64([1.0, 2.0])
        (g,) = autograd.grad(x ** 2, x, grad_outputs=cr.tensor([10.0, 100.0], dtype=cr.float64))
        assert g.tolist() == [20.0, 400.0]

    def test_multiple_outputs_with_grad_outputs(self):
        x = f64([1.0, 2.0])
        y1 = x * 2
        y2 = x ** 2
        (g,) = autograd.grad([y1, y2], [x], grad_outputs=[cr.ones(2, dtype=cr.float64),
                                                           cr.tensor([1.0, 0.5], dtype=cr.float64)])
        # 2 * 1 + 2x * v
        assert g.tolist() == [2.0 + 2.0, 2.0 + 2.0]

    def test_multiple_outputs_and_inputs(self):
        a, b = f64(2.0), f64(3.0)
        ga, gb = autograd.grad([a * b, a + b], [a, b])
        assert (ga.item(), gb.item()) == (3.0 + 1.0, 2.0 + 1.0)

    def test_grad_of_output_with_respect_to_itself(self):
        x = f64([1.0, 2.0])
        y = x * 2
        (g,) = autograd.grad(y, y, grad_outputs=cr.tensor([3.0, 4.0], dtype=cr.float64))
        assert g.tolist() == [3.0, 4.0]
        s = (x * x).sum()
        (gs,) = autograd.grad(s, s)
        assert gs.item() == 1.0

    def test_grad_of_a_leaf_with_respect_to_itself(self):
        x = f64(2.0)
        (g,) = autograd.grad(x, x)
        assert g.item() == 1.0

    def test_grad_with_respect_to_an_intermediate(self):
        x = f64(2.0)
        y = x * 3
        z = y ** 2
        gy, gx = autograd.grad(z, [y, x])
        assert (gy.item(), gx.item()) == (12.0, 36.0)  # 2y ; 2y * 3

    def test_allow_unused(self):
        x, unused = f64(2.0), f64(1.0)
        gx, gu = autograd.grad(x * 2, [x, unused], allow_unused=True)
        assert gx.item() == 2.0 and gu is None

    def test_materialize_grads(self):
        x, unused = f64(2.0), f64([1.0, 1.0])
        gx, gu = autograd.grad(x * 2, [x, unused], materialize_grads=True)
        assert gx.item() == 2.0
        assert gu.tolist() == [0.0, 0.0] and gu.dtype is cr.float64

    def test_input_cut_off_by_a_detached_path(self):
        x = f64(2.0)
        y = x.detach() * 3 + x  # only the second term depends on x
        (g,) = autograd.grad(y, x)
        assert g.item() == 1.0

    def test_grad_frees_the_graph_by_default(self):
        x = f64(2.0)
        y = x.exp() * x
        autograd.grad(y, x)
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            autograd.grad(y, x)

    def test_grad_with_retain_graph(self):
        x = f64(2.0)
        y = x.exp() * x
        (g1,) = autograd.grad(y, x, retain_graph=True)
        (g2,) = autograd.grad(y, x)
        assert g1.item() == g2.item() == pytest.approx(3 * math.exp(2.0))  # (1 + x) e^x


# ============================================================================ higher order
class TestHigherOrder:
    def test_third_derivative_of_x4(self):
        x = f64(2.0)
        y = x ** 4
        (d1,) = autograd.grad(y, x, create_graph=True)
        (d2,) = autograd.grad(d1, x, create_graph=True)
        (d3,) = autograd.grad(d2, x)
        assert d1.item() == 32.0  # 4x^3
        assert d2.item() == 48.0  # 12x^2
        assert d3.item() == 48.0  # 24x
        assert d1.requires_grad and d2.requires_grad and not d3.requires_grad

    def test_fourth_derivative_of_sin_is_sin(self):
        x = f64(0.7)
        d = x.sin()
        for _ in range(4):
            (d,) = autograd.grad(d, x, create_graph=True)
        assert d.item() == pytest.approx(math.sin(0.7), rel=1e-12)

    def test_hessian_of_two_variable_function(self):
        a, b = f64(1.5), f64(-0.5)
        f = a ** 2 * b + a * b ** 3
        ga, gb = autograd.grad(f, [a, b], create_graph=True)
        assert ga.item() == pytest.approx(2 * 1.5 * -0.5 + (-0.5) ** 3)  # 2ab + b^3
        assert gb.item() == pytest.approx(1.5 ** 2 + 3 * 1.5 * 0.25)     # a^2 + 3ab^2
        haa, hab = autograd.grad(ga, [a, b], retain_graph=True)
        hba, hbb = autograd.grad(gb, [a, b])
        assert haa.item() == pytest.approx(2 * -0.5)                    # 2b
        assert hab.item() == pytest.approx(2 * 1.5 + 3 * 0.25)          # 2a + 3b^2
        assert hba.item() == pytest.approx(hab.item())                  # symmetric
        assert hbb.item() == pytest.approx(6 * 1.5 * -0.5)              # 6ab

    def test_grad_of_grad_norm(self):
        w = f64([1.0, 2.0, 3.0])
        loss = (w ** 3).sum()
        (g,) = autograd.grad(loss, w, create_graph=True)    # 3w^2
        penalty = (g * g).sum()                             # 9 sum w^4
        penalty.backward()
        assert w.grad.tolist() == pytest.approx([36.0, 288.0, 972.0])  # 36 w^3

    def test_backward_with_create_graph(self):
        x = f64(3.0)
        y = x ** 3
        with pytest.warns(UserWarning, match="reference cycle"):  # as PyTorch warns
            y.backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.item() == 27.0  # 3x^2
        (g2,) = autograd.grad(x.grad, x)
        assert g2.item() == 18.0  # 6x

    def test_double_backward_through_broadcasting_and_reductions(self):
        x = f64([[1.0], [2.0]])          # (2, 1)
        w = f64([1.0, -1.0, 2.0])        # (3,)
        y = ((x * w) ** 2).sum()         # sum_ij x_i^2 w_j^2
        (gx,) = autograd.grad(y, x, create_graph=True)     # 2 x_i sum_j w_j^2 = 12 x_i
        assert gx.tolist() == [[12.0], [24.0]]
        (gw,) = autograd.grad(gx.sum(), w)                 # d/dw_j sum_i 2 x_i sum w^2 = 4 w_j sum_i x_i
        assert gw.tolist() == [12.0, -12.0, 24.0]

    def test_hessian_matches_torch(self):
        torch = pytest.importorskip("torch")
        x0 = [0.3, -1.2, 0.8]
        hessians = []
        for lib in (cr, torch):
            x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
            m = lib.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=lib.float64)
            ag = torch.autograd if lib is torch else autograd
            f = ((m @ x).tanh() ** 2).sum() + (x.exp() * x).sum() + (x[0] * x[1] * x[2]).sin()
            (g,) = ag.grad(f, x, create_graph=True)
            rows = [ag.grad(g[i], x, retain_graph=True)[0] for i in range(3)]
            hessians.append(np.stack([arr(r) for r in rows]))
        np.testing.assert_allclose(hessians[0], hessians[1], rtol=1e-10, atol=1e-12)


# ============================================================================ accumulation and .grad
class TestAccumulation:
    def test_two_backwards_add_up(self):
        x = f64(2.0)
        y = x ** 2
        y.backward(retain_graph=True)
        y.backward()
        assert x.grad.item() == 8.0  # 2 * 2x

    def test_separate_graphs_add_up(self):
        x = f64(2.0)
        (x * 3).backward()
        (x ** 2).backward()
        assert x.grad.item() == 3.0 + 4.0

    def test_zeroing_grad(self):
        x = f64(2.0)
        (x * 3).backward()
        x.grad.zero_()
        (x * 5).backward()
        assert x.grad.item() == 5.0
        x.grad = None
        (x * 7).backward()
        assert x.grad.item() == 7.0

    def test_retained_grad_accumulates(self):
        x = f64(2.0)
        y = x * 3
        y.retain_grad()
        z = y ** 2
        z.backward(retain_graph=True)
        assert y.grad.item() == 12.0  # 2y
        z.backward()
        assert y.grad.item() == 24.0
        assert x.grad.item() == 72.0  # 2 * 2y * 3

    def test_non_leaf_grad_warns(self):
        x = f64(2.0)
        y = x * 3
        y.backward()
        with pytest.warns(UserWarning, match="retain_grad"):
            assert y.grad is None

    def test_retained_or_leaf_grad_does_not_warn(self):
        x = f64(2.0)
        y = x * 3
        y.retain_grad()
        (y * 1).backward()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert y.grad.item() == 1.0
            assert x.grad.item() == 3.0

    def test_grad_setter_checks(self):
        x = f64([1.0, 2.0])
        x.grad = cr.tensor([1.0, 1.0], dtype=cr.float64)
        (x * 2).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]
        with pytest.raises(RuntimeError, match="different size"):
            x.grad = cr.zeros(3, dtype=cr.float64)

    def test_accumulation_matches_torch(self):
        torch = pytest.importorskip("torch")
        res = []
        for lib in (cr, torch):
            x = lib.tensor([0.5, -1.0], requires_grad=True)
            y = x.exp() * x
            y.retain_grad()
            s = (y ** 2).sum()
            s.backward(retain_graph=True)
            s.backward(retain_graph=True)
            (x * 4).sum().backward()
            res.append((arr(x.grad), arr(y.grad)))
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)


# ============================================================================ hooks
class TestHooks:
    def test_leaf_hook_modifies_gradient(self):
        x = f64([1.0, 2.0])
        x.register_hook(lambda g: g * 10)
        (x * 3).sum().backward()
        assert x.grad.tolist() == [30.0, 30.0]

    def test_leaf_hook_returning_none_observes(self):
        x = f64([1.0, 2.0])
        seen = []
        x.register_hook(lambda g: seen.append(g.tolist()))
        (x * 3).sum().backward()
        assert seen == [[3.0, 3.0]] and x.grad.tolist() == [3.0, 3.0]

    def test_non_leaf_hook_modifies_what_flows_on(self):
        x = f64([1.0, 2.0])
        y = x * 2
        seen = []

        def hook(g):
            seen.append(g.tolist())
            return g * 0 + 1

        y.register_hook(hook)
        (y * y).sum().backward()
        assert seen == [[4.0, 8.0]]          # 2y
        assert x.grad.tolist() == [2.0, 2.0]  # replaced by 1, times dy/dx = 2

    def test_hooks_run_in_order_and_chain(self):
        x = f64(1.0)
        x.register_hook(lambda g: g + 1)
        x.register_hook(lambda g: g * 10)
        (x * 2).backward()
        assert x.grad.item() == 30.0  # (2 + 1) * 10

    def test_handle_remove(self):
        x = f64(1.0)
        y = x * 2
        h_leaf = x.register_hook(lambda g: g * 100)
        h_mid = y.register_hook(lambda g: g * 100)
        h_leaf.remove()
        h_mid.remove()
        (y * 3).backward()
        assert x.grad.item() == 6.0

    def test_hook_on_retained_tensor_sees_modified_grad(self):
        x = f64(1.0)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 5)
        (y * 3).backward()
        assert x.grad.item() == 30.0  # 3 * 5 * 2
        assert y.grad.item() in (3.0, 15.0)

    def test_hook_applies_to_summed_gradient(self):
        x = f64(2.0)
        y = x * 1
        calls = []
        y.register_hook(lambda g: calls.append(g.item()))
        (y * y + y).backward()  # y used twice: hook sees the sum 2y + 1
        assert calls == [5.0]

    def test_hooks_match_torch(self):
        torch = pytest.importorskip("torch")
        res = []
        for lib in (cr, torch):
            x = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
            y = x.sigmoid() * x
            y.register_hook(lambda g: g.clamp(-0.5, 0.5))
            z = y.sum(0) ** 2
            z.register_hook(lambda g: g * lib.tensor([1.0, -1.0]))
            x.register_hook(lambda g: g - 1)
            z.sum().backward()
            res.append(arr(x.grad))
        np.testing.assert_allclose(res[0], res[1], rtol=1e-6)


# ============================================================================ partial backward
class TestInputs:
    def test_backward_inputs_fills_only_those(self):
        a, b, c = f64(2.0), f64(3.0), f64(4.0)
        (a * b * c).backward(inputs=[a, c])
        assert a.grad.item() == 12.0 and c.grad.item() == 6.0
        assert b.grad is None

    def test_backward_inputs_single_tensor(self):
        a, b = f64(2.0), f64(3.0)
        (a * b).backward(inputs=b)
        assert b.grad.item() == 2.0 and a.grad is None

    def test_backward_inputs_non_leaf(self):
        x = f64(2.0)
        y = x * 3
        (y ** 2).backward(inputs=[y])
        assert y.grad.item() == 12.0
        assert x.grad is None

    def test_backward_inputs_empty_list_is_an_error(self):
        x = f64(2.0)
        with pytest.raises(ValueError, match="empty"):
            (x * 2).backward(inputs=[])

    def test_backward_inputs_matches_torch(self):
        torch = pytest.importorskip("torch")
        res = []
        for lib in (cr, torch):
            a = lib.tensor([1.0, 2.0], requires_grad=True)
            b = lib.tensor([3.0, -1.0], requires_grad=True)
            m = a * b
            out = (m.exp() + a).sum()
            out.backward(inputs=[b, m], retain_graph=True)
            res.append((a.grad, arr(b.grad), arr(m.grad)))
        assert res[0][0] is None and res[1][0] is None
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)
        np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-6)


# ============================================================================ graph shapes
class TestGraphShapes:
    def test_diamond(self):
        x = f64(2.0)
        a = x * 2
        b = x * 3
        z = a * b  # 6x^2
        z.backward()
        assert x.grad.item() == 24.0  # 12x

    def test_same_tensor_used_twice_in_one_op(self):
        x = f64(3.0)
        (x * x).backward()
        assert x.grad.item() == 6.0

    def test_deep_diamond(self):
        x = f64(1.5)
        y = x
        for _ in range(10):
            y = y * 0.5 + y * 0.5 + y * 0.0  # y stays x, but every step forks and joins
        y.backward()
        assert x.grad.item() == pytest.approx(1.0)

    def test_shared_subexpression(self):
        x = f64(0.5)
        s = x.sin()
        y = s * s.exp() + s
        y.backward()
        # d/dx [s e^s + s] = cos x (e^s + s e^s + 1)
        s0 = math.sin(0.5)
        assert x.grad.item() == pytest.approx(math.cos(0.5) * (math.exp(s0) * (1 + s0) + 1))

    @pytest.mark.parametrize("shape_a,shape_b", [((3, 1), (4,)), ((2, 3, 4), (4,)), ((1,), ()), ((3, 1), (1, 4)),
                                                 ((2, 1, 3), (5, 1)), ((), (2, 2))])
    def test_broadcast_gradients_are_summed_back(self, shape_a, shape_b):
        a = cr.ones(shape_a, dtype=cr.float64, requires_grad=True)
        b = cr.ones(shape_b, dtype=cr.float64, requires_grad=True)
        out = a + b
        out.sum().backward()
        assert a.grad.shape == a.shape and b.grad.shape == b.shape
        total = int(np.prod(out.shape))
        # each element of a is used total / a.numel() times
        assert np.all(a.grad.numpy() == total / a.numel())
        assert np.all(b.grad.numpy() == total / b.numel())

    def test_broadcast_mul_gradient_values(self):
        a = f64([[1.0], [2.0], [3.0]])         # (3, 1)
        b = f64([10.0, 20.0, 30.0, 40.0])      # (4,)
        (a * b).sum().backward()
        assert a.grad.tolist() == [[100.0], [100.0], [100.0]]  # sum of b
        assert b.grad.tolist() == [6.0] * 4                     # sum of a

    def test_broadcasting_matches_torch(self):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(0)
        av, bv, cv = rng.standard_normal((3, 1)), rng.standard_normal((4,)), rng.standard_normal((2, 1, 1))
        res = []
        for lib in (cr, torch):
            a, b, c = (lib.tensor(v, requires_grad=True) for v in (av, bv, cv))
            out = ((a * b - c) ** 2 / (1 + b * b)).mean()
            out.backward()
            res.append([arr(t.grad) for t in (a, b, c)])
        for ours, theirs in zip(*res):
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-10)

    def test_long_multiplication_chain_does_not_recurse(self):
        x = f64(1.0)
        y = x
        for _ in range(100_000):
            y = y * 1.0000001
        y.backward()
        assert x.grad.item() == pytest.approx(1.0000001 ** 100_000, rel=1e-9)
        del y
        gc.collect()

    def test_long_addition_chain_does_not_recurse(self):
        x = f64(1.0)
        y = x
        for _ in range(100_000):
            y = y + x
        (g,) = autograd.grad(y, x)
        assert g.item() == 100_001.0

    def test_long_chain_with_create_graph(self):
        x = f64(0.3)
        y = x
        for _ in range(20_000):
            y = y * 1.0
        y = y ** 2
        (g,) = autograd.grad(y, x, create_graph=True)
        (h,) = autograd.grad(g, x)
        assert g.item() == pytest.approx(0.6) and h.item() == pytest.approx(2.0)

    def test_multiple_outputs_of_one_op(self):
        x = f64([[1.0, 5.0], [7.0, 2.0]])
        values, indices = x.max(1)
        values.sum().backward()
        assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
        assert indices.tolist() == [1, 0]


# ============================================================================ releasing saved tensors
class TestRelease:
    def test_second_backward_raises(self):
        x = f64(2.0)
        y = x.exp() * x
        y.backward()
        with pytest.raises(RuntimeError, match=r"retain_graph=True"):
            y.backward()

    def test_retain_graph_keeps_it(self):
        x = f64(2.0)
        y = x.exp() * x
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        assert x.grad.item() == pytest.approx(3 * 3 * math.exp(2.0))  # 3 * (1 + x) e^x
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            y.backward()

    def test_saved_intermediate_is_freed_after_backward(self):
        x = f64(1.0)
        y = x * 2
        z = y.sin()  # saves y
        ref = weakref.ref(y)
        del y
        gc.collect()
        assert ref() is not None  # kept alive by the graph
        z.backward()
        gc.collect()
        assert ref() is None      # released by backward

    def test_saved_intermediate_is_kept_with_retain_graph(self):
        x = f64(1.0)
        y = x * 2
        z = y.sin()
        ref = weakref.ref(y)
        del y
        z.backward(retain_graph=True)
        gc.collect()
        assert ref() is not None

    def test_graph_without_saved_tensors_can_run_twice(self):
        # add/sub save nothing, so nothing is freed (PyTorch allows this too)
        x = f64(1.0)
        y = x + 1
        y.backward()
        y.backward()
        assert x.grad.item() == 2.0

    def test_release_matches_torch(self):
        torch = pytest.importorskip("torch")
        for lib in (cr, torch):
            x = lib.tensor(2.0, requires_grad=True)
            y = x.exp() * x
            y.backward()
            with pytest.raises(RuntimeError, match="retain_graph=True"):
                y.backward()


# ============================================================================ memory
def test_graph_is_freed_by_reference_counting_after_backward():
    """No reference cycles: once the output is dropped, every node goes at once (not at the next gc)."""
    w = cr.randn(4, 4, requires_grad=True)
    x = cr.randn(3, 4)
    enabled = gc.isenabled()
    gc.disable()
    try:
        y = (x @ w).tanh().relu()
        y.retain_grad()
        loss = (y * y).sum() + y.max() + x[0].sum() * w.sum()
        nodes = [weakref.ref(loss.grad_fn), weakref.ref(y.grad_fn)]
        loss.backward()
        del loss, y
        assert [ref() for ref in nodes] == [None, None]
    finally:
        if enabled:
            gc.enable()
