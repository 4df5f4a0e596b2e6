"""chainrule.func: grad, value_and_grad, grad_and_value, jacrev, jacfwd, hessian, vjp, jvp, and their
compositions, against torch.func (where PyTorch is installed) and against closed forms."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import func as cf

try:
    import torch
    import torch.func as tf
except ImportError:
    torch = tf = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
RNG = np.random.default_rng(99)
W = RNG.standard_normal((3, 4))


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    """Same structure (tuples, lists, dicts) and values."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), type(theirs))
        for a, b in zip(ours, theirs):
            close(a, b, rtol, atol)
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for key in theirs:
            close(ours[key], theirs[key], rtol, atol)
        return
    assert isinstance(ours, cr.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def scalar_fns(lib):
    """Scalar functions of (x, y) whose second derivatives need no op whose VJP rule reads its output."""
    return {
        "poly-sin": lambda x, y: (x ** 3).sum() * y.sin().sum() + (x[0] * y[1]) ** 2,
        "matrix": lambda x, y: ((x.cos() * x).sum() * y.sum()) ** 2,
    }


def arrays(name):
    if name == "matrix":
        return RNG.standard_normal((2, 3)), RNG.standard_normal(4)
    return RNG.standard_normal(3), RNG.standard_normal(2)


def vector_fn(lib):
    w = lib.tensor(W)
    return lambda x, y: (lib.sin(w @ x) * y.sum(), (x ** 2).sum() * y)


def both(values):
    return tuple(cr.tensor(v) for v in values), tuple(torch.tensor(v) for v in values)


# ------------------------------------------------------------------------------------------ grad
@needs_torch
@pytest.mark.parametrize("name", ["poly-sin", "matrix"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_matches_torch_func(name, argnums):
    ours_in, theirs_in = both(arrays(name))
    ours = cf.grad(scalar_fns(cr)[name], argnums=argnums)(*ours_in)
    theirs = tf.grad(scalar_fns(torch)[name], argnums=argnums)(*theirs_in)
    close(ours, theirs)
    for g in (ours if isinstance(ours, tuple) else (ours,)):
        assert not g.requires_grad


def test_grad_with_aux_and_both_value_orders():
    x = cr.tensor([1.0, 2.0, 3.0])

    def f(a):
        loss = (a ** 2).sum()
        return loss, {"loss": loss, "doubled": a * 2}

    g, aux = cf.grad(f, has_aux=True)(x)
    assert g.tolist() == [2.0, 4.0, 6.0]
    assert aux["loss"].item() == 14.0 and aux["doubled"].tolist() == [2.0, 4.0, 6.0]
    assert not aux["loss"].requires_grad and not aux["doubled"].requires_grad
    value, g = cf.value_and_grad(lambda a: (a ** 2).sum())(x)
    assert value.item() == 14.0 and g.tolist() == [2.0, 4.0, 6.0] and not value.requires_grad
    (value, aux), g = cf.value_and_grad(f, has_aux=True)(x)
    assert value.item() == 14.0 and aux["doubled"].tolist() == [2.0, 4.0, 6.0]
    g, value = cf.grad_and_value(lambda a: (a ** 2).sum())(x)        # torch.func's order
    assert value.item() == 14.0 and g.tolist() == [2.0, 4.0, 6.0]
    g, (value, aux) = cf.grad_and_value(f, has_aux=True)(x)
    assert value.item() == 14.0


def test_grad_of_grad_of_grad_matches_closed_forms():
    f = (lambda x: x.sin() * x ** 2)
    x = cr.tensor(0.7, dtype=cr.float64)
    a = 0.7
    d1 = cf.grad(f)(x).item()
    d2 = cf.grad(cf.grad(f))(x).item()
    d3 = cf.grad(cf.grad(cf.grad(f)))(x).item()
    assert d1 == pytest.approx(math.cos(a) * a * a + 2 * a * math.sin(a), rel=1e-12)
    assert d2 == pytest.approx(-math.sin(a) * a * a + 4 * a * math.cos(a) + 2 * math.sin(a), rel=1e-12)
    assert d3 == pytest.approx(-math.cos(a) * a * a - 6 * a * math.sin(a) + 6 * math.cos(a), rel=1e-12)


def test_grad_of_a_function_that_ignores_its_argument_is_zero():
    g = cf.grad(lambda x, y: (y * 2).sum(), argnums=(0, 1))(cr.ones(2), cr.ones(3))
    assert g[0].tolist() == [0.0, 0.0] and g[1].tolist() == [2.0, 2.0, 2.0]
    assert cf.grad(lambda x: cr.tensor(3.0))(cr.ones(2)).tolist() == [0.0, 0.0]


@needs_torch
def test_grad_over_pytrees_of_arguments_matches_torch_func():
    def f(lib):
        return lambda params, x: ((params["w"] @ x + params["b"]) ** 2).sum() * params["scale"][0]

    values = {"w": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(2), "scale": np.array([1.5])}
    x = RNG.standard_normal(3)
    ours = cf.grad(f(cr))({k: cr.tensor(v) for k, v in values.items()}, cr.tensor(x))
    theirs = tf.grad(f(torch))({k: torch.tensor(v) for k, v in values.items()}, torch.tensor(x))
    close(ours, theirs)


# ---------------------------------------------------------------------------------- jacrev / jacfwd
@needs_torch
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_match_torch_func(transform, argnums):
    ours_in, theirs_in = both((RNG.standard_normal(4), RNG.standard_normal(3)))
    ours = getattr(cf, transform)(vector_fn(cr), argnums=argnums)(*ours_in)
    theirs = getattr(tf, transform)(vector_fn(torch), argnums=argnums)(*theirs_in)
    close(ours, theirs)


@needs_torch
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_of_dict_outputs_with_aux_match_torch_func(transform):
    def f(lib):
        return lambda x: ({"sin": x.sin(), "outer": lib.outer(x, x)}, x.sum())

    x = RNG.standard_normal(3)
    ours, ours_aux = getattr(cf, transform)(f(cr), has_aux=True)(cr.tensor(x))
    theirs, theirs_aux = getattr(tf, transform)(f(torch), has_aux=True)(torch.tensor(x))
    close(ours, theirs)
    close(ours_aux, theirs_aux)
    assert not ours_aux.requires_grad


def test_jacrev_and_jacfwd_agree_with_finite_differences():
    f = vector_fn(cr)
    x, y = RNG.standard_normal(4), RNG.standard_normal(3)
    eps = 1e-6
    for argnum, base in ((0, x), (1, y)):
        numerical = []
        for e in np.eye(base.size):
            args = [x, y]
            plus, minus = list(args), list(args)
            plus[argnum], minus[argnum] = base + eps * e, base - eps * e
            fp, fm = f(*map(cr.tensor, plus)), f(*map(cr.tensor, minus))
            numerical.append([(p.numpy() - m.numpy()) / (2 * eps) for p, m in zip(fp, fm)])
        for transform in (cf.jacrev, cf.jacfwd):
            jac = transform(f, argnums=argnum)(cr.tensor(x), cr.tensor(y))
            for i in range(2):
                expected = np.stack([column[i] for column in numerical], axis=-1)
                np.testing.assert_allclose(jac[i].numpy(), expected, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------- hessians
HESSIAN_COMPOSITIONS = {
    "hessian": cf.hessian,
    "jacfwd(jacrev)": lambda f: cf.jacfwd(cf.jacrev(f)),
    "jacrev(jacfwd)": lambda f: cf.jacrev(cf.jacfwd(f)),
    "jacrev(jacrev)": lambda f: cf.jacrev(cf.jacrev(f)),
    "jacfwd(jacfwd)": lambda f: cf.jacfwd(cf.jacfwd(f)),
}


@needs_torch
@pytest.mark.parametrize("composition", list(HESSIAN_COMPOSITIONS))
@pytest.mark.parametrize("name", ["poly-sin", "matrix"])
def test_every_composition_gives_torch_funcs_hessian(composition, name):
    x, y = arrays(name)
    f = scalar_fns(cr)[name]
    ours = HESSIAN_COMPOSITIONS[composition](lambda a: f(a, cr.tensor(y)))(cr.tensor(x))
    theirs = tf.hessian(lambda a: scalar_fns(torch)[name](a, torch.tensor(y)))(torch.tensor(x))
    close(ours, theirs, rtol=1e-9)
    assert ours.shape == tuple(x.shape) * 2 and not ours.requires_grad


@needs_torch
def test_hessian_with_respect_to_several_arguments_matches_torch_func():
    ours_in, theirs_in = both(arrays("poly-sin"))
    ours = cf.hessian(scalar_fns(cr)["poly-sin"], argnums=(0, 1))(*ours_in)
    theirs = tf.hessian(scalar_fns(torch)["poly-sin"], argnums=(0, 1))(*theirs_in)
    close(ours, theirs, rtol=1e-9)


@needs_torch
def test_hessian_through_ops_whose_rules_read_their_output():
    def f(lib):
        w = lib.tensor(W)
        return lambda x: (lib.tanh(w @ x) ** 2).sum() + lib.sigmoid(x).sum() * x.exp().sum()

    x = RNG.standard_normal(4)
    close(cf.hessian(f(cr))(cr.tensor(x)), tf.hessian(f(torch))(torch.tensor(x)), rtol=1e-9)


@needs_torch
def test_reverse_over_reverse_through_ops_whose_rules_read_their_output():
    def f(lib):
        w = lib.tensor(W)
        return lambda x: (lib.tanh(w @ x) ** 2).sum() + lib.sigmoid(x).sum() * x.exp().sum()

    x = RNG.standard_normal(4)
    close(cf.jacrev(cf.jacrev(f(cr)))(cr.tensor(x)), tf.hessian(f(torch))(torch.tensor(x)), rtol=1e-9)


# ---------------------------------------------------------------------------------- vjp / jvp
@needs_torch
def test_vjp_matches_torch_func_and_can_be_called_twice():
    ours_in, theirs_in = both((RNG.standard_normal(4), RNG.standard_normal(3)))
    out, vjp_fn = cf.vjp(vector_fn(cr), *ours_in)
    t_out, t_vjp_fn = tf.vjp(vector_fn(torch), *theirs_in)
    close(out, t_out)
    for _ in range(2):
        cts = (RNG.standard_normal(3), RNG.standard_normal(3))
        close(vjp_fn(tuple(map(cr.tensor, cts))), t_vjp_fn(tuple(map(torch.tensor, cts))))
    assert not out[0].requires_grad


def test_vjp_with_aux_and_cotangent_checks():
    x = cr.tensor([1.0, 2.0])
    out, vjp_fn, aux = cf.vjp(lambda a: (a * a, a.sum()), x, has_aux=True)
    assert out.tolist() == [1.0, 4.0] and aux.item() == 3.0
    (g,) = vjp_fn(cr.tensor([1.0, 1.0]))
    assert g.tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \[3\] but output 0 has shape \[2\]"):
        vjp_fn(cr.ones(3))
    with pytest.raises(RuntimeError, match="same structure as the output"):
        vjp_fn((cr.ones(2), cr.ones(2)))


@needs_torch
def test_jvp_matches_torch_func():
    primals = (RNG.standard_normal(4), RNG.standard_normal(3))
    tangents = (RNG.standard_normal(4), RNG.standard_normal(3))
    ours = cf.jvp(vector_fn(cr), tuple(map(cr.tensor, primals)), tuple(map(cr.tensor, tangents)))
    theirs = tf.jvp(vector_fn(torch), tuple(map(torch.tensor, primals)), tuple(map(torch.tensor, tangents)))
    close(ours, theirs)


def test_jvp_with_aux_and_argument_checks():
    x, v = cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0])
    out, tangent, aux = cf.jvp(lambda a: (a ** 2, "note"), (x,), (v,), has_aux=True)
    assert out.tolist() == [1.0, 4.0] and tangent.tolist() == [2.0, 0.0] and aux == "note"
    with pytest.raises(RuntimeError, match="expected primals to be a tuple"):
        cf.jvp(lambda a: a, x, (v,))
    with pytest.raises(ValueError, match=r"tangent 0 has shape \[3\] but primal 0 has shape \[2\]"):
        cf.jvp(lambda a: a, (x,), (cr.ones(3),))
    with pytest.raises(RuntimeError, match="same structure"):
        cf.jvp(lambda a: a, (x,), (v, v))


def test_jvp_nested_in_jacfwd_is_forward_over_forward():
    # The Hessian-vector product of f(x) = sum(x^2 sin x) by forward mode twice: the inner jvp runs while
    # jacfwd's dual level is active, so it takes the double-backward route; the result is still exact.
    f = (lambda a: (a * a * a.sin()).sum())
    x = np.array([0.2, -1.1, 0.6])
    v = cr.tensor([1.0, 2.0, -1.0], dtype=cr.float64)
    hv = cf.jacfwd(lambda a: cf.jvp(cf.grad(f), (a,), (v,))[1])(cr.tensor(x))
    second = 2 * np.sin(x) + 4 * x * np.cos(x) - x * x * np.sin(x)     # f'' per element (H is diagonal)
    third = 6 * np.cos(x) - 6 * x * np.sin(x) - x * x * np.cos(x)
    np.testing.assert_allclose(cf.jvp(cf.grad(f), (cr.tensor(x),), (v,))[1].numpy(), second * v.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), np.diag(third * v.numpy()), rtol=1e-12)


# ---------------------------------------------------------------------------------- composition with autograd
def test_top_level_results_are_plain_and_closures_stay_connected():
    x = cr.tensor([3.0, 4.0])
    assert not cf.grad(lambda a: (a * a).sum())(x).requires_grad
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    g = cf.grad(lambda a: (w * a * a).sum())(x)             # 2 w x: depends on w
    jr = cf.jacrev(lambda a: w * a * a)(x)
    jf = cf.jacfwd(lambda a: w * a * a)(x)
    assert g.requires_grad and jr.requires_grad and jf.requires_grad
    (g.sum() + jr.sum() + jf.sum()).backward()
    assert w.grad.tolist() == [18.0, 24.0]                   # 3 * 2 x


def test_inputs_that_require_grad_stay_connected():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    g = cf.grad(lambda a: (a ** 3).sum())(x)                 # 3 x^2
    (gg,) = cr.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0] and x.grad is None


def test_transforms_work_under_no_grad():
    with cr.no_grad():
        g = cf.grad(lambda a: (a ** 2).sum())(cr.tensor([1.0, 2.0]))
        h = cf.hessian(lambda a: (a ** 3).sum())(cr.tensor([1.0, 2.0]))
    assert g.tolist() == [2.0, 4.0] and h.tolist() == [[6.0, 0.0], [0.0, 12.0]]
    assert not g.requires_grad and not h.requires_grad


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian"])
def test_bad_argnums_are_refused(transform):
    make = getattr(cf, transform)
    f = (lambda a, b: (a * b).sum())
    x = cr.ones(2)
    with pytest.raises(RuntimeError, match="got argnums=2, but only 2 positional inputs"):
        make(f, argnums=2)(x, x)
    with pytest.raises(ValueError, match="got argnums=-3, but only 2 positional inputs"):
        make(f, argnums=-3)(x, x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        make(f, argnums=(0, 0))(x, x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        make(f, argnums=())(x, x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        make(f, argnums=[0, 1])
    with pytest.raises(RuntimeError, match="expected the arguments named by argnums to contain only Tensors"):
        make(f, argnums=1)(x, 2.0)


def test_grad_needs_a_scalar_output():
    with pytest.raises(RuntimeError, match=r"expected f\(\*args\) to return a scalar Tensor, got a tensor with 1 dims"):
        cf.grad(lambda a: a * 2)(cr.ones(2))
    with pytest.raises(RuntimeError, match=r"expected f\(\*args\) to return a Tensor, got float"):
        cf.grad(lambda a: 2.0)(cr.ones(2))
    with pytest.raises(RuntimeError, match=r"should be a tuple: \(output, aux\)"):
        cf.grad(lambda a: a.sum(), has_aux=True)(cr.ones(2))
