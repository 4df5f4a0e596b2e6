"""Helpers for the layer tests: build the same layer in chainrule and in PyTorch from ONE constructor call
(``make(nn)`` with nn = chainrule.nn or torch.nn, so the signatures must agree), copy PyTorch's state dict
into ours (strict: names, order and shapes must match PyTorch's), then compare outputs, input gradients
and parameter gradients under a random upstream gradient."""
import numpy as np

import chainrule


def to_ours(value):
    return chainrule.tensor(value.detach().numpy())


def build_pair(make, dtype="float64"):
    """(ours, theirs) with identical parameters and buffers, both in ``dtype``."""
    import torch
    ours, theirs = make(chainrule.nn), make(torch.nn)
    getattr(ours, "double" if dtype == "float64" else "float")()
    getattr(theirs, "double" if dtype == "float64" else "float")()
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state), (
        f"{type(ours).__name__}: state_dict keys {list(ours.state_dict())}, PyTorch {list(theirs_state)}")
    for key, value in ours.state_dict().items():
        assert tuple(value.shape) == tuple(theirs_state[key].shape), f"{key}: {value.shape} vs {theirs_state[key].shape}"
        assert str(value.dtype).split(".")[-1] == str(theirs_state[key].dtype).split(".")[-1], (
            f"{key}: dtype {value.dtype}, PyTorch {theirs_state[key].dtype}")
    ours.load_state_dict({k: to_ours(v) for k, v in theirs_state.items()})
    return ours, theirs


def check_close(a, b, what, rtol, atol):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, PyTorch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def compare_layer(make, inputs, rng, *, dtype="float64", train=True, grad=True, rtol=None, atol=None, steps=1):
    """Run the layer ``steps`` times on ``inputs`` (NumPy arrays; float ones are cast to dtype and get
    gradients) and compare everything with PyTorch. Returns (ours, theirs) for further checks."""
    import torch
    rtol = rtol if rtol is not None else (1e-7 if dtype == "float64" else 2e-4)
    atol = atol if atol is not None else (1e-9 if dtype == "float64" else 1e-5)
    ours, theirs = build_pair(make, dtype)
    ours.train(train)
    theirs.train(train)
    name = type(ours).__name__
    for step in range(steps):
        ours_in, theirs_in = [], []
        for x in inputs:
            floating = x.dtype.kind == "f"
            if floating:
                x = x.astype(dtype)
            ours_in.append(chainrule.tensor(x, requires_grad=floating and grad))
            theirs_in.append(torch.tensor(x, requires_grad=floating and grad))
        out, ref = ours(*ours_in), theirs(*theirs_in)
        check_close(out, ref, f"{name} output (step {step})", rtol, atol)
        assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1], f"{name}: {out.dtype} vs {ref.dtype}"
        if grad and ref.requires_grad:
            upstream = rng.standard_normal(tuple(ref.shape)).astype(dtype)
            out.backward(chainrule.tensor(upstream))
            ref.backward(torch.tensor(upstream))
            for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
                if b.grad is not None:
                    check_close(a.grad, b.grad, f"{name} grad of input {i}", rtol, atol)
            theirs_params = dict(theirs.named_parameters())
            for key, p in ours.named_parameters():
                if theirs_params[key].grad is not None:
                    assert p.grad is not None, f"{name}.{key} got no gradient"
                    check_close(p.grad, theirs_params[key].grad, f"{name} grad of {key}", rtol, atol)
    theirs_buffers = dict(theirs.named_buffers())
    for key, buffer in ours.named_buffers():
        check_close(buffer, theirs_buffers[key], f"{name} buffer {key} after {steps} steps", rtol, atol)
    return ours, theirs
