"""Every layer, activation and loss of chainrule.nn against torch.nn: the same constructor call builds both,
PyTorch's state dict loads into ours (same names, order, shapes, dtypes), and outputs, input gradients,
parameter gradients and buffers agree in float64 and float32; repr is PyTorch's str(module)."""
import numpy as np
import pytest

import chainrule

torch = pytest.importorskip("torch")

from nn_layer_compare import build_pair, check_close, compare_layer  # noqa: E402


def N(*shape):
    return ("normal", shape)


def P(*shape):
    """Positive values in (0.05, 0.95) (probabilities)."""
    return ("prob", shape)


def I(high, *shape, low=0):  # noqa: E743
    return ("int", shape, low, high)


def _draw(spec, rng):
    if spec[0] == "normal":
        return rng.standard_normal(spec[1])
    if spec[0] == "prob":
        return rng.uniform(0.05, 0.95, spec[1])
    return rng.integers(spec[2], spec[3], spec[1]).astype(np.int64)


# (id, make(nn) -> module, input specs)
LAYERS = [
    ("linear", lambda nn: nn.Linear(3, 4), [N(2, 3)]),
    ("linear-3d-nobias", lambda nn: nn.Linear(3, 5, bias=False), [N(2, 4, 3)]),
    ("linear-1d", lambda nn: nn.Linear(3, 2), [N(3)]),
    ("bilinear", lambda nn: nn.Bilinear(3, 4, 5), [N(2, 3), N(2, 4)]),
    ("bilinear-nobias", lambda nn: nn.Bilinear(2, 3, 4, bias=False), [N(3, 2, 2), N(3, 2, 3)]),
    ("identity", lambda nn: nn.Identity(3, unused=True), [N(2, 3)]),
    ("conv1d", lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), [N(2, 3, 9)]),
    ("conv1d-same-dilated", lambda nn: nn.Conv1d(2, 4, 4, padding="same", dilation=2), [N(2, 2, 10)]),
    ("conv1d-reflect", lambda nn: nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), [N(2, 2, 7)]),
    ("conv1d-circular", lambda nn: nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular"), [N(1, 2, 6)]),
    ("conv2d", lambda nn: nn.Conv2d(3, 4, 3), [N(2, 3, 7, 7)]),
    ("conv2d-stride-groups", lambda nn: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, bias=False),
     [N(2, 4, 8, 8)]),
    ("conv2d-rect-same-replicate", lambda nn: nn.Conv2d(3, 2, (3, 2), padding="same", padding_mode="replicate"),
     [N(2, 3, 5, 6)]),
    ("conv2d-dilated-valid", lambda nn: nn.Conv2d(2, 3, 3, dilation=2, padding="valid"), [N(1, 2, 9, 8)]),
    ("conv2d-unbatched", lambda nn: nn.Conv2d(2, 3, 3, padding=(1, 0)), [N(2, 5, 5)]),
    ("conv_transpose1d", lambda nn: nn.ConvTranspose1d(3, 4, 3, stride=2), [N(2, 3, 5)]),
    ("conv_transpose2d", lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
     [N(2, 3, 4, 4)]),
    ("conv_transpose2d-groups-dilation", lambda nn: nn.ConvTranspose2d(4, 6, 2, groups=2, dilation=2, bias=False),
     [N(2, 4, 3, 3)]),
    ("maxpool2d", lambda nn: nn.MaxPool2d(2), [N(2, 3, 6, 6)]),
    ("maxpool2d-padded", lambda nn: nn.MaxPool2d(3, stride=2, padding=1), [N(2, 3, 7, 7)]),
    ("maxpool2d-ceil-dilation", lambda nn: nn.MaxPool2d(2, stride=2, dilation=1, ceil_mode=True), [N(1, 2, 5, 5)]),
    ("maxpool1d", lambda nn: nn.MaxPool1d(3, stride=2), [N(2, 3, 9)]),
    ("avgpool2d", lambda nn: nn.AvgPool2d(2), [N(2, 3, 6, 6)]),
    ("avgpool2d-nopad-count", lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), [N(2, 3, 7, 7)]),
    ("avgpool2d-divisor", lambda nn: nn.AvgPool2d(2, divisor_override=3), [N(1, 2, 4, 4)]),
    ("avgpool1d", lambda nn: nn.AvgPool1d(3, stride=2, padding=1), [N(2, 3, 8)]),
    ("adaptive_avgpool2d-1", lambda nn: nn.AdaptiveAvgPool2d((1, 1)), [N(2, 3, 5, 5)]),
    ("adaptive_avgpool2d-3", lambda nn: nn.AdaptiveAvgPool2d(3), [N(2, 3, 7, 5)]),
    ("adaptive_avgpool2d-none", lambda nn: nn.AdaptiveAvgPool2d((None, 2)), [N(2, 3, 4, 5)]),
    ("adaptive_avgpool1d", lambda nn: nn.AdaptiveAvgPool1d(4), [N(2, 3, 9)]),
    ("adaptive_maxpool2d", lambda nn: nn.AdaptiveMaxPool2d(2), [N(2, 3, 5, 5)]),
    ("adaptive_maxpool1d", lambda nn: nn.AdaptiveMaxPool1d(3), [N(2, 3, 7)]),
    ("layernorm", lambda nn: nn.LayerNorm(5), [N(3, 5)]),
    ("layernorm-2d-noaffine", lambda nn: nn.LayerNorm((4, 5), elementwise_affine=False), [N(2, 4, 5)]),
    ("layernorm-nobias", lambda nn: nn.LayerNorm([5], eps=1e-3, bias=False), [N(2, 3, 5)]),
    ("groupnorm", lambda nn: nn.GroupNorm(2, 4), [N(3, 4, 3, 3)]),
    ("groupnorm-noaffine", lambda nn: nn.GroupNorm(1, 4, affine=False), [N(2, 4, 5)]),
    ("instancenorm1d", lambda nn: nn.InstanceNorm1d(3), [N(2, 3, 6)]),
    ("instancenorm2d-affine", lambda nn: nn.InstanceNorm2d(3, affine=True), [N(2, 3, 4, 4)]),
    ("instancenorm2d-unbatched", lambda nn: nn.InstanceNorm2d(3), [N(3, 4, 4)]),
    ("embedding", lambda nn: nn.Embedding(10, 3), [I(10, 2, 5)]),
    ("embedding-padding", lambda nn: nn.Embedding(6, 4, padding_idx=-2), [I(6, 12)]),
    ("flatten", lambda nn: nn.Flatten(), [N(2, 3, 2, 2)]),
    ("flatten-range", lambda nn: nn.Flatten(0, 2), [N(2, 3, 2, 2)]),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [N(4, 6)]),
    ("unflatten-neg", lambda nn: nn.Unflatten(-1, [2, -1]), [N(4, 3, 8)]),
    ("cosine_similarity", lambda nn: nn.CosineSimilarity(dim=1), [N(3, 4), N(3, 4)]),
    ("zeropad2d", lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), [N(2, 3, 4, 4)]),
    ("constantpad1d", lambda nn: nn.ConstantPad1d(2, 3.5), [N(2, 3, 4)]),
    ("reflectionpad2d", lambda nn: nn.ReflectionPad2d(2), [N(1, 2, 4, 5)]),
    ("replicationpad1d", lambda nn: nn.ReplicationPad1d((1, 3)), [N(2, 3, 4)]),
    ("circularpad2d", lambda nn: nn.CircularPad2d(1), [N(1, 2, 3, 3)]),
    ("pixelshuffle", lambda nn: nn.PixelShuffle(2), [N(2, 8, 3, 3)]),
    ("pixelunshuffle", lambda nn: nn.PixelUnshuffle(2), [N(2, 2, 4, 6)]),
    ("upsample-nearest", lambda nn: nn.Upsample(scale_factor=2), [N(1, 2, 3, 3)]),
    ("upsample-bilinear", lambda nn: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False), [N(1, 2, 3, 4)]),
    ("upsampling-bilinear2d", lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), [N(1, 2, 3, 3)]),
]

ACTIVATIONS = [
    ("relu", lambda nn: nn.ReLU()), ("relu6", lambda nn: nn.ReLU6()),
    ("leaky_relu", lambda nn: nn.LeakyReLU(0.2)), ("elu", lambda nn: nn.ELU(alpha=0.7)),
    ("celu", lambda nn: nn.CELU(alpha=1.5)), ("selu", lambda nn: nn.SELU()), ("gelu", lambda nn: nn.GELU()),
    ("gelu-tanh", lambda nn: nn.GELU(approximate="tanh")), ("silu", lambda nn: nn.SiLU()),
    ("mish", lambda nn: nn.Mish()), ("sigmoid", lambda nn: nn.Sigmoid()), ("tanh", lambda nn: nn.Tanh()),
    ("hardtanh", lambda nn: nn.Hardtanh(-0.5, 1.5)), ("hardsigmoid", lambda nn: nn.Hardsigmoid()),
    ("hardswish", lambda nn: nn.Hardswish()), ("softplus", lambda nn: nn.Softplus(beta=2.0, threshold=1.0)),
    ("softsign", lambda nn: nn.Softsign()), ("tanhshrink", lambda nn: nn.Tanhshrink()),
    ("softmax", lambda nn: nn.Softmax(dim=1)), ("log_softmax", lambda nn: nn.LogSoftmax(dim=-1)),
    ("softmin", lambda nn: nn.Softmin(dim=0)), ("softmax2d", lambda nn: nn.Softmax2d()),
    ("logsigmoid", lambda nn: nn.LogSigmoid()), ("glu", lambda nn: nn.GLU()), ("glu-2", lambda nn: nn.GLU(dim=2)),
    ("prelu", lambda nn: nn.PReLU()), ("prelu-channels", lambda nn: nn.PReLU(3, init=0.1)),
    ("threshold", lambda nn: nn.Threshold(0.1, 20.0)), ("hardshrink", lambda nn: nn.Hardshrink(0.3)),
    ("softshrink", lambda nn: nn.Softshrink()),
]

LOSSES = [
    ("mse", lambda nn: nn.MSELoss(), [N(3, 4), N(3, 4)]),
    ("mse-sum", lambda nn: nn.MSELoss(reduction="sum"), [N(3, 4), N(3, 4)]),
    ("l1-none", lambda nn: nn.L1Loss(reduction="none"), [N(3, 4), N(3, 4)]),
    ("cross_entropy", lambda nn: nn.CrossEntropyLoss(), [N(5, 4), I(4, 5)]),
    ("cross_entropy-options", lambda nn: nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1), [N(6, 3), I(3, 6)]),
    ("cross_entropy-spatial-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), [N(2, 3, 4), I(3, 2, 4)]),
    ("cross_entropy-probs", lambda nn: nn.CrossEntropyLoss(), [N(4, 3), P(4, 3)]),
    ("nll", lambda nn: nn.NLLLoss(), [N(5, 4), I(4, 5)]),
    ("nll-none", lambda nn: nn.NLLLoss(reduction="none", ignore_index=0), [N(5, 4), I(4, 5)]),
    ("bce", lambda nn: nn.BCELoss(), [P(3, 4), P(3, 4)]),
    ("bce_logits", lambda nn: nn.BCEWithLogitsLoss(), [N(3, 4), P(3, 4)]),
    ("huber", lambda nn: nn.HuberLoss(delta=0.5), [N(3, 4), N(3, 4)]),
    ("smooth_l1", lambda nn: nn.SmoothL1Loss(beta=0.5), [N(3, 4), N(3, 4)]),
    ("kl_div", lambda nn: nn.KLDivLoss(reduction="batchmean"), [N(3, 4), P(3, 4)]),
    ("kl_div-log_target", lambda nn: nn.KLDivLoss(reduction="sum", log_target=True), [N(3, 4), N(3, 4)]),
]

# Losses with class weights: the weight is a buffer made by the constructor call (its library's tensor).
WEIGHTED_LOSSES = [
    ("cross_entropy-weight", lambda nn, lib: nn.CrossEntropyLoss(weight=lib.tensor([0.2, 1.0, 3.0])),
     [N(5, 3), I(3, 5)]),
    ("nll-weight", lambda nn, lib: nn.NLLLoss(weight=lib.tensor([0.5, 2.0, 1.0, 1.5])), [N(5, 4), I(4, 5)]),
    ("bce-weight", lambda nn, lib: nn.BCELoss(weight=lib.tensor([1.0, 2.0, 0.5])), [P(2, 3), P(2, 3)]),
    ("bce_logits-pos_weight", lambda nn, lib: nn.BCEWithLogitsLoss(pos_weight=lib.tensor([1.0, 3.0, 0.5])),
     [N(2, 3), P(2, 3)]),
]


def _lib(nn):
    return chainrule if nn is chainrule.nn else torch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(case, dtype, fresh_rng):
    _, make, specs = case
    compare_layer(make, [_draw(s, fresh_rng) for s in specs], fresh_rng, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_activation_matches_torch(case, dtype, fresh_rng):
    _, make = case
    x = fresh_rng.standard_normal((2, 3, 4, 2))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from kinks
    compare_layer(make, [x], fresh_rng, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_torch(case, dtype, fresh_rng):
    _, make, specs = case
    compare_layer(make, [_draw(s, fresh_rng) for s in specs], fresh_rng, dtype=dtype)


@pytest.mark.parametrize("case", WEIGHTED_LOSSES, ids=[c[0] for c in WEIGHTED_LOSSES])
def test_weighted_loss_matches_torch(case, fresh_rng):
    _, make, specs = case
    ours, theirs = compare_layer(lambda nn: make(nn, _lib(nn)), [_draw(s, fresh_rng) for s in specs], fresh_rng)
    assert list(ours.state_dict()) == list(theirs.state_dict())


# ---------------------------------------------------------------------------------------- batch norm
BATCHNORMS = [
    ("bn1d", lambda nn: nn.BatchNorm1d(3), (6, 3)),
    ("bn1d-3d", lambda nn: nn.BatchNorm1d(3, momentum=0.3), (4, 3, 5)),
    ("bn2d", lambda nn: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("bn2d-cumulative", lambda nn: nn.BatchNorm2d(3, momentum=None), (2, 3, 4, 4)),
    ("bn2d-noaffine", lambda nn: nn.BatchNorm2d(3, affine=False), (2, 3, 3, 3)),
    ("bn2d-nobias", lambda nn: nn.BatchNorm2d(3, bias=False, eps=1e-3), (2, 3, 3, 3)),
    ("bn2d-untracked", lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 3, 3)),
    ("bn3d", lambda nn: nn.BatchNorm3d(2), (2, 2, 3, 3, 3)),
    ("instancenorm-tracked", lambda nn: nn.InstanceNorm2d(3, track_running_stats=True), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", BATCHNORMS, ids=[c[0] for c in BATCHNORMS])
def test_batchnorm_train_then_eval_matches_torch(case, dtype, fresh_rng):
    """Several training steps (outputs, gradients and running statistics after each), then eval mode (which
    normalises with the running statistics) and a switch back to training."""
    _, make, shape = case
    ours, theirs = compare_layer(make, [fresh_rng.standard_normal(shape) * 2 + 1], fresh_rng, dtype=dtype, steps=4)
    for key, buffer in theirs.named_buffers():
        check_close(ours.get_buffer(key) if hasattr(ours, "get_buffer") else getattr(ours, key), buffer, key,
                    1e-7 if dtype == "float64" else 2e-4, 1e-9 if dtype == "float64" else 1e-5)
    if "num_batches_tracked" in dict(theirs.named_buffers()):
        assert ours.num_batches_tracked.dtype == chainrule.int64
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == (4 if "BatchNorm" in str(ours) else 0)
    x = (fresh_rng.standard_normal(shape) * 3 - 1).astype(dtype)
    ours.eval()
    theirs.eval()
    out = ours(chainrule.tensor(x, requires_grad=True))
    ref = theirs(torch.tensor(x, requires_grad=True))
    check_close(out, ref, "eval output", 1e-7 if dtype == "float64" else 2e-4, 1e-9 if dtype == "float64" else 1e-5)
    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    ours(chainrule.tensor(x))
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=f"eval mode changed buffer {k}")


def test_batchnorm_running_stats_load_from_torch_and_eval(fresh_rng):
    """A torch BatchNorm with trained running statistics, loaded into ours, gives the same eval output."""
    theirs = torch.nn.BatchNorm2d(4).double()
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor(fresh_rng.standard_normal(4)))
        theirs.running_var.copy_(torch.tensor(fresh_rng.uniform(0.5, 2.0, 4)))
        theirs.weight.copy_(torch.tensor(fresh_rng.standard_normal(4)))
        theirs.num_batches_tracked.fill_(7)
    ours = chainrule.nn.BatchNorm2d(4).double()
    ours.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert int(ours.num_batches_tracked) == 7
    x = fresh_rng.standard_normal((2, 4, 3, 3))
    check_close(ours.eval()(chainrule.tensor(x)), theirs.eval()(torch.tensor(x)), "eval", 1e-10, 1e-12)


def test_conv_transpose_output_size_matches_torch(fresh_rng):
    ours, theirs = build_pair(lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1))
    x = fresh_rng.standard_normal((1, 2, 4, 4))
    for size in [(7, 7), (8, 8), (1, 3, 8, 7)]:
        check_close(ours(chainrule.tensor(x), output_size=size), theirs(torch.tensor(x), output_size=size),
                    f"output_size={size}", 1e-10, 1e-12)
    with pytest.raises(ValueError, match="ConvTranspose2d.*valid sizes"):
        ours(chainrule.tensor(x), output_size=(10, 10))


def test_max_pool_return_indices_matches_torch(fresh_rng):
    ours, theirs = build_pair(lambda nn: nn.MaxPool2d(2, return_indices=True))
    x = fresh_rng.standard_normal((2, 3, 4, 4))
    (out, idx), (ref, ref_idx) = ours(chainrule.tensor(x)), theirs(torch.tensor(x))
    check_close(out, ref, "values", 0, 0)
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())


def test_inplace_activations_match_torch(fresh_rng):
    for make in [lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.1, inplace=True),
                 lambda nn: nn.ELU(inplace=True), lambda nn: nn.Hardtanh(inplace=True),
                 lambda nn: nn.SiLU(inplace=True), lambda nn: nn.ReLU6(inplace=True)]:
        x = fresh_rng.standard_normal((3, 4))
        ours_x, theirs_x = chainrule.tensor(x), torch.tensor(x)
        out, ref = make(chainrule.nn)(ours_x), make(torch.nn)(theirs_x)
        check_close(out, ref, "inplace output", 1e-12, 1e-12)
        check_close(ours_x, theirs_x, "inplace input", 1e-12, 1e-12)


def test_embedding_from_pretrained_matches_torch(fresh_rng):
    table = fresh_rng.standard_normal((5, 3))
    index = np.array([[0, 4], [2, 2]])
    ours = chainrule.nn.Embedding.from_pretrained(chainrule.tensor(table))
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert ours.weight.requires_grad is theirs.weight.requires_grad is False
    check_close(ours(chainrule.tensor(index)), theirs(torch.tensor(index)), "lookup", 0, 0)
    assert str(ours) == str(theirs)
    assert chainrule.nn.Embedding.from_pretrained(chainrule.tensor(table), freeze=False).weight.requires_grad


# -------------------------------------------------------------------------------------------- repr
REPRS = [
    lambda nn: nn.Linear(3, 4), lambda nn: nn.Linear(3, 4, bias=False), lambda nn: nn.Bilinear(2, 3, 4),
    lambda nn: nn.Identity(), lambda nn: nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),
    lambda nn: nn.Conv2d(3, 4, 3), lambda nn: nn.Conv2d(4, 4, (3, 1), padding="same", dilation=2, groups=2),
    lambda nn: nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"), lambda nn: nn.Conv2d(2, 2, 3, padding="valid"),
    lambda nn: nn.Conv1d(3, 4, 5, stride=2), lambda nn: nn.ConvTranspose1d(3, 4, 5, output_padding=1, stride=2),
    lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, bias=False),
    lambda nn: nn.MaxPool2d(kernel_size=3, stride=2, padding=1), lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.MaxPool1d(2, ceil_mode=True), lambda nn: nn.AvgPool2d(2), lambda nn: nn.AvgPool2d((2, 3), 1, 1),
    lambda nn: nn.AvgPool1d(3), lambda nn: nn.AdaptiveAvgPool2d((1, 1)), lambda nn: nn.AdaptiveAvgPool2d(7),
    lambda nn: nn.AdaptiveAvgPool1d(3), lambda nn: nn.AdaptiveMaxPool2d((2, None)), lambda nn: nn.AdaptiveMaxPool1d(2),
    lambda nn: nn.BatchNorm2d(64), lambda nn: nn.BatchNorm1d(3, eps=1e-3, momentum=None, affine=False),
    lambda nn: nn.BatchNorm3d(2, track_running_stats=False, bias=False), lambda nn: nn.InstanceNorm2d(3),
    lambda nn: nn.InstanceNorm1d(3, affine=True), lambda nn: nn.LayerNorm(5), lambda nn: nn.LayerNorm([2, 3], bias=False),
    lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.GroupNorm(1, 3, affine=False), lambda nn: nn.Dropout(),
    lambda nn: nn.Dropout(0.2, inplace=True), lambda nn: nn.Embedding(10, 3),
    lambda nn: nn.Embedding(10, 3, padding_idx=0, norm_type=1.0), lambda nn: nn.Flatten(),
    lambda nn: nn.Flatten(0, 2), lambda nn: nn.Unflatten(1, (2, 3)), lambda nn: nn.CosineSimilarity(),
    lambda nn: nn.ZeroPad2d(1), lambda nn: nn.ZeroPad1d((1, 2)), lambda nn: nn.ConstantPad2d(1, 2.0),
    lambda nn: nn.ConstantPad1d((1, 2), 3.5), lambda nn: nn.ReflectionPad1d(2), lambda nn: nn.ReplicationPad2d(1),
    lambda nn: nn.CircularPad1d(1), lambda nn: nn.PixelShuffle(3), lambda nn: nn.PixelUnshuffle(2),
    lambda nn: nn.Upsample(scale_factor=2, mode="nearest"), lambda nn: nn.Upsample(size=(4, 5), mode="bilinear"),
    lambda nn: nn.UpsamplingNearest2d(size=3), lambda nn: nn.UpsamplingBilinear2d(scale_factor=(2, 3)),
    *[make for _, make in ACTIVATIONS], lambda nn: nn.ReLU(inplace=True), lambda nn: nn.ReLU6(True),
    lambda nn: nn.LeakyReLU(inplace=True), lambda nn: nn.ELU(inplace=True), lambda nn: nn.SELU(inplace=True),
    lambda nn: nn.Hardtanh(inplace=True), lambda nn: nn.Softmax(), lambda nn: nn.Hardswish(inplace=True),
    lambda nn: nn.Threshold(0.5, 1.0, inplace=True), lambda nn: nn.SiLU(True), lambda nn: nn.Mish(True),
    *[make for _, make, _ in LOSSES],
]


def test_repr_equals_torch():
    wrong = []
    for make in REPRS:
        ours, theirs = str(make(chainrule.nn)), str(make(torch.nn))
        if ours != theirs:
            wrong.append(f"{ours!r} != PyTorch's {theirs!r}")
    assert not wrong, "\n".join(wrong)


def test_repr_of_weighted_losses_and_a_model_equals_torch():
    for _, make, _ in WEIGHTED_LOSSES:
        assert str(make(chainrule.nn, chainrule)) == str(make(torch.nn, torch))

    def model(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(16, 3))
    assert str(model(chainrule.nn)) == str(model(torch.nn))


# ---------------------------------------------------------------------------------- default initialisation
INIT_BOUNDS = [  # (make, parameter, PyTorch's bound)
    (lambda nn: nn.Linear(50, 30), "weight", 1 / np.sqrt(50)),
    (lambda nn: nn.Linear(50, 30), "bias", 1 / np.sqrt(50)),
    (lambda nn: nn.Conv2d(6, 40, 3), "weight", 1 / np.sqrt(54)),
    (lambda nn: nn.Conv2d(6, 40, 3, groups=2), "bias", 1 / np.sqrt(27)),
    (lambda nn: nn.ConvTranspose2d(8, 40, 3), "weight", 1 / np.sqrt(360)),
    (lambda nn: nn.ConvTranspose2d(8, 40, 3), "bias", 1 / np.sqrt(360)),
    (lambda nn: nn.Bilinear(20, 5, 30), "weight", 1 / np.sqrt(20)),
    (lambda nn: nn.Conv1d(4, 30, 5), "weight", 1 / np.sqrt(20)),
]


@pytest.mark.parametrize("make, name, bound", INIT_BOUNDS)
def test_default_init_is_torchs_uniform(make, name, bound):
    """The default weights and biases are U(-bound, bound) with PyTorch's bound: values within it, filling it,
    with the uniform distribution's mean and variance; PyTorch's own layer shares the bound."""
    chainrule.manual_seed(0)
    values = getattr(make(chainrule.nn), name).detach().numpy().ravel()
    reference = getattr(make(torch.nn), name).detach().numpy().ravel()
    assert np.abs(values).max() <= bound and np.abs(reference).max() <= bound
    assert np.abs(values).max() > 0.9 * bound
    n = values.size
    assert abs(values.mean()) < 5 * bound / np.sqrt(3 * n)
    assert abs(values.var() - bound ** 2 / 3) < 6 * bound ** 2 / np.sqrt(n)


def test_default_init_of_norms_and_embedding_equals_torchs():
    for make in [lambda nn: nn.BatchNorm2d(5), lambda nn: nn.LayerNorm((2, 3)), lambda nn: nn.GroupNorm(2, 4),
                 lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True), lambda nn: nn.PReLU(4, 0.3)]:
        ours, theirs = make(chainrule.nn), make(torch.nn)
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    chainrule.manual_seed(1)
    weight = chainrule.nn.Embedding(2000, 50, padding_idx=3).weight.detach().numpy()
    assert weight.dtype == np.float32 and not weight[3].any()
    assert abs(weight.mean()) < 0.01 and abs(weight.std() - 1) < 0.01
