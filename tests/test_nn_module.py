"""Module, Parameter and the containers: registration, traversal, state dicts, hooks, dtype moves, repr.
Where PyTorch has the same behaviour the test builds the same module in torch and compares."""
import copy

import numpy as np
import pytest

import chainrule
import chainrule.nn as nn


def make_affine(lib, n_in=2, n_out=3):
    """The same small module in chainrule or torch: a weight, a bias, a buffer, written with the Module API."""
    class Affine(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = lib.nn.Parameter(lib.randn(n_out, n_in))
            self.bias = lib.nn.Parameter(lib.zeros(n_out))
            self.register_buffer("calls", lib.zeros(1))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return x @ self.weight.T + self.bias

        def extra_repr(self):
            return f"in={n_in}, out={n_out}"
    return Affine()


def make_net(lib):
    net = lib.nn.Sequential(make_affine(lib), lib.nn.Sequential(make_affine(lib, 3, 3)))
    net.heads = lib.nn.ModuleDict({"a": make_affine(lib, 3, 1), "b": make_affine(lib, 3, 2)})
    net.extra = lib.nn.ModuleList([make_affine(lib, 1, 1)])
    return net


def test_registration_and_traversal_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = make_net(chainrule), make_net(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_shared_parameters_and_modules_are_listed_once():
    shared = make_affine(chainrule)
    net = nn.Sequential(shared, shared)
    assert len(list(net.parameters())) == 2
    assert len(list(net.modules())) == 2
    assert list(net.state_dict()) == ["0.weight", "0.bias", "0.calls", "1.weight", "1.bias", "1.calls"]


def test_assignment_rules_and_errors():
    m = make_affine(chainrule)
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'.*Parameter or None"):
        m.weight = chainrule.ones(3, 2)
    m.weight = None
    assert "weight" not in dict(m.named_parameters())
    m.calls = chainrule.ones(1)
    assert m.state_dict()["calls"].item() == 1
    with pytest.raises(TypeError, match="buffer 'calls'"):
        m.calls = 3
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'nope'"):
        m.nope
    with pytest.raises(KeyError, match="empty or contain"):
        m.register_buffer("a.b", chainrule.ones(1))
    with pytest.raises(ValueError, match="non-leaf Tensor"):
        m.register_parameter("w2", _non_leaf_parameter())
    del m.bias
    assert "bias" not in dict(m.named_parameters())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(chainrule.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def _non_leaf_parameter():
    p = nn.Parameter(chainrule.ones(2))
    q = nn.Parameter(chainrule.ones(2))
    q.grad_fn = (p * 2).grad_fn  # a parameter that claims to be computed: register_parameter must refuse it
    return q


def test_parameter_basics():
    torch = pytest.importorskip("torch")
    t = chainrule.ones(2)
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and isinstance(p, chainrule.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.ones(2)))
    with chainrule.no_grad():
        p.add_(1)
    assert t.tolist() == [2.0, 2.0]  # shares memory with the tensor it was made from, as in PyTorch
    assert type(p * 2) is chainrule.Tensor
    assert not nn.Parameter(chainrule.ones(1), requires_grad=False).requires_grad
    with pytest.raises(chainrule.DTypeError, match="floating point"):
        nn.Parameter(chainrule.ones(2, dtype=chainrule.int64))
    copied = copy.deepcopy(p)
    assert isinstance(copied, nn.Parameter) and copied is not p and copied.tolist() == p.tolist()


def test_state_dict_round_trip_and_strict_errors():
    torch = pytest.importorskip("torch")
    src, dst = make_net(chainrule), make_net(chainrule)
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    # the state dict is detached and shares memory; loading copies into the existing Parameters
    weight = dst[0].weight
    dst.load_state_dict({k: v.numpy() * 0 for k, v in src.state_dict().items()})
    assert dst[0].weight is weight and float(weight.abs().sum()) == 0

    bad = src.state_dict()
    del bad["0.bias"]
    bad["surprise"] = chainrule.ones(1)
    bad["1.0.weight"] = chainrule.ones(4, 4)
    with pytest.raises(RuntimeError) as ours:
        dst.load_state_dict(bad)
    tsrc, tdst = make_net(torch), make_net(torch)
    tbad = tsrc.state_dict()
    del tbad["0.bias"]
    tbad["surprise"] = torch.ones(1)
    tbad["1.0.weight"] = torch.ones(4, 4)
    with pytest.raises(RuntimeError) as theirs:
        tdst.load_state_dict(tbad)
    assert str(ours.value).replace("chainrule", "torch") == str(theirs.value)
    result = dst.load_state_dict({k: v for k, v in bad.items() if k != "1.0.weight"}, strict=False)
    assert result.missing_keys == ["0.bias", "1.0.weight"] and result.unexpected_keys == ["surprise"]
    with pytest.raises(TypeError, match="dict-like"):
        dst.load_state_dict([1, 2])


def test_load_state_dict_casts_to_the_parameter_dtype():
    m = make_affine(chainrule)
    m.load_state_dict({k: v.double() for k, v in m.state_dict().items()})
    assert m.weight.dtype == chainrule.float32


def test_train_eval_zero_grad_requires_grad():
    net = make_net(chainrule)
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1](net[0](chainrule.randn(5, 2))).sum().backward()
    assert net[0].weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert float(net[0].weight.grad.abs().sum()) == 0
    net.zero_grad()
    assert net[0].weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_to_dtype_keeps_parameter_identity():
    net = make_net(chainrule)
    weight = net[0].weight
    net[0](chainrule.randn(2, 2)).sum().backward()
    assert net.double() is net
    assert weight is net[0].weight and weight.dtype == chainrule.float64 and weight.grad.dtype == chainrule.float64
    assert net[0].calls.dtype == chainrule.float64
    net.to(chainrule.float32)
    assert weight.dtype == chainrule.float32
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(chainrule.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")


def test_apply_and_submodule_lookup():
    net = make_net(chainrule)
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Sequential" and visited.count("Affine") == 5
    assert net.get_submodule("1.0") is net[1][0]
    assert net.get_parameter("heads.a.weight") is net.heads["a"].weight
    with pytest.raises(AttributeError, match="no submodule `9`"):
        net.get_submodule("1.9")


def test_forward_hooks_can_change_inputs_and_outputs():
    m = make_affine(chainrule)
    calls = []
    pre = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    post = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(chainrule.randn(4, 2))
    assert calls == [(4, 3)] and out.tolist() == [[1.0] * 3] * 4
    pre.remove()
    with post:
        pass  # leaving the with-block removes the hook
    assert m(chainrule.zeros(1, 2)).tolist() == [[0.0] * 3]
    assert calls == [(4, 3)]


def test_full_backward_hooks_match_torch():
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        net = lib.nn.Sequential(make_affine(lib), make_affine(lib, 3, 3))
        net.load_state_dict({k: lib.tensor(np.arange(v.numel(), dtype=np.float32).reshape(tuple(v.shape)) / 7)
                             for k, v in net.state_dict().items()})
        seen = []
        net[1].register_full_backward_pre_hook(lambda mod, go: seen.append(("pre", go[0].numpy().copy())))
        net[1].register_full_backward_hook(
            lambda mod, gi, go: (seen.append(("full", gi[0].numpy().copy(), go[0].numpy().copy())), (gi[0] * 2,))[1])
        net[0].register_full_backward_hook(lambda mod, gi, go: seen.append(("first", gi)))
        x = lib.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2), requires_grad=True)
        net(x).pow(2).sum().backward()
        results[lib.__name__] = (seen, x.grad.numpy())
    (ours, our_grad), (theirs, their_grad) = results["chainrule"], results["torch"]
    assert [s[0] for s in ours] == [s[0] for s in theirs] == ["pre", "full", "first"]
    np.testing.assert_allclose(ours[0][1], theirs[0][1], rtol=1e-6)
    np.testing.assert_allclose(ours[1][1], theirs[1][1], rtol=1e-6)
    np.testing.assert_allclose(ours[1][2], theirs[1][2], rtol=1e-6)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-6)  # doubled by the hook in both
    assert ours[2][1][0] is not None


def test_backward_hook_on_a_module_whose_input_needs_no_grad():
    m = make_affine(chainrule)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    m(chainrule.randn(4, 2)).sum().backward()
    assert seen == [((None,), (4, 3))]


def test_containers():
    a, b, c = (make_affine(chainrule, 2, 2) for _ in range(3))
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[-1] is b and list(seq) == [a, b]
    assert isinstance(seq[:1], nn.Sequential) and seq[:1][0] is a
    seq.append(c)
    assert seq[2] is c
    del seq[0]
    assert list(seq.state_dict())[0] == "0.weight" and seq[0] is b
    seq.insert(0, a)
    assert list(seq) == [a, b, c]
    with pytest.raises(IndexError, match="out of range for Sequential of length 3"):
        seq[3]
    named = nn.Sequential(__import__("collections").OrderedDict(first=a, second=b))
    assert list(named.state_dict())[0] == "first.weight"
    x = chainrule.randn(3, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())

    lst = nn.ModuleList([a])
    lst += [b]
    lst.extend([c])
    lst.insert(1, c)
    assert len(lst) == 4 and lst[1] is c and isinstance(lst[1:], nn.ModuleList)
    with pytest.raises(TypeError, match="iterable"):
        lst.extend(a)
    del lst[1]
    assert list(lst) == [a, b, c]

    d = nn.ModuleDict({"a": a})
    d["b"] = b
    d.update([("c", c)])
    assert list(d) == ["a", "b", "c"] and "b" in d and d.pop("b") is b and len(d) == 2
    with pytest.raises(KeyError, match="ModuleDict has no module 'z'"):
        d["z"]
