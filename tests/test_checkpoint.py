"""chainrule.utils.checkpoint: gradients equal to the run without checkpointing (inputs and parameters),
random state replayed, checkpoint_sequential's segments, clear errors, PyTorch's numbers, and the memory saved."""
import importlib.util
import math
import pathlib

import numpy as np
import pytest

import chainrule
import chainrule.nn as nn
from chainrule._errors import GraphError
from chainrule.utils.checkpoint import auto_segments, checkpoint, checkpoint_sequential

MODES = [pytest.param(None, id="non-reentrant"), pytest.param(True, id="reentrant")]


def arr(t):
    return t.detach().numpy().copy()


def mlp(sizes, seed=0, dropout=0.0):
    chainrule.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(*layers).double()


def grads_of(model, x, run):
    """(input grad, parameter grads) after run(x).pow(2).sum().backward(), from fresh .grad."""
    model.zero_grad(set_to_none=True)
    x.grad = None
    run(x).pow(2).sum().backward()
    return [arr(x.grad)] + [arr(p.grad) for p in model.parameters()]


def assert_all_close(got, expected, tol=1e-6):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


def test_chainrule_utils_exposes_the_module_as_torch_utils_checkpoint():
    assert chainrule.utils.checkpoint.checkpoint is checkpoint
    assert chainrule.utils.checkpoint.checkpoint_sequential is checkpoint_sequential


# ------------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("use_reentrant", MODES)
def test_mlp_gradients_of_inputs_and_closure_parameters_equal_the_plain_run(use_reentrant):
    model = mlp([5, 16, 16, 3])
    x = chainrule.randn(7, 5, dtype=chainrule.float64, requires_grad=True)
    expected = grads_of(model, x, model)
    got = grads_of(model, x, lambda a: checkpoint(model, a, use_reentrant=use_reentrant))
    assert_all_close(got, expected)
    y = checkpoint(model, x, use_reentrant=use_reentrant)
    np.testing.assert_array_equal(arr(y), arr(model(x)))


def test_gradients_accumulate_into_existing_grads_as_without_checkpointing():
    model = mlp([4, 8, 2])
    x = chainrule.randn(3, 4, dtype=chainrule.float64, requires_grad=True)
    model.zero_grad(set_to_none=True)
    model(x).sum().backward()
    model(x).sum().backward()
    expected = [arr(p.grad) for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    checkpoint(model, x).sum().backward()
    checkpoint(model, x).sum().backward()
    assert_all_close([arr(p.grad) for p in model.parameters()], expected)


def test_autograd_grad_reaches_parameters_used_through_a_closure():
    model = mlp([4, 8, 3])
    x = chainrule.randn(6, 4, dtype=chainrule.float64, requires_grad=True)
    params = list(model.parameters())
    expected = chainrule.autograd.grad(model(x).pow(2).sum(), params + [x])
    model.zero_grad(set_to_none=True)
    got = chainrule.autograd.grad(checkpoint(lambda a: model(a), x).pow(2).sum(), params + [x])
    assert_all_close([arr(g) for g in got], [arr(g) for g in expected])
    assert all(p.grad is None for p in params)  # grad() leaves .grad alone, checkpointed or not
    # backward(inputs=...) fills only the tensors asked for
    checkpoint(model, x).sum().backward(inputs=[params[0]])
    assert params[0].grad is not None and params[1].grad is None and x.grad is None


def test_only_parameters_require_grad_and_inputs_do_not():
    model = mlp([4, 8, 3])
    x = chainrule.randn(6, 4, dtype=chainrule.float64)  # no requires_grad
    model.zero_grad(set_to_none=True)
    model(x).pow(2).sum().backward()
    expected = [arr(p.grad) for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    checkpoint(model, x).pow(2).sum().backward()
    assert_all_close([arr(p.grad) for p in model.parameters()], expected)


def test_reentrant_with_no_input_requiring_grad_warns_as_pytorch():
    model = mlp([4, 3])
    x = chainrule.randn(2, 4, dtype=chainrule.float64)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(model, x, use_reentrant=True)
    assert not y.requires_grad


def test_two_outputs_non_tensor_arguments_keywords_and_passthrough_values():
    chainrule.manual_seed(3)
    w = chainrule.randn(4, 4, dtype=chainrule.float64, requires_grad=True)
    x = chainrule.randn(3, 4, dtype=chainrule.float64, requires_grad=True)
    k = chainrule.tensor(0.5, dtype=chainrule.float64, requires_grad=True)  # a tensor keyword: a closure value

    def f(a, scale, power=2, *, shift=None):
        h = (a @ w).tanh() * scale
        return h.pow(power) + shift, (h * a).sum(dim=1), "label", (h > 0), a

    def loss(out):
        first, second, label, mask, same = out
        assert label == "label" and mask.dtype == chainrule.bool and not mask.requires_grad
        return first.sum() + (second * second).sum() + (same * 3).sum()

    expected = chainrule.autograd.grad(loss(f(x, 1.5, 3, shift=k)), [x, w, k])
    out = checkpoint(f, x, 1.5, 3, shift=k)
    assert out[4] is not x and out[4].requires_grad  # an input returned: a new tensor on the same memory
    got = chainrule.autograd.grad(loss(out), [x, w, k])
    assert_all_close([arr(g) for g in got], [arr(g) for g in expected])
    # an output that gets no gradient is fine
    out = checkpoint(f, x, 1.5, 3, shift=k)
    (gx,) = chainrule.autograd.grad(out[1].sum(), [x])
    (ex,) = chainrule.autograd.grad(f(x, 1.5, 3, shift=k)[1].sum(), [x])
    assert_all_close([arr(gx)], [arr(ex)])


def test_a_list_output_stays_a_list():
    x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    out = checkpoint(lambda a: [a.sin(), a.cos()], x)
    assert isinstance(out, list) and len(out) == 2
    (out[0] + out[1]).sum().backward()
    np.testing.assert_allclose(arr(x.grad), np.cos(arr(x)) - np.sin(arr(x)), atol=1e-12)


def test_a_tensor_from_the_outer_graph_used_through_a_closure():
    x = chainrule.randn(5, dtype=chainrule.float64, requires_grad=True)
    y = chainrule.randn(5, dtype=chainrule.float64, requires_grad=True)
    h = (x * y).exp()  # not an argument: reached through the closure, and it has a history of its own
    out = checkpoint(lambda a: (a * h).sin(), y)
    out.sum().backward()
    got = arr(x.grad), arr(y.grad)
    x.grad = y.grad = None
    h = (x * y).exp()
    (y * h).sin().sum().backward()
    assert_all_close(got, (arr(x.grad), arr(y.grad)))


def test_nested_checkpoints():
    w = chainrule.randn(4, 4, dtype=chainrule.float64, requires_grad=True)
    x = chainrule.randn(3, 4, dtype=chainrule.float64, requires_grad=True)
    checkpoint(lambda a: checkpoint(lambda b: (b @ w).sin(), a).exp(), x).sum().backward()
    got = arr(x.grad), arr(w.grad)
    x.grad = w.grad = None
    (x @ w).sin().exp().sum().backward()
    assert_all_close(got, (arr(x.grad), arr(w.grad)))


def test_parameter_hooks_see_the_gradient():
    model = mlp([3, 4])
    x = chainrule.randn(2, 3, dtype=chainrule.float64)
    seen = []
    model[0].weight.register_hook(lambda g: seen.append(arr(g)))
    model(x).sum().backward()
    checkpoint(model, x).sum().backward()
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], seen[0], atol=1e-12)


def test_create_graph_gives_second_derivatives_through_inputs_and_parameters():
    model = mlp([3, 5, 2])
    x = chainrule.randn(4, 3, dtype=chainrule.float64, requires_grad=True)
    w0, w1 = model[0].weight, model[2].weight

    def second(run):
        gx, gw = chainrule.autograd.grad(run(x).pow(2).sum(), [x, w0], create_graph=True)
        return [arr(g) for g in chainrule.autograd.grad((gx.pow(2).sum() + gw.pow(2).sum()), [x, w1])]

    assert_all_close(second(lambda a: checkpoint(model, a)), second(model))


def test_retain_graph_allows_a_second_backward_and_without_it_the_graph_is_freed():
    x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    y = checkpoint(lambda a: a.sin().exp(), x).sum()
    y.backward(retain_graph=True)
    first = arr(x.grad)
    y.backward()
    np.testing.assert_allclose(arr(x.grad), 2 * first)
    with pytest.raises(GraphError, match="backward through the graph a second time"):
        y.backward()


def test_under_no_grad_the_function_just_runs():
    x = chainrule.randn(3, requires_grad=True)
    with chainrule.no_grad():
        y = checkpoint(lambda a: a * 2, x)
    assert y.grad_fn is None and not y.requires_grad


# ------------------------------------------------------------------------------------------ random state
@pytest.mark.parametrize("use_reentrant", MODES)
def test_dropout_draws_the_same_mask_in_the_recomputation(use_reentrant):
    model = mlp([6, 32, 32, 2], dropout=0.5)
    x = chainrule.randn(8, 6, dtype=chainrule.float64, requires_grad=True)

    def run(fn):
        chainrule.manual_seed(123)
        grads = grads_of(model, x, fn)
        return grads, chainrule.rand(4).numpy()  # what the global generator draws next

    expected, next_draw = run(model)
    got, got_next = run(lambda a: checkpoint(model, a, use_reentrant=use_reentrant))
    assert_all_close(got, expected)
    np.testing.assert_array_equal(got_next, next_draw)  # the recomputation did not advance the generator
    different, _ = run(lambda a: checkpoint(model, a, use_reentrant=use_reentrant, preserve_rng_state=False))
    assert any(np.abs(d - e).max() > 1e-3 for d, e in zip(different, expected))


def test_preserve_rng_state_holds_when_the_generator_is_reseeded_before_backward():
    d = nn.Dropout(0.5)
    x = chainrule.randn(50, dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(5)
    y = checkpoint(d, x)
    chainrule.manual_seed(99)  # a new generator object: the recomputation still replays the forward's draws
    y.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), (arr(y) != 0) * 2.0)


# ------------------------------------------------------------------------------------------ sequential
def test_auto_segments_is_about_the_square_root():
    assert [auto_segments(n) for n in (1, 2, 3, 4, 10, 64, 100, 128)] == [1, 1, 2, 2, 3, 8, 10, 11]


@pytest.mark.parametrize("use_reentrant", MODES)
@pytest.mark.parametrize("segments", [1, 2, "auto", 6])
def test_checkpoint_sequential_gradients_equal_the_plain_run(segments, use_reentrant):
    model = mlp([4, 8, 8, 6])  # 6 modules
    x = chainrule.randn(5, 4, dtype=chainrule.float64, requires_grad=True)
    expected = grads_of(model, x, model)
    got = grads_of(model, x, lambda a: checkpoint_sequential(model, segments, a, use_reentrant=use_reentrant))
    assert_all_close(got, expected)


def test_checkpoint_sequential_takes_a_list_of_callables():
    model = mlp([3, 4, 4])
    x = chainrule.randn(2, 3, dtype=chainrule.float64, requires_grad=True)
    functions = list(model) + [lambda t: t * 2]
    expected = grads_of(model, x, lambda a: model(a) * 2)
    got = grads_of(model, x, lambda a: checkpoint_sequential(functions, 2, a))
    assert_all_close(got, expected)


def test_checkpoint_sequential_runs_the_last_segment_without_checkpointing():
    calls = []

    def layer(i):
        def f(t):
            calls.append(i)
            return t.sin()
        return f

    x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    y = checkpoint_sequential([layer(i) for i in range(5)], 2, x)  # segments [0, 1] and [2, 3, 4]
    calls.clear()
    y.sum().backward()
    assert calls == [0, 1]  # only the first segment is recomputed


# ------------------------------------------------------------------------------------------ errors
def test_errors_are_clear():
    x = chainrule.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="must be callable"):
        checkpoint(3, x)
    with pytest.raises(TypeError, match="no Tensor in it"):
        checkpoint(lambda a: 3, x)
    with pytest.raises(TypeError, match="no Tensor in it"):
        checkpoint(lambda a: (1, "a"), x, use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda a, scale: a * scale, x, use_reentrant=True, scale=2)
    for bad in (0, 4, 2.5, True, "sqrt"):
        with pytest.raises(ValueError, match="segments must be an integer from 1 to the number of functions"):
            checkpoint_sequential([chainrule.sin] * 3, bad, x)
    with pytest.raises(ValueError, match="functions is empty"):
        checkpoint_sequential([], 1, x)
    with pytest.raises(TypeError, match=r"functions\[1\] is a int"):
        checkpoint_sequential([chainrule.sin, 1], 1, x)


def test_an_input_changed_in_place_before_backward_is_reported():
    x = chainrule.randn(3, requires_grad=True)
    z = x * 1
    y = checkpoint(lambda a: a.sin(), z)
    with chainrule.no_grad():
        z.add_(1)
    with pytest.raises(GraphError, match="modified by an inplace operation.*CheckpointBackward"):
        y.sum().backward()


def test_a_function_that_computes_something_else_when_recomputed_is_reported():
    state = {"n": 3}

    def f(a):
        state["n"] += 1
        return a[: state["n"] % 2 + 1].sin()

    x = chainrule.randn(4, requires_grad=True)
    y = checkpoint(f, x)
    with pytest.raises(GraphError, match="gave a different output 0 than the forward"):
        y.sum().backward()


def test_reentrant_refuses_grad_inputs_and_create_graph_as_pytorch():
    x = chainrule.randn(3, requires_grad=True)
    with pytest.raises(GraphError, match="incompatible with .grad"):
        chainrule.autograd.grad(checkpoint(chainrule.sin, x, use_reentrant=True).sum(), [x])
    with pytest.raises(GraphError, match="incompatible with .grad"):
        checkpoint(chainrule.sin, x, use_reentrant=True).sum().backward(inputs=[x])
    with pytest.raises(GraphError, match="create_graph"):
        chainrule.autograd.grad(checkpoint(chainrule.sin, x, use_reentrant=True).sum(), [x], create_graph=True)


# ------------------------------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("use_reentrant", [False, True])
def test_the_same_gradients_as_torch_utils_checkpoint_sequential(use_reentrant):
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as tcp
    model = mlp([6, 12, 12, 12, 3])
    tmodel = torch.nn.Sequential(*[torch.nn.Linear(m.in_features, m.out_features) if isinstance(m, nn.Linear)
                                   else torch.nn.Tanh() for m in model]).double()
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.from_numpy(arr(p)))
    x_np = np.random.default_rng(0).standard_normal((5, 6))
    tx = torch.tensor(x_np, requires_grad=True)
    tcp.checkpoint_sequential(tmodel, 3, tx, use_reentrant=use_reentrant).pow(2).sum().backward()
    x = chainrule.tensor(x_np, requires_grad=True)
    got = grads_of(model, x, lambda a: checkpoint_sequential(model, 3, a, use_reentrant=use_reentrant))
    assert_all_close(got, [tx.grad.numpy()] + [tp.grad.numpy() for tp in tmodel.parameters()])


def test_the_same_gradients_as_torch_for_two_outputs_through_autograd_grad():
    torch = pytest.importorskip("torch")
    import torch.utils.checkpoint as tcp
    rng = np.random.default_rng(1)
    x_np, w_np = rng.standard_normal((5, 6)), rng.standard_normal((6, 4))
    tx, tw = torch.tensor(x_np, requires_grad=True), torch.tensor(w_np, requires_grad=True)
    ta, tb = tcp.checkpoint(lambda a: ((a @ tw).sin(), (a @ tw).cos()), tx, use_reentrant=False)
    expected = torch.autograd.grad((ta * tb.exp()).sum(), [tx, tw])
    x, w = chainrule.tensor(x_np, requires_grad=True), chainrule.tensor(w_np, requires_grad=True)
    a, b = checkpoint(lambda t: ((t @ w).sin(), (t @ w).cos()), x)
    got = chainrule.autograd.grad((a * b.exp()).sum(), [x, w])
    assert_all_close([arr(g) for g in got], [e.numpy() for e in expected])


# ------------------------------------------------------------------------------------------ memory
def _load_benchmark():
    """benchmarks/checkpoint.py, whose memory() measures a step: the bytes kept after the forward and the peak
    of forward + backward, allocated during the step (parameters and .grad buffers exist before)."""
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "checkpoint.py"
    spec = importlib.util.spec_from_file_location("checkpoint_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_step_memory = _load_benchmark().memory


def _deep_mlp(depth, width, seed=0):
    chainrule.manual_seed(seed)
    return nn.Sequential(*[nn.Sequential(nn.Linear(width, width), nn.ReLU()) for _ in range(depth)])


def _memory(depth, width, batch):
    model = _deep_mlp(depth, width)
    x = chainrule.randn(batch, width)
    model(x).pow(2).mean().backward()  # allocates the .grad buffers before measuring
    plain = _step_memory(model, x, model)
    auto = _step_memory(model, x, lambda a: checkpoint_sequential(model, "auto", a))
    return plain, auto, batch * width * 4  # one activation, float32


def test_auto_segments_cut_the_peak_activation_memory_at_least_fourfold():
    # Backward's own scratch (the gradients in flight, a weight gradient before it is added to .grad) is
    # the same with or without checkpointing; it is small next to the activations when the batch is
    # larger than the width and the net is deep (n = 144: 144 activations against about 2 sqrt(n) = 24).
    (plain_kept, plain_peak), (auto_kept, auto_peak), act = _memory(144, 32, 256)
    assert plain_kept >= 144 * act  # reverse mode keeps every layer's output
    assert plain_peak / auto_peak >= 4, (plain_peak, auto_peak)


def test_auto_segments_keep_about_two_sqrt_n_activations_after_the_forward():
    depth = 64
    (plain_kept, _), (auto_kept, _), act = _memory(depth, 128, 256)
    k = auto_segments(depth)
    size = depth // k
    expected = (k - 1) + (depth - (k - 1) * size)  # segment inputs + the last, plain, segment's outputs
    assert expected == 15 and math.isclose(expected, 2 * math.sqrt(depth) - 1)
    assert auto_kept <= (expected + 2) * act  # (+ the output, the loss and the graph's small objects)
    assert plain_kept >= depth * act
    assert plain_kept / auto_kept >= 3.9
