"""Stochastic gradient descent, optionally with momentum, dampening, Nesterov momentum and weight decay."""
import numpy as np

from .optimizer import Optimizer, _floats, _refuse_unsupported, _tensor_copy


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    Per step, as PyTorch: ``g = grad (+ weight_decay * p)``; with momentum ``buf = momentum * buf +
    (1 - dampening) * g`` (``buf = g`` on the first step) and ``g = buf`` (or ``g + momentum * buf`` with
    Nesterov); then ``p -= lr * g``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _refuse_unsupported("SGD", differentiable=differentiable, fused=fused)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, momentum, dampening = _floats(group, "lr", "momentum", "dampening")
        weight_decay = float(group["weight_decay"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        for p in group["params"]:
            if p._grad is None:
                continue
            x = p._data
            g = self._effective_grad(x, p._grad._data, weight_decay, maximize)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = buf = _tensor_copy(g)
                else:
                    b = buf._data
                    b *= momentum
                    if dampening == 0:
                        b += g
                    else:
                        b += np.multiply(g, 1 - dampening, out=self._scratch(x, 1))
                if nesterov:
                    g = np.add(g, np.multiply(buf._data, momentum, out=self._scratch(x, 1)), out=self._scratch(x, 2))
                else:
                    g = buf._data
            x += np.multiply(g, -lr, out=self._scratch(x, 1))
            p._bump_version("SGD.step")

