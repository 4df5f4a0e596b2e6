"""chainrule.optim.lr_scheduler: learning rates (and OneCycleLR's momentum) equal PyTorch's step by step,
state_dict round trips, warnings and errors."""
import math
import warnings

import numpy as np
import pytest

import chainrule
import chainrule.optim as optim
from chainrule.optim import lr_scheduler

STEPS = 30
LRS = [0.1, 0.02]


def _optimizer(lib, module, name="SGD"):
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": LRS[0]},
              {"params": [lib.zeros(1, requires_grad=True)], "lr": LRS[1]}]
    if name == "SGD":
        return module.SGD(groups, lr=0.1, momentum=0.9)
    return getattr(module, name)(groups, lr=0.1)


def _schedule(lib, module, make, steps=STEPS, optimizer="SGD", metrics=None):
    """The lr (and momentum/beta1) of every group after construction and after each step."""
    opt = _optimizer(lib, module, optimizer)
    sched = make(module.lr_scheduler, opt)
    record = []

    def snapshot():
        record.append([(g["lr"], g.get("momentum"), g.get("betas", (None,))[0]) for g in opt.param_groups]
                      + [tuple(sched.get_last_lr())])

    snapshot()
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        snapshot()
    return record


SCHEDULERS = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 0.95 ** epoch),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: math.cos(e / 10)]),
    "StepLR": lambda s, o: s.StepLR(o, step_size=7),
    "StepLR-gamma": lambda s, o: s.StepLR(o, step_size=3, gamma=0.7),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[4, 10, 10, 25], gamma=0.5),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=30),
    "CosineAnnealingLR-restarts": lambda s, o: s.CosineAnnealingLR(o, T_max=8, eta_min=0.001),
    "OneCycleLR-cos": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR-linear": lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=STEPS, anneal_strategy="linear",
                                                   div_factor=10.0, final_div_factor=100.0, pct_start=0.25),
    "OneCycleLR-three-phase": lambda s, o: s.OneCycleLR(o, max_lr=0.5, epochs=3, steps_per_epoch=10, three_phase=True,
                                                        base_momentum=[0.8, 0.7], max_momentum=0.9),
    "OneCycleLR-no-momentum": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, cycle_momentum=False),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_equals_torch(name):
    torch = pytest.importorskip("torch")
    make = SCHEDULERS[name]
    ours = _schedule(chainrule, optim, make)
    theirs = _schedule(torch, torch.optim, make)
    assert ours == theirs
    assert len({row[0][0] for row in ours}) > 2  # the lr really changes


@pytest.mark.parametrize("name", ["OneCycleLR-cos", "OneCycleLR-three-phase"])
def test_one_cycle_moves_adams_beta1(name):
    torch = pytest.importorskip("torch")
    ours = _schedule(chainrule, optim, SCHEDULERS[name], optimizer="Adam")
    theirs = _schedule(torch, torch.optim, SCHEDULERS[name], optimizer="Adam")
    assert ours == theirs
    assert len({row[0][2] for row in ours}) > 2


PLATEAU = {
    "min-rel": dict(),
    "min-abs-cooldown": dict(patience=2, threshold=0.05, threshold_mode="abs", cooldown=3, factor=0.5),
    "max-rel": dict(mode="max", patience=1, factor=0.3, min_lr=[1e-3, 1e-4]),
    "max-abs-min-lr": dict(mode="max", patience=0, threshold=0.1, threshold_mode="abs", min_lr=0.004, eps=1e-3),
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_on_plateau_equals_torch(name, fresh_rng):
    torch = pytest.importorskip("torch")
    # a noisy metric that improves, then stalls
    metrics = list(np.r_[np.linspace(1, 0.5, 10), 0.5 + 0.05 * fresh_rng.standard_normal(STEPS - 10)])

    def make(s, o):
        return s.ReduceLROnPlateau(o, **PLATEAU[name])

    ours = _schedule(chainrule, optim, make, metrics=metrics)
    theirs = _schedule(torch, torch.optim, make, metrics=metrics)
    assert ours == theirs, f"seed {fresh_rng.seed_value}"


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt = _optimizer(chainrule, optim)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(chainrule.tensor(1.0))
    sched.step(chainrule.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.002])


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_step_with_epoch_uses_the_closed_form_like_torch(name):
    torch = pytest.importorskip("torch")

    def run(lib, module):
        opt = _optimizer(lib, module)
        sched = SCHEDULERS[name](module.lr_scheduler, opt)
        opt.step()
        out = []
        for epoch in [3, 11, 5, 20]:
            with pytest.warns(UserWarning, match="epoch parameter"):
                sched.step(epoch)
            out.append(sched.get_last_lr())
        return out

    assert run(chainrule, optim) == run(torch, torch.optim)


@pytest.mark.parametrize("name", list(SCHEDULERS) + ["ReduceLROnPlateau"])
def test_state_dict_round_trip(name):
    make = SCHEDULERS.get(name, lambda s, o: s.ReduceLROnPlateau(o, patience=1))
    metric = iter(np.abs(np.sin(np.arange(100.0))))

    def advance(opt, sched, n):
        for _ in range(n):
            opt.step()
            sched.step(next(metric)) if name == "ReduceLROnPlateau" else sched.step()

    opt = _optimizer(chainrule, optim)
    sched = make(lr_scheduler, opt)
    advance(opt, sched, 10)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched
    advance(opt, sched, 10)
    expected = sched.get_last_lr()

    metric = iter(np.abs(np.sin(np.arange(100.0)))[10:])
    opt2 = _optimizer(chainrule, optim)
    sched2 = make(lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    advance(opt2, sched2, 10)
    assert sched2.get_last_lr() == expected


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = _optimizer(chainrule, optim)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)  # records initial_lr
    resumed = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert resumed.last_epoch == 5 and sched.base_lrs == resumed.base_lrs


def test_warns_when_stepped_before_the_optimizer():
    opt = _optimizer(chainrule, optim)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()
    opt2 = _optimizer(chainrule, optim)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _optimizer(chainrule, optim)
    decay = Decay()
    sched = lr_scheduler.LambdaLR(opt, [decay, lambda e: 1.0])
    decay.rate = 0.25
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [{"rate": 0.25}, None]
    other = Decay()
    sched2 = lr_scheduler.LambdaLR(_optimizer(chainrule, optim), [other, lambda e: 1.0])
    sched2.load_state_dict(saved)
    assert other.rate == 0.25


def _torch_error(torch, make):
    try:
        make(torch.optim.lr_scheduler, _optimizer(torch, torch.optim))
    except Exception as e:  # noqa: BLE001 - we compare whatever PyTorch raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("make", [
    lambda s, o: s.StepLR("not an optimizer", step_size=1),
    lambda s, o: s.LambdaLR(o, [lambda e: 1.0]),
    lambda s, o: s.ReduceLROnPlateau(o, factor=1.0),
    lambda s, o: s.ReduceLROnPlateau(o, mode="lowest"),
    lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="relative"),
    lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, epochs=0, steps_per_epoch=3),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=-1),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
    lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 2.0, 3.0], total_steps=10),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=10, max_momentum=[0.9]),
])
def test_errors_match_torch(make):
    torch = pytest.importorskip("torch")
    expected = _torch_error(torch, make)
    assert expected is not None
    with pytest.raises(expected[0]) as info:
        make(lr_scheduler, _optimizer(chainrule, optim))
    assert str(info.value) == expected[1]


def test_one_cycle_errors_past_total_steps_and_without_momentum():
    opt = _optimizer(chainrule, optim)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    opt.step()
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(_optimizer(chainrule, optim, "Adagrad"), max_lr=1.0, total_steps=3)


@pytest.mark.parametrize("make,message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "StepLR: step_size must be a positive integer, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: T_max must be a positive integer"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[2.5]), "MultiStepLR: milestones must be integers"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), "LambdaLR: lr_lambda must be a function"),
])
def test_bad_arguments_pytorch_accepts_silently(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(_optimizer(chainrule, optim))
