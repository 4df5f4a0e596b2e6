"""Seed 001's training example (../shared/seeds/001_*.txt: ResNet-18, one forward and backward pass, SGD with
momentum) runs verbatim with ``import chainrule as torch``, bar the torchvision import: the model comes from
chainrule.nn.models, with fresh weights (chainrule downloads nothing; ``pretrained=True`` explains how to bring
torchvision's weights over). With identical weights and data the numbers equal PyTorch's."""
import numpy as np
import pytest

import chainrule
from chainrule.nn.models import resnet18


def run_seed_example():
    """The seed's lines, in its order. Returns what the test inspects."""
    import chainrule as torch
    model = resnet18()  # the seed: model = torchvision.models.resnet18(pretrained=True)
    data = torch.rand(1, 3, 64, 64)
    labels = torch.rand(1, 1000)
    prediction = model(data)  # 순전파 단계(forward pass)
    loss = (prediction - labels).sum()
    loss.backward()  # 역전파 단계(backward pass)
    optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    optim.step()  # 경사하강법(gradient descent)
    return model, data, labels, prediction, loss


def test_seed001_resnet18_step_runs_and_lowers_the_loss():
    chainrule.manual_seed(1)
    model, data, labels, prediction, loss = run_seed_example()
    assert prediction.shape == (1, 1000) and prediction.grad_fn is not None
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in model.parameters())
    assert model.bn1.num_batches_tracked.item() == 1
    with chainrule.no_grad():
        after = (model(data) - labels).sum()
    assert after.item() < loss.item()  # one step of gradient descent on this loss lowers it


def test_seed001_numbers_equal_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    from torch_resnet import TorchResNet
    chainrule.manual_seed(2)
    ours = resnet18()
    theirs = TorchResNet([2, 2, 2, 2])
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    data_np = np.random.default_rng(3).random((1, 3, 64, 64), dtype=np.float32)
    labels_np = np.random.default_rng(4).random((1, 1000), dtype=np.float32)

    def step(lib, model, data, labels):
        prediction = model(data)
        loss = (prediction - labels).sum()
        loss.backward()
        optim = lib.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
        optim.step()
        return prediction, loss

    ours_prediction, ours_loss = step(chainrule, ours, chainrule.tensor(data_np), chainrule.tensor(labels_np))
    their_prediction, their_loss = step(torch, theirs, torch.from_numpy(data_np), torch.from_numpy(labels_np))
    np.testing.assert_allclose(ours_prediction.detach().numpy(), their_prediction.detach().numpy(), rtol=1e-3,
                               atol=1e-4)
    assert ours_loss.item() == pytest.approx(their_loss.item(), rel=1e-4, abs=1e-3)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():  # gradients, and the weights after the SGD step
        q = their_params[name]
        # float32 through 20 batch norms of a single image (layer4 normalises 4 values per channel) is
        # ill-conditioned: PyTorch's own float32 gradients are 4e-4 (relative, in norm) off its float64 ones.
        # Compare each gradient as a whole, and elementwise against its largest entry.
        got, expected = p.grad.numpy(), q.grad.numpy()
        scale = float(np.abs(expected).max())
        assert np.linalg.norm(got - expected) <= 2e-3 * np.linalg.norm(expected), f"gradient of {name}"
        np.testing.assert_allclose(got, expected, rtol=0, atol=5e-3 * scale, err_msg=f"gradient of {name}")
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=0, atol=1e-2 * 5e-3 * scale + 1e-6,
                                   err_msg=f"{name} after optim.step()")  # lr 1e-2 times the gradient's tolerance
    their_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.numpy(), their_buffers[name].numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
