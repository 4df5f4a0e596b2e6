"""RMSprop, optionally centered and with momentum."""
import numpy as np

from .optimizer import Optimizer, _floats, _refuse_unsupported, _zeros_like


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.

    Per step, as PyTorch: ``v = alpha * v + (1 - alpha) * g * g``; ``avg = sqrt(v) + eps`` (centered:
    ``sqrt(v - mean_g**2) + eps`` with ``mean_g = lerp(mean_g, g, 1 - alpha)``); then ``p -= lr * g / avg``,
    or with momentum ``buf = momentum * buf + g / avg`` and ``p -= lr * buf``.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _refuse_unsupported("RMSprop", capturable=capturable, differentiable=differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, alpha, eps, momentum, weight_decay = _floats(group, "lr", "alpha", "eps", "momentum", "weight_decay")
        centered, maximize = group["centered"], group["maximize"]
        for p in group["params"]:
            if p._grad is None:
                continue
            x = p._data
            state = self.state[p]
            if len(state) == 0:
                state["step"] = self._new_step()
                state["square_avg"] = _zeros_like(x)
                if momentum > 0:
                    state["momentum_buffer"] = _zeros_like(x)
                if centered:
                    state["grad_avg"] = _zeros_like(x)
            self._next_step(state)
            g = self._effective_grad(x, p._grad._data, weight_decay, maximize)
            square_avg = state["square_avg"]._data
            tmp = self._scratch(x, 1)
            square_avg *= alpha
            np.multiply(g, 1 - alpha, out=tmp)
            tmp *= g
            square_avg += tmp
            if centered:
                grad_avg = state["grad_avg"]._data
                self._lerp(grad_avg, g, 1 - alpha, tmp)
                np.multiply(grad_avg, grad_avg, out=tmp)
                avg = np.subtract(square_avg, tmp, out=tmp)
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(square_avg, out=tmp)
            avg += eps
            update = self._scratch(x, 2)
            if momentum > 0:
                buf = state["momentum_buffer"]._data
                buf *= momentum
                buf += np.divide(g, avg, out=update)
                np.multiply(buf, -lr, out=update)
            else:
                np.multiply(g, -lr, out=update)
                update /= avg
            x += update
            p._bump_version("RMSprop.step")
