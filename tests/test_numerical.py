"""chainrule.numerical: finite-difference derivatives, default steps, error curves (seeds 000 and 003)."""
import math

import numpy as np
import pytest

import chainrule
from chainrule import numerical


def f_seed(x, y):
    return x * x * y + y + 2


# --------------------------------------------------------------------------- the seeds' numbers
def test_seed_003_forward_differences_with_eps_1e_4():
    # Seed 003: gradients(f, [3, 4], eps=0.0001) -> [24.000400000048216, 10.000000000047748]
    gx, gy = numerical.gradient(f_seed, 3.0, 4.0, eps=1e-4, method="forward")
    assert gx == pytest.approx(24.0004, abs=1e-8)   # truncation error h·y = 4e-4, as in the seed
    assert gy == pytest.approx(10.0, abs=1e-8)      # f is linear in y: no truncation error


@pytest.mark.parametrize("method,tol", [("forward", 1e-5), ("central", 1e-8), ("complex", 1e-12),
                                        ("richardson", 1e-9)])
def test_seed_gradient_close_to_24_and_10(method, tol):
    gx, gy = numerical.gradient(f_seed, 3.0, 4.0, method=method)
    assert isinstance(gx, float) and isinstance(gy, float)
    assert gx == pytest.approx(24.0, abs=tol) and gy == pytest.approx(10.0, abs=tol)


@pytest.mark.parametrize("method,tol", [("forward", 1e-3), ("central", 1e-6), ("complex", 1e-8),
                                        ("richardson", 1e-7)])
def test_seed_hessian_close_to_8_6_6_0(method, tol):
    # Seed 003: d2f(3, 4) -> [[7.99999995, 6.00009926], [6.00009926, -1.42e-06]]
    (hxx, hxy), (hyx, hyy) = numerical.hessian(f_seed, 3.0, 4.0, method=method)
    assert np.allclose([[hxx, hxy], [hyx, hyy]], [[8, 6], [6, 0]], atol=tol)
    assert hxy == hyx


def test_seed_000_unit_vector_definition_on_a_vector_input():
    # Seed 000: df/dx_i = lim (f(x + h e_i) - f(x)) / h, one evaluation per element.
    calls = []

    def f(v):
        calls.append(1)
        return v[0] * v[0] * v[1] + v[1] + 2
    g = numerical.gradient(f, np.array([3.0, 4.0]), method="forward")
    assert isinstance(g, np.ndarray) and g.shape == (2,)
    assert np.allclose(g, [24, 10], atol=1e-5)
    assert len(calls) == 3  # f(x) once, then once per element: the O(n) cost the seed warns about


# --------------------------------------------------------------------------- the V-shaped error curve
def test_error_curve_is_v_shaped_for_forward_differences_of_exp_at_1():
    steps = np.logspace(-1, -15, 15)
    curve = numerical.error_curve(np.exp, 1.0, steps, method="forward")
    assert curve.reference == pytest.approx(math.e, abs=1e-15)
    best = int(np.argmin(curve.errors))
    assert 0 < best < len(steps) - 1
    assert 1e-10 <= curve.best_step <= 1e-6                 # near √ε ≈ 1.5e-8
    # Falls (truncation ∝ h) down to the best step, then rises (rounding ∝ ε/h): the ends are far above.
    assert curve.errors[0] > 1e4 * curve.errors[best] and curve.errors[-1] > 1e4 * curve.errors[best]
    falling = np.diff(np.log10(curve.errors[:best + 1]))
    assert np.all(falling[:5] < -0.9)                       # one decade per decade while truncation rules
    assert np.log10(curve.errors[-1]) - np.log10(curve.errors[best]) > 4


def test_error_curve_best_steps_follow_the_method_order():
    curves = {m: numerical.error_curve(np.exp, 1.0, method=m) for m in ("forward", "central", "richardson")}
    assert curves["forward"].best_step < curves["central"].best_step < curves["richardson"].best_step
    assert min(curves["richardson"].errors) < min(curves["central"].errors) < min(curves["forward"].errors)
    assert "best_step" in repr(curves["forward"])


def test_error_curve_reference_falls_back_to_richardson_for_real_only_functions():
    curve = numerical.error_curve(lambda t: math.exp(t), 1.0, [1e-4, 1e-8])  # math.exp rejects complex
    assert curve.reference == pytest.approx(math.e, rel=1e-11)
    curve = numerical.error_curve(np.exp, 1.0, [1e-4], reference=2.0)
    assert curve.errors[0] == pytest.approx(abs(curve.estimates[0] - 2.0))


def test_plot_error_curve_writes_an_image(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "steps.png"
    curves = numerical.plot_error_curve(np.exp, 1.0, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [c.method for c in curves] == ["forward", "central"]
    numerical.plot_error_curve(np.exp, 1.0, tmp_path / "one.svg", steps=[1e-2, 1e-6], methods="complex")
    assert (tmp_path / "one.svg").read_text().lstrip().startswith("<?xml")


def test_plot_error_curve_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        numerical.plot_error_curve(np.exp, 1.0, tmp_path / "x.png")


# --------------------------------------------------------------------------- inputs, outputs, methods
def test_tensors_in_tensors_out_and_agree_with_reverse_mode():
    x = chainrule.tensor([0.5, -1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    f = lambda t: (t.sin() * t.exp()).sum()  # noqa: E731
    f(x).backward()
    g = numerical.gradient(f, x)
    assert isinstance(g, chainrule.Tensor) and g.dtype == chainrule.float64 and not g.requires_grad
    assert np.allclose(g.numpy(), x.grad.numpy(), atol=1e-9)
    assert x.grad is not None and f(x).requires_grad  # the input itself is untouched


def test_float32_tensors_use_float32_steps():
    x = chainrule.tensor(2.0)  # float32
    assert numerical.default_step(x, "forward") == pytest.approx(np.finfo(np.float32).eps ** 0.5 * 2)
    g = numerical.derivative(lambda t: t * t * t, x)
    assert g.dtype == chainrule.float32
    assert abs(g.item() - 12.0) < 1e-2


def test_default_steps_scale_with_abs_x():
    for method, power in [("forward", 1 / 2), ("central", 1 / 3), ("complex", 1.0), ("richardson", 1 / 5)]:
        eps = np.finfo(np.float64).eps
        assert numerical.default_step(0.5, method) == pytest.approx(eps ** power)
        assert numerical.default_step(-1e6, method) == pytest.approx(eps ** power * 1e6)
    assert np.allclose(numerical.default_step(np.array([0.0, 10.0])), np.cbrt(2.0 ** -52) * np.array([1, 10]))


def test_large_inputs_keep_relative_accuracy():
    x = 1e8
    assert numerical.derivative(np.log, x) == pytest.approx(1e-8, rel=1e-7)
    assert numerical.derivative(np.log, x, method="forward") == pytest.approx(1e-8, rel=1e-5)


def test_jacobian_shapes_and_values():
    x = np.array([0.0, 1.0, 2.0])
    J = numerical.jacobian(np.sin, x)
    assert J.shape == (3, 3) and np.allclose(J, np.diag(np.cos(x)), atol=1e-9)
    A = np.arange(6.0).reshape(2, 3)
    Jx, Jb = numerical.jacobian(lambda x, b: A @ x + b, x, np.zeros(2), method="complex")
    assert Jx.shape == (2, 3) and Jb.shape == (2, 2)
    assert np.allclose(Jx, A) and np.allclose(Jb, np.eye(2))
    M = np.ones((2, 2))
    JM = numerical.jacobian(lambda m: m * 3.0, M)
    assert JM.shape == (2, 2, 2, 2) and np.allclose(JM.reshape(4, 4), 3 * np.eye(4))


def test_derivative_of_vector_valued_function():
    d = numerical.derivative(lambda t: np.array([t, t ** 2, np.sin(t)]), 1.0, method="richardson")
    assert np.allclose(d, [1.0, 2.0, np.cos(1.0)], atol=1e-10)


@pytest.mark.parametrize("method", numerical.METHODS)
def test_hessian_of_array_input(method):
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda v: 0.5 * v @ A @ v + np.sum(v ** 3)  # noqa: E731
    v = np.array([0.5, -1.0])
    H = numerical.hessian(f, v, method=method)
    assert H.shape == (2, 2)
    assert np.allclose(H, A + np.diag(6 * v), atol=1e-3 if method == "forward" else 1e-6)


def test_hessian_blocks_for_several_array_inputs():
    f = lambda a, b: np.sum(a ** 2) * b  # noqa: E731
    a, b = np.array([1.0, 2.0]), 3.0
    (Haa, Hab), (Hba, Hbb) = numerical.hessian(f, a, b)
    assert Haa.shape == (2, 2) and Hab.shape == (2,) and Hba.shape == (2,) and np.ndim(Hbb) == 0
    assert np.allclose(Haa, 6 * np.eye(2), atol=1e-5) and np.allclose(Hab, 2 * a, atol=1e-5)
    assert abs(Hbb) < 1e-5


def test_integer_inputs_are_differentiated_in_float64():
    assert numerical.derivative(lambda t: t ** 2, 3) == pytest.approx(6.0, abs=1e-8)
    g = numerical.gradient(lambda v: np.sum(v ** 2), np.array([1, 2]))
    assert g.dtype == np.float64 and np.allclose(g, [2, 4], atol=1e-8)


# --------------------------------------------------------------------------- errors
def test_errors_name_the_problem_and_the_fix():
    with pytest.raises(ValueError, match="unknown method 'backward'.*forward, central, complex, richardson"):
        numerical.gradient(f_seed, 3.0, 4.0, method="backward")
    with pytest.raises(ValueError, match="eps must be a positive number"):
        numerical.gradient(f_seed, 3.0, 4.0, eps=0)
    with pytest.raises(ValueError, match="x \\+ eps == x"):
        numerical.derivative(np.exp, 1e20, eps=1e-3)
    with pytest.raises(ValueError, match="must return one number.*numerical.jacobian"):
        numerical.gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(TypeError, match="chainrule tensors have no complex dtype"):
        numerical.gradient(lambda t: t * t, chainrule.tensor(1.0), method="complex")
    with pytest.raises(TypeError, match="method='complex' calls f with complex numbers"):
        numerical.derivative(lambda t: math.sin(t), 1.0, method="complex")
    with pytest.raises(TypeError, match="input 0 is a str"):
        numerical.gradient(f_seed, "3", 4.0)
    with pytest.raises(TypeError, match="at least one input"):
        numerical.gradient(f_seed)
    with pytest.raises(ValueError, match="x must be one number"):
        numerical.derivative(np.sin, np.ones(2))
    with pytest.raises(ValueError, match="fix the others"):
        numerical.error_curve(np.sin, np.ones(2))
    with pytest.raises(ValueError, match="steps must be positive"):
        numerical.error_curve(np.sin, 1.0, [1e-3, 0.0])
    with pytest.raises(TypeError, match="complex values at real inputs"):
        numerical.derivative(lambda t: t * 1j, 1.0)
