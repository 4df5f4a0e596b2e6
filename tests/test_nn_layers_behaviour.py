"""Layer behaviour that needs no PyTorch: dropout statistics, batch-norm running statistics by their formulas,
train/eval switches, parameter registration, and clear errors naming the layer and the shapes."""
import numpy as np
import pytest

import chainrule
import chainrule.nn as nn
from chainrule._errors import ShapeError


# --------------------------------------------------------------------------------------------- dropout
def test_dropout_zeroes_with_probability_p_and_scales_the_rest():
    chainrule.manual_seed(0)
    x = chainrule.ones(400, 500, requires_grad=True)
    layer = nn.Dropout(0.3)
    y = layer(x)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 5 * np.sqrt(0.21 / values.size)
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), kept / np.float32(0.7))  # the gradient uses the same mask


def test_dropout_eval_is_identity_and_train_flag_switches():
    layer = nn.Dropout(0.5)
    x = chainrule.randn(20, 30)
    assert layer.training
    layer.eval()
    assert not layer.training
    assert layer(x) is x or np.array_equal(layer(x).numpy(), x.numpy())
    layer.train()
    assert (layer(x).numpy() == 0).any()
    assert np.array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not nn.Dropout(1.0)(x).numpy().any()


def test_dropout_is_reproducible_with_manual_seed():
    chainrule.manual_seed(11)
    a = nn.Dropout()(chainrule.ones(50)).numpy()
    chainrule.manual_seed(11)
    np.testing.assert_array_equal(nn.Dropout()(chainrule.ones(50)).numpy(), a)


def test_dropout_inplace_modifies_input():
    x = chainrule.ones(100)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and (x.numpy() == 0).any()


# ------------------------------------------------------------------------------------------ batch norm
def test_batchnorm_running_statistics_follow_the_formulas():
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm2d(3, momentum=0.2).double()
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 5)) * 3 + 2
        y = layer(chainrule.tensor(x)).detach().numpy()
        batch_mean, batch_var = x.mean((0, 2, 3)), x.var((0, 2, 3))
        np.testing.assert_allclose(y, (x - batch_mean[:, None, None]) / np.sqrt(batch_var[:, None, None] + 1e-5))
        mean = 0.8 * mean + 0.2 * batch_mean
        var = 0.8 * var + 0.2 * x.var((0, 2, 3), ddof=1)  # unbiased in the running estimate
    np.testing.assert_allclose(layer.running_mean.numpy(), mean)
    np.testing.assert_allclose(layer.running_var.numpy(), var)
    assert int(layer.num_batches_tracked) == 3
    layer.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(layer(chainrule.tensor(x)).detach().numpy(),
                               (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5))


def test_batchnorm_momentum_none_is_the_cumulative_average():
    rng = np.random.default_rng(1)
    layer = nn.BatchNorm1d(4, momentum=None).double()
    batches = [rng.standard_normal((6, 4)) + i for i in range(5)]
    for x in batches:
        layer(chainrule.tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean([x.mean(0) for x in batches], axis=0))
    np.testing.assert_allclose(layer.running_var.numpy(), np.mean([x.var(0, ddof=1) for x in batches], axis=0))


def test_batchnorm_buffers_and_parameters():
    layer = nn.BatchNorm2d(5)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in layer.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert layer.num_batches_tracked.dtype == chainrule.int64 and layer.num_batches_tracked.shape == ()
    assert not layer.running_mean.requires_grad
    layer(chainrule.randn(2, 5, 3, 3)).sum().backward()
    assert layer.weight.grad is not None and layer.running_mean.grad is None
    bare = nn.BatchNorm2d(5, affine=False, track_running_stats=False)
    assert list(bare.parameters()) == [] and list(bare.buffers()) == []
    assert bare.weight is None and bare.running_mean is None
    bare.eval()  # no running statistics: eval still normalises with the batch statistics
    y = bare(chainrule.randn(4, 5, 2, 2) * 4 + 3).numpy()
    np.testing.assert_allclose(y.mean((0, 2, 3)), 0, atol=1e-5)


def test_batchnorm_eval_does_not_touch_buffers():
    layer = nn.BatchNorm1d(3)
    layer.eval()
    layer(chainrule.randn(4, 3) + 5)
    np.testing.assert_array_equal(layer.running_mean.numpy(), np.zeros(3))
    assert int(layer.num_batches_tracked) == 0


def test_batchnorm_reset_running_stats():
    layer = nn.BatchNorm1d(3)
    layer(chainrule.randn(4, 3) + 5)
    layer.reset_running_stats()
    np.testing.assert_array_equal(layer.running_mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(layer.running_var.numpy(), np.ones(3))
    assert int(layer.num_batches_tracked) == 0


# ------------------------------------------------------------------------------------- registration
def test_parameter_names_shapes_and_dtypes():
    cases = [
        (nn.Linear(3, 4), {"weight": (4, 3), "bias": (4,)}),
        (nn.Linear(3, 4, bias=False), {"weight": (4, 3)}),
        (nn.Bilinear(2, 3, 4), {"weight": (4, 2, 3), "bias": (4,)}),
        (nn.Conv2d(4, 6, (3, 2), groups=2), {"weight": (6, 2, 3, 2), "bias": (6,)}),
        (nn.ConvTranspose2d(4, 6, 3, groups=2), {"weight": (4, 3, 3, 3), "bias": (6,)}),
        (nn.Conv1d(2, 3, 5, bias=False), {"weight": (3, 2, 5)}),
        (nn.LayerNorm((2, 3)), {"weight": (2, 3), "bias": (2, 3)}),
        (nn.GroupNorm(2, 6), {"weight": (6,), "bias": (6,)}),
        (nn.Embedding(7, 3), {"weight": (7, 3)}),
        (nn.PReLU(3), {"weight": (3,)}),
        (nn.ReLU(), {}), (nn.MaxPool2d(2), {}), (nn.MSELoss(), {}),
    ]
    for layer, expected in cases:
        got = {name: tuple(p.shape) for name, p in layer.named_parameters()}
        assert got == expected, f"{layer}: {got}"
        for p in layer.parameters():
            assert isinstance(p, nn.Parameter) and p.dtype == chainrule.float32 and p.requires_grad
    layer = nn.Linear(3, 2, dtype=chainrule.float64)
    assert layer.weight.dtype == chainrule.float64
    assert nn.Linear(3, 2).double()(chainrule.randn(4, 3, dtype=chainrule.float64)).dtype == chainrule.float64


def test_loss_weights_are_buffers():
    loss = nn.CrossEntropyLoss(weight=chainrule.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=chainrule.ones(3)).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []


def test_a_small_model_trains():
    chainrule.manual_seed(0)
    x = chainrule.randn(64, 1, 6, 6)
    y = (x.sum((1, 2, 3)) > 0).long()
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Dropout(0.1), nn.Linear(36, 2))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(60):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with chainrule.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ----------------------------------------------------------------------------------------------- errors
def test_linear_wrong_in_features_names_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"Linear\(in_features=4, out_features=5\).*\[2, 3\].*\(2x3 and 4x5\)"):
        nn.Linear(4, 5)(chainrule.randn(2, 3))
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        nn.Linear(4, 5)(chainrule.randn(2, 3))
    with pytest.raises(ShapeError, match=r"Bilinear.*\[2, 3\] and \[2, 5\]"):
        nn.Bilinear(3, 4, 2)(chainrule.randn(2, 3), chainrule.randn(2, 5))


def test_conv_wrong_input_names_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"Conv2d\(3, 8\).*C=3.*\[1, 4, 8, 8\]"):
        nn.Conv2d(3, 8, 3)(chainrule.randn(1, 4, 8, 8))
    with pytest.raises(ShapeError, match=r"Conv2d\(3, 8\).*4D.*\[8, 8\]"):
        nn.Conv2d(3, 8, 3)(chainrule.randn(8, 8))
    with pytest.raises(ShapeError, match=r"Conv1d\(2, 3\).*\[1, 2, 3, 4\]"):
        nn.Conv1d(2, 3, 3)(chainrule.randn(1, 2, 3, 4))
    with pytest.raises(ShapeError, match=r"ConvTranspose2d\(2, 3\)"):
        nn.ConvTranspose2d(2, 3, 3)(chainrule.randn(1, 3, 4, 4))


def test_conv_constructor_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 6, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(4, 6, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv1d(4, 6, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")


def test_norm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input\).*\[3, 5, 5\]"):
        nn.BatchNorm2d(3)(chainrule.randn(3, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(chainrule.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 3 channels.*\[2, 4, 5, 5\]"):
        nn.BatchNorm2d(3)(chainrule.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(chainrule.randn(1, 3))
    with pytest.raises(ValueError, match=r"LayerNorm: Given normalized_shape=\[4\].*\[2, 5\]"):
        nn.LayerNorm(4)(chainrule.randn(2, 5))
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4\).*\[2, 6, 3\]"):
        nn.GroupNorm(2, 4)(chainrule.randn(2, 6, 3))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D \(unbatched\) or 4D"):
        nn.InstanceNorm2d(3)(chainrule.randn(2, 3))


def test_other_constructor_and_input_errors():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(IndexError, match="index 7 is out of range"):
        nn.Embedding(5, 2)(chainrule.tensor([1, 7]))
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found element of type float"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found type int"):
        nn.Unflatten(1, 6)
    with pytest.raises(ValueError, match=r"max_val \(0\) must be greater than min_val \(1\)"):
        nn.Hardtanh(1, 0)
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="CrossEntropyLoss: sum_all is not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="sum_all")
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="GLU: Halving dimension must be even"):
        nn.GLU()(chainrule.randn(2, 3))
    with pytest.raises(ValueError, match=r"PReLU\(num_parameters=3\).*\[2, 4\]"):
        nn.PReLU(3)(chainrule.randn(2, 4))
    with pytest.raises(ValueError, match="CPU only"):
        nn.Linear(2, 2, device="cuda")


def test_legacy_size_average_warns_and_maps_to_reduction():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.L1Loss(reduce=False).reduction == "none"
