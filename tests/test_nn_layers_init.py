"""chainrule.nn.init: the distributions' statistics against their formulas on large tensors, orthogonality,
gains against torch.nn.init.calculate_gain, reproducibility with manual_seed / generator=, and errors."""
import math

import numpy as np
import pytest

import chainrule
from chainrule.nn import init


def _values(t):
    return t.detach().numpy().ravel().astype(np.float64)


def _check_uniform(values, low, high):
    n = values.size
    width = high - low
    slack = 1e-6 * width  # float32 rounding of the bounds
    assert values.min() >= low - slack and values.max() <= high + slack
    assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width  # fills the interval
    assert abs(values.mean() - (low + high) / 2) < 5 * width / math.sqrt(12 * n)
    assert abs(values.var() - width ** 2 / 12) < 6 * width ** 2 / 12 * math.sqrt(0.8 / n)


def _check_normal(values, mean, std):
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(values.std() - std) < 5 * std / math.sqrt(2 * n)
    # sample kurtosis (about the sample mean and variance, so its spread is sqrt(24/n)): 3 for a normal, 1.8 uniform
    centred = values - values.mean()
    assert abs((centred ** 4).mean() / centred.var() ** 2 - 3) < 6 * math.sqrt(24 / n)


def test_uniform_and_normal_statistics():
    t = chainrule.empty(300, 400)
    assert init.uniform_(t, -2.0, 3.0) is t
    _check_uniform(_values(t), -2.0, 3.0)
    _check_uniform(_values(init.uniform_(chainrule.empty(100000, dtype=chainrule.float64))), 0.0, 1.0)
    _check_normal(_values(init.normal_(chainrule.empty(200, 500), mean=1.5, std=0.3)), 1.5, 0.3)
    assert t.dtype == chainrule.float32


@pytest.mark.parametrize("shape, fan_in, fan_out", [((300, 200), 200, 300), ((64, 16, 3, 3), 144, 576),
                                                    ((40, 30, 5), 150, 200)])
def test_xavier_and_kaiming_use_fans(shape, fan_in, fan_out):
    t = chainrule.empty(*shape)
    assert init._calculate_fan_in_and_fan_out(t) == (fan_in, fan_out)
    bound = 1.7 * math.sqrt(6.0 / (fan_in + fan_out))
    _check_uniform(_values(init.xavier_uniform_(t, gain=1.7)), -bound, bound)
    _check_normal(_values(init.xavier_normal_(t)), 0.0, math.sqrt(2.0 / (fan_in + fan_out)))
    _check_uniform(_values(init.kaiming_uniform_(t)), -math.sqrt(6 / fan_in), math.sqrt(6 / fan_in))
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + 5)) / math.sqrt(fan_in)  # a=sqrt(5): Linear/Conv default
    _check_uniform(_values(init.kaiming_uniform_(t, a=math.sqrt(5))), -bound, bound)
    _check_normal(_values(init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")), 0.0,
                  math.sqrt(2.0 / fan_out))
    _check_normal(_values(init.kaiming_normal_(t, a=0.2, mode="FAN_IN")), 0.0,
                  math.sqrt(2.0 / (1 + 0.04)) / math.sqrt(fan_in))


def test_trunc_normal_statistics():
    t = init.trunc_normal_(chainrule.empty(200000, dtype=chainrule.float64), mean=1.0, std=2.0, a=-1.0, b=2.0)
    values = _values(t)
    assert values.min() >= -1.0 and values.max() <= 2.0
    # moments of the truncated normal: alpha, beta in std units
    alpha, beta = -1.0, 0.5
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mean = 1.0 + 2.0 * (pdf(alpha) - pdf(beta)) / z
    var = 4.0 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    assert abs(values.mean() - mean) < 5 * math.sqrt(var / values.size)
    assert abs(values.var() - var) < 0.02 * var
    tail = _values(init.trunc_normal_(chainrule.empty(20000), 0.0, 1.0, 5.0, 6.0))  # far in the tail
    assert tail.min() >= 5.0 and tail.max() <= 6.0 and 5.1 < tail.mean() < 5.3


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 4, 3, 3), (20, 20)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    t = init.orthogonal_(chainrule.empty(*shape, dtype=chainrule.float64), gain=2.0)
    m = t.detach().numpy().reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-10)


def test_orthogonal_is_haar_distributed():
    """The sign fix makes the diagonal of Q unbiased: its mean over many draws is ~0 (without the fix, QR's
    convention biases it)."""
    chainrule.manual_seed(3)
    diagonals = [np.diag(init.orthogonal_(chainrule.empty(4, 4)).detach().numpy()) for _ in range(2000)]
    assert np.abs(np.mean(diagonals, axis=0)).max() < 0.05


def test_constant_zeros_ones_eye_dirac():
    t = chainrule.empty(3, 4, requires_grad=True)
    assert init.constant_(t, 0.25) is t and (t.detach().numpy() == 0.25).all()
    assert t.is_leaf and t.requires_grad and t.grad_fn is None
    assert not init.zeros_(t).detach().numpy().any()
    assert (init.ones_(t).detach().numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(t).detach().numpy(), np.eye(3, 4))
    w = init.dirac_(chainrule.empty(4, 2, 3, 3))
    x = chainrule.randn(1, 2, 5, 5)
    y = chainrule.nn.functional.conv2d(x, w, padding=1)
    np.testing.assert_allclose(y.numpy()[0, :2], x.numpy()[0])  # channels pass through
    assert not y.numpy()[0, 2:].any()


def test_init_on_parameter_does_not_record_a_graph():
    p = chainrule.nn.Parameter(chainrule.empty(5, 5))
    for fill in (init.kaiming_uniform_, init.xavier_normal_, init.orthogonal_, init.normal_, init.trunc_normal_):
        fill(p)
        assert p.grad_fn is None and p.is_leaf and p.requires_grad
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.full((5, 5), 2.0))


def test_manual_seed_and_generator_reproduce():
    def draw(**kw):
        return [f(chainrule.empty(6, 7), **kw).detach().numpy().copy()
                for f in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_)]
    chainrule.manual_seed(42)
    first = draw()
    chainrule.manual_seed(42)
    for a, b in zip(first, draw()):
        np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    for a, b in zip(draw(generator=g1), draw(generator=g2)):
        np.testing.assert_array_equal(a, b)
    chainrule.manual_seed(42)
    before = chainrule.rand(3).numpy()
    chainrule.manual_seed(42)
    draw(generator=np.random.default_rng(0))  # a separate generator leaves the default stream alone
    np.testing.assert_array_equal(chainrule.rand(3).numpy(), before)


def test_manual_seed_makes_layers_reproducible():
    chainrule.manual_seed(5)
    a = chainrule.nn.Linear(4, 3).weight.detach().numpy().copy()
    chainrule.manual_seed(5)
    np.testing.assert_array_equal(chainrule.nn.Linear(4, 3).weight.detach().numpy(), a)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
             ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)]
    for name, param in cases:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), 1e-15)


def test_errors():
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dim"):
        init.xavier_uniform_(chainrule.empty(5))
    with pytest.raises(ValueError, match="Fan in and fan out"):
        init.kaiming_normal_(chainrule.empty(5))
    with pytest.raises(ValueError, match="Mode fan_middle not supported, please use one of"):
        init.kaiming_uniform_(chainrule.empty(3, 3), mode="fan_middle")
    with pytest.raises(ValueError, match="Unsupported nonlinearity softmax"):
        init.calculate_gain("softmax")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(chainrule.empty(4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(chainrule.empty(2, 2, 2))
    with pytest.raises(TypeError, match="normal_.*floating"):
        init.normal_(chainrule.zeros(3, dtype=chainrule.int64))
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(chainrule.empty(0, 3))
