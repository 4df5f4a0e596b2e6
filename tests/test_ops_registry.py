"""Every registered op, every sample, checked automatically (PyTorch's OpInfo idea).

For each (op, sample) of ``chainrule.ops.REGISTRY``, in float64:
  (a) reverse mode: gradcheck (full Jacobian against central differences);
  (b) forward mode: the sum of the op's JVP rules along random tangents against a central difference
      along the same tangents;
  (c) second order: gradgradcheck;
  (d) forward mode through dual numbers (make_dual) against reverse mode.
Where torch is installed, forward values and gradients are also compared with a PyTorch equivalent.
A newly registered op is picked up by all of these without editing this file; its declaration says
what it equals in PyTorch (``torch=``) or why nothing does (``no_torch=``), and a test enforces that.
"""
import re
import warnings

import numpy as np
import pytest

import chainrule
from chainrule._tensor import Tensor, make_tensor
from chainrule.autograd import grad, gradcheck, gradgradcheck
from chainrule.ops import REGISTRY
from chainrule.ops._registry import make_sample_inputs

CASES = [(op, k) for op in REGISTRY.values() for k in range(len(op.samples))]
IDS = [f"{op.name}-sample{k}" for op, k in CASES]


def _setup(op, k):
    """The sample's inputs (fresh leaves; only the op's differentiable tensor inputs require grad), its
    params, and the positions of the differentiable inputs."""
    sample = op.samples[k]
    rng = np.random.default_rng(1000 + k)
    inputs = []
    for position, x in enumerate(make_sample_inputs(sample, rng)):
        if isinstance(x, Tensor):
            differentiable = op.varargs or op.differentiable[position]
            x = make_tensor(x._data.copy(), None, bool(x._rg and differentiable))
        inputs.append(x)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]
    return sample, inputs, dict(sample.params), positions


def _tolerances(out):
    """Finite differences resolve derivatives only to the output's precision: a float32 output (cast)
    needs a larger step."""
    if out._data.dtype == np.float64:
        return dict(eps=1e-6, atol=1e-5, rtol=1e-3)
    return dict(eps=1e-3, atol=1e-4, rtol=1e-3)


def _describe(op, k, sample):
    return f"op {op.name} ({op.display}), sample {k} {sample!r}"


@pytest.mark.parametrize("op, k", CASES, ids=IDS)
def test_op_derivatives(op, k):
    sample, inputs, params, positions = _setup(op, k)
    assert positions, f"{_describe(op, k, sample)}: no input requires grad; the sample tests nothing"

    def f(*diff):
        args = list(inputs)
        for i, x in zip(positions, diff):
            args[i] = x
        return op(*args, **params)

    diff_inputs = tuple(inputs[i] for i in positions)
    out = f(*diff_inputs)
    tol = _tolerances(out)
    where = _describe(op, k, sample)

    # (a) reverse mode against finite differences
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # float32 grad_outputs of a float32 output (cast)
        try:
            gradcheck(f, diff_inputs, **tol)
        except Exception as error:
            raise AssertionError(f"{where}: reverse mode (gradcheck) failed:\n{error}") from error

    # (b) forward-mode rules against a central difference along random tangents
    rng = np.random.default_rng(2000 + k)
    tangents = {i: make_tensor(rng.standard_normal(inputs[i].shape)) for i in positions}
    plain = [make_tensor(x._data) if isinstance(x, Tensor) else x for x in inputs]
    with chainrule.no_grad():
        out = op(*plain, **params)
        jvp = None
        for i in positions:
            term = op.jvp_rule(i)(tangents[i], out, *plain, **params)
            assert isinstance(term, Tensor), f"{where}: the JVP rule of input {i} returned {type(term).__name__}"
            assert term.shape == out.shape, (f"{where}: the JVP rule of input {i} gives shape {list(term.shape)} "
                                             f"but the output has shape {list(out.shape)}")
            jvp = term._data.astype(np.float64) if jvp is None else jvp + term._data
        eps = tol["eps"]
        shifted = [[make_tensor(np.asarray(x._data + sign * eps * tangents[i]._data)) if i in tangents else x
                    for i, x in enumerate(plain)] for sign in (1, -1)]
        plus, minus = (op(*args, **params)._data.astype(np.float64) for args in shifted)
    numerical = (plus - minus) / (2 * eps)
    difference = np.abs(jvp - numerical)
    assert np.all(difference <= tol["atol"] + tol["rtol"] * np.abs(numerical)), (
        f"{where}: forward mode (JVP rules) disagrees with the central difference along random tangents; "
        f"max |jvp - numerical| = {difference.max():.3g}\njvp:\n{jvp}\nnumerical:\n{numerical}")

    # (c) second order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            if min(sample.order, op.order) >= 2:
                gradgradcheck(f, diff_inputs, **tol)
            else:
                # The sample sits on a kink on purpose (a tie of max/min): the gradient is defined there by
                # convention but is not differentiable in the inputs, so finite differences can check only
                # its dependence on the upstream gradient (it is linear in it).
                out = f(*diff_inputs)
                upstream = make_tensor(np.random.default_rng(3000 + k).uniform(-1, 1, out.shape), None, True)
                gradcheck(lambda g: grad(f(*diff_inputs), diff_inputs, g, create_graph=True,
                                         materialize_grads=True), (upstream,), **tol)
        except Exception as error:
            raise AssertionError(f"{where}: second order (gradgradcheck) failed:\n{error}") from error


@pytest.mark.parametrize("op, k", CASES, ids=IDS)
def test_op_forward_mode_through_dual_numbers(op, k):
    """Forward mode as users run it (make_dual, then the op): the tangent J t must agree with reverse mode
    through the identity <J t, u> = <t, J^T u> for a random u. (The JVP rules themselves are checked
    against finite differences above.)"""
    from chainrule.autograd import forward_ad
    sample, inputs, params, positions = _setup(op, k)
    where = _describe(op, k, sample)
    rng = np.random.default_rng(5000 + k)
    tangents = {i: make_tensor(rng.standard_normal(inputs[i].shape).astype(inputs[i]._data.dtype)) for i in positions}
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(x, tangents[i]) if i in tangents else x for i, x in enumerate(inputs)]
        out = op(*duals, **params)
        jt = forward_ad.unpack_dual(out).tangent
    assert jt is not None, f"{where}: no tangent came out of forward mode"
    assert jt.shape == out.shape, f"{where}: tangent shape {list(jt.shape)}, output shape {list(out.shape)}"
    u = rng.standard_normal(out.shape).astype(out._data.dtype)
    grads = grad(op(*inputs, **params), [inputs[i] for i in positions], make_tensor(u), allow_unused=True)
    reverse = sum(float(np.sum(g._data * tangents[i]._data)) for i, g in zip(positions, grads) if g is not None)
    forward = float(np.sum(jt._data * u))
    rtol = 1e-6 if out._data.dtype == np.float64 else 1e-3
    assert abs(forward - reverse) <= 1e-7 + rtol * max(abs(forward), abs(reverse)), (
        f"{where}: forward mode <J t, u> = {forward!r} but reverse mode <t, J^T u> = {reverse!r}")


def test_every_op_is_declared_fully():
    problems = []
    for op in REGISTRY.values():
        if len(op.samples) < 2:
            problems.append(f"{op.name}: {len(op.samples)} sample(s); declare at least 2")
        if not re.search(r"Backward[012]$", op.display):
            problems.append(f"{op.name}: display name {op.display!r} does not end in Backward0/1/2")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------ PyTorch
# Each op declares its PyTorch equivalent (``torch=``) or why there is none (``no_torch=``) next to its rules.
def test_every_op_has_a_torch_decision():
    both = [op.name for op in REGISTRY.values() if op.torch is not None and op.no_torch]
    neither = [op.name for op in REGISTRY.values() if op.torch is None and not op.no_torch]
    assert not both, f"ops declaring both torch= and no_torch=: {both}"
    assert not neither, f"ops with neither torch= (a PyTorch equivalent) nor no_torch= (why there is none): {neither}"


TORCH_CASES = [(op, k) for op, k in CASES if op.torch is not None]


@pytest.mark.parametrize("op, k", TORCH_CASES, ids=[f"{op.name}-sample{k}" for op, k in TORCH_CASES])
def test_op_matches_torch(op, k):
    torch = pytest.importorskip("torch")
    sample, inputs, params, positions = _setup(op, k)
    where = _describe(op, k, sample)
    t_inputs = [torch.tensor(x._data, requires_grad=x._rg) if isinstance(x, Tensor) else x for x in inputs]
    out = op(*inputs, **params)
    t_out = op.torch(torch, *t_inputs, **params)
    assert tuple(t_out.shape) == out.shape, f"{where}: shape {list(out.shape)}, PyTorch {list(t_out.shape)}"
    assert str(t_out.dtype).removeprefix("torch.") == str(out.dtype).removeprefix("chainrule."), (
        f"{where}: dtype {out.dtype}, PyTorch {t_out.dtype}")
    np.testing.assert_allclose(out._data, t_out.detach().numpy(), rtol=1e-6, atol=1e-12,
                               err_msg=f"{where}: forward value differs from PyTorch")

    upstream = np.random.default_rng(4000 + k).standard_normal(out.shape).astype(out._data.dtype)
    grads = grad(out, [inputs[i] for i in positions], make_tensor(upstream), allow_unused=True)
    t_grads = torch.autograd.grad(t_out, [t_inputs[i] for i in positions], torch.from_numpy(upstream),
                                  allow_unused=True)
    for i, g, t_g in zip(positions, grads, t_grads):
        ours = np.zeros(inputs[i].shape) if g is None else g._data
        theirs = np.zeros(inputs[i].shape) if t_g is None else t_g.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12,
                                   err_msg=f"{where}: gradient of input {i} differs from PyTorch")
