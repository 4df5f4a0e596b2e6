"""chainrule.optim: trajectories equal PyTorch's for every optimizer and option, state_dict round trips,
zero_grad, in-place updates that keep autograd's version checks, and the errors."""
import itertools
import json

import numpy as np
import pytest

import chainrule
import chainrule.optim as optim

SHAPES = [(3,), (2, 4), (5,)]
STEPS = 20


def _combos(**options):
    """Every combination of the given option values, as kwargs dicts."""
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


def _sgd_cases():
    cases = []
    for kw in _combos(momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True], weight_decay=[0, 0.1],
                      maximize=[False, True]):
        if kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0):
            continue
        cases.append(("SGD", dict(lr=0.05, **kw)))
    return cases


CASES = (
    _sgd_cases()
    + [("Adam", dict(lr=0.05, **kw)) for kw in _combos(amsgrad=[False, True], weight_decay=[0, 0.1],
                                                         maximize=[False, True], betas=[(0.9, 0.999), (0.3, 0.8)])]
    + [("Adam", dict(lr=0.05, eps=1e-2, decoupled_weight_decay=True, weight_decay=0.2))]
    + [("AdamW", dict(lr=0.05, **kw)) for kw in _combos(amsgrad=[False, True], weight_decay=[0, 0.01, 0.3],
                                                          maximize=[False, True])]
    + [("AdamW", dict(lr=0.05, betas=(0.6, 0.7), eps=1e-3))]
    + [("RMSprop", dict(lr=0.01, **kw)) for kw in _combos(centered=[False, True], momentum=[0, 0.5],
                                                            weight_decay=[0, 0.1], maximize=[False, True],
                                                            alpha=[0.99, 0.3])]
    + [("RMSprop", dict(lr=0.01, eps=1e-2))]
    + [("Adagrad", dict(lr=0.1, **kw)) for kw in _combos(lr_decay=[0, 0.05], weight_decay=[0, 0.1],
                                                           initial_accumulator_value=[0, 0.5], maximize=[False, True])]
    + [("Adagrad", dict(lr=0.1, eps=1e-2))]
)


def _case_id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _problem(rng, dtype=np.float64):
    inits = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    targets = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return inits, targets


def _loss(lib, params, targets):
    """A random quadratic plus a sine: curved enough that every option changes the trajectory."""
    total = 0
    for p, a in zip(params, targets):
        total = total + (0.5 * (p - lib.tensor(a)) ** 2).sum() + lib.sin(3 * p).sum()
    return total


def _make(lib, module, name, kw, inits):
    params = [lib.tensor(x.copy(), requires_grad=True) for x in inits]
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": kw["lr"] * 0.5}]
    return params, getattr(module, name)(groups, **kw)


def _run(lib, params, opt, targets, steps):
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params, targets).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def _assert_close(ours, theirs, rng, rtol=1e-10, atol=1e-12):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                   err_msg=f"parameter {i} (seed {rng.seed_value}: replay with CHAINRULE_SEED)")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_equals_torch(case, fresh_rng):
    torch = pytest.importorskip("torch")
    name, kw = case
    inits, targets = _problem(fresh_rng)
    ours = _run(chainrule, *_make(chainrule, optim, name, kw, inits), targets, STEPS)
    theirs = _run(torch, *_make(torch, torch.optim, name, kw, inits), targets, STEPS)
    assert not np.allclose(ours[0], inits[0])  # the optimizer moved the parameters
    _assert_close(ours, theirs, fresh_rng)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
                                     ("Adam", dict(lr=0.05, amsgrad=True)), ("AdamW", dict(lr=0.05)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
def test_float32_keeps_dtype_and_matches_torch(name, kw, fresh_rng):
    torch = pytest.importorskip("torch")
    inits, targets = _problem(fresh_rng, np.float32)
    params, opt = _make(chainrule, optim, name, kw, inits)
    ours = _run(chainrule, params, opt, targets, STEPS)
    theirs = _run(torch, *_make(torch, torch.optim, name, kw, inits), targets, STEPS)
    _assert_close(ours, theirs, fresh_rng, rtol=1e-4, atol=1e-5)
    assert all(p.dtype == chainrule.float32 for p in params)
    for state in opt.state.values():
        for key, value in state.items():
            if key == "step":
                assert value.dtype == chainrule.float32 and value.shape == ()
            else:
                assert value.dtype == chainrule.float32, key


@pytest.mark.parametrize("case", [c for c in CASES if c[1].get("maximize") is not True][::3], ids=_case_id)
def test_state_dict_round_trip_continues_the_trajectory(case, fresh_rng):
    name, kw = case
    inits, targets = _problem(fresh_rng)
    straight = _run(chainrule, *_make(chainrule, optim, name, kw, inits), targets, STEPS)

    params, opt = _make(chainrule, optim, name, kw, inits)
    half = _run(chainrule, params, opt, targets, STEPS // 2)
    saved = opt.state_dict()
    params2, opt2 = _make(chainrule, optim, name, dict(kw, lr=123.0), half)  # lr comes from the state dict
    opt2.load_state_dict(saved)
    resumed = _run(chainrule, params2, opt2, targets, STEPS - STEPS // 2)
    _assert_close(resumed, straight, fresh_rng, rtol=0, atol=0)
    # the loaded state is a copy: stepping the new optimizer leaves the old one's buffers alone
    for state, state2 in zip(opt.state.values(), opt2.state.values()):
        for key in state:
            assert state[key] is not state2[key]


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                     ("AdamW", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1))])
def test_state_dict_layout_and_loading_torch_state(name, kw, fresh_rng):
    torch = pytest.importorskip("torch")
    inits, targets = _problem(fresh_rng)
    t_params, t_opt = _make(torch, torch.optim, name, kw, inits)
    _run(torch, t_params, t_opt, targets, 5)
    params, opt = _make(chainrule, optim, name, kw, inits)
    _run(chainrule, params, opt, targets, 5)
    ours, theirs = opt.state_dict(), t_opt.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert list(ours["state"]) == list(theirs["state"])
    for index, state in theirs["state"].items():
        assert sorted(ours["state"][index]) == sorted(state)
        for key, value in state.items():
            np.testing.assert_allclose(ours["state"][index][key].numpy(), value.numpy(), rtol=1e-10, atol=1e-12)

    # PyTorch's state, converted to chainrule tensors, continues exactly as PyTorch continues
    converted = {"state": {i: {k: chainrule.tensor(v.numpy()) for k, v in s.items()}
                           for i, s in theirs["state"].items()},
                 "param_groups": theirs["param_groups"]}
    params2, opt2 = _make(chainrule, optim, name, kw, [p.detach().numpy() for p in t_params])
    opt2.load_state_dict(converted)
    _assert_close(_run(chainrule, params2, opt2, targets, 5), _run(torch, t_params, t_opt, targets, 5), fresh_rng)


def test_state_dict_through_json_keys_and_plain_step_numbers(fresh_rng):
    """A state dict that went through JSON (str keys) and numbers for the step counter still loads."""
    inits, targets = _problem(fresh_rng)
    kw = dict(lr=0.05, amsgrad=True)
    straight = _run(chainrule, *_make(chainrule, optim, "Adam", kw, inits), targets, 10)
    params, opt = _make(chainrule, optim, "Adam", kw, inits)
    half = _run(chainrule, params, opt, targets, 5)
    saved = opt.state_dict()
    plain = {"state": {str(i): {k: (v.item() if k == "step" else v.numpy()) for k, v in s.items()}
                       for i, s in saved["state"].items()},
             "param_groups": json.loads(json.dumps(saved["param_groups"]))}
    params2, opt2 = _make(chainrule, optim, "Adam", kw, half)
    opt2.load_state_dict(plain)
    assert isinstance(opt2.state[params2[0]]["step"], chainrule.Tensor)
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999) or list(opt2.param_groups[0]["betas"]) == [0.9, 0.999]
    _assert_close(_run(chainrule, params2, opt2, targets, 5), straight, fresh_rng, rtol=0, atol=0)


def test_load_state_dict_errors():
    a, b = chainrule.zeros(2, requires_grad=True), chainrule.zeros(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    a.grad, b.grad = chainrule.ones(2), chainrule.ones(3)
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups: it has 2, the optimizer has 1"):
        optim.SGD([a, b], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group: group 1 has 1"):
        optim.SGD([{"params": [a]}, {"params": [b, chainrule.zeros(1, requires_grad=True)]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of shape \[2\] for parameter 0, whose shape is \[3\]"):
        optim.SGD([{"params": [b]}, {"params": [a]}], lr=0.1, momentum=0.9).load_state_dict(saved)
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"momentum_buffer": 1})
    bad = {"state": {7: {"momentum_buffer": chainrule.zeros(2)}}, "param_groups": saved["param_groups"]}
    with pytest.raises(ValueError, match="state for parameter 7, which none of its param_groups lists"):
        opt.load_state_dict(bad)


def test_zero_grad_semantics():
    p = chainrule.ones(3, requires_grad=True)
    q = chainrule.ones(2, requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    (p * 2).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and np.array_equal(grad.numpy(), np.zeros(3)) and q.grad is None
    (p * 2).sum().backward()  # accumulates into the zeroed gradient
    np.testing.assert_array_equal(p.grad.numpy(), [2, 2, 2])
    opt.zero_grad()
    assert p.grad is None and q.grad is None


@pytest.mark.filterwarnings("ignore:Using backward")
def test_zero_grad_drops_the_graph_of_a_create_graph_gradient():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    (p ** 3).sum().backward(create_graph=True)
    assert p.grad.requires_grad
    optim.SGD([p]).zero_grad(set_to_none=False)
    assert not p.grad.requires_grad and np.array_equal(p.grad.numpy(), [0, 0])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_step_is_in_place_and_bumps_the_version(name):
    p = chainrule.tensor([1.0, -2.0], requires_grad=True)
    frozen = chainrule.tensor([5.0], requires_grad=True)  # no gradient: left alone
    data = p._data
    opt = getattr(optim, name)([p, frozen], **({"momentum": 0.9} if name == "SGD" else {}))
    saved = (p * p).sum()  # saves p for backward
    saved.backward(retain_graph=True)
    version = p._version
    opt.step()
    assert p._data is data and p._version == version + 1
    assert not np.array_equal(p.detach().numpy(), [1.0, -2.0])
    assert frozen.tolist() == [5.0] and frozen._version == 0
    assert frozen not in opt.state or name == "Adagrad"  # Adagrad makes its state up front, as PyTorch
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place|inplace"):
        saved.backward()  # autograd still notices that the step changed a saved tensor


def test_step_returns_the_closure_loss_computed_with_grad_enabled():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    with chainrule.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6])
    assert opt.step() is None


def test_param_that_does_not_require_grad_is_allowed_and_skipped():
    p = chainrule.tensor([1.0, 2.0])
    opt = optim.Adam([p])
    opt.step()
    assert p.numpy().tolist() == [1.0, 2.0] and len(opt.state) == 0


def test_param_groups_defaults_and_add_param_group():
    a, b, c = (chainrule.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": a}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[0]["params"] == [a] and opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": [c], "weight_decay": 0.01})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 0.01
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([a])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a])
    assert "SGD (" in repr(opt) and "Parameter Group 2" in repr(opt) and "lr: 0.1" in repr(opt)


def test_named_parameters_give_param_names():
    a, b = chainrule.zeros(2, requires_grad=True), chainrule.zeros(1, requires_grad=True)
    opt = optim.Adam([("w", a), ("b", b)])
    assert opt.param_groups[0]["params"] == [a, b] and opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def _torch_error(torch, make):
    try:
        make(torch)
    except Exception as e:  # noqa: BLE001 - we compare whatever PyTorch raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("make", [
    lambda m: m.optim.SGD([m.zeros(1, requires_grad=True)], lr=-1),
    lambda m: m.optim.SGD([m.zeros(1, requires_grad=True)], momentum=-0.5),
    lambda m: m.optim.SGD([m.zeros(1, requires_grad=True)], weight_decay=-1e-3),
    lambda m: m.optim.SGD([m.zeros(1, requires_grad=True)], nesterov=True),
    lambda m: m.optim.SGD([m.zeros(1, requires_grad=True)], momentum=0.9, dampening=0.1, nesterov=True),
    lambda m: m.optim.Adam([m.zeros(1, requires_grad=True)], lr=-0.1),
    lambda m: m.optim.Adam([m.zeros(1, requires_grad=True)], eps=-1.0),
    lambda m: m.optim.Adam([m.zeros(1, requires_grad=True)], betas=(1.0, 0.999)),
    lambda m: m.optim.Adam([m.zeros(1, requires_grad=True)], betas=(0.9, -0.1)),
    lambda m: m.optim.AdamW([m.zeros(1, requires_grad=True)], weight_decay=-1.0),
    lambda m: m.optim.RMSprop([m.zeros(1, requires_grad=True)], alpha=-0.1),
    lambda m: m.optim.RMSprop([m.zeros(1, requires_grad=True)], momentum=-0.1),
    lambda m: m.optim.RMSprop([m.zeros(1, requires_grad=True)], eps=-0.1),
    lambda m: m.optim.Adagrad([m.zeros(1, requires_grad=True)], lr_decay=-0.1),
    lambda m: m.optim.Adagrad([m.zeros(1, requires_grad=True)], initial_accumulator_value=-1.0),
    lambda m: m.optim.Adagrad([m.zeros(1, requires_grad=True)], eps=-1.0),
    lambda m: m.optim.SGD([]),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True) * 2]),
    lambda m: m.optim.SGD([[1.0, 2.0]]),
    lambda m: m.optim.SGD([{"params": {m.zeros(2, requires_grad=True)}}]),
    lambda m: m.optim.SGD([("w", m.zeros(2, requires_grad=True)), m.zeros(1, requires_grad=True)]),
])
def test_errors_match_torch(make):
    torch = pytest.importorskip("torch")
    expected = _torch_error(torch, make)
    assert expected is not None
    with pytest.raises(expected[0]) as info:
        make(chainrule)
    assert str(info.value) == expected[1]


def test_single_tensor_params_is_a_type_error():
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got chainrule.FloatTensor"):
        optim.SGD(chainrule.zeros(2, requires_grad=True))


def test_non_float_parameter_is_refused():
    with pytest.raises(TypeError, match="floating-point Tensors, but parameter 1 of the group has dtype "
                                        "chainrule.int64"):
        optim.Adam([chainrule.zeros(2, requires_grad=True), chainrule.tensor([1, 2])])


def test_gpu_only_switches_are_refused_when_on():
    p = chainrule.zeros(1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="Adam: fused=True is not supported"):
        optim.Adam([p], fused=True)
    optim.Adam([p], foreach=False, fused=None, capturable=False)  # the defaults are fine


def test_subclass_without_step_says_what_to_implement():
    class Mine(optim.Optimizer):
        pass

    p = chainrule.zeros(1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="Mine must implement step"):
        Mine([p], {"lr": 0.1}).step()


def test_required_hyper_parameter():
    p = chainrule.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        optim.Optimizer([p], {"lr": optim.required})


def test_numpy_scalar_hyper_parameters_keep_float32():
    p = chainrule.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=np.float64(0.1), betas=(np.float64(0.9), 0.999))
    (p * p).sum().backward()
    opt.step()
    assert p.dtype == chainrule.float32 and opt.state[p]["exp_avg"].dtype == chainrule.float32
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9, 0.9], rtol=1e-6)
