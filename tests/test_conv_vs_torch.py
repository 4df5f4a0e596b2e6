"""Convolution, pooling and resampling (chainrule.nn.functional) against PyTorch on random inputs with random
geometry (kernel, stride, padding, dilation, groups, ceil_mode, …), a fresh seed each run (see torch_compare.py),
plus second derivatives and the errors. The registry test checks the primitives on fixed samples."""
import numpy as np
import pytest

import chainrule
from torch_compare import compare_with_torch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'", "ignore::DeprecationWarning")

F_OURS = chainrule.nn.functional
F_TORCH = torch.nn.functional


def F(lib):
    return F_OURS if lib is chainrule else F_TORCH


def _int(rng, low, high):
    return int(rng.integers(low, high + 1))


def _conv_case(rng, dims):
    """A random convolution: (input, weight, bias or None) arrays and keyword arguments."""
    groups = _int(rng, 1, 2)
    c_in, c_out = groups * _int(rng, 1, 3), groups * _int(rng, 1, 3)
    kernel = tuple(_int(rng, 1, 3) for _ in range(dims))
    dilation = tuple(_int(rng, 1, 2) for _ in range(dims))
    kind = rng.choice(["int", "tuple", "same", "valid"])
    if kind == "same":
        stride = (1,) * dims
        padding = "same"
    else:
        stride = tuple(_int(rng, 1, 2) for _ in range(dims))
        padding = "valid" if kind == "valid" else tuple(_int(rng, 0, 2) for _ in range(dims))
    pads = padding if isinstance(padding, tuple) else (0,) * dims
    size = tuple(max(d * (k - 1) + 1 - 2 * p, 1) + _int(rng, 0, 4) for d, k, p in zip(dilation, kernel, pads))
    x = rng.standard_normal((_int(rng, 1, 3), c_in) + size)
    w = rng.standard_normal((c_out, c_in // groups) + kernel)
    b = rng.standard_normal(c_out) if rng.random() < 0.7 else None
    kwargs = dict(stride=stride if kind != "int" else stride[0], padding=padding, dilation=dilation, groups=groups)
    return x, w, b, kwargs


@pytest.mark.parametrize("dims", [1, 2])
def test_conv(dims, fresh_rng):
    name = f"conv{dims}d"
    for _ in range(8):
        x, w, b, kw = _conv_case(fresh_rng, dims)
        inputs = [x, w] + ([b] if b is not None else [])
        compare_with_torch(lambda lib, x, w, b=None: getattr(F(lib), name)(x, w, b, **kw), inputs, fresh_rng,
                           what=f"{name} x{list(x.shape)} w{list(w.shape)} {kw}")


def test_conv2d_unbatched_and_float32(fresh_rng):
    x = fresh_rng.standard_normal((3, 6, 7)).astype(np.float32)
    w = fresh_rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = fresh_rng.standard_normal(4).astype(np.float32)
    compare_with_torch(lambda lib, x, w, b: F(lib).conv2d(x, w, b, stride=(2, 1), padding=1), [x, w, b], fresh_rng,
                       rtol=1e-4, atol=1e-5, what="conv2d unbatched float32")


@pytest.mark.parametrize("dims", [1, 2])
def test_conv_transpose(dims, fresh_rng):
    name = f"conv_transpose{dims}d"
    for _ in range(8):
        groups = _int(fresh_rng, 1, 2)
        c_in, c_out_g = groups * _int(fresh_rng, 1, 3), _int(fresh_rng, 1, 3)
        kernel = tuple(_int(fresh_rng, 1, 3) for _ in range(dims))
        stride = tuple(_int(fresh_rng, 1, 3) for _ in range(dims))
        dilation = tuple(_int(fresh_rng, 1, 2) for _ in range(dims))
        output_padding = tuple(_int(fresh_rng, 0, max(s, d) - 1) for s, d in zip(stride, dilation))
        padding = tuple(_int(fresh_rng, 0, (d * (k - 1)) // 2) for d, k in zip(dilation, kernel))
        x = fresh_rng.standard_normal((_int(fresh_rng, 1, 2), c_in) + tuple(_int(fresh_rng, 1, 5) for _ in range(dims)))
        w = fresh_rng.standard_normal((c_in, c_out_g) + kernel)
        b = fresh_rng.standard_normal(c_out_g * groups)
        kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
        compare_with_torch(lambda lib, x, w, b: getattr(F(lib), name)(x, w, b, **kw), [x, w, b], fresh_rng,
                           what=f"{name} x{list(x.shape)} w{list(w.shape)} {kw}")


def test_conv2d_second_derivatives_match_torch(fresh_rng):
    """d/dw of (dL/dx) and d/dx of (dL/dw): the rules of the rules (conv_transpose, conv_weight) against PyTorch."""
    x0 = fresh_rng.standard_normal((2, 4, 6, 5))
    w0 = fresh_rng.standard_normal((6, 2, 3, 2))
    u0 = fresh_rng.standard_normal((2, 6, 3, 5))

    def second(lib):
        x = (chainrule if lib is chainrule else torch).tensor(x0, requires_grad=True)
        w = (chainrule if lib is chainrule else torch).tensor(w0, requires_grad=True)
        y = F(lib).conv2d(x, w, stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2)
        auto = chainrule.autograd if lib is chainrule else torch.autograd
        gx, gw = auto.grad((y * (chainrule if lib is chainrule else torch).tensor(u0)).sum(), (x, w), create_graph=True)
        hx, hw = auto.grad((gx ** 2).sum() + (gw.sin()).sum(), (x, w))
        return [t.detach().numpy() for t in (gx, gw, hx, hw)]

    for ours, theirs in zip(second(chainrule), second(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def _pool_geometry(rng, dims, with_dilation):
    kernel = tuple(_int(rng, 1, 3) for _ in range(dims))
    stride = tuple(_int(rng, 1, 3) for _ in range(dims)) if rng.random() < 0.7 else None
    padding = tuple(_int(rng, 0, k // 2) for k in kernel)
    dilation = tuple(_int(rng, 1, 2) for _ in range(dims)) if with_dilation else (1,) * dims
    ceil_mode = bool(rng.random() < 0.5)
    size = tuple(d * (k - 1) + 1 + _int(rng, 0, 4) for d, k in zip(dilation, kernel))
    return kernel, stride, padding, dilation, ceil_mode, size


@pytest.mark.parametrize("dims", [1, 2])
def test_max_pool(dims, fresh_rng):
    name = f"max_pool{dims}d"
    for _ in range(8):
        kernel, stride, padding, dilation, ceil_mode, size = _pool_geometry(fresh_rng, dims, True)
        x = fresh_rng.permutation(2 * 3 * int(np.prod(size))).reshape((2, 3) + size) / 7.0  # no ties
        kw = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
        compare_with_torch(lambda lib, x: getattr(F(lib), name)(x, **kw), [x], fresh_rng, what=f"{name} {size} {kw}")
        compare_with_torch(lambda lib, x: getattr(F(lib), name)(x, **kw, return_indices=True), [x], fresh_rng,
                           what=f"{name} return_indices {size} {kw}")


def test_max_pool2d_ties_nan_and_unbatched(fresh_rng):
    x = np.array([[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, np.nan, 1.0], [0.0, 0.0, 0.0, 0.0]]])
    compare_with_torch(lambda lib, x: F(lib).max_pool2d(x, 2, 1, return_indices=True), [x], fresh_rng,
                       what="max_pool2d ties and NaN (unbatched)")
    y = np.full((1, 1, 3, 3), -np.inf)
    compare_with_torch(lambda lib, x: F(lib).max_pool2d(x, 2, 2, 1, return_indices=True), [y], fresh_rng,
                       grad=False, what="max_pool2d all -inf")


@pytest.mark.parametrize("dims", [1, 2])
def test_avg_pool(dims, fresh_rng):
    name = f"avg_pool{dims}d"
    for _ in range(8):
        kernel, stride, padding, _, ceil_mode, size = _pool_geometry(fresh_rng, dims, False)
        x = fresh_rng.standard_normal((2, 3) + size)
        kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                  count_include_pad=bool(fresh_rng.random() < 0.5))
        if dims == 2 and fresh_rng.random() < 0.3:
            kw["divisor_override"] = _int(fresh_rng, 1, 5)
        compare_with_torch(lambda lib, x: getattr(F(lib), name)(x, **kw), [x], fresh_rng, what=f"{name} {size} {kw}")


@pytest.mark.parametrize("dims", [1, 2])
def test_adaptive_pools(dims, fresh_rng):
    for _ in range(6):
        size = tuple(_int(fresh_rng, 1, 9) for _ in range(dims))
        out = tuple(_int(fresh_rng, 1, 6) for _ in range(dims))
        if dims == 2 and fresh_rng.random() < 0.3:
            out = (out[0], None)
        x = fresh_rng.permutation(2 * 3 * int(np.prod(size))).reshape((2, 3) + size) / 5.0
        avg, mx = f"adaptive_avg_pool{dims}d", f"adaptive_max_pool{dims}d"
        target = out if dims == 2 else out[0]
        compare_with_torch(lambda lib, x: getattr(F(lib), avg)(x, target), [x], fresh_rng, what=f"{avg} {size} {out}")
        compare_with_torch(lambda lib, x: getattr(F(lib), mx)(x, target, return_indices=True), [x], fresh_rng,
                           what=f"{mx} {size} {out}")
        compare_with_torch(lambda lib, x: getattr(F(lib), mx)(x[0], target), [x], fresh_rng, what=f"{mx} unbatched")


def test_adaptive_avg_pool2d_global_float32(fresh_rng):
    x = fresh_rng.standard_normal((4, 5, 7, 7)).astype(np.float32)
    compare_with_torch(lambda lib, x: F(lib).adaptive_avg_pool2d(x, 1), [x], fresh_rng, rtol=1e-5, atol=1e-6)


def test_interpolate(fresh_rng):
    cases = []
    for _ in range(6):
        h, w = _int(fresh_rng, 1, 7), _int(fresh_rng, 1, 7)
        if fresh_rng.random() < 0.5:
            resize = dict(size=(_int(fresh_rng, 1, 12), _int(fresh_rng, 1, 12)))
        else:
            resize = dict(scale_factor=(float(fresh_rng.choice([0.5, 1.5, 2.0, 3.0, 0.7])),
                                        float(fresh_rng.choice([1.0, 2.0, 2.5, 1.3]))))
            if fresh_rng.random() < 0.3:
                resize["recompute_scale_factor"] = True
        for mode, extra in (("nearest", {}), ("nearest-exact", {}), ("area", {}),
                            ("bilinear", {"align_corners": False}), ("bilinear", {"align_corners": True})):
            cases.append(((2, 3, h, w), dict(resize, mode=mode, **extra)))
        cases.append(((2, 3, w), dict(size=_int(fresh_rng, 1, 12), mode="linear", align_corners=bool(h % 2))))
        cases.append(((2, 3, w), dict(scale_factor=2.0, mode="nearest")))
    for shape, kw in cases:
        x = fresh_rng.standard_normal(shape)
        try:
            empty = 0 in F_TORCH.interpolate(torch.zeros(shape), **kw).shape
        except RuntimeError:
            empty = True
        if empty:  # a scale that rounds a size down to 0: an error (PyTorch's 'area' returns an empty tensor)
            with pytest.raises(ValueError, match="output size"):
                F_OURS.interpolate(chainrule.zeros(shape), **kw)
            continue
        compare_with_torch(lambda lib, x: F(lib).interpolate(x, **kw), [x], fresh_rng, what=f"interpolate {shape} {kw}")


def test_interpolate_float32_upsampling(fresh_rng):
    x = fresh_rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    for kw in (dict(scale_factor=2, mode="nearest"), dict(size=(7, 13), mode="nearest"),
               dict(scale_factor=2, mode="bilinear", align_corners=False), dict(size=(9, 4), mode="bilinear")):
        compare_with_torch(lambda lib, x: F(lib).interpolate(x, **kw), [x], fresh_rng, rtol=1e-5, atol=1e-6,
                           what=f"interpolate float32 {kw}")


def test_unfold_and_fold(fresh_rng):
    for _ in range(6):
        kernel = (_int(fresh_rng, 1, 3), _int(fresh_rng, 1, 3))
        dilation, stride = (_int(fresh_rng, 1, 2), _int(fresh_rng, 1, 2)), (_int(fresh_rng, 1, 2), _int(fresh_rng, 1, 2))
        padding = (_int(fresh_rng, 0, 1), _int(fresh_rng, 0, 1))
        size = tuple(d * (k - 1) + 1 + _int(fresh_rng, 0, 3) for d, k in zip(dilation, kernel))
        kw = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
        x = fresh_rng.standard_normal((2, 3) + size)
        compare_with_torch(lambda lib, x: F(lib).unfold(x, **kw), [x], fresh_rng, what=f"unfold {size} {kw}")
        cols = F_TORCH.unfold(torch.zeros((2, 3) + size), **kw).shape
        c = fresh_rng.standard_normal(tuple(cols))
        compare_with_torch(lambda lib, c: F(lib).fold(c, size, **kw), [c], fresh_rng, what=f"fold {size} {kw}")
        compare_with_torch(lambda lib, c: F(lib).fold(c[0], size, **kw), [c], fresh_rng, what="fold unbatched")
    x = fresh_rng.standard_normal((3, 4, 5))
    compare_with_torch(lambda lib, x: F(lib).unfold(x, 2, padding=1), [x], fresh_rng, what="unfold unbatched, int args")


def test_pixel_shuffle_and_unshuffle(fresh_rng):
    for shape, r in (((2, 8, 3, 4), 2), ((18, 2, 3), 3), ((2, 1, 4, 1, 2), 1), ((3, 2, 4, 2, 2), 2)):
        x = fresh_rng.standard_normal(shape)
        compare_with_torch(lambda lib, x: F(lib).pixel_shuffle(x, r), [x], fresh_rng, what=f"pixel_shuffle {shape}")
        up = tuple(F_TORCH.pixel_shuffle(torch.zeros(shape), r).shape)
        y = fresh_rng.standard_normal(up)
        compare_with_torch(lambda lib, y: F(lib).pixel_unshuffle(y, r), [y], fresh_rng, what=f"pixel_unshuffle {up}")
    x = fresh_rng.standard_normal((2, 8, 3, 4))
    compare_with_torch(lambda lib, x: lib.pixel_shuffle(x, 2), [x], fresh_rng, what="chainrule.pixel_shuffle")


def test_top_level_names_match_torch(fresh_rng):
    x, w = fresh_rng.standard_normal((2, 3, 6, 6)), fresh_rng.standard_normal((4, 3, 3, 3))
    compare_with_torch(lambda lib, x, w: lib.conv2d(x, w, padding=1), [x, w], fresh_rng, what="chainrule.conv2d")
    compare_with_torch(lambda lib, x: lib.max_pool2d(x, 2), [x], fresh_rng, what="chainrule.max_pool2d")
    compare_with_torch(lambda lib, x: lib.avg_pool1d(x[0], 2), [x], fresh_rng, what="chainrule.avg_pool1d")


def test_grad_fn_names():
    x = chainrule.randn(1, 2, 4, 4, requires_grad=True)
    w = chainrule.randn(3, 2, 3, 3, requires_grad=True)
    assert type(F_OURS.conv2d(x, w).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(F_OURS.max_pool2d(x, 2).grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
    assert type(F_OURS.avg_pool2d(x, 2).grad_fn).__name__ == "AvgPool2DBackward0"
    assert type(F_OURS.unfold(x, 2).grad_fn).__name__ == "Im2ColBackward0"


def test_forward_rules_of_conv_match_torch_jvp():
    """The JVP rules (conv is bilinear: t_x * w + x * t_w) against torch.func.jvp (what forward mode calls)."""
    from chainrule.ops import REGISTRY
    rng = np.random.default_rng(0)
    x0, tx, w0, tw = (rng.standard_normal(s) for s in ((2, 4, 6, 5), (2, 4, 6, 5), (6, 2, 3, 2), (6, 2, 3, 2)))
    kw = dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2)
    y = F_OURS.conv2d(chainrule.tensor(x0), chainrule.tensor(w0), **kw)
    op = REGISTRY["conv"]
    params = dict(kw, size=tuple(y.shape[2:]))
    inputs = (chainrule.tensor(x0), chainrule.tensor(w0), None, None)  # x, w, bias, cols (im2col kept)
    ours = (op.jvp_rule(0)(chainrule.tensor(tx), y, *inputs, **params)
            + op.jvp_rule(1)(chainrule.tensor(tw), y, *inputs, **params))
    _, expected = torch.func.jvp(lambda x, w: F_TORCH.conv2d(x, w, **kw), (torch.tensor(x0), torch.tensor(w0)),
                                 (torch.tensor(tx), torch.tensor(tw)))
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------ errors
def _t(*shape, dtype=None):
    return chainrule.zeros(*shape, dtype=dtype or chainrule.float32)


ERRORS = [
    ("conv2d 5-D input", lambda: F_OURS.conv2d(_t(1, 1, 1, 3, 3), _t(1, 1, 2, 2)), ValueError, "Expected 3D"),
    ("conv2d channels", lambda: F_OURS.conv2d(_t(1, 4, 5, 5), _t(2, 3, 3, 3)), ValueError, "to have 3 channels"),
    ("conv2d groups", lambda: F_OURS.conv2d(_t(1, 4, 5, 5), _t(3, 2, 3, 3), groups=2), ValueError, "divisible by 2"),
    ("conv2d kernel too big", lambda: F_OURS.conv2d(_t(1, 1, 2, 2), _t(1, 1, 3, 3)), ValueError, "Kernel size can't"),
    ("conv2d same strided", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=2, padding="same"),
     ValueError, "strided"),
    ("conv2d bad padding string", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), padding="full"),
     ValueError, "Invalid padding string"),
    ("conv2d negative padding", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), padding=-1),
     ValueError, "negative padding"),
    ("conv2d zero stride", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=0), ValueError, "stride"),
    ("conv2d bias shape", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(2, 1, 3, 3), _t(3)), ValueError, "bias"),
    ("conv2d int dtype", lambda: F_OURS.conv2d(_t(1, 1, 5, 5, dtype=chainrule.int64), _t(1, 1, 3, 3)), TypeError,
     "floating-point"),
    ("conv2d mixed dtype", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3, dtype=chainrule.float64)), TypeError,
     "same dtype"),
    ("conv2d stride tuple length", lambda: F_OURS.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=(1, 1, 1)), TypeError,
     "stride"),
    ("conv2d numpy input", lambda: F_OURS.conv2d(np.zeros((1, 1, 5, 5)), _t(1, 1, 3, 3)), TypeError, "must be a Tensor"),
    ("conv1d weight dims", lambda: F_OURS.conv1d(_t(1, 1, 5), _t(1, 1, 3, 3)), ValueError, "weight must be 3D"),
    ("conv_transpose2d output_padding", lambda: F_OURS.conv_transpose2d(_t(1, 1, 3, 3), _t(1, 1, 3, 3), stride=2,
                                                                      output_padding=2), ValueError, "output padding"),
    ("conv_transpose2d channels", lambda: F_OURS.conv_transpose2d(_t(1, 2, 3, 3), _t(3, 1, 3, 3)), ValueError,
     "channels"),
    ("conv_transpose2d too small", lambda: F_OURS.conv_transpose2d(_t(1, 1, 1, 1), _t(1, 1, 1, 1), padding=1),
     ValueError, "too small"),
    ("max_pool2d padding", lambda: F_OURS.max_pool2d(_t(1, 1, 5, 5), 2, padding=2), ValueError, "half of"),
    ("max_pool2d output too small", lambda: F_OURS.max_pool2d(_t(1, 1, 2, 2), 3), ValueError, "too small"),
    ("max_pool2d int", lambda: F_OURS.max_pool2d(_t(1, 1, 4, 4, dtype=chainrule.int64), 2), TypeError, "floating"),
    ("max_pool1d 4-D", lambda: F_OURS.max_pool1d(_t(1, 1, 4, 4), 2), ValueError, "Expected 2D"),
    ("avg_pool2d divisor", lambda: F_OURS.avg_pool2d(_t(1, 1, 4, 4), 2, divisor_override=0), ValueError, "divisor"),
    ("adaptive size", lambda: F_OURS.adaptive_avg_pool2d(_t(1, 1, 4, 4), (2, 2, 2)), TypeError, "output_size"),
    ("adaptive zero", lambda: F_OURS.adaptive_max_pool2d(_t(1, 1, 4, 4), 0), ValueError, "output_size"),
    ("interpolate both", lambda: F_OURS.interpolate(_t(1, 1, 4, 4), size=2, scale_factor=2), ValueError, "only one"),
    ("interpolate neither", lambda: F_OURS.interpolate(_t(1, 1, 4, 4)), ValueError, "either"),
    ("interpolate mode", lambda: F_OURS.interpolate(_t(1, 1, 4, 4), size=2, mode="bicubic"), NotImplementedError,
     "bicubic"),
    ("interpolate bilinear 3-D", lambda: F_OURS.interpolate(_t(1, 1, 4), size=2, mode="bilinear"),
     NotImplementedError, "needs 4D"),
    ("interpolate align_corners nearest", lambda: F_OURS.interpolate(_t(1, 1, 4, 4), size=2, align_corners=True),
     ValueError, "align_corners"),
    ("interpolate size length", lambda: F_OURS.interpolate(_t(1, 1, 4, 4), size=(2, 2, 2)), ValueError, "spatial"),
    ("fold blocks", lambda: F_OURS.fold(_t(1, 4, 5), (3, 3), 2), ValueError, "sliding blocks"),
    ("fold kernel product", lambda: F_OURS.fold(_t(1, 3, 4), (3, 3), 2), ValueError, "divisible"),
    ("unfold too small", lambda: F_OURS.unfold(_t(1, 1, 2, 2), 3), ValueError, "no block fits"),
    ("pixel_shuffle channels", lambda: F_OURS.pixel_shuffle(_t(1, 3, 2, 2), 2), ValueError, "divisible"),
    ("pixel_unshuffle size", lambda: F_OURS.pixel_unshuffle(_t(1, 1, 3, 4), 2), ValueError, "divisible"),
    ("pixel_shuffle 2-D", lambda: F_OURS.pixel_shuffle(_t(4, 4), 2), ValueError, "at least 3"),
]


@pytest.mark.parametrize("what, call, error, words", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_problem(what, call, error, words):
    with pytest.raises(error, match=words) as info:
        call()
    assert "np." not in str(info.value) and "numpy" not in type(info.value).__module__
