"""Ops declared ``raw=True`` promise that their VJP rules give the same result on NumPy arrays as on
Tensors (the engine runs them on arrays when the backward pass builds no graph). Check the promise for
every such op and sample, and check that backward() in both engine modes agrees."""
import numpy as np
import pytest

import chainrule
from chainrule.ops import REGISTRY
from chainrule.ops._registry import make_sample_inputs
from chainrule._tensor import Tensor, make_tensor

RAW_CASES = [(op, i, sample) for op in REGISTRY.values() if op.raw for i, sample in enumerate(op.samples)]


def test_elementwise_ops_are_raw_safe():
    # The hot-path ops must stay raw-safe, or backward() silently slows down.
    for name in ("add", "sub", "mul", "div", "neg", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu"):
        assert REGISTRY[name].raw, name


@pytest.mark.parametrize("op,index,sample", RAW_CASES, ids=[f"{op.name}-sample{i}" for op, i, _ in RAW_CASES])
def test_rules_agree_on_arrays_and_tensors(op, index, sample):
    rng = np.random.default_rng(index)
    inputs = make_sample_inputs(sample, rng)
    with chainrule.no_grad():
        out = op(*inputs, **sample.params)
        g = make_tensor(rng.standard_normal(out.shape))
        for position, rule in enumerate(op.vjps):
            if rule is None or not isinstance(inputs[position], Tensor):
                continue
            on_tensors = rule(g, out, *inputs, **sample.params)
            arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
            on_arrays = rule(g._data, out._data, *arrays, **sample.params)
            assert not isinstance(on_arrays, Tensor), f"{op.name}: rule for input {position} built a Tensor from arrays"
            np.testing.assert_allclose(np.asarray(on_arrays), on_tensors._data, rtol=1e-12, atol=0,
                                       err_msg=f"{op.name} sample {index}: raw and Tensor rules differ for input {position}")


def test_backward_with_and_without_create_graph_agree():
    # create_graph=True runs every rule on Tensors; False runs raw-safe rules on arrays.
    x = chainrule.tensor([0.3, -1.2, 2.0], dtype=chainrule.float64, requires_grad=True)
    w = chainrule.tensor([[1.5], [0.5]], dtype=chainrule.float64, requires_grad=True)

    def f():
        y = (x * w).tanh() + x.sin() * 2 - (x / 3).exp()
        return (y.relu() ** 2).sigmoid().sum() + y.abs().max()

    raw = chainrule.autograd.grad(f(), (x, w))
    graph = chainrule.autograd.grad(f(), (x, w), create_graph=True)
    for a, b in zip(raw, graph):
        np.testing.assert_allclose(a._data, b._data, rtol=1e-12)
