"""chainrule.nn.functional (ops/nn_ops.py) against torch.nn.functional on random inputs (a fresh seed each
run; see torch_compare.py): activations, softmax, linear layers, dropout, every loss with every reduction,
weights, ignore_index and label smoothing, the normalisations in training and eval mode, embedding.
Values and gradients are compared; errors are checked to be clear."""
import warnings

import numpy as np
import pytest

import chainrule
from torch_compare import broadcastable_shapes, compare_with_torch, random_shape

torch = pytest.importorskip("torch")

REDUCTIONS = ["none", "mean", "sum"]


def normal(rng, shape, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale)  # an array even for shape () (NumPy gives a scalar)


def uniform(rng, low, high, shape):
    return np.asarray(rng.uniform(low, high, shape))


def F(lib):
    return lib.nn.functional


def const(lib, array):
    """A constant tensor (no gradient) in either library."""
    return lib.tensor(array) if array is not None else None


# ------------------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "relu": lambda m, x: F(m).relu(x),
    "relu_inplace": lambda m, x: F(m).relu(x * 1, inplace=True),
    "relu6": lambda m, x: F(m).relu6(x * 4),
    "leaky_relu": lambda m, x: F(m).leaky_relu(x),
    "leaky_relu_0.2": lambda m, x: F(m).leaky_relu(x, 0.2),
    "elu": lambda m, x: F(m).elu(x),
    "elu_0.5": lambda m, x: F(m).elu(x * 3, alpha=0.5),
    "selu": lambda m, x: F(m).selu(x * 3),
    "celu": lambda m, x: F(m).celu(x),
    "celu_2": lambda m, x: F(m).celu(x * 3, alpha=2.0),
    "gelu": lambda m, x: F(m).gelu(x * 2),
    "gelu_tanh": lambda m, x: F(m).gelu(x * 2, approximate="tanh"),
    "silu": lambda m, x: F(m).silu(x * 2),
    "mish": lambda m, x: F(m).mish(x * 3),
    "hardtanh": lambda m, x: F(m).hardtanh(x),
    "hardtanh_bounds": lambda m, x: F(m).hardtanh(x, -0.5, 0.8),
    "hardsigmoid": lambda m, x: F(m).hardsigmoid(x * 4),
    "hardswish": lambda m, x: F(m).hardswish(x * 4),
    "softsign": lambda m, x: F(m).softsign(x * 2),
    "tanhshrink": lambda m, x: F(m).tanhshrink(x),
    "relu6_inplace": lambda m, x: F(m).relu6(x * 4, inplace=True),
    "leaky_relu_inplace": lambda m, x: F(m).leaky_relu(x * 1, 0.1, inplace=True),
    "elu_inplace": lambda m, x: F(m).elu(x * 1, inplace=True),
    "silu_inplace": lambda m, x: F(m).silu(x + 0, inplace=True),
    "hardswish_inplace": lambda m, x: F(m).hardswish(x * 4, inplace=True),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations(name, fresh_rng):
    for _ in range(4):
        x = normal(fresh_rng, random_shape(fresh_rng))
        compare_with_torch(ACTIVATIONS[name], [x], fresh_rng, what=f"{name} {x.shape}")


def test_activations_in_float32_and_at_extremes(fresh_rng):
    x = np.concatenate([normal(fresh_rng, 8) * 60, [-1000.0, 1000.0, -80.0, 80.0]]).astype(np.float32)
    for name in ("elu", "selu", "celu", "mish", "silu", "gelu", "gelu_tanh", "softsign"):
        compare_with_torch(ACTIVATIONS[name], [x], fresh_rng, rtol=1e-5, atol=1e-5, what=f"{name} float32 extremes")


KINKS = {
    "relu": lambda m, x: F(m).relu(x), "relu6": lambda m, x: F(m).relu6(x),
    "leaky_relu": lambda m, x: F(m).leaky_relu(x, 0.2), "elu": lambda m, x: F(m).elu(x, 0.5),
    "selu": lambda m, x: F(m).selu(x), "celu": lambda m, x: F(m).celu(x, 2.0),
    "hardtanh": lambda m, x: F(m).hardtanh(x), "hardtanh_bounds": lambda m, x: F(m).hardtanh(x, -3.0, 1.0),
    "hardsigmoid": lambda m, x: F(m).hardsigmoid(x), "hardswish": lambda m, x: F(m).hardswish(x),
    "softsign": lambda m, x: F(m).softsign(x), "mish": lambda m, x: F(m).mish(x),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_activation_gradients_at_the_kinks_match_torch(name, fresh_rng):
    """At exact kinks (0, the clamp bounds, +-3 of hardsigmoid/hardswish) the gradient is PyTorch's convention."""
    x = np.array([-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 0.5])
    compare_with_torch(KINKS[name], [x], fresh_rng, what=f"{name} at kinks")


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        chainrule.nn.functional.gelu(chainrule.randn(3), approximate="fast")


def test_hardtanh_rejects_min_above_max():
    with pytest.raises(ValueError, match="min_val"):
        chainrule.nn.functional.hardtanh(chainrule.randn(3), 1.0, -1.0)


def test_inplace_activation_writes_into_the_input(fresh_rng):
    data = normal(fresh_rng, (3, 4))
    x = chainrule.tensor(data)
    out = chainrule.nn.functional.relu6(x, inplace=True)
    assert out is x
    np.testing.assert_allclose(x.numpy(), np.clip(data, 0, 6))
    leaf = chainrule.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        chainrule.nn.functional.elu(leaf, inplace=True)


# ----------------------------------------------------------------------------------------- softmax
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(name, fresh_rng):
    for _ in range(5):
        shape = random_shape(fresh_rng, min_dims=1, max_dims=4)
        dim = int(fresh_rng.integers(-len(shape), len(shape)))
        x = normal(fresh_rng, shape, 5)
        compare_with_torch(lambda m, x: getattr(F(m), name)(x, dim), [x], fresh_rng, what=f"F.{name} {shape} dim={dim}")
        compare_with_torch(lambda m, x: getattr(m, name)(x, dim=dim), [x], fresh_rng, what=f"{name} {shape} dim={dim}")
        compare_with_torch(lambda m, x: getattr(x, name)(dim), [x], fresh_rng, what=f"Tensor.{name}")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_inputs(name, fresh_rng):
    x = np.array([[1000.0, 0.0, -1000.0], [-5e4, -5e4 + 1, 3.0]]) + normal(fresh_rng, (2, 3))
    compare_with_torch(lambda m, x: getattr(F(m), name)(x, dim=1), [x], fresh_rng, what=f"{name} huge")
    compare_with_torch(lambda m, x: getattr(F(m), name)(x, dim=-1), [x.astype(np.float32)], fresh_rng, rtol=1e-5,
                       atol=1e-6, what=f"{name} huge float32")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dtype_scalar_and_implicit_dim(name, fresh_rng):
    x = normal(fresh_rng, (2, 3, 4)).astype(np.float32)
    compare_with_torch(lambda m, x: getattr(F(m), name)(x, 1, dtype=m.float64), [x], fresh_rng, what=f"{name} dtype")
    compare_with_torch(lambda m, x: getattr(F(m), name)(x, 0), [normal(fresh_rng, ())], fresh_rng,
                       what=f"{name} 0-d")
    for shape in [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 2)]:
        data = normal(fresh_rng, shape)
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ours = getattr(F(chainrule), name)(chainrule.tensor(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(F(torch), name)(torch.tensor(data))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-12, err_msg=f"{name} {shape}")


def test_softmax_errors_and_node_names():
    x = chainrule.randn(2, 3, requires_grad=True)
    with pytest.raises(IndexError, match="range"):
        chainrule.softmax(x, dim=2)
    with pytest.raises(TypeError, match="floating"):
        chainrule.nn.functional.log_softmax(chainrule.tensor([1, 2, 3]), 0)
    assert type(chainrule.softmax(x, 1).grad_fn).__name__ == "SoftmaxBackward0"
    assert type(chainrule.log_softmax(x, 1).grad_fn).__name__ == "LogSoftmaxBackward0"


# ------------------------------------------------------------------------------------ linear layers
def test_linear(fresh_rng):
    for _ in range(5):
        batch = random_shape(fresh_rng, max_dims=2)
        n_in, n_out = (int(s) for s in fresh_rng.integers(1, 5, 2))
        x = normal(fresh_rng, batch + (n_in,))
        w, b = normal(fresh_rng, (n_out, n_in)), normal(fresh_rng, (n_out,))
        compare_with_torch(lambda m, x, w, b: F(m).linear(x, w, b), [x, w, b], fresh_rng, what=f"linear {x.shape}")
        compare_with_torch(lambda m, x, w: F(m).linear(x, w), [x, w], fresh_rng, what="linear no bias")
        compare_with_torch(lambda m, x, w: F(m).linear(x, w), [x, w[0]], fresh_rng, what="linear 1-D weight")


def test_bilinear(fresh_rng):
    for _ in range(4):
        batch = random_shape(fresh_rng, max_dims=2)
        n1, n2, n_out = (int(s) for s in fresh_rng.integers(1, 5, 3))
        x1, x2 = normal(fresh_rng, batch + (n1,)), normal(fresh_rng, batch + (n2,))
        w, b = normal(fresh_rng, (n_out, n1, n2)), normal(fresh_rng, (n_out,))
        compare_with_torch(lambda m, x1, x2, w, b: F(m).bilinear(x1, x2, w, b), [x1, x2, w, b], fresh_rng,
                           what=f"bilinear {x1.shape} {x2.shape}")
        compare_with_torch(lambda m, x1, x2, w: F(m).bilinear(x1, x2, w), [x1, x2, w], fresh_rng, what="bilinear")


def test_linear_errors():
    F_ = chainrule.nn.functional
    with pytest.raises(ValueError, match=r"linear: input of shape \[3, 4\].*\[2, 5\]"):
        F_.linear(chainrule.randn(3, 4), chainrule.randn(2, 5))
    with pytest.raises(ValueError, match="bilinear"):
        F_.bilinear(chainrule.randn(3, 4), chainrule.randn(3, 2), chainrule.randn(5, 4, 3))
    with pytest.raises(ValueError, match="batch"):
        F_.bilinear(chainrule.randn(3, 4), chainrule.randn(2, 2), chainrule.randn(5, 4, 2))


# ------------------------------------------------------------------------------------------ dropout
def test_dropout_mask_scale_and_gradient(fresh_rng):
    data = normal(fresh_rng, (200, 50)) + 3.0  # no zeros in the input
    for p in (0.2, 0.5, 0.9):
        x = chainrule.tensor(data, requires_grad=True)
        y = chainrule.nn.functional.dropout(x, p)
        kept = y.detach().numpy() != 0
        np.testing.assert_allclose(y.detach().numpy()[kept], data[kept] / (1 - p), rtol=1e-12)
        assert abs((~kept).mean() - p) < 0.03, f"dropped fraction {(~kept).mean()} for p={p}"
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-12)


def test_dropout_is_seeded_by_manual_seed():
    x = chainrule.ones(10, 10)
    chainrule.manual_seed(123)
    first = chainrule.nn.functional.dropout(x, 0.5).numpy()
    chainrule.manual_seed(123)
    second = chainrule.dropout(x, 0.5, True).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, chainrule.nn.functional.dropout(x, 0.5).numpy())


def test_dropout_eval_zero_and_one(fresh_rng):
    x = normal(fresh_rng, (3, 4))
    for kwargs in (dict(training=False), dict(p=0.0), dict(p=1.0)):
        compare_with_torch(lambda m, x: F(m).dropout(x * 1, **kwargs), [x], fresh_rng, what=f"dropout {kwargs}")
    t = chainrule.tensor(x)
    assert chainrule.nn.functional.dropout(t, 0.5, training=False) is t
    inplace = chainrule.tensor(x + 10)
    assert chainrule.nn.functional.dropout(inplace, 0.5, inplace=True) is inplace
    assert set(np.unique(np.round(inplace.numpy() / (x + 10), 9))) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="between 0 and 1"):
        chainrule.nn.functional.dropout(t, 1.5)


# ----------------------------------------------------------------------------------- classification
def _classification_case(rng, k_dims=None):
    """Random (input shape, target shape, classes): (C,), (N, C) or (N, C, d1, ...)."""
    kind = rng.integers(0, 3) if k_dims is None else k_dims
    classes = int(rng.integers(2, 6))
    n = int(rng.integers(1, 5))
    if kind == 0:
        return (classes,), (), classes
    if kind == 1:
        return (n, classes), (n,), classes
    extra = random_shape(rng, max_dims=2, min_dims=1, max_size=3)
    return (n, classes) + extra, (n,) + extra, classes


def _targets(rng, shape, classes, ignore_index):
    target = rng.integers(0, classes, shape)
    if ignore_index is not None and np.size(target) > 1:
        target = np.where(rng.random(shape) < 0.3, ignore_index, target)
        target.flat[0] = rng.integers(0, classes)  # at least one counted entry (else 'mean' is 0/0)
        if 0 <= ignore_index < classes and target.flat[0] == ignore_index:
            target.flat[0] = (ignore_index + 1) % classes
    return np.asarray(target, dtype=np.int64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("ignore", [None, "default", "class"])
def test_nll_loss(reduction, use_weight, ignore, fresh_rng):
    for _ in range(4):
        in_shape, t_shape, classes = _classification_case(fresh_rng)
        ignore_index = {None: -100, "default": -100, "class": int(fresh_rng.integers(0, classes))}[ignore]
        target = _targets(fresh_rng, t_shape, classes, None if ignore is None else ignore_index)
        x = normal(fresh_rng, in_shape)
        w = uniform(fresh_rng, 0.2, 2.0, classes) if use_weight else None
        compare_with_torch(lambda m, x, t: F(m).nll_loss(x, t, const(m, w), ignore_index=ignore_index,
                                                         reduction=reduction),
                           [x, target], fresh_rng, what=f"nll_loss {in_shape} {reduction} w={use_weight} ii={ignore_index}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("ignore", [None, "class"])
def test_cross_entropy_with_class_indices(reduction, use_weight, smoothing, ignore, fresh_rng):
    for _ in range(4):
        in_shape, t_shape, classes = _classification_case(fresh_rng)
        ignore_index = -100 if ignore is None else int(fresh_rng.integers(0, classes))
        target = _targets(fresh_rng, t_shape, classes, None if ignore is None else ignore_index)
        x = normal(fresh_rng, in_shape, 3)
        w = uniform(fresh_rng, 0.2, 2.0, classes) if use_weight else None
        compare_with_torch(lambda m, x, t: F(m).cross_entropy(x, t, const(m, w), ignore_index=ignore_index,
                                                              reduction=reduction, label_smoothing=smoothing),
                           [x, target], fresh_rng,
                           what=f"cross_entropy {in_shape} {reduction} w={use_weight} ls={smoothing} ii={ignore_index}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_with_class_probabilities(reduction, use_weight, smoothing, fresh_rng):
    for _ in range(4):
        in_shape, _, classes = _classification_case(fresh_rng)
        x = normal(fresh_rng, in_shape, 2)
        logits = normal(fresh_rng, in_shape)
        probs = np.exp(logits) / np.exp(logits).sum(axis=0 if len(in_shape) == 1 else 1, keepdims=True)
        w = uniform(fresh_rng, 0.2, 2.0, classes) if use_weight else None
        compare_with_torch(lambda m, x, p: F(m).cross_entropy(x, p, const(m, w), reduction=reduction,
                                                              label_smoothing=smoothing),
                           [x, probs], fresh_rng, what=f"cross_entropy probs {in_shape} {reduction} ls={smoothing}")


def test_cross_entropy_float32_and_extreme_logits(fresh_rng):
    x = (normal(fresh_rng, (4, 5)) * 300).astype(np.float32)
    t = fresh_rng.integers(0, 5, 4)
    compare_with_torch(lambda m, x, t: F(m).cross_entropy(x, t), [x, t], fresh_rng, rtol=1e-5, atol=1e-5,
                       what="cross_entropy float32 extreme")


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = np.zeros((2, 3)), np.array([-100, -100])
    ours = chainrule.nn.functional.cross_entropy(chainrule.tensor(x), chainrule.tensor(t))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())


def test_legacy_size_average_and_reduce(fresh_rng):
    x, t = normal(fresh_rng, (4, 3)), fresh_rng.integers(0, 3, 4)
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        def fn(m, x, t):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return F(m).nll_loss(x, t, size_average=size_average, reduce=reduce)
        compare_with_torch(fn, [x, t], fresh_rng, what=f"nll_loss size_average={size_average} reduce={reduce}")


def test_classification_errors():
    F_ = chainrule.nn.functional
    x = chainrule.randn(3, 4, requires_grad=True)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F_.nll_loss(x, chainrule.tensor([0, 1, 7]))
    with pytest.raises(TypeError, match="Long"):
        F_.nll_loss(x, chainrule.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        F_.cross_entropy(x, chainrule.tensor([0, 1]))
    with pytest.raises(ValueError, match="weight tensor should be defined"):
        F_.cross_entropy(x, chainrule.tensor([0, 1, 2]), weight=chainrule.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F_.cross_entropy(x, chainrule.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="input's shape"):
        F_.cross_entropy(x, chainrule.rand(3, 5))
    with pytest.raises(ValueError, match="ignore_index"):
        F_.cross_entropy(x, chainrule.rand(3, 4), ignore_index=1)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F_.cross_entropy(x, chainrule.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(RuntimeError, match="weight"):
        F_.nll_loss(x, chainrule.tensor([0, 1, 2]), weight=chainrule.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match=r"target of shape \[2, 5\]"):
        F_.nll_loss(chainrule.randn(2, 3, 5), chainrule.tensor([[0, 1, 2, 0], [1, 1, 1, 1]]))


def test_nll_and_cross_entropy_node_names():
    x = chainrule.randn(3, 4, requires_grad=True)
    t = chainrule.tensor([0, 1, 2])
    assert type(chainrule.nn.functional.nll_loss(x, t).grad_fn).__name__ == "NllLossBackward0"
    assert type(chainrule.nn.functional.cross_entropy(x, t).grad_fn).__name__ == "NllLossBackward0"


# ----------------------------------------------------------------------------------- regression losses
POINTWISE = {
    "mse_loss": lambda m, x, t, r: F(m).mse_loss(x, t, reduction=r),
    "l1_loss": lambda m, x, t, r: F(m).l1_loss(x, t, reduction=r),
    "smooth_l1_loss": lambda m, x, t, r: F(m).smooth_l1_loss(x, t, reduction=r),
    "smooth_l1_loss_beta0.5": lambda m, x, t, r: F(m).smooth_l1_loss(x, t, reduction=r, beta=0.5),
    "smooth_l1_loss_beta0": lambda m, x, t, r: F(m).smooth_l1_loss(x, t, reduction=r, beta=0.0),
    "huber_loss": lambda m, x, t, r: F(m).huber_loss(x, t, reduction=r),
    "huber_loss_delta2": lambda m, x, t, r: F(m).huber_loss(x, t, reduction=r, delta=2.0),
    "huber_loss_delta0.3": lambda m, x, t, r: F(m).huber_loss(x, t, reduction=r, delta=0.3),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_losses(name, reduction, fresh_rng):
    for _ in range(4):
        shape = random_shape(fresh_rng)
        x, t = normal(fresh_rng, shape, 2), normal(fresh_rng, shape, 2)
        compare_with_torch(lambda m, x, t: POINTWISE[name](m, x, t, reduction), [x, t], fresh_rng,
                           what=f"{name} {shape} {reduction}")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_pointwise_losses_with_weight(name, fresh_rng):
    shape = random_shape(fresh_rng, min_dims=1)
    x, t, w = normal(fresh_rng, shape), normal(fresh_rng, shape), uniform(fresh_rng, 0, 2, shape)
    for reduction in REDUCTIONS:
        compare_with_torch(lambda m, x, t, w: getattr(F(m), name)(x, t, reduction=reduction, weight=w), [x, t, w],
                           fresh_rng, what=f"{name} weight {reduction}")


def test_pointwise_losses_broadcast_with_a_warning(fresh_rng):
    a_shape, b_shape = (3, 4), (4,)
    x, t = normal(fresh_rng, a_shape), normal(fresh_rng, b_shape)
    with pytest.warns(UserWarning, match="different to the input size"):
        ours = chainrule.nn.functional.mse_loss(chainrule.tensor(x), chainrule.tensor(t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    with pytest.raises(ValueError, match="broadcast"):
        chainrule.nn.functional.l1_loss(chainrule.randn(3, 4), chainrule.randn(3))


def test_pointwise_loss_errors():
    F_ = chainrule.nn.functional
    x = chainrule.randn(3)
    with pytest.raises(ValueError, match="beta"):
        F_.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="delta"):
        F_.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F_.mse_loss(x, x, reduction="foo")


# --------------------------------------------------------------------------------- binary losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_binary_cross_entropy(reduction, use_weight, fresh_rng):
    for _ in range(4):
        shape = random_shape(fresh_rng, min_dims=1)
        p, t = uniform(fresh_rng, 0.02, 0.98, shape), uniform(fresh_rng, 0, 1, shape)
        w = uniform(fresh_rng, 0.2, 2.0, shape[-1:]) if use_weight else None
        compare_with_torch(lambda m, p, t: F(m).binary_cross_entropy(p, t, const(m, w), reduction=reduction), [p, t],
                           fresh_rng, what=f"binary_cross_entropy {shape} {reduction} w={use_weight}")


def test_binary_cross_entropy_at_zero_and_one(fresh_rng):
    """Saturated probabilities (sigmoid in float32 gives exact 0 and 1): the loss is clamped at 100 and the
    input's gradient stays finite, as in PyTorch."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0])
    for dtype in (np.float64, np.float32):
        compare_with_torch(lambda m, p: F(m).binary_cross_entropy(p, const(m, t.astype(dtype)), reduction="none"),
                           [p.astype(dtype)], fresh_rng, rtol=1e-5, atol=1e-5, what=f"bce edges {dtype}")
    # The target's gradient is the derivative of the clamped loss: finite (PyTorch's is +-inf here).
    target = chainrule.tensor(t, requires_grad=True)
    chainrule.nn.functional.binary_cross_entropy(chainrule.tensor(p), target, reduction="sum").backward()
    with np.errstate(divide="ignore"):
        expected = np.maximum(np.log1p(-p), -100) - np.maximum(np.log(p), -100)
    np.testing.assert_allclose(target.grad.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("use_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(reduction, use_weight, use_pos_weight, fresh_rng):
    for _ in range(4):
        shape = random_shape(fresh_rng, min_dims=1)
        x, t = normal(fresh_rng, shape, 4), uniform(fresh_rng, 0, 1, shape)
        w = uniform(fresh_rng, 0.2, 2.0, shape) if use_weight else None
        pw = uniform(fresh_rng, 0.5, 3.0, shape[-1:]) if use_pos_weight else None
        compare_with_torch(lambda m, x, t: F(m).binary_cross_entropy_with_logits(
            x, t, const(m, w), reduction=reduction, pos_weight=const(m, pw)), [x, t], fresh_rng,
            what=f"bce_with_logits {shape} {reduction} w={use_weight} pw={use_pos_weight}")


def test_binary_cross_entropy_with_logits_is_stable(fresh_rng):
    x = np.array([-1000.0, -50.0, -1.0, 0.0, 2.0, 50.0, 1000.0])
    t = uniform(fresh_rng, 0, 1, x.shape)
    pw = np.full(x.shape, 2.5)
    for dtype in (np.float64, np.float32):
        compare_with_torch(lambda m, x, t: F(m).binary_cross_entropy_with_logits(
            x, t, pos_weight=const(m, pw.astype(dtype)), reduction="none"), [x.astype(dtype), t.astype(dtype)],
            fresh_rng, rtol=1e-5, atol=1e-5, what=f"bce_with_logits extremes {dtype}")


def test_binary_loss_errors():
    F_ = chainrule.nn.functional
    with pytest.raises(ValueError, match="same size"):
        F_.binary_cross_entropy(chainrule.rand(3), chainrule.rand(4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F_.binary_cross_entropy(chainrule.tensor([1.5]), chainrule.rand(1))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F_.binary_cross_entropy_with_logits(chainrule.randn(3), chainrule.rand(2))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, fresh_rng):
    for _ in range(4):
        shape = random_shape(fresh_rng, min_dims=1)
        logq = np.log(uniform(fresh_rng, 0.05, 1, shape))
        p = uniform(fresh_rng, 0.0, 1, shape)
        if not log_target:
            p[fresh_rng.random(shape) < 0.2] = 0.0  # zero targets contribute 0
        target = np.log(p + 0.05) if log_target else p

        def fn(m, q, t):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return F(m).kl_div(q, t, reduction=reduction, log_target=log_target)
        compare_with_torch(fn, [logq, target], fresh_rng, grad=log_target or not (p == 0).any(),
                           what=f"kl_div {shape} {reduction} log_target={log_target}")
        # PyTorch's target gradient is nan at target 0; compare only the input's gradient there
        compare_with_torch(lambda m, q: fn(m, q, const(m, target)), [logq], fresh_rng, what="kl_div input grad")
    with pytest.warns(UserWarning, match="batchmean"):
        chainrule.nn.functional.kl_div(chainrule.randn(3), chainrule.rand(3))


def test_cosine_similarity(fresh_rng):
    for _ in range(5):
        a_shape, b_shape = broadcastable_shapes(fresh_rng)
        ndim = max(len(a_shape), len(b_shape))
        if ndim == 0:
            continue
        dim = int(fresh_rng.integers(-ndim, ndim))
        a, b = normal(fresh_rng, a_shape), normal(fresh_rng, b_shape)
        compare_with_torch(lambda m, a, b: F(m).cosine_similarity(a, b, dim=dim), [a, b], fresh_rng,
                           what=f"cosine_similarity {a_shape} {b_shape} dim={dim}")
    a, b = normal(fresh_rng, (3, 4)), normal(fresh_rng, (3, 4))
    compare_with_torch(lambda m, a, b: F(m).cosine_similarity(a, b), [a, b], fresh_rng, what="cosine default dim")
    a[1] = 0.0  # a zero vector: its norm is clamped to eps, the gradient stays finite
    compare_with_torch(lambda m, a, b: F(m).cosine_similarity(a, b, 1, 1e-3), [a * 1e-4, b], fresh_rng,
                       what="cosine eps")
    compare_with_torch(lambda m, a, b: F(m).cosine_similarity(a, b), [a, b], fresh_rng, what="cosine zero vector")
    with pytest.raises(IndexError):
        chainrule.nn.functional.cosine_similarity(chainrule.randn(3, 4), chainrule.randn(3, 4), dim=2)


# ---------------------------------------------------------------------------------- normalisation
def _norm_case(rng):
    n, c = int(rng.integers(2, 5)), int(rng.integers(1, 5))
    return (n, c) + random_shape(rng, max_dims=2, min_dims=0, max_size=4)


@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_training_updates_running_stats(affine, fresh_rng):
    for _ in range(4):
        shape = _norm_case(fresh_rng)
        c = shape[1]
        x = normal(fresh_rng, shape, 2) + 1.0
        w, b = normal(fresh_rng, c), normal(fresh_rng, c)
        momentum = float(fresh_rng.uniform(0.05, 0.5))
        stats = {}

        def fn(m, x, *wb):
            mean, var = m.tensor(np.full(c, 0.3)), m.tensor(np.full(c, 1.7))
            out = F(m).batch_norm(x, mean, var, *wb, training=True, momentum=momentum, eps=1e-4)
            stats[m.__name__] = (mean.numpy().copy(), var.numpy().copy())
            return out
        compare_with_torch(fn, [x, w, b] if affine else [x], fresh_rng, what=f"batch_norm train {shape}")
        for ours, theirs in zip(stats["chainrule"], stats["torch"]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, err_msg="running statistics differ from PyTorch")
        compare_with_torch(lambda m, x: F(m).batch_norm(x, None, None, training=True), [x], fresh_rng,
                           what="batch_norm without running stats")


@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_eval(affine, fresh_rng):
    for _ in range(4):
        shape = _norm_case(fresh_rng)
        c = shape[1]
        x = normal(fresh_rng, shape)
        mean, var = normal(fresh_rng, c), uniform(fresh_rng, 0.5, 2, c)
        w, b = normal(fresh_rng, c), normal(fresh_rng, c)
        compare_with_torch(lambda m, x, *wb: F(m).batch_norm(x, const(m, mean), const(m, var), *wb, training=False),
                           [x, w, b] if affine else [x], fresh_rng, what=f"batch_norm eval {shape}")


def test_batch_norm_float32(fresh_rng):
    x = normal(fresh_rng, (8, 3, 5)).astype(np.float32)
    w, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    compare_with_torch(lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True), [x, w, b], fresh_rng,
                       rtol=1e-4, atol=1e-5, what="batch_norm float32")


@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_layer_norm(affine, fresh_rng):
    for _ in range(5):
        shape = random_shape(fresh_rng, min_dims=1, max_dims=4, max_size=4)
        k = int(fresh_rng.integers(1, len(shape) + 1))
        normalized = shape[len(shape) - k:]
        if np.prod(normalized) == 1:
            continue
        x = normal(fresh_rng, shape, 3)
        w, b = normal(fresh_rng, normalized), normal(fresh_rng, normalized)
        inputs = {"none": [x], "weight": [x, w], "both": [x, w, b]}[affine]
        compare_with_torch(lambda m, x, *wb: F(m).layer_norm(x, list(normalized), *wb, eps=1e-4), inputs, fresh_rng,
                           what=f"layer_norm {shape} {normalized} {affine}")


def test_group_norm(fresh_rng):
    for _ in range(5):
        n, groups, per = (int(s) for s in fresh_rng.integers(1, 4, 3))
        spatial = random_shape(fresh_rng, max_dims=2, max_size=3)
        if per * int(np.prod(spatial)) == 1:
            per = 2
        shape = (n, groups * per) + spatial
        x = normal(fresh_rng, shape)
        w, b = normal(fresh_rng, groups * per), normal(fresh_rng, groups * per)
        compare_with_torch(lambda m, x, w, b: F(m).group_norm(x, groups, w, b), [x, w, b], fresh_rng,
                           what=f"group_norm {shape} groups={groups}")
        compare_with_torch(lambda m, x: F(m).group_norm(x, groups, eps=1e-3), [x], fresh_rng, what="group_norm plain")


@pytest.mark.parametrize("running", [False, True])
def test_instance_norm(running, fresh_rng):
    for _ in range(4):
        n, c = (int(s) for s in fresh_rng.integers(1, 4, 2))
        shape = (n, c) + random_shape(fresh_rng, min_dims=1, max_dims=2, max_size=4)
        if np.prod(shape[2:]) == 1:
            shape = shape + (3,)
        x = normal(fresh_rng, shape)
        w, b = normal(fresh_rng, c), normal(fresh_rng, c)
        stats = {}

        def fn(m, x, w, b):
            mean, var = (m.tensor(np.full(c, 0.5)), m.tensor(np.full(c, 2.0))) if running else (None, None)
            out = F(m).instance_norm(x, mean, var, w, b, momentum=0.2)
            stats[m.__name__] = None if mean is None else (mean.numpy().copy(), var.numpy().copy())
            return out
        compare_with_torch(fn, [x, w, b], fresh_rng, what=f"instance_norm {shape} running={running}")
        if running:
            for ours, theirs in zip(stats["chainrule"], stats["torch"]):
                np.testing.assert_allclose(ours, theirs, rtol=1e-10, err_msg="instance_norm running statistics")
        mean, var = normal(fresh_rng, c), uniform(fresh_rng, 0.5, 2, c)
        compare_with_torch(lambda m, x: F(m).instance_norm(x, const(m, mean), const(m, var), use_input_stats=False),
                           [x], fresh_rng, what="instance_norm with running statistics")


def test_normalisation_node_names():
    x = chainrule.randn(4, 3, requires_grad=True)
    assert type(chainrule.nn.functional.batch_norm(x, None, None, training=True).grad_fn).__name__ == \
        "NativeBatchNormBackward0"
    assert type(chainrule.nn.functional.layer_norm(x, (3,)).grad_fn).__name__ == "NativeLayerNormBackward0"


def test_normalisation_errors():
    F_ = chainrule.nn.functional
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F_.batch_norm(chainrule.randn(1, 4), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean"):
        F_.batch_norm(chainrule.randn(3, 4), None, None, training=False)
    with pytest.raises(ValueError, match=r"weight of shape \[4\]"):
        F_.batch_norm(chainrule.randn(3, 4), None, None, chainrule.ones(3), training=True)
    with pytest.raises(TypeError, match="momentum"):
        F_.batch_norm(chainrule.randn(3, 4), chainrule.zeros(4), chainrule.ones(4), training=True, momentum=None)
    with pytest.raises(ValueError, match="normalized_shape"):
        F_.layer_norm(chainrule.randn(3, 4), (5,))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        F_.group_norm(chainrule.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="at least 2 dims"):
        F_.instance_norm(chainrule.randn(4))


# -------------------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("padding", [False, True])
def test_embedding(padding, fresh_rng):
    for _ in range(5):
        num, dim = int(fresh_rng.integers(2, 8)), int(fresh_rng.integers(1, 5))
        index = fresh_rng.integers(0, num, random_shape(fresh_rng, max_size=6))
        padding_idx = int(fresh_rng.integers(-num, num)) if padding else None
        weight = normal(fresh_rng, (num, dim))
        compare_with_torch(lambda m, i, w: F(m).embedding(i, w, padding_idx=padding_idx), [index, weight], fresh_rng,
                           what=f"embedding {index.shape} num={num} padding_idx={padding_idx}")


def test_embedding_many_repeats_and_double_backward(fresh_rng):
    index = fresh_rng.integers(0, 10, (50, 7))
    weight = normal(fresh_rng, (10, 3))
    compare_with_torch(lambda m, i, w: F(m).embedding(i, w, padding_idx=3), [index, weight], fresh_rng,
                       what="embedding repeats")
    # second order: d/d upstream of the weight gradient is a (masked) lookup again
    w = chainrule.tensor(weight, requires_grad=True)
    tw = torch.tensor(weight, requires_grad=True)
    u = normal(fresh_rng, (50, 7, 3))
    cu, tu = chainrule.tensor(u, requires_grad=True), torch.tensor(u, requires_grad=True)
    (gw,) = chainrule.autograd.grad(chainrule.nn.functional.embedding(chainrule.tensor(index), w, padding_idx=3),
                                    [w], cu, create_graph=True)
    (tgw,) = torch.autograd.grad(torch.nn.functional.embedding(torch.tensor(index), tw, padding_idx=3), [tw], tu,
                                 create_graph=True)
    v = normal(fresh_rng, (10, 3))
    (gu,) = chainrule.autograd.grad((gw * chainrule.tensor(v)).sum(), [cu])
    (tgu,) = torch.autograd.grad((tgw * torch.tensor(v)).sum(), [tu])
    np.testing.assert_allclose(gu.numpy(), tgu.numpy(), rtol=1e-12)


def test_embedding_errors():
    F_ = chainrule.nn.functional
    w = chainrule.randn(3, 2)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        F_.embedding(chainrule.tensor([1, 5]), w)
    with pytest.raises(TypeError, match="integer"):
        F_.embedding(chainrule.tensor([1.0]), w)
    with pytest.raises(ValueError, match="Padding_idx"):
        F_.embedding(chainrule.tensor([1]), w, padding_idx=3)
    with pytest.raises(NotImplementedError, match="max_norm"):
        F_.embedding(chainrule.tensor([1]), w, max_norm=1.0)


# ---------------------------------------------------------------------------------- second order
def test_second_order_through_losses_matches_torch(fresh_rng):
    """Hessian-vector products of the composites (via the primitives' differentiable rules)."""
    x = normal(fresh_rng, (4, 5))
    t = fresh_rng.integers(0, 5, 4)
    v = normal(fresh_rng, (4, 5))
    losses = {
        "cross_entropy_ls": lambda m, x: F(m).cross_entropy(x, m.tensor(t), label_smoothing=0.2),
        "bce_logits": lambda m, x: F(m).binary_cross_entropy_with_logits(x, m.tensor(np.abs(v) / 3)),
        "layer_norm": lambda m, x: (F(m).layer_norm(x, (5,)) ** 3).sum(),
        "batch_norm": lambda m, x: (F(m).batch_norm(x, None, None, training=True) ** 3).sum(),
        "softmax": lambda m, x: (F(m).softmax(x, 1) ** 2).sum(),
        "gelu_tanh": lambda m, x: F(m).gelu(x, approximate="tanh").sum(),
        "mish": lambda m, x: F(m).mish(x).sum(),
    }
    for name, loss in losses.items():
        results = []
        for m in (chainrule, torch):
            xt = m.tensor(x, requires_grad=True)
            (g,) = m.autograd.grad(loss(m, xt), [xt], create_graph=True)
            (h,) = m.autograd.grad((g * m.tensor(v)).sum(), [xt])
            results.append(h.numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-7, atol=1e-10, err_msg=f"{name}: Hessian-vector")


def test_every_functional_name_exists_in_torch():
    from chainrule.ops import nn_ops
    for name in nn_ops.FUNCTIONAL:
        assert hasattr(torch.nn.functional, name), name
        assert getattr(chainrule.nn.functional, name) is getattr(nn_ops, name)
    for name in nn_ops.__all__:
        assert hasattr(torch, name) and hasattr(chainrule, name), name
    for name in nn_ops.TENSOR_METHODS:
        assert hasattr(torch.Tensor, name) and hasattr(chainrule.Tensor, name), name
