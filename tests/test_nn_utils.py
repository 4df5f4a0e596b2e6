"""chainrule.nn.utils against torch.nn.utils: gradient clipping by total norm and by value, and flattening
parameters into one vector and back."""
import math

import numpy as np
import pytest

import chainrule
import chainrule.nn.utils as utils

torch = pytest.importorskip("torch")


def _pair(seed, shapes=((3, 4), (5,), (2, 2, 2)), scale=3.0, with_none=True):
    """The same parameters with the same gradients in both libraries (the last one has no gradient)."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(shapes):
        data = rng.standard_normal(shape)
        p, q = chainrule.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        if not (with_none and i == len(shapes) - 1):
            g = rng.standard_normal(shape) * scale
            p.grad, q.grad = chainrule.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def _same_grads(ours, theirs):
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
def test_clip_grad_norm_equals_torch(max_norm, norm_type):
    ours, theirs = _pair(0)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, chainrule.Tensor) and total.shape == ()
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    _same_grads(ours, theirs)


def test_clip_grad_norm_float32_single_tensor_and_generator():
    ours, theirs = _pair(1, shapes=((4, 4),), with_none=False)
    p, q = ours[0].float(), theirs[0].float()
    p.grad, q.grad = ours[0].grad.float(), theirs[0].grad.float()
    total = utils.clip_grad_norm_(p, 1.0)  # a single tensor
    assert total.dtype == chainrule.float32
    assert total.item() == pytest.approx(torch.nn.utils.clip_grad_norm_(q, 1.0).item(), rel=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    model = chainrule.nn.Linear(3, 2)
    model(chainrule.ones(1, 3)).sum().backward()
    assert utils.clip_grad_norm_(model.parameters(), 0.1).item() > 0.1  # a generator works
    assert utils.get_total_norm([p.grad for p in model.parameters()]).item() == pytest.approx(0.1, rel=1e-4)


def test_clip_grad_norm_without_gradients_and_nonfinite():
    p = chainrule.zeros(3, requires_grad=True)
    assert utils.clip_grad_norm_([p], 1.0).item() == torch.nn.utils.clip_grad_norm_(
        [torch.zeros(3, requires_grad=True)], 1.0).item() == 0.0
    ours, theirs = _pair(2)
    ours[0].grad[0, 0] = math.inf
    theirs[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError, match=r"total norm of order 2.0 .* non-finite.*error_if_nonfinite=False"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert math.isinf(utils.clip_grad_norm_(ours, 1.0).item())
    torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    _same_grads(ours, theirs)  # scaled by 1 / inf, as in PyTorch


def test_clip_grad_value_equals_torch():
    ours, theirs = _pair(3)
    assert utils.clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    _same_grads(ours, theirs)
    assert np.abs(ours[0].grad.numpy()).max() == 1.5


def test_parameters_to_vector_and_back_equal_torch():
    ours, theirs = _pair(4)
    vec = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.detach().numpy(), expected.detach().numpy())
    (vec * chainrule.arange(vec.numel(), dtype=chainrule.float64)).sum().backward()  # differentiable
    (expected * torch.arange(expected.numel(), dtype=torch.float64)).sum().backward()
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    new = np.arange(vec.numel(), dtype=np.float64) * 0.5
    new_ours, new_theirs = chainrule.tensor(new), torch.tensor(new)
    utils.vector_to_parameters(new_ours, ours)
    torch.nn.utils.vector_to_parameters(new_theirs, theirs)
    for p, q in zip(ours, theirs):
        assert p.shape == q.shape and p.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    new_ours[0] = 100.0  # the parameters are views of the vector, as in PyTorch
    assert ours[0][0, 0].item() == 100.0


def test_errors():
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        utils.vector_to_parameters([1.0, 2.0], [chainrule.zeros(2)])
    with pytest.raises(ValueError, match=r"vec must be 1-D with as many elements as the parameters \(4\)"):
        utils.vector_to_parameters(chainrule.zeros(3), [chainrule.zeros(2, 2)])
    with pytest.raises(TypeError, match="parameters must be Tensors"):
        utils.clip_grad_norm_([chainrule.zeros(2), 3.0], 1.0)
    with pytest.raises(TypeError, match="norm_type must be a number"):
        utils.clip_grad_norm_([chainrule.zeros(2)], 1.0, norm_type="fro")
    with pytest.raises(TypeError, match="clip_value must be a number"):
        utils.clip_grad_value_([chainrule.zeros(2)], None)
    with pytest.raises(ValueError, match="no parameters"):
        utils.parameters_to_vector([])
