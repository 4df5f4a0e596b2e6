"""chainrule.nn.models: mlp, lenet5 and resnet18/34 against the same networks written in plain PyTorch
(torchvision is not needed: the test builds torchvision's ResNet layout with torchvision's names). State dicts
go through safetensors files exactly as a user would move torchvision weights over."""
import math

import numpy as np
import pytest

import chainrule
from chainrule.nn.models import lenet5, mlp, resnet18, resnet34

torch = pytest.importorskip("torch")
tnn = torch.nn
from torch_resnet import TorchResNet  # noqa: E402


def _randomise_batch_norms(model, seed):
    """Non-trivial BN affine parameters and running statistics (fresh ones are 1/0/0/1 and would hide a
    mix-up of names)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.num_batches_tracked.fill_(7)


def _export(model, path):
    """A torch state dict written the way a user would export torchvision's weights."""
    safetensors_torch = pytest.importorskip("safetensors.torch")
    safetensors_torch.save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def _shapes(state_dict):
    return {k: tuple(v.shape) for k, v in state_dict.items()}


def _close(ours, theirs, what, rtol=1e-7, atol=1e-9):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=rtol, atol=atol, err_msg=what)


def _compare_gradients(ours, theirs, rtol=1e-7, atol=1e-9):
    their_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(their_params)
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        _close(p.grad, their_params[name].grad, f"gradient of {name}", rtol, atol)


# ------------------------------------------------------------------------------------------------- resnet
def test_resnet18_names_and_shapes_are_torchvisions():
    ours, theirs = resnet18(), TorchResNet([2, 2, 2, 2])
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())  # the same order too
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert sum(p.numel() for p in ours.parameters()) == 11689512  # torchvision's resnet18
    assert ours.state_dict()["bn1.num_batches_tracked"].dtype == chainrule.int64
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]


def test_resnet34_names_and_shapes_are_torchvisions():
    ours, theirs = resnet34(num_classes=10), TorchResNet([3, 4, 6, 3], num_classes=10)
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())


def test_resnet18_initialisation_is_torchvisions():
    chainrule.manual_seed(0)
    model = resnet18()
    for name, module in model.named_modules():
        if isinstance(module, chainrule.nn.Conv2d):  # kaiming_normal_, mode fan_out, relu: std sqrt(2 / fan_out)
            w = module.weight.detach().numpy()
            fan_out = w.shape[0] * w.shape[2] * w.shape[3]
            assert abs(w.mean()) < 0.2 * math.sqrt(2 / fan_out)
            assert w.std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.1), name
        elif isinstance(module, chainrule.nn.BatchNorm2d):
            assert np.all(module.weight.detach().numpy() == 1) and np.all(module.bias.detach().numpy() == 0)
    bound = 1 / math.sqrt(512)  # fc keeps Linear's default: uniform(-1/sqrt(in), 1/sqrt(in)) for both
    assert np.abs(model.fc.weight.detach().numpy()).max() <= bound
    assert np.abs(model.fc.bias.detach().numpy()).max() <= bound
    zero = resnet18(zero_init_residual=True)
    assert np.all(zero.layer3[1].bn2.weight.detach().numpy() == 0)
    assert np.all(zero.layer3[1].bn1.weight.detach().numpy() == 1)


@pytest.fixture(scope="module")
def loaded_pair(tmp_path_factory):
    """torch's ResNet-18 with random weights and statistics, exported to safetensors and loaded into ours."""
    torch.manual_seed(0)
    theirs = TorchResNet([2, 2, 2, 2], num_classes=10)
    _randomise_batch_norms(theirs, 1)
    path = _export(theirs, tmp_path_factory.mktemp("resnet") / "resnet18.safetensors")
    ours = resnet18(num_classes=10)
    result = ours.load_state_dict(chainrule.load(path), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    return ours.double(), theirs.double(), path


def _images(seed, n=2, size=32):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size))


def test_resnet18_eval_logits_equal_torch(loaded_pair):
    ours, theirs, _ = loaded_pair
    ours.eval(), theirs.eval()
    x = _images(2)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x))
    _close(ours(chainrule.tensor(x)), expected, "eval logits")


def test_resnet18_train_logits_gradients_and_running_stats_equal_torch(loaded_pair):
    ours, theirs, _ = loaded_pair
    ours.train(), theirs.train()
    ours.zero_grad(), theirs.zero_grad()
    x, target = _images(3, n=3, size=40), np.array([1, 7, 3])
    ours_loss = chainrule.nn.functional.cross_entropy(ours(chainrule.tensor(x)), chainrule.tensor(target))
    their_loss = tnn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(target))
    _close(ours_loss, their_loss, "train loss")
    ours_loss.backward()
    their_loss.backward()
    _compare_gradients(ours, theirs, rtol=1e-6, atol=1e-9)
    their_buffers = dict(theirs.named_buffers())
    for name, buffer in ours.named_buffers():
        _close(buffer, their_buffers[name], f"buffer {name} after a training step")


def test_resnet18_weights_argument_loads_a_safetensors_file(loaded_pair):
    *_, path = loaded_pair
    model = resnet18(num_classes=10, weights=path).eval()
    x = _images(4, n=1).astype(np.float32)
    theirs_f32 = TorchResNet([2, 2, 2, 2], num_classes=10)
    theirs_f32.load_state_dict(pytest.importorskip("safetensors.torch").load_file(str(path)))  # the file's state
    with torch.no_grad():
        expected = theirs_f32.eval()(torch.from_numpy(x))
    _close(model(chainrule.tensor(x)), expected, "logits with weights=path", rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc.weight.*\[1000, 512\]"):
        resnet18(weights=path)  # 10 classes in the file, 1000 asked for


def test_resnet18_refuses_to_download_and_checks_its_input():
    with pytest.raises(ValueError, match=r"downloads nothing.*safetensors.torch.save_file.*weights="):
        resnet18(pretrained=True)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\).*\[2, 1, 32, 32\]"):
        resnet18(num_classes=2)(chainrule.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="num_classes"):
        resnet18(num_classes=0)


def test_resnet18_missing_keys_are_listed(loaded_pair):
    *_, path = loaded_pair
    state = chainrule.load(path)
    del state["layer2.0.downsample.1.running_var"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\).*"layer2.0.downsample.1.running_var"'):
        resnet18(num_classes=10).load_state_dict(state)


# -------------------------------------------------------------------------------------------------- mlp
def _copy_into(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()}, strict=True)


def test_mlp_layout_and_values_equal_torch():
    torch.manual_seed(0)
    theirs = tnn.Sequential(tnn.Linear(6, 5), tnn.Tanh(), tnn.Linear(5, 4), tnn.Tanh(), tnn.Linear(4, 3)).double()
    ours = mlp([6, 5, 4, 3], activation="tanh").double()
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    assert [type(m).__name__ for m in ours] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    _copy_into(ours, theirs)
    x = np.random.default_rng(0).standard_normal((7, 6))
    y = ours(chainrule.tensor(x))
    expected = theirs(torch.from_numpy(x))
    _close(y, expected, "mlp output")
    (y ** 2).sum().backward()
    (expected ** 2).sum().backward()
    _compare_gradients(ours, theirs)


def test_mlp_options():
    assert [type(m).__name__ for m in mlp([3, 4, 2])] == ["Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in mlp([3, 2])] == ["Linear"]
    assert [type(m).__name__ for m in mlp([3, 4, 4, 2], activation=chainrule.nn.GELU, dropout=0.5)] == \
        ["Linear", "GELU", "Dropout", "Linear", "GELU", "Dropout", "Linear"]
    assert mlp([3, 4], bias=False)[0].bias is None
    assert type(mlp([3, 4, 2], activation=lambda: chainrule.nn.LeakyReLU(0.2))[1]).__name__ == "LeakyReLU"


@pytest.mark.parametrize("args, error, words", [
    (([3],), ValueError, "at least an input and an output"),
    (([3, 0, 2],), ValueError, "positive ints"),
    (([3, 2.5, 2],), ValueError, "positive ints"),
    (([3, 4, 2], "swish-ish"), ValueError, r"unknown activation 'swish-ish'.*'relu'"),
    (([3, 4, 2], 3), TypeError, "activation must be"),
])
def test_mlp_errors(args, error, words):
    with pytest.raises(error, match=words):
        mlp(*args)


# ------------------------------------------------------------------------------------------------ lenet5
def torch_lenet(in_channels, paddings, flat, num_classes=10):
    features = tnn.Sequential(tnn.Conv2d(in_channels, 6, 5, padding=paddings[0]), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(6, 16, 5, padding=paddings[1]), tnn.ReLU(), tnn.MaxPool2d(2))
    classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(flat, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                                tnn.Linear(84, num_classes))
    model = tnn.Module()
    model.features, model.classifier = features, classifier
    model.forward = lambda x: classifier(features(x))
    return model


@pytest.mark.parametrize("size, in_channels, paddings, flat", [
    (28, 1, (2, 0), 16 * 5 * 5),   # MNIST: the common PyTorch LeNet-5
    (32, 3, (0, 0), 16 * 5 * 5),   # the original 32x32 layout
    (8, 1, (2, 2), 16 * 2 * 2),    # the embedded 8x8 digits
])
def test_lenet5_equals_torch(size, in_channels, paddings, flat):
    torch.manual_seed(size)
    theirs = torch_lenet(in_channels, paddings, flat).double()
    ours = lenet5(in_channels=in_channels, input_size=size).double()
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    _copy_into(ours, theirs)
    x = np.random.default_rng(size).standard_normal((3, in_channels, size, size))
    y = ours(chainrule.tensor(x))
    expected = theirs(torch.from_numpy(x))
    _close(y, expected, f"lenet5 {size}x{size} logits")
    y.sum().backward()
    expected.sum().backward()
    _compare_gradients(ours, theirs)


def test_lenet5_options_and_errors():
    classic = lenet5(input_size=32, activation="tanh", pool="avg")
    assert [type(m).__name__ for m in classic.features] == ["Conv2d", "Tanh", "AvgPool2d", "Conv2d", "Tanh", "AvgPool2d"]
    assert lenet5(num_classes=3, input_size=(8, 12))(chainrule.zeros(2, 1, 8, 12)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"built for 28x28.*lenet5\(input_size=\(8, 8\)\)"):
        lenet5()(chainrule.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="pool must be"):
        lenet5(pool="median")
    with pytest.raises(ValueError, match="at least 4x4"):
        lenet5(input_size=3)
