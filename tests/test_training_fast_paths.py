"""The fast paths added for training speed give PyTorch's results: conv2d in both im2col layouts (chosen by
shape), the one-node linear, batch_norm's fused backward (equal to its differentiable composite), and max
pooling's branch-free argmax (ties and -inf handled as PyTorch's scan)."""
import numpy as np
import pytest

import chainrule
from chainrule.ops.conv import _weight_major

F = chainrule.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _both(rng, *shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    return ([chainrule.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, groups, layout", [
    ((4, 16, 10, 10), (8, 16, 3, 3), 1, 1, 1, "channels-last"),   # many positions, >= 8 channels
    ((4, 16, 9, 9), (8, 16, 3, 3), 2, 1, 1, "channels-last"),     # strided: col2im in the input gradient
    ((3, 16, 8, 8), (8, 8, 3, 3), 1, 1, 2, "channels-last"),      # groups
    ((1, 16, 3, 3), (32, 16, 3, 3), 1, 1, 1, "weight-major"),     # fewer positions than output channels
    ((2, 16, 4, 4), (32, 16, 3, 3), 2, 1, 1, "weight-major"),
    ((2, 16, 4, 4), (32, 8, 1, 1), 2, 0, 2, "weight-major"),
    ((2, 3, 12, 12), (8, 3, 7, 7), 2, 3, 1, "weight-major"),      # few input channels (ResNet's conv1)
])
def test_conv2d_layouts_equal_torch(x_shape, w_shape, stride, padding, groups, layout):
    size = tuple((n + 2 * padding - k) // stride + 1 for n, k in zip(x_shape[2:], w_shape[2:]))
    assert _weight_major(x_shape[0], x_shape[1] // groups, w_shape[0], size) == (layout == "weight-major")
    rng = np.random.default_rng(0)
    (x, w, b), (tx, tw, tb) = _both(rng, x_shape, w_shape, w_shape[:1])
    y = F.conv2d(x, w, b, stride, padding, 1, groups)
    ty = TF.conv2d(tx, tw, tb, stride, padding, 1, groups)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert y.is_contiguous()
    u = rng.standard_normal(ty.shape)
    y.backward(chainrule.tensor(u))
    ty.backward(torch.tensor(u))
    for name, ours, theirs in (("input", x, tx), ("weight", w, tw), ("bias", b, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


def test_linear_is_one_node_with_contiguous_weight_gradient():
    rng = np.random.default_rng(1)
    (x, w, b), (tx, tw, tb) = _both(rng, (2, 5, 4), (3, 4), (3,))
    y, ty = F.linear(x, w, b), TF.linear(tx, tw, tb)
    assert y.grad_fn.name() == "AddmmBackward0"
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    assert w.grad.is_contiguous()  # so that optimizer updates are contiguous passes
    mixed = F.linear(chainrule.ones(2, 4), chainrule.ones(3, 4, dtype=chainrule.float64))  # mixed dtypes: composite
    assert mixed.dtype == chainrule.float64


@pytest.mark.parametrize("shape, weight", [((4, 3, 5, 5), True), ((6, 4), True), ((3, 2, 7), False)])
def test_batch_norm_fused_backward_equals_composite_and_torch(shape, weight):
    rng = np.random.default_rng(2)
    channels = shape[1]
    (x, w, b), (tx, tw, tb) = _both(rng, shape, (channels,), (channels,))
    if not weight:
        w = tw = None
    mean, var = chainrule.zeros(channels, dtype=chainrule.float64), chainrule.ones(channels, dtype=chainrule.float64)
    y = F.batch_norm(x, mean, var, w, b, training=True)
    ty = TF.batch_norm(tx, torch.zeros(channels, dtype=torch.float64), torch.ones(channels, dtype=torch.float64),
                       tw, tb, training=True)
    u = chainrule.tensor(rng.standard_normal(shape))
    inputs = [t for t in (x, w, b) if t is not None]
    fused = chainrule.autograd.grad(y, inputs, u, retain_graph=True)           # arrays, statistics reused
    composite = chainrule.autograd.grad(y, inputs, u, create_graph=True)       # differentiable rules
    expected = torch.autograd.grad(ty, [t for t in (tx, tw, tb) if t is not None], torch.tensor(u.numpy()))
    for f, c, e in zip(fused, composite, expected):
        np.testing.assert_allclose(f.numpy(), c.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(f.numpy(), e.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mean.numpy(), tx.detach().numpy().mean(axis=tuple(i for i in range(len(shape)) if i != 1)) * 0.1)


def test_max_pool_argmax_ties_and_minus_infinity_equal_torch():
    rng = np.random.default_rng(3)
    checked = 0
    for trial in range(40):
        x = rng.integers(0, 3, (2, 3, 9, 8)).astype(np.float32)  # many ties
        if trial % 3 == 0:
            x[x == 0] = -np.inf
        k, s = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        p, d, ceil = int(rng.integers(0, k // 2 + 1)), int(rng.integers(1, 3)), bool(rng.integers(0, 2))
        try:
            expected, expected_index = TF.max_pool2d(torch.from_numpy(x), k, s, p, d, ceil, return_indices=True)
        except RuntimeError:  # a combination PyTorch refuses
            continue
        out, index = F.max_pool2d(chainrule.tensor(x), k, s, p, d, ceil, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
        np.testing.assert_array_equal(index.numpy(), expected_index.numpy(), err_msg=f"k={k} s={s} p={p} d={d}")
        size = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        _, expected_index = TF.adaptive_max_pool2d(torch.from_numpy(x), size, return_indices=True)
        _, index = F.adaptive_max_pool2d(chainrule.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(index.numpy(), expected_index.numpy(), err_msg=f"adaptive {size}")
        checked += 1
    assert checked > 20


def test_batch_norms_sharing_input_and_gradient_do_not_share_cached_sums():
    # Two batch norms of one input, one upstream gradient array for both (an add passes it on unchanged),
    # different eps, no bias (so no rule clears the per-node cache): each weight gets its own gradient.
    rng = np.random.default_rng(4)
    (x, w1, w2), (tx, tw1, tw2) = _both(rng, (5, 3, 2, 2), (3,), (3,))
    y = F.batch_norm(x, None, None, w1, None, True, 0.1, 1e-5) + F.batch_norm(x, None, None, w2, None, True, 0.1, 0.5)
    ty = TF.batch_norm(tx, None, None, tw1, None, True, 0.1, 1e-5) + TF.batch_norm(tx, None, None, tw2, None, True, 0.1, 0.5)
    u = rng.standard_normal(y.shape)
    for ours, theirs in zip(chainrule.autograd.grad(y, [w2, w1, x], chainrule.tensor(u)),
                            torch.autograd.grad(ty, [tw2, tw1, tx], torch.tensor(u))):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)
