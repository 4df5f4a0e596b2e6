"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""
import numpy as np

from .optimizer import Optimizer, _floats, _refuse_unsupported, _zeros_like


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``.

    Per step, as PyTorch: ``clr = lr / (1 + (t - 1) * lr_decay)``, ``s += g * g``,
    ``p -= clr * g / (sqrt(s) + eps)``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _refuse_unsupported("Adagrad", differentiable=differentiable, fused=fused)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        # As PyTorch, Adagrad's state exists from the start (so a state_dict has it before any step).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = self._new_step()
            state["sum"] = _zeros_like(p._data, group["initial_accumulator_value"])

    def _step_group(self, group):
        lr, lr_decay, eps, weight_decay = _floats(group, "lr", "lr_decay", "eps", "weight_decay")
        maximize = group["maximize"]
        for p in group["params"]:
            if p._grad is None:
                continue
            x = p._data
            state = self.state[p]
            self._init_state(p, group)
            step = self._next_step(state)
            g = self._effective_grad(x, p._grad._data, weight_decay, maximize)
            clr = lr / (1 + (step - 1) * lr_decay)
            total = state["sum"]._data
            tmp = self._scratch(x, 1)
            total += np.multiply(g, g, out=tmp)
            std = np.sqrt(total, out=tmp)
            std += eps
            update = np.multiply(g, -clr, out=self._scratch(x, 2))
            update /= std
            x += update
            p._bump_version("Adagrad.step")
