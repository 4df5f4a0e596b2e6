"""chainrule.nn.functional: PyTorch's torch.nn.functional names and defaults. The ops are declared in
chainrule/ops/nn_ops.py and chainrule/ops/conv.py; this module only gathers them."""
from ..ops import conv as _conv, nn_ops as _nn_ops
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401 - PyTorch has these here too

for _module in (_nn_ops, _conv):
    for _name in _module.FUNCTIONAL:
        globals()[_name] = getattr(_module, _name)
