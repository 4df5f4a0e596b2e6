"""chainrule.autograd.functional: vjp, jvp, jacobian (reverse, forward, auto), hessian, hvp, vhp.

Checked against finite differences (float64 central differences), against each other (the three Jacobian
modes) and against torch.autograd.functional where PyTorch is installed: values, shapes, and the
tuple/single-tensor conventions."""
import logging

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import functional as F

try:
    import torch
    import torch.autograd.functional as TF
except ImportError:  # the comparisons with PyTorch are skipped
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
MODES = ("auto", "reverse", "forward")
RNG = np.random.default_rng(1234)
W = RNG.standard_normal((3, 4))


# ----------------------------------------------------------------------------------------- helpers
def cases(lib):
    """Functions written once for chainrule and PyTorch, with their float64 inputs (as arrays)."""
    w = lib.tensor(W)
    return {
        "vector -> vector": (lambda x: lib.sin(w @ x) * (x * x).sum(), [RNG.standard_normal(4)]),
        "matrix -> scalar": (lambda x: (x.cos() * x).sum(), [RNG.standard_normal((2, 3))]),
        "scalar -> matrix": (lambda x: lib.sin(x * lib.tensor(np.arange(6.0).reshape(2, 3))),
                             [np.array(0.7)]),
        "tuple -> tuple": (lambda x, y: (x * y.sum(), (x ** 2).sum() * y, x.sin()),
                           [RNG.standard_normal(3), RNG.standard_normal((2, 2))]),
    }


CASE_NAMES = list(cases(cr))


def as_tensors(lib, arrays):
    return tuple(lib.tensor(a) for a in arrays)


def numerical_jacobian(f, arrays, eps=1e-6):
    """blocks[i][k] of shape out_i.shape + in_k.shape by central differences, outputs of f as a tuple."""
    def evaluate(values):
        out = f(*as_tensors(cr, values))
        return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]

    base = evaluate(arrays)
    blocks = [[np.zeros(o.shape + a.shape) for a in arrays] for o in base]
    for k, a in enumerate(arrays):
        for index in np.ndindex(a.shape):
            plus = [v.copy() for v in arrays]
            minus = [v.copy() for v in arrays]
            plus[k][index] += eps
            minus[k][index] -= eps
            for i, (p, m) in enumerate(zip(evaluate(plus), evaluate(minus))):
                blocks[i][k][(Ellipsis,) + index] = (p - m) / (2 * eps)
    return blocks


def as_blocks(result, outputs_tuple, inputs_tuple):
    """Any jacobian result as blocks[i][k]."""
    if not outputs_tuple:
        result = (result,)
    return [list(r) if inputs_tuple else [r] for r in result]


def assert_same_structure_and_values(ours, theirs, rtol=1e-10, atol=1e-12):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), (type(ours), ours)
        for a, b in zip(ours, theirs):
            assert_same_structure_and_values(a, b, rtol, atol)
        return
    assert isinstance(ours, cr.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------- jacobian
@pytest.mark.parametrize("name", CASE_NAMES)
def test_jacobian_modes_agree_with_each_other_and_with_finite_differences(name):
    f, arrays = cases(cr)[name]
    inputs = as_tensors(cr, arrays)
    is_in_tuple = len(arrays) > 1
    out = f(*inputs)
    is_out_tuple = isinstance(out, tuple)
    expected = numerical_jacobian(f, arrays)
    results = {mode: F.jacobian(f, inputs if is_in_tuple else inputs[0], mode=mode) for mode in MODES}
    for mode, result in results.items():
        blocks = as_blocks(result, is_out_tuple, is_in_tuple)
        for i, row in enumerate(expected):
            for k, block in enumerate(row):
                got = blocks[i][k]
                assert got.shape == block.shape, (mode, i, k)
                assert got.dtype == cr.float64 and not got.requires_grad
                np.testing.assert_allclose(got.numpy(), block, rtol=1e-6, atol=1e-8, err_msg=f"{mode} [{i}][{k}]")
    for mode in ("reverse", "forward"):
        assert_same_structure_and_values(results[mode], results["auto"])


@needs_torch
@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("mode", MODES)
def test_jacobian_matches_torch(name, mode):
    f, arrays = cases(cr)[name]
    tf, _ = cases(torch)[name]
    single = len(arrays) == 1
    ours = F.jacobian(f, as_tensors(cr, arrays)[0] if single else as_tensors(cr, arrays), mode=mode)
    theirs = TF.jacobian(tf, as_tensors(torch, arrays)[0] if single else as_tensors(torch, arrays))
    assert_same_structure_and_values(ours, theirs)


@needs_torch
def test_jacobian_keeps_a_one_element_tuple_of_inputs_a_tuple():
    x = np.array([1.0, 2.0])
    ours = F.jacobian(lambda a: (a * 3,), (cr.tensor(x),))
    theirs = TF.jacobian(lambda a: (a * 3,), (torch.tensor(x),))
    assert_same_structure_and_values(ours, theirs)
    assert isinstance(ours, tuple) and isinstance(ours[0], tuple)


@needs_torch
@pytest.mark.parametrize("mode", MODES)
def test_jacobian_create_graph_is_differentiable_in_every_mode(mode):
    x = RNG.standard_normal(3)

    def f(lib):
        return lambda t: lib.sin(t) * t.sum()

    ours_x = cr.tensor(x, requires_grad=True)
    jac = F.jacobian(f(cr), ours_x, create_graph=True, mode=mode)
    assert jac.requires_grad
    (ours,) = cr.autograd.grad((jac * jac).sum(), ours_x)
    theirs_x = torch.tensor(x, requires_grad=True)
    tjac = TF.jacobian(f(torch), theirs_x, create_graph=True)
    (theirs,) = torch.autograd.grad((tjac * tjac).sum(), theirs_x)
    np.testing.assert_allclose(jac.detach().numpy(), tjac.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_an_unused_input_is_zero_and_strict_refuses_it(mode):
    x, y = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0, 5.0])
    jx, jy = F.jacobian(lambda a, b: a * 2, (x, y), mode=mode)
    assert jx.tolist() == [[2.0, 0.0], [0.0, 2.0]]
    assert jy.shape == (2, 3) and not jy.numpy().any()
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_strict_refuses_an_output_that_does_not_depend_on_the_inputs(mode):
    x = cr.tensor([1.0, 2.0])
    jac = F.jacobian(lambda a: cr.ones(3), x, mode=mode)
    assert jac.shape == (3, 2) and not jac.numpy().any()
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        F.jacobian(lambda a: cr.ones(3), x, strict=True, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_strict_with_create_graph_refuses_a_jacobian_independent_of_the_input(mode):
    x = cr.tensor([1.0, 2.0])
    assert F.jacobian(lambda a: a * 3, x, strict=True, mode=mode).tolist() == [[3.0, 0.0], [0.0, 3.0]]
    with pytest.raises(RuntimeError, match="independent of input 0. This is not allowed in strict mode when "
                                           "create_graph=True"):
        F.jacobian(lambda a: a * 3, x, create_graph=True, strict=True, mode=mode)


def _logged_mode(caplog, f, x, **kwargs):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="chainrule.autograd.functional"):
        F.jacobian(f, x, **kwargs)
    messages = [r.getMessage() for r in caplog.records if r.name == "chainrule.autograd.functional"]
    assert len(messages) == 1, messages
    return messages[0]


def test_auto_mode_picks_the_cheaper_mode_and_logs_it(caplog):
    many_outputs = _logged_mode(caplog, lambda a: cr.outer(a, cr.ones(10)), cr.ones(3))
    assert "forward mode" in many_outputs and "3 input elements, 30 output elements" in many_outputs
    many_inputs = _logged_mode(caplog, lambda a: a.sum(0), cr.ones(4, 5))
    assert "reverse mode" in many_inputs and "20 input elements, 5 output elements" in many_inputs
    square = _logged_mode(caplog, lambda a: a.sin(), cr.ones(4))
    assert "reverse mode" in square  # a tie: reverse mode needs no second evaluation


def test_torch_strategy_is_a_synonym_of_mode(caplog):
    f = lambda a: a.sum(0)  # noqa: E731  (auto would take reverse mode)
    assert "forward mode" in _logged_mode(caplog, f, cr.ones(4, 5), strategy="forward-mode")
    assert "reverse mode" in _logged_mode(caplog, f, cr.ones(2), strategy="reverse-mode")
    assert "forward mode" in _logged_mode(caplog, f, cr.ones(4, 5), mode="forward", strategy="forward-mode")
    # PyTorch's vectorize=True is accepted and changes nothing
    assert F.jacobian(f, cr.ones(2, 2), vectorize=True).tolist() == [[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]]


def test_bad_mode_or_strategy_is_refused():
    x = cr.ones(2)
    with pytest.raises(ValueError, match="disagree"):
        F.jacobian(lambda a: a, x, mode="reverse", strategy="forward-mode")
    with pytest.raises(ValueError, match='"forward-mode" or "reverse-mode"'):
        F.jacobian(lambda a: a, x, strategy="sideways")
    with pytest.raises(ValueError, match='"auto", "reverse" or "forward"'):
        F.jacobian(lambda a: a, x, mode="backward")


@needs_torch
def test_jacobian_of_an_input_without_elements_matches_torch():
    ours = F.jacobian(lambda a: (a.sum() + 1) * cr.ones(2, dtype=cr.float64), cr.tensor(np.zeros(0)))
    theirs = TF.jacobian(lambda a: (a.sum() + 1) * torch.ones(2, dtype=torch.float64), torch.tensor(np.zeros(0)))
    assert_same_structure_and_values(ours, theirs)


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_an_output_without_elements_is_empty(mode):
    # (PyTorch's own jacobian fails here: it stacks an empty list of rows.)
    empty, doubled = F.jacobian(lambda a: (a.sum() * cr.ones(0, dtype=cr.float64), a * 2), cr.ones(2, dtype=cr.float64),
                                mode=mode)
    assert empty.shape == (0, 2) and doubled.tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_jacobian_leaves_the_inputs_alone():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for mode in MODES:
        jac = F.jacobian(lambda a: a ** 2, x, mode=mode)
        assert jac.tolist() == [[2.0, 0.0], [0.0, 4.0]] and not jac.requires_grad
    assert x.grad is None and x.is_leaf


def test_forward_mode_inside_an_active_dual_level_uses_double_backward():
    # Only one dual level at a time: nested forward-mode Jacobians come from two backward passes, and the
    # outer level's tangents flow through them (here: the derivative of the Jacobian along t).
    x = np.array([0.3, -0.8])
    with fwAD.dual_level():
        dual = fwAD.make_dual(cr.tensor(x), cr.tensor([1.0, 0.0], dtype=cr.float64))
        jac = F.jacobian(lambda a: a.sin() * a.sum(), dual, mode="forward", create_graph=True)
        d_jac = fwAD.unpack_dual(jac).tangent
    expected = np.diag(np.cos(x) * x.sum()) + np.sin(x)[:, None]
    np.testing.assert_allclose(jac.detach().numpy(), expected, rtol=1e-12)
    # d/dx0 of J[i, j] = delta_ij cos(x_i) sum(x) + sin(x_i):
    expected_tangent = np.diag(-np.sin(x) * x.sum() * np.array([1.0, 0.0]) + np.cos(x)) + \
        (np.cos(x) * np.array([1.0, 0.0]))[:, None]
    np.testing.assert_allclose(d_jac.detach().numpy(), expected_tangent, rtol=1e-12)


# --------------------------------------------------------------------------------------- vjp / jvp
@needs_torch
@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("which", ["vjp", "jvp"])
def test_vjp_and_jvp_match_torch(name, which):
    f, arrays = cases(cr)[name]
    tf, _ = cases(torch)[name]
    single = len(arrays) == 1
    ours_in = as_tensors(cr, arrays)
    theirs_in = as_tensors(torch, arrays)
    if which == "vjp":
        out = tf(*theirs_in)
        vs = [RNG.standard_normal(tuple(o.shape)) for o in (out if isinstance(out, tuple) else (out,))]
        is_tuple = isinstance(out, tuple)
    else:
        vs = [RNG.standard_normal(a.shape) for a in arrays]
        is_tuple = not single
    ours_v = as_tensors(cr, vs) if is_tuple else cr.tensor(vs[0])
    theirs_v = as_tensors(torch, vs) if is_tuple else torch.tensor(vs[0])
    ours = getattr(F, which)(f, ours_in[0] if single else ours_in, ours_v)
    theirs = getattr(TF, which)(tf, theirs_in[0] if single else theirs_in, theirs_v)
    assert_same_structure_and_values(ours, theirs)


@needs_torch
@pytest.mark.parametrize("which", ["vjp", "jvp"])
def test_vjp_and_jvp_create_graph_match_torch(which):
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)

    def f(lib):
        return lambda t: lib.sin(t) * t.sum()

    results = []
    for lib, module in ((cr, F), (torch, TF)):
        xt = lib.tensor(x, requires_grad=True)
        out, product = getattr(module, which)(f(lib), xt, lib.tensor(v), create_graph=True)
        assert out.requires_grad and product.requires_grad
        (g,) = (cr if lib is cr else torch).autograd.grad((product ** 2).sum(), xt)
        results.append((out.detach().numpy(), product.detach().numpy(), g.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_vjp_and_jvp_default_v_only_for_single_elements():
    x = cr.tensor(2.0, dtype=cr.float64)
    out, g = F.vjp(lambda a: a ** 3, x)
    assert (out.item(), g.item()) == (8.0, 12.0)
    out, t = F.jvp(lambda a: a ** 3, x)
    assert (out.item(), t.item()) == (8.0, 12.0)
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function returns a single"):
        F.vjp(lambda a: a * cr.ones(2, dtype=cr.float64), x)
    with pytest.raises(RuntimeError, match="v can only be None if the input to the user-provided function is"):
        F.jvp(lambda a: a.sum(), cr.ones(2))


@pytest.mark.parametrize("which", ["vjp", "jvp", "hvp", "vhp"])
def test_v_of_the_wrong_shape_or_length_is_refused(which):
    fn = getattr(F, which)
    f = (lambda a, b: a.sum() * b.sum())
    x, y = cr.ones(2), cr.ones(3)
    if which == "vjp":  # v goes with the outputs
        with pytest.raises(RuntimeError, match=r"v has invalid size: should be \[\] but got \[2\]"):
            fn(f, (x, y), cr.ones(2))
        with pytest.raises(RuntimeError, match="should contain a single Tensor"):
            fn(f, (x, y), (cr.tensor(1.0), cr.tensor(1.0)))
        return
    g = (lambda a, b: (a.sum() * b.sum()))
    with pytest.raises(RuntimeError, match=r"Entry 1 in v has invalid size: should be \[3\] but got \[2\]"):
        fn(g, (x, y), (cr.ones(2), cr.ones(2)))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        fn(g, (x, y), (cr.ones(2),))
    with pytest.raises(ValueError, match=r"v has invalid size: should be \[2\] but got \[3\]"):
        fn(lambda a: a.sum(), x, cr.ones(3))  # a ShapeError: ValueError and RuntimeError


def test_inputs_must_be_tensors():
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda a: a, [1.0, 2.0])
    with pytest.raises(TypeError, match="outputs of the user-provided function given to vjp"):
        F.vjp(lambda a: 3.0, cr.ones(1))


def test_vjp_strict_and_unused_inputs():
    x, y = cr.tensor([1.0, 2.0]), cr.tensor([5.0])
    _, (gx, gy) = F.vjp(lambda a, b: a * 2, (x, y), cr.ones(2))
    assert gx.tolist() == [2.0, 2.0] and gy.tolist() == [0.0]
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(lambda a, b: a * 2, (x, y), cr.ones(2), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        F.vjp(lambda a: cr.ones(2), x, cr.ones(2), strict=True)


def test_jvp_strict_refuses_an_output_independent_of_the_inputs():
    x = cr.tensor([1.0, 2.0])
    out, (t0, t1) = F.jvp(lambda a: (a * 2, cr.ones(3)), x, cr.ones(2))
    assert t0.tolist() == [2.0, 2.0] and t1.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="Output 1 of the user-provided function is independent of the inputs"):
        F.jvp(lambda a: (a * 2, cr.ones(3)), x, cr.ones(2), strict=True)


def test_jvp_inside_an_active_dual_level_matches_the_plain_one():
    x, v = cr.tensor([0.4, 1.3], dtype=cr.float64), cr.tensor([1.0, -2.0], dtype=cr.float64)
    f = (lambda a: a.sin() * a.sum())
    plain_out, plain = F.jvp(f, x, v)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, cr.tensor([0.0, 1.0], dtype=cr.float64))
        out, nested = F.jvp(f, dual, v)
    np.testing.assert_allclose(out.numpy(), plain_out.numpy(), rtol=1e-14)
    np.testing.assert_allclose(nested.numpy(), plain.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------------- second order
def poly(lib):
    """Hessians of these need no op whose VJP rule reads its output."""
    return {
        "single": (lambda x: (x ** 3).sum() * x.sin().sum() + (x[0] * x[1]) ** 2, [RNG.standard_normal(3)]),
        "matrix": (lambda x: (x.cos() * x).sum() ** 2, [RNG.standard_normal((2, 2))]),
        "tuple": (lambda x, y: (x.sin() * y.sum() ** 2).sum() + (x ** 2).sum(), [RNG.standard_normal(2),
                                                                                RNG.standard_normal(3)]),
    }


def saturating(lib):
    """Hessians through tanh / exp / sigmoid, whose VJP rules read their output."""
    w = lib.tensor(W)
    return {
        "tanh layer": (lambda x: (lib.tanh(w @ x) ** 2).sum(), [RNG.standard_normal(4)]),
        "exp and sigmoid": (lambda x, y: (x.exp() * lib.sigmoid(y)).sum(), [RNG.standard_normal(3),
                                                                              RNG.standard_normal(3)]),
    }


def _second_order_matches_torch(builder, name, strategy):
    f, arrays = builder(cr)[name]
    tf, _ = builder(torch)[name]
    single = len(arrays) == 1
    ours_in, theirs_in = as_tensors(cr, arrays), as_tensors(torch, arrays)
    ours_in, theirs_in = (ours_in[0], theirs_in[0]) if single else (ours_in, theirs_in)
    assert_same_structure_and_values(F.hessian(f, ours_in, outer_jacobian_strategy=strategy),
                                     TF.hessian(tf, theirs_in), rtol=1e-9)
    vs = [RNG.standard_normal(a.shape) for a in arrays]
    ours_v = cr.tensor(vs[0]) if single else as_tensors(cr, vs)
    theirs_v = torch.tensor(vs[0]) if single else as_tensors(torch, vs)
    for which in ("hvp", "vhp"):
        assert_same_structure_and_values(getattr(F, which)(f, ours_in, ours_v),
                                         getattr(TF, which)(tf, theirs_in, theirs_v), rtol=1e-9)


@needs_torch
@pytest.mark.parametrize("strategy", ["forward-mode", "reverse-mode"])
@pytest.mark.parametrize("name", ["single", "matrix", "tuple"])
def test_hessian_hvp_vhp_match_torch(name, strategy):
    _second_order_matches_torch(poly, name, strategy)


@needs_torch
@pytest.mark.parametrize("name", ["tanh layer", "exp and sigmoid"])
def test_hessian_hvp_vhp_through_ops_whose_rules_read_their_output(name):
    _second_order_matches_torch(saturating, name, "forward-mode")


@needs_torch
def test_hessian_by_reverse_over_reverse_through_saturating_ops():
    for name in ("tanh layer", "exp and sigmoid"):
        f, arrays = saturating(cr)[name]
        tf, _ = saturating(torch)[name]
        ours = F.hessian(f, as_tensors(cr, arrays) if len(arrays) > 1 else cr.tensor(arrays[0]),
                         outer_jacobian_strategy="reverse-mode")
        theirs = TF.hessian(tf, as_tensors(torch, arrays) if len(arrays) > 1 else torch.tensor(arrays[0]))
        assert_same_structure_and_values(ours, theirs, rtol=1e-9)


def test_hessian_against_finite_differences_of_the_gradient():
    f, arrays = poly(cr)["single"]
    x = arrays[0]

    def gradient(values):
        t = cr.tensor(values, requires_grad=True)
        (g,) = cr.autograd.grad(f(t), t)
        return g.numpy()

    eps = 1e-6
    numerical = np.stack([(gradient(x + eps * e) - gradient(x - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1)
    for strategy in ("forward-mode", "reverse-mode"):
        np.testing.assert_allclose(F.hessian(f, cr.tensor(x), outer_jacobian_strategy=strategy).numpy(), numerical,
                                   rtol=1e-6, atol=1e-8)


@needs_torch
@pytest.mark.parametrize("which", ["hvp", "vhp", "hessian"])
def test_second_order_create_graph_matches_torch(which):
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)

    def f(lib):
        return lambda t: (t ** 3).sum() * t.sin().sum()

    results = []
    for lib, module in ((cr, F), (torch, TF)):
        xt = lib.tensor(x, requires_grad=True)
        if which == "hessian":
            result = module.hessian(f(lib), xt, create_graph=True)
        else:
            _, result = getattr(module, which)(f(lib), xt, lib.tensor(v), create_graph=True)
        assert result.requires_grad
        (g,) = (cr if lib is cr else torch).autograd.grad((result ** 2).sum(), xt)
        results.append((result.detach().numpy(), g.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_second_order_results_do_not_require_grad_without_create_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    f = (lambda a: (a ** 3).sum())
    out, hv = F.hvp(f, x, cr.ones(2))
    assert hv.tolist() == [6.0, 12.0] and not hv.requires_grad and not out.requires_grad and out.item() == 9.0
    out, vh = F.vhp(f, x, cr.ones(2))
    assert vh.tolist() == [6.0, 12.0] and not vh.requires_grad
    assert F.hessian(f, x).tolist() == [[6.0, 0.0], [0.0, 12.0]]
    assert x.grad is None


def test_second_order_needs_a_single_element_output_and_strict_checks():
    x = cr.tensor([1.0, 2.0])
    for fn, args in ((F.hessian, ()), (F.hvp, (cr.ones(2),)), (F.vhp, (cr.ones(2),))):
        with pytest.raises(RuntimeError, match="should contain a single element"):
            fn(lambda a: a * 2, x, *args)
        with pytest.raises(RuntimeError, match="should return a single Tensor"):
            fn(lambda a: (a.sum(), a.sum()), x, *args)
        # a linear function: the gradient does not depend on the input
        with pytest.raises(RuntimeError, match="the jacobian of the user-provided function with respect to input 0 "
                                               "is independent of the input"):
            fn(lambda a: (a * 3).sum(), x, *args, strict=True)
        assert not np.asarray(fn(lambda a: (a * 3).sum(), x, *args)[-1].numpy()).any()  # zeros otherwise
