"""Adam (with AMSGrad) and the shared update AdamW reuses with decoupled weight decay."""
import numpy as np

from .optimizer import Optimizer, _floats, _refuse_unsupported, _zeros_like


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    decoupled_weight_decay=False)``.

    Per step, as PyTorch: ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)`` (``v`` replaced by its running
    maximum with AMSGrad). The step count ``t`` is kept in the state as a 0-d float32 tensor.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        name = type(self).__name__
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _refuse_unsupported(name, capturable=capturable, differentiable=differentiable, fused=fused)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, eps, weight_decay = _floats(group, "lr", "eps", "weight_decay")
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            if p._grad is None:
                continue
            x = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = self._new_step()
                state["exp_avg"] = _zeros_like(x)
                state["exp_avg_sq"] = _zeros_like(x)
                if amsgrad:
                    state["max_exp_avg_sq"] = _zeros_like(x)
            step = self._next_step(state)
            if weight_decay != 0 and decoupled:
                x *= 1 - lr * weight_decay
                g = self._effective_grad(x, p._grad._data, 0, maximize)
            else:
                g = self._effective_grad(x, p._grad._data, weight_decay, maximize)
            exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
            tmp = self._scratch(x, 1)
            self._lerp(exp_avg, g, 1 - beta1, tmp)
            exp_avg_sq *= beta2
            np.multiply(g, 1 - beta2, out=tmp)
            tmp *= g
            exp_avg_sq += tmp

            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = lr / bias_correction1
            if amsgrad:
                second = state["max_exp_avg_sq"]._data
                np.maximum(second, exp_avg_sq, out=second)
            else:
                second = exp_avg_sq
            denom = np.sqrt(second, out=tmp)
            denom /= bias_correction2 ** 0.5
            denom += eps
            # addcdiv_(exp_avg, denom, value=-step_size) computes (value * exp_avg) / denom
            update = np.multiply(exp_avg, -step_size, out=self._scratch(x, 2))
            update /= denom
            x += update
            p._bump_version(f"{type(self).__name__}.step")
