"""Hook bookkeeping for Module: removable handles, and full backward hooks built from two identity
Functions, one around the module's inputs and one around its outputs (as PyTorch does)."""
from .._tensor import Tensor, make_tensor
from ..autograd.function import Function
from ..autograd.graph import HookHandle


# ``handle.remove()`` (or leaving a ``with`` block) unregisters a hook: the same handle as tensor hooks use.
RemovableHandle = HookHandle


class _Identity(Function):
    """Passes tensors through unchanged; its backward hands the gradients to a callback that may replace them."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        outputs = tuple(make_tensor(t._data) for t in tensors)
        return outputs if len(outputs) != 1 else outputs[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


class BackwardHookState:
    """One module call's full backward hooks: the output side records grad_output (after the pre-hooks), the
    input side calls ``hook(module, grad_input, grad_output)`` when the input gradients are known."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.input_count = 0

    def wrap_inputs(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.input_count = len(positions)
        if not positions:
            return args
        wrapped = _Identity.apply(self._on_grad_input, *(args[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for i, t in zip(positions, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        items = [output] if single else list(output) if isinstance(output, (tuple, list)) else None
        if items is None:
            return output
        positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return output
        wrapped = _Identity.apply(self._on_grad_output, *(items[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        for i, t in zip(positions, wrapped):
            items[i] = t
        return items[0] if single else type(output)(items)

    def _on_grad_output(self, grads):
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grads
        if self.input_count == 0:  # nothing upstream needs a gradient: the hooks see grad_input = (None,)
            self._call_hooks((None,))
        return grads

    def _on_grad_input(self, grads):
        return self._call_hooks(grads)

    def _call_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"backward hook of {type(self.module).__name__} returned {len(result)} "
                                       f"gradients, expected {len(grad_input)} (one per input that requires grad)")
                grad_input = result
        return grad_input
