"""Helpers for comparing chainrule with PyTorch on random inputs (the `*_vs_torch` test files).

    def test_something(fresh_rng):                      # fixture from conftest.py: a new seed each run
        x = fresh_rng.standard_normal(random_shape(fresh_rng))
        compare_with_torch(lambda m, x: m.sin(x), [x], fresh_rng)

``compare_with_torch(fn, inputs, rng)`` runs ``fn(chainrule, *inputs)`` and ``fn(torch, *inputs)`` (write
``fn`` once for both libraries where their APIs agree, or pass ``torch_fn=`` separately), then checks
shapes, dtypes, values and the gradients of every floating-point input under a random upstream
gradient. Every failure message carries the run's seed, so it can be replayed with CHAINRULE_SEED=<seed>.
"""
import numpy as np

import chainrule


def random_shape(rng, max_dims=3, max_size=4, min_dims=0):
    return tuple(int(s) for s in rng.integers(1, max_size + 1, rng.integers(min_dims, max_dims + 1)))


def broadcastable_shapes(rng, count=2, max_dims=3, max_size=4):
    """``count`` shapes that broadcast together: a random full shape, with some dims set to 1 or dropped
    from the left in each."""
    full = random_shape(rng, max_dims, max_size, min_dims=1)
    shapes = []
    for _ in range(count):
        drop = int(rng.integers(0, len(full) + 1))
        shape = [1 if rng.random() < 0.3 else s for s in full[drop:]]
        shapes.append(tuple(shape))
    return shapes


def _to(lib, value, requires_grad):
    if isinstance(value, np.ndarray):
        if lib is chainrule:
            return chainrule.tensor(value, requires_grad=requires_grad)
        import torch
        return torch.tensor(value, requires_grad=requires_grad)
    return value


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def compare_with_torch(fn, inputs, rng, *, torch_fn=None, rtol=1e-6, atol=1e-9, grad=True, what=""):
    """Check fn(chainrule, *inputs) against (torch_fn or fn)(torch, *inputs); see the module docstring."""
    import torch
    seed = getattr(rng, "seed_value", "?")
    where = f"{what or getattr(fn, '__name__', 'fn')} (seed {seed}; replay with CHAINRULE_SEED={seed})"
    floating = [isinstance(x, np.ndarray) and x.dtype.kind == "f" and grad for x in inputs]
    ours_in = [_to(chainrule, x, f) for x, f in zip(inputs, floating)]
    theirs_in = [_to(torch, x, f) for x, f in zip(inputs, floating)]
    ours = _outputs(fn(chainrule, *ours_in))
    theirs = _outputs((torch_fn or fn)(torch, *theirs_in))
    assert len(ours) == len(theirs), f"{where}: {len(ours)} outputs, PyTorch {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert tuple(a.shape) == tuple(b.shape), f"{where}: output {i} shape {list(a.shape)}, PyTorch {list(b.shape)}"
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (
            f"{where}: output {i} dtype {a.dtype}, PyTorch {b.dtype}")
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{where}: output {i} value differs from PyTorch")
    differentiable = [i for i, f in enumerate(floating) if f]
    pairs = [(a, b) for a, b in zip(ours, theirs) if b.requires_grad]
    if not differentiable or not pairs:
        return
    upstream = [rng.standard_normal(tuple(b.shape)).astype(b.detach().numpy().dtype) for _, b in pairs]
    ours_g = chainrule.autograd.grad([a for a, _ in pairs], [ours_in[i] for i in differentiable],
                                     [chainrule.tensor(u) for u in upstream], allow_unused=True)
    theirs_g = torch.autograd.grad([b for _, b in pairs], [theirs_in[i] for i in differentiable],
                                   [torch.from_numpy(u) for u in upstream], allow_unused=True)
    for i, g_a, g_b in zip(differentiable, ours_g, theirs_g):
        a = np.zeros(inputs[i].shape) if g_a is None else g_a.numpy()
        b = np.zeros(inputs[i].shape) if g_b is None else g_b.numpy()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{where}: gradient of input {i} differs from PyTorch")
