"""chainrule.nn.functional: PyTorch's torch.nn.functional names and defaults. The ops are declared in
chainrule/ops/ (mostly nn_ops.py, conv.py, pooling.py, resample.py); each op module lists what belongs here in
FUNCTIONAL."""
from .. import ops as _ops
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401 - PyTorch has these here too

for _module in _ops.MODULES:
    for _name in getattr(_module, "FUNCTIONAL", ()):
        globals()[_name] = getattr(_module, _name)
