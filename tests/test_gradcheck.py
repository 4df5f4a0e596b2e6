"""gradcheck / gradgradcheck: they pass on correct derivatives and say exactly where wrong ones are wrong.

A wrong derivative is made without registering anything: a tensor hook on an intermediate result that
scales (or detaches) the gradient flowing through it corrupts reverse mode but not the function's values.
"""
import re
import warnings

import numpy as np
import pytest

import chainrule
from chainrule._tensor import make_tensor
from chainrule.autograd import GradcheckError, grad, gradcheck, gradgradcheck


def leaf(*shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return chainrule.tensor(data, dtype=chainrule.float64, requires_grad=True)


def doubled_through_hook(x):
    """exp(3x) whose gradient is made twice too large by a hook on the intermediate 3x."""
    h = x * 3
    h.register_hook(lambda g: g * 2)
    return h.exp()


# ---------------------------------------------------------------------------------------------- passes
def test_exports():
    assert chainrule.autograd.gradcheck is gradcheck
    assert chainrule.autograd.gradgradcheck is gradgradcheck
    assert issubclass(GradcheckError, RuntimeError)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_passes_on_correct_functions(fast_mode):
    x, y = leaf(3, 4, seed=1), leaf(4, seed=2)
    pos = leaf(2, 3, seed=3, low=0.5, high=2.0)
    assert gradcheck(lambda a: (a * a).sin().sum(), x, fast_mode=fast_mode)
    assert gradcheck(lambda a, b: a * b + b.exp(), (x, y), fast_mode=fast_mode)
    assert gradcheck(lambda a, b: a @ b, [x, y], fast_mode=fast_mode)  # a list of inputs is fine too
    assert gradcheck(lambda p: (p.log() * p.sqrt(), p.tanh().mean(0)), (pos,), fast_mode=fast_mode)  # 2 outputs
    assert gradcheck(lambda a, k: a ** k, (pos, 3), fast_mode=fast_mode)  # non-tensor inputs pass through


def test_gradcheck_ignores_inputs_without_grad_and_integer_outputs():
    x = leaf(3, 4, seed=4)
    w = chainrule.tensor(np.random.default_rng(5).standard_normal((3, 4)), dtype=chainrule.float64)
    assert gradcheck(lambda a, b: (a * b, a.argmax()), (x, w))


def test_gradcheck_accepts_a_constant_output_and_does_not_change_the_inputs():
    x = leaf(2, 3, seed=6)
    before = x._data.copy()
    assert gradcheck(lambda a: (a.sigmoid(), chainrule.zeros(2, dtype=chainrule.float64)), x)
    np.testing.assert_array_equal(x._data, before)
    assert x.grad is None  # gradcheck uses autograd.grad, never .grad


def test_gradcheck_works_on_a_read_only_input():
    data = np.broadcast_to(np.random.default_rng(7).standard_normal(3), (2, 3))  # read-only view
    x = make_tensor(data, None, True)
    assert gradcheck(lambda a: a.cos() * a, x)
    assert not x._data.flags.writeable


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradgradcheck_passes_on_correct_functions(fast_mode):
    x, y = leaf(3, 4, seed=8), leaf(4, 2, seed=9)
    assert gradgradcheck(lambda a: (a * a).sin(), x, fast_mode=fast_mode)
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), (x, y), fast_mode=fast_mode)
    assert gradgradcheck(lambda a: (a.exp().sum(), a.relu() * a), x, fast_mode=fast_mode)


def test_gradgradcheck_with_given_and_non_contiguous_grad_outputs():
    x = leaf(3, 4, seed=10)
    upstream = leaf(3, 4, seed=11)
    assert gradgradcheck(lambda a: a.sin() * a, x, upstream)
    chainrule.manual_seed(0)
    assert gradgradcheck(lambda a: a.sin() * a, x, gen_non_contig_grad_outputs=True)


def test_gradgradcheck_on_a_function_linear_in_its_input():
    # The gradient does not depend on x at all: autograd reports that as unused; it counts as zero.
    x = leaf(2, 3, seed=12)
    assert gradgradcheck(lambda a: a * 3 + 1, x)


# ---------------------------------------------------------------------------------------------- failures
def test_gradcheck_names_input_element_and_both_values():
    x = leaf(2, 2, seed=13)
    with pytest.raises(GradcheckError) as info:
        gradcheck(doubled_through_hook, x)
    message = str(info.value)
    assert "output 0" in message and "input 0" in message
    k, j = (tuple(int(v) for v in re.search(rf"{name} 0 element \(([\d, ]*)\)", message).group(1).split(","))
            for name in ("input", "output"))
    assert k == j  # the Jacobian of an elementwise function is diagonal: the worst entry is on it
    true = 3 * np.exp(3 * x._data[k])
    analytical = float(re.search(r"analytical: (\S+)", message).group(1))
    numerical = float(re.search(r"numerical: +(\S+)", message).group(1))
    assert analytical == pytest.approx(2 * true, rel=1e-9)
    assert numerical == pytest.approx(true, rel=1e-5)
    # 4 x 4 Jacobians are small: both are printed
    assert "numerical Jacobian" in message and "analytical Jacobian" in message


def test_gradcheck_names_the_wrong_input_among_several():
    x, y = leaf(3, seed=14), leaf(3, seed=15)

    def f(a, b):
        return a.sin() + doubled_through_hook(b)

    with pytest.raises(GradcheckError, match=r"output 0 with respect to input 1") as info:
        gradcheck(f, (x, y))
    assert "input 1 element (" in str(info.value)


def test_gradcheck_names_elements_of_a_scalar_output():
    x = leaf(2, 3, seed=16)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: doubled_through_hook(a).sum(), x)
    message = str(info.value)
    assert "-> output 0 element ()" in message
    assert re.search(r"input 0 element \(\d, \d\)", message)


def test_gradcheck_leaves_out_large_jacobians():
    x = leaf(7, seed=17)  # a 7 x 7 Jacobian: 49 entries > 36
    with pytest.raises(GradcheckError) as info:
        gradcheck(doubled_through_hook, x)
    assert "Jacobian mismatch" in str(info.value) and "analytical Jacobian" not in str(info.value)


def test_gradcheck_fast_mode_detects_a_wrong_gradient():
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(doubled_through_hook, leaf(2, 3, seed=18), fast_mode=True)


def test_gradcheck_detects_a_gradient_that_autograd_misses():
    x = leaf(2, 2, seed=19)
    with pytest.raises(GradcheckError, match="Jacobian mismatch") as info:
        gradcheck(lambda a: a.detach() * 2 + a, (x,))  # part of the dependence is hidden from autograd
    assert "analytical: 1.0" in str(info.value) and "numerical:  2.99999" in str(info.value)

    with pytest.raises(GradcheckError, match="does not depend differentiably on input 0") as info:
        gradcheck(lambda a: a.detach() * 2, x)  # the output does not require grad at all
    message = str(info.value)
    assert "analytical: None" in message and "numerical:  2.0" in message


def test_raise_exception_false_returns_false():
    x = leaf(2, 2, seed=20)
    assert gradcheck(doubled_through_hook, x, raise_exception=False) is False
    assert gradcheck(doubled_through_hook, x, raise_exception=False, fast_mode=True) is False
    assert gradcheck(lambda a: a.exp(), x, raise_exception=False) is True


def hidden_second_order(x):
    """exp(3x) with a correct gradient that is cut from the graph: right first, wrong second derivatives."""
    h = x * 3
    h.register_hook(lambda g: g.detach())
    return h.exp()


def test_gradgradcheck_detects_a_wrong_second_derivative():
    x = leaf(2, 2, seed=21)
    assert gradcheck(hidden_second_order, x)
    with pytest.raises(GradcheckError, match="does not depend differentiably"):
        gradgradcheck(hidden_second_order, x)
    assert gradgradcheck(hidden_second_order, x, raise_exception=False) is False


def test_gradgradcheck_detects_a_wrong_first_derivative():
    x = leaf(3, seed=22)
    with pytest.raises(GradcheckError, match=r"with respect to input [01]"):
        gradgradcheck(doubled_through_hook, x)


# ---------------------------------------------------------------------------------------------- arguments
def test_float32_input_warns():
    x = chainrule.randn(3, requires_grad=True)  # float32
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        gradcheck(lambda a: a * 2, x, eps=1e-2, atol=1e-2, raise_exception=False)


def test_float64_inputs_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda a: a * 2, leaf(3, seed=23))


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, chainrule.ones(3, dtype=chainrule.float64))


def test_output_must_be_tensors():
    with pytest.raises(TypeError, match="output 1 is a float"):
        gradcheck(lambda a: (a * 2, 1.0), leaf(2, seed=24))


@pytest.mark.parametrize("flag", ["check_batched_grad", "check_batched_forward_grad", "check_forward_ad", "masked"])
def test_unsupported_flags_raise_only_when_set(flag):
    x = leaf(2, seed=25)
    assert gradcheck(lambda a: a.sin(), x, **{flag: None if flag == "masked" else False})
    with pytest.raises(NotImplementedError, match=flag):
        gradcheck(lambda a: a.sin(), x, **{flag: True})


@pytest.mark.parametrize("flag", ["check_batched_grad", "check_fwd_over_rev", "masked"])
def test_gradgradcheck_unsupported_flags(flag):
    x = leaf(2, seed=26)
    assert gradgradcheck(lambda a: a.sin(), x, **{flag: False})
    with pytest.raises(NotImplementedError, match=flag):
        gradgradcheck(lambda a: a.sin(), x, **{flag: True})


def test_accepted_flags():
    x = leaf(2, 3, seed=27)
    f = lambda a: a.sin() * a  # noqa: E731
    assert gradcheck(f, x, nondet_tol=1e-10, check_undefined_grad=False, check_grad_dtypes=True)
    assert gradcheck(doubled_through_hook, x, check_backward_ad=False)  # nothing left to check
    assert gradgradcheck(doubled_through_hook, x, check_rev_over_rev=False)
    assert gradgradcheck(f, x, nondet_tol=1e-10, check_grad_dtypes=True)


def test_gradcheck_matches_grad_on_a_hand_computed_case():
    # d/dx sum(x^2 y) = 2xy, d/dy = x^2: the checked Jacobian is exactly what autograd.grad returns
    x, y = leaf(3, seed=28), leaf(3, seed=29)
    gx, gy = grad((x * x * y).sum(), (x, y))
    np.testing.assert_allclose(gx._data, 2 * x._data * y._data)
    np.testing.assert_allclose(gy._data, x._data ** 2)
    assert gradcheck(lambda a, b: (a * a * b).sum(), (x, y))
