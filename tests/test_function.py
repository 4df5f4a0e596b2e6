"""Custom autograd Functions (chainrule.autograd.Function): the PyTorch tutorial examples, ctx features,
double backward, once_differentiable, and the errors for misuse.

Each Function is written once as a factory over the library (``lib`` is chainrule or torch), so the very
same code runs on both; torch comparisons skip when torch is not installed.
"""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Function, FunctionCtx
from chainrule.autograd.function import once_differentiable


def arr(t):
    return np.asarray(t.detach().numpy())


def both(make):
    """The Function from ``make(lib)`` for chainrule and, if installed, for torch: [(lib, Fn), ...]."""
    torch = pytest.importorskip("torch")
    return [(cr, make(cr)), (torch, make(torch))]


def numerical_grad(f, inputs, v, eps=1e-6):
    """Central differences of sum(f(*inputs) * v) with respect to every input (float64 arrays)."""
    grads = []
    for i, x in enumerate(inputs):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            plus = [a.copy() for a in inputs]
            minus = [a.copy() for a in inputs]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            fp = np.sum(arr(f(*[cr.tensor(a) for a in plus])) * v)
            fm = np.sum(arr(f(*[cr.tensor(a) for a in minus])) * v)
            g[idx] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def check_against_finite_differences(f, *arrays, seed=0):
    """autograd's vector-Jacobian product of f along a random v equals the finite-difference one."""
    rng = np.random.default_rng(seed)
    inputs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = f(*inputs)
    v = rng.standard_normal(out.shape)
    analytic = cr.autograd.grad((out * cr.tensor(v)).sum(), inputs)
    numeric = numerical_grad(f, [np.array(a, dtype=np.float64) for a in arrays], v)
    for position, (a, n) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(arr(a), n, rtol=1e-5, atol=1e-7, err_msg=f"input {position}")


# ============================================================================ tutorial Functions
def make_exp(lib):
    class MyExp(lib.autograd.Function):
        """The docs' Exp: saves its output and reuses it in backward."""

        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    return MyExp


def make_legendre(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        """From the PyTorch tutorial "Defining new autograd functions": P3(x) = (5x^3 - 3x) / 2."""

        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def make_linear(lib, calls=None):
    class LinearFunction(lib.autograd.Function):
        """The docs' LinearFunction, which computes only the gradients in ctx.needs_input_grad."""

        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if calls is not None:
                calls.append(tuple(ctx.needs_input_grad))
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return LinearFunction


def make_linear_setup_context(lib):
    class LinearFunction(lib.autograd.Function):
        """PyTorch 2's style: forward without ctx, setup_context saves what backward needs."""

        @staticmethod
        def forward(input, weight, bias=None):
            output = input.mm(weight.t())
            if bias is not None:
                output = output + bias
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_bias = grad_output.sum(0) if bias is not None else None
            return grad_output.mm(weight), grad_output.t().mm(input), grad_bias

    return LinearFunction


def make_mul_constant(lib):
    class MulConstant(lib.autograd.Function):
        """The docs' example with a non-tensor argument (its gradient is None)."""

        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    return MulConstant


def make_cube(lib):
    class Cube(lib.autograd.Function):
        """A backward written with Tensor ops: differentiable again (3rd derivative = 6)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2

    return Cube


def make_sincos(lib):
    class SinCos(lib.autograd.Function):
        """Two outputs; backward records what arrived for each."""

        seen = []

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            x, = ctx.saved_tensors
            SinCos.seen.append((grad_sin, grad_cos))
            result = 0
            if grad_sin is not None:
                result = result + grad_sin * x.cos()
            if grad_cos is not None:
                result = result - grad_cos * x.sin()
            return result

    return SinCos


class TestTutorialExamples:
    def test_exp_matches_builtin(self):
        data = np.array([-1.0, 0.0, 0.5, 2.0])
        x1 = cr.tensor(data, requires_grad=True)
        x2 = cr.tensor(data, requires_grad=True)
        y1 = make_exp(cr).apply(x1)
        y2 = x2.exp()
        np.testing.assert_allclose(arr(y1), arr(y2))
        (y1 * cr.tensor([1.0, 2.0, 3.0, 4.0], dtype=cr.float64)).sum().backward()
        (y2 * cr.tensor([1.0, 2.0, 3.0, 4.0], dtype=cr.float64)).sum().backward()
        np.testing.assert_allclose(arr(x1.grad), arr(x2.grad))
        np.testing.assert_allclose(arr(x1.grad), np.exp(data) * [1, 2, 3, 4])

    def test_grad_fn_is_named_after_the_function(self):
        MyExp = make_exp(cr)
        x = cr.tensor([1.0], requires_grad=True)
        y = MyExp.apply(x)
        assert type(y.grad_fn).__name__ == "MyExpBackward"
        assert y.grad_fn.name() == "MyExpBackward"
        assert "grad_fn=<MyExpBackward>" in repr(y)
        assert y.grad_fn.next_functions[0][0] is not None  # AccumulateGrad of x
        assert not y.is_leaf and y.requires_grad

    def test_each_function_gets_its_own_node_class(self):
        A, B = make_exp(cr), make_cube(cr)
        assert A._backward_cls is not B._backward_cls
        assert A._backward_cls.__name__ == "MyExpBackward" and B._backward_cls.__name__ == "CubeBackward"

    @pytest.mark.parametrize("make", [make_exp, make_legendre, make_cube])
    def test_same_values_and_grads_as_torch(self, make):
        data = np.array([-1.5, -0.3, 0.2, 0.9, 1.7])
        results = []
        for lib, Fn in both(make):
            x = lib.tensor(data, requires_grad=True)
            y = Fn.apply(x)
            (y * lib.tensor(np.arange(1.0, 6.0))).sum().backward()
            results.append((arr(y), arr(x.grad)))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)

    def test_legendre_matches_builtin_ops(self):
        P3 = make_legendre(cr)
        data = np.linspace(-1, 1, 7)
        x1 = cr.tensor(data, requires_grad=True)
        x2 = cr.tensor(data, requires_grad=True)
        P3.apply(x1).sum().backward()
        (0.5 * (5 * x2 ** 3 - 3 * x2)).sum().backward()
        np.testing.assert_allclose(arr(x1.grad), arr(x2.grad), rtol=1e-12)

    def test_legendre_tutorial_training_matches_torch(self):
        """The tutorial's loop: fit y = sin(x) with a + b * P3(c + d * x), by hand-written SGD."""
        final = []
        for lib, P3 in both(make_legendre):
            x = lib.tensor(np.linspace(-np.pi, np.pi, 200))
            y = lib.sin(x)
            a = lib.tensor(0.0, dtype=lib.float64, requires_grad=True)
            b = lib.tensor(-1.0, dtype=lib.float64, requires_grad=True)
            c = lib.tensor(0.0, dtype=lib.float64, requires_grad=True)
            d = lib.tensor(0.3, dtype=lib.float64, requires_grad=True)
            learning_rate = 5e-6
            for _ in range(50):
                y_pred = a + b * P3.apply(c + d * x)
                loss = ((y_pred - y) ** 2).sum()
                loss.backward()
                with lib.no_grad():
                    for p in (a, b, c, d):
                        p -= learning_rate * p.grad
                        p.grad = None
            final.append([p.item() for p in (a, b, c, d)] + [loss.item()])
        np.testing.assert_allclose(final[0], final[1], rtol=1e-7, atol=1e-12)  # summation order differs

    def test_linear_function_matches_builtin_and_torch(self):
        rng = np.random.default_rng(1)
        inp, w, bias = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
        grads = []
        for lib, Linear in both(make_linear):
            tensors = [lib.tensor(a, requires_grad=True) for a in (inp, w, bias)]
            out = Linear.apply(*tensors)
            (out * lib.tensor(np.arange(8.0).reshape(4, 2))).sum().backward()
            grads.append([arr(out)] + [arr(t.grad) for t in tensors])
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        # and the built-in ops give the same
        tensors = [cr.tensor(a, requires_grad=True) for a in (inp, w, bias)]
        (tensors[0].mm(tensors[1].t()) + tensors[2]).mul(cr.tensor(np.arange(8.0).reshape(4, 2))).sum().backward()
        for ours, builtin in zip(grads[0][1:], tensors):
            np.testing.assert_allclose(ours, arr(builtin.grad), rtol=1e-12)

    def test_linear_setup_context_style(self):
        rng = np.random.default_rng(2)
        inp, w, bias = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
        grads = []
        for lib, Linear in both(make_linear_setup_context):
            tensors = [lib.tensor(a, requires_grad=True) for a in (inp, w, bias)]
            out = Linear.apply(*tensors)
            assert type(out.grad_fn).__name__ == "LinearFunctionBackward"
            out.pow(2).sum().backward()
            grads.append([arr(out)] + [arr(t.grad) for t in tensors])
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)

    def test_setup_context_with_keyword_and_default_arguments(self):
        Linear = make_linear_setup_context(cr)
        inp = cr.tensor(np.ones((2, 3)), requires_grad=True)
        w = cr.tensor(np.full((4, 3), 0.5), requires_grad=True)
        out = Linear.apply(inp, weight=w)  # bias left to its default (None)
        out.sum().backward()
        np.testing.assert_allclose(arr(out), np.full((2, 4), 1.5))
        np.testing.assert_allclose(arr(inp.grad), np.full((2, 3), 2.0))
        np.testing.assert_allclose(arr(w.grad), np.full((4, 3), 2.0))

    def test_mul_constant_non_tensor_argument(self):
        for lib, MulConstant in both(make_mul_constant):
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            y = MulConstant.apply(x, 3.0)
            y.sum().backward()
            assert y.tolist() == [3.0, 6.0]
            assert x.grad.tolist() == [3.0, 3.0]

    def test_ctx_attributes_reachable_from_grad_fn(self):
        y = make_mul_constant(cr).apply(cr.tensor([1.0], requires_grad=True), 2.5)
        assert y.grad_fn.constant == 2.5


# ============================================================================ finite differences
class TestFiniteDifferences:
    def test_tutorial_functions(self):
        rng = np.random.default_rng(3)
        x = rng.uniform(-1, 1, (3, 2))
        check_against_finite_differences(make_exp(cr).apply, x)
        check_against_finite_differences(make_legendre(cr).apply, x)
        check_against_finite_differences(make_cube(cr).apply, x)
        check_against_finite_differences(lambda a: make_sincos(cr).apply(a)[0] * 2 + make_sincos(cr).apply(a)[1], x)

    def test_linear_all_inputs(self):
        rng = np.random.default_rng(4)
        Linear = make_linear(cr)
        check_against_finite_differences(Linear.apply, rng.standard_normal((3, 2)), rng.standard_normal((4, 2)),
                                         rng.standard_normal(4))

    def test_composed_with_builtin_ops(self):
        MyExp, P3 = make_exp(cr), make_legendre(cr)
        rng = np.random.default_rng(5)
        check_against_finite_differences(lambda a, b: P3.apply(MyExp.apply(a * 0.3) * b).sum(0),
                                         rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3)))


# ============================================================================ higher derivatives
class TestDoubleBackward:
    def test_cube_second_and_third_derivatives(self):
        Cube = make_cube(cr)
        x = cr.tensor([0.5, -2.0, 3.0], dtype=cr.float64, requires_grad=True)
        y = Cube.apply(x)
        g1, = cr.autograd.grad(y.sum(), x, create_graph=True)
        g2, = cr.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = cr.autograd.grad(g2.sum(), x)
        np.testing.assert_allclose(arr(g1), 3 * arr(x) ** 2)
        np.testing.assert_allclose(arr(g2), 6 * arr(x))
        np.testing.assert_allclose(arr(g3), [6.0, 6.0, 6.0])

    def test_exp_saving_its_output_double_backward(self):
        """The saved output comes back attached to the node, so d/dx of (grad * out) sees out's history."""
        MyExp = make_exp(cr)
        x = cr.tensor([0.1, 1.0, -0.7], dtype=cr.float64, requires_grad=True)
        y = MyExp.apply(x)
        g1, = cr.autograd.grad(y.sum(), x, create_graph=True)
        g2, = cr.autograd.grad(g1.sum(), x)
        np.testing.assert_allclose(arr(g1), np.exp(arr(x)))
        np.testing.assert_allclose(arr(g2), np.exp(arr(x)))

    def test_double_backward_matches_torch(self):
        data = np.array([0.3, -1.2, 2.0])
        results = []
        for lib, P3 in both(make_legendre):
            x = lib.tensor(data, requires_grad=True)
            y = P3.apply(x * x)
            g1, = lib.autograd.grad(y.sum(), x, create_graph=True)
            (g1 * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
            results.append((arr(g1), arr(x.grad)))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)

    def test_hessian_vector_product_through_linear_function(self):
        Linear = make_linear(cr)
        rng = np.random.default_rng(6)
        inp = cr.tensor(rng.standard_normal((3, 2)), requires_grad=True)
        w = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)
        loss = (Linear.apply(inp, w) ** 2).sum()
        gw, = cr.autograd.grad(loss, w, create_graph=True)
        hvp, = cr.autograd.grad(gw.sum(), inp)
        # same with built-in ops
        inp2 = cr.tensor(arr(inp), requires_grad=True)
        w2 = cr.tensor(arr(w), requires_grad=True)
        gw2, = cr.autograd.grad((inp2.mm(w2.t()) ** 2).sum(), w2, create_graph=True)
        hvp2, = cr.autograd.grad(gw2.sum(), inp2)
        np.testing.assert_allclose(arr(hvp), arr(hvp2), rtol=1e-12)


# ============================================================================ outputs
class TestOutputs:
    def test_multiple_outputs_one_unused_gets_zeros(self):
        SinCos = make_sincos(cr)
        x = cr.tensor([0.3, 1.1], dtype=cr.float64, requires_grad=True)
        s, c = SinCos.apply(x)
        assert s.grad_fn is c.grad_fn and (s._nr, c._nr) == (0, 1)
        s.sum().backward()
        grad_sin, grad_cos = SinCos.seen[-1]
        assert grad_cos is not None and grad_cos.tolist() == [0.0, 0.0]  # materialized
        np.testing.assert_allclose(arr(x.grad), np.cos(arr(x)))

    def test_multiple_outputs_both_used(self):
        for lib, SinCos in both(make_sincos):
            x = lib.tensor([0.3, 1.1, -2.0], requires_grad=True)
            s, c = SinCos.apply(x)
            (2 * s + 3 * c).sum().backward()
            np.testing.assert_allclose(arr(x.grad), 2 * np.cos(arr(x)) - 3 * np.sin(arr(x)), rtol=1e-6)

    def test_set_materialize_grads_false_gives_none(self):
        class SinCosNoMaterialize(Function):
            seen = []

            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                ctx.save_for_backward(x)
                return x.sin(), x.cos()

            @staticmethod
            def backward(ctx, grad_sin, grad_cos):
                SinCosNoMaterialize.seen.append((grad_sin, grad_cos))
                x, = ctx.saved_tensors
                return grad_sin * x.cos() if grad_sin is not None else None

        x = cr.tensor([0.5], requires_grad=True)
        s, _ = SinCosNoMaterialize.apply(x)
        s.sum().backward()
        grad_sin, grad_cos = SinCosNoMaterialize.seen[-1]
        assert grad_cos is None and grad_sin.tolist() == [1.0]
        np.testing.assert_allclose(arr(x.grad), np.cos([0.5]), rtol=1e-6)

    def test_non_tensor_outputs_mixed_in(self):
        class WithCount(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, "label", 3

            @staticmethod
            def backward(ctx, grad, grad_label, grad_count):
                assert grad_label is None and grad_count is None
                return grad * 2

        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y, label, count = WithCount.apply(x)
        assert (label, count) == ("label", 3)
        y.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]

    def test_mark_non_differentiable(self):
        def make(lib):
            class MaxWithIndex(lib.autograd.Function):
                seen = []

                @staticmethod
                def forward(ctx, x):
                    index = x.argmax()
                    value = x[index]
                    mask = (x == value).to(x.dtype)
                    ctx.mark_non_differentiable(index, mask)
                    ctx.save_for_backward(mask)
                    return value, index, mask

                @staticmethod
                def backward(ctx, grad_value, grad_index, grad_mask):
                    MaxWithIndex.seen.append((grad_index, grad_mask))
                    mask, = ctx.saved_tensors
                    return grad_value * mask

            return MaxWithIndex

        for lib, Fn in both(make):
            x = lib.tensor([1.0, 5.0, 2.0], requires_grad=True)
            value, index, mask = Fn.apply(x)
            assert value.requires_grad and value.grad_fn is not None
            assert not index.requires_grad and index.grad_fn is None
            assert not mask.requires_grad and mask.grad_fn is None
            value.backward()
            assert x.grad.tolist() == [0.0, 1.0, 0.0]
            grad_index, grad_mask = Fn.seen[-1]
            assert arr(grad_mask).tolist() == [0.0, 0.0, 0.0]  # materialized zeros for the float one
            if lib is cr:
                with pytest.raises(RuntimeError, match="does not require grad"):
                    mask.sum().backward()

    def test_integer_outputs_never_require_grad(self):
        class ArgmaxAndDouble(Function):
            @staticmethod
            def forward(ctx, x):
                return x.argmax(), x * 2

            @staticmethod
            def backward(ctx, grad_index, grad):
                return grad * 2

        index, doubled = ArgmaxAndDouble.apply(cr.tensor([1.0, 3.0], requires_grad=True))
        assert not index.requires_grad and doubled.requires_grad

    def test_returning_an_input_gives_a_new_tensor_on_the_same_memory(self):
        def make(lib):
            class Identity(lib.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    return x

                @staticmethod
                def backward(ctx, grad):
                    return grad * 3  # not the true derivative: shows this backward is the one used

            return Identity

        for lib, Identity in both(make):
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            y = Identity.apply(x)
            assert y is not x
            assert x.is_leaf and x.grad_fn is None
            assert type(y.grad_fn).__name__ == "IdentityBackward"
            assert y.data_ptr() == x.data_ptr()  # a view of the same data
            y.sum().backward()
            assert x.grad.tolist() == [3.0, 3.0]

    def test_returning_an_input_that_does_not_require_grad(self):
        class PassThrough(Function):
            @staticmethod
            def forward(ctx, x, y):
                return x, y * 2

            @staticmethod
            def backward(ctx, gx, gy):
                return gx, gy * 2

        x = cr.tensor([1.0])
        y = cr.tensor([1.0], requires_grad=True)
        out_x, out_y = PassThrough.apply(x, y)
        assert out_x is not x and out_x.requires_grad  # PyTorch: every float output of the node requires grad
        assert out_y.requires_grad
        (out_x + out_y).sum().backward()
        assert y.grad.tolist() == [2.0] and x.grad is None

    def test_output_hooks_and_retain_grad(self):
        MyExp = make_exp(cr)
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        y = MyExp.apply(x)
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        (y * 2).sum().backward()
        assert y.grad.tolist() == [20.0, 20.0]
        np.testing.assert_allclose(arr(x.grad), 20 * np.exp([0.0, 1.0]), rtol=1e-6)


# ============================================================================ when a node is recorded
class TestRecording:
    def test_no_node_without_inputs_requiring_grad(self):
        y = make_exp(cr).apply(cr.tensor([1.0]))
        assert y.grad_fn is None and not y.requires_grad

    def test_no_node_under_no_grad(self):
        x = cr.tensor([1.0], requires_grad=True)
        with cr.no_grad():
            y = make_exp(cr).apply(x)
        assert y.grad_fn is None and not y.requires_grad

    def test_forward_runs_with_recording_off(self):
        seen = []

        class Probe(Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(cr.is_grad_enabled())
                inner = x * 2
                seen.append(inner.requires_grad)
                return inner

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        y = Probe.apply(cr.tensor([1.0], requires_grad=True))
        assert seen == [False, False]
        assert cr.is_grad_enabled()
        assert type(y.grad_fn).__name__ == "ProbeBackward"
        assert y.grad_fn.next_functions[0][0].__class__.__name__ == "AccumulateGrad"

    def test_needs_input_grad(self):
        calls = []
        Linear = make_linear(cr, calls)
        inp = cr.randn(2, 3, requires_grad=True)
        w = cr.randn(4, 3)  # a frozen weight
        b = cr.randn(4, requires_grad=True)
        Linear.apply(inp, w, b).sum().backward()
        assert calls[-1] == (True, False, True)
        assert w.grad is None and inp.grad is not None and b.grad is not None
        Linear.apply(inp.detach(), w.requires_grad_(), None).sum().backward()
        assert calls[-1] == (False, True, False)

    def test_needs_input_grad_matches_torch(self):
        seen = {}

        def make(lib):
            class Probe(lib.autograd.Function):
                @staticmethod
                def forward(ctx, a, b, scale, c):
                    seen.setdefault(lib.__name__, []).append(tuple(ctx.needs_input_grad))
                    return a * scale + b + c

                @staticmethod
                def backward(ctx, g):
                    return g, g, None, g

            return Probe

        for lib, Probe in both(make):
            a = lib.tensor([1.0], requires_grad=True)
            b = lib.tensor([1.0])
            Probe.apply(a, b, 2.0, a)
            with lib.no_grad():
                Probe.apply(a, b, 2.0, b)
        assert seen["chainrule"] == seen["torch"] == [(True, False, False, True), (True, False, False, False)]

    def test_non_tensor_inputs_have_no_edges(self):
        y = make_mul_constant(cr).apply(cr.tensor([1.0], requires_grad=True), 4)
        assert y.grad_fn.next_functions[1] == (None, 0)


# ============================================================================ mark_dirty
def make_add_one_inplace(lib):
    class AddOneInplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 1

    return AddOneInplace


class TestMarkDirty:
    def test_input_becomes_the_output(self):
        for lib, AddOne in both(make_add_one_inplace):
            leaf = lib.tensor([1.0, 2.0], requires_grad=True)
            x = leaf * 2
            version = x._version
            y = AddOne.apply(x)
            assert y is x
            assert x._version == version + 2  # add_, then mark_dirty (PyTorch counts both)
            assert type(x.grad_fn).__name__ == "AddOneInplaceBackward"
            assert x.tolist() == [3.0, 5.0]
            (x * 3).sum().backward()
            assert leaf.grad.tolist() == [6.0, 6.0]

    def test_version_bumped_when_forward_writes_without_an_inplace_op(self):
        class WriteThroughNumpy(Function):
            @staticmethod
            def forward(ctx, x):
                x.numpy(force=True)[...] += 1
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = cr.tensor([1.0], requires_grad=True) * 1
        WriteThroughNumpy.apply(x)
        assert x._version == 1 and x.tolist() == [2.0]

    def test_in_place_invalidates_earlier_saved_values(self):
        AddOne = make_add_one_inplace(cr)
        leaf = cr.tensor([1.0, 2.0], requires_grad=True)
        x = leaf * 1
        z = x * x  # MulBackward0 saved x
        AddOne.apply(x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()

    def test_leaf_requiring_grad_is_refused(self):
        for lib, AddOne in both(make_add_one_inplace):
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                AddOne.apply(lib.tensor([1.0], requires_grad=True))

    def test_dirty_tensor_must_be_returned(self):
        class Forgetful(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad

        with pytest.raises(RuntimeError, match="dirty"):
            Forgetful.apply(cr.tensor([1.0], requires_grad=True) * 1)

    def test_saving_the_dirty_output(self):
        class ExpInplace(Function):
            @staticmethod
            def forward(ctx, x):
                x.exp_()
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                result, = ctx.saved_tensors
                return grad * result

        leaf = cr.tensor([0.0, 1.0], dtype=cr.float64, requires_grad=True)
        y = ExpInplace.apply(leaf * 1)
        y.sum().backward()
        np.testing.assert_allclose(arr(leaf.grad), np.exp([0.0, 1.0]))


# ============================================================================ saved tensors
class TestSavedTensors:
    def test_modified_in_place_after_save_raises(self):
        MyExp = make_exp(cr)
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = MyExp.apply(x)
        with cr.no_grad():
            y.mul_(2)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        message = str(info.value)
        assert "modified by an inplace operation" in message
        assert "MyExpBackward" in message and "saved tensor 0" in message
        assert "version 0" in message and "version 1" in message and "mul_" in message

    def test_saved_input_modified_in_place_raises(self):
        P3 = make_legendre(cr)
        leaf = cr.tensor([0.5], requires_grad=True)
        x = leaf * 1
        y = P3.apply(x)
        x.add_(1)
        with pytest.raises(RuntimeError, match="saved tensor 0 of LegendrePolynomial3Backward"):
            y.backward()

    def test_matches_torch_error(self):
        torch = pytest.importorskip("torch")
        MyExp = make_exp(torch)
        y = MyExp.apply(torch.tensor([1.0], requires_grad=True))
        with torch.no_grad():
            y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()

    def test_second_backward_without_retain_graph(self):
        for lib, MyExp in both(make_exp):
            x = lib.tensor([1.0], requires_grad=True)
            y = MyExp.apply(x)
            y.backward()
            with pytest.raises(RuntimeError, match="retain_graph=True"):
                y.backward()

    def test_saved_tensors_after_release_name_retain_graph(self):
        x = cr.tensor([1.0], requires_grad=True)
        y = make_exp(cr).apply(x)
        y.backward()
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            y.grad_fn.saved_tensors

    def test_retain_graph_allows_a_second_backward(self):
        x = cr.tensor([0.0, 1.0], dtype=cr.float64, requires_grad=True)
        y = make_exp(cr).apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        np.testing.assert_allclose(arr(x.grad), 2 * np.exp([0.0, 1.0]))

    def test_saved_tensors_readable_from_grad_fn(self):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = make_legendre(cr).apply(x)
        saved, = y.grad_fn.saved_tensors
        assert saved is x

    def test_save_for_backward_accepts_only_tensors_and_none(self):
        class SavesNumber(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        with pytest.raises(TypeError, match="save_for_backward"):
            SavesNumber.apply(cr.tensor([1.0], requires_grad=True))

    def test_saving_none(self):
        class SavesNone(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                nothing, x = ctx.saved_tensors
                assert nothing is None
                return grad * 2

        x = cr.tensor([1.0], requires_grad=True)
        SavesNone.apply(x).backward()
        assert x.grad.tolist() == [2.0]


# ============================================================================ once_differentiable
def make_numpy_exp(lib):
    class NumpyExp(lib.autograd.Function):
        """A backward computed in NumPy: not differentiable again."""

        seen = []

        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        @once_differentiable if lib is cr else lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            NumpyExp.seen.append(lib.is_grad_enabled())
            result, = ctx.saved_tensors
            return lib.tensor(grad.numpy() * result.detach().numpy())

    return NumpyExp


class TestOnceDifferentiable:
    def test_first_order_works(self):
        for lib, NumpyExp in both(make_numpy_exp):
            x = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
            NumpyExp.apply(x).sum().backward()
            np.testing.assert_allclose(arr(x.grad), np.exp([0.0, 1.0]))

    def test_backward_runs_under_no_grad(self):
        NumpyExp = make_numpy_exp(cr)
        x = cr.tensor([0.5], requires_grad=True)
        g, = cr.autograd.grad(NumpyExp.apply(x).sum(), x, create_graph=True)
        assert NumpyExp.seen[-1] is False
        np.testing.assert_allclose(arr(g), np.exp([0.5]), rtol=1e-6)

    def test_differentiating_twice_raises(self):
        NumpyExp = make_numpy_exp(cr)
        x = cr.tensor([0.5, 1.5], requires_grad=True)
        g, = cr.autograd.grad(NumpyExp.apply(x).sum(), x, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                               "@once_differentiable"):
            g.sum().backward()
        with pytest.raises(RuntimeError, match="once_differentiable.*NumpyExpBackward"):
            cr.autograd.grad(g.sum(), x)

    def test_torch_raises_the_same_way(self):
        torch = pytest.importorskip("torch")
        NumpyExp = make_numpy_exp(torch)
        x = torch.tensor([0.5], requires_grad=True)
        y = NumpyExp.apply(x * 1)
        w = torch.tensor([2.0], requires_grad=True)
        g, = torch.autograd.grad((y * w).sum(), x, create_graph=True)  # incoming grad requires grad
        with pytest.raises(RuntimeError, match="trying to differentiate twice"):
            g.sum().backward()

    def test_without_create_graph_results_are_plain(self):
        NumpyExp = make_numpy_exp(cr)
        x = cr.tensor([0.5], requires_grad=True)
        g, = cr.autograd.grad(NumpyExp.apply(x).sum(), x)
        assert not g.requires_grad and g.grad_fn is None


# ============================================================================ backward's return value
class TestBackwardResultErrors:
    def make_returning(self, value_fn):
        class Bad(Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, grad):
                return value_fn(grad)

        return Bad

    def test_too_few_gradients(self):
        Bad = self.make_returning(lambda g: g)
        x = cr.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            Bad.apply(x, x).backward()
        message = str(info.value)
        assert "BadBackward" in message and "incorrect number of gradients" in message
        assert "expected 2, got 1" in message

    def test_too_many_gradients(self):
        Bad = self.make_returning(lambda g: (g, g, g))
        x = cr.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="BadBackward returned an incorrect number of gradients "
                                               r"\(expected 2, got 3\)"):
            Bad.apply(x, x).backward()

    def test_extra_trailing_nones_are_allowed(self):
        Fine = self.make_returning(lambda g: (g, g, None, None))
        x = cr.tensor([1.0], requires_grad=True)
        Fine.apply(x, x).backward()
        assert x.grad.tolist() == [2.0]

    def test_gradient_for_a_non_tensor_input_must_be_none(self):
        class BadConstant(Function):
            @staticmethod
            def forward(ctx, x, constant):
                return x * constant

            @staticmethod
            def backward(ctx, grad):
                return grad * 2, grad

        with pytest.raises(RuntimeError, match="BadConstantBackward.*position 1 .*not a Tensor"):
            BadConstant.apply(cr.tensor([1.0], requires_grad=True), 2.0).backward()

    def test_wrong_shape(self):
        Bad = self.make_returning(lambda g: (g, cr.ones(3, 2)))
        x = cr.ones(2, 3, requires_grad=True)
        y = cr.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            Bad.apply(x, y).sum().backward()
        message = str(info.value)
        assert "BadBackward" in message and "index 1" in message
        assert "[3, 2]" in message and "[2, 3]" in message

    def test_broadcastable_gradient_is_summed_down_like_torch(self):
        def make(lib):
            class Broadcasting(lib.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    return x * 2

                @staticmethod
                def backward(ctx, grad):
                    return grad.expand(4, 3) * 2

            return Broadcasting

        for lib, Fn in both(make):
            x = lib.ones(3, requires_grad=True)
            Fn.apply(x).sum().backward()
            assert x.grad.tolist() == [8.0, 8.0, 8.0]

    def test_not_a_tensor(self):
        Bad = self.make_returning(lambda g: (np.ones(1), None))
        with pytest.raises(TypeError, match="BadBackward.*ndarray"):
            Bad.apply(cr.tensor([1.0], requires_grad=True), 1.0).backward()

    def test_gradient_for_an_input_without_requires_grad_is_ignored(self):
        Fine = self.make_returning(lambda g: (g * 2, g * 5))
        x = cr.tensor([1.0], requires_grad=True)
        y = cr.tensor([1.0])
        Fine.apply(x, y).backward()
        assert x.grad.tolist() == [2.0] and y.grad is None


# ============================================================================ misc API
class TestApi:
    def test_exports(self):
        import chainrule.autograd.function as function_module
        assert cr.autograd.Function is function_module.Function is Function
        assert cr.autograd.FunctionCtx is FunctionCtx
        assert function_module.once_differentiable is once_differentiable

    def test_ctx_is_a_function_ctx(self):
        seen = []

        class Probe(Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(ctx)
                ctx.shape_of_x = x.shape
                ctx.shape = "user attributes may use any name"
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                assert ctx is seen[0]
                assert ctx.shape == "user attributes may use any name"
                return grad

        x = cr.ones(2, requires_grad=True)
        Probe.apply(x).sum().backward()
        assert isinstance(seen[0], FunctionCtx) and x.grad.tolist() == [1.0, 1.0]

    def test_calling_an_instance_is_the_legacy_api(self):
        with pytest.raises(RuntimeError, match="apply"):
            make_exp(cr)()(cr.tensor([1.0]))

    def test_missing_backward(self):
        class NoBackward(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        y = NoBackward.apply(cr.tensor([1.0], requires_grad=True))
        with pytest.raises(NotImplementedError, match="backward"):
            y.backward()

    def test_vjp_is_an_alias_of_backward(self):
        class WithVjp(Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def vjp(ctx, grad):
                return grad * 2

        x = cr.tensor([1.0], requires_grad=True)
        WithVjp.apply(x).backward()
        assert x.grad.tolist() == [2.0]

    def test_chain_of_functions_and_ops(self):
        MyExp, P3, Cube = make_exp(cr), make_legendre(cr), make_cube(cr)
        x = cr.tensor([0.2, -0.4], dtype=cr.float64, requires_grad=True)
        out = Cube.apply(P3.apply(MyExp.apply(x) - 1) * 2).sum()
        out.backward()
        x2 = cr.tensor(arr(x), requires_grad=True)
        e = x2.exp() - 1
        ((0.5 * (5 * e ** 3 - 3 * e) * 2) ** 3).sum().backward()
        np.testing.assert_allclose(arr(x.grad), arr(x2.grad), rtol=1e-12)
